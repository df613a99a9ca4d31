"""DEAP loader on files written by hand in the distributed layout, and on the synthetic writer."""

import csv
import json
import pickle
import struct

import numpy as np
import pytest
from scipy.io import savemat

from physioemo import DatasetFormatError
from physioemo.cli import main
from physioemo.datasets import deap, load
from physioemo.datasets.synthetic import write_deap
from physioemo.labels import scheme

GENEVA = deap.GENEVA_EEG
RATE, BASE = 128, 384  # preprocessed rate and its 3 s of pre-trial baseline


def _content(rng, trials=3, seconds=1.0):
    data = rng.normal(0, 20, (trials, 40, BASE + int(seconds * RATE)))
    labels = rng.uniform(1, 9, (trials, 4))
    return data, labels


# ----------------------------------------------------------------------------- Python 2 pickle
def _py2_array(array) -> bytes:
    """The opcodes Python 2 cPickle writes for a float64 ndarray (raw data as a byte string)."""
    raw = np.ascontiguousarray(array, dtype="<f8").tobytes()
    shape = b"(" + b"".join(b"J" + struct.pack("<i", n) for n in array.shape) + b"t"
    dtype = (
        b"cnumpy\ndtype\nU\x02f8K\x00K\x01\x87R"
        b"(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    )
    return (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R"
        + b"(K\x01"
        + shape
        + dtype
        + b"\x89T"
        + struct.pack("<I", len(raw))
        + raw
        + b"tb"
    )


def _py2_pickle(data, labels) -> bytes:
    """{'labels': ..., 'data': ...} as a Python 2 protocol-2 pickle (keys are byte strings)."""
    return (
        b"\x80\x02}("
        + b"U\x06labels"
        + _py2_array(labels)
        + b"U\x04data"
        + _py2_array(data)
        + b"u."
    )


def _write_python(root, number, data, labels, python2=True):
    folder = root / "data_preprocessed_python"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"s{number:02d}.dat"
    if python2:
        path.write_bytes(_py2_pickle(data, labels))
    else:
        with open(path, "wb") as f:
            pickle.dump({"labels": labels, "data": data}, f, protocol=2)
    return path


def _write_csv(root, rows):
    folder = root / "metadata_csv"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "participant_ratings.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "Participant_id",
                "Trial",
                "Experiment_id",
                "Start_time",
                "Valence",
                "Arousal",
                "Dominance",
                "Liking",
                "Familiarity",
            ]
        )
        writer.writerows(rows)


def test_python2_pickle_needs_latin1_and_loads(tmp_path):
    rng = np.random.default_rng(1)
    data, labels = _content(rng)
    path = _write_python(tmp_path, 1, data, labels)
    with pytest.raises(UnicodeDecodeError):  # what a default pickle.load does with the real files
        pickle.loads(path.read_bytes())
    recordings = load("deap", tmp_path).subject("s01")
    assert [r.trial for r in recordings] == [1, 2, 3]
    first = recordings[0]
    assert first.ch_names == GENEVA and first.ch_names[13:16] == ["O1", "Oz", "Pz"]
    assert first.sfreq == 128 and first.unit == "uV"
    np.testing.assert_array_equal(first.data, data[0, :32, BASE:])
    np.testing.assert_array_equal(first.baseline, data[0, :32, :BASE])
    np.testing.assert_array_equal(recordings[2].extra["eog"].data, data[2, 32:34, BASE:])
    np.testing.assert_array_equal(recordings[2].extra["temp_baseline"].data, data[2, 39:, :BASE])
    assert recordings[1].extra["gsr"].ch_names == ["GSR"]
    assert recordings[1].extra["bvp"].ch_type == "bio"
    assert recordings[1].ratings == dict(zip(deap.RATINGS, labels[1].tolist(), strict=True))
    assert first.meta == {"stimulus": "video1"}  # no participant_ratings.csv; the card's id


def test_matlab_with_differing_lengths_and_ratings_csv(tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / "data_preprocessed_matlab"
    folder.mkdir()
    contents = {1: _content(rng, seconds=1.0), 2: _content(rng, seconds=2.5)}
    for number, (data, labels) in contents.items():
        savemat(folder / f"s{number:02d}.mat", {"data": data, "labels": labels})
    # presentation order 3, 1, 2 for participant 1; participant 2 has no familiarity
    _write_csv(
        tmp_path,
        [
            [1, 1, 3, 0, 5, 5, 5, 5, 4],
            [1, 2, 1, 75000000, 5, 5, 5, 5, 2],
            [1, 3, 2, 150000000, 5, 5, 5, 5, 1],
            *[[2, t, t, 0, 5, 5, 5, 5, ""] for t in (1, 2, 3)],
        ],
    )
    ds = load("deap", tmp_path, source="matlab")
    assert ds.subjects == ["s01", "s02"]
    s01, s02 = ds.subject("s01"), ds.subject("s02")
    assert [r.n_times for r in s01] == [128] * 3 and [r.n_times for r in s02] == [320] * 3
    np.testing.assert_array_equal(s02[1].data, contents[2][0][1, :32, BASE:])
    assert [r.meta["presentation_trial"] for r in s01] == [2, 3, 1]
    assert s01[0].meta == {
        "experiment_id": 1,
        "presentation_trial": 2,
        "familiarity": 2,
        "start_time_us": 75000000,
        "stimulus": "video1",  # trial k is the video of Experiment_id k
    }
    assert s02[0].meta["familiarity"] is None


def test_info_reads_each_subject_once_and_cli_counts(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(3)
    for number in (1, 2, 7):
        _write_python(tmp_path, number, *_content(rng, trials=2), python2=False)
    opened = []
    real = deap.safe_load
    monkeypatch.setattr(
        deap, "safe_load", lambda path, what: opened.append(path.name) or real(path, what)
    )
    ds = load("deap", tmp_path)
    assert opened == []  # lazy: nothing read until asked
    ds.info()
    assert opened == ["s01.dat", "s02.dat", "s07.dat"]
    assert main(["info", "deap", "--root", str(tmp_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_subjects"] == 3 and info["n_recordings"] == 6
    assert info["sfreq"] == 128.0 and info["n_channels"] == 32
    assert info["total_seconds"] == 6.0
    assert sum(info["labels"]["liking"].values()) == 6


def test_labels_binary_and_ordinal_on_deap_scale():
    ratings = {"valence": np.array([1.0, 1.99, 4.99, 5.0, 8.99, 9.0])}
    np.testing.assert_array_equal(scheme("deap", "valence", "ordinal")(ratings), [0, 0, 3, 4, 7, 8])
    np.testing.assert_array_equal(scheme("deap", "valence")(ratings), [0, 0, 0, 1, 1, 1])
    assert scheme("deap", "valence", "ordinal").n_classes == 9


# ----------------------------------------------------------------------------- damaged input
def _one_line(error, *parts):
    message = str(error.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, message


def test_missing_folder_and_subject(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        load("deap", tmp_path)
    _one_line(error, "data_preprocessed_python", "s01.dat")
    _write_python(tmp_path, 1, *_content(np.random.default_rng(0)))
    with pytest.raises(FileNotFoundError) as error:
        load("deap", tmp_path, subjects=["s05"])
    _one_line(error, "s05.dat")


def test_missing_key_wrong_shape_nan_truncated_foreign(tmp_path):
    rng = np.random.default_rng(4)
    data, labels = _content(rng)
    folder = tmp_path / "data_preprocessed_python"
    folder.mkdir()

    def expect(number, content_bytes, *parts):
        path = folder / f"s{number:02d}.dat"
        path.write_bytes(content_bytes)
        with pytest.raises(DatasetFormatError) as error:
            load("deap", tmp_path, subjects=[f"s{number:02d}"]).subject(f"s{number:02d}")
        _one_line(error, str(path), *parts)

    expect(1, pickle.dumps({"data": data}, protocol=2), "'labels'", "missing")
    expect(2, pickle.dumps({"data": data[:, :39], "labels": labels}, 2), "'data'", "(3, 39, 512)")
    expect(3, pickle.dumps({"data": data, "labels": labels[:2]}, 2), "'labels'", "(2, 4)")
    bad = data.copy()
    bad[1, 13, 40:] = np.nan
    expect(4, pickle.dumps({"data": bad, "labels": labels}, 2), "'data'", "NaN", "channel(s) O1")
    expect(5, pickle.dumps({"data": data, "labels": labels}, 2)[:-200], "not a readable")
    target = tmp_path / "made-by-pickle"

    class Payload:
        def __reduce__(self):
            import pathlib

            return pathlib.Path.touch, (target,)

    expect(6, pickle.dumps({"data": data, "labels": [Payload()]}, 2), "refused to unpickle")
    assert not target.exists()
    expect(7, pickle.dumps({"data": data, "labels": labels * 2}, 2), "'labels'", "outside 1..9")


def test_ratings_csv_missing_column(tmp_path):
    _write_python(tmp_path, 1, *_content(np.random.default_rng(5)))
    (tmp_path / "metadata_csv").mkdir()
    (tmp_path / "metadata_csv" / "participant_ratings.csv").write_text(
        "Participant_id,Trial\n1,1\n"
    )
    with pytest.raises(DatasetFormatError) as error:
        load("deap", tmp_path)
    _one_line(error, "participant_ratings.csv", "Experiment_id")


# ----------------------------------------------------------------------------- BDF sessions
def _write_bdf(path, eeg_order, status_names, offset, trials, extra=("EXG1", "GSR1")):
    """A small BioSemi-like BDF at 512 Hz: trials of 1 s after 3 s of baseline, code 4 at
    each trial's start. Returns {presentation position: (32, n) Geneva-order EEG in uV}."""
    import pyedflib

    sfreq, rng = 512, np.random.default_rng(len(status_names))
    n_gap, n_trial, n_base = 4 * sfreq, sfreq, 3 * sfreq
    n_total = n_gap + trials * (n_base + n_trial + n_gap)
    eeg = rng.uniform(-900, 900, (32, n_total))
    status = np.zeros(n_total, np.int64)
    cuts = {}
    for k in range(trials):
        onset = n_gap + k * (n_base + n_trial + n_gap) + n_base
        status[onset - n_base : onset - n_base + 5] = 3
        status[onset : onset + 5] = 4
        cuts[k + 1] = eeg[:, onset - n_base : onset + n_trial]
    rows = [eeg[GENEVA.index(name)] for name in eeg_order] + [rng.normal(0, 5, n_total)] * len(
        extra
    )
    headers = [
        {
            "label": name,
            "dimension": "uV" if i < 32 or name.startswith("EXG") else "Ohm",
            "sample_frequency": sfreq,
            "physical_min": -1000,
            "physical_max": 1000,
            "digital_min": -8388608,
            "digital_max": 8388607,
            "transducer": "",
            "prefilter": "",
        }
        for i, name in enumerate(list(eeg_order) + list(extra))
    ]
    trigger = {**headers[0], "dimension": "Boolean", "physical_min": -8388608}
    trigger["physical_max"] = 8388607
    # the trigger is the last of the status-like channels (s29-s32 have "-0" and "-1")
    signals = rows + [np.zeros(n_total)] * (len(status_names) - 1) + [status + offset]
    hdrs = headers + [{**trigger, "label": name} for name in status_names]
    digital = [
        np.rint((r - h["physical_min"]) / (h["physical_max"] - h["physical_min"]) * 16777215)
        - 8388608
        for r, h in zip(signals, hdrs, strict=True)
    ]
    with pyedflib.EdfWriter(str(path), len(hdrs), file_type=pyedflib.FILETYPE_BDF) as w:
        w.setSignalHeaders(hdrs)
        w.writeSamples([d.astype(np.int32) for d in digital], digital=True)
    return cuts


def test_bdf_quirks_reorder_and_map_to_videos(tmp_path):
    folder = tmp_path / "data_original"
    folder.mkdir()
    twente = sorted(GENEVA)  # any order but Geneva's
    cuts = {
        1: _write_bdf(folder / "s01.bdf", twente, ["Status"], 0, 3),
        24: _write_bdf(folder / "s24.bdf", GENEVA, [""], 1703680, 3),
        29: _write_bdf(folder / "s29.bdf", GENEVA[::-1], ["-0", "-1"], 1703680, 3),
    }
    videos = {1: [2, 3, 1], 24: [1, 2, 3], 29: [3, 1, 2]}  # presentation position -> video
    _write_csv(
        tmp_path,
        [
            [p, pos, video, 0, 1 + video, 2, 3, 4, 1]
            for p, order in videos.items()
            for pos, video in enumerate(order, start=1)
        ],
    )
    ds = load("deap", tmp_path, source="bdf", trial_seconds=1.0)
    assert ds.subjects == ["s01", "s24", "s29"] and ds.sfreq == 512
    step = 2000 / 2**24
    for number, order in videos.items():
        recordings = ds.subject(f"s{number:02d}")
        assert [r.trial for r in recordings] == [1, 2, 3]
        for r in recordings:
            position = order.index(r.trial) + 1
            expected = cuts[number][position]
            assert r.ch_names == GENEVA and r.sfreq == 512
            np.testing.assert_allclose(r.baseline, expected[:, :1536], atol=step)
            np.testing.assert_allclose(r.data, expected[:, 1536:], atol=step)
            assert r.ratings["valence"] == 1 + r.trial and r.meta["presentation_trial"] == position
            assert r.extra["exg"].unit == "uV" and r.extra["gsr"].unit == "Ohm"


def test_bdf_needs_ratings_csv_and_trial_count(tmp_path):
    folder = tmp_path / "data_original"
    folder.mkdir()
    _write_bdf(folder / "s01.bdf", GENEVA, ["Status"], 0, 2)
    with pytest.raises(FileNotFoundError) as error:
        load("deap", tmp_path, source="bdf")
    _one_line(error, "participant_ratings.csv")
    _write_csv(tmp_path, [[1, t, t, 0, 5, 5, 5, 5, 1] for t in (1, 2, 3)])
    with pytest.raises(DatasetFormatError) as error:
        load("deap", tmp_path, source="bdf", trial_seconds=1.0).subject("s01")
    _one_line(error, "s01.bdf", "2 trial onsets", "participant 1")


# ----------------------------------------------------------------------------- synthetic writer
def test_synthetic_writer_all_three_sources(tmp_path):
    write_deap(tmp_path, subjects=2, seconds=2.0, seed=3, trials=4, bdf=True)
    python = load("deap", tmp_path)
    matlab = load("deap", tmp_path, source="matlab")
    bdf = load("deap", tmp_path, source="bdf", trial_seconds=2.0)
    for subject in ("s01", "s02"):
        a, b, c = python.subject(subject), matlab.subject(subject), bdf.subject(subject)
        assert len(a) == len(b) == len(c) == 4
        for x, y, z in zip(a, b, c, strict=True):
            np.testing.assert_array_equal(x.data, y.data)
            assert x.trial == y.trial == z.trial
            assert x.meta["presentation_trial"] == z.meta["presentation_trial"]
            assert z.ratings == pytest.approx(x.ratings, abs=0.005)  # CSV keeps 2 decimals
            assert np.corrcoef(x.data[0], z.data[0, ::4])[0, 1] > 0.9
            assert 1 <= min(x.ratings.values()) and max(x.ratings.values()) <= 9


def test_synth_cli_writes_deap(tmp_path, capsys):
    assert main(["synth", "deap", str(tmp_path), "--subjects", "1", "--seconds", "1"]) == 0
    with open(tmp_path / "data_preprocessed_python" / "s01.dat", "rb") as f:
        content = pickle.load(f, encoding="latin1")
    assert content["data"].shape == (40, 40, 512) and content["data"].dtype == np.float64
    assert content["labels"].shape == (40, 4)
