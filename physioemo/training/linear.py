"""A logistic regression as arrays: what ``physioemo train --model logreg`` saves and
``physioemo live --model`` runs, without pickle; ValueError in one line naming the key
of a malformed file.

`models.make_baseline("logreg")` flattens a window, standardises it ((x - mean) / scale) and
applies scikit-learn's `LogisticRegression`; its `predict_proba` is the logistic function of
the one decision value (two classes) or the softmax of one per class (more). Those arrays are
all a prediction needs, so the file holds float64 tensors and JSON metadata only and is read
with ``torch.load(weights_only=True)``; every array is checked against the channels, features
and classes the metadata describes before use. The random forest (trees) and the linear SVM
(no class probabilities) are not stored: `physioemo train` refuses them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .metadata import check_classes, check_features, check_names

#: format tag of the file (a torch checkpoint says "physioemo-checkpoint-1")
FORMAT = "physioemo-linear-1"
#: the scaler's mean and scale (n_features,), coef (k, n_features) and intercept (k,) with
#: k = 1 for two classes, and the class indices the regression saw (of the label scheme's)
ARRAYS = ("mean", "scale", "coef", "intercept", "classes")


class LinearPredictor:
    """Class probabilities of one window from the arrays of a fitted logistic regression.

    arrays: `ARRAYS` by name. meta: "ch_names", "features" (kind "de" or "raw", ...) and
    "labels" (with "classes", the scheme's class names) as in a torch checkpoint; classes the
    regression never saw get probability 0.
    """

    def __init__(self, arrays: dict, meta: dict, name="logreg"):
        self.arrays = {key: np.asarray(arrays[key], dtype=float) for key in ARRAYS}
        self.seen = self.arrays["classes"].astype(int)
        self.ch_names = list(meta["ch_names"])
        self.features = dict(meta["features"])
        self.labels = [str(label) for label in meta["labels"]["classes"]]
        self.meta = {"model": "logreg", **meta}
        self.name = f"logreg ({name})"

    @classmethod
    def from_pipeline(cls, pipeline, meta: dict) -> LinearPredictor:
        """From a fitted `make_baseline("logreg")` pipeline; ValueError for any other."""
        from sklearn.linear_model import LogisticRegression

        steps = getattr(pipeline, "named_steps", {})
        scaler, classifier = steps.get("scale"), steps.get("classify")
        if scaler is None or not isinstance(classifier, LogisticRegression):
            raise ValueError("only the logistic regression baseline (logreg) is stored as arrays")
        arrays = {
            "mean": scaler.mean_,
            "scale": scaler.scale_,
            "coef": classifier.coef_,
            "intercept": classifier.intercept_,
            "classes": classifier.classes_,
        }
        return cls(arrays, meta)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """One window (n_channels, n_values) -> (n_classes,) probabilities."""
        a = self.arrays
        decision = a["coef"] @ ((np.ravel(x) - a["mean"]) / a["scale"]) + a["intercept"]
        if decision.size == 1:  # the logistic function is the softmax of (-d/2, d/2)
            decision = np.array([-decision[0], decision[0]]) / 2
        exp = np.exp(decision - decision.max())
        probabilities = np.zeros(len(self.labels))
        probabilities[self.seen] = exp / exp.sum()
        return probabilities

    def save(self, path) -> Path:
        """Write the arrays and the metadata (ValueError unless it is plain JSON data)."""
        import torch

        try:
            meta = json.loads(json.dumps(self.meta))
        except TypeError as error:
            raise ValueError(f"linear checkpoint meta must be plain data: {error}") from error
        arrays = {key: torch.as_tensor(value) for key, value in self.arrays.items()}
        torch.save({"format": FORMAT, "arrays": arrays, "meta": meta}, path)
        return Path(path)

    @classmethod
    def load(cls, path) -> LinearPredictor | None:
        """The predictor in `path`; None when the file is not a linear one (a torch
        checkpoint, or unreadable: `training.checkpoint` names that). ValueError in one line
        naming the key when a linear file is malformed."""
        import torch

        try:
            content = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001 -- not ours to report: the checkpoint loader does
            return None
        if not isinstance(content, dict) or content.get("format") != FORMAT:
            return None
        meta, stored = content.get("meta"), content.get("arrays")
        if not isinstance(meta, dict) or not isinstance(stored, dict):
            raise ValueError(f"{path}: key meta or arrays is missing or not a dict")
        absent = [key for key in ARRAYS if not isinstance(stored.get(key), torch.Tensor)]
        if absent:
            raise ValueError(f"{path}: key arrays.{absent[0]} is missing or not a tensor")
        arrays = {key: stored[key].double().numpy() for key in ARRAYS}
        _check(path, arrays, *_sizes(path, meta))
        return cls(arrays, meta, name=str(path))


def _sizes(path, meta: dict) -> tuple[int, int]:
    """(features per window, classes) the metadata describes; ValueError naming a bad key."""
    from ..features import BANDS
    from ..windows import window_samples

    names = check_names(path, meta)
    classes = check_classes(path, meta)
    check_features(path, meta)
    features = meta.get("features")
    try:
        kind = features["kind"]
        # de+peripheral: DE per channel and band, then the named peripheral inputs
        extra = len(features["feature_names"]) if kind == "de+peripheral" else 0
        if kind in ("de", "de+peripheral"):
            width = len(features.get("bands") or BANDS)
        elif kind == "raw":
            width = window_samples(float(features["window"]), float(features["sfreq"]))
        elif kind == "peripheral":
            width = 1  # ch_names are the names of the input features
    except (TypeError, KeyError, ValueError):
        raise ValueError(
            f"{path}: key meta.features: expected kind, window, sfreq (or feature_names)"
        ) from None
    if kind not in ("de", "raw", "peripheral", "de+peripheral"):
        raise ValueError(
            f"{path}: key meta.features.kind: live features are 'de', 'raw', 'peripheral' or "
            "'de+peripheral'"
        )
    return len(names) * width + extra, len(classes)


def _check(path, arrays: dict, n_features: int, n_classes: int) -> None:
    """ValueError naming the first array that does not fit, is not finite, or is out of range."""
    k = arrays["coef"].shape[0] if arrays["coef"].ndim == 2 else 0
    expected = {
        "coef": (max(k, 1), n_features),
        "intercept": (k,),
        "classes": (2,) if k == 1 else (k,),
        "mean": (n_features,),
        "scale": (n_features,),
    }
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise ValueError(
                f"{path}: key arrays.{key} does not fit {n_features} features per window and "
                f"{n_classes} classes"
            )
        if not np.isfinite(arrays[key]).all():
            raise ValueError(f"{path}: key arrays.{key} holds NaN or infinite values")
    if (arrays["scale"] <= 0).any():
        raise ValueError(f"{path}: key arrays.scale: scales must be > 0")
    seen = arrays["classes"]
    if (
        (seen != np.round(seen)).any()
        or seen.min() < 0
        or seen.max() >= n_classes
        or (np.unique(seen).size != seen.size)
    ):
        raise ValueError(f"{path}: key arrays.classes: expected distinct indices below {n_classes}")
