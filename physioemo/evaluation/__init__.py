"""Evaluation: metrics, summaries of a run (per-subject pooled scores), reports."""

from .metrics import (
    ordinal_metrics,
    permutation_p_values,
    scores,
    seq2hr,
    top2_accuracy,
    tri_p,
    weighted_f1,
)
from .summary import format_table, summarise

__all__ = [
    "format_table",
    "ordinal_metrics",
    "permutation_p_values",
    "scores",
    "seq2hr",
    "summarise",
    "top2_accuracy",
    "tri_p",
    "weighted_f1",
]
