"""Chance: the expected score of label-only strategies under the same protocol and folds.

A label-only strategy sees each fold's training labels and nothing else. Three (scikit-learn's
`DummyClassifier` strategies in brackets):

* ``majority``: the training majority class for every test window (ties: the lower class
  index, as numpy's argmax) ["most_frequent"];
* ``prior``: each test window's class drawn from the training class frequencies ["stratified"];
* ``uniform``: each test window's class drawn uniformly from the K classes ["uniform"].

For the ranking metrics (top-2 accuracy, Seq2HR) a strategy ranks the classes: majority by
training frequency (ties: the lower class), prior by a Plackett-Luce draw (first class ~ p,
second ~ p renormalised without the first), uniform by a uniformly drawn ordered pair.

Expected values, per subject (its test windows pooled over its folds, each window guessed with
its own fold's training counts): accuracy, balanced accuracy, Tri-P, top-2 accuracy and Seq2HR
are means of per-window probabilities, so exact (prior-matched accuracy on one fold is
sum_k p_train(k) p_test(k)); F1 and kappa are ratios of counts, so their expectation is a
seeded Monte-Carlo over confusion matrices: the windows of one fold and one true class fall
into the predicted classes as Multinomial(n, guess) (`DRAWS` draws; for 360 windows the
standard error of expected macro-F1 is about 0.0005, a twentieth of the 0.1 points shown). A
deterministic strategy (majority) is scored once, exactly.

A result row's chance on a metric is the strategy whose mean over subjects is highest
(`row_chance`): no label-only strategy scores more on average.
"""

from __future__ import annotations

import numpy as np

from .metrics import from_confusion

STRATEGIES = ("majority", "prior", "uniform")
#: metrics of the predicted class whose expectation is a mean of per-window probabilities
LINEAR = ("accuracy", "balanced_accuracy")
#: metrics that are ratios of confusion counts: expected by Monte-Carlo
SAMPLED = ("macro_f1", "weighted_f1", "kappa")
#: ordinal (HiSTN) metrics as papers.md defines them, exact
ORDINAL = ("tri_p", "top2_accuracy", "seq2hr")
#: Monte-Carlo draws of a random strategy's confusion matrix (per subject)
DRAWS = 2000


def ranked_pairs(counts, strategy: str) -> np.ndarray:
    """(K, K) probabilities that a strategy ranks class a first and b second, given one
    fold's training class counts (K,); its row sums are the probabilities of predicting each
    class."""
    counts = np.asarray(counts, dtype=float)
    k = counts.size
    off_diagonal = 1.0 - np.eye(k)
    if strategy == "majority":
        first, second = np.argsort(-counts, kind="stable")[:2]
        pairs = np.zeros((k, k))
        pairs[first, second] = 1.0
        return pairs
    if strategy == "uniform":
        return off_diagonal / (k * (k - 1))
    if strategy == "prior":
        p = counts / counts.sum()
        rest = 1.0 - p[:, None]
        second = np.where(rest > 0, p[None, :] / np.where(rest > 0, rest, 1), 1 / (k - 1))
        return p[:, None] * second * off_diagonal
    raise ValueError(f"unknown strategy {strategy!r}; known: {', '.join(STRATEGIES)}")


def expected_scores(
    y_true,
    fold,
    train_counts,
    strategy: str,
    ordinal: bool = False,
    seed: int = 0,
    draws: int = DRAWS,
) -> dict[str, float]:
    """Expected scores of `strategy` on one subject's pooled test windows.

    y_true: (n,) classes 0..K-1; fold: (n,) each window's fold, an index into train_counts:
    (n_folds, K) training class counts per fold. Returns {metric: expected value} for `LINEAR`
    and `SAMPLED` metrics, and `ORDINAL` ones when ordinal. seed: of the Monte-Carlo.
    """
    y_true, fold = np.asarray(y_true, dtype=np.int64), np.asarray(fold, dtype=np.int64)
    counts = np.asarray(train_counts)
    k = counts.shape[1]
    pairs = np.stack([ranked_pairs(c, strategy) for c in counts])  # (n_folds, K, K)
    guess = pairs.sum(axis=2)[fold]  # (n, K): probability of predicting each class
    right = guess[np.arange(y_true.size), y_true]
    present = np.unique(y_true)
    found = {
        "accuracy": float(right.mean()),
        "balanced_accuracy": float(np.mean([right[y_true == c].mean() for c in present])),
    }
    found.update(_sampled(y_true, fold, pairs.sum(axis=2), k, seed, draws))
    if ordinal:
        classes = np.arange(k)
        near = np.abs(classes[None, :] - y_true[:, None]) <= 1  # (n, K)
        found["tri_p"] = float(np.mean(np.sum(guess * near, axis=1)))
        holds = (classes[None, :, None] == y_true[:, None, None]) | (
            classes[None, None, :] == y_true[:, None, None]
        )  # (n, K, K): the pair (a, b) holds the window's class
        adjacent = np.abs(classes[:, None] - classes[None, :]) == 1
        window_pairs = pairs[fold]
        found["top2_accuracy"] = float(np.mean(np.sum(window_pairs * holds, axis=(1, 2))))
        found["seq2hr"] = float(np.mean(np.sum(window_pairs * holds * adjacent, axis=(1, 2))))
    return found


def _sampled(y_true, fold, guesses, k: int, seed: int, draws: int) -> dict[str, float]:
    """Monte-Carlo means of the `SAMPLED` metrics: per fold and true class, the windows'
    predictions are Multinomial(n, guess of the fold). One draw when every guess is certain."""
    rng = np.random.default_rng(seed)
    size = 1 if np.all(guesses.max(axis=1) == 1.0) else draws
    cells, n = np.unique(np.stack([fold, y_true], axis=1), axis=0, return_counts=True)
    cell_fold, cell_class = cells.T
    p = guesses[cell_fold] / guesses[cell_fold].sum(axis=1, keepdims=True)
    predicted = rng.multinomial(n, p, size=(size, n.size))  # (size, cells, K)
    matrices = np.einsum("dcj,ct->dtj", predicted, np.eye(k)[cell_class])  # rows: true class
    return {metric: float(from_confusion(matrices, metric).mean()) for metric in SAMPLED}


def strategy_scores(y_true, fold, train_counts, ordinal=False, seed=0) -> dict[str, dict]:
    """`expected_scores` of every strategy in `STRATEGIES`: {strategy: {metric: value}}."""
    return {
        strategy: expected_scores(y_true, fold, train_counts, strategy, ordinal, seed)
        for strategy in STRATEGIES
    }


def row_chance(per_subject: list[dict[str, dict]]) -> dict[str, dict]:
    """A result row's chance from its subjects' `strategy_scores` (one dict per subject).

    Returns {"chance": {metric: value}, "strategy": {metric: name}, "per_subject": {metric:
    [value per subject]}}: per metric, the strategy whose mean over subjects is highest (ties:
    the first of `STRATEGIES`), that mean, and that strategy's value on each subject."""
    found = {"chance": {}, "strategy": {}, "per_subject": {}}
    for metric in per_subject[0][STRATEGIES[0]]:
        means = {s: float(np.mean([one[s][metric] for one in per_subject])) for s in STRATEGIES}
        best = max(STRATEGIES, key=lambda s: means[s])  # max keeps the first of equal ones
        found["chance"][metric] = means[best]
        found["strategy"][metric] = best
        found["per_subject"][metric] = [subject[best][metric] for subject in per_subject]
    return found
