"""Recordings -> per-window peripheral features, EDA target and time, for the EDA PINN
(papers.md 2.4) or any model on WESAD-style wearable physiology.

Each recording is one condition segment (WESAD: `physioemo.datasets.wesad`). Windows are cut
per recording on one grid in seconds (start k * stride, length window), so no window crosses a
segment, and every stream is windowed at its own rate with the same bounds in seconds.

Inputs (ours, from papers.md's list): heart rate and variability (chest ECG or wrist BVP),
respiration rate (chest), wrist temperature mean and slope, wrist ACC magnitude, and the
*phasic* side of the wrist EDA (SCR count and mean amplitude). The EDA *level* is left out of
the inputs on purpose: the target is the window's mean wrist EDA, so the tonic mean, min, max
(of the wrist or the chest sensor, which measures the same skin conductance at another site)
would make the regression an identity, and the tonic slope with the condition nearly fixes the
level through the ODE itself. The SCR features are high-passed (0.05 Hz) and carry no level.
"""

from __future__ import annotations

import numpy as np

from ..recording import Recording, WindowSet
from ..windows import Part
from . import physio

#: the input features, in column order
FEATURE_NAMES = (
    "hr_mean",  # bpm
    "sdnn",  # ms
    "rmssd",  # ms
    "resp_rate",  # breaths/min
    "temp_mean",  # degC
    "temp_slope",  # degC/s
    "acc_mean",  # |ACC| in the stream's unit (WESAD wrist: 1/64 g)
    "acc_std",
    "scr_count",  # per window
    "scr_amplitude",  # uS, mean prominence (0 without SCRs)
)
HEART_STREAMS = {"chest_ecg": "ecg", "wrist_bvp": "bvp"}
OTHER_STREAMS = ("chest_resp", "wrist_temp", "wrist_acc", "wrist_eda")


def peripheral_part(recording: Recording, window=60.0, stride=5.0, heart="chest_ecg") -> Part:
    """Features, time and EDA target of every window of one WESAD-style recording.

    recording: holds the WESAD streams: "chest_ECG" in `data` (heart="chest_ecg") or extra
        "wrist_bvp" (heart="wrist_bvp"), and extra "chest_resp", "wrist_temp", "wrist_acc",
        "wrist_eda".
    window, stride: seconds (papers.md: 60 s and 0.25 s); both must be whole numbers of samples
        at every stream's rate. A recording shorter than `window` gives no windows.
    Returns a `Part`: X (n, len(FEATURE_NAMES)) features (NaN where a window holds too few
    beats or breaths); extra "t" (n,) window centre / segment duration in [0, 1] and "eda" (n,)
    mean wrist EDA of the window in uS; starts/stops in samples of `Recording.data` (700 Hz
    for WESAD).
    """
    if heart not in HEART_STREAMS:
        raise ValueError(f"heart must be one of {sorted(HEART_STREAMS)}, got {heart!r}")
    streams = {name: _stream(recording, name) for name in (heart, *OTHER_STREAMS)}
    n = _n_windows(recording, streams, window, stride)
    if not n:
        empty = np.zeros(0, dtype=np.int64)
        extra = {"t": np.zeros(0), "eda": np.zeros(0)}
        return Part(np.zeros((0, len(FEATURE_NAMES))), empty, empty, extra)
    return _windows(recording, streams, n, window, stride, heart)


def finish_peripheral(windows: WindowSet, **_) -> WindowSet:
    """Drop windows with a NaN feature (too few beats or breaths; counted in info). The EDA
    target "eda" stays in uS: each fold scales it on its training windows (`minmax_per_subject`,
    `experiment.jobs`)."""
    complete = np.isfinite(windows.X).all(axis=1)
    kept = windows.select(complete)
    kept.info["dropped_nan_windows"] = int((~complete).sum())
    kept.info["feature_names"] = list(FEATURE_NAMES)
    return kept


def minmax_per_subject(values: np.ndarray, subjects: np.ndarray, fit=None) -> np.ndarray:
    """values (n,) scaled to [0, 1] within each subject (papers.md's EDA target) by the range
    of its rows among `fit` (int positions; None: all rows). A subject without rows in `fit`
    (held out) takes the mean low and high of the others (ours: papers.md scales each subject
    by its own range, under leave-one-subject-out the test subject's); a subject whose range
    is empty gets 0, and values outside the fitted range fall outside [0, 1]."""
    values = np.asarray(values, dtype=np.float64)
    fit = np.arange(len(values)) if fit is None else np.asarray(fit, dtype=int)
    if not fit.size:
        raise ValueError("minmax_per_subject: no rows to fit the ranges on")
    fitted, owners = values[fit], subjects[fit]
    ranges = {s: (fitted[owners == s].min(), fitted[owners == s].max()) for s in np.unique(owners)}
    unseen = tuple(np.mean(list(ranges.values()), axis=0))
    out = np.zeros_like(values)
    for subject in np.unique(subjects):
        mine = subjects == subject
        low, high = ranges.get(subject, unseen)
        if high > low:
            out[mine] = (values[mine] - low) / (high - low)
    return out


def _stream(recording: Recording, name: str) -> tuple[np.ndarray, float]:
    """(n_channels, n_times) and rate of a stream; "chest_ecg" is row "chest_ECG" of data."""
    if name == "chest_ecg" and "chest_ECG" in recording.ch_names:
        return recording.data[[recording.ch_names.index("chest_ECG")]], recording.sfreq
    if name not in recording.extra:
        raise KeyError(
            f"recording {recording.subject}/{recording.trial} has no stream {name!r} "
            f"(has {sorted(recording.extra)})"
        )
    signal = recording.extra[name]
    return signal.data, signal.sfreq


def _n_windows(recording, streams, window, stride) -> int:
    """How many windows fit in the shortest stream (and the data) of the recording."""
    for name, (_, rate) in streams.items():
        for seconds, what in ((window, "window"), (stride, "stride")):
            if seconds <= 0 or not np.isclose(seconds * rate, round(seconds * rate)):
                raise ValueError(
                    f"{what} {seconds} s is not a whole number of samples of {name} at {rate:g} Hz"
                )
    duration = min(recording.duration, *(d.shape[1] / rate for d, rate in streams.values()))
    if duration < window:
        return 0
    return int(np.floor((duration - window) / stride + 1e-9)) + 1


def _windows(recording, streams, n, window, stride, heart):
    def one(name):
        data, rate = streams[name]
        return data[0], rate

    options = {"window": window, "stride": stride}
    features = {
        **physio.heart_features(*one(heart), HEART_STREAMS[heart], **options),
        **physio.respiration_rate(*one("chest_resp"), **options),
        **physio.temperature_features(*one("wrist_temp"), **options),
        **physio.acc_features(*streams["wrist_acc"], **options),
        **physio.eda_features(*one("wrist_eda"), **options),
    }
    x = np.column_stack([features[name][:n] for name in FEATURE_NAMES])
    starts = np.arange(n) * stride  # seconds
    eda, eda_rate = one("wrist_eda")
    size = int(round(window * eda_rate))
    target = np.array([eda[a : a + size].mean() for a in np.round(starts * eda_rate).astype(int)])
    first = np.round(starts * recording.sfreq).astype(np.int64)
    last = first + int(round(window * recording.sfreq))
    extra = {"t": (starts + window / 2) / recording.duration, "eda": target}
    return Part(x, first, last, extra)
