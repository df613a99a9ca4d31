"""Metrics on hand-built cases and against scikit-learn / SciPy; HiSTN's ordinal metrics both as
defined and as its authors' code computes them; the trial-level permutation test."""

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    top_k_accuracy_score,
)

from physioemo.evaluation.metrics import (
    confusion_counts,
    confusion_score,
    eda_metrics,
    from_confusion,
    histn_code_metrics,
    ordinal_metrics,
    permutation_p_values,
    scores,
    seq2hr,
    top2_accuracy,
    tri_p,
    weighted_f1,
)

# Five samples over 5 ordinal classes; by hand:
#   row 0: top 2, then 3 (adjacent), truth 3  -> Seq2HR hit, top-2 hit, |2-3| = 1 (Tri-P ok)
#   row 1: top 0, then 4 (not adjacent), truth 0 -> no Seq2HR (not adjacent), top-2 hit
#   row 2: top 1, then 2 (adjacent), truth 4 -> miss, miss, |1-4| = 3 (outside the band)
#   row 3: top 4, then 3 (adjacent), truth 4 -> hit, hit, exact
#   row 4: top 0, then 1 (adjacent), truth 2 -> miss (truth not in top 2), miss, |0-2| = 2
PROBA = np.array(
    [
        [0.05, 0.10, 0.50, 0.30, 0.05],
        [0.60, 0.05, 0.05, 0.05, 0.25],
        [0.10, 0.40, 0.30, 0.10, 0.10],
        [0.00, 0.05, 0.05, 0.30, 0.60],
        [0.50, 0.30, 0.10, 0.05, 0.05],
    ]
)
TRUTH = np.array([3, 0, 4, 4, 2])

# Classes 1 and 3 missing from the test labels (a subject who never rated 2 or 4); by hand:
#   row A: truth 2, argmax 1. Defined: top-1 miss, top-2 {1, 2} hit, Seq2HR hit, |1-2| = 1 in.
#          Code (ranks only 0, 2, 4): top-1 2 hit, top-2 hit.
#   row B: truth 0, argmax 4. Defined: top-1 miss, top-2 {4, 0} hit, not adjacent, |4-0| out.
#          Code: ranks 4, 0, 2: top-1 miss, top-2 hit.
#   row C: truth 4, argmax 2. Defined: top-1 miss, top-2 {2, 4} hit, not adjacent, |2-4| = 2 out.
#          Code: top-1 miss, top-2 hit; its confusion matrix lists 0, 1, 2, 4 (3 is neither true
#          nor predicted), so 2 and 4 are neighbours: inside its band.
#   row D: truth 0, argmax 2. Defined: top-1 miss, top-2 {2, 1} miss, adjacent without truth,
#          |2-0| out. Code: ranks 2, 0, 4: top-1 miss, top-2 hit; 0 and 2 two apart: out.
MISSING_PROBA = np.array(
    [
        [0.10, 0.50, 0.30, 0.05, 0.05],
        [0.20, 0.05, 0.05, 0.10, 0.60],
        [0.05, 0.05, 0.50, 0.10, 0.30],
        [0.10, 0.20, 0.60, 0.05, 0.05],
    ]
)
MISSING_TRUTH = np.array([2, 0, 4, 0])


def test_seq2hr_by_hand():
    assert seq2hr(TRUTH, PROBA) == pytest.approx(2 / 5)


def test_seq2hr_needs_adjacent_top_two():
    proba = np.array([[0.6, 0.0, 0.4], [0.6, 0.4, 0.0]])
    assert seq2hr([0, 0], proba) == pytest.approx(0.5)


def test_tri_p_by_hand():
    predictions = PROBA.argmax(axis=1)  # [2, 0, 1, 4, 0]
    assert tri_p(TRUTH, predictions) == pytest.approx(3 / 5)


def test_top2_accuracy_by_hand_and_against_sklearn():
    assert top2_accuracy(TRUTH, PROBA) == pytest.approx(3 / 5)
    assert top2_accuracy(TRUTH, PROBA) == pytest.approx(
        top_k_accuracy_score(TRUTH, PROBA, k=2, labels=range(5))
    )


def test_weighted_f1_against_sklearn_and_by_hand():
    y_true, y_pred = np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1])
    # class 0: P = 1, R = 2/3, F1 = 0.8 (support 3); class 1: P = 1/2, R = 1, F1 = 2/3 (support 1)
    assert weighted_f1(y_true, y_pred) == pytest.approx((3 * 0.8 + 2 / 3) / 4)
    assert weighted_f1(TRUTH, PROBA.argmax(1)) == pytest.approx(
        f1_score(TRUTH, PROBA.argmax(1), average="weighted")
    )


def test_ordinal_metrics_bundle():
    metrics = ordinal_metrics(TRUTH, PROBA)
    assert metrics["accuracy"] == pytest.approx(2 / 5)  # rows 1 and 3
    assert metrics["seq2hr"] == pytest.approx(2 / 5)
    assert metrics["tri_p"] == pytest.approx(3 / 5)
    assert metrics["top2_accuracy"] == pytest.approx(3 / 5)


def test_both_variants_with_missing_classes_by_hand():
    metrics = ordinal_metrics(MISSING_TRUTH, MISSING_PROBA)
    defined = {k: metrics[k] for k in ("accuracy", "top2_accuracy", "tri_p", "seq2hr")}
    code = {k: metrics[k] for k in metrics if k.endswith("_histn_code")}
    assert defined == pytest.approx(
        {"accuracy": 0 / 4, "top2_accuracy": 3 / 4, "tri_p": 1 / 4, "seq2hr": 1 / 4}
    )
    assert code == pytest.approx(
        {
            "top1_histn_code": 1 / 4,
            "top2_histn_code": 4 / 4,
            "tri_p_histn_code": 2 / 4,
            "seq2hr_histn_code": 1 / 4,
        }
    )


def test_without_missing_classes_or_ties_the_variants_agree(rng):
    truth = np.r_[np.arange(5), rng.integers(0, 5, 45)]  # every class present
    proba = rng.dirichlet(np.ones(5), size=50)  # no ties
    metrics = ordinal_metrics(truth, proba)
    for defined, code in [
        ("accuracy", "top1_histn_code"),
        ("top2_accuracy", "top2_histn_code"),
        ("tri_p", "tri_p_histn_code"),
        ("seq2hr", "seq2hr_histn_code"),
    ]:
        assert metrics[code] == pytest.approx(metrics[defined])


def test_histn_code_variant_against_what_its_code_calls(rng):
    for _ in range(50):
        n_classes = 5
        present = np.sort(rng.choice(n_classes, size=rng.integers(3, 6), replace=False))
        truth = rng.choice(present, size=40)
        proba = rng.dirichlet(np.ones(n_classes), size=40)
        code = histn_code_metrics(truth, proba)
        seen = np.unique(truth)
        for k, key in ((1, "top1_histn_code"), (2, "top2_histn_code")):
            assert code[key] == pytest.approx(top_k_accuracy_score(truth, proba[:, seen], k=k))
        matrix = confusion_matrix(truth, proba.argmax(1))  # the code's, then the +-1 band out
        rows, cols = np.indices(matrix.shape)
        off_band = matrix[np.abs(rows - cols) >= 2].sum()
        assert code["tri_p_histn_code"] == pytest.approx(1 - off_band / len(truth))


def test_seq2hr_code_breaks_ties_towards_the_higher_class():
    proba = np.array([[0.0, 1.0, 0.0, 0.0, 0.0]])  # a one-hot score: the runner-up is a tie
    assert seq2hr([0], proba) == 1.0  # runner-up 0 (lowest): adjacent, holds the truth
    assert histn_code_metrics(np.array([0]), proba)["seq2hr_histn_code"] == 0.0  # runner-up 4


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_confusion_score_equals_sklearn(rng):
    reference = {
        "accuracy": accuracy_score,
        "balanced_accuracy": balanced_accuracy_score,
        "macro_f1": lambda t, p: f1_score(t, p, average="macro", zero_division=0),
        "weighted_f1": lambda t, p: f1_score(t, p, average="weighted", zero_division=0),
        "kappa": cohen_kappa_score,
    }
    for _ in range(20):
        truth = rng.integers(0, 4, 60)
        pred = np.where(rng.random(60) < 0.5, truth, rng.integers(0, 5, 60))
        for name, function in reference.items():
            assert confusion_score(truth, pred, 5, name) == pytest.approx(function(truth, pred))


def test_eda_metrics_against_scipy(rng):
    truth = rng.random(100)
    pred = truth + rng.normal(0, 0.05, 100)
    metrics = eda_metrics(truth, pred)
    assert metrics["eda_rmse"] == pytest.approx(np.sqrt(np.mean((truth - pred) ** 2)))
    assert metrics["eda_pearson_r"] == pytest.approx(pearsonr(truth, pred)[0])


def trial_design(per_trial=100):
    """6 trials of 100 windows: labels 0,0,0,1,1,1; predictions constant per trial, unrelated."""
    labels = np.repeat([0, 0, 0, 1, 1, 1], per_trial)
    predictions = np.repeat([0, 0, 1, 1, 1, 0], per_trial)
    trials = np.repeat(np.arange(6), per_trial)
    return labels, predictions, trials


def test_trial_level_permutations_keep_the_windows_of_a_trial_together():
    labels, predictions, trials = trial_design()
    assert accuracy_score(labels, predictions) == pytest.approx(4 / 6)
    # by trials: 10 of the 20 label arrangements match at least 4 of 6 trials -> p about 0.5
    p_trials, _ = permutation_p_values(labels, predictions, trials, n_permutations=400, seed=1)
    assert 0.35 < p_trials < 0.65
    # by windows (wrong here): 600 "independent" windows make 4/6 look certain
    p_windows, _ = permutation_p_values(labels, predictions, None, n_permutations=400, seed=1)
    assert p_windows == pytest.approx(1 / 401)


def test_permutations_within_subjects_and_a_perfect_predictor():
    labels = np.repeat(np.tile([0, 1], 10), 5)  # 20 trials of 5 windows, 2 subjects
    trials = np.repeat(np.arange(20), 5)
    subjects = np.repeat([0, 1], 50)
    p, _ = permutation_p_values(labels, labels, trials, subjects, n_permutations=200, seed=0)
    assert p < 0.02
    with pytest.raises(ValueError, match="different labels"):
        permutation_p_values(np.r_[labels[:-1], 0], labels, trials, n_permutations=5)


def test_per_subject_p_values_against_exact_enumeration():
    # subject a: 6 trials, perfectly predicted; subject b: predictions unrelated to its labels
    labels = np.repeat([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1], 4)
    predictions = np.r_[labels[:24], np.repeat([0, 1, 0, 1, 0, 1], 4)]
    trials = np.repeat(np.arange(12), 4)
    subjects = np.repeat(["a", "b"], 24)
    pooled, per_subject = permutation_p_values(
        labels, predictions, trials, subjects, n_permutations=4000, seed=2
    )
    # a: 1 of the C(6, 3) = 20 arrangements of its labels is as good; b: balanced accuracy
    # 2/3 (2 of 3 trials of each class right), reached by 10 of 20 arrangements
    assert per_subject[0] == pytest.approx(1 / 20, abs=0.01)
    assert per_subject[1] == pytest.approx(10 / 20, abs=0.03)
    # pooled: the mean of both scores (k/3 with k of 3 trials of each class right, k
    # hypergeometric: 1, 9, 9, 1 in 20) reaches 5/6 when k_a + k_b >= 5: (1*9 + 1*1 + 9*1) / 400
    assert pooled == pytest.approx(19 / 400, abs=0.008)


def test_batched_confusion_scores_equal_sklearn(rng):
    truth = rng.integers(0, 3, (4, 50))
    pred = np.where(rng.random((4, 50)) < 0.6, truth, rng.integers(0, 3, (4, 50)))
    blocks = np.repeat(np.arange(4)[:, None], 50, axis=1)
    matrices = confusion_counts(truth, pred, 3, blocks, 4)
    for block in range(4):
        assert (
            matrices[block] == confusion_matrix(truth[block], pred[block], labels=[0, 1, 2])
        ).all()
    found = from_confusion(matrices, "macro_f1")
    reference = [f1_score(t, p, average="macro") for t, p in zip(truth, pred, strict=True)]
    np.testing.assert_allclose(found, reference)
    with pytest.raises(ValueError, match="unknown metric"):
        from_confusion(matrices, "auc")


def test_scores_entry_point():
    y_true = np.array([0, 0, 1, 1, 2, 2, 2, 4])
    proba = np.eye(5)[[0, 1, 1, 2, 2, 2, 3, 4]] * 0.6 + 0.08
    y_pred = proba.argmax(1)
    out = scores(
        y_true,
        y_pred,
        proba,
        n_classes=5,
        ordinal=True,
        trials=np.arange(8),
        train_majority=2,
        eda_true=np.arange(8.0),
        eda_pred=np.arange(8.0) + 0.5,
        permutations=50,
    )
    assert out["accuracy"] == pytest.approx(5 / 8)
    assert out["chance"] == pytest.approx(3 / 8)  # the training majority (2) for every window
    assert out["kappa"] == pytest.approx(cohen_kappa_score(y_true, y_pred))
    assert out["eda_rmse"] == pytest.approx(0.5) and out["eda_pearson_r"] == pytest.approx(1.0)
    assert out["tri_p"] == pytest.approx(1.0) and 0 < out["p_value"] <= 1
    assert {"seq2hr", "top2_accuracy", "tri_p_histn_code", "top1_histn_code"} <= set(out)
    plain = scores(y_true, y_pred, n_classes=5)
    assert "chance" not in plain and "seq2hr" not in plain and "p_value" not in plain
    with pytest.raises(ValueError, match="proba of shape"):
        scores(y_true, y_pred, n_classes=5, ordinal=True)
    with pytest.raises(ValueError, match="0..2"):
        scores(y_true, y_pred, n_classes=3)
