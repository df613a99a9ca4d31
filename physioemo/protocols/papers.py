"""The papers' own protocols, reproduced by name; each lets something leak and says what.

Every one of them is marked ``leaks = True`` and states its leak in one line; each checks on
every split what it does promise (no window on both sides, test windows separated in time from
training windows where the paper separates them). They bring their paper's feature recipe
(`features`) and training preset (`preset`), so running one reproduces the paper's pipeline.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from .base import (
    LeakageError,
    Protocol,
    check_disjoint,
    check_time_separated,
    require_groups,
    unit_index,
)


def trial_extents(groups: np.ndarray):
    """Per window: its trial's index, and the first start and last stop of that trial's windows
    (samples). Returns three (n_windows,) int arrays."""
    trial = unit_index(groups, "trial")
    first = np.full(trial.max() + 1, np.iinfo(np.int64).max)
    last = np.zeros(trial.max() + 1, dtype=np.int64)
    np.minimum.at(first, trial, groups["start"])
    np.maximum.at(last, trial, groups["stop"])
    return trial, first[trial], last[trial]


def thin(groups: np.ndarray, index: np.ndarray, step: int) -> np.ndarray:
    """The windows of `index` kept at least `step` samples apart (start to start) within each
    trial, greedily from each trial's first window; sorted."""
    keys = unit_index(groups, "trial")
    index = np.asarray(index)[np.lexsort((groups["start"][index], keys[index]))]
    kept = []
    for trial in np.unique(keys[index]):
        members = index[keys[index] == trial]
        starts = groups["start"][members]
        position = 0
        while position < len(members):
            kept.append(members[position])
            position = np.searchsorted(starts, starts[position] + step, side="left")
    return np.sort(np.asarray(kept, dtype=np.int64))


class HistnSD(Protocol):
    """HiSTN's subject-dependent protocol (papers.md 1.7): per subject, each trial is cut into
    `n_chunks` contiguous chunks of equal length (edges at first start + k * length // n).

    Fold i tests the windows lying wholly in chunk i of every trial of the subject, validates on
    those wholly in chunk i-1 (wrapping around) and trains on the windows overlapping neither
    chunk; so training windows may touch the test chunk but never overlap it. The test set is
    `test_crops` class-balanced random crops: a class drawn uniformly, then a trial of that
    class, then one of its test windows, with replacement, seeded by `random_state` (the
    paper's 1,000; None tests every window once). The paper's crops start at any sample; here
    they are windows of the feature recipe (histn-raw: a 1/8-s grid, ours).

    `validation` finds chunk i-1 again in a training set alone: the chunk before the one no
    training window covers, or, when the test chunk is the trial's first or last, the last
    chunk of what is left; every split checks that this recovers exactly the intended chunk.
    """

    name = "histn-sd"
    leaks = True
    leak = (
        "same trial on both sides: each trial's chunk i is tested, its other chunks train "
        "(time-separated, adjacent)"
    )
    unit = "chunk"
    features = "histn-raw"
    preset = "histn"
    validation_unit = "chunk"
    datasets = ("dreamer",)

    def __init__(
        self,
        n_chunks: int = 10,
        test_crops: int | None = 1000,
        random_state: int | None = 0,
        inner_cv=None,
        inner_kwargs=None,
    ):
        self.n_chunks = n_chunks
        self.test_crops = test_crops
        self.random_state = random_state
        self.inner_cv = inner_cv
        self.inner_kwargs = inner_kwargs

    def get_n_splits(self, X=None, y=None, groups=None):
        return np.unique(require_groups(groups)["subject"]).size * self.n_chunks

    def _chunk_span(self, groups):
        """Per window, the first and last chunk of its trial it overlaps."""
        n = self.n_chunks
        if n < 4:
            raise ValueError(f"histn-sd needs at least 4 chunks, got n_chunks={n}")
        _, first, last = trial_extents(groups)
        length = last - first
        start_chunk = ((groups["start"] - first + 1) * n - 1) // length
        stop_chunk = ((groups["stop"] - first) * n - 1) // length
        return np.clip(start_chunk, 0, n - 1), np.clip(stop_chunk, 0, n - 1)

    def _splits(self, groups, y):
        rng = np.random.default_rng(self.random_state)
        for subject in np.unique(groups["subject"]):
            index = np.flatnonzero(groups["subject"] == subject)
            mine = groups[index]
            trial = trial_extents(mine)[0]
            low, high = self._chunk_span(mine)
            for chunk in range(self.n_chunks):
                before = (chunk - 1) % self.n_chunks
                test = np.flatnonzero((low == chunk) & (high == chunk))
                val = np.flatnonzero((low == before) & (high == before))
                touches = ((low <= chunk) & (chunk <= high)) | ((low <= before) & (before <= high))
                train = np.union1d(np.flatnonzero(~touches), val)
                if not len(test) or not len(val):
                    raise ValueError(
                        f"histn-sd: subject {subject} has no window wholly inside chunk "
                        f"{chunk if not len(test) else before} of a trial; use shorter windows "
                        "or fewer chunks"
                    )
                self._check_recovery(mine, train, val)
                labels = None if y is None else y[index]
                yield index[train], index[self._crops(rng, test, trial, labels)]

    def _crops(self, rng, test, trial, y):
        """`test_crops` class-balanced draws from the test windows (all of them when None)."""
        if self.test_crops is None:
            return test
        labels = np.zeros(len(test), dtype=int) if y is None else y[test]
        classes = np.unique(labels)
        drawn = rng.choice(classes, size=self.test_crops)
        crops = []
        for label in classes:
            members = test[labels == label]
            trials = rng.choice(np.unique(trial[members]), size=(drawn == label).sum())
            for chosen, count in zip(*np.unique(trials, return_counts=True), strict=True):
                crops.append(rng.choice(members[trial[members] == chosen], size=count))
        return np.sort(np.concatenate(crops))

    def _check_recovery(self, groups, train, val):
        found = np.flatnonzero(self._validation_mask(groups[train]))
        if not np.array_equal(train[found], val):
            raise ValueError(
                "histn-sd cannot find the validation chunk again from the training windows "
                f"({len(found)} found, {len(val)} meant); use shorter windows or fewer chunks"
            )

    def _check(self, groups, train, test):
        check_disjoint(train, test)
        check_time_separated(groups, train, test)

    def validation(self, groups, y, seed: int = 0):
        """(fit, val): val is chunk i-1 of every trial, found from the training set alone."""
        groups = require_groups(groups)
        if self.inner_cv == "none":
            return np.arange(len(groups)), np.array([], dtype=int)
        if self.inner_cv is not None:
            raise ValueError("histn-sd validates on chunk i-1 (the paper's); it takes no inner_cv")
        is_val = self._validation_mask(groups)
        return np.flatnonzero(~is_val), np.flatnonzero(is_val)

    def _validation_mask(self, groups) -> np.ndarray:
        """Mask of the training windows in chunk i-1 of their trial."""
        trials = unit_index(groups, "trial")
        is_val = np.zeros(len(groups), dtype=bool)
        for trial in np.unique(trials):
            members = np.flatnonzero(trials == trial)
            is_val[members] = self._validation_chunk(groups[members])
        return is_val

    def _validation_chunk(self, windows) -> np.ndarray:
        """Mask of one trial's training windows that form the validation chunk."""
        n = self.n_chunks
        low, high = self._chunk_span(windows)
        cover = np.zeros(n + 1, dtype=int)
        np.add.at(cover, low, 1)
        np.add.at(cover, high + 1, -1)
        uncovered = np.flatnonzero(np.cumsum(cover)[:n] == 0)
        if uncovered.size == 1:  # the test chunk lies inside the trial: its extent is whole
            before = uncovered[0] - 1
            return (low == before) & (high == before)
        if uncovered.size:
            return np.zeros(len(windows), dtype=bool)
        # the test chunk was the first or the last: validation is the last chunk of what is left
        order = np.argsort(windows["start"], kind="stable")
        starts, stops = windows["start"][order], windows["stop"][order]
        reach = np.maximum.accumulate(stops)
        holes = starts[1:] - reach[:-1]
        # starts no window crosses; a straddling window removed leaves a hole: those first
        free = np.flatnonzero(holes > 0 if np.any(holes > 0) else holes == 0) + 1
        if not free.size:
            return np.zeros(len(windows), dtype=bool)
        estimate = stops.max() - (stops.max() - starts[0]) / (n - 1)
        cut = free[np.argmin(np.abs(starts[free] - estimate))]
        mask = np.zeros(len(windows), dtype=bool)
        mask[order[cut:]] = True
        return mask


class HistnSDWindows(HistnSD):
    """`histn-sd`'s split testing every test window once, as unbalanced as the subject's
    ratings, instead of class-balanced crops (ours): the step between `histn-sd` and
    `subject-dependent` in ``physioemo reproduce histn``, which splits the paper protocol's
    inflation into its test set's part and its split's part."""

    name = "histn-sd-windows"

    def __init__(
        self,
        n_chunks: int = 10,
        test_crops: int | None = None,
        random_state: int | None = 0,
        inner_cv=None,
        inner_kwargs=None,
    ):
        super().__init__(n_chunks, test_crops, random_state, inner_cv, inner_kwargs)


class HistnSI(Protocol):
    """HiSTN's "subject-independent" protocol (papers.md 1.7): per held-out subject, pretrain
    on all other subjects, calibrate (fine-tune) on the held-out subject's first
    `calibration_span` of every trial, test on the rest of its trials.

    Spans and strides are in window lengths (seconds with histn-raw's 1-s windows): the paper
    pretrains on non-overlapping windows (`pretrain_stride` 1), calibrates on windows with a
    1/4 stride wholly inside the first 10 s (37 per trial) and tests on non-overlapping windows
    wholly after them (50 per 60-s trial). `calibration` returns the calibration windows'
    positions in a training set; the estimator fine-tunes on them (preset "histn-si"). No
    validation by default: the paper selects no model (inner_cv over the pretraining subjects
    adds one).
    """

    name = "histn-si"
    leaks = True
    leak = (
        "calibration on the test subject's own trials: their first 10 s train, the rest of the "
        "same trials test"
    )
    unit = "subject"
    features = "histn-raw"
    preset = "histn-si"
    datasets = ("dreamer",)
    validation_unit = "subject"
    validates_by_default = False

    def __init__(
        self,
        calibration_span: float = 10.0,
        calibration_stride: float = 0.25,
        pretrain_stride: float = 1.0,
        test_stride: float = 1.0,
        random_state: int | None = 0,
        inner_cv=None,
        inner_kwargs=None,
    ):
        self.calibration_span = calibration_span
        self.calibration_stride = calibration_stride
        self.pretrain_stride = pretrain_stride
        self.test_stride = test_stride
        self.random_state = random_state
        self.inner_cv = inner_cv
        self.inner_kwargs = inner_kwargs

    def get_n_splits(self, X=None, y=None, groups=None):
        return np.unique(require_groups(groups)["subject"]).size

    def _samples(self, groups, lengths: float) -> int:
        """`lengths` window lengths in samples (the windows' own length)."""
        return max(1, int(round(lengths * int(np.median(groups["stop"] - groups["start"])))))

    def _splits(self, groups, y):
        subjects = groups["subject"]
        if np.unique(subjects).size < 2:
            raise ValueError("histn-si needs at least 2 subjects")
        _, first, _ = trial_extents(groups)
        span = self._samples(groups, self.calibration_span)
        everything = np.arange(len(groups))
        pretrain = thin(groups, everything, self._samples(groups, self.pretrain_stride))
        early = np.flatnonzero(groups["stop"] - first <= span)
        late = np.flatnonzero(groups["start"] - first >= span)
        calibration = thin(groups, early, self._samples(groups, self.calibration_stride))
        tests = thin(groups, late, self._samples(groups, self.test_stride))
        for subject in np.unique(subjects):
            train = np.union1d(
                pretrain[subjects[pretrain] != subject],
                calibration[subjects[calibration] == subject],
            )
            test = tests[subjects[tests] == subject]
            if not len(test) or not np.any(subjects[train] == subject):
                raise ValueError(
                    f"histn-si: subject {subject}'s trials hold no windows wholly before and after "
                    f"the first {self.calibration_span:g} window lengths"
                )
            yield train, test

    def _check(self, groups, train, test):
        check_disjoint(train, test)
        check_time_separated(groups, train, test)
        subject = np.unique(groups["subject"][test])
        if subject.size != 1:
            raise LeakageError("histn-si: a test set mixes subjects")
        own = np.flatnonzero(groups["subject"][train] == subject[0])
        found = self.calibration(groups[train])
        if found is None or not np.array_equal(found, own):
            raise LeakageError(
                f"histn-si: subject {subject[0]}'s training windows are not exactly its "
                "calibration windows"
            )

    def calibration(self, groups) -> np.ndarray | None:
        """Positions of the held-out subject's windows in a training set: the subject whose every
        trial spans at most `calibration_span` window lengths there (None when none does)."""
        groups = require_groups(groups)
        _, first, last = trial_extents(groups)
        short = last - first <= self._samples(groups, self.calibration_span)
        subjects = groups["subject"]
        candidates = [s for s in np.unique(subjects) if short[subjects == s].all()]
        if len(candidates) > 1:
            raise ValueError(
                f"histn-si: subjects {candidates} all look like calibration data (trials no longer "
                "than the calibration span)"
            )
        return np.flatnonzero(subjects == candidates[0]) if candidates else None

    def validation(self, groups, y, seed: int = 0):
        """No validation unless an inner_cv is given: then whole pretraining subjects (the
        calibration windows always stay in fit)."""
        groups = require_groups(groups)
        calibration = self.calibration(groups)
        others = np.setdiff1d(np.arange(len(groups)), [] if calibration is None else calibration)
        fit, val = super().validation(groups[others], None if y is None else y[others], seed)
        return np.setdiff1d(np.arange(len(groups)), others[val]), others[val]


class RBTransformerPaper(Protocol):
    """RBTransformer's protocol (papers.md RBTransformer 3): drop a random `drop` share of all
    windows (seed `random_state`, the paper's 23), then one KFold(`n_splits`, shuffle,
    `random_state`) over the pooled windows of all subjects. The paper keeps the last epoch:
    no validation unless an inner_cv is given (then over windows, as the paper's split)."""

    name = "rbtransformer-paper"
    leaks = True
    leak = (
        "overlapping windows of one trial and subject on both sides (one shuffled k-fold over "
        "all subjects' pooled windows)"
    )
    unit = "window"
    features = "rbtransformer-bde"
    preset = "rbtransformer"
    datasets = ("dreamer", "deap", "seed")
    validation_unit = "window"
    validates_by_default = False

    def __init__(
        self,
        n_splits: int = 5,
        drop: float = 0.1,
        random_state: int | None = 23,
        inner_cv=None,
        inner_kwargs=None,
    ):
        self.n_splits = n_splits
        self.drop = drop
        self.random_state = random_state
        self.inner_cv = inner_cv
        self.inner_kwargs = inner_kwargs

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def _splits(self, groups, y):
        if not 0 <= self.drop < 1:
            raise ValueError(f"drop must lie in [0, 1), got {self.drop}")
        order = np.random.default_rng(self.random_state).permutation(len(groups))
        kept = np.sort(order[int(round(self.drop * len(groups))) :])
        folds = KFold(self.n_splits, shuffle=True, random_state=self.random_state)
        for train, test in folds.split(kept):
            yield kept[train], kept[test]

    def _check(self, groups, train, test):
        check_disjoint(train, test)


class PinnPaper(Protocol):
    """The PINN paper's "5-fold CV" as papers.md 2.4 reads it: StratifiedKFold(`n_splits`,
    shuffle, `random_state` 42) over the pooled windows of all subjects; validation (early
    stopping) on a stratified fifth of the training windows."""

    name = "pinn-paper"
    leaks = True
    leak = (
        "windows of one condition segment on both sides (stratified k-fold over pooled "
        "windows); with self-reports, inputs that proxy the label"
    )
    unit = "window"
    features = "peripheral-self-report"
    datasets = ("wesad",)
    validation_unit = "window"

    def __init__(
        self, n_splits: int = 5, random_state: int | None = 42, inner_cv=None, inner_kwargs=None
    ):
        self.n_splits = n_splits
        self.random_state = random_state
        self.inner_cv = inner_cv
        self.inner_kwargs = inner_kwargs

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def _splits(self, groups, y):
        if y is None:
            raise ValueError("pinn-paper stratifies by class: pass the labels as y")
        folds = StratifiedKFold(self.n_splits, shuffle=True, random_state=self.random_state)
        yield from folds.split(np.zeros(len(groups)), y)

    def _check(self, groups, train, test):
        check_disjoint(train, test)


class PinnPaperNoSelfReport(PinnPaper):
    """`pinn-paper`'s split on the peripheral features without the self-reports (ours): the
    step between `pinn-paper` and `subject-independent` in ``physioemo reproduce pinn``, which
    splits the paper protocol's inflation into its inputs' part and its split's part."""

    name = "pinn-paper-no-self-report"
    leak = "windows of one condition segment on both sides (stratified k-fold over pooled windows)"
    features = "peripheral"


class LeakyWindowKFold(Protocol):
    """Per subject, shuffled k-fold over *windows*, so one trial lands on both sides.

    This is the split many papers call "subject-dependent"; it is kept to measure how much it
    inflates scores. Validation: random windows of the training set, as its split.
    """

    name = "leaky-window-kfold"
    leaks = True
    leak = "windows of one trial on both sides (per subject, shuffled k-fold over windows)"
    unit = "window"
    validation_unit = "window"

    def __init__(
        self, n_splits: int = 5, random_state: int | None = 0, inner_cv=None, inner_kwargs=None
    ):
        self.n_splits = n_splits
        self.random_state = random_state
        self.inner_cv = inner_cv
        self.inner_kwargs = inner_kwargs

    def get_n_splits(self, X=None, y=None, groups=None):
        return np.unique(require_groups(groups)["subject"]).size * self.n_splits

    def _splits(self, groups, y):
        folds = KFold(self.n_splits, shuffle=True, random_state=self.random_state)
        for subject in np.unique(groups["subject"]):
            index = np.flatnonzero(groups["subject"] == subject)
            for train, test in folds.split(index):
                yield index[train], index[test]

    def _check(self, groups, train, test):
        check_disjoint(train, test)
        if np.unique(groups["subject"][np.r_[train, test]]).size != 1:
            raise LeakageError("leaky-window-kfold: a split mixes subjects")
