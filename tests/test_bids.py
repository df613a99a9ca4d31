"""BIDS both ways: synthetic DREAMER, DEAP, SEED and WESAD written as BIDS pass the BIDS file
rules (the validator's path rules and the BIDS schema's) and read back equal; a BIDS dataset
written by MNE-BIDS itself reads into trials; the CLI and the card's synthetic data."""

import csv
import gzip
import json
import logging
import math
import shutil

import numpy as np
import pytest

from physioemo.cli import main
from physioemo.datasets import card, load, synthetic
from physioemo.datasets.bids import describe_events, export_bids, load_bids, write_synthetic_bids
from physioemo.errors import DatasetFormatError
from physioemo.io import bids as io_bids
from physioemo.labels import make
from physioemo.recording import Recording

pytest.importorskip("mne_bids")

#: small synthetic data of each dataset, and which of its recordings to export
SOURCES = {
    "dreamer": (lambda out: synthetic.write_dreamer(out, 2, 3.0, seed=1, trials=3), None),
    "deap": (lambda out: synthetic.write_deap(out, 2, 2.0, seed=1, trials=2), None),
    # a session's first two clips, in each of the three sessions
    "seed": (lambda out: synthetic.write_seed(out, 1, 2.0, seed=1), lambda r: r.trial <= 2),
    "wesad": (lambda out: synthetic.write_wesad(out, 1, 5.0, seed=1), None),
}


@pytest.fixture(scope="module", params=sorted(SOURCES))
def exported(request, tmp_path_factory):
    """(name, the source recordings, the BIDS folder they were written to)."""
    name = request.param
    write, keep = SOURCES[name]
    source = load(name, write(tmp_path_factory.mktemp(name)))
    recordings = [r for r in source if keep is None or keep(r)]
    out = tmp_path_factory.mktemp(f"{name}-bids")
    columns = describe_events(name, source.rating_names)
    io_bids.write(recordings, out, name=name, columns=columns, overwrite=True)
    return name, recordings, out


def _same(a, b) -> bool:
    """Equal, or both NaN (a missing rating or meta entry)."""
    nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return a == b or nan


def _assert_values(source: np.ndarray, back: np.ndarray, exact: bool, where: str) -> None:
    """Physio files are exact; the float32 EEG file within one float32 step, relative."""
    assert back.shape == source.shape, where
    if exact:
        np.testing.assert_array_equal(back, source, err_msg=where)
    else:
        np.testing.assert_allclose(back, source, rtol=io_bids.FLOAT32_RTOL, atol=0, err_msg=where)


def test_round_trip_equals_the_source(exported):
    name, recordings, out = exported
    back = list(load_bids(out))
    assert [(r.subject, r.session, r.trial) for r in back] == [
        (r.subject, r.session, r.trial) for r in recordings
    ]
    in_eeg_file = "eeg" in card(name).modalities
    for source, read in zip(recordings, back, strict=True):
        where = f"{name} {source.subject}/{source.session}/{source.trial}"
        assert (read.sfreq, read.ch_names, read.unit) == (
            source.sfreq,
            source.ch_names,
            source.unit,
        )
        assert read.ratings.keys() == source.ratings.keys()
        assert all(_same(read.ratings[k], v) for k, v in source.ratings.items()), where
        _assert_values(source.data, read.data, not in_eeg_file, where)
        assert (read.baseline is None) == (source.baseline is None)
        if source.baseline is not None:
            _assert_values(source.baseline, read.baseline, not in_eeg_file, where + " baseline")
        assert read.extra.keys() == source.extra.keys()
        for key, signal in source.extra.items():
            got = read.extra[key]
            assert (got.sfreq, got.ch_names, got.unit, got.ch_type) == (
                signal.sfreq, signal.ch_names, signal.unit, signal.ch_type,
            )  # fmt: skip
            inside = in_eeg_file and signal.sfreq == source.sfreq
            _assert_values(signal.data, got.data, not inside, f"{where} {key}")
        scalars = {k: v for k, v in source.meta.items() if not isinstance(v, dict | list)}
        assert scalars.keys() == read.meta.keys(), where
        for key, value in scalars.items():
            got = read.meta[key]
            assert _same(got, value) and type(got) is type(value), f"{where} meta {key}"


def test_every_file_passes_the_bids_file_rules(exported):
    from bids_validator import BIDSValidator
    from bidsschematools.validator import validate_bids

    _, _, out = exported
    files = sorted("/" + p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert "/dataset_description.json" in files and "/participants.tsv" in files
    validator = BIDSValidator()
    assert [f for f in files if not validator.is_bids(f)] == []
    assert not validator.is_bids("/sub-x/notes_eeg.txt")  # the check does catch a stray name
    stray = out / "sub-x" / "notes_eeg.txt"
    stray.parent.mkdir()
    stray.write_text("x")
    logging.disable(logging.WARNING)  # the schema validator logs every file it matches
    try:  # every file matches a schema rule but the stray one
        assert validate_bids(str(out))["path_tracking"] == [str(stray)]
    finally:
        shutil.rmtree(stray.parent)
        logging.disable(logging.NOTSET)


def _tsv(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file, delimiter="\t"))


def test_channels_events_and_participants_as_bids_tools_read_them(exported):
    name, recordings, out = exported
    first = recordings[0]
    run = f"sub-{first.subject}_ses-{first.session}_task-emotion_run-{first.trial}"
    folder = out / f"sub-{first.subject}" / f"ses-{first.session}"
    kind = "eeg" if "eeg" in card(name).modalities else "beh"
    (event,) = _tsv(folder / kind / f"{run}_events.tsv")
    assert event["trial_type"] == "trial" and float(event["onset"]) == 0.0
    described = json.loads((out / "task-emotion_events.json").read_text())
    assert card(name).stimuli in described["trial_type"]["Levels"]["trial"]
    assert float(event["duration"]) == first.n_times / first.sfreq
    for key, value in first.ratings.items():
        assert _same(value, math.nan if event[key] == "n/a" else float(event[key]))
    people = {row["participant_id"]: row for row in _tsv(out / "participants.tsv")}
    assert list(people) == [f"sub-{s}" for s in dict.fromkeys(r.subject for r in recordings)]
    if name in ("dreamer", "wesad"):  # constant over a subject's trials: participants.tsv
        assert people[f"sub-{first.subject}"]["age"] == str(first.meta["age"])
    if kind == "beh":  # no EEG: every stream a physio file at its own rate, exact as text
        sidecar = json.loads((folder / "beh" / f"{run}_recording-wristbvp_physio.json").read_text())
        assert sidecar["SamplingFrequency"] == 64.0 and sidecar["Columns"] == ["wrist_BVP"]
        with gzip.open(folder / "beh" / f"{run}_recording-wristbvp_physio.tsv.gz", "rt") as file:
            values = np.loadtxt(file, ndmin=2).T
        np.testing.assert_array_equal(values, first.extra["wrist_bvp"].data)
        return
    types = {
        row["name"]: (row["type"], row["units"])
        for row in _tsv(folder / "eeg" / f"{run}_channels.tsv")
    }
    assert all(types[c] == ("EEG", "µV") for c in first.ch_names)
    expected = {
        "dreamer": {},  # its ECG is at 256 Hz: a physio file
        "deap": {
            "hEOG": ("EOG", "n/a"), "zEMG": ("EMG", "n/a"), "GSR": ("GSR", "n/a"),
            "Respiration": ("RESP", "n/a"), "Plethysmograph": ("PPG", "n/a"),
            "Temperature": ("TEMP", "n/a"),
        },
        "seed": {},
    }[name]  # fmt: skip
    assert {c: types[c] for c in expected} == expected
    assert len(types) == len(first.ch_names) + len(expected) + (name == "deap") * 2  # vEOG, tEMG


def test_mne_bids_reads_the_export(exported):
    import mne_bids

    name, recordings, out = exported
    first = recordings[0]
    if "eeg" not in card(name).modalities:  # physio files only: MNE-BIDS finds every one
        found = mne_bids.find_matching_paths(out, datatypes="beh", extensions=".tsv.gz")
        assert sorted(p.fpath for p in found) == sorted(out.rglob("*_physio.tsv.gz"))
        assert {p.recording for p in found} == {"data", *(k.replace("_", "") for k in first.extra)}
        return
    path = mne_bids.BIDSPath(
        subject=first.subject, session=str(first.session), task="emotion", run=first.trial,
        datatype="eeg", root=out,
    )  # fmt: skip
    raw = mne_bids.read_raw_bids(path, verbose="error")
    assert raw.info["sfreq"] == first.sfreq and raw.n_times == first.n_times
    assert list(raw.annotations.description) == ["trial"]
    eeg = raw.get_data(picks=first.ch_names) / 1e-6  # volts in MNE, microvolts in the source
    np.testing.assert_allclose(eeg, first.data, rtol=io_bids.FLOAT32_RTOL)


def test_rating_scales_are_declared_in_events_json(exported):
    name, _, out = exported
    labels = load_bids(out).labels
    if name in ("dreamer", "deap"):
        low, high, threshold = card(name).scale
        assert labels.scale == (low, high, (low + high) / 2) and threshold == (low + high) / 2
        scheme = make(labels, "binary", "valence")  # what a user builds from them
        assert (scheme.low, scheme.high, scheme.threshold) == (low, high, threshold)
    else:
        dimension = card(name).dimensions[0]
        widest = max(card(name).categorical.values(), key=lambda s: len(s.codes))
        scheme = labels.category(dimension)
        assert scheme.class_names == widest.class_names and scheme.codes == widest.codes


# ----------------------------------------------------------------------------- any BIDS dataset
def test_a_dataset_mne_bids_wrote_reads_into_its_rated_trials(tmp_path):
    """A continuous run with three rated events (MNE-BIDS's own writer, no physioemo layout):
    each trial runs from its onset to the next one, its ratings from the events' column."""
    import mne
    import mne_bids
    import pandas as pd

    rng = np.random.default_rng(5)
    data = rng.normal(0, 20e-6, (3, 600))
    raw = mne.io.RawArray(data, mne.create_info(["Fz", "Cz", "ECG"], 100.0, ["eeg", "eeg", "ecg"]))
    onsets = [50, 250, 400]
    events = np.array([[o, 0, 1] for o in onsets])
    path = mne_bids.BIDSPath(subject="01", task="film", run=1, datatype="eeg", root=tmp_path)
    metadata = pd.DataFrame({"valence": [2.0, 7.5, 5.0]})
    mne_bids.write_raw_bids(
        raw, path, events=events, event_id={"clip": 1}, event_metadata=metadata,
        extra_columns_descriptions={"valence": "self-reported valence"},
        format="BrainVision", allow_preload=True, verbose="error",
    )  # fmt: skip
    dataset = load_bids(tmp_path)
    assert dataset.rating_names == ["valence"] and dataset.subjects == ["01"]
    trials = dataset.subject("01")
    assert [r.trial for r in trials] == [1, 2, 3]
    assert [r.ratings["valence"] for r in trials] == [2.0, 7.5, 5.0]
    for trial, start, stop in zip(trials, onsets, [*onsets[1:], 600], strict=True):
        assert trial.ch_names == ["Fz", "Cz"] and trial.unit == "uV"
        expected = data[:2, start:stop] / 1e-6
        np.testing.assert_allclose(trial.data, expected, rtol=io_bids.FLOAT32_RTOL)
        np.testing.assert_allclose(
            trial.extra["ecg"].data, data[2:, start:stop] / 1e-6, rtol=io_bids.FLOAT32_RTOL
        )


def test_damaged_files_raise_one_line_naming_them(exported, tmp_path):
    _, recordings, out = exported
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    with pytest.raises(FileNotFoundError, match="dataset_description.json"):
        load_bids(copy / "sub-missing")
    first = recordings[0]
    sidecar = next(
        copy.rglob(
            f"sub-{first.subject}_ses-{first.session}_task-emotion_run-{first.trial}_events.json"
        )
    )
    layout = json.loads(sidecar.read_text())
    layout[io_bids.LAYOUT]["unit"] = "furlong"
    sidecar.write_text(json.dumps(layout))
    with pytest.raises(DatasetFormatError, match=f"{sidecar.name}: key PhysioemoLayout"):
        list(load_bids(copy))
    sidecar.write_text("{not json")
    with pytest.raises(DatasetFormatError, match=f"{sidecar.name}: not a JSON file"):
        list(load_bids(copy))
    shutil.copy(out / sidecar.relative_to(copy), sidecar)
    events = sidecar.with_suffix(".tsv")
    events.write_text("onset\tduration\ttrial_type\nsoon\t1\ttrial\n")
    with pytest.raises(DatasetFormatError, match=f"{events.name}: line 2, column onset"):
        list(load_bids(copy))
    shutil.copy(out / events.relative_to(copy), events)
    people = copy / "participants.tsv"
    people.write_text(
        "participant_id\tyears\n" + "".join(f"sub-{r.subject}\told\n" for r in recordings[:1])
    )
    (copy / "participants.json").write_text(json.dumps({"years": {"Format": "integer"}}))
    with pytest.raises(
        DatasetFormatError, match=f"{people.name}: years: 'old' is not of Format integer"
    ):
        load_bids(copy)
    shutil.copy(out / "participants.tsv", people)
    shutil.copy(out / "participants.json", copy / "participants.json")
    for physio in copy.rglob("*_physio.tsv.gz"):  # DREAMER's ECG, WESAD's streams
        physio.write_bytes(gzip.compress(b"1.5\tnot a number\n"))
        with pytest.raises(DatasetFormatError, match=f"{physio.name}: "):
            list(load_bids(copy))
        return
    data = next(copy.rglob("*_eeg.eeg"))
    data.write_bytes(b"")
    with pytest.raises(DatasetFormatError, match=f"{data.stem}.vhdr: MNE-BIDS cannot read it"):
        list(load_bids(copy))


def test_writer_refuses_what_bids_cannot_name(tmp_path):
    recording = Recording(np.zeros((1, 10)), 10.0, ["Cz"], "s_01")
    with pytest.raises(ValueError, match="letters and digits"):
        io_bids.write([recording], tmp_path / "a", name="x")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "old").write_text("")
    with pytest.raises(FileExistsError, match="not empty"):
        io_bids.write([Recording(np.zeros((1, 10)), 10.0, ["Cz"], "s01")], tmp_path / "b", name="x")


def test_missing_mne_bids_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mne_bids", None)
    with pytest.raises(ValueError, match=r"pip install 'physioemo\[bids\]'"):
        io_bids.mne_bids()


# ----------------------------------------------------------------------------- card and CLI
def test_card_writes_synthetic_dreamer_as_bids(tmp_path):
    out = write_synthetic_bids(tmp_path / "bids", subjects=2, seconds=3.0, seed=4, trials=2)
    dataset = card("bids").load(out)
    source = load("dreamer", synthetic.write_dreamer(tmp_path / "d", 2, 3.0, seed=4, trials=2))
    assert dataset.subjects == source.subjects
    assert [r.ratings for r in dataset] == [r.ratings for r in source]
    assert card("bids").labels.scale == dataset.labels.scale == (1, 5, 3.0)


def test_cli_exports_a_dataset_from_its_files(tmp_path, capsys):
    source = synthetic.write_dreamer(tmp_path / "d", 1, 3.0, seed=2, trials=2)
    assert (
        main(
            [
                "export-bids",
                "dreamer",
                "--root",
                str(source),
                "--out",
                str(tmp_path / "b"),
                "--quiet",
            ]
        )
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    back = list(load("bids", tmp_path / "b"))
    assert [r.trial for r in back] == [1, 2] and back[0].extra["ecg"].sfreq == 256.0
    assert (
        main(["export-bids", "dreamer", "--root", str(source), "--out", str(tmp_path / "b")]) == 2
    )
    assert "not empty" in capsys.readouterr().err
    assert export_bids(load("dreamer", source), tmp_path / "b", overwrite=True) == tmp_path / "b"
