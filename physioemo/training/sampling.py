"""Which rows a fit trains and validates on, and how its batches draw them.

Units are trials (rows alone without groups): `carve_validation` holds out whole ones,
`validation_problem` says why given validation rows cannot choose an epoch, `window_positions`
counts the crop starts and segments an epoch length is derived from, and `Sampler` draws the
index batches (shuffled passes, or class-balanced draws). `class_weights` and `smote` balance the
classes when a config asks (see `trainer` for the behaviour of a fit).
"""

from __future__ import annotations

import numpy as np
import torch

from ..recording import trial_keys


def unit_keys(groups, n: int) -> np.ndarray:
    """One key per row naming its unit: trial keys of structured groups, the labels of plain
    groups, or the row itself without groups."""
    if groups is None:
        return np.arange(n).astype(str)
    if getattr(groups, "dtype", None) is not None and groups.dtype.names:
        return trial_keys(groups)
    return np.asarray(groups).astype(str)


def carve_validation(groups, y, fraction: float, seed: int = 0):
    """(fit_positions, val_positions) with about `fraction` of the groups held out, whole
    groups only: a stand-in for a protocol's inner split in scripts and tests.

    groups: a `WindowSet.groups` structured array (split by trial) or one label per sample.
    The held-out groups are drawn per class of their first sample (stratified) when every
    class has at least two groups; a single group cannot be split and gives no validation.
    """
    keys = unit_keys(groups, len(y))
    unique, first = np.unique(keys, return_index=True)
    if unique.size < 2 or fraction <= 0:
        return np.arange(len(keys)), np.array([], dtype=int)
    rng = np.random.default_rng(seed)
    labels = np.asarray(y)[first]
    held = []
    strata = [unique[labels == c] for c in np.unique(labels)]
    if min(len(s) for s in strata) < 2:
        strata = [unique]
    for members in strata:
        n = max(1, int(round(fraction * len(members))))
        held.extend(rng.choice(members, size=min(n, len(members) - 1), replace=False))
    is_val = np.isin(keys, held)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def validation_problem(y, fit_rows: np.ndarray, val: np.ndarray, groups) -> str | None:
    """Why the validation rows cannot choose an epoch ("1 trial, class 1 missing"), or None."""
    units = np.unique(unit_keys(None if groups is None else groups[val], val.size)).size
    missing = [] if y is None else sorted(set(np.asarray(y)[fit_rows]) - set(np.asarray(y)[val]))
    if units >= 2 and not missing:
        return None
    noun = "trial" if groups is not None else "row"
    parts = [f"{units} {noun}{'s' if units != 1 else ''}"]
    if missing:
        parts.append(f"class {', '.join(str(int(c)) for c in missing)} missing")
    return ", ".join(parts)


def window_positions(groups: np.ndarray) -> tuple[int, int]:
    """(crop starts, segments) the windows of `groups` cover.

    Per trial, windows that overlap or touch (next start <= previous stop) form one run. A run
    offers every start from its first window's start to its last's (crop starts), and holds
    floor(run length / window length) non-overlapping windows (segments).
    """
    keys = trial_keys(groups)
    order = np.lexsort((groups["start"], keys))
    keys, starts, stops = keys[order], groups["start"][order], groups["stop"][order]
    new_run = np.r_[True, (keys[1:] != keys[:-1]) | (starts[1:] > stops[:-1])]
    firsts = np.flatnonzero(new_run)
    lasts = np.r_[firsts[1:] - 1, len(starts) - 1]
    length = stops[firsts] - starts[firsts]
    spans = starts[lasts] - starts[firsts]
    return int(np.sum(spans + 1)), int(np.sum((spans + length) // length))


class Sampler:
    """Index batches: shuffled passes, or class-balanced draws (class, then trial, then row)."""

    def __init__(self, y, groups, sampling: str, rng: np.random.Generator):
        self.rng, self.sampling = rng, sampling
        self.n = len(y) if y is not None else None
        if sampling == "balanced":
            if y is None:
                raise ValueError("balanced sampling needs labels y")
            self._units(np.asarray(y), groups)

    def _units(self, y: np.ndarray, groups) -> None:
        """Units = (trial, label) pairs (rows alone without groups), listed per class."""
        keys = unit_keys(groups, len(y))
        _, trial = np.unique(keys, return_inverse=True)
        _, unit = np.unique(trial * (y.max() + 1) + y, return_inverse=True)
        self.order = np.argsort(unit, kind="stable")
        self.counts = np.bincount(unit)
        self.offsets = np.r_[0, np.cumsum(self.counts)[:-1]]
        label = y[self.order[self.offsets]]
        self.classes = np.unique(label)
        self.units_of = {c: np.flatnonzero(label == c) for c in self.classes}

    def batches(self, steps: int, batch_size: int) -> list[torch.Tensor]:
        """`steps` index batches: balanced draws, or passes over shuffled rows (each pass
        ends with its partial batch; a pass cut short by `steps` is not resumed)."""
        if self.sampling == "balanced":
            return list(torch.as_tensor(self._balanced(steps * batch_size)).split(batch_size))
        batches = []
        while len(batches) < steps:
            batches += torch.as_tensor(self.rng.permutation(self.n)).split(batch_size)
        return batches[:steps]

    def _balanced(self, total: int) -> np.ndarray:
        labels = self.rng.choice(self.classes, size=total)
        rows = np.empty(total, dtype=np.int64)
        for c in self.classes:
            where = np.flatnonzero(labels == c)
            units = self.units_of[c][self.rng.integers(len(self.units_of[c]), size=where.size)]
            within = np.floor(self.rng.random(where.size) * self.counts[units]).astype(np.int64)
            rows[where] = self.order[self.offsets[units] + within]
        return rows


def class_weights(y: np.ndarray, n_classes: int, kind: str = "balanced") -> np.ndarray:
    """Per-class loss weights, 0 for absent classes.

    "balanced": n / (K n_k) over the K classes present (scikit-learn's); "max": max_k n_k / n_k
    (the HiSTN subject-independent fine-tuning's).
    """
    counts = np.bincount(y, minlength=n_classes).astype(float)
    present = counts > 0
    weights = np.zeros(n_classes)
    if kind == "max":
        weights[present] = counts.max() / counts[present]
    else:
        weights[present] = len(y) / (present.sum() * counts[present])
    return weights


def smote(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """SMOTE (imbalanced-learn) on flattened samples; needs the optional `imbalanced-learn`."""
    try:
        from imblearn.over_sampling import SMOTE
    except ImportError as error:
        raise ImportError(
            "smote=True needs imbalanced-learn: pip install 'physioemo[smote]'"
        ) from error
    smallest = np.bincount(y)[np.bincount(y) > 0].min()
    if smallest < 2 or np.unique(y).size < 2:
        return x, y
    sampler = SMOTE(random_state=seed, k_neighbors=min(5, smallest - 1))
    flat, labels = sampler.fit_resample(x.reshape(len(x), -1), y)
    return flat.reshape(-1, *x.shape[1:]).astype(x.dtype), labels
