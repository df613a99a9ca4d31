"""`TorchClassifier`: a registry torch model + the Trainer as a scikit-learn classifier, so the
cross-validation runner treats it like any baseline."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from ..models import create, spec
from ..models._layers import Standardized
from .losses import ClassificationObjective
from .presets import preset
from .trainer import TrainConfig, Trainer, seed_everything


class TorchClassifier(ClassifierMixin, BaseEstimator):
    """fit(X, y, groups=None) / predict / predict_proba around a registry model.

    Args:
        model: registry name ("histn", "rbtransformer", "dgcnn", "eegnet").
        preset: training recipe name (default "<model>-quick"), see `training.presets`.
        model_options: extra constructor arguments (e.g. sfreq, ch_names).
        train_options: `TrainConfig` fields overriding the preset's.
        n_classes: number of classes (default: max(y) + 1, at least 2); labels are 0..K-1.
        standardize: z-score inputs with training statistics (per channel for raw windows,
            per channel and band for features; ours), kept inside the fitted network.
        seed: seeds the weights, the validation split and the batches.
        max_train_windows: train on at most this many windows, evenly spaced through the
            training set (quick profiles; ours). None uses them all.
    Fitted attributes: network_ (torch module in eval mode), classes_, history_, best_epoch_.
    """

    accepts_groups = True  # the runner passes the windows' groups to fit

    def __init__(
        self,
        model: str = "histn",
        preset: str | None = None,
        model_options: dict | None = None,
        train_options: dict | None = None,
        n_classes: int | None = None,
        standardize: bool = True,
        seed: int = 0,
        max_train_windows: int | None = None,
    ):
        self.model = model
        self.preset = preset
        self.model_options = model_options
        self.train_options = train_options
        self.n_classes = n_classes
        self.standardize = standardize
        self.seed = seed
        self.max_train_windows = max_train_windows

    def fit(self, X, y, groups=None):
        X, y = np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)
        if self.max_train_windows and len(X) > self.max_train_windows:
            keep = np.unique(np.linspace(0, len(X) - 1, self.max_train_windows).round().astype(int))
            X, y = X[keep], y[keep]
            groups = None if groups is None else groups[keep]
        recipe = preset(self.preset or f"{self.model}-quick")
        n_classes = self.n_classes or max(int(y.max()) + 1, 2)
        self.classes_ = np.arange(n_classes)
        raw = spec(self.model).inputs == "raw"
        options = {**recipe["model"], **(self.model_options or {})}
        config = TrainConfig(**{**recipe["train"], "seed": self.seed, **(self.train_options or {})})
        seed_everything(config.seed)
        network = create(
            self.model,
            n_chans=X.shape[1],
            n_outputs=n_classes,
            n_times=X.shape[2] if raw else None,
            **options,
        )
        if self.standardize:
            axes = (0, 2) if raw else 0
            mean = X.mean(axis=axes, keepdims=True)[0]
            std = X.std(axis=axes, keepdims=True)[0]
            network = Standardized(network, mean, np.where(std > 0, std, 1.0))
        trainer = Trainer(config)
        objective = ClassificationObjective(n_classes, recipe["smoothing"])
        self.network_ = trainer.fit(network, objective, {"x": X, "y": y}, groups)
        self.history_, self.best_epoch_ = trainer.history, trainer.best_epoch
        self._device = trainer.device()
        return self

    def predict_proba(self, X, batch_size: int = 1024) -> np.ndarray:
        X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        with torch.no_grad():
            parts = [
                torch.softmax(self.network_(X[i : i + batch_size].to(self._device)), dim=-1)
                for i in range(0, len(X), batch_size)
            ]
        return torch.cat(parts).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def save_checkpoint(self, path, ch_names, features: dict, labels: dict):
        """The fitted network as a checkpoint (see `training.checkpoint`) that live and
        offline runs load back; features/labels describe its inputs and classes."""
        from .checkpoint import save_checkpoint

        meta = {"ch_names": list(ch_names), "features": features, "labels": labels}
        return save_checkpoint(path, self.network_, meta)
