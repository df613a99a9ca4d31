"""DEAP: 32 subjects x 40 music videos, BioSemi EEG (32 channels) and 8 peripheral channels.

Three ways in, chosen by ``source``:

* ``"python"``: ``data_preprocessed_python/sXX.dat``, Python 2 pickles (read with the allow-list
  unpickler, strings as latin-1) of a dict ``{"data": (40, 40, 8064), "labels": (40, 4)}``.
* ``"matlab"``: ``data_preprocessed_matlab/sXX.mat`` with the same two variables.
* ``"bdf"``: ``data_original/sXX.bdf``, the continuous 512 Hz BioSemi sessions, through MNE.

The preprocessed arrays are at 128 Hz, rows in video (``Experiment_id``) order; samples 0-383
are the 3 s pre-trial baseline (`Recording.baseline`), the rest is the 60 s trial (`data`).
Channels 0-31 are EEG in Geneva order (`GENEVA_EEG`, microvolts, 4-45 Hz, common average
reference); channels 32-39 are the peripheral ones, kept per kind in `Recording.extra` (our
grouping): ``"eog"`` (hEOG, vEOG), ``"emg"`` (zEMG, tEMG), ``"gsr"``, ``"resp"``, ``"bvp"``
(plethysmograph) and ``"temp"``, each with a ``"<kind>_baseline"`` twin holding its first 3 s.
`Signal.ch_type` is MNE's name of the type (eog, emg, gsr, resp, bio, temperature). The readme
states no unit for them, so their unit is "a.u." (as distributed).

Ratings valence/arousal/dominance/liking are continuous on 1-9. ``metadata_csv/
participant_ratings.csv``, when present, adds the presentation position (``Trial``),
``Familiarity`` (1-5, missing for some participants) and ``Start_time`` to each recording's
``meta``. Every recording's ``trial`` is its video's ``Experiment_id`` (1-40).

BDF sessions (our rules where the distribution documents nothing; see `_bdf_subject`): trials are
found at status code `anchor_code` (4 by default, the per-trial anchor third-party code uses),
in the low 16 bits of the status channel taken relative to their lowest value (s24+ carry a
constant offset); the status channel may be named ``Status``, ``''``, ``-0`` or ``-1``. EEG is
reordered to Geneva order by name; the other channels are kept by name in ``extra``
(``"exg"``: EXG1-8, ``"gsr"``, ``"erg"``, ``"resp"``, ``"bvp"``: Plet, ``"temp"``, ``"misc"``).
Presentation order is mapped to ``Experiment_id`` through ``participant_ratings.csv``, which
this source needs for the ratings.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from ..errors import DatasetFormatError, clean
from ..recording import UNIT_TO_VOLTS, Recording, Signal
from ._checks import length, listing, ratings, real, warn_channels
from ._matlab import read_mat
from ._safe_pickle import safe_load
from .base import Dataset

GENEVA_EEG = (
    "Fp1 AF3 F3 F7 FC5 FC1 C3 T7 CP5 CP1 P3 P7 PO3 O1 Oz Pz "
    "Fp2 AF4 Fz F4 F8 FC6 FC2 Cz C4 T8 CP6 CP2 P4 P8 PO4 O2"
).split()
PERIPHERAL = ("hEOG", "vEOG", "zEMG", "tEMG", "GSR", "Respiration", "Plethysmograph", "Temperature")
#: extra name -> (MNE channel type, rows of the preprocessed array)
PERIPHERAL_GROUPS = {
    "eog": ("eog", [32, 33]),
    "emg": ("emg", [34, 35]),
    "gsr": ("gsr", [36]),
    "resp": ("resp", [37]),
    "bvp": ("bio", [38]),
    "temp": ("temperature", [39]),
}
#: extra name -> (MNE channel type, channel-name pattern) for the channels of the BDF sessions
BDF_GROUPS = {
    "exg": ("misc", r"EXG\d+"),
    "gsr": ("gsr", r"GSR\d*"),
    "erg": ("misc", r"Erg\d*"),
    "resp": ("resp", r"Resp"),
    "bvp": ("bio", r"Plet"),
    "temp": ("temperature", r"Temp"),
}
TRIGGER_NAMES = ("Status", "Trigger", "", "-0", "-1")
RATINGS = ("valence", "arousal", "dominance", "liking")
SFREQ = {"python": 128.0, "matlab": 128.0, "bdf": 512.0}
FOLDERS = {
    "python": ("data_preprocessed_python", ".dat"),
    "matlab": ("data_preprocessed_matlab", ".mat"),
    "bdf": ("data_original", ".bdf"),
}
RATINGS_CSV = "metadata_csv/participant_ratings.csv"
BASELINE_SECONDS = 3.0


def load_deap(
    root: str | Path,
    source: str = "python",
    subjects: list[str] | None = None,
    anchor_code: int = 4,
    trial_seconds: float = 60.0,
    baseline_seconds: float = BASELINE_SECONDS,
) -> Dataset:
    """Read DEAP from ``root``: the folder holding the distribution's sub-folders, or the
    sub-folder of `source` itself (e.g. ``data_preprocessed_python``, as TorchEEG takes it; the
    ratings CSV is then looked for beside it).

    source: "python", "matlab" or "bdf" (see the module docstring).
    subjects: names such as ["s01", "s07"] to keep (default: every file found).
    anchor_code, trial_seconds, baseline_seconds: how BDF sessions are cut into trials (the trial
        starts at the anchor; the baseline is the `baseline_seconds` before it).

    Returns a `Dataset` with one `Recording` per video, subjects read one at a time.
    """
    if source not in FOLDERS:
        raise ValueError(f"source must be one of {sorted(FOLDERS)}, got {source!r}")
    folder, root = _source_folder(Path(root), *FOLDERS[source])
    suffix = FOLDERS[source][1]
    files = _subject_files(folder, suffix)
    if subjects is not None:
        unknown = sorted(set(subjects) - set(files))
        if unknown:
            raise FileNotFoundError(
                f"{folder}: no file for subject(s) {listing(unknown)} "
                f"(expected {', '.join(s + suffix for s in unknown)})"
            )
        files = {name: files[name] for name in subjects}
    csv_path = root / RATINGS_CSV
    if source == "bdf" and not csv_path.is_file():
        raise FileNotFoundError(
            f"{csv_path}: no such file (expected DEAP's {RATINGS_CSV}, which maps the BDF "
            "trials to videos and ratings)"
        )
    table = _read_ratings_csv(csv_path) if csv_path.is_file() else {}

    def read_subject(name: str) -> list[Recording]:
        rows = table.get(int(name[1:]), [])
        if source == "bdf":
            return _bdf_subject(
                files[name], name, rows, anchor_code, trial_seconds, baseline_seconds
            )
        return _preprocessed_subject(files[name], name, source, rows)

    return Dataset(
        "deap",
        list(files),
        read_subject,
        sfreq=SFREQ[source],
        ch_names=GENEVA_EEG,
        modality="eeg",
        unit="uV",
        rating_names=list(RATINGS),
        source=root,
    )


def _subject_pattern(suffix: str) -> re.Pattern:
    return re.compile(rf"s(\d+){re.escape(suffix)}", re.IGNORECASE)


def _source_folder(root: Path, name: str, suffix: str) -> tuple[Path, Path]:
    """(folder of the subject files, dataset root): `root` is the dataset root or the source's
    folder itself (it holds ``sNN<suffix>`` files; its parent is then the root)."""
    if not (root / name).is_dir() and root.is_dir():
        pattern = _subject_pattern(suffix)
        if any(pattern.fullmatch(path.name) for path in root.iterdir()):
            return root, root.parent
    return root / name, root


def _subject_files(folder: Path, suffix: str) -> dict[str, Path]:
    """{"s01": path, ...} for the files ``sNN<suffix>`` in `folder`, by subject number; two
    files of one subject (``s1.dat`` beside ``s01.dat``) are refused."""
    expected = f"DEAP's {folder.name}/ with s01{suffix} ... s32{suffix}"
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (expected {expected})")
    pattern = _subject_pattern(suffix)
    found: dict[int, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if match := pattern.fullmatch(path.name):
            found.setdefault(int(match.group(1)), []).append(path)
    if not found:
        raise FileNotFoundError(f"{folder}: no subject files (expected {expected})")
    for number, paths in found.items():
        if len(paths) > 1:
            raise DatasetFormatError(
                f"{folder}: files {listing(p.name for p in paths)} are all subject {number}; "
                "keep one"
            )
    return {f"s{number:02d}": paths[0] for number, paths in sorted(found.items())}


# ----------------------------------------------------------------------------- ratings CSV
def _read_ratings_csv(path: Path) -> dict[int, list[dict]]:
    """participant_ratings.csv as {participant: [row, ...]} with typed values."""
    columns = {
        "Participant_id": int,
        "Trial": int,
        "Experiment_id": int,
        "Valence": float,
        "Arousal": float,
        "Dominance": float,
        "Liking": float,
    }
    optional = {"Familiarity": int, "Start_time": int}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return _ratings_rows(path, csv.DictReader(f), columns, optional)
    except (UnicodeDecodeError, csv.Error) as error:
        raise DatasetFormatError(
            f"{path}: not a text CSV file ({type(error).__name__}: {clean(error, 80)})"
        ) from None


def _ratings_rows(path: Path, reader: csv.DictReader, columns, optional) -> dict[int, list]:
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise DatasetFormatError(
            f"{path}: column(s) {', '.join(missing)} missing "
            f"(header: {listing(reader.fieldnames or [])})"
        )
    table: dict[int, list[dict]] = {}
    for line, raw in enumerate(reader, start=2):
        row = {}
        for column, kind in {**columns, **optional}.items():
            text = (raw.get(column) or "").strip()
            if not text and column in optional:
                row[column] = None
                continue
            try:
                value = float(text)
                row[column] = int(value) if kind is int else value
            except (ValueError, OverflowError):  # int(nan) and int(inf) included
                raise DatasetFormatError(
                    f"{path}: line {line}, column {column}: not a number ({clean(text, 40)!r})"
                ) from None
        for name in RATINGS:
            ratings(
                [row[name.capitalize()]], f"{path}: line {line}, column {name.capitalize()}", 1, 9
            )
        table.setdefault(row["Participant_id"], []).append(row)
    return table


def _csv_meta(row: dict | None) -> dict:
    if row is None:
        return {}
    return {
        "experiment_id": row["Experiment_id"],
        "presentation_trial": row["Trial"],
        "familiarity": row["Familiarity"],
        "start_time_us": row["Start_time"],
    }


# ----------------------------------------------------------------------------- preprocessed
def _preprocessed_subject(path: Path, subject: str, source: str, rows) -> list[Recording]:
    data, labels = _preprocessed_arrays(path, source)
    sfreq = SFREQ[source]
    n_baseline = int(round(BASELINE_SECONDS * sfreq))
    by_video = {row["Experiment_id"]: row for row in rows}
    warn_channels(
        ((i + 1, trial[:32, n_baseline:]) for i, trial in enumerate(data)), GENEVA_EEG, str(path)
    )
    recordings = []
    for index, (trial, scores) in enumerate(zip(data, labels, strict=True)):
        extra = {}
        for name, (ch_type, rows_of) in PERIPHERAL_GROUPS.items():
            names = [PERIPHERAL[i - 32] for i in rows_of]
            signal = Signal(trial[rows_of], sfreq, names, "a.u.", ch_type)
            extra.update(_split(name, signal, n_baseline))
        recordings.append(
            Recording(
                data=trial[:32, n_baseline:],
                sfreq=sfreq,
                ch_names=GENEVA_EEG,
                subject=subject,
                trial=index + 1,
                ratings=dict(zip(RATINGS, scores.tolist(), strict=True)),
                baseline=trial[:32, :n_baseline],
                unit="uV",
                extra=extra,
                meta=_csv_meta(by_video.get(index + 1)),
            )
        )
    return recordings


def _split(name: str, signal: Signal, n_baseline: int) -> dict[str, Signal]:
    """{name: the trial part, name_baseline: the first `n_baseline` samples} of `signal`."""
    parts = {name: signal.data[:, n_baseline:], f"{name}_baseline": signal.data[:, :n_baseline]}
    return {
        key: Signal(values, signal.sfreq, signal.ch_names, signal.unit, signal.ch_type)
        for key, values in parts.items()
    }


def _preprocessed_arrays(path: Path, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(data (trials, 40, samples), labels (trials, 4)) of one subject file, checked."""
    what = f"{FOLDERS[source][0]}/{path.name}"
    content = safe_load(path, what) if source == "python" else read_mat(path, what)
    if not isinstance(content, dict):
        kind = type(content).__name__
        raise DatasetFormatError(f"{path}: expected a dict with 'data' and 'labels', got {kind}")
    data = _numeric(content, "data", path)
    labels = _numeric(content, "labels", path)
    n_baseline = int(round(BASELINE_SECONDS * SFREQ[source]))
    if data.ndim != 3 or data.shape[1] != 40 or data.shape[2] <= n_baseline:
        raise DatasetFormatError(
            f"{path}: key 'data': expected (trials, 40 channels, > {n_baseline} samples), "
            f"got shape {data.shape}"
        )
    length(data.shape[2], SFREQ[source], f"{path}: key 'data'")
    if labels.shape != (data.shape[0], 4):
        raise DatasetFormatError(
            f"{path}: key 'labels': expected ({data.shape[0]} trials, 4 ratings), "
            f"got shape {labels.shape}"
        )
    _check_finite(data, "data", path, GENEVA_EEG + list(PERIPHERAL))
    ratings(labels.reshape(-1), f"{path}: key 'labels'", 1, 9)
    return data, labels


def _numeric(content: dict, key: str, path: Path) -> np.ndarray:
    if key not in content:
        found = listing(k for k in content if not str(k).startswith("__"))
        raise DatasetFormatError(f"{path}: key '{key}' is missing (keys: {found})")
    value = content[key]
    if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.number):
        kind = f"array of dtype {value.dtype}" if isinstance(value, np.ndarray) else type(value)
        raise DatasetFormatError(f"{path}: key '{key}': expected a numeric array, got {kind}")
    return real(value, f"{path}: key '{key}'").astype(np.float64, copy=False)


def _check_finite(values: np.ndarray, key: str, path: Path, ch_names=None) -> None:
    """Refuse NaN or infinite `values`; with `ch_names` (axis 1) the message names channels."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    where = ""
    if ch_names is not None:
        channels = np.flatnonzero(bad.any(axis=(0, 2)))
        where = f" in channel(s) {', '.join(ch_names[i] for i in channels)}"
    raise DatasetFormatError(
        f"{path}: key '{key}' holds {int(bad.sum())} NaN or infinite value(s){where}, "
        f"the first at index {first}"
    )


# ----------------------------------------------------------------------------- BDF sessions
def _bdf_subject(
    path: Path, subject: str, rows, anchor_code: int, trial_seconds: float, baseline_seconds: float
) -> list[Recording]:
    """One continuous BDF session cut into trials, in video order."""
    import mne

    what = f"data_original/{path.name}"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected DEAP's {what})")
    try:
        raw = mne.io.read_raw_bdf(path, stim_channel=list(TRIGGER_NAMES), verbose="error")
    except Exception as error:
        raise DatasetFormatError(f"{path}: not a readable BDF file ({error})") from error
    sfreq = raw.info["sfreq"]
    onsets = _trial_onsets(raw, anchor_code, path)
    by_position = {row["Trial"]: row for row in rows}
    if sorted(by_position) != list(range(1, len(onsets) + 1)):
        raise DatasetFormatError(
            f"{path}: {len(onsets)} trial onsets (status code {anchor_code}) but {RATINGS_CSV} "
            f"lists presentation trials {sorted(by_position)} for participant {int(subject[1:])}"
        )
    eeg = _geneva_picks(raw.ch_names, path)
    extra = _bdf_extra(raw, eeg)
    n_baseline = int(round(baseline_seconds * sfreq))
    n_trial = int(round(trial_seconds * sfreq))
    recordings = []
    for position, onset in enumerate(onsets, start=1):
        start, stop = onset - n_baseline, onset + n_trial
        if start < 0 or stop > raw.n_times:
            raise DatasetFormatError(
                f"{path}: trial {position} ({start / sfreq:.1f}-{stop / sfreq:.1f} s) runs "
                f"past the recording (0-{raw.n_times / sfreq:.1f} s)"
            )
        row = by_position[position]
        eeg_values = raw.get_data(picks=eeg, start=start, stop=stop) / UNIT_TO_VOLTS["uV"]
        signals = {}
        for name, (picks, names, unit, ch_type) in extra.items():
            values = raw.get_data(picks=picks, start=start, stop=stop)
            values = values / UNIT_TO_VOLTS[unit] if unit in UNIT_TO_VOLTS else values
            signals.update(_split(name, Signal(values, sfreq, names, unit, ch_type), n_baseline))
        _check_finite(eeg_values[None], "EEG", path, GENEVA_EEG)
        recordings.append(
            Recording(
                data=eeg_values[:, n_baseline:],
                sfreq=sfreq,
                ch_names=GENEVA_EEG,
                subject=subject,
                trial=row["Experiment_id"],
                ratings={name: row[name.capitalize()] for name in RATINGS},
                baseline=eeg_values[:, :n_baseline],
                unit="uV",
                extra=signals,
                meta={**_csv_meta(row), "onset_seconds": onset / sfreq},
            )
        )
    warn_channels(((r.trial, r.data) for r in recordings), GENEVA_EEG, str(path))
    return sorted(recordings, key=lambda recording: recording.trial)


def _trial_onsets(raw, anchor_code: int, path: Path) -> np.ndarray:
    """Samples where the status code becomes `anchor_code`, on the first trigger channel
    that has any. Codes are the low 16 bits minus their lowest value (our rule: it removes
    the constant offset some sessions carry, and is a no-op where the idle level is 0)."""
    stims = [i for i, kind in enumerate(raw.get_channel_types()) if kind == "stim"]
    if not stims:
        raise DatasetFormatError(
            f"{path}: no status channel (looked for {', '.join(map(repr, TRIGGER_NAMES))})"
        )
    for index in stims:
        codes = raw.get_data(picks=[index])[0].astype(np.int64) & 0xFFFF
        codes -= codes.min()
        onsets = np.flatnonzero((codes[1:] == anchor_code) & (codes[:-1] != anchor_code)) + 1
        if codes[0] == anchor_code:
            onsets = np.r_[0, onsets]
        if onsets.size:
            return onsets
    names = ", ".join(repr(raw.ch_names[i]) for i in stims)
    raise DatasetFormatError(f"{path}: status channel {names} never shows code {anchor_code}")


def _geneva_picks(ch_names: list[str], path: Path) -> list[int]:
    """Indices of the Geneva-order EEG channels in `ch_names`, matched case-insensitively."""
    index = {name.lower(): i for i, name in enumerate(ch_names)}
    missing = [name for name in GENEVA_EEG if name.lower() not in index]
    if missing:
        raise DatasetFormatError(f"{path}: EEG channel(s) {', '.join(missing)} missing")
    return [index[name.lower()] for name in GENEVA_EEG]


def _bdf_extra(raw, eeg: list[int]) -> dict[str, tuple[list[int], list[str], str, str]]:
    """The non-EEG, non-status channels by group: name -> (picks, names, unit, MNE type).

    Units are the file's, voltages in uV (MNE reads them in volts; `_bdf_subject` scales back).
    """
    kinds = raw.get_channel_types()
    orig_units = getattr(raw, "_orig_units", {}) or {}  # MNE keeps the header's units only here
    groups: dict[str, tuple[list[int], list[str], str, str]] = {}
    for i, name in enumerate(raw.ch_names):
        if i in eeg or kinds[i] == "stim":
            continue
        group, ch_type = next(
            ((g, t) for g, (t, pattern) in BDF_GROUPS.items() if re.fullmatch(pattern, name)),
            ("misc", "misc"),
        )
        unit = orig_units.get(name, "a.u.")
        unit = "uV" if unit in UNIT_TO_VOLTS else unit
        if group in groups and groups[group][2] != unit:
            group = name.lower()  # a channel in another unit than its group's stands alone
        picks, names, _, _ = groups.setdefault(group, ([], [], unit, ch_type))
        picks.append(i)
        names.append(name)
    return groups
