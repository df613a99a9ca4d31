"""Classification metrics for one test fold."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score


def fold_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1 and the majority-class rate ("chance") of one test fold."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    majority = np.unique(y_true, return_counts=True)[1].max() / y_true.size
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "chance": float(majority),
    }
