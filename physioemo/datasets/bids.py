"""BIDS emotion datasets: read one into `Recording`s, and export any dataset as one.

`load_bids` reads what `export_bids` (``physioemo export-bids``, layout in `physioemo.io.bids`)
writes, bit for bit where the files are exact, and any EEG-BIDS dataset whose events carry
ratings, by these rules (ours where BIDS is silent):

* runs: every ``_eeg`` file (BrainVision, EDF, BDF, EEGLAB) of the dataset, read with
  ``mne_bids.read_raw_bids``, and every ``beh`` run whose data is a ``recording-data`` physio
  file (our export of a dataset without EEG); `task` keeps one task's runs;
* ratings: `ratings` if given, else the names our export's ``PhysioemoLayout`` lists, else every
  events.tsv column BIDS does not define whose cells are all numbers (or n/a);
* trials: the events of a run of trial_type ``trial`` or with a rating; a trial spans its
  ``onset`` and ``duration`` (n/a or 0: up to the next trial, or the end of the run) in every
  stream, physio files from their ``StartTime``. A run holding one trial that spans it all is
  taken whole, streams included. Trial numbers: the run index of a run holding one trial, else
  1, 2, ... over the subject's runs;
* channels: with our layout as exported; else EEG channels are `data` (µV) and the other types
  one `extra` stream each (`Recording.from_mne`), and each ``recording-<label>`` physio file of
  the run a stream named <label>;
* baseline: the run of the same entities in the task our layout names (``baseline``);
* meta: the participants.tsv row of the subject and the events' other columns, typed by the
  ``Format`` of their JSON description (text where none is given); sessions are the ``ses``
  label as a number (or its place among the subject's sessions).

Rating dimensions are declared the BIDS way, in the column descriptions of ``events.json``:
``Levels`` for a categorical rating (SEED's emotion, WESAD's condition), ``Minimum`` and
``Maximum`` for a scale. `BidsDataset.labels` builds the label schemes from them (binary
threshold: the scale's midpoint, ours; it is DREAMER's 3 and DEAP's 5). The ``bids`` card itself
carries DREAMER's schemes (its synthetic data is DREAMER exported as BIDS), which is what
``physioemo bench --dataset bids`` uses.
"""

from __future__ import annotations

import itertools
import math
import tempfile
from dataclasses import replace
from pathlib import Path

from ..errors import DatasetFormatError
from ..io.bids import (
    DATA_RECORDING,
    EVENT_COLUMNS,
    PARTICIPANT_COLUMNS,
    TRIAL_TYPES,
    event_columns,
    events_path,
    layout_of,
    meta_key,
    read_run,
    write,
)
from ..io.bids_files import mne_bids, parse, read_json, read_tsv
from ..labels import CategoricalScheme, DatasetLabels
from ..montage import channel_types
from ..recording import Recording, Signal
from .base import Dataset

EEG_EXTENSIONS = [".vhdr", ".edf", ".bdf", ".set"]


class BidsDataset(Dataset):
    """A `Dataset` read from BIDS, with the label schemes its events.json declares.

    labels: `DatasetLabels` from the rating columns' ``Levels`` (categorical schemes, one per
        such rating, named after it) or ``Minimum``/``Maximum`` (a scale shared by the rated
        dimensions); None when the dataset declares neither.
    """

    labels: DatasetLabels | None = None


def load_bids(root: str | Path, task: str | None = None, ratings=None) -> BidsDataset:
    """Read the BIDS dataset at `root` (the folder holding dataset_description.json).

    task: read only this task's runs. ratings: the events.tsv columns that hold ratings
    (default: see the module docstring). Subjects are in participants.tsv's order (others
    sorted after them), named by their BIDS label.
    """
    root = Path(root)
    description = root / "dataset_description.json"
    if not description.is_file():
        raise FileNotFoundError(
            f"{description}: no such file (expected the BIDS dataset's dataset_description.json)"
        )
    runs = _runs(root, task)
    people = _participants(root)
    order = [s for s in people if s in runs] + sorted(set(runs) - set(people))
    names = list(ratings) if ratings else _rating_names(runs)
    first = next(
        ((path, trials) for s in order for path in runs[s] if (trials := _run_trials(path, names))),
        None,
    )
    if first is None:
        raise DatasetFormatError(
            f"{root}: no run holds a trial (an event with {names or 'ratings'})"
        )
    path, (trial, *_) = first
    dataset = BidsDataset(
        "bids",
        order,
        lambda subject: _subject(runs[subject], names, people.get(subject, {})),
        sfreq=trial.sfreq,
        ch_names=trial.ch_names,
        modality="+".join(dict.fromkeys(channel_types(trial.ch_names))),
        unit=trial.unit,
        rating_names=names,
        source=root,
    )
    dataset.labels = declared_labels(names, event_columns(path))
    return dataset


def _runs(root: Path, task: str | None) -> dict[str, list]:
    """subject label -> the BIDSPaths of its runs' main files, in session, task, run order."""
    find_matching_paths = mne_bids().find_matching_paths
    found = find_matching_paths(
        root, tasks=task, datatypes="eeg", suffixes="eeg", extensions=EEG_EXTENSIONS
    )
    found += find_matching_paths(
        root,
        tasks=task,
        datatypes="beh",
        suffixes="physio",
        recordings=DATA_RECORDING,
        extensions=".tsv.gz",
    )
    if not found:
        raise FileNotFoundError(
            f"{root}: no EEG runs (sub-*/[ses-*/]eeg/*_eeg.vhdr, .edf, .bdf or .set)"
            + (f" of task {task!r}" if task else "")
        )
    runs: dict[str, list] = {}
    for path in sorted(found, key=_run_order):
        runs.setdefault(path.subject, []).append(path)
    return runs


def _run_order(path) -> tuple:
    def number(label):
        return (0, int(label), "") if label and label.isdigit() else (1, 0, label or "")

    return number(path.session), path.task or "", number(path.run)


def _participants(root: Path) -> dict[str, dict]:
    """subject label -> its participants.tsv columns, typed by participants.json's Format."""
    table = root / "participants.tsv"
    if not table.is_file():
        return {}
    sidecar = root / "participants.json"
    formats = _formats(read_json(sidecar) if sidecar.is_file() else {})
    people = {}
    for row in read_tsv(table):
        label = row.pop("participant_id", "").removeprefix("sub-")
        people[label] = {
            meta_key(key, PARTICIPANT_COLUMNS): parse(text, formats.get(key), f"{table}: {key}")
            for key, text in row.items()
        }
    return people


def _formats(columns: dict) -> dict[str, str]:
    """column -> its BIDS Format, from JSON column descriptions."""
    return {
        key: value["Format"]
        for key, value in columns.items()
        if isinstance(value, dict) and isinstance(value.get("Format"), str)
    }


def _rating_names(runs: dict[str, list]) -> list[str]:
    """Ratings our layout lists, else the numeric events columns BIDS does not define (both
    from the first run that has them)."""
    for path in (path for paths in runs.values() for path in paths):
        listed = layout_of(path).get("ratings")
        if listed:
            return [str(name) for name in listed]
        rows = _events(path)
        numeric = [
            key
            for key in (rows[0] if rows else {})
            if key not in EVENT_COLUMNS and all(_number(row[key]) for row in rows)
        ]
        if numeric:
            return numeric
    return []


def _number(text: str) -> bool:
    """Whether a TSV cell is a number or n/a."""
    try:
        float(text)
    except ValueError:
        return text == "n/a"
    return True


def _subject(paths: list, names: list[str], meta: dict) -> list[Recording]:
    counter = itertools.count(1)
    sessions = sorted({path.session for path in paths if path.session is not None})
    return [
        recording
        for path in paths
        for recording in _run_trials(path, names, meta, counter, sessions)
    ]


def _run_trials(path, names, meta=None, counter=None, sessions=()) -> list[Recording]:
    """The trials of one run (see the module docstring); the run's files are read only when
    its events hold a trial."""
    rows = [
        row
        for row in _events(path)
        if row.get("trial_type") == "trial" or any(row.get(n, "n/a") != "n/a" for n in names)
    ]
    if not rows:
        return []
    counter = counter or itertools.count(1)
    formats = _formats(event_columns(path))
    whole, starts, layout = read_run(path)
    baseline = _baseline(path, layout.get("baseline"))
    session = 1 if path.session is None else _session(path.session, sessions)
    trials = []
    for row in rows:
        where = f"{events_path(path)}: trial at onset {row['onset']}"
        segment = whole if _spans(row, whole, len(rows)) else _cut(whole, starts, row, rows)
        trials.append(
            Recording(
                segment.data,
                whole.sfreq,
                whole.ch_names,
                path.subject,
                session=session,
                trial=int(path.run) if len(rows) == 1 and path.run else next(counter),
                ratings={n: _rating(row.get(n, "n/a"), where, n) for n in names},
                baseline=None if baseline is None else baseline.data,
                unit=whole.unit,
                extra={**segment.extra, **_twins(baseline)},
                meta={**(meta or {}), **_row_meta(row, names, formats, where)},
            )
        )
    return trials


def _session(label: str, labels) -> int:
    """A session label as a number: itself when it is one, else its place among `labels` (the
    subject's session labels, sorted)."""
    return int(label) if label.isdigit() else [*labels, label].index(label) + 1


def _rating(text: str, where: str, name: str) -> float:
    try:
        return math.nan if text == "n/a" else float(text)
    except ValueError:
        raise DatasetFormatError(f"{where}: column {name} is not a number") from None


def _row_meta(row: dict, names: list[str], formats: dict, where: str) -> dict:
    """The meta entries of an events row: its columns other than BIDS's and the ratings."""
    taken = {*EVENT_COLUMNS, *names}
    return {
        meta_key(key, taken): parse(text, formats.get(key), f"{where}, column {key}")
        for key, text in row.items()
        if key not in taken
    }


def _twins(baseline: Recording | None) -> dict[str, Signal]:
    return {} if baseline is None else {f"{k}_baseline": v for k, v in baseline.extra.items()}


def _baseline(path, task) -> Recording | None:
    """All of the run of `path`'s entities in the baseline `task` (None: no baseline)."""
    return None if task is None else read_run(path.copy().update(task=task))[0]


def _spans(row: dict, whole: Recording, n_rows: int) -> bool:
    """Whether the run's one trial is all of it."""
    return n_rows == 1 and _bounds(row, whole.sfreq, 0.0, whole.n_times) == (0, whole.n_times)


def _cut(whole: Recording, starts: dict, row: dict, rows: list[dict]) -> Recording:
    """The span of `row` in every stream of `whole` (each from its start time)."""
    later = [float(r["onset"]) for r in rows if float(r["onset"]) > float(row["onset"])]
    end = min(later, default=whole.duration)
    start, stop = _bounds(row, whole.sfreq, 0.0, whole.n_times, end)
    extra = {}
    for key, signal in whole.extra.items():
        a, b = _bounds(row, signal.sfreq, starts.get(key, 0.0), signal.data.shape[1], end)
        extra[key] = replace(signal, data=signal.data[:, a:b])
    return replace(whole, data=whole.data[:, start:stop], extra=extra)


def _bounds(row: dict, sfreq: float, start: float, n: int, end: float | None = None):
    """Samples [a, b) of the event `row` in a stream of `n` samples at `sfreq` Hz whose first
    sample is at `start` s; an event without duration lasts until `end` (s; default the
    stream's end)."""
    onset = float(row["onset"])
    duration = float(row["duration"]) if row.get("duration", "n/a") != "n/a" else 0.0
    stop = onset + duration if duration > 0 else (n / sfreq + start if end is None else end)
    a = int(round((onset - start) * sfreq))
    b = a + int(round((stop - onset) * sfreq))
    return min(max(a, 0), n), min(max(b, 0), n)


def _events(path) -> list[dict]:
    """The run's events.tsv rows (none when it has no events.tsv), onsets checked."""
    events = events_path(path)
    rows = read_tsv(events) if events.is_file() else []
    for number, row in enumerate(rows, start=2):
        for key in ("onset", "duration"):
            text = row.get(key, "n/a")
            if not _number(text) or (key == "onset" and text == "n/a"):
                raise DatasetFormatError(f"{events}: line {number}, column {key} is not a number")
    return rows


def declared_labels(names: list[str], columns: dict) -> DatasetLabels | None:
    """The label schemes the events.json `columns` declare for the ratings `names`."""
    described = {n: columns[n] for n in names if isinstance(columns.get(n), dict)}
    categorical = {}
    for name, column in described.items():
        levels = column.get("Levels")
        if isinstance(levels, dict) and all(_number(str(code)) for code in levels):
            codes = tuple((int(float(code)),) for code in levels)
            categorical[name] = CategoricalScheme(name, tuple(map(str, levels.values())), codes)
    if categorical:
        return DatasetLabels("bids", tuple(categorical), tuple(categorical)[:1], None, categorical)
    scales = {
        (column["Minimum"], column["Maximum"])
        for column in described.values()
        if isinstance(column.get("Minimum"), int | float)
        and isinstance(column.get("Maximum"), int | float)
    }
    if len(scales) != 1:
        return None
    low, high = scales.pop()
    rated = tuple(n for n in described if "Minimum" in described[n])
    return DatasetLabels("bids", rated, rated[:2], (int(low), int(high), (low + high) / 2))


def describe_events(dataset: str, names: list[str]) -> dict[str, dict]:
    """BIDS column descriptions of the events of `dataset` from its card: what a trial's
    stimulus is (trial_type), and each rating of `names`: a scale's ``Minimum``/``Maximum``, a
    category's ``Levels`` (from its scheme with the most classes)."""
    from .cards import CARDS

    card = CARDS.get(dataset)
    if card is None:
        return {}
    levels = {**TRIAL_TYPES, "trial": f"{TRIAL_TYPES['trial']}; {card.stimuli}"}
    columns = {"trial_type": {"LongName": "segment", "Levels": levels}}
    for name in names:
        column = {"LongName": f"{name} rating", "Description": f"self-reported {name}"}
        if name in card.dimensions and card.scale:
            column |= {"Minimum": card.scale[0], "Maximum": card.scale[1]}
        schemes = [s for s in card.categorical.values() if s.dimension == name]
        if schemes:
            widest = max(schemes, key=lambda s: s.n_classes)
            codes = zip(widest.class_names, widest.codes, strict=True)
            column |= {
                "Description": f"{name} code",
                "Levels": {str(code): label for label, group in codes for code in group},
            }
        columns[name] = column
    return columns


def export_bids(dataset: Dataset, out: str | Path, overwrite: bool = False, progress=False):
    """Write `dataset` as BIDS into `out` (layout: `physioemo.io.bids`), one subject at a time;
    returns `out`. progress: a bar over subjects."""
    from tqdm.auto import tqdm

    subjects = tqdm(
        dataset.iter_subjects(), total=len(dataset.subjects), unit="subject",
        disable=None if progress else True,
    )  # fmt: skip
    recordings = (recording for _, group in subjects for recording in group)
    columns = describe_events(dataset.name, dataset.rating_names)
    return write(recordings, out, name=dataset.name, columns=columns, overwrite=overwrite)


def write_synthetic_bids(out_dir, subjects=4, seconds=10.0, seed=0, trials=18) -> Path:
    """The card's synthetic data: a synthetic DREAMER (`write_dreamer`) exported as BIDS into
    `out_dir`; returns `out_dir`."""
    from .dreamer import load_dreamer
    from .synthetic.dreamer import write_dreamer

    with tempfile.TemporaryDirectory() as folder:
        source = write_dreamer(folder, subjects=subjects, seconds=seconds, seed=seed, trials=trials)
        return export_bids(load_dreamer(source), out_dir, overwrite=True)
