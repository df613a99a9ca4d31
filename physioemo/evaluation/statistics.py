"""Statistical tests for result rows: above chance, one row against another, many rows ranked.

Pure functions on arrays of scores (fractions). Each docstring names the test, its null and
its assumptions. Paired tests pair by subject (a subject's pooled test predictions) or by fold
(the same training and test windows).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: the level every "significant" in a summary refers to
ALPHA = 0.05
#: resamples of the percentile bootstrap
RESAMPLES = 2000


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values, in the input's order.

    Controls the family-wise error rate at any level under any dependence between the tests:
    the i-th smallest of m p-values is multiplied by (m - i + 1), adjusted values are made
    non-decreasing in that order and capped at 1; reject where adjusted <= alpha."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (p.size - np.arange(p.size))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


#: up to this many non-zero differences the Wilcoxon test enumerates every sign pattern
EXACT_PAIRS = 16


def wilcoxon(differences, alternative: str = "two-sided") -> tuple[float, float]:
    """Wilcoxon signed-rank test of paired differences: (R+, p), R+ the rank sum of the
    positive differences (SciPy's statistic for one-sided tests).

    Null: the differences are symmetric about zero (e.g. two models score alike on a subject
    in expectation), so each sign is + or - with probability 1/2 whatever the magnitudes.
    Assumptions: pairs independent of each other (subjects). Zero differences are dropped
    (Wilcoxon's method), ties share their average rank. Up to `EXACT_PAIRS` pairs the null
    distribution is exact (all 2**n sign patterns, ties included: what scipy.stats.wilcoxon
    computes, faster); beyond, the normal approximation with the tie correction (SciPy's
    "asymptotic"). Two-sided p: twice the smaller tail, at most 1. With no non-zero
    difference there is nothing to test: (0, 1). With n pairs the smallest two-sided p is
    2 / 2**n: 6 subjects are needed to reach 0.05 (5 one-sided)."""
    d = np.asarray(differences, dtype=float)
    d = d[d != 0]
    if not d.size:
        return 0.0, 1.0
    ranks = stats.rankdata(np.abs(d))
    observed = float(ranks[d > 0].sum())
    if d.size <= EXACT_PAIRS:
        patterns = (np.arange(2**d.size)[:, None] >> np.arange(d.size)) & 1
        sums = patterns @ ranks
        greater = np.mean(sums >= observed - 1e-9)
        less = np.mean(sums <= observed + 1e-9)
    else:
        _, tied = np.unique(ranks, return_counts=True)
        mean = d.size * (d.size + 1) / 4
        sd = np.sqrt(d.size * (d.size + 1) * (2 * d.size + 1) / 24 - np.sum(tied**3 - tied) / 48)
        z = (observed - mean) / sd
        greater, less = stats.norm.sf(z), stats.norm.cdf(z)
    p = {"greater": greater, "less": less, "two-sided": min(1.0, 2 * min(greater, less))}
    return observed, float(p[alternative])


def rank_biserial(differences):
    """Matched-pairs rank-biserial correlation (Kerby 2014), the effect size of the Wilcoxon
    signed-rank test: (R+ - R-) / (R+ + R-), R+- the rank sums of the positive and negative
    differences (absolute values ranked, ties averaged, zeros dropped); in [-1, 1], 0 when no
    difference is non-zero. differences: (..., n), one value per row of the last axis."""
    d = np.asarray(differences, dtype=float)
    zeros = np.sum(d == 0, axis=-1, keepdims=True)  # ranked first: the others' ranks shift
    ranks = np.where(d != 0, stats.rankdata(np.abs(d), axis=-1) - zeros, 0.0)
    total = ranks.sum(axis=-1)
    value = np.sum(np.sign(d) * ranks, axis=-1) / np.where(total > 0, total, 1)
    return float(value) if value.ndim == 0 else value


def corrected_resampled_t(differences, test_train_ratio: float) -> tuple[float, float, float]:
    """Nadeau & Bengio's (2003) corrected resampled t-test on fold-level score differences:
    (t, degrees of freedom, two-sided p).

    t = mean(d) / sqrt((1/J + n_test/n_train) * var(d)), J folds, df = J - 1. Null: the two
    models' expected scores are equal. The plain paired t-test over folds treats folds as
    independent, but their training sets overlap, which shrinks the variance of the
    differences and inflates t; the n_test/n_train term corrects for that (for k-fold
    cross-validation n_test/n_train = 1/(k-1)). Assumptions: the differences are roughly
    normal; the correction is a heuristic upper bound of their correlation. Folds of different
    subjects share no training data, so across subjects it is conservative. A constant
    difference has no variance: t is then 0 (no difference) or +-inf, p 1 or 0."""
    d = np.asarray(differences, dtype=float)
    if d.size < 2:
        raise ValueError("the corrected resampled t-test needs at least two folds")
    variance = d.var(ddof=1)
    mean = d.mean()
    if variance == 0:
        t = 0.0 if mean == 0 else np.copysign(np.inf, mean)
    else:
        t = mean / np.sqrt((1 / d.size + test_train_ratio) * variance)
    p = 2 * stats.t.sf(abs(t), d.size - 1)
    return float(t), float(d.size - 1), float(p)


def bootstrap_ci(
    samples, statistic, level: float = 0.95, resamples: int = RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of `statistic` over `samples` (n, ...)
    resampled with replacement along the first axis: (low, high).

    statistic: a function of an array (resamples, n, ...) returning (resamples,) values.
    Assumptions: the samples (subjects) are independent and identically distributed; with few
    samples (under ~10) the interval is too narrow. Percentile method (as
    scipy.stats.bootstrap's method="percentile"), `resamples` draws, seeded."""
    samples = np.asarray(samples, dtype=float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(samples), size=(resamples, len(samples)))
    values = np.asarray(statistic(samples[picks]), dtype=float)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def above_chance(scores, chances, alpha: float = ALPHA) -> tuple[bool, float]:
    """Whether a row's per-subject scores beat their per-subject chance: (beats, p).

    One-sided Wilcoxon signed-rank test over subjects of score - chance (`wilcoxon`, null:
    the differences are symmetric about zero or below it); beats when the mean score is above
    the mean chance and p < alpha. Needs 5 subjects or more to succeed at 0.05."""
    differences = np.asarray(scores, dtype=float) - np.asarray(chances, dtype=float)
    _, p = wilcoxon(differences, alternative="greater")
    return bool(differences.mean() > 0 and p < alpha), p


def mean_ranks(scores) -> np.ndarray:
    """Mean rank of each of k treatments (columns) over n blocks (rows: subjects) of scores
    (n, k): the highest score ranks 1, ties share their average rank (Demšar 2006)."""
    ranks = np.apply_along_axis(stats.rankdata, 1, -np.asarray(scores, dtype=float))
    return ranks.mean(axis=0)


def friedman(scores) -> tuple[float, float]:
    """Friedman's test (scipy.stats.friedmanchisquare) of k >= 3 treatments (columns) over
    n blocks (rows: subjects): (chi-square, p). Null: every treatment has the same expected
    rank. Assumptions: blocks independent; ranks within a block (chi-square approximation,
    rough under 10 blocks). Every block tied: no evidence of a difference, (0, 1)."""
    scores = np.asarray(scores, dtype=float)
    if scores.shape[1] < 3:
        raise ValueError("Friedman's test needs three treatments or more")
    if (scores == scores[:, :1]).all():
        return 0.0, 1.0
    result = stats.friedmanchisquare(*scores.T)
    return float(result.statistic), float(result.pvalue)


def nemenyi_cd(k: int, n: int, alpha: float = ALPHA) -> float:
    """Critical difference of mean ranks for the Nemenyi test (Demšar 2006):
    q_alpha * sqrt(k (k + 1) / (6 n)), k treatments, n blocks, q_alpha the studentized range
    quantile over sqrt(2) (1.960 for k = 2, 2.343 for 3, 3.164 for 10). Two treatments whose
    mean ranks differ by more are different at level alpha, all pairs at once. Assumptions:
    those of `friedman`."""
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6 * n)))
