"""Label schemes: from a trial's ratings to class labels.

* ``binary``: 1 (high) when rating >= threshold, else 0 (low). Defaults per dataset:
  DREAMER (ratings 1-5) threshold 3; DEAP (1-9) threshold 5 -- the TorchEEG/RBTransformer
  convention, `>=`.
* ``ordinal``: one class per scale point, ``int(rating) - low`` (DREAMER: score - 1, 5 classes;
  DEAP: continuous ratings truncated, 9 classes).
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

    @property
    def n_classes(self) -> int:
        return 2 if self.kind == "binary" else self.high - self.low + 1

    @property
    def class_names(self) -> list[str]:
        if self.kind == "binary":
            return [f"low (<{self.threshold:g})", f"high (>={self.threshold:g})"]
        return [str(r) for r in range(self.low, self.high + 1)]

    def __call__(self, ratings: dict[str, np.ndarray]) -> np.ndarray:
        """Class labels (int64) from a ratings mapping such as `WindowSet.ratings`."""
        if self.dimension not in ratings:
            raise KeyError(f"no rating {self.dimension!r}; available: {sorted(ratings)}")
        values = np.asarray(ratings[self.dimension], dtype=float)
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
