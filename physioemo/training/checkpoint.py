"""Checkpoints that are enough to run a model later, live or offline.

A checkpoint is a ``torch.save`` of plain data: the model's state dict and a `meta` dict
(JSON-compatible) with at least

* ``model``: registry name; ``args``: the constructor arguments (the model's `get_config()`);
* ``ch_names``: input channel order;
* ``features``: {"kind": "de" | "raw", "window", "stride", "bands", "sfreq", "baseline"};
* ``labels``: the label scheme (e.g. {"dimension", "kind", "threshold", "classes"});
* optionally ``standardize``: {"mean", "std"} applied to inputs before the model.

It is read back with ``torch.load(weights_only=True)``: no pickle code runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..models._layers import Standardized
from ..models.registry import name_of

REQUIRED = ("model", "args", "ch_names", "features", "labels")


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
    checkpoint has "standardize").
    """
    from ..models import create

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    content = torch.load(path, map_location=device, weights_only=True)
    if not isinstance(content, dict) or content.get("format") != "physioemo-checkpoint-1":
        raise ValueError(f"{path} is not a physioemo checkpoint")
    meta = content["meta"]
    model = create(meta["model"], **meta["args"])
    model.load_state_dict(content["state_dict"])
    if "standardize" in meta:
        model = Standardized(model, meta["standardize"]["mean"], meta["standardize"]["std"])
    return model.to(device).eval(), meta
