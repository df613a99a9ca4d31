"""Scores of test predictions: classification metrics (also from confusion matrices, in
batches), HiSTN's ordinal metrics (papers.md 1.6) as defined and as the authors' code computes
them, the PINN's EDA metrics, the majority-of-training baseline, and a permutation test that
needs no retraining. The chance shown beside a score is `chance`'s (every label-only strategy).

`scores` is the one entry point: it takes one subject's pooled test predictions (or any pooled
set) and returns a flat dict of named floats; every value is a fraction in [0, 1] unless said.

Key names: ``accuracy``, ``balanced_accuracy``, ``macro_f1``, ``weighted_f1``, ``kappa``;
``chance`` (with train_majority: the accuracy of the training majority class predicted for
every test window, one of `chance`'s strategies); with ordinal=True
``seq2hr``, ``tri_p``, ``top2_accuracy`` as papers.md defines them and ``seq2hr_histn_code``,
``tri_p_histn_code``, ``top1_histn_code``, ``top2_histn_code`` as the authors' code computes
them; with EDA arrays ``eda_rmse`` (in the target's unit) and ``eda_pearson_r``; with
permutations ``p_value`` (of ``permutation_metric``, balanced accuracy by default).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    f1_score,
)

#: the metric the permutation test scores by default: under its null the expected balanced
#: accuracy is about 1/K, the balanced-accuracy chance of every label-only strategy
PERMUTATION_METRIC = "balanced_accuracy"


def classification_scores(y_true, y_pred) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro and weighted F1, Cohen's kappa (scikit-learn's)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    kappa = cohen_kappa_score(y_true, y_pred) if np.unique(np.r_[y_true, y_pred]).size > 1 else 1.0
    with warnings.catch_warnings():  # a class predicted but absent from a subject's labels
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        balanced = balanced_accuracy_score(y_true, y_pred)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "weighted_f1": weighted_f1(y_true, y_pred),
        "kappa": float(kappa),
    }


def majority_baseline(y_true, train_majority: int) -> float:
    """Accuracy of predicting the training set's majority class for every test window."""
    return float(np.mean(np.asarray(y_true) == train_majority))


# ----------------------------------------------------------------------------- ordinal metrics


def _top_two(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classes with the highest and second-highest score; ties go to the lower class index."""
    order = np.argsort(-np.asarray(proba, dtype=float), axis=1, kind="stable")
    return order[:, 0], order[:, 1]


def _top_two_histn_code(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same as the authors' code ranks: an ascending sort reversed, so ties go to the
    higher class index (numpy's argsort then [:, ::-1])."""
    order = np.argsort(np.asarray(proba, dtype=float), axis=1, kind="stable")[:, ::-1]
    return order[:, 0], order[:, 1]


def seq2hr(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Sequential top-2 hit rate (HiSTN): share of samples whose two top classes are adjacent
    ordinal classes (|r1 - r2| = 1) and include the true class. proba: (n, n_classes)."""
    return _seq2hr(np.asarray(y_true), *_top_two(proba))


def _seq2hr(y_true, first, second) -> float:
    adjacent = np.abs(first - second) == 1
    return float(np.mean(adjacent & ((y_true == first) | (y_true == second))))


def tri_p(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Tridiagonal proportion (HiSTN): share of predictions within one class of the truth,
    i.e. 1 - #(|y_pred - y_true| >= 2) / n, the confusion matrix's +-1 band."""
    return float(np.mean(np.abs(np.asarray(y_pred) - np.asarray(y_true)) <= 1))


def top2_accuracy(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Share of samples whose true class is among the two highest scores (all classes)."""
    y_true = np.asarray(y_true)
    first, second = _top_two(proba)
    return float(np.mean((y_true == first) | (y_true == second)))


def weighted_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 averaged over classes weighted by their support (HiSTN's headline "F1")."""
    return float(f1_score(y_true, y_pred, average="weighted", zero_division=0))


def histn_code_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Top-1, top-2, Tri-P and Seq2HR as the HiSTN authors' code computes them.

    Its scripts (Dreamer_10cv.py and the subject-independent ones) score
    ``top_k_accuracy_score(y, proba[:, present], k)`` with `present` the classes in the test
    labels, so top-1 and top-2 rank only the classes present (a missing class can never take
    a rank); Tri-P comes from ``confusion_matrix(y, argmax)``, whose rows and columns are only
    the classes present in the labels or the predictions, so the +-1 band is counted between
    neighbours of that shortened list (with classes 0, 2, 4 present, 0 and 2 count as
    adjacent); Seq2HR ranks all classes but breaks ties towards the higher class. With two
    classes present scikit-learn refuses the 2-column scores; the intended ranking is used.
    """
    y_true, proba = np.asarray(y_true), np.asarray(proba, dtype=float)
    present = np.unique(y_true)
    order = np.argsort(proba[:, present], axis=1, kind="stable")[:, ::-1]
    ranked = present[order]
    top2 = ranked[:, : min(2, present.size)]
    predicted = proba.argmax(axis=1)
    listed = np.unique(np.r_[y_true, predicted])  # confusion_matrix's labels
    band = np.abs(np.searchsorted(listed, predicted) - np.searchsorted(listed, y_true)) <= 1
    return {
        "top1_histn_code": float(np.mean(ranked[:, 0] == y_true)),
        "top2_histn_code": float(np.mean((top2 == y_true[:, None]).any(axis=1))),
        "tri_p_histn_code": float(np.mean(band)),
        "seq2hr_histn_code": _seq2hr(y_true, *_top_two_histn_code(proba)),
    }


def ordinal_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """HiSTN's metric set from class scores (n, n_classes), predictions being the top class:
    accuracy, weighted F1, and Seq2HR, Tri-P, top-2 accuracy both as defined (papers.md 1.6)
    and as the authors' code computes them (`histn_code_metrics`)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(proba).argmax(axis=1)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "weighted_f1": weighted_f1(y_true, y_pred),
        "top2_accuracy": top2_accuracy(y_true, proba),
        "seq2hr": seq2hr(y_true, proba),
        "tri_p": tri_p(y_true, y_pred),
        **histn_code_metrics(y_true, proba),
    }


# ----------------------------------------------------------------------------- EDA (the PINN)


def eda_metrics(eda_true, eda_pred) -> dict[str, float]:
    """RMSE (in the target's unit) and Pearson r of predicted against measured EDA."""
    eda_true, eda_pred = np.asarray(eda_true, float), np.asarray(eda_pred, float)
    flat = np.std(eda_true) == 0 or np.std(eda_pred) == 0
    r = np.nan if flat else np.corrcoef(eda_true, eda_pred)[0, 1]
    return {
        "eda_rmse": float(np.sqrt(np.mean((eda_true - eda_pred) ** 2))),
        "eda_pearson_r": float(r),
    }


# ----------------------------------------------------------------------------- confusion matrices


def confusion_counts(y_true, y_pred, n_classes: int, blocks=None, n_blocks: int = 1) -> np.ndarray:
    """Confusion counts (n_blocks, n_classes, n_classes), rows the true class, columns the
    predicted one. y_true, y_pred: class indices, any shape; blocks: the same shape, each
    sample's block in 0..n_blocks-1 (None: one block)."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    blocks = np.zeros(y_true.shape, dtype=np.int64) if blocks is None else np.asarray(blocks)
    index = (blocks * n_classes + y_true) * n_classes + y_pred
    counts = np.bincount(index.ravel(), minlength=n_blocks * n_classes**2)
    return counts.reshape(n_blocks, n_classes, n_classes)


def from_confusion(matrices: np.ndarray, metric: str) -> np.ndarray:
    """`metric` of confusion matrices (..., K, K) (rows: true class, columns: predicted), as
    scikit-learn computes it from the labels and predictions: "accuracy"; "balanced_accuracy"
    (mean recall over the classes present in the labels); "macro_f1" (mean F1 over the
    classes present in the labels or the predictions, zero_division=0); "weighted_f1" (F1
    weighted by support); "kappa" (Cohen's; 1 when one class is all there is). Returns (...)."""
    matrices = np.asarray(matrices, dtype=float)
    hits = np.diagonal(matrices, axis1=-2, axis2=-1)
    support, predicted = matrices.sum(axis=-1), matrices.sum(axis=-2)
    n = support.sum(axis=-1)
    if metric == "accuracy":
        return hits.sum(axis=-1) / n
    if metric == "balanced_accuracy":
        present = support > 0
        recall = np.where(present, hits / np.maximum(support, 1), 0.0)
        return recall.sum(axis=-1) / present.sum(axis=-1)
    if metric in ("macro_f1", "weighted_f1"):
        both = support + predicted
        f1 = 2 * hits / np.maximum(both, 1)
        weights = (both > 0) if metric == "macro_f1" else support
        return np.sum(f1 * weights, axis=-1) / weights.sum(axis=-1)
    if metric == "kappa":
        expected = np.sum(support * predicted, axis=-1) / n**2
        observed = hits.sum(axis=-1) / n
        agreeing = expected < 1
        return np.where(agreeing, (observed - expected) / np.where(agreeing, 1 - expected, 1), 1.0)
    raise ValueError(f"unknown metric {metric!r}")


def confusion_score(y_true, y_pred, n_classes: int, metric: str) -> float:
    """One of `classification_scores`' metrics computed from the confusion matrix (equal to
    scikit-learn's; `from_confusion`)."""
    return float(from_confusion(confusion_counts(y_true, y_pred, n_classes)[0], metric))


# ----------------------------------------------------------------------------- permutation test
#: permuted label arrays held in memory at once (labels x permutations)
_PERMUTATION_BATCH = 2_000_000


def _trial_table(y_true, trials, subject_of) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each window's trial (an index), and each trial's label and subject; trials None: every
    window its own trial. A trial whose windows carry different labels is refused."""
    trials = np.arange(len(y_true)) if trials is None else np.asarray(trials)
    _, trial_of = np.unique(trials, return_inverse=True)
    trial_label = np.zeros(trial_of.max() + 1, dtype=np.int64)
    trial_label[trial_of] = y_true
    trial_subject = np.zeros(trial_of.max() + 1, dtype=np.int64)
    trial_subject[trial_of] = subject_of
    if np.any(trial_label[trial_of] != y_true) or np.any(trial_subject[trial_of] != subject_of):
        raise ValueError("permutation_p_values: a trial's windows carry different labels")
    return trial_of, trial_label, trial_subject


def permutation_p_values(
    y_true,
    y_pred,
    trials=None,
    subjects=None,
    n_permutations: int = 1000,
    metric: str = PERMUTATION_METRIC,
    seed: int = 0,
) -> tuple[float, np.ndarray]:
    """Permutation p-values of `metric` against predictions that carry no information about
    the labels, without retraining: the pooled p and one per subject.

    The test: the labels are permuted at the trial level within each subject while the
    predictions stay: each trial of a subject takes the label of another of that subject's
    trials (trials: one key per window, e.g. `recording.trial_keys(groups)`; subjects: one per
    window, None for one subject). Its null: "the predictions carry no information about which
    trial had which label", which every label-only strategy (training majority, prior-matched
    or uniform guess) satisfies. Under it the expected balanced accuracy is about 1/K, the
    balanced-accuracy chance of every label-only strategy; the expected accuracy is not (it
    depends on how often the model predicts each class), hence balanced accuracy by default.
    Assumptions: a subject's trials are exchangeable under the null; windows of a trial move
    together (permuting windows would treat them as independent and give p-values far too
    small). The model is never refitted (scikit-learn's `permutation_test_score` costs
    n_permutations trainings). Without `trials` every window is its own trial (only right for
    independent windows).

    Statistics: per subject, `metric` on its windows; pooled, the mean of the per-subject
    values (a result row's score). p = (1 + #{permuted >= observed}) / (1 + n_permutations).
    Returns (pooled p, per-subject p in the order of np.unique(subjects)).
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    n_classes = int(max(y_true.max(), y_pred.max())) + 1
    subjects = np.zeros(len(y_true)) if subjects is None else np.asarray(subjects)
    _, subject_of = np.unique(subjects, return_inverse=True)
    n_subjects = int(subject_of.max()) + 1
    trial_of, trial_label, trial_subject = _trial_table(y_true, trials, subject_of)
    observed = from_confusion(
        confusion_counts(y_true, y_pred, n_classes, subject_of, n_subjects), metric
    )
    order = np.argsort(trial_subject, kind="stable")  # trials grouped by subject
    block, sorted_labels = trial_subject[order], trial_label[order]
    rng = np.random.default_rng(seed)
    hits, pooled_hits = np.zeros(n_subjects), 0
    batch = max(1, _PERMUTATION_BATCH // len(y_true))
    for first in range(0, n_permutations, batch):
        size = min(batch, n_permutations - first)
        # keys in [block, block + 1): sorting them shuffles the trials within each subject
        shuffled = np.empty((size, trial_label.size), dtype=np.int64)
        shuffled[:, order] = sorted_labels[np.argsort(block + rng.random((size, block.size)), 1)]
        batches = np.arange(size)[:, None] * n_subjects + subject_of
        predicted = np.broadcast_to(y_pred, (size, len(y_pred)))
        matrices = confusion_counts(
            shuffled[:, trial_of], predicted, n_classes, batches, size * n_subjects
        )
        values = from_confusion(matrices, metric).reshape(size, n_subjects)
        hits += np.sum(values >= observed - 1e-12, axis=0)
        pooled_hits += int(np.sum(values.mean(axis=1) >= observed.mean() - 1e-12))
    return (1 + pooled_hits) / (1 + n_permutations), (1 + hits) / (1 + n_permutations)


# ----------------------------------------------------------------------------- the entry point


def scores(
    y_true,
    y_pred,
    proba=None,
    *,
    n_classes: int,
    ordinal: bool = False,
    trials=None,
    subjects=None,
    train_majority: int | None = None,
    eda_true=None,
    eda_pred=None,
    permutations: int = 0,
    permutation_metric: str = PERMUTATION_METRIC,
    seed: int = 0,
) -> dict[str, float]:
    """Every score of one set of pooled test predictions (see the module docstring for keys).

    y_true, y_pred: (n,) class indices in 0..n_classes-1. proba: (n, n_classes) class scores,
    needed for ordinal=True (HiSTN's metrics). trials, subjects: per window, for the
    permutation test (`permutation_p_values`, its pooled p; `permutations` > 0 runs it).
    train_majority: the training labels' majority class, for "chance". eda_true, eda_pred: (n,)
    EDA target and prediction for the PINN's eda_rmse and eda_pearson_r. The ordinal metrics
    rank `proba`; the others score `y_pred`.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) != len(y_pred) or not len(y_true):
        raise ValueError(f"need as many predictions as labels (> 0): {len(y_true)}, {len(y_pred)}")
    if y_true.min() < 0 or max(y_true.max(), y_pred.max()) >= n_classes:
        raise ValueError(f"labels and predictions must lie in 0..{n_classes - 1}")
    out = classification_scores(y_true, y_pred)
    if train_majority is not None:
        out["chance"] = majority_baseline(y_true, train_majority)
    if ordinal:
        if proba is None or np.shape(proba) != (len(y_true), n_classes):
            raise ValueError(f"ordinal metrics need proba of shape ({len(y_true)}, {n_classes})")
        ranked = ordinal_metrics(y_true, proba)  # its accuracy and F1 are those of argmax(proba)
        out.update({k: v for k, v in ranked.items() if k not in out})
    if eda_true is not None and eda_pred is not None:
        out.update(eda_metrics(eda_true, eda_pred))
    if permutations:
        out["p_value"] = permutation_p_values(
            y_true, y_pred, trials, subjects, permutations, permutation_metric, seed
        )[0]
    return out
