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

`read_run` reads one run back (ours, or any EEG-BIDS run: EEG channels as data, the other
types and each physio file as streams); `physioemo.datasets.bids` makes trials and datasets of
runs. The file helpers (TSV, JSON, physio) are in `physioemo.io.bids_files`.

Precision: the EEG file holds float32 (MNE-BIDS's BrainVision conversion), so a value reads
back within 2**-24 of itself, relative (`FLOAT32_RTOL` bounds it); physio files are exact.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import DatasetFormatError, clean
from ..montage import channel_types
from ..recording import SI_SCALE, UNIT_TO_VOLTS, Recording, Signal
from .bids_files import (
    BIDS_UNITS,
    mne_bids,
    read_json,
    read_physio,
    read_tsv,
    value_format,
    write_json,
    write_physio,
    write_text,
    write_tsv,
)

TASK = "emotion"
BASELINE_TASK = "baseline"
DATA_RECORDING = "data"
LAYOUT = "PhysioemoLayout"
#: relative error bound of a value read back from the float32 EEG file (float32's epsilon:
#: twice the 2**-24 of one rounding, for the scalings to µV and back)
FLOAT32_RTOL = 2.0**-23
#: BIDS channel types that differ from MNE-BIDS's mapping (it writes "bio" as MISC)
BIDS_TYPES = {"bio": "PPG"}
#: events.tsv columns BIDS defines; any other column holds a rating or a meta entry
EVENT_COLUMNS = tuple("onset duration trial_type sample value response_time stim_file HED".split())
#: participants.tsv columns BIDS defines that physioemo writes
PARTICIPANT_COLUMNS = ("participant_id",)
#: put before a meta entry's name where it would take a rating's or a BIDS column's
META_PREFIX = "meta_"
TRIAL_TYPES = {
    "trial": "one trial: its stimulus (clip, video) or protocol condition, rated by the subject",
    "baseline": "the resting recording that goes with the trial's run of the same number",
}
README = """\
Exported by physioemo {version} from {name}.

One run per trial (task-{task}); a trial's baseline is the run of the same number in
task-{baseline}. Ratings are columns of each run's events.tsv, described in
task-{task}_events.json. Streams at other rates are _physio.tsv.gz files beside the run.
"""


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
    columns: BIDS descriptions of events columns (LongName, Description, Minimum/Maximum or
        Levels, ...): the ratings' and trial_type's, written to ``task-<task>_events.json``.
    overwrite: write into a folder that already holds files (else FileExistsError).
    Subjects must be BIDS labels (letters and digits), sessions and trials integers >= 0.
    """
    root = Path(root)
    if root.exists() and any(root.iterdir()) and not overwrite:
        raise FileExistsError(f"{root}: folder is not empty; choose another or overwrite it")
    root.mkdir(parents=True, exist_ok=True)
    text = README.format(version=__version__, name=name, task=task, baseline=BASELINE_TASK)
    write_text(root / "README", text)
    participants, meta, ratings = {}, {}, {}
    for subject, group in itertools.groupby(recordings, key=lambda r: r.subject):
        constant = _write_subject(list(group), root, task, meta, ratings)
        participants.setdefault(subject, {}).update(constant)
    if not participants:
        raise ValueError("no recordings to write")
    _write_participants(root, participants)
    columns = columns or {}
    described = {
        key: {"Description": f"rating {key}", **columns.get(key, {}), "Format": "number"}
        for key in ratings
    }
    _write_events_json(root, task, {**columns, **described, **_describe_meta(meta)})
    _write_events_json(root, BASELINE_TASK, {})
    _write_description(root, name)
    return root


def _write_subject(group: list[Recording], root: Path, task: str, meta: dict, ratings: dict):
    """Write one subject's trials; returns its participants.tsv entries (the scalar meta its
    trials share), and adds the values of its other meta entries (key -> values) to `meta` and
    its rating names to `ratings`."""
    constant = _constant_meta(group)
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
    return {meta_column(k, PARTICIPANT_COLUMNS): v for k, v in constant.items()}


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
    """The dataset's events.json of `task`: trial_type's levels (unless `columns` describe
    them) and `columns`."""
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


# ----------------------------------------------------------------------------- reading one run
def events_path(path) -> Path:
    return path.copy().update(recording=None, suffix="events", extension=".tsv").fpath


def event_columns(path) -> dict:
    """The run's events.json: the dataset's for its task (column descriptions) overlaid by the
    run's own (our layout), as BIDS's inheritance reads them."""
    own = events_path(path).with_suffix(".json")
    top = Path(path.root) / f"task-{path.task}_events.json"
    return {
        key: value
        for file in (top, own)
        if file.is_file()
        for key, value in read_json(file).items()
    }


def read_run(path) -> tuple[Recording, dict[str, float], dict]:
    """All of one run as a `Recording`, the start time (s) of each of its physio streams, and
    our layout ({} when the run has none)."""
    sidecar = events_path(path).with_suffix(".json")
    layout = layout_of(path)
    physio = _physio_files(path)
    if path.datatype == "beh":
        if not layout or DATA_RECORDING not in physio:
            raise DatasetFormatError(f"{sidecar}: key {LAYOUT} is missing (needed by beh runs)")
        source = physio.pop(DATA_RECORDING)[0]
        sfreq = source.sfreq
    else:
        source = _read_raw(path)
        main = path.copy().update(extension=".json").fpath
        stated = read_json(main).get("SamplingFrequency") if main.is_file() else None
        sfreq = _rate(stated, source.info["sfreq"])
    if not layout:
        extra = {label: signal for label, (signal, _) in physio.items()}
        return Recording.from_mne(source, path.subject, extra=extra), _starts(physio, {}), {}
    whole = _laid_out(source, sfreq, layout, physio, sidecar, path.subject)
    return whole, _starts(physio, layout), layout


def _starts(physio: dict, layout: dict) -> dict[str, float]:
    """stream name -> start time (s) of each physio file (named by our layout, else label)."""
    names = {s["recording"]: key for key, s in layout.get("streams", {}).items()}
    return {names.get(label, label): start for label, (_, start) in physio.items()}


def _rate(stated, read: float) -> float:
    """The sidecar's SamplingFrequency (exact as written) when it agrees with the file's."""
    if isinstance(stated, int | float) and abs(stated - read) <= 1e-6 * read:
        return float(stated)
    return read


def _physio_files(path) -> dict[str, tuple[Signal, float]]:
    """recording label -> (Signal, start time) of each physio file of the run."""
    base = path.copy().update(recording=None, suffix=None, extension=None).basename
    head, tail = f"{base}_recording-", "_physio.tsv.gz"
    return {
        file.name[len(head) : -len(tail)]: read_physio(file)
        for file in sorted(path.fpath.parent.glob(f"{head}*{tail}"))
    }


def _read_raw(path):
    """The run's EEG file through MNE-BIDS (channel types, units and bads from its TSVs);
    DatasetFormatError naming it when MNE or MNE-BIDS cannot read it."""
    read_raw_bids = mne_bids().read_raw_bids
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # notes on absent sidecars
            return read_raw_bids(path, verbose="error").load_data()
    except (ValueError, OSError, RuntimeError, KeyError, IndexError) as error:
        raise DatasetFormatError(
            f"{path.fpath}: MNE-BIDS cannot read it ({clean(error)})"
        ) from None


def layout_of(path) -> dict:
    """Our layout of the run at `path` (a BIDSPath), from its events.json, checked ({} when
    it has none)."""
    sidecar = events_path(path).with_suffix(".json")
    layout = event_columns(path).get(LAYOUT, {})

    def names(value) -> bool:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)

    def fail(key: str, what: str):
        raise DatasetFormatError(f"{sidecar}: key {LAYOUT}{key} {what}")

    if not isinstance(layout, dict):
        fail("", "is not an object")
    if not layout:
        return {}
    if layout.get("unit") not in UNIT_TO_VOLTS or not names(layout.get("channels")):
        fail("", "needs a voltage unit and a list of channels")
    if not isinstance(layout.get("streams", {}), dict) or not names(layout.get("ratings", [])):
        fail("", "has streams that are not an object or ratings that are not names")
    for key, stream in layout.get("streams", {}).items():
        inside = isinstance(stream, dict) and stream.get("recording") is None
        if not (
            isinstance(stream, dict)
            and names(stream.get("channels"))
            and isinstance(stream.get("unit"), str)
            and isinstance(stream.get("type"), str)
            and (isinstance(stream.get("recording"), str) or names(stream.get("columns")))
            and (not inside or len(stream["columns"]) == len(stream["channels"]))
        ):
            fail(f".streams.{key}", "needs channels, unit, type, and a recording or columns")
    if not isinstance(layout.get("baseline"), str | None):
        fail(".baseline", "is not a task label")
    return layout


def _laid_out(source, sfreq: float, layout: dict, physio: dict, sidecar, subject) -> Recording:
    """A whole run as our layout describes it: data and inside streams from `source` (the Raw,
    or the data's physio Signal), the other streams from the `physio` files."""
    extra = {}
    for key, stream in layout.get("streams", {}).items():
        label, names = stream["recording"], stream["channels"]
        if label is None:
            values, rate = _take(source, stream["columns"], stream["unit"], sidecar), sfreq
        elif label in physio and len(physio[label][0].ch_names) == len(names):
            values, rate = physio[label][0].data, physio[label][0].sfreq
        else:
            raise DatasetFormatError(
                f"{sidecar}: stream {key}'s file recording-{label} is missing or has other channels"
            )
        extra[key] = Signal(values, rate, names, stream["unit"], stream["type"])
    data = _take(source, layout["channels"], layout["unit"], sidecar)
    return Recording(data, sfreq, layout["channels"], subject, unit=layout["unit"], extra=extra)


def _take(source, names: list[str], unit: str, sidecar: Path) -> np.ndarray:
    """Channels `names` of `source`: of a Raw scaled from SI back to `unit` (units without an
    SI scale as stored), of a physio Signal as they are."""
    absent = [name for name in names if name not in source.ch_names]
    if absent:
        raise DatasetFormatError(f"{sidecar}: channels {absent} of {LAYOUT} are not in the file")
    rows = [source.ch_names.index(name) for name in names]
    if isinstance(source, Signal):
        return source.data[rows]
    return source.get_data(picks=rows) / SI_SCALE.get(unit, 1.0)
