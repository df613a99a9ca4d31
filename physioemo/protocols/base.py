"""The protocol interface: a scikit-learn cross-validator over window metadata.

A protocol takes the `WindowSet.groups` structured array as `groups`, yields (train, test)
index arrays and checks its own promise on every split before yielding it: an honest protocol
never puts one of its units (trial, session, subject) on both sides; a leaky one (``leaks =
True``, named as such, with a one-line `leak` statement) checks what it does promise, e.g. that
no window is on both sides. Besides the outer split, a protocol says how a training set is split
again for model selection (`validation`, whole units, an inner cross-validator given as a class
and its keyword arguments as in MOABB) and which training windows are calibration data of the
test subject (`calibration`, only for protocols that fine-tune on the test subject).
"""

from __future__ import annotations

import inspect
import warnings
from abc import abstractmethod
from typing import ClassVar

import numpy as np
from sklearn import model_selection
from sklearn.model_selection import BaseCrossValidator

#: Inner cross-validators `validation` accepts by name (a class is accepted too); whichever it
#: is, a split that breaks a unit apart is refused.
INNER_CV = (
    "StratifiedGroupKFold",
    "GroupKFold",
    "GroupShuffleSplit",
    "LeaveOneGroupOut",
    "StratifiedKFold",
    "KFold",
)
#: The inner split when a protocol is given none: a fifth of the units, stratified by class
#: (StratifiedKFold where the unit is a window: the same split, without a loop over groups).
DEFAULT_INNER = {"window": "StratifiedKFold", "group": "StratifiedGroupKFold"}
DEFAULT_INNER_KWARGS = {"n_splits": 5}


class LeakageError(AssertionError):
    """A split broke its protocol's promise (e.g. the same trial on both sides)."""


def require_groups(groups) -> np.ndarray:
    """`groups` if it is window metadata (a structured array), else a ValueError."""
    if groups is None or getattr(groups, "dtype", None) is None or groups.dtype.names is None:
        raise ValueError("pass the WindowSet's `groups` (structured window metadata) as groups=")
    return groups


#: the metadata fields that name each unit
UNIT_FIELDS = {
    "subject": ["subject"],
    "session": ["subject", "session"],
    "trial": ["subject", "session", "trial"],
    "stimulus": ["stimulus"],
}


def unit_index(groups: np.ndarray, unit: str) -> np.ndarray:
    """(n_windows,) int codes, equal for windows of the same `unit`: "window" (each its own),
    "trial" (subject, session, trial), "session" (subject, session), "subject" or "stimulus"
    (the clip or video, whoever saw it)."""
    if unit == "window":
        return np.arange(len(groups))
    if unit not in UNIT_FIELDS:
        raise ValueError(f"unknown unit {unit!r}; units: window, {', '.join(UNIT_FIELDS)}")
    if not len(groups):
        return np.zeros(0, dtype=np.int64)
    fields = groups[UNIT_FIELDS[unit]]
    # windows come in runs of one trial: sort only the runs' first rows (fast on 1e5 windows)
    starts_run = np.r_[True, fields[1:] != fields[:-1]]
    _, codes = np.unique(fields[starts_run], return_inverse=True)
    return codes.ravel()[np.cumsum(starts_run) - 1]


def unit_name(window: np.void, unit: str) -> str:
    """A readable name of one window's unit, e.g. "s03/1/12" for a trial."""
    return "/".join(str(window[field]) for field in UNIT_FIELDS.get(unit, ["subject"]))


def check_no_leak(groups: np.ndarray, train: np.ndarray, test: np.ndarray, unit: str) -> None:
    """Raise `LeakageError` if any `unit` ("trial", "session", "subject" or "stimulus") is on
    both sides."""
    both = np.r_[train, test]
    codes = unit_index(groups[both], unit)
    shared = np.intersect1d(codes[: len(train)], codes[len(train) :])
    if shared.size:
        example = groups[both][np.argmax(codes == shared[0])]
        raise LeakageError(
            f"{shared.size} {unit}(s) on both sides of a split, e.g. {unit_name(example, unit)}"
        )


def check_disjoint(train: np.ndarray, test: np.ndarray) -> None:
    """Raise `LeakageError` if a window index is on both sides."""
    shared = np.intersect1d(train, test)
    if shared.size:
        raise LeakageError(f"{shared.size} window(s) on both sides of a split, e.g. {shared[0]}")


def nearest_training_gap(groups: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Per test window, the samples between it and the nearest training window of its trial.

    Returns (len(test),) float: > 0 a gap, 0 touching, < 0 overlapping (its magnitude is then a
    lower bound of the overlap), +inf when no training window shares the trial.
    """
    train, test = np.asarray(train), np.asarray(test)
    gaps = np.full(len(test), np.inf)
    if not len(train) or not len(test):
        return gaps
    both = groups[np.r_[train, test]]
    trial = unit_index(both, "trial")
    span = int(both["stop"].max()) + 1  # > any stop: trial * span + sample sorts by trial
    order = np.lexsort((both["start"][: len(train)], trial[: len(train)]))
    own_trial, own_start = trial[: len(train)][order], both["start"][: len(train)][order]
    latest_stop = np.maximum.accumulate(own_trial * span + both["stop"][: len(train)][order])
    trial, start, stop = (
        trial[len(train) :],
        both["start"][len(train) :],
        both["stop"][len(train) :],
    )
    before = np.searchsorted(own_trial * span + own_start, trial * span + start, side="right") - 1
    previous = np.maximum(before, 0)
    has_before = (before >= 0) & (own_trial[previous] == trial)
    gap_before = start - (latest_stop[previous] - trial * span)  # to the latest-ending one
    gaps[has_before] = gap_before[has_before]
    following = np.minimum(before + 1, len(train) - 1)
    has_after = (before + 1 < len(train)) & (own_trial[following] == trial)
    gap_after = own_start[following] - stop
    gaps[has_after] = np.minimum(gaps[has_after], gap_after[has_after])
    return gaps


def check_time_separated(groups: np.ndarray, train: np.ndarray, test: np.ndarray) -> None:
    """Raise `LeakageError` if a test window overlaps a training window of its trial in time."""
    overlapping = nearest_training_gap(groups, train, test) < 0
    if overlapping.any():
        raise LeakageError(
            f"{overlapping.sum()} test window(s) overlap a training window of their trial"
        )


def inner_splitter(inner_cv, inner_kwargs, seed: int):
    """An inner cross-validator: `inner_cv` (a class, or a name in `INNER_CV`) built with
    `inner_kwargs`, with `shuffle=True` and `random_state=seed` where it takes them."""
    if isinstance(inner_cv, str):
        if inner_cv not in INNER_CV:
            raise ValueError(f"unknown inner_cv {inner_cv!r}; available: {', '.join(INNER_CV)}")
        inner_cv = getattr(model_selection, inner_cv)
    kwargs = dict(inner_kwargs or {})
    parameters = inspect.signature(inner_cv).parameters
    if "shuffle" in parameters:
        kwargs.setdefault("shuffle", True)
    if "random_state" in parameters and kwargs.get("shuffle", True):
        kwargs.setdefault("random_state", seed)
    return inner_cv(**kwargs)


def first_inner_split(splitter, y: np.ndarray | None, keys: np.ndarray):
    """(fit, val) positions: the first split of `splitter` over units `keys`; val is empty when
    there are fewer units than folds or a class of `y` would be missing from fit."""
    everything, nothing = np.arange(len(keys)), np.array([], dtype=int)
    n_units = np.unique(keys).size
    if n_units < max(2, getattr(splitter, "n_splits", 2)):
        return everything, nothing
    labels = np.zeros(len(keys), dtype=int) if y is None else np.asarray(y)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        warnings.filterwarnings("ignore", message="The groups parameter is ignored")
        fit, val = next(splitter.split(np.zeros(len(keys)), labels, groups=keys))
    shared = np.intersect1d(keys[fit], keys[val])
    if shared.size:
        raise ValueError(
            f"inner_cv {type(splitter).__name__} put {shared.size} unit(s) on both sides of the "
            "validation split; use a grouped one (e.g. StratifiedGroupKFold)"
        )
    if np.unique(labels[fit]).size < np.unique(labels).size:
        return everything, nothing
    return np.sort(fit), np.sort(val)


class Protocol(BaseCrossValidator):
    """A named evaluation protocol over window metadata (see the module docstring).

    Every protocol takes `random_state` (the run's seed; splits that draw nothing ignore it),
    `inner_cv` and `inner_kwargs` (the validation split). Subclasses set the class attributes
    and implement `_splits(groups, y)` (yield raw (train, test) pairs) and `get_n_splits`;
    `_check` states the promise checked on each split.
    """

    name: ClassVar[str] = ""
    leaks: ClassVar[bool] = False
    leak: ClassVar[str] = ""
    unit: ClassVar[str] = "trial"
    features: ClassVar[str | None] = None
    preset: ClassVar[str | None] = None
    datasets: ClassVar[tuple[str, ...] | None] = None
    #: what the inner validation split keeps whole (a `unit_index` unit)
    validation_unit: ClassVar[str] = "trial"
    #: False: no validation unless an inner_cv is given (the paper selects no model)
    validates_by_default: ClassVar[bool] = True
    #: True: it claims no stimulus (clip, video) on both sides, whoever saw it
    holds_out_stimuli: ClassVar[bool] = False

    def split(self, X=None, y=None, groups=None):
        """Yield (train, test) int arrays; every split's promise is checked first."""
        groups = require_groups(groups)
        y = None if y is None else np.asarray(y)
        for train, test in self._splits(groups, y):
            train, test = np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64)
            self._check(groups, train, test)
            yield train, test

    @abstractmethod
    def _splits(self, groups, y):
        """Raw (train, test) position pairs over windows with metadata `groups` and labels `y`
        (None when the protocol needs none); `split` checks each before yielding it."""

    def _check(self, groups, train, test) -> None:
        """The promise of an honest protocol: no `unit` on both sides."""
        check_disjoint(train, test)
        check_no_leak(groups, train, test, self.unit)

    def _iter_test_indices(self, X=None, y=None, groups=None):  # required by the base class
        for _, test in self.split(X, y, groups):
            yield test

    def validation(self, groups, y, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(fit, val) positions into a training set with metadata `groups` and labels `y`:
        the first split of the inner cross-validator over whole `validation_unit`s.

        inner_cv None: the protocol's default (StratifiedGroupKFold, 5 folds, i.e. a fifth of
        the units; none for protocols whose paper selects no model); "none": no validation.
        """
        groups = require_groups(groups)
        inner = getattr(self, "inner_cv", None)
        if inner == "none" or (inner is None and not self.validates_by_default):
            return np.arange(len(groups)), np.array([], dtype=int)
        if inner is None:
            inner = DEFAULT_INNER["window" if self.validation_unit == "window" else "group"]
            kwargs = {**DEFAULT_INNER_KWARGS, **(getattr(self, "inner_kwargs", None) or {})}
        else:
            kwargs = getattr(self, "inner_kwargs", None) or {}
        splitter = inner_splitter(inner, kwargs, seed)
        return first_inner_split(splitter, y, unit_index(groups, self.validation_unit))

    def calibration(self, groups) -> np.ndarray | None:
        """Positions of the test subject's calibration windows in a training set (None here)."""
        return None
