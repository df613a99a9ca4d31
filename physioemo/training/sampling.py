"""Which rows a fit trains and validates on, and how its batches draw them.

Units are trials (rows alone without groups): `carve_validation` holds out whole ones,
`validation_problem` says why given validation rows cannot choose an epoch, `window_positions`
counts the crop starts and segments an epoch length is derived from, and `Sampler` draws the
index batches (shuffled passes, or class-balanced draws). `class_weights` and `smote` balance the
classes when a config asks (see `trainer` for the behaviour of a fit).

Rows are read where they are, never copied as a whole: `RowView` is some rows of an array
(e.g. a memory-mapped feature set) and `Table` gathers each batch from its arrays on demand.
"""

from __future__ import annotations

import math

import numpy as np

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


def epoch_length(steps, n_rows: int, groups):
    """(batch size -> batches per epoch, a note for the report) of `TrainConfig.steps_per_epoch`
    `steps`: a fixed count, "crops" or "segments" (`window_positions` / batch size, when the
    windows' positions are known), or one pass over the `n_rows` training rows."""
    if isinstance(steps, int):
        return (lambda _: steps), f"{steps} batches"
    if steps in ("crops", "segments") and groups is not None:
        crops, segments = window_positions(groups)
        count = crops if steps == "crops" else segments
        note = f"{steps} / batch size ({count} {steps})"
        return (lambda size: max(1, round(count / size))), note
    note = "one pass over the training rows"
    if steps in ("crops", "segments"):
        note += f" (no window positions to count {steps})"
    return (lambda size: math.ceil(n_rows / size)), note


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

    def batches(self, steps: int, batch_size: int) -> list:
        """`steps` index batches (int64 tensors): balanced draws, or passes over shuffled
        rows (each pass ends with its partial batch; a pass cut short by `steps` is not
        resumed)."""
        import torch

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


class RowView:
    """Rows `index` of `array` (n, ...), read lazily: ``view[i]`` is ``array[index[i]]`` and
    ``np.asarray(view)`` gathers them all. A fold hands its training rows to a fit this way,
    so a worker holds one batch of them at a time instead of a copy of all of them."""

    def __init__(self, array, index):
        self.array, self.index = array, np.asarray(index, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.array.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def ndim(self) -> int:
        return self.array.ndim

    def __getitem__(self, key):
        index = self.index[key]
        if np.ndim(index) == 0:
            return self.array[int(index)]
        return RowView(self.array, index) if isinstance(key, slice) else self.array[index]

    def __array__(self, dtype=None, copy=None):
        gathered = np.asarray(self.array[self.index])
        return gathered if dtype is None else gathered.astype(dtype, copy=False)


def gather(array, rows) -> np.ndarray:
    """array[rows] as a NumPy array, for a NumPy array, a memory map or a `RowView`."""
    return np.asarray(array[np.asarray(rows, dtype=np.int64)])


#: values (of all a chunk's rows) `moments` reads at a time: 16 MB in float64
CHUNK_VALUES = 1 << 21


def moments(array, rows: np.ndarray, axes) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (float64, keepdims over `axes`, axis 0 the rows) of
    array[rows], read a few MB of rows at a time (`CHUNK_VALUES`): the statistics of a
    fold's training rows without a copy of them. Two passes (mean, then squared deviations)."""
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    count = len(rows) * int(np.prod([array.shape[a] for a in axes if a != 0]))
    chunk = max(1, CHUNK_VALUES // max(1, int(np.prod(array.shape[1:]))))
    chunks = [rows[i : i + chunk] for i in range(0, len(rows), chunk)]
    total = sum(gather(array, c).astype(np.float64).sum(axis=axes, keepdims=True) for c in chunks)
    mean = total / count
    squares = sum(
        ((gather(array, c).astype(np.float64) - mean) ** 2).sum(axis=axes, keepdims=True)
        for c in chunks
    )
    return mean, np.sqrt(squares / count)


#: input values a forward pass without gradients takes at a time (`forward_rows`)
FORWARD_VALUES = 1 << 18


def forward_rows(row_shape, limit: int = 1024) -> int:
    """Rows per batch of a pass without gradients (scoring, predicting): at most `limit`, and
    at most `FORWARD_VALUES` input values, so wide inputs (e.g. 32 x 128 raw windows) keep
    the activations of a batch to a few MB."""
    return max(1, min(limit, FORWARD_VALUES // max(1, int(np.prod(row_shape)))))


class Table:
    """Named arrays of one length (n, ...) and the rows of them a fit uses; `batch` gathers
    index batches into tensors on a device, the only copies of the rows ever made.

    arrays: name -> array, `RowView` or memory map; rows: positions (None: all)."""

    def __init__(self, arrays: dict, rows=None):
        self.arrays = arrays
        n = len(next(iter(arrays.values())))
        self.rows = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def subset(self, positions) -> Table:
        """The table of rows[positions]."""
        return Table(self.arrays, self.rows[np.asarray(positions, dtype=np.int64)])

    def column(self, name: str) -> np.ndarray:
        """All of one array's rows (for labels, not for the inputs)."""
        return gather(self.arrays[name], self.rows)

    def batch(self, positions, device, pin: bool = False) -> dict:
        """{name: tensor} of rows[positions] (float32 or int64) on `device`; pinned memory
        and an asynchronous copy when `pin` (CUDA)."""
        rows = self.rows[np.asarray(positions, dtype=np.int64)]
        out = {}
        for name, array in self.arrays.items():
            tensor = as_tensor(gather(array, rows))
            out[name] = (
                tensor.pin_memory().to(device, non_blocking=True) if pin else tensor.to(device)
            )
        return out

    def shapes(self) -> dict:
        """name -> (rows, shape of one row, dtype): what a fit's checkpoint is checked against."""
        return {
            k: [len(self), list(np.shape(v)[1:]), str(getattr(v, "dtype", ""))]
            for k, v in self.arrays.items()
        }


def as_tensor(array: np.ndarray):
    """A torch tensor of `array`: int64 for integer arrays, float32 otherwise."""
    import torch

    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.integer):
        return torch.as_tensor(array, dtype=torch.long)
    return torch.as_tensor(array, dtype=torch.float32)


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
