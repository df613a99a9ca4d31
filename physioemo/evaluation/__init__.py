"""Evaluation: metrics, cross-validation runner, reports, and the `bench` job."""

from .metrics import (
    fold_metrics,
    ordinal_metrics,
    permutation_p_value,
    scores,
    seq2hr,
    top2_accuracy,
    tri_p,
    weighted_f1,
)
from .runner import cross_validate

__all__ = [
    "cross_validate",
    "fold_metrics",
    "ordinal_metrics",
    "permutation_p_value",
    "scores",
    "seq2hr",
    "top2_accuracy",
    "tri_p",
    "weighted_f1",
]
