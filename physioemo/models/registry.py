"""The model registry: one constructor signature for every model, imported only when used.

``create(name, n_chans=..., n_outputs=..., n_times=None, sfreq=None, ch_names=None, **options)``
returns a torch module (papers' models, DGCNN, EEGNet) or a scikit-learn pipeline (baselines).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

#: input kind -> what the model reads
INPUTS = {
    "raw": "raw windows (batch, n_chans, n_times)",
    "de": "DE tokens (batch, n_chans, n_bands)",
    "features": "feature vectors (any window features, flattened)",
    "peripheral": "peripheral feature vectors (batch, n_features) + time (+ self-reports)",
}


@dataclass(frozen=True)
class ModelSpec:
    """Where a model lives, what it reads, and settings to describe it with."""

    target: str  # "module:attribute"
    inputs: str  # a key of INPUTS
    summary: str
    example: dict = field(default_factory=dict)  # constructor arguments for `describe`

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
    ),
    "rbtransformer": ModelSpec(
        "physioemo.models.rbtransformer:RBTransformer",
        "de",
        "RBTransformer on band-DE tokens (arXiv 2511.13954), DREAMER binary",
        {"n_chans": 14, "n_outputs": 2},
    ),
    "pinn": ModelSpec(
        "physioemo.models.pinn:MultiTaskPINN",
        "peripheral",
        "multi-task EDA PINN (arXiv 2505.18169; design ours), WESAD 3-class, 12 features",
        {"n_chans": 12, "n_outputs": 3},
    ),
    "dgcnn": ModelSpec(
        "physioemo.models.dgcnn:DGCNN",
        "de",
        "DGCNN, learnable adjacency on DE (Song et al. 2018), DREAMER binary",
        {"n_chans": 14, "n_outputs": 2},
    ),
    "eegnet": ModelSpec(
        "physioemo.models.eegnet:EEGNet",
        "raw",
        "EEGNet-8,2 (Lawhern et al. 2018), DREAMER binary",
        {**_DREAMER, "n_outputs": 2},
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
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(MODELS)}")
    return MODELS[name]


def create(
    name: str,
    n_chans: int | None = None,
    n_outputs: int | None = None,
    n_times: int | None = None,
    sfreq: float | None = None,
    ch_names: list[str] | None = None,
    **options,
):
    """A new, untrained model.

    Torch models take the shared signature (`models.base`; window_seconds among the
    options) plus their own options, and record them (`get_config()`) for checkpoints.
    Baselines ignore the shape arguments and take `seed`.
    """
    entry = spec(name)
    module, attribute = entry.target.split(":")
    factory = getattr(import_module(module), attribute)
    if entry.framework == "sklearn":
        return factory(name, **options)
    signature = {"n_times": n_times, "sfreq": sfreq, "ch_names": ch_names}
    return factory(n_chans=n_chans, n_outputs=n_outputs, **signature, **options)


def name_of(model) -> str:
    """The registry name of a torch model's class (e.g. "histn" for a `HiSTN`)."""
    target = f"{type(model).__module__}:{type(model).__qualname__}"
    for name, entry in MODELS.items():
        if entry.target == target:
            return name
    raise ValueError(f"{type(model).__name__} is not a registry model ({', '.join(MODELS)})")


def estimator(
    name: str,
    profile: str = "quick",
    n_classes: int | None = None,
    info: dict | None = None,
    seed: int | None = None,
    preset: str | None = None,
    threads: int | None = None,
):
    """An unfitted scikit-learn-style estimator of model `name`.

    profile: "quick" (the "<model>-quick" training preset) or "full" (the paper's recipe);
    preset: a named preset instead (e.g. "histn-si", which a paper protocol brings).
    info: the `WindowSet.info` of the inputs; raw-window models take its sfreq and ch_names.
    seed: None = the preset's own seed (RBTransformer 23), baselines 0.
    threads: torch CPU threads while fitting (None: the preset's, 1).
    Torch models give `training.TorchClassifier`, the PINN `training.PINNClassifier` (fit
    metadata t and eda), baselines a scikit-learn pipeline.
    """
    if profile not in ("quick", "full"):
        raise ValueError(f"profile must be 'quick' or 'full', got {profile!r}")
    entry = spec(name)
    if entry.framework == "sklearn":
        return create(name, seed=0 if seed is None else seed)
    from ..training import PINNClassifier, TorchClassifier

    preset = preset or (f"{name}-quick" if profile == "quick" else name)
    train_options = {} if threads is None else {"threads": threads}
    if name == "pinn":
        return PINNClassifier(
            preset=preset, n_classes=n_classes, seed=seed, train_options=train_options
        )
    options = {}
    if entry.inputs == "raw" and info:
        options = {"sfreq": float(info["sfreq"]), "ch_names": list(info["ch_names"])}
    return TorchClassifier(
        name,
        preset=preset,
        model_options=options,
        train_options=train_options,
        n_classes=n_classes,
        seed=seed,
    )


def describe(name: str) -> dict:
    """Name, inputs, summary and (torch models) parameter counts with the example settings."""
    entry = spec(name)
    info = {
        "model": name,
        "inputs": INPUTS[entry.inputs],
        "framework": entry.framework,
        "summary": entry.summary,
    }
    if entry.framework == "torch":
        from ._layers import count_parameters

        info["parameters"] = count_parameters(create(name, **entry.example))
        info["settings"] = entry.example
    return info
