"""Evaluation: metrics, cross-validation runner, reports, and the `bench` job."""

from .metrics import fold_metrics
from .runner import cross_validate

__all__ = ["cross_validate", "fold_metrics"]
