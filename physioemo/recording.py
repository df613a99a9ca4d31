"""The data model: one trial as a `Recording`, many windows as a `WindowSet`.

Every loader turns a dataset's files into `Recording`s; the feature code turns recordings
into a `WindowSet`, whose `groups` metadata is what the protocols split on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Scale factors from the units loaders report to volts (what MNE expects).
UNIT_TO_VOLTS = {"V": 1.0, "mV": 1e-3, "uV": 1e-6, "µV": 1e-6, "nV": 1e-9}

#: Metadata fields of each window; `WindowSet.groups` is a structured array of these.
GROUP_FIELDS = (
    ("subject", "U32"),
    ("session", "i8"),
    ("trial", "i8"),
    ("start", "i8"),  # first sample of the window within its trial
    ("stop", "i8"),  # one past the last sample
)


@dataclass
class Signal:
    """A stream recorded beside a recording's main one, at its own rate (e.g. DREAMER's ECG).

    data: (n_channels, n_times) in `unit`; sfreq in Hz.
    """

    data: np.ndarray
    sfreq: float
    ch_names: list[str]
    unit: str = "uV"
    ch_type: str = "misc"

    def __post_init__(self):
        self.data = np.asarray(self.data)
        self.ch_names = list(self.ch_names)
        if self.data.ndim != 2 or self.data.shape[0] != len(self.ch_names):
            raise ValueError(
                f"Signal data must be (n_channels={len(self.ch_names)}, n_times), "
                f"got shape {self.data.shape}"
            )


@dataclass
class Recording:
    """One trial of one subject.

    Attributes:
        data: (n_channels, n_times) in the dataset's own unit (`unit`).
        sfreq: sampling rate of `data` in Hz.
        ch_names: channel names, in the order of the rows of `data`.
        subject, session, trial: identify the trial; `session` counts from 1 and `trial` is the
            dataset's own trial (clip/video) number.
        ratings: self-reports of the trial, e.g. {"valence": 4, "arousal": 2, "dominance": 3}.
        baseline: optional (n_channels, n_baseline_times) resting recording for this trial.
        unit: unit of `data` and `baseline` ("uV", "mV", "V", ...).
        extra: streams at other rates, by name (e.g. {"ecg": Signal(...)}).
        meta: anything else the loader knows (age, gender, clip name, ...).
    """

    data: np.ndarray
    sfreq: float
    ch_names: list[str]
    subject: str
    session: int = 1
    trial: int = 0
    ratings: dict[str, float] = field(default_factory=dict)
    baseline: np.ndarray | None = None
    unit: str = "uV"
    extra: dict[str, Signal] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.data = np.asarray(self.data)
        self.ch_names = list(self.ch_names)
        self.subject = str(self.subject)
        n_ch = len(self.ch_names)
        if self.data.ndim != 2 or self.data.shape[0] != n_ch:
            raise ValueError(
                f"Recording data must be (n_channels={n_ch}, n_times), got shape {self.data.shape}"
            )
        if self.baseline is not None:
            self.baseline = np.asarray(self.baseline)
            if self.baseline.ndim != 2 or self.baseline.shape[0] != n_ch:
                raise ValueError(
                    f"Recording baseline must be (n_channels={n_ch}, n_times), "
                    f"got shape {self.baseline.shape}"
                )
        if not (np.isfinite(self.sfreq) and self.sfreq > 0):  # NaN fails `<= 0` as well
            raise ValueError(f"sfreq must be a finite number > 0, got {self.sfreq}")
        if self.unit not in UNIT_TO_VOLTS:
            raise ValueError(f"unit must be one of {sorted(UNIT_TO_VOLTS)}, got {self.unit!r}")

    @property
    def n_times(self) -> int:
        return self.data.shape[1]

    @property
    def duration(self) -> float:
        """Length of `data` in seconds."""
        return self.n_times / self.sfreq

    def to_mne(self, baseline: bool = False):
        """This trial (or its baseline) as an `mne.io.RawArray` in volts.

        Channels whose names are in the standard 10-20 montage get positions (matched
        case-insensitively); the others keep none.
        """
        import mne

        values = self.baseline if baseline else self.data
        if values is None:
            raise ValueError(f"recording {self.subject}/{self.trial} has no baseline")
        info = mne.create_info(self.ch_names, self.sfreq, ch_types="eeg")
        raw = mne.io.RawArray(values * UNIT_TO_VOLTS[self.unit], info, verbose="error")
        raw.set_montage(standard_montage(), match_case=False, on_missing="ignore")
        return raw

    @classmethod
    def from_mne(cls, raw, subject: str, **fields) -> Recording:
        """Build a recording (in microvolts) from the EEG channels of an MNE Raw."""
        eeg = raw.copy().pick("eeg")
        data = eeg.get_data() / UNIT_TO_VOLTS["uV"]
        return cls(data, eeg.info["sfreq"], eeg.ch_names, subject, unit="uV", **fields)


def standard_montage(system: str = "1020"):
    """MNE's template montage of the 10-20 ("1020") or 10-05 ("1005") system (named
    "colin27_<system>" from MNE 1.13, "standard_<system>" before)."""
    import mne

    names = mne.channels.get_builtin_montages()
    name = f"colin27_{system}"
    return mne.channels.make_standard_montage(name if name in names else f"standard_{system}")


@dataclass
class WindowSet:
    """Windows cut from recordings, with one row of metadata per window.

    Attributes:
        X: (n_windows, ...) features or raw windows, e.g. (n_windows, n_channels, n_bands).
        groups: structured array (n_windows,) with fields subject, session, trial, start, stop;
            pass it as `groups=` to the protocols' splitters (and to scikit-learn's CV helpers).
        ratings: per rating dimension, an (n_windows,) array of the trial's rating.
        info: how X was made (sfreq, ch_names, bands, window, stride, baseline, kind, dataset).
        extra: other per-window arrays, (n_windows, ...) each, e.g. the PINN's time input "t"
            and EDA target "eda".
    """

    X: np.ndarray
    groups: np.ndarray
    ratings: dict[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.X)
        arrays = [self.groups, *self.ratings.values(), *self.extra.values()]
        if any(len(v) != n for v in arrays):
            raise ValueError(
                "X, groups and every ratings and extra array must have one row per window"
            )

    def __len__(self) -> int:
        return len(self.X)

    def select(self, index) -> WindowSet:
        """The windows at `index` (a boolean mask or integer indices)."""
        ratings = {k: v[index] for k, v in self.ratings.items()}
        extra = {k: v[index] for k, v in self.extra.items()}
        return WindowSet(self.X[index], self.groups[index], ratings, dict(self.info), extra)

    @classmethod
    def concatenate(cls, parts: list[WindowSet], info: Mapping[str, Any] | None = None):
        """Stack window sets that share a feature layout."""
        if not parts:
            raise ValueError("no windows to concatenate")
        ratings = {k: np.concatenate([p.ratings[k] for p in parts]) for k in parts[0].ratings}
        extra = {k: np.concatenate([p.extra[k] for p in parts]) for k in parts[0].extra}
        X = np.concatenate([p.X for p in parts])
        groups = np.concatenate([p.groups for p in parts])
        return cls(X, groups, ratings, dict(info if info is not None else parts[0].info), extra)


def make_groups(n, subject, session, trial, starts, stops) -> np.ndarray:
    """Window metadata for `n` windows of one trial as a structured array."""
    groups = np.empty(n, dtype=list(GROUP_FIELDS))
    groups["subject"] = subject
    groups["session"] = session
    groups["trial"] = trial
    groups["start"] = starts
    groups["stop"] = stops
    return groups


def trial_keys(groups: np.ndarray) -> np.ndarray:
    """One string per window naming its trial, e.g. "s03/1/12" (subject/session/trial)."""
    return np.char.add(
        np.char.add(np.char.add(groups["subject"].astype(str), "/"), groups["session"].astype(str)),
        np.char.add("/", groups["trial"].astype(str)),
    )
