"""scikit-learn baselines on windowed features (any X of shape (n_windows, ...))."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC


def flatten_windows(X: np.ndarray) -> np.ndarray:
    """(n_windows, ...) -> (n_windows, n_features)."""
    return np.asarray(X).reshape(len(X), -1)


def _classifier(name: str, seed: int):
    if name == "logreg":
        return LogisticRegression(C=1.0, max_iter=2000)
    if name == "svm":
        return LinearSVC(C=0.1, random_state=seed)
    if name == "rf":
        return RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=seed)
    raise ValueError(f"unknown baseline {name!r}; available: {', '.join(BASELINES)}")


def make_baseline(name: str = "logreg", seed: int = 0) -> Pipeline:
    """Flatten -> standardise -> classifier ("logreg": logistic regression, C=1;
    "svm": linear SVM, C=0.1; "rf": random forest, 100 trees). These settings are ours."""
    return Pipeline(
        [
            ("flatten", FunctionTransformer(flatten_windows)),
            ("scale", StandardScaler()),
            ("classify", _classifier(name, seed)),
        ]
    )


BASELINES = ("logreg", "svm", "rf")
