"""Label schemes: from a trial's ratings to class labels.

* ``binary``: 1 (high) when rating >= threshold, else 0 (low). Defaults per dataset:
  DREAMER (ratings 1-5) threshold 3; DEAP (1-9) threshold 5 -- the TorchEEG/RBTransformer
  convention, `>=`.
* ``ordinal``: one class per scale point, ``int(rating) - low`` (DREAMER: score - 1, 5 classes;
  DEAP: continuous ratings truncated, 9 classes).
* categorical (`CategoricalScheme`, `categorical`): the rating is a category code (SEED's
  emotion, WESAD's condition); each class takes one or more codes, e.g. WESAD stress vs
  non-stress. Windows whose code belongs to no class are dropped with `keep` first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: dataset -> (lowest rating, highest rating, default binary threshold)
SCALES = {"dreamer": (1, 5, 3.0), "deap": (1, 9, 5.0)}


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
        if self.kind not in ("binary", "ordinal"):
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


def scheme(dataset: str, dimension: str, kind: str = "binary", threshold: float | None = None):
    """The `LabelScheme` of `dimension` on `dataset`'s rating scale (threshold overridable)."""
    if dataset not in SCALES:
        raise ValueError(f"no rating scale known for {dataset!r}; known: {sorted(SCALES)}")
    low, high, default = SCALES[dataset]
    return LabelScheme(dimension, kind, low, high, default if threshold is None else threshold)


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


#: dataset -> scheme name -> categorical scheme. SEED ratings hold label.mat's value + 1,
#: SEED-IV its 0-3 label; WESAD's "condition" holds the label code of the segment.
CATEGORICAL = {
    "seed": {
        "3-class": CategoricalScheme(
            "emotion", ("negative", "neutral", "positive"), ((0,), (1,), (2,))
        ),
    },
    "seed-iv": {
        "4-class": CategoricalScheme(
            "emotion", ("neutral", "sad", "fear", "happy"), ((0,), (1,), (2,), (3,))
        ),
    },
    "wesad": {
        # Schmidt et al. (2018): 3-class, and binary stress vs non-stress (baseline + amusement)
        "3-class": CategoricalScheme(
            "condition", ("baseline", "stress", "amusement"), ((1,), (2,), (3,))
        ),
        "binary": CategoricalScheme("condition", ("non-stress", "stress"), ((1, 3), (2,))),
        # ours: the 3 classes plus meditation
        "4-class": CategoricalScheme(
            "condition",
            ("baseline", "stress", "amusement", "meditation"),
            ((1,), (2,), (3,), (4,)),
        ),
    },
}


def categorical(dataset: str, name: str | None = None) -> CategoricalScheme:
    """The categorical scheme `name` of `dataset` (default: its first, e.g. SEED 3-class)."""
    if dataset not in CATEGORICAL:
        raise ValueError(
            f"no categorical labels known for {dataset!r}; known: {sorted(CATEGORICAL)}"
        )
    schemes = CATEGORICAL[dataset]
    name = name or next(iter(schemes))
    if name not in schemes:
        raise ValueError(f"{dataset} has no label scheme {name!r}; available: {sorted(schemes)}")
    return schemes[name]


@dataclass(frozen=True)
class DatasetLabels:
    """The label schemes and rating dimensions of one dataset; the first `default` dimensions
    and the first scheme are what `physioemo bench` uses unless told otherwise."""

    dimensions: tuple[str, ...]
    default: tuple[str, ...]
    schemes: tuple[str, ...]


#: dataset -> its label schemes (by name) and rating dimensions: the one list the CLI and the
#: experiment files read. Rated datasets have "binary" and "ordinal" on each rating dimension;
#: SEED, SEED-IV and WESAD their categorical schemes (`CATEGORICAL`).
DATASETS = {
    "dreamer": DatasetLabels(
        ("valence", "arousal", "dominance"), ("valence", "arousal"), ("binary", "ordinal")
    ),
    "deap": DatasetLabels(
        ("valence", "arousal", "dominance", "liking"), ("valence", "arousal"), ("binary", "ordinal")
    ),
    "seed": DatasetLabels(("emotion",), ("emotion",), tuple(CATEGORICAL["seed"])),
    "seed-iv": DatasetLabels(("emotion",), ("emotion",), tuple(CATEGORICAL["seed-iv"])),
    "wesad": DatasetLabels(("condition",), ("condition",), tuple(CATEGORICAL["wesad"])),
}

#: every label scheme name of any dataset
SCHEME_NAMES = tuple(dict.fromkeys(name for d in DATASETS.values() for name in d.schemes))


def make(dataset: str, name: str, dimension: str, threshold: float | None = None):
    """The scheme `name` of `dataset` for one rating dimension: a `LabelScheme` (rated datasets)
    or a `CategoricalScheme`; both have keep(ratings), __call__(ratings), n_classes, class_names
    and ordinal. Raises ValueError naming what the dataset offers."""
    if dataset not in DATASETS:
        raise ValueError(f"no label schemes known for {dataset!r}; known: {sorted(DATASETS)}")
    known = DATASETS[dataset]
    if name not in known.schemes:
        raise ValueError(
            f"{dataset} has no label scheme {name!r}; it has {', '.join(known.schemes)}"
        )
    if dimension not in known.dimensions:
        raise ValueError(
            f"{dataset} has no rating dimension {dimension!r}; it has {', '.join(known.dimensions)}"
        )
    if dataset in SCALES:
        return scheme(dataset, dimension, name, threshold)
    if threshold is not None:
        raise ValueError(f"--threshold applies to rating scales; {dataset} labels are categories")
    return categorical(dataset, name)
