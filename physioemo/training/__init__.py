"""Training of the torch models: one Trainer, losses, presets, checkpoints, and a
scikit-learn wrapper. Names are imported on first use (PEP 562), so the recipes (`presets`),
`TrainConfig` and the row helpers of `sampling` are read without importing torch; the
estimators, the Trainer and the losses import it."""

from importlib import import_module

#: public name -> the module of this package that defines it
_EXPORTS = {
    "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
    "PINNClassifier": "estimator",
    "TorchClassifier": "estimator",
    "make_estimator": "estimator",
    "ClassificationObjective": "losses",
    "PINNObjective": "losses",
    "ordinal_targets": "losses",
    "pinn_loss": "losses",
    "PRESETS": "presets",
    "preset": "presets",
    "TrainConfig": "config",
    "Trainer": "trainer",
    "carve_validation": "sampling",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
