"""The synthetic SEED and SEED-IV feature files hold every variable of the real ones.

The reader here is written from the format notes alone (scipy.io.loadmat, the documented
variable names, order and shapes), not from physioemo's loader: a tool that expects the real
files (LibEER's reader, for one) must be able to open ours.
"""

import numpy as np
import pytest
from scipy.io import loadmat

from physioemo.datasets.synthetic import write_seed, write_seed_iv

#: SEED ExtractedFeatures: per trial k = 1..15, each kind in this order, each smoothing in this
#: order, a variable {kind}_{smoothing}{k} of shape (channels, seconds, 5 bands)
SEED_KINDS = {"de": 62, "psd": 62, "dasm": 27, "rasm": 27, "asm": 54, "dcau": 23}
SMOOTHINGS = ("movingAve", "LDS")


def read_variables(path) -> dict:
    """The variables of a MAT file in file order, without MATLAB's header entries."""
    return {k: v for k, v in loadmat(path).items() if not k.startswith("__")}


def raw_seconds(path) -> list[int]:
    """Seconds of each trial of a preprocessed file: <prefix>_eeg<k>, (62, 200 * s + 1)."""
    trials = read_variables(path)
    ordered = sorted(trials, key=lambda name: int(name.rsplit("_eeg", 1)[1]))
    assert all(trials[name].shape[0] == 62 for name in ordered)
    return [(trials[name].shape[1] - 1) // 200 for name in ordered]


@pytest.fixture(scope="module")
def seed_root(tmp_path_factory):
    return write_seed(tmp_path_factory.mktemp("seed"), subjects=1, seconds=3.0, seed=1)


@pytest.fixture(scope="module")
def seed_iv_root(tmp_path_factory):
    return write_seed_iv(tmp_path_factory.mktemp("seed-iv"), subjects=1, seconds=9.0, seed=1)


def test_seed_extracted_features_hold_all_180_variables_in_order(seed_root):
    files = sorted((seed_root / "ExtractedFeatures").glob("1_*.mat"))
    assert len(files) == 3
    label = loadmat(seed_root / "ExtractedFeatures" / "label.mat")["label"]
    np.testing.assert_array_equal(label, [[1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1]])
    for path in files:
        variables = read_variables(path)
        seconds = raw_seconds(seed_root / "Preprocessed_EEG" / path.name)
        expected = [
            f"{kind}_{smoothing}{k}"
            for k in range(1, 16)
            for kind in SEED_KINDS
            for smoothing in SMOOTHINGS
        ]
        assert list(variables) == expected  # 180 variables, the real order
        for name, value in variables.items():
            kind, trial = name.split("_")[0], int(name[len(name.rstrip("0123456789")) :])
            assert value.dtype == np.float64 and np.isfinite(value).all(), name
            assert value.shape == (SEED_KINDS[kind], seconds[trial - 1], 5), name


def test_seed_asymmetries_are_differences_and_ratios_of_de(seed_root):
    """dasm = left - right, rasm = left / right, asm = [dasm, rasm], dcau = front - back of
    the unsmoothed DE; the moving average is linear, so dasm_movingAve equals the difference
    of de_movingAve at the same pairs."""
    path = sorted((seed_root / "ExtractedFeatures").glob("1_*.mat"))[0]
    v = read_variables(path)
    de = v["de_movingAve1"]
    names = "FP1 FPZ FP2 AF3 AF4 F7 F5 F3 F1 FZ F2 F4 F6 F8".split()
    left, right = names.index("F7"), names.index("F8")  # the 3rd left/right pair (FP1, AF3, F7)
    np.testing.assert_allclose(v["dasm_movingAve1"][2], de[left] - de[right], atol=1e-9)
    np.testing.assert_allclose(v["asm_movingAve1"][:27], v["dasm_movingAve1"])
    np.testing.assert_allclose(v["asm_movingAve1"][27:], v["rasm_movingAve1"])
    front, back = 0, 58  # FP1 and O1 in SEED's 62-channel order: the first frontal/posterior pair
    np.testing.assert_allclose(v["dcau_movingAve1"][0], de[front] - de[back], atol=1e-9)


def test_seed_iv_feature_files_hold_the_four_kinds_of_every_trial(seed_iv_root):
    for session in (1, 2, 3):
        [path] = (seed_iv_root / "eeg_feature_smooth" / str(session)).glob("*.mat")
        variables = read_variables(path)
        seconds = raw_seconds(seed_iv_root / "eeg_raw_data" / str(session) / path.name)
        expected = [
            f"{kind}_{smoothing}{k}"
            for k in range(1, 25)
            for kind in ("de", "psd")
            for smoothing in SMOOTHINGS
        ]
        assert list(variables) == expected  # 96 variables
        for name, value in variables.items():
            trial = int(name[len(name.rstrip("0123456789")) :])
            assert value.shape == (62, seconds[trial - 1] // 4, 5), name  # 4-s windows
            assert np.isfinite(value).all(), name
