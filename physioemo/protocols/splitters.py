"""Cross-validation splitters over window metadata, in scikit-learn's style.

Each splitter takes the `WindowSet.groups` structured array as `groups`, yields
(train_index, test_index) arrays, and checks its own no-leak invariant on every split before
yielding it. Only a splitter whose `leaks` attribute is True may put windows of one trial on
both sides, and it exists under an explicit name.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import BaseCrossValidator, KFold, StratifiedKFold

from ..recording import trial_keys


class LeakageError(AssertionError):
    """A split put the same trial (or subject) on both sides."""


def check_no_leak(groups: np.ndarray, train: np.ndarray, test: np.ndarray, unit: str) -> None:
    """Raise `LeakageError` if any `unit` ("trial" or "subject") is on both sides of a split."""
    keys = trial_keys(groups) if unit == "trial" else groups["subject"].astype(str)
    shared = np.intersect1d(keys[train], keys[test])
    if shared.size:
        raise LeakageError(f"{shared.size} {unit}(s) on both sides of a split, e.g. {shared[0]}")


class _GroupedSplitter(BaseCrossValidator):
    """Shared plumbing: scikit-learn's interface over a structured `groups` array."""

    name = ""
    leaks = False

    def _iter_test_indices(self, X=None, y=None, groups=None):  # required by the base class
        for _, test in self.split(X, y, groups):
            yield test

    def __repr__(self):
        return f"{type(self).__name__}({self.name}, leaks={self.leaks})"


def _require_groups(groups):
    if groups is None or getattr(groups, "dtype", None) is None or groups.dtype.names is None:
        raise ValueError("pass the WindowSet's `groups` (structured window metadata) as groups=")
    return groups


class SubjectDependent(_GroupedSplitter):
    """Per subject, k-fold over *trials*: no trial has windows on both sides.

    Folds are stratified by the trials' labels when every class has at least `n_splits`
    trials for that subject, and plain shuffled k-fold over trials otherwise. A subject with
    fewer trials than `n_splits` gets one fold per trial.
    """

    name = "subject-dependent"

    def __init__(self, n_splits: int = 5, shuffle: bool = True, random_state: int | None = 0):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        groups = _require_groups(groups)
        return sum(
            min(self.n_splits, np.unique(trial_keys(groups[groups["subject"] == s])).size)
            for s in np.unique(groups["subject"])
        )

    def split(self, X, y=None, groups=None):
        groups = _require_groups(groups)
        keys = trial_keys(groups)
        for subject in np.unique(groups["subject"]):
            index = np.flatnonzero(groups["subject"] == subject)
            trials, first = np.unique(keys[index], return_index=True)
            n_splits = min(self.n_splits, trials.size)
            if n_splits < 2:
                raise ValueError(f"subject {subject} has {trials.size} trial(s); need at least 2")
            labels = None if y is None else np.asarray(y)[index][first]
            random_state = self.random_state if self.shuffle else None
            if labels is not None and np.unique(labels, return_counts=True)[1].min() >= n_splits:
                folds = StratifiedKFold(n_splits, shuffle=self.shuffle, random_state=random_state)
            else:
                folds = KFold(n_splits, shuffle=self.shuffle, random_state=random_state)
            for train_trials, test_trials in folds.split(trials, labels):
                train = index[np.isin(keys[index], trials[train_trials])]
                test = index[np.isin(keys[index], trials[test_trials])]
                check_no_leak(groups, train, test, "trial")
                yield train, test


class SubjectIndependent(_GroupedSplitter):
    """Leave one subject out: train on all other subjects, test on the held-out one."""

    name = "subject-independent"

    def get_n_splits(self, X=None, y=None, groups=None):
        return np.unique(_require_groups(groups)["subject"]).size

    def split(self, X, y=None, groups=None):
        groups = _require_groups(groups)
        subjects = groups["subject"]
        if np.unique(subjects).size < 2:
            raise ValueError("leave-one-subject-out needs at least 2 subjects")
        for subject in np.unique(subjects):
            test = np.flatnonzero(subjects == subject)
            train = np.flatnonzero(subjects != subject)
            check_no_leak(groups, train, test, "subject")
            yield train, test


class LeakyWindowKFold(_GroupedSplitter):
    """LEAKS: per subject, shuffled k-fold over *windows*, so one trial lands on both sides.

    This is the split many papers call "subject-dependent"; it is kept to measure how much it
    inflates scores, and everything it produces is marked as leaking.
    """

    name = "leaky-window-kfold"
    leaks = True

    def __init__(self, n_splits: int = 5, random_state: int | None = 0):
        self.n_splits = n_splits
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        return np.unique(_require_groups(groups)["subject"]).size * self.n_splits

    def split(self, X, y=None, groups=None):
        groups = _require_groups(groups)
        folds = KFold(self.n_splits, shuffle=True, random_state=self.random_state)
        for subject in np.unique(groups["subject"]):
            index = np.flatnonzero(groups["subject"] == subject)
            for train, test in folds.split(index):
                yield index[train], index[test]
