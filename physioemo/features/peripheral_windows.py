"""Recordings -> per-window peripheral features, time and EDA target: the "peripheral" recipe,
for the EDA PINN (papers.md 2.4) or any model on wearable physiology (WESAD, DEAP's peripheral
channels, DREAMER's ECG, a recorded live stream).

Windows are cut per recording on one grid in seconds (start k * stride, length window), so no
window crosses a recording (WESAD: a condition segment), and every stream is windowed at its
own rate with the same bounds in seconds.

Inputs are feature groups (`GROUPS`), each computed by one modality's kernel (`physio`) from
the recording stream that carries that modality (`STREAM_NAMES`: the first one the recording
has). By default (``inputs="auto"``) every group of `DEFAULT_GROUPS` whose modality the
recording carries: on WESAD heart rate and variability (chest ECG; ``heart="wrist_bvp"`` or
"ppg" for the wrist BVP), respiration rate (chest), wrist temperature mean and slope, wrist
ACC magnitude in g, and the *phasic* side of the wrist EDA (SCR count and mean amplitude).
The EDA *level* ("eda": the tonic mean) is left out unless asked for: the PINN's target is the
window's mean EDA, so the level (of the wrist or the chest sensor, which measures the same
skin conductance at another site) would make the regression an identity, and the tonic slope
with the condition nearly fixes the level through the ODE itself. The SCR features are
high-passed (0.05 Hz) and carry no level. Ours, from papers.md's list.

``causal=True`` computes every feature from samples up to the end of its window
(`physio` module docstring), as a live stream does (`features.streaming.PeripheralStream`).
"""

from __future__ import annotations

import numpy as np

from ..recording import Recording, Signal, WindowSet
from ..windows import Part
from . import physio

#: feature group -> the features it gives, in column order
GROUPS = {
    "heart": ("hr_mean", "sdnn", "rmssd"),  # bpm, ms, ms
    "resp": ("resp_rate",),  # breaths/min
    "temp": ("temp_mean", "temp_slope"),  # degC, degC/s
    "acc": ("acc_mean", "acc_std"),  # |ACC| in g (other units as they are)
    "scr": ("scr_count", "scr_amplitude"),  # per window, uS (mean prominence, 0 without SCRs)
    "eda": ("tonic_mean",),  # uS: the EDA level (opt-in, see the module docstring)
}
#: group -> the modalities that can feed it (heart: ECG or PPG, the `heart` parameter picks)
GROUP_MODALITIES = {
    "heart": ("ecg", "ppg"),
    "resp": ("resp",),
    "temp": ("temp",),
    "acc": ("acc",),
    "scr": ("eda",),
    "eda": ("eda",),
}
#: the groups of ``inputs="auto"``, those the recording carries
DEFAULT_GROUPS = ("heart", "resp", "temp", "acc", "scr")
#: the columns of the default inputs on WESAD
FEATURE_NAMES = tuple(name for group in DEFAULT_GROUPS for name in GROUPS[group])
#: modality -> names of the recording streams that carry it, the first one found is used
#: (WESAD's chest ECG and respiration, its wrist sensors; DEAP's and DREAMER's names; the
#: modality names of a recorded live source). "chest_ecg" is WESAD's data row "chest_ECG".
STREAM_NAMES = {
    "ecg": ("chest_ecg", "ecg"),
    "ppg": ("wrist_bvp", "bvp", "ppg"),
    "resp": ("chest_resp", "resp"),
    "temp": ("wrist_temp", "temp"),
    "acc": ("wrist_acc", "acc"),
    "eda": ("wrist_eda", "gsr", "eda"),
}
#: acceleration units -> factor to g (others are kept as they are)
ACC_TO_G = {"g": 1.0, "1/64 g": 1 / 64, "mg": 1e-3, "m/s^2": 1 / 9.80665, "m/s2": 1 / 9.80665}


def feature_names(inputs) -> list[str]:
    """The columns of resolved `inputs` ([(group, modality), ...])."""
    return [name for group, _ in inputs for name in GROUPS[group]]


def assemble(inputs, values: dict) -> list:
    """Columns in the order of `inputs` from values: modality -> {feature name: value(s)}."""
    return [values[modality][name] for group, modality in inputs for name in GROUPS[group]]


def peripheral_part(
    recording: Recording, window=60.0, stride=5.0, heart="auto", inputs="auto", causal=False
) -> Part:
    """Features, time and EDA target of every window of one recording.

    recording: the streams of `STREAM_NAMES` as `extra` signals or `data` rows.
    window, stride: seconds (papers.md: 60 s and 0.25 s); both must be whole numbers of samples
        at every stream's rate. A recording shorter than `window` gives no windows.
    heart: the stream (or modality "ecg"/"ppg") of the heart features; "auto": ECG when the
        recording has one, else PPG. inputs: "auto" or groups of `GROUPS` (all required).
    causal: features from samples up to each window's end only (module docstring).
    Returns a `Part`: X (n, n_features) (NaN where a window holds too few beats or breaths),
    names the columns; extra "t" (n,) window centre / recording duration in [0, 1] and, with
    an EDA stream in uS, "eda" (n,) its window mean (the PINN's target; DEAP's GSR, in
    arbitrary units, gives none); starts/stops in samples of `data`.
    """
    chosen = choose_inputs(recording, heart, inputs)
    streams = {modality: _stream(recording, name) for _, modality, name in chosen}
    target = _eda_target(recording)
    if target is not None:
        streams.setdefault("eda", _stream(recording, target))
    resolved = [(group, modality) for group, modality, _ in chosen]
    n = _n_windows(recording, streams, window, stride)
    names = tuple(feature_names(resolved))
    if not n:
        empty = np.zeros(0, dtype=np.int64)
        extra = {"t": np.zeros(0), **({"eda": np.zeros(0)} if target else {})}
        return Part(np.zeros((0, len(names))), empty, empty, extra, names)
    values = {}
    for modality in dict.fromkeys(m for _, m in resolved):
        data, rate = streams[modality]
        kernel = physio.kernel(modality)
        values[modality] = physio.window_values(kernel, data, rate, window, stride, causal)
    x = np.column_stack([column[:n] for column in assemble(resolved, values)])
    starts = np.arange(n) * stride  # seconds
    extra = {"t": (starts + window / 2) / recording.duration}
    if target is not None:
        eda, rate = streams["eda"]
        size = int(round(window * rate))
        first = np.round(starts * rate).astype(int)
        extra["eda"] = np.array([eda[0, a : a + size].mean() for a in first])
    first = np.round(starts * recording.sfreq).astype(np.int64)
    last = first + int(round(window * recording.sfreq))
    return Part(x, first, last, extra, names)


def choose_inputs(recording: Recording, heart="auto", inputs="auto") -> list[tuple[str, str, str]]:
    """(group, modality, stream name) of every input of a recording (see `peripheral_part`);
    KeyError naming the stream an asked-for group lacks, ValueError for unknown names."""
    groups = _groups(inputs)
    heart_modality, heart_stream = _heart(recording, heart)
    chosen = []
    for group in groups:
        modality = heart_modality if group == "heart" else GROUP_MODALITIES[group][0]
        name = heart_stream if group == "heart" else _first_stream(recording, modality)
        optional = inputs == "auto" and (group != "heart" or heart == "auto")
        if name is None and optional:
            continue
        if name is None:
            raise KeyError(
                f"recording {recording.subject}/{recording.trial} has no {modality} stream "
                f"({' or '.join(map(repr, STREAM_NAMES[modality]))}; has "
                f"{sorted(recording.extra)})"
            )
        chosen.append((group, modality, name))
    if not chosen:
        raise KeyError(
            f"recording {recording.subject}/{recording.trial} has no peripheral stream "
            f"(looked for {sorted({n for names in STREAM_NAMES.values() for n in names})})"
        )
    return chosen


def _groups(inputs) -> tuple[str, ...]:
    if inputs == "auto":
        return DEFAULT_GROUPS
    groups = tuple(inputs.replace(",", " ").split() if isinstance(inputs, str) else inputs)
    unknown = [group for group in groups if group not in GROUPS]
    if unknown or not groups:
        raise ValueError(f"inputs must be 'auto' or groups of {list(GROUPS)}, got {inputs!r}")
    return groups


def _heart(recording: Recording, heart: str) -> tuple[str, str | None]:
    """(modality, stream name or None) of the heart features."""
    if heart == "auto":
        for modality in GROUP_MODALITIES["heart"]:
            name = _first_stream(recording, modality)
            if name is not None:
                return modality, name
        return "ecg", None
    for modality in GROUP_MODALITIES["heart"]:
        if heart == modality:
            return modality, _first_stream(recording, modality)
        if heart in STREAM_NAMES[modality]:
            return modality, heart if _has(recording, heart) else None
    named = sorted({"auto", "ecg", "ppg", *STREAM_NAMES["ecg"], *STREAM_NAMES["ppg"]})
    raise ValueError(f"heart must be one of {named}, got {heart!r}")


def _has(recording: Recording, name: str) -> bool:
    return name in recording.extra or name in {n.lower() for n in recording.ch_names}


def _first_stream(recording: Recording, modality: str) -> str | None:
    return next((name for name in STREAM_NAMES[modality] if _has(recording, name)), None)


def find_stream(recording: Recording, modality: str) -> Signal | None:
    """The recording's first stream of `modality` (`STREAM_NAMES`; a row of `data` in the
    recording's unit, acceleration in g when its unit says how), or None when it has none."""
    name = _first_stream(recording, modality)
    if name is None:
        return None
    data, rate = _stream(recording, name)
    signal = recording.extra.get(name)
    unit = recording.unit if signal is None else signal.unit
    names = [n for n in recording.ch_names if n.lower() == name] if signal is None else None
    if modality == "acc" and unit in ACC_TO_G:
        unit = "g"
    return Signal(data, rate, names or signal.ch_names, unit, modality)


def _eda_target(recording: Recording) -> str | None:
    """The EDA stream whose window means are the PINN's target: the first one, if in uS."""
    name = _first_stream(recording, "eda")
    signal = recording.extra.get(name) if name else None
    return name if signal is not None and signal.unit == "uS" else None


def _stream(recording: Recording, name: str) -> tuple[np.ndarray, float]:
    """(n_channels, n_times) and rate of a stream: an extra signal, else a row of `data`
    (any case); acceleration in g when its unit says how (`ACC_TO_G`)."""
    if name not in recording.extra:
        rows = [i for i, ch in enumerate(recording.ch_names) if ch.lower() == name]
        return recording.data[rows], recording.sfreq
    signal = recording.extra[name]
    scale = ACC_TO_G.get(signal.unit, 1.0) if name in STREAM_NAMES["acc"] else 1.0
    return signal.data * scale if scale != 1.0 else signal.data, signal.sfreq


def whole_samples(seconds: float, rate: float, what: str, name: str) -> None:
    """ValueError unless `seconds` is a positive whole number of samples at `rate` Hz."""
    if seconds <= 0 or not np.isclose(seconds * rate, round(seconds * rate)):
        raise ValueError(
            f"{what} {seconds} s is not a whole number of samples of {name} at {rate:g} Hz"
        )


def _n_windows(recording, streams, window, stride) -> int:
    """How many windows fit in the shortest stream (and the data) of the recording."""
    for name, (_, rate) in streams.items():
        whole_samples(window, rate, "window", name)
        whole_samples(stride, rate, "stride", name)
    duration = min(recording.duration, *(d.shape[1] / rate for d, rate in streams.values()))
    if duration < window:
        return 0
    return int(np.floor((duration - window) / stride + 1e-9)) + 1


def finish_peripheral(windows: WindowSet, **_) -> WindowSet:
    """Drop windows with a NaN feature (too few beats or breaths; counted in info). An EDA
    target "eda" stays in uS: each fold scales it on its training windows
    (`minmax_per_subject`, `experiment.jobs`)."""
    complete = np.isfinite(windows.X).reshape(len(windows), -1).all(axis=1)
    kept = windows.select(complete)
    kept.info["dropped_nan_windows"] = int((~complete).sum())
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
