"""One interface for the stream's model: class probabilities of one window of features.

A predictor carries what the stream needs to feed it: `ch_names` (its channel order, or its
input features' names), `features` (kind "de", "raw", "peripheral" or "de+peripheral", window and
stride in seconds, bands, sfreq, baseline, peripheral inputs) and `labels` (class names: the
label registry's when the model names a scheme it knows, `class_names`, so every model of one
scheme names its classes alike).
Four implementations: a scikit-learn pipeline (`SklearnPredictor`, including the model trained
on the fly on synthetic EEG), a torch checkpoint (`TorchPredictor`, from
`physioemo.training.checkpoint`), the EDA PINN's checkpoint (`PINNPredictor`: a time input,
and its predicted EDA) and a logistic regression stored as arrays
(`training.linear.LinearPredictor`, what ``physioemo train --model logreg`` writes).
`load_predictor` reads either kind of file.
"""

from __future__ import annotations

import warnings
from typing import Protocol

import numpy as np

from ..errors import clean
from ..training.linear import LinearPredictor
from . import LiveError


class Predictor(Protocol):
    name: str
    ch_names: list[str]
    features: dict
    labels: list[str]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """One window: (n_channels, n_bands) DE or (n_channels, n_samples) raw -> (n_classes,)."""


def class_names(labels: dict, where: str = "the model") -> list[str]:
    """The names of a model's outputs: those its label scheme has in the registry
    (`physioemo.labels.output_names`) when its metadata (`labels`: a checkpoint's "labels")
    names a dataset and scheme the registry knows, so every model of one scheme names its
    classes alike; else its own `labels["classes"]`. LiveError (one line) when the registry's
    scheme has another number of classes than the model."""
    from .. import labels as registry

    own = [str(name) for name in labels["classes"]]
    try:
        scheme = registry.make(
            labels["dataset"], labels["scheme"], labels.get("dimension"), labels.get("threshold")
        )
    except (KeyError, TypeError, ValueError):  # no dataset or scheme the registry knows
        return own
    names = registry.output_names(scheme)
    if len(names) != len(own):
        raise LiveError(
            f"{where}: key meta.labels: {clean(labels['dataset'], 40)}'s "
            f"{clean(labels['scheme'], 40)} scheme has {len(names)} classes, the model "
            f"{len(own)} outputs"
        )
    return names


class SklearnPredictor:
    """A fitted scikit-learn classifier with `predict_proba` on (n_windows, ...) features.

    features, labels: as in a checkpoint's metadata (labels["classes"] names the classes).
    """

    def __init__(self, pipeline, ch_names, features, labels, name="scikit-learn"):
        self.pipeline = pipeline
        self.meta = {"labels": dict(labels)}
        self.ch_names = list(ch_names)
        self.features = dict(features)
        self.labels = class_names(labels, name)
        self.name = name

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        from sklearn import config_context

        with config_context(assume_finite=True):  # the stream hands over finite features only
            probabilities = self.pipeline.predict_proba(x[None].astype(np.float32))
        return probabilities[0].astype(np.float64)


class TorchPredictor:
    """A torch model in eval mode whose output for one window is (1, n_classes) logits.

    threads: torch's intra-op threads, a process-wide setting (default 1; None leaves it
    alone). One window is too small a job to share out, and a second thread that waits for a
    busy core stalls the whole forward pass: with torch's default of 2 threads on 2 shared
    cores, single passes of about 3 ms took 0.1-0.4 s (benchmarks/live.py).
    """

    def __init__(self, model, meta, name="checkpoint", threads=1):
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.model, self.meta = model, meta
        self.ch_names = list(meta["ch_names"])
        self.features = dict(meta["features"])
        self.labels = class_names(meta["labels"], name)
        self.name = f"{meta.get('model', 'torch')} ({name})"

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            logits = self.model(torch.as_tensor(x[None], dtype=torch.float32))
            return torch.softmax(logits.reshape(1, -1), dim=-1)[0].double().numpy()


class PINNPredictor(TorchPredictor):
    """The EDA PINN (`models.pinn`) of a checkpoint: features and a time input t in [0, 1]
    (`physiology.PeripheralFeaturiser.time`) -> class probabilities and the predicted EDA (on
    the per-subject [0, 1] scale of its training target)."""

    time_input = True

    def predict_with_eda(self, x: np.ndarray, t: float) -> tuple[np.ndarray, float]:
        """One window: (n_features,) features and its time -> ((n_classes,), EDA)."""
        import torch

        with torch.inference_mode():
            inputs = torch.as_tensor(x[None], dtype=torch.float32)
            eda, logits = self.model(inputs, torch.tensor([t], dtype=torch.float32))
            probabilities = torch.softmax(logits.reshape(1, -1), dim=-1)[0].double().numpy()
        return probabilities, float(eda[0])

    def predict_proba(self, x: np.ndarray, t: float = 0.5) -> np.ndarray:
        return self.predict_with_eda(x, t)[0]


def load_predictor(path, threads=1) -> TorchPredictor | LinearPredictor:
    """The model of a checkpoint written by `physioemo train` or physioemo's trainer: a torch
    model, or a logistic regression stored as arrays (threads: see `TorchPredictor`). A
    checkpoint trained on zero-phase features is run with a warning: a stream computes causal
    ones."""
    try:
        from ..training.checkpoint import load_checkpoint
    except ImportError as error:
        raise LiveError(
            f"--model {path}: this physioemo has no checkpoint loader (physioemo.training)"
        ) from error
    try:
        predictor = LinearPredictor.load(path)
    except ValueError as error:
        raise LiveError(str(error)) from None
    if predictor is not None:
        predictor.labels = class_names(predictor.meta["labels"], str(path))
    else:
        model, meta = load_checkpoint(path)
        missing = {"ch_names", "features", "labels"} - set(meta)
        if missing:
            raise LiveError(f"checkpoint {path} lacks {', '.join(sorted(missing))} in its metadata")
        kind = PINNPredictor if meta.get("model") == "pinn" else TorchPredictor
        predictor = kind(model, meta, name=str(path), threads=threads)
    if predictor.features.get("causal") is False:
        warnings.warn(
            f"{path} was trained on zero-phase features; a stream computes causal ones, so "
            "live features differ from training (train with --causal)",
            stacklevel=2,
        )
    return predictor


def train_synthetic_predictor(ch_names, sfreq, seed=0, **options) -> SklearnPredictor:
    """The stand-in model (`experiment.stand_in.train_stand_in`) as a predictor: it makes the
    live command work out of the box; its predictions on a real headset (or on BrainFlow's
    synthetic signal, which is not emotion EEG) mean nothing."""
    from ..experiment.stand_in import train_stand_in

    pipeline, features, labels = train_stand_in(ch_names, sfreq, seed=seed, **options)
    return SklearnPredictor(pipeline, ch_names, features, labels, "logreg (synthetic EEG)")
