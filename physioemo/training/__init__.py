"""Training of the torch models: one Trainer, losses, presets, checkpoints, and a
scikit-learn wrapper. Importing this package imports torch."""

from .checkpoint import load_checkpoint, save_checkpoint
from .estimator import PINNClassifier, TorchClassifier, make_estimator
from .losses import ClassificationObjective, PINNObjective, ordinal_targets, pinn_loss
from .presets import PRESETS, preset
from .trainer import TrainConfig, Trainer, carve_validation

__all__ = [
    "PRESETS",
    "ClassificationObjective",
    "PINNClassifier",
    "PINNObjective",
    "TorchClassifier",
    "TrainConfig",
    "Trainer",
    "carve_validation",
    "load_checkpoint",
    "make_estimator",
    "ordinal_targets",
    "pinn_loss",
    "preset",
    "save_checkpoint",
]
