"""Recordings as a BIDS dataset: EEG-BIDS through MNE-BIDS, other streams as BIDS physio files.

`write` puts each `Recording` (one trial) in BIDS runs of its own (our layout):

* the trial: ``sub-<subject>/ses-<session>/eeg/sub-<subject>_ses-<session>_task-<task>_run-<trial>``
  with ``_eeg.vhdr`` (BrainVision, float32 in µV, written by ``mne_bids.write_raw_bids``),
  ``_channels.tsv`` (every channel typed: EEG, ECG, EOG, EMG, GSR, RESP, TEMP, MISC, and PPG for
  physioemo's "bio" channels, which are the BVP/plethysmograph ones), ``_eeg.json`` and
  ``_events.tsv``: one row (onset 0, the whole run) of trial_type ``trial`` with one column per
  rating and one per scalar `Recording.meta` entry that varies within the subject;
* its baseline, when it has one: the same run of task ``baseline`` (`BASELINE_TASK`), one event
  row of trial_type ``baseline``; exact, since it is a file of its own rather than a cut;
* the `extra` streams at the data's rate and length are channels of the run's EEG file; the
  others ``_recording-<stream>_physio.tsv.gz`` files at their own rate (``SamplingFrequency``,
  ``StartTime`` 0, ``Columns`` and each column's ``Units`` in the ``_physio.json`` sidecar),
  written as text that reads back bit for bit;
* a recording without EEG channels (WESAD's chest ECG and EMG) has no EEG-BIDS file: MNE-BIDS
  writes EEG only with EEG channels, and EMG-BIDS takes EDF/BDF only. Its data and every stream
  are physio files of the ``beh`` datatype (BIDS's place for physiology without brain data),
  the data under ``recording-data`` (`DATA_RECORDING`).

What BIDS has no field for goes into each run's ``_events.json`` under ``"PhysioemoLayout"``
(`LAYOUT`): the data's unit and channels, the rating names, the baseline's task and each
stream's channels, unit, MNE type and file. (The BIDS validator refuses fields of its own in
``_eeg.json``; an events sidecar describes columns, and by BIDS's inheritance the dataset's
``task-<task>_events.json`` adds the column descriptions to it.)

Dataset-level files: ``participants.tsv`` (one row per subject: the scalar meta entries constant
over its trials, e.g. DREAMER's age and gender), ``task-<task>_events.json`` (the rating columns
described as the caller gives them, e.g. ``Minimum``/``Maximum`` or ``Levels``; meta columns
with their ``Format``), ``dataset_description.json`` (``GeneratedBy`` physioemo) and README.

Precision: the EEG file holds float32 (MNE-BIDS's BrainVision conversion), so a value reads
back within 2**-24 of itself, relative (`FLOAT32_RTOL` bounds it); physio files are exact.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import DatasetFormatError, clean
from ..montage import channel_types
from ..recording import SI_SCALE, Recording, Signal

TASK = "emotion"
BASELINE_TASK = "baseline"
DATA_RECORDING = "data"
LAYOUT = "PhysioemoLayout"
#: relative error bound of a value read back from the float32 EEG file (float32's epsilon:
#: twice the 2**-24 of one rounding, for the scalings to µV and back)
FLOAT32_RTOL = 2.0**-23
#: BIDS channel types that differ from MNE-BIDS's mapping (it writes "bio" as MISC)
BIDS_TYPES = {"bio": "PPG"}
#: our unit -> its BIDS (CMIXF) spelling, where they differ
BIDS_UNITS = {"a.u.": "n/a", "degC": "oC"}
#: events.tsv columns BIDS defines; any other column holds a rating or a meta entry
EVENT_COLUMNS = (
    "onset", "duration", "trial_type", "sample", "value", "response_time", "stim_file", "HED",
)  # fmt: skip
#: participants.tsv columns BIDS defines that physioemo writes
PARTICIPANT_COLUMNS = ("participant_id",)
#: put before a meta entry's name where it would take a rating's or a BIDS column's
META_PREFIX = "meta_"
TRIAL_TYPES = {
    "trial": "one trial: its stimulus (clip, video) or protocol condition, rated by the subject",
    "baseline": f"the resting recording that goes with the run of the same number (task {TASK})",
}
README = """\
Exported by physioemo {version} from {name}.

One run per trial (task-{task}); a trial's baseline is the run of the same number in
task-{baseline}. Ratings are columns of each run's events.tsv, described in
task-{task}_events.json. Streams at other rates are _physio.tsv.gz files beside the run.
"""


def mne_bids():
    """The mne_bids module; ValueError saying how to install it when it is missing."""
    try:
        import mne_bids
    except ModuleNotFoundError:
        raise ValueError("BIDS needs MNE-BIDS: pip install 'physioemo[bids]'") from None
    return mne_bids


# ----------------------------------------------------------------------------- writing
def write(
    recordings: Iterable[Recording],
    root: str | Path,
    *,
    name: str,
    task: str = TASK,
    columns: dict[str, dict] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write `recordings` (one per trial, a subject's trials one after another) as a BIDS
    dataset under `root`; returns `root`.

    name: the dataset's name (dataset_description.json). task: the trials' BIDS task label.
    columns: BIDS descriptions of the rating columns (LongName, Description, Minimum/Maximum or
        Levels, ...), written to ``task-<task>_events.json``.
    overwrite: write into a folder that already holds files (else FileExistsError).
    Subjects must be BIDS labels (letters and digits), sessions and trials integers >= 0.
    """
    root = Path(root)
    if root.exists() and any(root.iterdir()) and not overwrite:
        raise FileExistsError(f"{root}: folder is not empty; choose another or overwrite")
    root.mkdir(parents=True, exist_ok=True)
    _write_text(root / "README", README.format(
        version=__version__, name=name, task=task, baseline=BASELINE_TASK
    ))  # fmt: skip
    participants, meta, ratings = {}, {}, {}
    for subject, group in itertools.groupby(recordings, key=lambda r: r.subject):
        group = list(group)
        constant = _constant_meta(group)
        participants.setdefault(subject, {}).update(
            {meta_column(k, PARTICIPANT_COLUMNS): v for k, v in constant.items()}
        )
        for recording in group:
            _check_labels(recording)
            taken = {*EVENT_COLUMNS, *recording.ratings}
            varying = {
                meta_column(k, taken): v
                for k, v in _scalar_meta(recording).items()
                if k not in constant
            }
            for key, value in varying.items():
                meta.setdefault(key, []).append(value)
            ratings.update(dict.fromkeys(recording.ratings))
            _write_trial(recording, root, task, varying)
    if not participants:
        raise ValueError("no recordings to write")
    _write_participants(root, participants)
    described = {
        key: {"Description": f"rating {key}", **(columns or {}).get(key, {})} for key in ratings
    }
    described = {key: {**value, "Format": "number"} for key, value in described.items()}
    _write_events_json(root, task, {**described, **_describe_meta(meta)})
    _write_events_json(root, BASELINE_TASK, {})
    _write_description(root, name)
    return root


def _check_labels(recording: Recording) -> None:
    where = f"trial {recording.trial} of subject {recording.subject!r}"
    if not (recording.subject.isascii() and recording.subject.isalnum()):
        raise ValueError(f"{where}: a BIDS subject label takes letters and digits only")
    for what in ("session", "trial"):
        value = getattr(recording, what)
        if not (isinstance(value, int | np.integer) and value >= 0):
            raise ValueError(f"{where}: the {what} must be an integer >= 0 (a BIDS index)")


def _write_trial(recording: Recording, root: Path, task: str, meta: dict) -> None:
    """The trial's run and, when it has one, its baseline's run."""
    trial = replace(recording, baseline=None, extra=recording.extra_streams())
    datatype = "eeg" if "eeg" in channel_types(recording.ch_names) else "beh"
    path = mne_bids().BIDSPath(
        subject=recording.subject,
        session=str(recording.session),
        task=task,
        run=int(recording.trial),
        datatype=datatype,
        root=root,
    )
    has_baseline = recording.baseline is not None
    layout = {
        "ratings": list(recording.ratings),
        "baseline": BASELINE_TASK if has_baseline else None,
    }
    event = {"trial_type": "trial", **recording.ratings, **meta}
    _write_run(trial, path, layout, event)
    if has_baseline:
        rest = replace(trial, data=recording.baseline, extra=recording.extra_streams(True))
        _write_run(rest, path.copy().update(task=BASELINE_TASK), {}, {"trial_type": "baseline"})


def _write_run(segment: Recording, path, layout: dict, event: dict) -> None:
    """One run: `segment`'s data and streams, its sidecar layout and its one-row events.tsv."""
    inside = {
        key: signal
        for key, signal in segment.extra.items()
        if path.datatype == "eeg"
        and signal.sfreq == segment.sfreq
        and signal.data.shape[1] == segment.n_times
    }
    streams = {}
    for key, signal in segment.extra.items():
        streams[key] = {
            "channels": signal.ch_names,
            "unit": signal.unit,
            "type": signal.ch_type,
            "recording": None if key in inside else _recording_label(key, streams),
        }
        if key not in inside:
            write_physio(_physio_path(path, streams[key]["recording"]), signal)
    if path.datatype == "eeg":
        _write_eeg(replace(segment, extra=inside), path, streams)
    else:
        data = Signal(segment.data, segment.sfreq, segment.ch_names, segment.unit)
        write_physio(_physio_path(path, DATA_RECORDING), data)
    layout = {"unit": segment.unit, "channels": segment.ch_names, **layout, "streams": streams}
    onset = {"onset": 0.0, "duration": segment.n_times / segment.sfreq}
    events = path.copy().update(suffix="events", extension=".tsv").fpath
    write_tsv(events, [{**onset, **event}])
    write_json(events.with_suffix(".json"), {LAYOUT: layout})


def _recording_label(key: str, streams: dict) -> str:
    """The BIDS recording label of stream `key`: its letters and digits, unique in the run."""
    label = "".join(c for c in key if c.isascii() and c.isalnum())
    taken = {s["recording"] for s in streams.values()} | {DATA_RECORDING}
    if not label or label in taken:
        raise ValueError(f"stream {key!r} needs a BIDS recording label of its own; rename it")
    return label


def _physio_path(path, label: str) -> Path:
    return path.copy().update(recording=label, suffix="physio", extension=".tsv.gz").fpath


def _write_eeg(segment: Recording, path, streams: dict) -> None:
    """The EEG file of `segment` (data plus the streams inside it) through MNE-BIDS; fills
    each inside stream's ``columns`` (its names in the file) and retypes channels.tsv."""
    from mne.io.constants import FIFF

    raw = segment.to_mne()
    raw.set_montage(None)  # template positions, not measured ones: no electrodes.tsv
    names = iter(raw.ch_names[len(segment.ch_names) :])
    overrides = {}
    for key, signal in segment.extra.items():
        columns = streams[key]["columns"] = [next(names) for _ in signal.ch_names]
        for column in columns:
            overrides[column] = (BIDS_TYPES.get(signal.ch_type), None)
            if signal.unit not in SI_SCALE:  # kept as it is: no scaling to µV on the way
                raw.info["chs"][raw.ch_names.index(column)]["unit"] = FIFF.FIFF_UNIT_NONE
                overrides[column] = (overrides[column][0], BIDS_UNITS.get(signal.unit, signal.unit))
    with warnings.catch_warnings():
        # pybv: "the BrainVision format specification supports only µV"; MNE reads them back
        warnings.filterwarnings("ignore", message="Encountered unsupported non-voltage units")
        mne_bids().write_raw_bids(
            raw, path, format="BrainVision", allow_preload=True, overwrite=True, verbose="error"
        )
    channels = path.copy().update(suffix="channels", extension=".tsv").fpath
    rows = read_tsv(channels)
    for row in rows:
        kind, unit = overrides.get(row["name"], (None, None))
        row["type"], row["units"] = kind or row["type"], unit or row["units"]
    write_tsv(channels, rows)


def _write_participants(root: Path, participants: dict[str, dict]) -> None:
    """participants.tsv and .json: one row per subject, its constant meta as columns."""
    values = {}
    for row in participants.values():
        for key, value in row.items():
            values.setdefault(key, []).append(value)
    described = {"participant_id": {"Description": "the subject's label in the source dataset"}}
    described |= _describe_meta(values)
    rows = [{"participant_id": f"sub-{subject}", **row} for subject, row in participants.items()]
    write_tsv(root / "participants.tsv", rows, list(described))
    write_json(root / "participants.json", described)


def _write_events_json(root: Path, task: str, columns: dict) -> None:
    trial_type = {"LongName": "segment", "Levels": TRIAL_TYPES}
    write_json(root / f"task-{task}_events.json", {"trial_type": trial_type, **columns})


def _write_description(root: Path, name: str) -> None:
    mne_bids().make_dataset_description(
        path=root,
        name=name,
        dataset_type="raw",
        generated_by=[{"Name": "physioemo", "Version": __version__}],
        overwrite=True,
        verbose="error",
    )


# ----------------------------------------------------------------------------- meta
def _scalar_meta(recording: Recording) -> dict:
    """The entries of `recording.meta` that are one number, text or flag (None: missing)."""
    found = {}
    for key, value in recording.meta.items():
        if isinstance(value, np.generic):
            value = value.item()
        if value is None or isinstance(value, str | bool | int | float):
            found[str(key)] = value
    return found


def _constant_meta(recordings: list[Recording]) -> dict:
    """The scalar meta entries every recording of one subject shares."""
    metas = [_scalar_meta(r) for r in recordings]
    return {k: v for k, v in metas[0].items() if all(k in m and _same(m[k], v) for m in metas)}


def _same(a, b) -> bool:
    return type(a) is type(b) and (
        a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))
    )


def _describe_meta(values: dict[str, list]) -> dict:
    """Column descriptions, with their BIDS ``Format``, of meta entries: key -> values."""
    return {
        key: {
            "Description": f"{key} (the source dataset's meta entry)",
            "Format": value_format(found),
        }
        for key, found in values.items()
    }


def meta_column(key: str, taken) -> str:
    """The TSV column of meta entry `key`: its name, or `META_PREFIX` + it where the name is
    `taken` (WESAD's meta "condition" beside its rating "condition")."""
    return META_PREFIX + key if key in taken or key.startswith(META_PREFIX) else key


def meta_key(column: str, taken) -> str:
    """The meta entry a TSV column holds (`meta_column` undone)."""
    key = column.removeprefix(META_PREFIX)
    return key if key != column and (key in taken or key.startswith(META_PREFIX)) else column


def value_format(values: list) -> str:
    """The BIDS ``Format`` of a column holding `values` (missing ones skipped)."""
    known = [v for v in values if not missing(v)]
    if known and all(isinstance(v, bool) for v in known):
        return "boolean"
    if known and all(isinstance(v, int) and not isinstance(v, bool) for v in known):
        return "integer"
    if known and all(isinstance(v, int | float) and not isinstance(v, bool) for v in known):
        return "number"
    return "string"


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def parse(text: str, format: str | None):
    """A TSV cell as the value its column's BIDS ``Format`` says (text when it says none);
    "n/a" is NaN in a number column, else None."""
    if text == "n/a":
        return math.nan if format == "number" else None
    if format == "number":
        return float(text)
    if format == "integer":
        return int(text)
    if format == "boolean":
        return text.lower() == "true"
    return text


# ----------------------------------------------------------------------------- files
def _cell(value) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if missing(value):
        return "n/a"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return " ".join(str(value).split("\t")).replace("\n", " ")


def write_tsv(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    """A BIDS TSV file: a header, then one line per row ("n/a" where a row lacks a column)."""
    columns = columns or list(dict.fromkeys(key for row in rows for key in row))
    lines = ["\t".join(columns)]
    lines += ["\t".join(_cell(row.get(key)) for key in columns) for row in rows]
    _write_text(path, "\n".join(lines) + "\n")


def read_tsv(path: Path) -> list[dict[str, str]]:
    """The rows of a BIDS TSV file as dicts of text; DatasetFormatError naming the file."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetFormatError(f"{path}: cannot read it as UTF-8 text ({error})") from None
    if not lines:
        raise DatasetFormatError(f"{path}: empty file (expected a header line)")
    header = lines[0].split("\t")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(header):
            raise DatasetFormatError(
                f"{path}: line {number} has {len(cells)} cells, the header {len(header)}"
            )
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def read_json(path: Path) -> dict:
    """A JSON object from `path`; DatasetFormatError naming the file."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DatasetFormatError(f"{path}: not a JSON file ({clean(error)})") from None
    if not isinstance(value, dict):
        raise DatasetFormatError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def write_json(path: Path, value: dict) -> None:
    _write_text(path, json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_physio(path: Path, signal: Signal) -> Path:
    """`signal` as a BIDS physio file (gzipped TSV, no header, one column per channel, values
    as the shortest text that reads back bit for bit) and its sidecar; returns the sidecar."""
    import pandas as pd

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(np.asarray(signal.data, dtype=float).T)
    frame.to_csv(path, sep="\t", header=False, index=False, na_rep="n/a", compression="gzip")
    unit = BIDS_UNITS.get(signal.unit, signal.unit)
    sidecar = path.with_name(path.name.replace(".tsv.gz", ".json"))
    write_json(sidecar, {
        "SamplingFrequency": signal.sfreq,
        "StartTime": 0.0,
        "Columns": signal.ch_names,
        "PhysioType": "generic",
        **{name: {"Units": unit} for name in signal.ch_names},
    })  # fmt: skip
    return sidecar


def read_physio(path: Path) -> tuple[Signal, float]:
    """A BIDS physio file as a `Signal` (named by its columns, unit of its first column's
    ``Units``, type misc) and its ``StartTime`` (s); DatasetFormatError naming the file."""
    import pandas as pd

    path = Path(path)
    sidecar = read_json(path.with_name(path.name.replace(".tsv.gz", ".json")))
    columns, sfreq = sidecar.get("Columns"), sidecar.get("SamplingFrequency")
    if not (isinstance(columns, list) and columns and all(isinstance(c, str) for c in columns)):
        raise DatasetFormatError(f"{path}: sidecar key Columns is not a list of names")
    if not (isinstance(sfreq, int | float) and math.isfinite(sfreq) and sfreq > 0):
        raise DatasetFormatError(f"{path}: sidecar key SamplingFrequency is not a rate > 0")
    # exact decimal parsing: pandas 3's default, an option before (deprecated since)
    exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    try:
        frame = pd.read_csv(
            path, sep="\t", header=None, na_values=["n/a"], dtype=float, compression="gzip", **exact
        )
    except (OSError, ValueError, EOFError) as error:
        raise DatasetFormatError(f"{path}: not a numeric TSV ({clean(error)})") from None
    if frame.shape[1] != len(columns):
        raise DatasetFormatError(
            f"{path}: {frame.shape[1]} columns, its sidecar's Columns names {len(columns)}"
        )
    described = sidecar.get(columns[0])
    unit = described.get("Units") if isinstance(described, dict) else None
    unit = {v: k for k, v in BIDS_UNITS.items()}.get(
        unit, unit if isinstance(unit, str) else "a.u."
    )
    start = sidecar.get("StartTime", 0.0)
    start = float(start) if isinstance(start, int | float) else 0.0
    return Signal(frame.to_numpy().T, float(sfreq), columns, unit), start
