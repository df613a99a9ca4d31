"""The model registry: one constructor signature for every model, imported only when used.

``create(name, n_chans=..., n_outputs=..., n_times=None, sfreq=None, ch_names=None, **options)``
returns a torch module (papers' models, DGCNN, EEGNet) or a scikit-learn pipeline (baselines).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

from ..errors import entry
from .base import SIGNATURE

#: input kind -> what the model reads
INPUTS = {
    "raw": "raw windows (batch, n_chans, n_times)",
    "de": "DE tokens (batch, n_chans, n_bands)",
    "features": "feature vectors (any window features, flattened)",
    "peripheral": "peripheral feature vectors (batch, n_features) + time (+ self-reports)",
}


@dataclass(frozen=True)
class Presets:
    """A torch model's training recipes, by their names in `training.presets`."""

    full: str  # the paper's recipe
    quick: str  # ours: a short schedule of the full recipe (the demo's)
    across_subjects: str | None = None  # the full recipe when whole subjects are held out
    across_subjects_quick: str | None = None  # its short schedule (None: `quick`)

    def names(self) -> set[str]:
        names = {self.full, self.quick, self.across_subjects, self.across_subjects_quick}
        return names - {None}


@dataclass(frozen=True)
class ModelSpec:
    """Where a model lives, what it reads, settings to describe it with and (torch models) its
    training presets."""

    target: str  # "module:attribute"
    inputs: str  # a key of INPUTS
    summary: str
    example: dict = field(default_factory=dict)  # constructor arguments for `describe`
    presets: Presets | None = None

    @property
    def framework(self) -> str:
        return "sklearn" if self.inputs == "features" else "torch"


_DREAMER = {"n_chans": 14, "n_times": 128, "sfreq": 128.0}
MODELS = {
    "histn": ModelSpec(
        "physioemo.models.histn:HiSTN",
        "raw",
        "HiSTN hierarchical graph network (arXiv 2408.15255), DREAMER 5-class",
        {**_DREAMER, "n_outputs": 5},
        presets=Presets("histn", "histn-quick", "histn-si", "histn-si-quick"),
    ),
    "rbtransformer": ModelSpec(
        "physioemo.models.rbtransformer:RBTransformer",
        "de",
        "RBTransformer on band-DE tokens (arXiv 2511.13954), DREAMER binary",
        {"n_chans": 14, "n_outputs": 2},
        presets=Presets("rbtransformer", "rbtransformer-quick"),
    ),
    "pinn": ModelSpec(
        "physioemo.models.pinn:MultiTaskPINN",
        "peripheral",
        "multi-task EDA PINN (arXiv 2505.18169; design ours), WESAD 3-class, 12 features",
        {"n_chans": 12, "n_outputs": 3},
        presets=Presets("pinn", "pinn-quick"),
    ),
    "dgcnn": ModelSpec(
        "physioemo.models.dgcnn:DGCNN",
        "de",
        "DGCNN, learnable adjacency on DE (Song et al. 2018), DREAMER binary",
        {"n_chans": 14, "n_outputs": 2},
        presets=Presets("dgcnn", "dgcnn-quick"),
    ),
    "eegnet": ModelSpec(
        "physioemo.models.eegnet:EEGNet",
        "raw",
        "EEGNet-8,2 (Lawhern et al. 2018), DREAMER binary",
        {**_DREAMER, "n_outputs": 2},
        presets=Presets("eegnet", "eegnet-quick"),
    ),
    "logreg": ModelSpec(
        "physioemo.models.baselines:make_baseline", "features", "logistic regression (C=1)"
    ),
    "svm": ModelSpec("physioemo.models.baselines:make_baseline", "features", "linear SVM (C=0.1)"),
    "rf": ModelSpec(
        "physioemo.models.baselines:make_baseline", "features", "random forest (100 trees)"
    ),
}


def available() -> list[str]:
    """Model names `create` accepts."""
    return list(MODELS)


def spec(name: str) -> ModelSpec:
    return entry(MODELS, name, "model")


def create(name: str, **arguments):
    """A new, untrained model.

    Torch models take the shared signature (`models.base.SIGNATURE`: n_chans, n_outputs,
    n_times, sfreq, ch_names; window_seconds) plus their own options, and record them
    (`get_config()`) for checkpoints. Baselines ignore the signature and take `seed`.
    """
    model, factory = spec(name), factory_of(name)
    if model.framework == "sklearn":
        return factory(name, **{k: v for k, v in arguments.items() if k not in SIGNATURE})
    return factory(**arguments)


def factory_of(name: str):
    """The class (torch models) or function (baselines) that builds model `name`, imported;
    a torch model's class lists the bounds of its size options in ``SIZE_LIMITS``."""
    module, attribute = spec(name).target.split(":")
    return getattr(import_module(module), attribute)


def name_of(model) -> str:
    """The registry name of a torch model's class (e.g. "histn" for a `HiSTN`)."""
    target = f"{type(model).__module__}:{type(model).__qualname__}"
    for name, model_spec in MODELS.items():
        if model_spec.target == target:
            return name
    raise ValueError(f"{type(model).__name__} is not a registry model ({', '.join(MODELS)})")


def describe(name: str) -> dict:
    """Name, inputs, summary and (torch models) parameter counts with the example settings."""
    model_spec = spec(name)
    info = {
        "model": name,
        "inputs": INPUTS[model_spec.inputs],
        "framework": model_spec.framework,
        "summary": model_spec.summary,
    }
    if model_spec.framework == "torch":
        from ._layers import count_parameters

        info["parameters"] = count_parameters(create(name, **model_spec.example))
        info["settings"] = model_spec.example
    return info
