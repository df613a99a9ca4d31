"""Checkpoints that are enough to run a model later, live or offline.

A checkpoint is a ``torch.save`` of plain data: the model's state dict and a `meta` dict
(JSON-compatible) with at least

* ``model``: registry name; ``args``: the constructor arguments (the model's `get_config()`);
* ``ch_names``: input channel order;
* ``features``: {"kind": "de" | "raw", "window", "stride", "bands", "sfreq", "baseline"};
* ``labels``: the label scheme (e.g. {"dimension", "kind", "threshold", "classes"});
* optionally ``standardize``: {"mean", "std"} applied to inputs before the model.

It is read back with ``torch.load(weights_only=True)``: no pickle code runs. Before the model
is built, `load_checkpoint` checks every size the file declares against a stated limit, so a
file cannot make it allocate without bound: the shared arguments against `ARG_LIMITS`, the
model's own size options against its class's ``SIZE_LIMITS`` (e.g. RBTransformer's depth <= 12,
dim <= 512), other options against `OPTION_LIMIT`, and the weights against `PARAMETER_LIMIT`.
It checks the metadata against the model (`training.metadata`: distinct channel names, one per
input; distinct class names, one per output; features the model reads; a torch model of the
registry) and refuses NaN or infinite weights.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from ..errors import clean
from ..models._layers import Standardized
from ..models.registry import MODELS, factory_of, name_of
from . import metadata

REQUIRED = ("model", "args", "ch_names", "features", "labels")
#: shared constructor arguments -> (lowest, highest); None is allowed where models infer them
ARG_LIMITS = {
    "n_chans": (1, 1024),
    "n_outputs": (1, 1000),
    "n_times": (1, metadata.SAMPLES_LIMIT),
    "sfreq": metadata.RATE_LIMITS,
}
#: bounds on a model's other arguments (those its SIZE_LIMITS do not list): magnitude, text
#: length, elements
OPTION_LIMIT, TEXT_LIMIT, ITEMS_LIMIT = 4096, 256, 10_000
#: numbers a checkpoint's weights may hold in all (4 bytes each: 256 MB); every model at all
#: of its SIZE_LIMITS stays below it
PARAMETER_LIMIT = 2**26


def save_checkpoint(path, model: torch.nn.Module, meta: dict) -> Path:
    """Write `model` (a registry model, or one wrapped in `Standardized`) and `meta` to path.

    "model" and "args" default to the model's registry name and recorded constructor
    arguments (`models.base.SignatureMixin`), however it was built; "standardize" to the
    wrapper's statistics. Raises ValueError naming a missing key, a value that is not plain
    data, or metadata that does not fit the model (`_check_meta`: what loading refuses).
    """
    core = model.model if isinstance(model, Standardized) else model
    if hasattr(core, "get_config"):
        meta = {"model": name_of(core), "args": core.get_config(), **meta}
    if isinstance(model, Standardized):
        meta["standardize"] = {"mean": model.mean.tolist(), "std": model.std.tolist()}
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        raise ValueError(f"checkpoint meta lacks {missing} (needs {list(REQUIRED)})")
    try:
        meta = json.loads(json.dumps(meta))
    except TypeError as error:
        raise ValueError(f"checkpoint meta must be plain data: {error}") from error
    path = Path(path)
    _check_meta(meta, meta["args"], _torch_model(meta["model"], path), path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in core.state_dict().items()}
    torch.save({"format": "physioemo-checkpoint-1", "state_dict": state, "meta": meta}, path)
    return path


def load_checkpoint(path, device: str = "cpu") -> tuple[torch.nn.Module, dict]:
    """(model in eval mode, meta) from a checkpoint written by `save_checkpoint`.

    The model takes inputs as the features describe them (scaling included when the
    checkpoint has "standardize"). Raises FileNotFoundError, or ValueError naming the file and
    the key when the file is not a readable physioemo checkpoint, torch's weights-only loader
    refuses it, a constructor argument is out of bounds, or a weight is NaN or infinite.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    content = _read(path, device)
    meta, state = content.get("meta"), content.get("state_dict")
    if not isinstance(meta, dict) or not isinstance(state, dict):
        raise ValueError(f"{path}: key meta or state_dict is missing or not a dict")
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        raise ValueError(f"{path}: key meta lacks {', '.join(missing)}")
    name = _torch_model(meta["model"], path)
    args = _check_args(meta["args"], path, name)
    _check_meta(meta, args, name, path)
    _check_state(state, path)
    scaling = meta.get("standardize")
    if scaling is not None:
        _check_scaling(scaling, path)
    model = _build(name, args, path)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:  # torch lists every mismatched key over many lines
        first = clean(str(error).strip().splitlines()[-1], 200)
        raise ValueError(f"{path}: key state_dict does not fit {name}: {first}") from None
    if scaling is not None:
        model = Standardized(model, scaling["mean"], scaling["std"])
    return model.to(device).eval(), meta


def _torch_model(name, path: Path) -> str:
    """meta.model: the name of a torch model of the registry."""
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"{path}: key meta.model: unknown model {clean(name, 40)!r}")
    if MODELS[name].framework != "torch":
        raise ValueError(f"{path}: key meta.model: {name} is not a torch model")
    return name


def _check_meta(meta: dict, args: dict, name: str, path: Path) -> None:
    """Channel names, class names and feature kind consistent with the model's arguments."""
    n_chans = args.get("n_chans")
    if n_chans is None and isinstance(args.get("ch_names"), list):
        n_chans = len(args["ch_names"])
    metadata.check_names(path, meta, n_chans)
    metadata.check_classes(path, meta, args.get("n_outputs"))
    metadata.check_kind(path, meta, name, MODELS[name].inputs)
    metadata.check_features(path, meta, args.get("n_bands"), args.get("n_times"))


def _build(name: str, args: dict, path: Path) -> torch.nn.Module:
    """The model `name` built from checked arguments; ValueError in one line when they do not
    make one (an argument of another model, a value of the wrong type)."""
    from ..models import create

    try:
        return create(name, **args)
    except (TypeError, ValueError, RuntimeError) as error:
        reason = clean(str(error).strip().splitlines()[0] if str(error).strip() else "", 160)
        raise ValueError(
            f"{path}: key meta.args: {name} cannot be built from them "
            f"({type(error).__name__}: {reason})"
        ) from None


def _read(path: Path, device: str) -> dict:
    """The checkpoint's top-level dict, or ValueError in one line naming the file."""
    import pickle

    try:
        content = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(
            f"{path}: refused by torch's weights-only loader ({_reason(error)})"
        ) from None
    except (RuntimeError, OSError, EOFError, ValueError, MemoryError) as error:
        raise ValueError(
            f"{path}: not a readable checkpoint ({type(error).__name__}: {_reason(error)})"
        ) from None
    if not isinstance(content, dict) or content.get("format") != "physioemo-checkpoint-1":
        raise ValueError(f"{path} is not a physioemo checkpoint")
    return content


def _reason(error: BaseException) -> str:
    """The informative line of torch's many-line loading errors."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    boilerplate = ("Weights only load failed", "Check the documentation", "Please file an issue")
    useful = [line for line in lines if not line.startswith(boilerplate)]
    return clean((useful or lines or [type(error).__name__])[0], 160)


def _check_args(args, path: Path, name: str) -> dict:
    """Refuse constructor arguments model `name` should not be built from, naming the key and
    the limit; returns them."""
    if not isinstance(args, dict) or not all(isinstance(key, str) for key in args):
        raise ValueError(f"{path}: key meta.args: expected a dict of named arguments")
    limits = {**ARG_LIMITS, **getattr(factory_of(name), "SIZE_LIMITS", {})}
    for key, value in args.items():
        where = f"{path}: key meta.args.{clean(key, 40)}"
        if key in limits:
            if value is None and key not in ("n_chans", "n_outputs"):
                continue  # the model infers it
            low, high = limits[key]
            number = (int, float) if key == "sfreq" else int
            if (
                not isinstance(value, number)
                or isinstance(value, bool)
                or not math.isfinite(value)
                or not low <= value <= high
            ):
                kind = "a number" if key == "sfreq" else "a whole number"
                raise ValueError(
                    f"{where}: {clean(repr(value), 40)} is not {kind} in {low:g}..{high:g} "
                    f"({name}'s limit)"
                )
        elif key == "ch_names":
            n = args.get("n_chans")
            if value is not None and (not _texts(value) or len(value) != n):
                raise ValueError(f"{where}: expected {n} channel names")
        else:
            _check_option(value, where)
    return args


def _texts(value) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, str) and len(item) <= TEXT_LIMIT for item in value
    )


def _check_option(value, where: str, depth: int = 0) -> int:
    """Refuse a model option that is not small plain data; returns how many items it holds."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > OPTION_LIMIT:
            raise ValueError(
                f"{where}: {clean(value, 40)} is out of bounds (|x| <= {OPTION_LIMIT})"
            )
        return 1
    if isinstance(value, str):
        if len(value) > TEXT_LIMIT:
            raise ValueError(f"{where}: text longer than {TEXT_LIMIT} characters")
        return 1
    if isinstance(value, list | dict) and depth < 3:
        items = value.values() if isinstance(value, dict) else value
        keys = [key for key in value if not isinstance(key, str)] if isinstance(value, dict) else []
        count = sum(_check_option(item, where, depth + 1) for item in items)
        if keys or count > ITEMS_LIMIT:
            raise ValueError(f"{where}: expected at most {ITEMS_LIMIT} named plain values")
        return count + 1
    raise ValueError(f"{where}: a {clean(type(value).__name__, 40)} is not a model option")


def _check_state(state: dict, path: Path) -> None:
    """Tensors only, at most `PARAMETER_LIMIT` numbers in all, none NaN or infinite."""
    if not all(isinstance(tensor, torch.Tensor) for tensor in state.values()):
        key = next(k for k, v in state.items() if not isinstance(v, torch.Tensor))
        raise ValueError(f"{path}: key state_dict.{clean(key, 80)} is not a tensor")
    numbers = sum(tensor.numel() for tensor in state.values())
    if numbers > PARAMETER_LIMIT:
        raise ValueError(
            f"{path}: key state_dict: {numbers:,} weights, more than the limit of "
            f"{PARAMETER_LIMIT:,}"
        )
    for key, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ValueError(
                f"{path}: key state_dict.{clean(key, 80)} holds NaN or infinite weights"
            )


def _check_scaling(scaling, path: Path) -> None:
    """`standardize` must be finite means and positive finite standard deviations."""
    try:
        mean = torch.as_tensor(scaling["mean"], dtype=torch.float64)
        std = torch.as_tensor(scaling["std"], dtype=torch.float64)
    except (TypeError, KeyError, ValueError, RuntimeError):
        raise ValueError(f"{path}: key meta.standardize: expected numeric mean and std") from None
    if not (torch.isfinite(mean).all() and torch.isfinite(std).all() and (std > 0).all()):
        raise ValueError(f"{path}: key meta.standardize: mean or std is NaN, infinite or std <= 0")
