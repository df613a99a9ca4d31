"""Recordings to EDF+/BDF+ files (pyedflib) and back (MNE).

`export` writes the recordings of one subject end to end: for each, its baseline (if any) then
its trial, every channel of `data` and of the `extra` streams (DREAMER's ECG, DEAP's peripheral
channels, at their own rates) as one EDF signal, typed by its label. Annotations (ours, each at
most 40 characters, the EDF+ writer's limit) mark the segments and carry the ratings:

* ``"baseline <trial> session <session>"`` and ``"trial <trial> session <session>"`` with the
  segment's onset and duration;
* ``"<rating>=<value>"`` (e.g. ``"valence=7.08"``) at the trial's onset, duration 0.

`read` splits a file at those annotations into `Recording`s of its EEG again; a file without
them becomes one recording. Each signal's physical range is the channel's own range over the
file, rounded outwards to what the 8-character header field can hold, so no sample is clipped;
samples are rounded to the nearest of the 2**16 (EDF) or 2**24 (BDF) steps of that range.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..montage import channel_types
from ..recording import UNIT_TO_VOLTS, Recording, Signal, resample_extra

#: format -> (pyedflib file type, digital min, digital max)
FORMATS = {"edf": (1, -32768, 32767), "bdf": (3, -8388608, 8388607)}  # EDF+ and BDF+
MAX_ANNOTATION = 40
MAX_LABEL = 16
#: MNE channel type -> EDF+ label prefix: the names MNE's EDF reader knows (``infer_types``).
#: It knows no GSR/EDA, so "gsr" is written as "BIO" (typed bio, not EEG, by MNE; ours).
EDF_TYPES = {
    "ecg": "ECG",
    "emg": "EMG",
    "eog": "EOG",
    "resp": "RESP",
    "temperature": "TEMP",
    "bio": "BIO",
    "gsr": "BIO",
    "misc": "MISC",
    "stim": "STIM",
}
#: Label prefixes of the signals `read` leaves out.
NOT_EEG = set(EDF_TYPES.values()) | {"SAO2", "SEEG", "ECOG", "DBS"}
_SEGMENT = re.compile(r"(trial|baseline) (-?\d+) session (-?\d+)")
_RATING = re.compile(r"(\w+)=(\S+)")


def header_bound(value: float, up: bool) -> float | int:
    """The number nearest `value` (not below it if `up`, else not above) whose decimal text
    fits the 8 characters of an EDF header field."""
    for decimals in range(7, -1, -1):
        scale = 10**decimals
        bound = (math.ceil if up else math.floor)(value * scale) / scale
        if (bound < value) if up else (bound > value):  # floating point put it on the wrong side
            bound += (1 if up else -1) / scale
        text = f"{bound:.{decimals}f}"
        if len(text) <= 8:
            number = float(text)  # integers as int: pyedflib would write "8388607.0"
            return int(number) if number.is_integer() else number
    raise ValueError(f"{value} cannot be written in an EDF header field (8 characters)")


def signal_header(label: str, values: np.ndarray, sfreq: float, unit: str, format: str) -> dict:
    """pyedflib signal header for `values` (n_times,): physical range from the data."""
    low, high = float(np.min(values)), float(np.max(values))
    if high - low < 1e-6:
        low, high = low - 1.0, high + 1.0
    _, digital_min, digital_max = FORMATS[format]
    return {
        "label": label,
        "dimension": unit,
        "sample_frequency": sfreq,
        "physical_min": header_bound(low, up=False),
        "physical_max": header_bound(high, up=True),
        "digital_min": digital_min,
        "digital_max": digital_max,
        "transducer": "",
        "prefilter": "",
    }


def to_digital(values: np.ndarray, header: dict) -> np.ndarray:
    """Physical `values` as the nearest digital codes of `header`'s range (pyedflib itself
    truncates, which doubles the worst-case error)."""
    low, high = header["physical_min"], header["physical_max"]
    codes_low, codes_high = header["digital_min"], header["digital_max"]
    codes = np.rint((values - low) * (codes_high - codes_low) / (high - low) + codes_low)
    return np.clip(codes, codes_low, codes_high).astype(np.int32)


def export(
    recordings: list[Recording], path: str | Path, format: str = "bdf", extra: bool = True
) -> Path:
    """Write `recordings` (same channels and rate) to one EDF+ ("edf") or BDF+ ("bdf") file.

    extra: also write each recording's `extra` streams (for its baseline segment, their
        ``"<name>_baseline"`` twins), every stream at its own rate (EDF signals each have their
        own; nothing is resampled), cut or padded to the segment's duration like
        `recording.resample_extra`. Every recording must carry the same streams.
    Labels follow EDF+'s "<type> <name>": EEG channels keep their bare name, the others get the
    prefix of `EDF_TYPES` (MNE's EDF reader types them with ``infer_types=True``); a label
    longer than EDF's 16 characters is cut, with a warning.
    The first recording's ``meta["start"]`` (datetime) and ``meta["equipment"]``, when given,
    fill the file's start date and equipment fields.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be 'edf' or 'bdf', got {format!r}")
    recordings = list(recordings)
    _check_layout(recordings)
    first = recordings[0]
    streams = _streams(recordings) if extra else {}
    columns = [
        Column(n, t, first.sfreq, first.unit)
        for n, t in zip(first.ch_names, channel_types(first.ch_names), strict=True)
    ]
    for signal in streams.values():
        columns += [Column(n, signal.ch_type, signal.sfreq, signal.unit) for n in signal.ch_names]
    annotations, n_times = _segments(recordings, streams, columns)
    path = Path(path)
    _write(path, format, columns, annotations, n_times, first)
    return path


def _check_layout(recordings: list[Recording]) -> None:
    """Refuse no recordings, or recordings whose channels or rate differ from the first's."""
    if not recordings:
        raise ValueError("no recordings to export")
    first = recordings[0]
    for recording in recordings[1:]:
        if recording.ch_names != first.ch_names or recording.sfreq != first.sfreq:
            raise ValueError(
                f"trial {recording.trial} of {recording.subject} has other channels or another "
                f"rate than trial {first.trial}; export recordings of one layout per file"
            )


def _segments(recordings: list[Recording], streams: dict, columns: list[Column]):
    """Append each recording's baseline (if any), then its trial, to the pieces of `columns`
    (the EEG rescaled to the first recording's unit, then every stream of `streams`).

    Returns (annotations, n_times): each annotation (onset, duration or None, text) in samples
    at the EEG rate, and the samples written.
    """
    unit = recordings[0].unit
    annotations, onset = [], 0
    for recording in recordings:
        segment = f"{recording.trial} session {recording.session}"
        parts = [(True, recording.baseline)] if recording.baseline is not None else []
        for is_baseline, values in [*parts, (False, recording.data)]:
            kind = "baseline" if is_baseline else "trial"
            n = values.shape[1]
            blocks = [values * UNIT_TO_VOLTS[recording.unit] / UNIT_TO_VOLTS[unit]]
            blocks += [_segment_of(recording, key, is_baseline, n) for key in streams]
            rows = iter(row for block in blocks for row in block)
            for column, row in zip(columns, rows, strict=True):
                column.pieces.append(row)
            annotations.append((onset, n, f"{kind} {segment}"))
            if not is_baseline:
                for name, value in recording.ratings.items():
                    annotations.append((onset, None, f"{name}={float(value)!r}"))
            onset += n
    too_long = [text for _, _, text in annotations if len(text) > MAX_ANNOTATION]
    if too_long:
        raise ValueError(f"annotation {too_long[0]!r} exceeds {MAX_ANNOTATION} characters")
    return annotations, onset


def _write(path: Path, format: str, columns: list[Column], annotations, n_times: int, first):
    """Write the `columns` and `annotations` (from `_segments`, `n_times` samples at the rate
    of `first`, the first recording, whose subject and meta fill the file's header)."""
    import pyedflib

    signals = [np.concatenate(column.pieces) for column in columns]
    headers = [
        signal_header(column.label, values, column.sfreq, column.unit, format)
        for column, values in zip(columns, signals, strict=True)
    ]
    file_type = FORMATS[format][0]
    with pyedflib.EdfWriter(str(path), len(headers), file_type=file_type) as writer:
        writer.setSignalHeaders(headers)
        writer.set_number_of_annotation_signals(
            _annotation_signals(len(annotations), n_times, first)
        )
        writer.setPatientCode(first.subject)
        if "start" in first.meta:  # a datetime, e.g. when a live recording began
            writer.setStartdatetime(first.meta["start"])
        if "equipment" in first.meta:  # EDF+ header subfields take no spaces
            # 50: the EDF+ recording field holds start date, codes and equipment in 80 characters
            writer.setEquipment(str(first.meta["equipment"]).replace(" ", "_")[:50])
        codes = [to_digital(row, header) for row, header in zip(signals, headers, strict=True)]
        writer.writeSamples(codes, digital=True)
        for start, length, text in annotations:
            duration = -1 if length is None else length / first.sfreq
            writer.writeAnnotation(start / first.sfreq, duration, text)


@dataclass
class Column:
    """One EDF signal: a channel of `data` or of an extra stream, and its pieces per segment."""

    name: str
    ch_type: str
    sfreq: float
    unit: str
    pieces: list = field(default_factory=list)

    @property
    def label(self) -> str:
        """EDF+ "<type> <name>" (bare name for EEG), cut to 16 characters with a warning."""
        prefix = EDF_TYPES.get(self.ch_type, "MISC")
        label = self.name if self.ch_type == "eeg" else f"{prefix} {self.name}"
        if len(label) > MAX_LABEL:
            warnings.warn(
                f"EDF label {label!r} cut to {label[:MAX_LABEL]!r} (16 characters)", stacklevel=4
            )
        return label[:MAX_LABEL]


def _streams(recordings: list[Recording]) -> dict[str, Signal]:
    """The extra streams of the first trial, by name, checked to be alike in every recording
    (names, rate, unit, type) and to have their baseline twins wherever there is a baseline."""
    first = recordings[0]

    def layout(recording):
        streams = recording.extra_streams()
        return {k: (s.ch_names, s.sfreq, s.unit, s.ch_type) for k, s in streams.items()}

    for recording in recordings:
        where = f"trial {recording.trial} of {recording.subject}"
        if layout(recording) != layout(first):
            raise ValueError(
                f"the extra streams of {where} differ from those of trial {first.trial}; "
                "export with extra=False or recordings whose streams match"
            )
        lacking = set(layout(first)) - set(recording.extra_streams(baseline=True))
        if recording.baseline is not None and lacking:
            names = ", ".join(f"{k}_baseline" for k in sorted(lacking))
            raise ValueError(f"{where} has a baseline but no {names}; export with extra=False")
    return first.extra_streams()


def _segment_of(recording: Recording, key: str, baseline: bool, n: int) -> np.ndarray:
    """Stream `key` over a segment of `n` samples at the recording's rate, at its own rate."""
    signal = recording.extra_streams(baseline)[key]
    length = int(round(n / recording.sfreq * signal.sfreq))
    return resample_extra(signal, signal.sfreq, length, key)


def _annotation_signals(n_annotations: int, n_times: int, recording: Recording) -> int:
    """Annotation signals needed: the EDF+ writer stores one annotation per signal per 1-s
    data record (at most 64 signals)."""
    n_records = max(1, math.ceil(n_times / recording.sfreq))
    needed = math.ceil(n_annotations / n_records)
    if needed > 64:
        raise ValueError(
            f"{n_annotations} annotations do not fit {n_records} s of data; "
            "export fewer, longer recordings per file"
        )
    return needed


def _labels(path: Path) -> list[str]:
    """The signal labels of an EDF/BDF header."""
    import pyedflib

    with pyedflib.EdfReader(str(path)) as reader:
        return reader.getSignalLabels()


def read(path: str | Path, subject: str | None = None) -> list[Recording]:
    """The recordings of an EDF/BDF file (data in uV), split at `export`'s annotations.

    subject: the recordings' subject (default: the file name without suffix).
    Only the EEG is read, at its own rate: signals whose label starts with a type of another
    kind ("ECG ECG1", see `EDF_TYPES`) are left out before MNE reads the file (MNE would
    resample every signal to the highest rate); read those with
    ``mne.io.read_raw_bdf(path, infer_types=True)``.
    """
    import mne

    path = Path(path)
    reader = mne.io.read_raw_bdf if path.suffix.lower() == ".bdf" else mne.io.read_raw_edf
    others = [label for label in _labels(path) if label.split(" ")[0].upper() in NOT_EEG]
    raw = reader(path, exclude=others, verbose="error").pick("eeg")
    sfreq = raw.info["sfreq"]
    subject = subject or path.stem
    segments, ratings = {}, {}
    for annotation in raw.annotations:
        start = int(round(annotation["onset"] * sfreq))
        text = annotation["description"]
        if match := _SEGMENT.fullmatch(text):
            stop = start + int(round(annotation["duration"] * sfreq))
            key = (int(match.group(3)), int(match.group(2)))
            segments.setdefault(key, {})[match.group(1)] = (start, stop)
        elif match := _RATING.fullmatch(text):
            ratings.setdefault(start, {})[match.group(1)] = float(match.group(2))

    def values(start, stop):
        return raw.get_data(start=start, stop=stop) / UNIT_TO_VOLTS["uV"]

    if not segments:
        return [Recording(values(0, raw.n_times), sfreq, raw.ch_names, subject)]
    recordings = []
    trials = [item for item in segments.items() if "trial" in item[1]]
    for (session, trial), parts in sorted(trials, key=lambda item: item[1]["trial"]):
        start, stop = parts["trial"]
        rest = parts.get("baseline")
        recordings.append(
            Recording(
                values(start, stop),
                sfreq,
                raw.ch_names,
                subject,
                session=session,
                trial=trial,
                ratings=ratings.get(start, {}),
                baseline=None if rest is None else values(*rest),
            )
        )
    return recordings
