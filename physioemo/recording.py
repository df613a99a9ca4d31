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

#: characters a stimulus id keeps (the width of its field); a longer id is shortened to a prefix
#: and a digest of the whole (`stimulus_field`)
STIMULUS_WIDTH = 32
#: Metadata fields of each window; `WindowSet.groups` is a structured array of these.
GROUP_FIELDS = (
    ("subject", "U32"),
    ("session", "i8"),
    ("trial", "i8"),
    ("start", "i8"),  # first sample of the window within its trial
    ("stop", "i8"),  # one past the last sample
    ("stimulus", f"U{STIMULUS_WIDTH}"),  # the clip or video the trial showed; "" unknown
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
        meta: anything else the loader knows (age, gender, clip name, ...); "stimulus" names
            the clip or video the trial showed (`Dataset` sets it from the dataset card's
            `stimulus_id`), which the windows' metadata carries.
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

    def to_mne(self, baseline: bool = False, extra: bool = True):
        """This trial (or its baseline) as an `mne.io.RawArray`, every channel typed, in SI units.

        Channels of `data` are typed by name (`montage.channel_type`: EEG unless the name says
        ECG, EMG, EDA ..., as WESAD's chest_ECG does) and get template positions when the name
        stands for a 10-05 site (`montage.canonical`: any case, T3-T6, CB1/CB2).
        extra: add the `extra` streams of this segment (`extra_streams`) as channels of their
            `Signal.ch_type`, named ``<channel>``, or ``<stream>_<channel>`` when that name is
            taken. A Raw has one rate, so they are resampled to `sfreq` (`resample_extra`). Our
            choice of the trial's rate: the EEG is what physioemo analyses, and DREAMER's 256 Hz
            ECG keeps everything below 64 Hz, where the QRS complex (and so heart rate and its
            variability) lives.
        Voltages are scaled to V and microsiemens to S; other units are kept as they are.
        """
        import mne

        from .montage import channel_types, digmontage

        values = self.baseline if baseline else self.data
        if values is None:
            raise ValueError(f"recording {self.subject}/{self.trial} has no baseline")
        names, types = list(self.ch_names), channel_types(self.ch_names)
        rows = [np.asarray(values, dtype=float) * si_scale(self.unit)]
        for key, signal in (self.extra_streams(baseline) if extra else {}).items():
            rows.append(resample_extra(signal, self.sfreq, values.shape[1], key))
            rows[-1] = rows[-1] * si_scale(signal.unit)
            taken = set(names)
            names += [n if n not in taken else f"{key}_{n}" for n in signal.ch_names]
            types += [signal.ch_type] * len(signal.ch_names)
        info = mne.create_info(names, self.sfreq, ch_types=types)
        raw = mne.io.RawArray(np.concatenate(rows), info, verbose="error")
        eeg = [name for name, kind in zip(names, types, strict=True) if kind == "eeg"]
        raw.set_montage(digmontage(eeg), on_missing="ignore")
        return raw

    def extra_streams(self, baseline: bool = False) -> dict[str, Signal]:
        """The `extra` streams that go with `data`, or with `baseline` (the ``"<name>_baseline"``
        twins, under ``<name>``)."""
        suffix = "_baseline"
        if baseline:
            return {k[: -len(suffix)]: v for k, v in self.extra.items() if k.endswith(suffix)}
        return {k: v for k, v in self.extra.items() if not k.endswith(suffix)}

    @classmethod
    def from_mne(cls, raw, subject: str, **fields) -> Recording:
        """A recording from an MNE Raw: its EEG channels become `data` (microvolts), the channels
        of each other type one `extra` stream named after the type (e.g. "ecg"), in the units of
        `MNE_UNITS` (the Raw's own for other types)."""
        eeg = raw.copy().pick("eeg")
        data = eeg.get_data() / UNIT_TO_VOLTS["uV"]
        extra = dict(fields.pop("extra", {}))
        for ch_type in dict.fromkeys(raw.get_channel_types()):
            if ch_type != "eeg":
                part = raw.copy().pick(ch_type)
                unit = MNE_UNITS.get(ch_type, "a.u.")
                values = part.get_data() / si_scale(unit)
                extra[ch_type] = Signal(values, part.info["sfreq"], part.ch_names, unit, ch_type)
        return cls(data, eeg.info["sfreq"], eeg.ch_names, subject, unit="uV", extra=extra, **fields)


#: Units `from_mne` gives the channels of these MNE types (MNE holds them in V and S).
MNE_UNITS = {"ecg": "uV", "emg": "uV", "eog": "uV", "gsr": "uS"}
#: Units `to_mne` scales to SI (V, S); any other unit is kept as it is.
SI_SCALE = {**UNIT_TO_VOLTS, "S": 1.0, "mS": 1e-3, "uS": 1e-6, "µS": 1e-6}
#: How much longer or shorter (s) than its segment an extra stream may be (ours).
EXTRA_SLACK_SECONDS = 1.0


def si_scale(unit: str) -> float:
    """Factor from `unit` to SI (V, S); 1 for units without one (a.u., degC, %, g ...)."""
    return SI_SCALE.get(unit, 1.0)


def resample_extra(signal: Signal, sfreq: float, n_times: int, name: str = "extra") -> np.ndarray:
    """`signal`'s data at `sfreq`, exactly `n_times` samples long: (n_channels, n_times).

    Resampled with `scipy.signal.resample_poly` (its anti-aliasing FIR, no phase shift) at the
    ratio of the two rates, then cut, or padded with its last value, to `n_times` samples; a
    stream more than `EXTRA_SLACK_SECONDS` longer or shorter raises ValueError naming it.
    """
    from fractions import Fraction

    from scipy.signal import resample_poly

    values = np.asarray(signal.data, dtype=float)
    if signal.sfreq != sfreq:
        ratio = Fraction(sfreq / signal.sfreq).limit_denominator(1000)
        values = resample_poly(values, ratio.numerator, ratio.denominator, axis=-1)
    if abs(values.shape[1] - n_times) / sfreq > EXTRA_SLACK_SECONDS:
        raise ValueError(
            f"extra stream {name!r} lasts {values.shape[1] / sfreq:.2f} s and its segment "
            f"{n_times / sfreq:.2f} s; they must agree within {EXTRA_SLACK_SECONDS:g} s"
        )
    if values.shape[1] >= n_times:
        return values[:, :n_times]
    return np.pad(values, ((0, 0), (0, n_times - values.shape[1])), mode="edge")


@dataclass
class WindowSet:
    """Windows cut from recordings, with one row of metadata per window.

    Attributes:
        X: (n_windows, ...) features or raw windows, e.g. (n_windows, n_channels, n_bands).
        groups: structured array (n_windows,) with fields subject, session, trial, start, stop,
            stimulus (`GROUP_FIELDS`);
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


def make_groups(n, subject, session, trial, starts, stops, stimulus="") -> np.ndarray:
    """Window metadata for `n` windows of one trial as a structured array; `stimulus` names
    the clip or video the trial showed ("" when unknown; `stimulus_field`)."""
    groups = np.empty(n, dtype=list(GROUP_FIELDS))
    groups["subject"] = subject
    groups["session"] = session
    groups["trial"] = trial
    groups["start"] = starts
    groups["stop"] = stops
    groups["stimulus"] = stimulus_field(stimulus)
    return groups


def stimulus_field(stimulus) -> str:
    """A stimulus id as its window-metadata field: the id itself when it fits `STIMULUS_WIDTH`
    characters, else its first 15 characters, "~" and 16 hex digits of its SHA-256 (so two
    long ids never collide by a shared prefix)."""
    text = str(stimulus)
    if len(text) <= STIMULUS_WIDTH:
        return text
    import hashlib

    return f"{text[:15]}~{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def trial_keys(groups: np.ndarray) -> np.ndarray:
    """One string per window naming its trial, e.g. "s03/1/12" (subject/session/trial)."""
    return np.char.add(
        np.char.add(np.char.add(groups["subject"].astype(str), "/"), groups["session"].astype(str)),
        np.char.add("/", groups["trial"].astype(str)),
    )
