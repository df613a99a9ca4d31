"""Honest protocols: no trial, session, subject or stimulus (their `unit`) ever reaches both
sides."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from ..recording import trial_keys
from .base import (
    LeakageError,
    Protocol,
    check_disjoint,
    check_no_leak,
    require_groups,
    unit_index,
    unit_name,
)


class SubjectDependent(Protocol):
    """Per subject, k-fold over *trials*: no trial has windows on both sides.

    Folds are stratified by the trials' labels when every class has at least `n_splits`
    trials for that subject, and plain shuffled k-fold over trials otherwise. A subject with
    fewer trials than `n_splits` gets one fold per trial. Validation: trials of the subject.
    """

    name = "subject-dependent"
    unit = "trial"
    validation_unit = "trial"

    def __init__(
        self,
        n_splits: int = 5,
        shuffle: bool = True,
        random_state: int | None = 0,
        inner_cv=None,
        inner_kwargs=None,
    ):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.inner_cv = inner_cv
        self.inner_kwargs = inner_kwargs

    def _keys(self, groups) -> np.ndarray:
        """Per window, the name of the unit folds are made of (here its trial)."""
        return trial_keys(groups)

    def get_n_splits(self, X=None, y=None, groups=None):
        groups = require_groups(groups)
        keys, subjects = self._keys(groups), groups["subject"]
        return sum(
            min(self.n_splits, np.unique(keys[subjects == s]).size) for s in np.unique(subjects)
        )

    def _splits(self, groups, y):
        keys = self._keys(groups)
        for subject in np.unique(groups["subject"]):
            index = np.flatnonzero(groups["subject"] == subject)
            labels = None if y is None else y[index]
            for train, test in self._subject_folds(subject, keys[index], labels):
                yield index[train], index[test]

    def _subject_folds(self, subject, keys: np.ndarray, y: np.ndarray | None):
        """(train, test) masks over one subject's windows: k-fold over its distinct `keys`
        (in the order of their names), stratified by the label of each key's first window
        when every class has `n_splits` keys."""
        names, first = np.unique(keys, return_index=True)
        n_splits = min(self.n_splits, names.size)
        if n_splits < 2:
            raise ValueError(f"subject {subject} has {names.size} {self.unit}(s); need at least 2")
        labels = None if y is None else y[first]
        random_state = self.random_state if self.shuffle else None
        if labels is not None and np.unique(labels, return_counts=True)[1].min() >= n_splits:
            folds = StratifiedKFold(n_splits, shuffle=self.shuffle, random_state=random_state)
        else:
            folds = KFold(n_splits, shuffle=self.shuffle, random_state=random_state)
        for train, test in folds.split(names, labels):
            yield np.isin(keys, names[train]), np.isin(keys, names[test])


class SubjectIndependent(Protocol):
    """Leave one subject out (n_splits=None), or k folds of whole subjects (n_splits=k, the
    subjects shuffled with `random_state` and dealt into k nearly equal folds).
    Validation: whole training subjects."""

    name = "subject-independent"
    unit = "subject"
    validation_unit = "subject"

    def __init__(
        self,
        n_splits: int | None = None,
        random_state: int | None = 0,
        inner_cv=None,
        inner_kwargs=None,
    ):
        self.n_splits = n_splits
        self.random_state = random_state
        self.inner_cv = inner_cv
        self.inner_kwargs = inner_kwargs

    def get_n_splits(self, X=None, y=None, groups=None):
        n_subjects = np.unique(require_groups(groups)["subject"]).size
        return n_subjects if self.n_splits is None else min(self.n_splits, n_subjects)

    def _splits(self, groups, y):
        subjects = np.unique(groups["subject"])
        if subjects.size < 2:
            raise ValueError("subject-independent needs at least 2 subjects")
        if self.n_splits is None:
            folds = [[s] for s in subjects]
        else:
            if self.n_splits < 2:
                raise ValueError(f"n_splits must be at least 2, got {self.n_splits}")
            order = np.random.default_rng(self.random_state).permutation(subjects)
            folds = np.array_split(order, min(self.n_splits, subjects.size))
        for held_out in folds:
            is_test = np.isin(groups["subject"], held_out)
            yield np.flatnonzero(~is_test), np.flatnonzero(is_test)


class SeedSession(Protocol):
    """SEED's customary split: per subject and session, the first clips train, the last test.

    n_train: clips (by trial number) that train; None picks it from the clips per session, as
    the datasets' papers do: 15 clips (SEED) -> first 9 / last 6, 24 clips (SEED-IV) -> first
    16 / last 8; any other count needs n_train. Validation: whole training clips.
    """

    name = "seed-session"
    unit = "trial"
    validation_unit = "trial"
    datasets = ("seed", "seed-iv")
    #: clips per session -> clips that train (SEED: 15 -> 9, SEED-IV: 24 -> 16)
    TRAIN_CLIPS = {15: 9, 24: 16}

    def __init__(
        self,
        n_train: int | None = None,
        random_state: int | None = 0,
        inner_cv=None,
        inner_kwargs=None,
    ):
        self.n_train = n_train
        self.random_state = random_state
        self.inner_cv = inner_cv
        self.inner_kwargs = inner_kwargs

    def get_n_splits(self, X=None, y=None, groups=None):
        return np.unique(unit_index(require_groups(groups), "session")).size

    def _splits(self, groups, y):
        sessions = unit_index(groups, "session")
        for session in np.unique(sessions):
            index = np.flatnonzero(sessions == session)
            clips = np.unique(groups["trial"][index])
            n_train = self._n_train(unit_name(groups[index[0]], "session"), clips.size)
            is_train = np.isin(groups["trial"][index], clips[:n_train])
            yield index[is_train], index[~is_train]

    def _n_train(self, session: str, n_clips: int) -> int:
        n_train = self.n_train if self.n_train is not None else self.TRAIN_CLIPS.get(n_clips)
        if n_train is None:
            raise ValueError(
                f"seed-session: session {session} has {n_clips} clips, not SEED's 15 or "
                "SEED-IV's 24; pass n_train"
            )
        if not 0 < n_train < n_clips:
            raise ValueError(f"seed-session: n_train={n_train} must lie in 1..{n_clips - 1}")
        return n_train

    def _check(self, groups, train, test):
        super()._check(groups, train, test)
        if groups["trial"][train].max() >= groups["trial"][test].min():
            raise LeakageError("seed-session: a training clip comes after a test clip")


class CrossSession(Protocol):
    """Per subject, leave one session out: train on the subject's other sessions, test on one.
    Needs at least 2 sessions per subject (SEED, SEED-IV). Validation: whole training sessions."""

    name = "cross-session"
    unit = "session"
    validation_unit = "session"
    datasets = ("seed", "seed-iv")

    def __init__(self, random_state: int | None = 0, inner_cv=None, inner_kwargs=None):
        self.random_state = random_state
        self.inner_cv = inner_cv
        self.inner_kwargs = inner_kwargs

    def get_n_splits(self, X=None, y=None, groups=None):
        return np.unique(unit_index(require_groups(groups), "session")).size

    def _splits(self, groups, y):
        sessions = unit_index(groups, "session")
        for subject in np.unique(groups["subject"]):
            index = np.flatnonzero(groups["subject"] == subject)
            own = np.unique(sessions[index])
            if own.size < 2:
                only = groups["session"][index[0]]
                raise ValueError(f"cross-session: subject {subject} has only session {only}")
            for session in own:
                is_test = sessions[index] == session
                yield index[~is_test], index[is_test]

    def _check(self, groups, train, test):
        super()._check(groups, train, test)
        if np.unique(groups["subject"][np.r_[train, test]]).size != 1:
            raise LeakageError("cross-session: a split mixes subjects")


def stimulus_ids(groups: np.ndarray) -> np.ndarray:
    """(n_windows,) the stimulus of every window; ValueError when any is unknown."""
    if "stimulus" not in groups.dtype.names or not np.all(groups["stimulus"] != ""):
        raise ValueError(
            "these windows do not all name their stimulus (groups field 'stimulus': the "
            "dataset card's stimulus_id, or a recording's meta['stimulus'])"
        )
    return groups["stimulus"]


class StimulusIndependent(SubjectDependent):
    """Per subject, k-fold over *stimuli* (leave-clip-out within a subject): every trial of a
    test stimulus is tested, in every session (SEED shows its 15 clips in each of its three
    sessions), and only trials of other stimuli train; otherwise as `SubjectDependent`
    (stratified by a stimulus's label when every class has `n_splits` stimuli, one fold per
    stimulus when they are fewer). Validation: whole stimuli of the subject."""

    name = "stimulus-independent"
    unit = "stimulus"
    validation_unit = "stimulus"
    holds_out_stimuli = True

    def _keys(self, groups) -> np.ndarray:
        return stimulus_ids(groups)

    def _check(self, groups, train, test):
        super()._check(groups, train, test)
        if np.unique(groups["subject"][np.r_[train, test]]).size != 1:
            raise LeakageError(f"{self.name}: a split mixes subjects")


class SubjectStimulusIndependent(StimulusIndependent):
    """Subject-and-clip-out across subjects: per held-out subject, k-fold over its stimuli
    (as `StimulusIndependent`); a fold tests the subject's trials of the test stimuli and
    trains on the *other* subjects' trials of every other stimulus, so neither the test
    subject nor the test clips were seen in training. Validation: whole training subjects."""

    name = "subject-stimulus-independent"
    unit = "subject"
    validation_unit = "subject"

    def _splits(self, groups, y):
        stimuli = self._keys(groups)
        for _, test in super()._splits(groups, y):
            subject, tested = groups["subject"][test[0]], np.unique(stimuli[test])
            others = (groups["subject"] != subject) & ~np.isin(stimuli, tested)
            yield np.flatnonzero(others), test

    def _check(self, groups, train, test):
        check_no_leak(groups, train, test, "subject")
        check_no_leak(groups, train, test, "stimulus")
        check_disjoint(train, test)
