"""Label schemes: from a trial's ratings to class labels.

* ``binary``: 1 (high) when rating >= threshold, else 0 (low). Each dataset's card
  (`physioemo.datasets.CARDS`) gives its scale and default threshold: DREAMER (ratings 1-5)
  threshold 3; DEAP (1-9) threshold 5 -- the TorchEEG/RBTransformer convention, `>=`.
* ``ordinal``: one class per scale point, ``int(rating) - low`` (DREAMER: score - 1, 5 classes;
  DEAP: continuous ratings truncated, 9 classes).
* categorical (`CategoricalScheme`, `categorical`): the rating is a category code (SEED's
  emotion, WESAD's condition); each class takes one or more codes, e.g. WESAD stress vs
  non-stress. Windows whose code belongs to no class are dropped with `keep` first.

`DatasetLabels` holds one dataset's schemes and rating dimensions; `make`, `scheme` and
`categorical` take it or a dataset's name (looked up on its card, see `use_registry`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: the schemes of every dataset rated on a scale, on each of its rating dimensions
RATED_SCHEMES = ("binary", "ordinal")


@dataclass(frozen=True)
class LabelScheme:
    """How one rating dimension becomes classes.

    dimension: the rating name ("valence", ...). kind: "binary" or "ordinal".
    low, high: the rating scale. threshold: binary cut (rating >= threshold is high).
    """

    dimension: str
    kind: str = "binary"
    low: int = 1
    high: int = 5
    threshold: float = 3.0

    def __post_init__(self):
        if self.kind not in RATED_SCHEMES:
            raise ValueError(f"label kind must be 'binary' or 'ordinal', got {self.kind!r}")
        if not self.low < self.threshold <= self.high:  # also refuses NaN
            raise ValueError(
                f"threshold {self.threshold} must lie in ({self.low}, {self.high}] on the "
                f"{self.dimension} scale, or every rating is one class"
            )

    @property
    def n_classes(self) -> int:
        return 2 if self.kind == "binary" else self.high - self.low + 1

    @property
    def ordinal(self) -> bool:
        """Whether the classes are ordered points of a scale (HiSTN's ordinal metrics apply)."""
        return self.kind == "ordinal"

    @property
    def class_names(self) -> list[str]:
        if self.kind == "binary":
            return [f"low (<{self.threshold:g})", f"high (>={self.threshold:g})"]
        return [str(r) for r in range(self.low, self.high + 1)]

    def keep(self, ratings: dict[str, np.ndarray]) -> np.ndarray:
        """Boolean mask of the windows this scheme labels: all of them (every rating counts)."""
        return np.ones(len(np.asarray(ratings[self.dimension])), dtype=bool)

    def __call__(self, ratings: dict[str, np.ndarray]) -> np.ndarray:
        """Class labels (int64) from a ratings mapping such as `WindowSet.ratings`."""
        if self.dimension not in ratings:
            raise KeyError(f"no rating {self.dimension!r}; available: {sorted(ratings)}")
        values = np.asarray(ratings[self.dimension], dtype=float)
        if np.isnan(values).any():
            raise ValueError(
                f"{np.isnan(values).sum()} {self.dimension} rating(s) are missing (NaN); "
                "drop those windows first"
            )
        if values.size and (values.min() < self.low or values.max() > self.high):
            raise ValueError(
                f"{self.dimension} ratings span {values.min()}..{values.max()}, "
                f"outside the scale {self.low}..{self.high}"
            )
        if self.kind == "binary":
            return (values >= self.threshold).astype(np.int64)
        return np.minimum(values.astype(np.int64) - self.low, self.high - self.low)


@dataclass(frozen=True)
class CategoricalScheme:
    """Classes from a rating that holds a category code.

    dimension: the rating name ("emotion", "condition"). class_names: one name per class.
    codes: per class, the rating codes it takes (class i is every window whose code is in
    codes[i]).
    """

    dimension: str
    class_names: tuple[str, ...]
    codes: tuple[tuple[int, ...], ...]

    def __post_init__(self):
        if len(self.class_names) != len(self.codes):
            raise ValueError("CategoricalScheme needs one tuple of codes per class name")
        flat = [code for codes in self.codes for code in codes]
        if len(flat) != len(set(flat)):
            raise ValueError(f"a code belongs to two classes: {self.codes}")

    ordinal = False

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def _values(self, ratings: dict[str, np.ndarray]) -> np.ndarray:
        if self.dimension not in ratings:
            raise KeyError(f"no rating {self.dimension!r}; available: {sorted(ratings)}")
        return np.asarray(ratings[self.dimension], dtype=float)

    def keep(self, ratings: dict[str, np.ndarray]) -> np.ndarray:
        """Boolean mask of the windows whose code belongs to a class."""
        flat = [code for codes in self.codes for code in codes]
        return np.isin(self._values(ratings), flat)

    def __call__(self, ratings: dict[str, np.ndarray]) -> np.ndarray:
        """Class labels (int64); every code must belong to a class (select with `keep`)."""
        values = self._values(ratings)
        labels = np.full(values.shape, -1, dtype=np.int64)
        for label, codes in enumerate(self.codes):
            labels[np.isin(values, codes)] = label
        if (labels < 0).any():
            stray = sorted(set(values[labels < 0].tolist()))
            raise ValueError(
                f"{self.dimension} codes {stray} belong to no class of {self.class_names}; "
                "select the windows with keep() first"
            )
        return labels


@dataclass(frozen=True)
class DatasetLabels:
    """The label schemes and rating dimensions of one dataset (a dataset card's `labels`).

    dataset: its registry name, named in errors. dimensions: every rating dimension; default:
    those `physioemo bench` uses unless told otherwise. scale: (lowest rating, highest rating,
    default binary threshold) of a dataset rated on a scale, whose schemes are "binary" and
    "ordinal" on every dimension; categorical: scheme name -> `CategoricalScheme` of a dataset
    whose rating is a category code (the first is its default). One of the two is given.
    """

    dataset: str
    dimensions: tuple[str, ...]
    default: tuple[str, ...]
    scale: tuple[int, int, float] | None = None
    categorical: dict[str, CategoricalScheme] = field(default_factory=dict)

    def __post_init__(self):
        if (self.scale is None) == (not self.categorical):
            raise ValueError(f"{self.dataset}: give a rating scale or categorical schemes")

    @property
    def schemes(self) -> tuple[str, ...]:
        """Its scheme names, the default first."""
        return RATED_SCHEMES if self.scale else tuple(self.categorical)

    def make(self, name: str, dimension: str, threshold: float | None = None):
        """The scheme `name` for one rating dimension (see the module's `make`)."""
        if name not in self.schemes:
            raise ValueError(
                f"{self.dataset} has no label scheme {name!r}; it has {', '.join(self.schemes)}"
            )
        if dimension not in self.dimensions:
            raise ValueError(
                f"{self.dataset} has no rating dimension {dimension!r}; "
                f"it has {', '.join(self.dimensions)}"
            )
        if self.scale:
            return self.rated(dimension, name, threshold)
        if threshold is not None:
            raise ValueError(
                f"--threshold applies to rating scales; {self.dataset} labels are categories"
            )
        return self.category(name)

    def rated(self, dimension: str, kind: str = "binary", threshold: float | None = None):
        """The `LabelScheme` of `dimension` on the dataset's scale (threshold overridable)."""
        if self.scale is None:
            raise ValueError(
                f"no rating scale known for {self.dataset!r}; its labels are categories"
            )
        low, high, default = self.scale
        return LabelScheme(dimension, kind, low, high, default if threshold is None else threshold)

    def category(self, name: str | None = None) -> CategoricalScheme:
        """The categorical scheme `name` (default: the first, e.g. SEED 3-class)."""
        if not self.categorical:
            raise ValueError(f"no categorical labels known for {self.dataset!r}; it is rated")
        name = name or next(iter(self.categorical))
        if name not in self.categorical:
            raise ValueError(
                f"{self.dataset} has no label scheme {name!r}; "
                f"available: {sorted(self.categorical)}"
            )
        return self.categorical[name]


def output_names(scheme) -> list[str]:
    """The names of a model's outputs under `scheme`, one naming everywhere (checkpoints, the
    live stand-in model, live views): a rated class with its dimension ("arousal high (>=3)"),
    a category as it is ("stress")."""
    if isinstance(scheme, LabelScheme):
        return [f"{scheme.dimension} {name}" for name in scheme.class_names]
    return list(scheme.class_names)


#: dataset name -> its `DatasetLabels`, for the functions below that take a name. Core cannot
#: import the datasets layer, so `physioemo.datasets` installs its card lookup here when it is
#: imported (and ``import physioemo`` imports it).
_lookup: Callable[[str], DatasetLabels] | None = None


def use_registry(lookup: Callable[[str], DatasetLabels]) -> None:
    """Look dataset names up with `lookup` (`physioemo.datasets` installs its cards')."""
    global _lookup
    _lookup = lookup


def _labels(dataset: str | DatasetLabels) -> DatasetLabels:
    return dataset if isinstance(dataset, DatasetLabels) else _lookup(dataset)


def make(dataset: str | DatasetLabels, name: str, dimension: str, threshold: float | None = None):
    """The scheme `name` of `dataset` (a name or its `DatasetLabels`) for one rating
    dimension: a `LabelScheme` (rated datasets) or a `CategoricalScheme`; both have
    keep(ratings), __call__(ratings), n_classes, class_names and ordinal. Raises ValueError
    naming what the dataset offers."""
    return _labels(dataset).make(name, dimension, threshold)


def scheme(
    dataset: str | DatasetLabels,
    dimension: str,
    kind: str = "binary",
    threshold: float | None = None,
) -> LabelScheme:
    """The `LabelScheme` of `dimension` on `dataset`'s rating scale (threshold overridable)."""
    return _labels(dataset).rated(dimension, kind, threshold)


def categorical(dataset: str | DatasetLabels, name: str | None = None) -> CategoricalScheme:
    """The categorical scheme `name` of `dataset` (default: its first, e.g. SEED 3-class)."""
    return _labels(dataset).category(name)
