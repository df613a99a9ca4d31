"""Classification metrics for one test fold, including HiSTN's ordinal metrics (papers.md 1.6)."""

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


def _top_two(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classes with the highest and second-highest score; ties go to the lower class index."""
    order = np.argsort(-np.asarray(proba, dtype=float), axis=1, kind="stable")
    return order[:, 0], order[:, 1]


def seq2hr(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Sequential top-2 hit rate (HiSTN): share of samples whose two top classes are adjacent
    ordinal classes (|r1 - r2| = 1) and include the true class. proba: (n, n_classes)."""
    y_true = np.asarray(y_true)
    first, second = _top_two(proba)
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


def ordinal_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """HiSTN's metric set from class scores (n, n_classes): accuracy, weighted F1, top-2
    accuracy, Seq2HR and Tri-P (predictions are the top class)."""
    y_pred = np.asarray(proba).argmax(axis=1)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "weighted_f1": weighted_f1(y_true, y_pred),
        "top2_accuracy": top2_accuracy(y_true, proba),
        "seq2hr": seq2hr(y_true, proba),
        "tri_p": tri_p(y_true, y_pred),
    }
