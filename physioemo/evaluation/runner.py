"""Cross-validation of a model under a protocol, one row of results per fold."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.dummy import DummyClassifier
from tqdm.auto import tqdm

from .metrics import fold_metrics


def cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    make_model: Callable[[], object],
    splitter,
    progress: bool = True,
    description: str = "folds",
    folds=None,
) -> list[dict]:
    """Fit a fresh model per split and score it on the held-out windows.

    make_model: returns an unfitted estimator with fit/predict. A training fold holding a
        single class gets a majority-class predictor instead (and says so in `note`).
        Estimators with ``accepts_groups = True`` get the training windows' groups in fit.
    folds: indices of the splits to run (default all), e.g. for a quick profile.
    Returns one dict per fold: fold, subject (the held-out windows' subject(s)), n_train,
    n_test, accuracy, macro_f1, chance, leaks, note.
    """
    rows = []
    splits = splitter.split(X, y, groups)
    total = splitter.get_n_splits(X, y, groups) if folds is None else len(folds)
    bar = tqdm(total=total, desc=description, unit="fold", disable=not progress, leave=False)
    for fold, (train, test) in enumerate(splits):
        if folds is not None and fold not in folds:
            continue
        single_class = np.unique(y[train]).size < 2
        model = DummyClassifier(strategy="most_frequent") if single_class else make_model()
        options = {"groups": groups[train]} if getattr(model, "accepts_groups", False) else {}
        model.fit(X[train], y[train], **options)
        rows.append(
            {
                "fold": fold,
                "subject": "+".join(np.unique(groups["subject"][test]).astype(str)),
                "n_train": int(train.size),
                "n_test": int(test.size),
                **fold_metrics(y[test], model.predict(X[test])),
                "leaks": bool(splitter.leaks),
                "note": "single-class training fold: majority predictor" if single_class else "",
            }
        )
        bar.update()
    bar.close()
    return rows
