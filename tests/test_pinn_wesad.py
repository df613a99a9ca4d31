"""Peripheral windows for the EDA PINN (the "peripheral" recipe) and the WESAD PINN example."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from physioemo.errors import DataQualityWarning
from physioemo.features import recipes
from physioemo.features.peripheral_windows import FEATURE_NAMES, minmax_per_subject, peripheral_part
from physioemo.recording import Recording, Signal

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pinn_wesad.py"


def segment(seconds, trial, condition, subject="S2"):
    """A hand-built WESAD segment: ECG impulses and BVP pulses every 0.8 s (75 bpm), breathing
    at 0.25 Hz (15 /min), wrist temperature 33 + 0.01 t degC, constant wrist ACC (3, 4, 0),
    wrist EDA 2 + 0.05 t uS with one 0.5-uS SCR at 12 s."""
    t700, t4 = np.arange(int(seconds * 700)) / 700, np.arange(int(seconds * 4)) / 4
    ecg = np.zeros(t700.size)
    ecg[np.arange(280, t700.size, 560)] = 1.0
    scr = 0.5 * np.exp(-0.5 * ((t4 - 12.0) / 0.7) ** 2)
    n32, t64 = int(seconds * 32), np.arange(int(seconds * 64)) / 64
    bvp = np.exp(-0.5 * ((t64 % 0.8 - 0.4) / 0.08) ** 2)
    return Recording(
        data=np.stack([ecg, np.zeros(t700.size)]),
        sfreq=700.0,
        ch_names=["chest_ECG", "chest_EMG"],
        subject=subject,
        trial=trial,
        ratings={"condition": condition},
        unit="mV",
        extra={
            "chest_resp": Signal(np.sin(2 * np.pi * 0.25 * t700)[None], 700.0, ["r"], "%"),
            "wrist_temp": Signal((33 + 0.01 * t4)[None], 4.0, ["t"], "degC"),
            "wrist_bvp": Signal(bvp[None], 64.0, ["b"]),
            "wrist_acc": Signal(np.tile([[3.0], [4.0], [0.0]], n32), 32.0, ["x", "y", "z"]),
            "wrist_eda": Signal((2 + 0.05 * t4 + scr)[None], 4.0, ["e"], "uS"),
        },
    )


def peripheral_windows(recordings, window, stride, heart="chest_ecg", **options):
    """The "peripheral" recipe's windows of `recordings` (features stored as float32)."""
    recipe = recipes.get("peripheral")
    parameters = recipe.parameters(window=window, stride=stride, heart=heart, **options)
    return recipes.compute(recordings, [(recipe, parameters)])[0]


@pytest.fixture(scope="module")
def windows():
    recordings = [segment(40, 1, 1), segment(30, 2, 2), segment(15, 3, 3)]
    with pytest.warns(DataQualityWarning, match="trial 3: no 20-s window fits in its 15 s"):
        found = peripheral_windows(recordings, window=20.0, stride=5.0)
    return found, recordings


def test_shapes_time_and_segments(windows):
    found, recordings = windows
    # 40 s -> 5 windows, 30 s -> 3, 15 s (shorter than the window) -> none
    assert found.X.shape == (8, len(FEATURE_NAMES))
    assert found.extra["t"].shape == found.extra["eda"].shape == found.groups.shape == (8,)
    np.testing.assert_array_equal(found.groups["trial"], [1] * 5 + [2] * 3)
    np.testing.assert_array_equal(found.ratings["condition"], [1] * 5 + [2] * 3)
    # t = window centre / segment length
    np.testing.assert_allclose(
        found.extra["t"], np.r_[(np.arange(5) * 5 + 10) / 40, (np.arange(3) * 5 + 10) / 30]
    )
    assert (found.extra["t"] >= 0).all() and (found.extra["t"] <= 1).all()
    lengths = {r.trial: r.n_times for r in recordings}
    assert (found.groups["start"] >= 0).all()
    assert all(stop <= lengths[trial] for trial, stop in found.groups[["trial", "stop"]])
    np.testing.assert_array_equal(found.groups["stop"] - found.groups["start"], 20 * 700)
    np.testing.assert_array_equal(found.groups["start"][:5], np.arange(5) * 5 * 700)


def test_feature_values_by_hand(windows):
    found, recordings = windows
    exact = np.concatenate([peripheral_part(r, 20.0, 5.0).X for r in recordings])  # float64
    np.testing.assert_allclose(found.X, exact, rtol=1e-6)
    column = dict(zip(FEATURE_NAMES, exact.T, strict=True))
    second = 1  # window [5 s, 25 s) of the first segment: samples 20..99 at 4 Hz
    np.testing.assert_allclose(column["hr_mean"], 75.0, rtol=1e-9)
    np.testing.assert_allclose(column["sdnn"], 0.0, atol=1e-9)
    np.testing.assert_allclose(column["resp_rate"][1:4], 15.0, rtol=1e-3)  # inner windows
    np.testing.assert_allclose(column["resp_rate"], 15.0, rtol=1e-2)  # edges: filter transients
    assert column["temp_mean"][second] == pytest.approx(33 + 0.01 * np.arange(20, 100).mean() / 4)
    np.testing.assert_allclose(column["temp_slope"], 0.01, rtol=1e-9)
    np.testing.assert_allclose(column["acc_mean"], 5.0)
    np.testing.assert_allclose(column["acc_std"], 0.0, atol=1e-12)
    # the SCR at 12 s lies in the windows starting at 0, 5 and 10 s of the first segment only
    np.testing.assert_array_equal(column["scr_count"][:5], [1, 1, 1, 0, 0])
    times = np.arange(20, 100) / 4
    expected = np.mean(2 + 0.05 * times + 0.5 * np.exp(-0.5 * ((times - 12) / 0.7) ** 2))
    assert found.extra["eda"][second] == pytest.approx(expected)


def test_heart_from_wrist_bvp():
    found = peripheral_windows([segment(40, 1, 1)], window=20.0, stride=5.0, heart="wrist_bvp")
    hr = found.X[:, FEATURE_NAMES.index("hr_mean")]
    np.testing.assert_allclose(hr[1:], 75.0, rtol=1e-3)  # the first pulse: filter transient
    np.testing.assert_allclose(hr, 75.0, rtol=1e-2)


def test_bad_window_and_missing_stream():
    recording = segment(30, 1, 1)
    with pytest.raises(ValueError, match="stride 0.3 s is not a whole number of samples"):
        peripheral_windows([recording], window=20.0, stride=0.3)
    del recording.extra["wrist_temp"]
    every = ("heart", "resp", "temp", "acc", "scr")
    with pytest.raises(KeyError, match="wrist_temp"):
        peripheral_windows([recording], window=20.0, stride=5.0, inputs=every)
    # the default inputs are the groups the recording carries
    found = peripheral_windows([recording], window=20.0, stride=5.0)
    without = [name for name in FEATURE_NAMES if not name.startswith("temp_")]
    assert found.info["feature_names"] == without and found.X.shape[1] == len(without)


def test_minmax_per_subject():
    values = np.array([1.0, 3.0, 2.0, 10.0, 20.0, 4.0])
    subjects = np.array(["a", "a", "a", "b", "b", "c"])
    np.testing.assert_allclose(minmax_per_subject(values, subjects), [0, 1, 0.5, 0, 1, 0])


def load_example():
    spec = importlib.util.spec_from_file_location("pinn_wesad", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_runs_the_pinn_and_baselines_through_the_engine(tmp_path, capsys):
    out = tmp_path / "run"
    result = load_example().main(["--subjects", "4", "--folds", "2", "--out", str(out)])
    rows = {entry["model"]: entry for entry in result["summary"]}
    assert set(rows) == {"pinn", "logreg", "rf"}
    assert {entry["protocol"] for entry in rows.values()} == {"subject-independent"}
    pinn = rows["pinn"]
    assert pinn["n_jobs"] == 2 and 0 <= pinn["eda_rmse"] < 1 and -1 <= pinn["eda_pearson_r"] <= 1
    assert 0 <= pinn["macro_f1"] <= 1
    assert all(len(values) == 2 for values in result["physics"].values())
    assert all(value > 0 for value in result["physics"]["alpha0/gamma"])
    printed = capsys.readouterr().out
    assert "| pinn |" in printed and "alpha0/gamma" in printed
    assert (out / "store.sqlite").exists()
