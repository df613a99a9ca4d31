"""The statistics of a run against SciPy and hand-computed values; the chance of every
label-only strategy against exact enumeration; dummy classifiers never beat the chance column."""

import hashlib
import itertools

import numpy as np
import pytest
from scipy import stats
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score, f1_score

from physioemo import protocols
from physioemo.evaluation import chance, statistics
from physioemo.evaluation.summary import summarise
from physioemo.experiment import cross_validate
from physioemo.recording import WindowSet, make_groups


# ----------------------------------------------------------------------------- tests
def test_holm_against_hand_computed_values():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> running max
    adjusted = statistics.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])
    assert statistics.holm([0.5, 0.9]).tolist() == [1.0, 1.0]  # capped


def test_wilcoxon_against_scipy_exact_with_ties_and_asymptotic(rng):
    d = rng.normal(0.3, 1, 12)  # no ties: SciPy's exact distribution
    for alternative in ("two-sided", "greater", "less"):
        reference = stats.wilcoxon(d, alternative=alternative, method="exact")
        assert statistics.wilcoxon(d, alternative)[1] == pytest.approx(reference.pvalue)
    assert statistics.wilcoxon(d, "greater")[0] == stats.wilcoxon(d, alternative="greater")[0]
    tied = np.array([0.5, -0.5, 1.0, 1.0, 2.0, -0.25, 0.0, 3.0, 0.5])  # ties and a zero
    assert statistics.wilcoxon(tied)[1] == pytest.approx(stats.wilcoxon(tied).pvalue)
    many = np.round(rng.normal(0.2, 1, 30), 1)  # 30 pairs with ties: the normal approximation
    reference = stats.wilcoxon(many, method="asymptotic")
    assert statistics.wilcoxon(many)[1] == pytest.approx(reference.pvalue)
    # five positive differences: 1 of the 2**5 sign patterns is as extreme, each side
    assert statistics.wilcoxon([1, 2, 3, 4, 5])[1] == pytest.approx(2 / 32)
    assert statistics.wilcoxon([1, 2, 3, 4, 5], "greater")[1] == pytest.approx(1 / 32)
    assert statistics.wilcoxon([0, 0, 0]) == (0.0, 1.0)  # nothing differs: nothing to test


def test_rank_biserial_by_hand_and_by_rows():
    # |d| ranks 1, 2, 3; positive 1 + 3, negative 2 -> (4 - 2) / 6
    assert statistics.rank_biserial([1, -2, 3]) == pytest.approx(1 / 3)
    assert statistics.rank_biserial([0, 1, -2, 3]) == pytest.approx(1 / 3)  # zeros dropped
    assert statistics.rank_biserial([2, 5]) == 1.0 and statistics.rank_biserial([0, 0]) == 0.0
    rows = np.array([[1, -2, 3, 0], [0, 0, 0, 0], [-1, -1, 2, 4]], dtype=float)
    assert statistics.rank_biserial(rows).tolist() == pytest.approx(
        [statistics.rank_biserial(row) for row in rows]
    )


def test_corrected_resampled_t_by_hand_and_against_the_plain_t_test():
    d = np.array([1.0, 2, 3, 4, 5])  # mean 3, variance 2.5
    t, df, p = statistics.corrected_resampled_t(d, 0.25)
    assert t == pytest.approx(3 / np.sqrt((1 / 5 + 0.25) * 2.5)) and df == 4
    assert p == pytest.approx(2 * stats.t.sf(t, 4))
    plain = stats.ttest_1samp(d, 0)  # without the correction: the paired t-test
    assert statistics.corrected_resampled_t(d, 0.0)[::2] == pytest.approx(tuple(plain))
    assert statistics.corrected_resampled_t([0.0, 0.0], 0.25)[2] == 1.0
    with pytest.raises(ValueError, match="two folds"):
        statistics.corrected_resampled_t([1.0], 0.25)


def test_bootstrap_interval_agrees_with_scipy(rng):
    x = rng.normal(2.0, 1.0, 40)
    low, high = statistics.bootstrap_ci(x, lambda r: r.mean(axis=1), resamples=4000)
    reference = stats.bootstrap((x,), np.mean, method="percentile", n_resamples=4000, rng=1)
    interval = reference.confidence_interval
    width = interval.high - interval.low
    assert abs(low - interval.low) < 0.1 * width and abs(high - interval.high) < 0.1 * width
    assert statistics.bootstrap_ci(np.zeros(6), lambda r: r.mean(axis=1)) == (0.0, 0.0)


def test_ranks_friedman_and_nemenyi_against_demsar():
    scores = np.array([[0.9, 0.8, 0.7], [0.7, 0.8, 0.9], [0.6, 0.6, 0.5]])
    # ranks (1 best): [1, 2, 3], [3, 2, 1], [1.5, 1.5, 3]
    assert statistics.mean_ranks(scores).tolist() == pytest.approx([5.5 / 3, 5.5 / 3, 7 / 3])
    assert statistics.friedman(scores) == pytest.approx(tuple(stats.friedmanchisquare(*scores.T)))
    # Demšar (2006), Table 5(a): q_0.05 for k = 2..10
    table = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]
    for k, q in enumerate(table, start=2):
        assert statistics.nemenyi_cd(k, 6) == pytest.approx(q * np.sqrt(k * (k + 1) / 36), abs=2e-3)
    with pytest.raises(ValueError, match="three"):
        statistics.friedman(scores[:, :2])


# ----------------------------------------------------------------------------- chance
def test_expected_scores_by_hand():
    counts = np.array([[30, 10]])  # training prior 0.75 / 0.25
    y = np.array([0] * 4 + [1] * 6)  # test prior 0.4 / 0.6
    fold = np.zeros(10, dtype=int)
    prior = chance.expected_scores(y, fold, counts, "prior")
    assert prior["accuracy"] == pytest.approx(0.75 * 0.4 + 0.25 * 0.6)
    assert prior["balanced_accuracy"] == pytest.approx(0.5)
    majority = chance.expected_scores(y, fold, counts, "majority")
    assert majority["accuracy"] == pytest.approx(0.4) and majority["kappa"] == 0.0
    assert majority["macro_f1"] == pytest.approx(f1_score(y, np.zeros(10), average="macro"))
    uniform = chance.expected_scores(y, fold, counts, "uniform")
    assert uniform["accuracy"] == pytest.approx(0.5) and uniform["balanced_accuracy"] == 0.5


def _enumerated(y, fold, guesses, n_classes):
    """Exact expectations of macro-F1, weighted F1 and kappa (scikit-learn's) over every
    prediction vector, each weighted by its probability; vectors with the same confusion
    matrix share one scikit-learn call."""
    weights: dict[tuple, float] = {}
    example: dict[tuple, tuple] = {}
    for predicted in itertools.product(range(n_classes), repeat=len(y)):
        key = tuple(sorted(zip(y, predicted, strict=True)))
        weight = np.prod([guesses[f][p] for f, p in zip(fold, predicted, strict=True)])
        weights[key] = weights.get(key, 0.0) + weight
        example.setdefault(key, predicted)
    totals = np.zeros(3)
    for key, weight in weights.items():
        predicted = example[key]
        kappa = cohen_kappa_score(y, predicted) if len(set(predicted) | set(y)) > 1 else 1.0
        macro = f1_score(y, predicted, average="macro", zero_division=0)
        weighted = f1_score(y, predicted, average="weighted", zero_division=0)
        totals += weight * np.array([macro, weighted, kappa])
    return totals


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_monte_carlo_f1_and_kappa_match_exact_enumeration():
    # two folds with their own training priors; class 2 is absent from the test labels, so
    # macro-F1's denominator is random (it counts class 2 whenever it is predicted)
    y = np.array([0, 0, 1, 1, 1, 0])
    fold = np.array([0, 0, 0, 1, 1, 1])
    counts = np.array([[6, 3, 1], [1, 2, 7]])
    for strategy in ("prior", "uniform"):
        guesses = (
            chance.ranked_pairs(counts[0], strategy).sum(1),
            chance.ranked_pairs(counts[1], strategy).sum(1),
        )
        exact = _enumerated(y, fold, guesses, 3)
        found = chance.expected_scores(y, fold, counts, strategy, seed=3, draws=40_000)
        sampled = [found["macro_f1"], found["weighted_f1"], found["kappa"]]
        np.testing.assert_allclose(sampled, exact, atol=0.006)


def test_ranking_strategies_against_sampled_rankings(rng):
    counts = np.array([[5, 20, 40, 25, 10]])
    y = np.array([0, 1, 2, 3, 4, 2, 2])
    fold = np.zeros(len(y), dtype=int)
    p = counts[0] / counts[0].sum()
    # prior: a Plackett-Luce ranking, i.e. classes drawn in turn without replacement
    draws = np.array([rng.choice(5, 2, replace=False, p=p) for _ in range(20_000)])
    holds = (draws[:, :1] == y) | (draws[:, 1:] == y)  # (draws, windows)
    adjacent = (np.abs(draws[:, 0] - draws[:, 1]) == 1)[:, None]
    found = chance.expected_scores(y, fold, counts, "prior", ordinal=True)
    assert found["top2_accuracy"] == pytest.approx(holds.mean(), abs=0.01)
    assert found["seq2hr"] == pytest.approx((holds & adjacent).mean(), abs=0.01)
    assert found["tri_p"] == pytest.approx(np.mean(np.abs(draws[:, :1] - y) <= 1), abs=0.01)
    # uniform by hand: top-2 holds the class in 2 of 5; Seq2HR: the ordered adjacent pairs
    # holding the class, 2 for an end class and 4 for a middle one, of 20 ordered pairs
    uniform = chance.expected_scores(y, fold, counts, "uniform", ordinal=True)
    assert uniform["top2_accuracy"] == pytest.approx(0.4)
    assert uniform["seq2hr"] == pytest.approx(np.mean([2, 4, 4, 4, 2, 4, 4]) / 20)
    majority = chance.expected_scores(y, fold, counts, "majority", ordinal=True)
    assert majority["top2_accuracy"] == pytest.approx(4 / 7)  # ranks 2 then 3: both adjacent
    assert majority["seq2hr"] == pytest.approx(4 / 7) and majority["tri_p"] == pytest.approx(5 / 7)


# ----------------------------------------------------------------------------- dummies
class FoldSeeded(DummyClassifier):
    """A DummyClassifier whose random guesses are seeded by its own training data. With one
    random_state every fold would draw the same sequence, and test windows in the same trial
    order in every subject would line the same draws up with the same labels: one draw
    repeated, not independent guesses."""

    def fit(self, X, y, sample_weight=None):
        digest = hashlib.sha256(np.ascontiguousarray(X).tobytes()).digest()
        self.random_state = int.from_bytes(digest[:4], "little")
        return super().fit(X, y, sample_weight)


def majority_is_minority_windows(per_trial=5, seed=0) -> tuple[WindowSet, np.ndarray]:
    """10 subjects x 20 trials: subjects s00-s04 rate 15 of 20 trials high, s05-s09 5 of 20,
    so under leave-one-subject-out every fold's training majority is its test subject's minority.
    X: (n, 3), column 0 the label plus noise, columns 1-2 noise."""
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for subject in range(10):
        trial_labels = rng.permutation([1] * 15 + [0] * 5 if subject < 5 else [1] * 5 + [0] * 15)
        for trial, label in enumerate(trial_labels):
            starts = np.arange(per_trial) * 128
            parts.append(make_groups(per_trial, f"s{subject:02d}", 1, trial, starts, starts + 128))
            labels.append(np.full(per_trial, label))
    y = np.concatenate(labels)
    X = rng.normal(size=(len(y), 3))
    X[:, 0] += 1.5 * y
    ratings = {"valence": y.astype(float)}
    return WindowSet(X, np.concatenate(parts), ratings, {"dataset": "constructed"}), y


@pytest.fixture(scope="module")
def dummy_rows():
    """The three dummies and logistic regression under two protocols, summarised with 300
    permutations. "beats chance" and p are tests at 0.05, so a random dummy claims one now and
    then (measured over 200 redraws of these folds: 2.5-6.5 % of rows on some metric, the
    permutation p under 5 %); the draws of data seed 1 claim none (seed 0 draws two)."""
    windows, y = majority_is_minority_windows(seed=1)
    models = {
        "most_frequent": FoldSeeded(strategy="most_frequent"),
        "stratified": FoldSeeded(strategy="stratified"),
        "uniform": FoldSeeded(strategy="uniform"),
        "logreg": LogisticRegression(),
    }
    results = []
    for name in ("subject-independent", "subject-dependent"):
        protocol = protocols.get(name, **({"n_splits": 3} if name == "subject-dependent" else {}))
        for model, estimator in models.items():
            found = cross_validate(windows, y, estimator, protocol, dimension="valence")
            results += [{**row, "model": model} for row in found]
    return {(e["protocol"], e["model"]): e for e in summarise(results, permutations=300)}


def test_training_majority_is_the_test_minority_and_a_coin_flip_is_chance(dummy_rows):
    entry = dummy_rows["subject-independent", "uniform"]
    # the training majority scores 0.25 on every held-out subject (its test minority) ...
    majority = dummy_rows["subject-independent", "most_frequent"]
    assert majority["accuracy"] == pytest.approx(0.25)
    # ... so the chance is a coin flip's (0.5), not the majority's: a coin flip does not beat it
    assert entry["chance"]["accuracy"] == pytest.approx(0.5)
    assert entry["chance_strategy"]["accuracy"] == "uniform"
    assert entry["accuracy"] > majority["accuracy"] + 0.15
    assert not any(entry["beats_chance"].values())


@pytest.mark.parametrize("protocol", ["subject-independent", "subject-dependent"])
@pytest.mark.parametrize("model", ["most_frequent", "stratified", "uniform"])
def test_dummies_never_beat_the_chance_column(dummy_rows, protocol, model):
    entry = dummy_rows[protocol, model]
    assert set(entry["chance"]) == set(chance.LINEAR + chance.SAMPLED)
    for metric, level in entry["chance"].items():
        # most_frequent is the majority strategy itself: at most the best strategy, exactly;
        # the random ones are one draw around their expectation (a t-distributed mean over
        # 10 subjects): within 3 standard errors. The old chance, the training majority's
        # accuracy (0.25 here under leave-one-subject-out), fails this by 10 standard errors.
        noise = 0 if model == "most_frequent" else 3 * entry[f"{metric}_std"] / np.sqrt(10)
        assert entry[metric] <= level + noise + 1e-12, metric
        assert entry["beats_chance"][metric] is False, metric
    assert entry["p_value"] > 0.05 and entry["subjects_significant"] == 0


@pytest.mark.parametrize("protocol", ["subject-independent", "subject-dependent"])
def test_a_model_that_learns_beats_chance(dummy_rows, protocol):
    entry = dummy_rows[protocol, "logreg"]
    assert entry["beats_chance"]["balanced_accuracy"] and entry["beats_chance"]["macro_f1"]
    assert entry["balanced_accuracy"] > entry["chance"]["balanced_accuracy"] + 0.15
    assert entry["p_value"] < 0.01 and entry["subjects_significant"] >= 5


def test_jobs_stored_without_training_counts_are_refused():
    windows, y = majority_is_minority_windows(per_trial=2)
    protocol = protocols.get("subject-independent")
    [job, *_] = cross_validate(windows, y, LogisticRegression(), protocol)
    held_out = np.bincount(job["predictions"]["y_true"], minlength=2)
    assert (job["predictions"]["train_counts"] == np.bincount(y) - held_out).all()
    stored = {k: v for k, v in job["predictions"].items() if k != "train_counts"}
    with pytest.raises(ValueError, match=f"job {job['key']} holds no training class counts"):
        summarise([{**job, "predictions": stored}])
