"""Datasets: `load(name, root)` returns a `Dataset` read from the real distributed files.

Each dataset is one `DatasetCard` in `CARDS` (loader, synthetic writer, label schemes, modalities,
stimuli, default sizes and models); `card(name)` finds it.
"""

from __future__ import annotations

from pathlib import Path

from .. import labels
from .base import Dataset
from .cards import CARDS, DatasetCard


def card(name: str) -> DatasetCard:
    """The card of dataset `name` (any case); ValueError naming the known ones."""
    key = name.lower()
    if key not in CARDS:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(available())}")
    return CARDS[key]


def available() -> list[str]:
    """Names `load` accepts."""
    return sorted(CARDS)


def load(name: str, root: str | Path, **options) -> Dataset:
    """Load dataset `name` from `root` (its file or the folder that holds it)."""
    return card(name).load(root, **options)


def scheme_names() -> tuple[str, ...]:
    """Every label scheme name of any dataset, in card order."""
    return tuple(dict.fromkeys(name for c in CARDS.values() for name in c.labels.schemes))


labels.use_registry(lambda name: card(name).labels)

__all__ = ["CARDS", "Dataset", "DatasetCard", "available", "card", "load", "scheme_names"]
