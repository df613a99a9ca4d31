"""Models: the papers' networks (HiSTN, RBTransformer, multi-task PINN), DGCNN, EEGNet and
scikit-learn baselines, behind one registry. torch is imported only when a torch model is made.

    from physioemo import models
    net = models.create("histn", n_chans=14, n_outputs=5, n_times=128, sfreq=128)
"""

from .baselines import BASELINES, make_baseline
from .registry import INPUTS, MODELS, ModelSpec, Presets, available, create, describe, name_of, spec

__all__ = [
    "BASELINES",
    "INPUTS",
    "MODELS",
    "ModelSpec",
    "Presets",
    "available",
    "create",
    "describe",
    "make_baseline",
    "name_of",
    "spec",
]
