"""HiSTN's ordinal metrics on hand-built cases, and against scikit-learn where it has them."""

import numpy as np
import pytest
from sklearn.metrics import f1_score, top_k_accuracy_score

from physioemo.evaluation.metrics import (
    ordinal_metrics,
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
