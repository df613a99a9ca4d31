"""WESAD (Schmidt et al., 2018): chest (RespiBAN) and wrist (Empatica E4) physiology under
baseline, stress (TSST), amusement and meditation, 15 subjects S2-S17.

Reads each subject folder ``SX/`` exactly as distributed:

* ``SX.pkl``: a Python 2 pickle (opened with the allow-list unpickler) of a dict with ``signal``,
  ``label`` and ``subject``. ``signal["chest"]`` holds ``ACC`` (n, 3), ``ECG``, ``EMG``, ``EDA``,
  ``Temp``, ``Resp`` (n, 1), all at 700 Hz; ``signal["wrist"]`` holds ``ACC`` (32 Hz, 3 axes),
  ``BVP`` (64 Hz), ``EDA`` and ``TEMP`` (4 Hz). ``label`` (n,) at 700 Hz: 1 baseline, 2 stress,
  3 amusement, 4 meditation; 0 and 5-7 are transients and other periods. Keys are matched
  case-insensitively (the distribution mixes ``Temp`` and ``TEMP``).
* ``SX_quest.csv``: semicolon rows tagged ``# ORDER`` / ``# START`` / ``# END`` (the protocol's
  conditions in the order they were run), then one ``# PANAS``, ``# STAI`` and ``# DIM`` (SAM
  valence, arousal; 1-9) row per protocol condition in that order and one ``# SSSQ`` row for the
  stress condition; ``Nan`` marks a missing answer.
* ``SX_readme.txt``: ``Key: value`` lines (age, height, weight, gender, dominant hand, ...).

Mapping onto `Recording` (ours): every run of one condition code in ``label`` is one recording
(trial 1, 2, ... in time order; the two meditations are two recordings). ``data`` is the chest
ECG and EMG, (2, n_times) in mV at 700 Hz (channels "chest_ECG", "chest_EMG"); every other
stream is an ``extra`` `Signal` at its own rate, cut to the same time span: "chest_acc" (g),
"chest_eda" (uS), "chest_temp" (degC), "chest_resp" (%), "wrist_acc" (1/64 g), "wrist_bvp"
(E4 units), "wrist_eda" (uS), "wrist_temp" (degC). Units as the WESAD readme's conversions give
them; the pickle itself does not state them.

Ratings: ``condition`` (the label code), ``valence`` and ``arousal`` (the condition's SAM answers,
NaN where the subject left them out). ``meta`` holds the condition name, the questionnaire's
name of the condition, its START/END text, the PANAS and STAI answers by item, the SSSQ answers
(stress only, else None), the start time in seconds, age and gender (None when the readme lacks
them) and all ``Key: value`` lines of the readme.
`physioemo.labels.categorical("wesad", ...)` gives the 3-class, binary and 4-class schemes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DatasetFormatError
from ..recording import Recording, Signal
from ._checks import length, listing, ratings, real, warn_channels
from ._safe_pickle import safe_load
from .base import Dataset

CHEST_RATE = 700.0
#: label code -> condition name
CONDITIONS = {1: "baseline", 2: "stress", 3: "amusement", 4: "meditation"}
#: start of a condition's name in the questionnaire's ORDER row -> label code
QUEST_CONDITIONS = {"base": 1, "tsst": 2, "fun": 3, "medi": 4}
PANAS_ITEMS = (
    "Active", "Distressed", "Interested", "Inspired", "Annoyed", "Strong", "Guilty", "Scared",
    "Hostile", "Excited", "Proud", "Irritable", "Enthusiastic", "Ashamed", "Alert", "Nervous",
    "Determined", "Attentive", "Jittery", "Afraid", "Stressed", "Frustrated", "Happy", "Sad",
)  # fmt: skip
#: the stress condition's PANAS row has two more items, before "Sad"
PANAS_STRESS_ITEMS = (*PANAS_ITEMS[:-1], "Angry", "Irritated", "Sad")
STAI_ITEMS = (
    "I feel at ease", "I feel nervous", "I am jittery", "I am relaxed", "I am worried",
    "I feel pleasant",
)  # fmt: skip


@dataclass(frozen=True)
class Stream:
    """One signal of the pickle: ``signal[device][key]``, (n, n_channels) at `sfreq` Hz."""

    device: str
    key: str
    sfreq: float
    unit: str
    ch_type: str
    n_channels: int = 1

    @property
    def name(self) -> str:
        return f"{self.device}_{self.key.lower()}"

    @property
    def ch_names(self) -> list[str]:
        base = f"{self.device}_{self.key.upper()}"
        return [f"{base}_{axis}" for axis in "XYZ"] if self.n_channels == 3 else [base]


STREAMS = (
    Stream("chest", "ACC", CHEST_RATE, "g", "misc", 3),
    Stream("chest", "ECG", CHEST_RATE, "mV", "ecg"),
    Stream("chest", "EMG", CHEST_RATE, "mV", "emg"),
    Stream("chest", "EDA", CHEST_RATE, "uS", "gsr"),
    Stream("chest", "Temp", CHEST_RATE, "degC", "temperature"),
    Stream("chest", "Resp", CHEST_RATE, "%", "resp"),
    Stream("wrist", "ACC", 32.0, "1/64 g", "misc", 3),
    Stream("wrist", "BVP", 64.0, "a.u.", "bio"),
    Stream("wrist", "EDA", 4.0, "uS", "gsr"),
    Stream("wrist", "TEMP", 4.0, "degC", "temperature"),
)
#: the streams stacked into `Recording.data` (mV, 700 Hz)
DATA_STREAMS = ("chest_ecg", "chest_emg")
DATA_CH_NAMES = ["chest_ECG", "chest_EMG"]
_SUBJECT = re.compile(r"^S(\d+)$")


class WesadDataset(Dataset):
    """A `Dataset` whose `info` reports every stream's rate and counts condition segments."""

    def __repr__(self) -> str:
        """What `info` says: every stream's channels and rates, then the recordings' data."""
        rates = sorted({stream.sfreq for stream in STREAMS})
        n_channels = sum(len(stream.ch_names) for stream in STREAMS)
        return (
            f"<Dataset {self.name}: {len(self.subjects)} subjects, {n_channels} channels in "
            f"{len(STREAMS)} streams at {rates[0]:g}-{rates[-1]:g} Hz (data: "
            f"{', '.join(self.ch_names)} at {self.sfreq:g} Hz), from {self.source}>"
        )

    def info(self) -> dict:
        info = super().info()
        info["sfreq"] = {stream.name: stream.sfreq for stream in STREAMS}
        info["ch_names"] = [name for stream in STREAMS for name in stream.ch_names]
        info["n_channels"] = len(info["ch_names"])
        info["labels"]["condition"] = {
            CONDITIONS[int(code)]: n for code, n in info["labels"]["condition"].items()
        }
        return info


def load_wesad(root: str | Path) -> WesadDataset:
    """Read WESAD from ``root``, the folder holding the subject folders ``S2`` ... ``S17``.

    Each subject is read when asked for; see the module docstring for the recordings.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder (expected the WESAD folder)")
    subjects = sorted(
        (path.name for path in root.iterdir() if path.is_dir() and _SUBJECT.match(path.name)),
        key=lambda name: int(name[1:]),
    )
    if not subjects:
        raise FileNotFoundError(f"{root}: no subject folders S2 ... S17 (expected WESAD)")
    return WesadDataset(
        "wesad",
        subjects,
        lambda subject: read_subject(root / subject),
        sfreq=CHEST_RATE,
        ch_names=DATA_CH_NAMES,
        modality="ecg+emg",
        unit="mV",
        rating_names=["condition", "valence", "arousal"],
        source=root,
    )


def read_subject(folder: Path) -> list[Recording]:
    """The condition segments of one subject folder ``SX/``."""
    subject = folder.name
    signals, label = read_pickle(folder / f"{subject}.pkl")
    reports = read_quest(folder / f"{subject}_quest.csv")
    personal = read_readme(folder / f"{subject}_readme.txt")
    runs = condition_runs(label)
    if [code for code, _, _ in runs] != [report["code"] for report in reports]:
        raise DatasetFormatError(
            f"{folder / f'{subject}.pkl'}: key label: its condition runs "
            f"{[CONDITIONS[code] for code, _, _ in runs]} do not match the # ORDER row of "
            f"{subject}_quest.csv {[report['name'] for report in reports]}"
        )
    for report in reports:
        sam = [value for value in report["sam"].values() if not math.isnan(value)]
        ratings(sam, f"{folder / f'{subject}_quest.csv'}: key # DIM of {report['name']}", 1, 9)
    about = {"age": personal.get("Age"), "gender": personal.get("Gender"), "readme": personal}
    recordings = []
    for trial, ((code, start, stop), report) in enumerate(zip(runs, reports, strict=True), 1):
        data = np.stack([signals[name][start:stop, 0] for name in DATA_STREAMS])
        extra = {
            stream.name: _cut(signals[stream.name], stream, start, stop)
            for stream in STREAMS
            if stream.name not in DATA_STREAMS
        }
        recordings.append(
            Recording(
                data=data,
                sfreq=CHEST_RATE,
                ch_names=DATA_CH_NAMES,
                subject=subject,
                session=1,
                trial=trial,
                ratings={"condition": code, **report["sam"]},
                unit="mV",
                extra=extra,
                meta={
                    "condition": CONDITIONS[code],
                    "start_seconds": start / CHEST_RATE,
                    "quest_name": report["name"],
                    "quest_start": report["start"],
                    "quest_end": report["end"],
                    "panas": report["panas"],
                    "stai": report["stai"],
                    "sssq": report["sssq"],
                    **about,
                },
            )
        )
    trials = ((r.meta["condition"], r.data) for r in recordings)
    warn_channels(trials, DATA_CH_NAMES, str(folder / f"{subject}.pkl"))
    return recordings


def condition_runs(label: np.ndarray) -> list[tuple[int, int, int]]:
    """(code, start, stop) of every run of a condition code (1-4) in the 700 Hz label."""
    edges = np.flatnonzero(np.diff(label)) + 1
    starts, stops = np.r_[0, edges], np.r_[edges, len(label)]
    return [
        (int(label[a]), int(a), int(b))
        for a, b in zip(starts, stops, strict=True)
        if int(label[a]) in CONDITIONS
    ]


def _cut(values: np.ndarray, stream: Stream, start: int, stop: int) -> Signal:
    """The span [start, stop) of 700 Hz samples of a stream, at its own rate."""
    scale = stream.sfreq / CHEST_RATE
    span = values[int(round(start * scale)) : int(round(stop * scale))]
    return Signal(span.T, stream.sfreq, stream.ch_names, stream.unit, stream.ch_type)


# ----------------------------------------------------------------------------- SX.pkl
def read_pickle(path: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every stream by `Stream.name` as (n, n_channels) float arrays, and the label (n,)."""
    content = safe_load(path, "WESAD SX.pkl")
    label = _label(path, _key(path, content, "label", ""))
    n = length(len(label), CHEST_RATE, f"{path}: key label")
    signal = _key(path, content, "signal", "")
    signals = {}
    for stream in STREAMS:
        where = f"signal.{stream.device}."
        values = _stream(
            path,
            _key(path, _key(path, signal, stream.device, "signal."), stream.key, where),
            stream,
        )
        expected = math.floor(n * stream.sfreq / CHEST_RATE)
        if (stream.device == "chest" and len(values) != n) or len(values) < expected:
            raise DatasetFormatError(
                f"{path}: key {where}{stream.key} has {len(values)} samples, the label's "
                f"{n} samples at 700 Hz need {expected} at {stream.sfreq:g} Hz"
            )
        signals[stream.name] = values
    return signals, label


def _key(path: Path, mapping, key: str, where: str):
    """``mapping[key]``, matched case-insensitively; errors name the file and key path."""
    if not isinstance(mapping, dict):
        raise DatasetFormatError(
            f"{path}: key {where.rstrip('.') or '(top level)'} is a {type(mapping).__name__}, "
            f"expected a dict holding {key!r}"
        )
    for name, value in mapping.items():
        if isinstance(name, str) and name.lower() == key.lower():
            return value
    raise DatasetFormatError(f"{path}: key {where}{key} is missing (has {listing(mapping)})")


def _stream(path: Path, value, stream: Stream) -> np.ndarray:
    where = f"signal.{stream.device}.{stream.key}"
    values = np.asarray(value) if isinstance(value, np.ndarray) else None
    if values is None or not np.issubdtype(values.dtype, np.number):
        raise DatasetFormatError(f"{path}: key {where} is not a numeric array")
    values = real(values, f"{path}: key {where}")
    if values.ndim == 1 and stream.n_channels == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[1] != stream.n_channels or not len(values):
        raise DatasetFormatError(
            f"{path}: key {where} has shape {values.shape}, expected (samples, {stream.n_channels})"
        )
    finite = np.isfinite(values)
    if not finite.all():
        bad = np.flatnonzero(~finite.all(axis=0)).tolist()
        raise DatasetFormatError(
            f"{path}: key {where} holds NaN or infinite values (in column(s) {bad}, "
            f"{int((~finite).sum())} samples)"
        )
    return values.astype(np.float64, copy=False)


def _label(path: Path, value) -> np.ndarray:
    values = np.asarray(value) if isinstance(value, np.ndarray) else None
    if values is None or values.dtype.kind not in "iuf":
        raise DatasetFormatError(f"{path}: key label is not a numeric array")
    if values.size == 0:
        raise DatasetFormatError(f"{path}: key label is empty: the recording holds no samples")
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise DatasetFormatError(f"{path}: key label has shape {values.shape}, expected (samples,)")
    if not np.isfinite(values).all() or not np.isin(values, np.arange(8)).all():
        stray = sorted(set(values[~np.isin(values, np.arange(8))].tolist()))[:5]
        raise DatasetFormatError(f"{path}: key label holds values outside the codes 0-7: {stray}")
    return values.astype(np.int64)


# ----------------------------------------------------------------------------- SX_quest.csv
def read_quest(path: Path) -> list[dict]:
    """The self-reports of each protocol condition, in the order of the ``# ORDER`` row.

    Each entry: code (label code), name (as in ORDER), start/end (the START/END text,
    minutes.seconds on the chest device's clock), sam ({"valence", "arousal"}), panas and stai
    ({item: answer}), sssq (list of answers for the stress condition, else None).
    """
    rows = _tagged_rows(path)
    order = _one_row(path, rows, "ORDER")
    times = {tag: _one_row(path, rows, tag) for tag in ("START", "END")}
    protocol = [
        (i, name, code)
        for i, name in enumerate(order)
        if (code := _condition_code(name)) is not None
    ]
    blocks = {}
    for tag, n_items in (("PANAS", None), ("STAI", len(STAI_ITEMS)), ("DIM", 2)):
        found = rows.get(tag, [])
        if len(found) != len(protocol):
            raise DatasetFormatError(
                f"{path}: key # {tag} has {len(found)} rows, expected {len(protocol)} "
                "(one per condition of # ORDER)"
            )
        blocks[tag] = [_answers(path, tag, row, n_items) for row in found]
    sssq = [_answers(path, "SSSQ", row, None) for row in rows.get("SSSQ", [])]
    reports = []
    for k, (i, name, code) in enumerate(protocol):
        valence, arousal = blocks["DIM"][k]
        reports.append(
            {
                "code": code,
                "name": name,
                "start": times["START"][i] if i < len(times["START"]) else None,
                "end": times["END"][i] if i < len(times["END"]) else None,
                "sam": {"valence": valence, "arousal": arousal},
                "panas": _panas(path, blocks["PANAS"][k]),
                "stai": dict(zip(STAI_ITEMS, blocks["STAI"][k], strict=True)),
                "sssq": sssq[0] if code == 2 and sssq else None,
            }
        )
    return reports


def _tagged_rows(path: Path) -> dict[str, list[list[str]]]:
    """Tag ("ORDER", "PANAS", ...) -> its rows' cells, trailing empty cells dropped."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected the WESAD SX_quest.csv file)")
    rows: dict[str, list[list[str]]] = {}
    for line in path.read_text(encoding="latin1").splitlines():
        cells = [cell.strip() for cell in line.split(";")]
        if not cells[0].startswith("#"):
            continue
        while cells and not cells[-1]:
            cells.pop()
        rows.setdefault(cells[0].lstrip("#").strip().upper(), []).append(cells[1:])
    return rows


def _one_row(path: Path, rows, tag: str) -> list[str]:
    if len(rows.get(tag, [])) != 1:
        raise DatasetFormatError(
            f"{path}: key # {tag} appears {len(rows.get(tag, []))} times, expected once"
        )
    return rows[tag][0]


def _condition_code(name: str) -> int | None:
    lowered = name.lower()
    return next(
        (code for start, code in QUEST_CONDITIONS.items() if lowered.startswith(start)), None
    )


def _answers(path: Path, tag: str, cells: list[str], n_items: int | None) -> list[float]:
    """Answers of one row as floats (``Nan`` -> NaN)."""
    if n_items is not None and len(cells) != n_items:
        raise DatasetFormatError(
            f"{path}: key # {tag} row has {len(cells)} answers, expected {n_items}"
        )
    try:
        return [float(cell) if cell else math.nan for cell in cells]
    except ValueError:
        raise DatasetFormatError(
            f"{path}: key # {tag} row holds a non-number: {listing(cells)}"
        ) from None


def _panas(path: Path, answers: list[float]) -> dict[str, float]:
    for items in (PANAS_ITEMS, PANAS_STRESS_ITEMS):
        if len(answers) == len(items):
            return dict(zip(items, answers, strict=True))
    raise DatasetFormatError(
        f"{path}: key # PANAS row has {len(answers)} answers, expected {len(PANAS_ITEMS)} "
        f"or {len(PANAS_STRESS_ITEMS)}"
    )


# ----------------------------------------------------------------------------- SX_readme.txt
def read_readme(path: Path) -> dict[str, str]:
    """The ``Key: value`` lines of ``SX_readme.txt`` (section headers skipped)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected the WESAD SX_readme.txt file)")
    found = {}
    for line in path.read_text(encoding="latin1").splitlines():
        key, colon, value = line.partition(":")
        if colon and not key.startswith("#") and key.strip():
            found[key.strip()] = value.strip()
    return found
