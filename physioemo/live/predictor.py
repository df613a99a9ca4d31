"""One interface for the stream's model: class probabilities of one window of features.

A predictor carries what the stream needs to feed it: `ch_names` (its channel order),
`features` (kind "de" or "raw", window and stride in seconds, bands, sfreq, baseline) and
`labels` (class names). Three implementations: a scikit-learn pipeline (`SklearnPredictor`,
including the model trained on the fly on synthetic EEG), a torch checkpoint
(`TorchPredictor`, from `physioemo.training.checkpoint`) and a logistic regression stored as
arrays (`linear.LinearPredictor`, what ``physioemo train --model logreg`` writes).
`load_predictor` reads either kind of file.
"""

from __future__ import annotations

import warnings
from typing import Protocol

import numpy as np

from . import LiveError
from .linear import LinearPredictor


class Predictor(Protocol):
    name: str
    ch_names: list[str]
    features: dict
    labels: list[str]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """One window: (n_channels, n_bands) DE or (n_channels, n_samples) raw -> (n_classes,)."""


class SklearnPredictor:
    """A fitted scikit-learn classifier with `predict_proba` on (n_windows, ...) features.

    features, labels: as in a checkpoint's metadata (labels["classes"] names the classes).
    """

    def __init__(self, pipeline, ch_names, features, labels, name="scikit-learn"):
        self.pipeline = pipeline
        self.ch_names = list(ch_names)
        self.features = dict(features)
        self.labels = list(labels["classes"])
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
        self.model = model
        self.ch_names = list(meta["ch_names"])
        self.features = dict(meta["features"])
        self.labels = [str(label) for label in meta["labels"]["classes"]]
        self.name = f"{meta.get('model', 'torch')} ({name})"

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            logits = self.model(torch.as_tensor(x[None], dtype=torch.float32))
            return torch.softmax(logits.reshape(1, -1), dim=-1)[0].double().numpy()


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
    predictor = LinearPredictor.load(path)
    if predictor is None:
        model, meta = load_checkpoint(path)
        missing = {"ch_names", "features", "labels"} - set(meta)
        if missing:
            raise LiveError(f"checkpoint {path} lacks {', '.join(sorted(missing))} in its metadata")
        predictor = TorchPredictor(model, meta, name=str(path), threads=threads)
    if predictor.features.get("causal") is False:
        warnings.warn(
            f"{path} was trained on zero-phase features; a stream computes causal ones, so "
            "live features differ from training (train with --causal)",
            stacklevel=2,
        )
    return predictor


def synthetic_training_set(
    ch_names,
    sfreq,
    window=1.0,
    stride=0.25,
    bands=None,
    trials=24,
    seconds=8.0,
    seed=0,
    kind="de",
):
    """Windows of synthetic EEG for these channels and rate, to train a stand-in model.

    One simulated subject (`EmotionEEG`), `trials` trials of `seconds` with arousal drawn
    uniformly in [-1, 1]; label 1 ("high arousal") when it is above 0.
    kind "de": causal DE per window, X (n_windows, n_channels, n_bands); "raw": the windows'
    samples in uV, X (n_windows, n_channels, round(window * sfreq)) -- what the stream feeds
    such models.
    Returns (X float32, y, features, labels) where `features` and `labels` are the checkpoint
    metadata of such a model.
    """
    from ..datasets.synthetic import EmotionEEG
    from ..features import BANDS, differential_entropy
    from ..windows import window_bounds

    if kind not in ("de", "raw"):
        raise LiveError(f"synthetic training sets are 'de' or 'raw', not {kind!r}")
    bands = dict(bands or BANDS)
    rng = np.random.default_rng(seed)
    generator = EmotionEEG(ch_names, sfreq)
    subject = generator.subject(rng)
    X, y = [], []
    for arousal in rng.uniform(-1, 1, trials):
        eeg = generator.eeg(rng, subject, int(seconds * sfreq), arousal=arousal)
        if kind == "de":
            x = differential_entropy(eeg, sfreq, bands, window, stride, zero_phase=False)
        else:
            starts, stops = window_bounds(eeg.shape[1], sfreq, window, stride)
            x = np.stack([eeg[:, a:b] for a, b in zip(starts, stops, strict=True)])
        X.append(x)
        y.append(np.full(len(x), int(arousal > 0)))
    features = {
        "kind": kind,
        "window": window,
        "stride": stride,
        "sfreq": sfreq,
        "baseline": "none",
    }
    if kind == "de":
        features["bands"] = bands
    labels = {"dimension": "arousal", "kind": "binary", "classes": ["low arousal", "high arousal"]}
    return np.concatenate(X).astype(np.float32), np.concatenate(y), features, labels


def train_synthetic_predictor(ch_names, sfreq, seed=0, **options) -> SklearnPredictor:
    """Logistic regression on `synthetic_training_set`: it makes the live command work out of
    the box; its predictions on a real headset (or on BrainFlow's synthetic signal, which is
    not emotion EEG) mean nothing."""
    from ..models import make_baseline

    X, y, features, labels = synthetic_training_set(ch_names, sfreq, seed=seed, **options)
    pipeline = make_baseline("logreg", seed=seed).fit(X, y)
    return SklearnPredictor(pipeline, ch_names, features, labels, "logreg (synthetic EEG)")
