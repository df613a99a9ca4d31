"""SEED: loader on hand-written files in the distributed layout, and on the synthetic writer."""

import json

import numpy as np
import pytest
from scipy.io import savemat

from physioemo import DatasetFormatError
from physioemo.cli import main
from physioemo.datasets import load
from physioemo.datasets import seed as seed_module
from physioemo.datasets.seed import SEED_CHANNELS, load_seed_features
from physioemo.datasets.synthetic import write_seed
from physioemo.labels import categorical

LABEL = [1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1]  # formats.md, label.mat
# subject -> (prefix, dates); the dates are listed out of order on purpose
SUBJECTS = {"2": ("jl", ["20140413", "20140404"]), "10": ("ww", ["20131130", "20131204"])}


def trial_eeg(subject: str, date: str, k: int) -> np.ndarray:
    """(62, n) with a recognisable content and a length that differs per trial."""
    n = 200 * (1 + k % 3) + 1
    rows = np.arange(62)[:, None] * 1000.0
    return rows + int(subject) * 1e6 + int(date[-2:]) * 1e4 + k + np.arange(n) / n


def write_hand_seed(root, mutate=None):
    folder = root / "Preprocessed_EEG"
    folder.mkdir(parents=True)
    savemat(folder / "label.mat", {"label": np.array([LABEL])})
    for subject, (prefix, dates) in SUBJECTS.items():
        for date in dates:
            # trials written in reverse order: the loader must sort by number, not position
            variables = {f"{prefix}_eeg{k}": trial_eeg(subject, date, k) for k in range(15, 0, -1)}
            if mutate:
                mutate(subject, date, variables)
            savemat(folder / f"{subject}_{date}.mat", variables)
    return root


def test_reads_hand_written_files(tmp_path):
    ds = load("seed", write_hand_seed(tmp_path))
    assert ds.subjects == ["2", "10"]
    assert ds.sfreq == 200 and ds.ch_names == SEED_CHANNELS and ds.ch_names[-1] == "CB2"
    recordings = ds.subject("2")
    assert len(recordings) == 30
    # session 1 is the earlier date although it was listed second
    first = [r for r in recordings if r.session == 1]
    assert {r.meta["file"] for r in first} == {"2_20140404.mat"}
    for r in recordings:
        date = r.meta["file"][2:10]
        np.testing.assert_array_equal(r.data, trial_eeg("2", date, r.trial))
        assert r.ratings == {"emotion": LABEL[r.trial - 1] + 1}
        assert r.meta["variable"] == f"jl_eeg{r.trial}"
    lengths = {r.n_times for r in recordings}
    assert lengths == {201, 401, 601}


def test_info_json_counts(tmp_path, capsys):
    root = write_hand_seed(tmp_path)
    assert main(["info", "seed", "--root", str(root), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_subjects"] == 2 and info["n_recordings"] == 60
    assert info["n_channels"] == 62 and info["sfreq"] == 200
    # label.mat holds five clips of each class; 4 sessions
    assert info["labels"] == {"emotion": {"0": 20, "1": 20, "2": 20}}
    lengths = [(1 + k % 3) + 1 / 200 for k in range(1, 16)]
    assert info["total_seconds"] == pytest.approx(4 * sum(lengths), abs=1e-3)


def test_each_file_read_once_and_lazily(tmp_path, monkeypatch):
    root = write_hand_seed(tmp_path)
    reads = []
    original = seed_module.read_mat

    def counting(path, what):
        reads.append(path.name)
        return original(path, what)

    monkeypatch.setattr(seed_module, "read_mat", counting)
    ds = load("seed", root)
    assert reads == ["label.mat"]
    ds.subject("10")
    assert sorted(reads[1:]) == ["10_20131130.mat", "10_20131204.mat"]
    reads.clear()
    ds.info()
    assert sorted(reads) == sorted(f"{s}_{d}.mat" for s, (_, ds_) in SUBJECTS.items() for d in ds_)


def test_missing_trial_variable(tmp_path):
    def drop(subject, date, variables):
        if subject == "10" and date == "20131204":
            del variables["ww_eeg7"]

    ds = load("seed", write_hand_seed(tmp_path, drop))
    with pytest.raises(DatasetFormatError, match=r"10_20131204\.mat.*missing \[7\]"):
        ds.subject("10")


def test_wrong_shape_and_nan_channel(tmp_path):
    def damage(subject, date, variables):
        if date == "20140404":
            variables["jl_eeg3"] = variables["jl_eeg3"][:61]
        if date == "20131130":
            variables["ww_eeg5"][4] = np.nan

    ds = load("seed", write_hand_seed(tmp_path, damage))
    with pytest.raises(DatasetFormatError, match=r"2_20140404\.mat: field jl_eeg3: .*\(61, 201\)"):
        ds.subject("2")
    with pytest.raises(DatasetFormatError, match=r"20131130\.mat: field ww_eeg5: .*NaN.*\[5\]"):
        ds.subject("10")


def test_missing_label_file_and_folder(tmp_path):
    root = write_hand_seed(tmp_path)
    (root / "Preprocessed_EEG" / "label.mat").unlink()
    with pytest.raises(FileNotFoundError, match=r"label\.mat.*SEED label\.mat"):
        load("seed", root)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load("seed", tmp_path / "nowhere")


def test_bad_label_values(tmp_path):
    root = write_hand_seed(tmp_path)
    savemat(root / "Preprocessed_EEG" / "label.mat", {"label": np.array([[2] * 15])})
    with pytest.raises(DatasetFormatError, match=r"label\.mat: field label: .*-1, 0 or 1"):
        load("seed", root)


def write_hand_features(root):
    folder = root / "ExtractedFeatures"
    folder.mkdir(parents=True)
    savemat(folder / "label.mat", {"label": np.array([LABEL])})
    expected = {}
    for subject, (_, dates) in SUBJECTS.items():
        for date in dates:
            variables = {}
            for k in range(1, 16):
                windows = 2 + k % 4
                de = np.random.default_rng(k).normal(size=(62, windows, 5))
                variables[f"de_LDS{k}"] = de
                variables[f"de_movingAve{k}"] = de + 1
                variables[f"dasm_LDS{k}"] = np.zeros((27, windows, 5))
                expected[(subject, date, k)] = de
            savemat(folder / f"{subject}_{date}.mat", variables)
    return expected


def test_precomputed_features(tmp_path):
    expected = write_hand_features(tmp_path)
    windows = load_seed_features(tmp_path)
    n = sum(v.shape[1] for v in expected.values())
    assert windows.X.shape == (n, 62, 5)
    assert windows.info["ch_names"] == SEED_CHANNELS and windows.info["window"] == 1.0
    one = (windows.groups["subject"] == "2") & (windows.groups["session"] == 1)
    one &= windows.groups["trial"] == 4
    np.testing.assert_array_equal(windows.X[one], expected[("2", "20140404", 4)].transpose(1, 0, 2))
    np.testing.assert_array_equal(windows.groups["start"][one], [0, 200])
    np.testing.assert_array_equal(windows.groups["stop"][one], [200, 400])
    assert set(windows.ratings["emotion"][one]) == {LABEL[3] + 1}
    asym = load_seed_features(tmp_path, "dasm_LDS")
    assert asym.X.shape == (n, 27, 5) and asym.info["ch_names"][0] == "dasm1"
    with pytest.raises(ValueError, match="feature must be one of"):
        load_seed_features(tmp_path, "de")
    with pytest.raises(DatasetFormatError, match=r"missing \[1, 2"):
        load_seed_features(tmp_path, "psd_LDS")


def test_categorical_scheme():
    scheme = categorical("seed")
    assert scheme.class_names == ("negative", "neutral", "positive")
    ratings = {"emotion": np.array(LABEL) + 1.0}
    np.testing.assert_array_equal(scheme(ratings), np.array(LABEL) + 1)
    with pytest.raises(ValueError, match="belong to no class"):
        scheme({"emotion": np.array([3.0])})


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    return write_seed(tmp_path_factory.mktemp("seed"), subjects=1, seconds=3.0, seed=3)


def test_synthetic_writer_output(synthetic_root, capsys):
    assert main(["info", "seed", "--root", str(synthetic_root), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_subjects"] == 1 and info["n_recordings"] == 45
    assert info["labels"] == {"emotion": {"0": 15, "1": 15, "2": 15}}
    recordings = load("seed", synthetic_root).subject("1")
    assert [r.session for r in recordings] == [1] * 15 + [2] * 15 + [3] * 15
    assert all((r.n_times - 1) % 200 == 0 for r in recordings)
    assert len({r.n_times for r in recordings}) > 1
    windows = load_seed_features(synthetic_root, "de_movingAve")
    seconds = [(r.n_times - 1) // 200 for r in recordings]
    assert len(windows) == sum(seconds)
    assert np.isfinite(windows.X).all()
    smoothed = load_seed_features(synthetic_root)  # the default, de_LDS
    assert smoothed.X.shape == windows.X.shape
    # both smooth the same DE: close on average, yet different sequences
    assert abs(smoothed.X.mean() - windows.X.mean()) < 0.1
    assert not np.allclose(smoothed.X, windows.X)
