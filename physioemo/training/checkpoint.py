"""Checkpoints that are enough to run a model later, live or offline.

A checkpoint is a ``torch.save`` of plain data: the model's state dict and a `meta` dict
(JSON-compatible) with at least

* ``model``: registry name; ``args``: the constructor arguments (the model's `get_config()`);
* ``ch_names``: input channel order;
* ``features``: {"kind": "de" | "raw", "window", "stride", "bands", "sfreq", "baseline"};
* ``labels``: the label scheme (e.g. {"dimension", "kind", "threshold", "classes"});
* optionally ``standardize``: {"mean", "std"} applied to inputs before the model.

It is read back with ``torch.load(weights_only=True)``: no pickle code runs. `load_checkpoint`
checks the constructor arguments against `ARG_LIMITS` before the model is built (so a file
cannot make it allocate without bound) and refuses NaN or infinite weights.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from ..errors import clean
from ..models._layers import Standardized
from ..models.registry import name_of

REQUIRED = ("model", "args", "ch_names", "features", "labels")
#: shared constructor arguments -> (lowest, highest); None is allowed where models infer them
ARG_LIMITS = {
    "n_chans": (1, 1024),
    "n_outputs": (1, 1000),
    "n_times": (1, 1_000_000),
    "sfreq": (1e-3, 100_000.0),
}
#: bounds on a model's own arguments (sizes, depths, rates): magnitude, text length, elements
OPTION_LIMIT, TEXT_LIMIT, ITEMS_LIMIT = 4096, 256, 10_000


def save_checkpoint(path, model: torch.nn.Module, meta: dict) -> Path:
    """Write `model` (a registry model, or one wrapped in `Standardized`) and `meta` to path.

    "model" and "args" default to the model's registry name and recorded constructor
    arguments (`models.base.SignatureMixin`), however it was built; "standardize" to the
    wrapper's statistics. Raises ValueError naming a missing key or a value that is not plain
    data.
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
    from ..models import available, create

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
    if meta["model"] not in available():
        raise ValueError(f"{path}: key meta.model: unknown model {clean(meta['model'], 40)!r}")
    _check_args(meta["args"], path)
    _check_finite(state, path)
    scaling = meta.get("standardize")
    if scaling is not None:
        _check_scaling(scaling, path)
    model = create(meta["model"], **meta["args"])
    try:
        model.load_state_dict(state)
    except RuntimeError as error:  # torch lists every mismatched key over many lines
        first = clean(str(error).strip().splitlines()[-1], 200)
        raise ValueError(f"{path}: key state_dict does not fit {meta['model']}: {first}") from None
    if scaling is not None:
        model = Standardized(model, scaling["mean"], scaling["std"])
    return model.to(device).eval(), meta


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


def _check_args(args, path: Path) -> None:
    """Refuse constructor arguments a model should not be built from, naming the key."""
    if not isinstance(args, dict) or not all(isinstance(key, str) for key in args):
        raise ValueError(f"{path}: key meta.args: expected a dict of named arguments")
    for key, value in args.items():
        where = f"{path}: key meta.args.{clean(key, 40)}"
        if key in ARG_LIMITS:
            low, high = ARG_LIMITS[key]
            number = int if key != "sfreq" else (int, float)
            if value is None and key in ("n_times", "sfreq"):
                continue
            if (
                not isinstance(value, number)
                or isinstance(value, bool)
                or not math.isfinite(value)
                or not low <= value <= high
            ):
                raise ValueError(f"{where}: {clean(value, 40)} is not in {low:g}..{high:g}")
        elif key == "ch_names":
            n = args.get("n_chans")
            if value is not None and (not _texts(value) or len(value) != n):
                raise ValueError(f"{where}: expected {n} channel names")
        else:
            _check_option(value, where)


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


def _check_finite(state: dict, path: Path) -> None:
    for key, tensor in state.items():
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"{path}: key state_dict.{clean(key, 80)} is not a tensor")
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
