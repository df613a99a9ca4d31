"""DREAMER loader: a file written by hand with scipy.io.savemat from plain dicts and cells."""

import json

import numpy as np
import pytest
from scipy.io import savemat

from physioemo import DatasetFormatError
from physioemo.cli import main
from physioemo.datasets import load

ELECTRODES = [
    "AF3",
    "F7",
    "F3",
    "FC5",
    "T7",
    "P7",
    "O1",
    "O2",
    "P8",
    "T8",
    "FC6",
    "F4",
    "F8",
    "AF4",
]
LENGTHS = [[300, 257, 410], [199, 333, 288]]  # samples per clip, differing per trial and subject
SCORES = {"ScoreValence": [[1, 3, 5], [2, 4, 3]], "ScoreArousal": [[5, 4, 1], [3, 3, 2]]}


def cell(arrays):
    out = np.empty((len(arrays), 1), dtype=object)
    for i, a in enumerate(arrays):
        out[i, 0] = a
    return out


def subject_struct(s, drop=()):
    rng = np.random.default_rng(s)
    eeg = [rng.normal(4200, 10, (n, 14)) for n in LENGTHS[s]]
    fields = {
        "Age": "25",
        "Gender": "female",
        "EEG": {
            "baseline": cell([rng.normal(0, 1, (128, 14)) for _ in LENGTHS[s]]),
            "stimuli": cell(eeg),
        },
        "ECG": {
            "baseline": cell([rng.normal(0, 1, (256, 2)) for _ in LENGTHS[s]]),
            "stimuli": cell([rng.normal(0, 1, (2 * n, 2)) for n in LENGTHS[s]]),
        },
        "ScoreValence": np.array(SCORES["ScoreValence"][s], float).reshape(-1, 1),
        "ScoreArousal": np.array(SCORES["ScoreArousal"][s], float).reshape(-1, 1),
        "ScoreDominance": np.array([3, 3, 3], float).reshape(-1, 1),
    }
    return {k: v for k, v in fields.items() if k not in drop}, eeg


def write_by_hand(folder, drop=(), compress=True, mutate=None):
    data = np.empty((1, 2), dtype=object)
    eegs = []
    for s in range(2):
        data[0, s], eeg = subject_struct(s, drop if s == 1 else ())
        eegs.append(eeg)
    electrodes = np.empty((1, 14), dtype=object)
    electrodes[0, :] = ELECTRODES
    top = {
        "Data": data,
        "EEG_SamplingRate": 128,
        "ECG_SamplingRate": 256,
        "EEG_Electrodes": electrodes,
        "noOfSubjects": 2,
        "noOfVideoSequences": 3,
    }
    if mutate:
        mutate(top)
    path = folder / "DREAMER.mat"
    savemat(path, {"DREAMER": top}, do_compression=compress)
    return path, eegs


def test_reads_hand_written_file(tmp_path):
    path, eegs = write_by_hand(tmp_path)
    ds = load("dreamer", tmp_path)  # the folder
    assert ds.subjects == ["s01", "s02"] and ds.sfreq == 128 and ds.ch_names == ELECTRODES
    recordings = ds.subject("s02")
    assert [r.n_times for r in recordings] == LENGTHS[1]
    np.testing.assert_array_equal(recordings[1].data, eegs[1][1].T)  # (14, n_times)
    assert recordings[0].ratings == {"valence": 2, "arousal": 3, "dominance": 3}
    assert recordings[2].trial == 3 and recordings[2].baseline.shape == (14, 128)
    assert recordings[0].extra["ecg"].data.shape == (2, 2 * LENGTHS[1][0])
    assert recordings[0].extra["ecg"].sfreq == 256
    assert recordings[0].meta == {"age": "25", "gender": "female", "stimulus": "clip1"}
    assert load("dreamer", path).subjects == ds.subjects  # the file itself


def test_info_json_on_hand_written_file(tmp_path, capsys):
    write_by_hand(tmp_path, compress=False)
    assert main(["info", "dreamer", "--root", str(tmp_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["dataset"] == "dreamer"
    assert info["n_subjects"] == 2 and info["n_recordings"] == 6
    assert info["sfreq"] == 128 and info["ch_names"] == ELECTRODES
    assert info["labels"]["valence"] == {"1": 1, "2": 1, "3": 2, "4": 1, "5": 1}
    assert info["labels"]["arousal"] == {"1": 1, "2": 1, "3": 2, "4": 1, "5": 1}


def test_missing_file_names_path_and_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"DREAMER\.mat") as error:
        load("dreamer", tmp_path)
    assert str(tmp_path) in str(error.value)


def test_missing_field_is_named(tmp_path):
    write_by_hand(tmp_path, drop=("ScoreArousal",))
    ds = load("dreamer", tmp_path)
    ds.subject("s01")  # intact
    with pytest.raises(DatasetFormatError, match=r"DREAMER\.Data\{2\}\.ScoreArousal is missing"):
        ds.subject("s02")


def test_missing_top_level_field_is_named(tmp_path):
    write_by_hand(tmp_path, mutate=lambda top: top.pop("EEG_Electrodes"))
    with pytest.raises(DatasetFormatError, match=r"DREAMER\.EEG_Electrodes is missing"):
        load("dreamer", tmp_path)


def test_wrong_channel_count_is_named(tmp_path):
    def narrow(top):
        top["Data"][0, 0]["EEG"]["stimuli"][1, 0] = np.zeros((50, 13))

    write_by_hand(tmp_path, mutate=narrow)
    with pytest.raises(DatasetFormatError, match=r"EEG\.stimuli\{2\}: expected \(samples, 14\)"):
        load("dreamer", tmp_path).subject("s01")


def test_nan_channel_is_reported(tmp_path):
    def spoil(top):
        top["Data"][0, 0]["EEG"]["stimuli"][0, 0][:, 5] = np.nan

    write_by_hand(tmp_path, mutate=spoil)
    with pytest.raises(DatasetFormatError, match=r"NaN.*column\(s\) \[5\]"):
        load("dreamer", tmp_path).subject("s01")


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_file_gives_one_line_error(tmp_path, capsys, damage):
    path, _ = write_by_hand(tmp_path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] if damage == "truncate" else b"\x00garbage" * 100)
    with pytest.raises(DatasetFormatError, match="DREAMER.mat"):
        list(load("dreamer", path))
    assert main(["info", "dreamer", "--root", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physioemo: error: ") and str(path) in err and "\n" not in err


def test_synthetic_writer_round_trip(small_dreamer):
    ds = load("dreamer", small_dreamer)
    assert len(ds.subjects) == 4
    recordings = ds.subject("s02")
    assert len(recordings) == 18
    assert len({r.n_times for r in recordings}) > 1  # clip lengths vary
    assert all(1 <= r.ratings["valence"] <= 5 for r in recordings)
    assert recordings[0].extra["ecg"].sfreq == 256
