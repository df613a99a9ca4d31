"""Dataset loaders: `load(name, root)` returns a `Dataset` read from the real distributed files."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from .base import Dataset

#: name -> "module:function" of each loader; imported only when used, so import stays fast.
LOADERS = {
    "dreamer": "physioemo.datasets.dreamer:load_dreamer",
    "deap": "physioemo.datasets.deap:load_deap",
    "seed": "physioemo.datasets.seed:load_seed",
    "seed-iv": "physioemo.datasets.seed:load_seed_iv",
    "wesad": "physioemo.datasets.wesad:load_wesad",
}


def available() -> list[str]:
    """Names `load` accepts."""
    return sorted(LOADERS)


def load(name: str, root: str | Path, **options) -> Dataset:
    """Load dataset `name` from `root` (its file or the folder that holds it)."""
    key = name.lower()
    if key not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(available())}")
    module, function = LOADERS[key].split(":")
    return getattr(import_module(module), function)(root, **options)


__all__ = ["Dataset", "available", "load"]
