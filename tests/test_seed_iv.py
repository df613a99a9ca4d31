"""SEED-IV: loader on hand-written files in the distributed layout, and on the synthetic writer."""

import json

import numpy as np
import pytest
from scipy.io import savemat

from physioemo import DatasetFormatError
from physioemo.cli import main
from physioemo.datasets import load
from physioemo.datasets.seed import load_seed_iv_features
from physioemo.datasets.synthetic import write_seed_iv
from physioemo.labels import categorical

# formats.md: the fixed labels of the 24 clips of each session (0 neutral, 1 sad, 2 fear, 3 happy)
LABELS = {
    1: [1, 2, 3, 0, 2, 0, 0, 1, 0, 1, 2, 1, 1, 1, 2, 3, 2, 2, 3, 3, 0, 3, 0, 3],
    2: [2, 1, 3, 0, 0, 2, 0, 2, 3, 3, 2, 3, 2, 0, 1, 1, 2, 1, 0, 3, 0, 1, 3, 1],
    3: [1, 2, 2, 1, 3, 3, 3, 1, 1, 2, 1, 0, 2, 3, 3, 0, 2, 3, 0, 0, 2, 0, 1, 0],
}
# subject -> (prefix, date per session folder); session 3's date is earlier than session 2's
SUBJECTS = {"1": ("cz", ["20151221", "20160411", "20160301"]), "7": ("hxy", ["20150922"] * 3)}


def write_hand_seed_iv(root, n_times=lambda k: 100 + 7 * k):
    def ramp(k):
        return np.arange(n_times(k)) * 1e-3

    for subject, (prefix, dates) in SUBJECTS.items():
        for session, date in enumerate(dates, start=1):
            folder = root / "eeg_raw_data" / str(session)
            folder.mkdir(parents=True, exist_ok=True)
            variables = {  # a marker value at sample 0, then a ramp per row (not flat)
                f"{prefix}_eeg{k}": 100.0 * session + k + np.outer(np.arange(1, 63), ramp(k))
                for k in range(1, 25)
            }
            savemat(folder / f"{subject}_{date}.mat", variables)
    return root


def test_reads_hand_written_files(tmp_path):
    ds = load("seed-iv", write_hand_seed_iv(tmp_path))
    assert ds.subjects == ["1", "7"] and ds.sfreq == 200
    recordings = ds.subject("1")
    assert len(recordings) == 72
    for r in recordings:
        # the session is the folder, not the date order
        assert r.data[0, 0] == 100.0 * r.session + r.trial
        assert r.n_times == 100 + 7 * r.trial
        assert r.ratings["emotion"] == LABELS[r.session][r.trial - 1]


def test_info_json_counts(tmp_path, capsys):
    root = write_hand_seed_iv(tmp_path)
    assert main(["info", "seed-iv", "--root", str(root / "eeg_raw_data"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_subjects"] == 2 and info["n_recordings"] == 144
    counts = np.bincount(np.concatenate(list(LABELS.values())))
    assert info["labels"] == {"emotion": {str(c): 2 * int(n) for c, n in enumerate(counts)}}
    assert info["labels"]["emotion"] == {"0": 36, "1": 36, "2": 36, "3": 36}


def test_layout_errors(tmp_path):
    root = write_hand_seed_iv(tmp_path)
    savemat(root / "eeg_raw_data" / "2" / "1_20160412.mat", {"cz_eeg1": np.zeros((62, 5))})
    with pytest.raises(DatasetFormatError, match=r"1_20160412\.mat: a second file of subject 1"):
        load("seed-iv", root)
    (root / "eeg_raw_data" / "2" / "1_20160412.mat").unlink()
    for path in (root / "eeg_raw_data" / "3").iterdir():
        path.unlink()
    (root / "eeg_raw_data" / "3").rmdir()
    with pytest.raises(FileNotFoundError, match="session folder 3"):
        load("seed-iv", root)


def test_wrong_trial_count(tmp_path):
    root = write_hand_seed_iv(tmp_path)
    savemat(
        root / "eeg_raw_data" / "2" / "7_20150922.mat",
        {f"hxy_eeg{k}": np.zeros((62, 10)) for k in range(1, 16)},  # SEED's 15, not 24
    )
    with pytest.raises(DatasetFormatError, match=r"7_20150922\.mat: expected .*1\.\.24"):
        load("seed-iv", root).subject("7")


def test_precomputed_features(tmp_path):
    expected = {}
    for subject in SUBJECTS:
        for session in (1, 2, 3):
            folder = tmp_path / "eeg_feature_smooth" / str(session)
            folder.mkdir(parents=True, exist_ok=True)
            variables = {}
            for k in range(1, 25):
                values = np.random.default_rng(k + 100 * session).normal(size=(62, 1 + k % 3, 5))
                variables[f"de_LDS{k}"] = values
                variables[f"psd_LDS{k}"] = values**2
                expected[(subject, session, k)] = values
            savemat(folder / f"{subject}_2015010{session}.mat", variables)
    windows = load_seed_iv_features(tmp_path)
    assert windows.X.shape == (sum(v.shape[1] for v in expected.values()), 62, 5)
    assert windows.info["window"] == 4.0
    g = windows.groups
    pick = (g["subject"] == "7") & (g["session"] == 3) & (g["trial"] == 5)
    np.testing.assert_array_equal(windows.X[pick], expected[("7", 3, 5)].transpose(1, 0, 2))
    np.testing.assert_array_equal(g["start"][pick], [0, 800, 1600])
    assert set(windows.ratings["emotion"][pick]) == {LABELS[3][4]}
    with pytest.raises(ValueError, match="feature must be one of"):
        load_seed_iv_features(tmp_path, "dasm_LDS")


def test_categorical_scheme():
    scheme = categorical("seed-iv", "4-class")
    assert scheme.class_names == ("neutral", "sad", "fear", "happy")
    np.testing.assert_array_equal(scheme({"emotion": np.array(LABELS[2], float)}), LABELS[2])


def test_synthetic_writer_output(tmp_path, capsys):
    root = write_seed_iv(tmp_path, subjects=1, seconds=5.0, seed=1)
    assert main(["info", "seed-iv", "--root", str(root), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_subjects"] == 1 and info["n_recordings"] == 72
    assert info["labels"] == {"emotion": {"0": 18, "1": 18, "2": 18, "3": 18}}
    recordings = load("seed-iv", root).subject("1")
    windows = load_seed_iv_features(root, "de_movingAve")
    assert len(windows) == sum((r.n_times - 1) // 800 for r in recordings)
    assert windows.X.shape[1:] == (62, 5) and np.isfinite(windows.X).all()
