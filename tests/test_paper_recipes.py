"""The papers' feature recipes against direct SciPy/NumPy computations, and the baseline of a
trial shorter than one window (DEAP's 3 s against 4-s windows)."""

import numpy as np
import pytest
from scipy import signal

from physioemo import datasets
from physioemo.datasets.synthetic import write_wesad
from physioemo.features import BAND_FEATURES, recipes
from physioemo.features.extraction import recording_features
from physioemo.features.papers import PANAS_NEGATIVE, PANAS_POSITIVE, SELF_REPORTS
from physioemo.features.peripheral_windows import FEATURE_NAMES
from physioemo.recording import Recording

BANDS = [(4, 8), (8, 14), (14, 31), (31, 49)]


def eeg(rng, seconds, baseline_seconds, sfreq=128.0, channels=3):
    """A recording of coloured noise (more power at low frequencies) with a baseline."""

    def noise(n):
        return np.cumsum(rng.normal(size=(channels, n)), axis=1) * 0.1 + rng.normal(
            size=(channels, n)
        )

    data = noise(int(seconds * sfreq))
    rest = noise(int(baseline_seconds * sfreq)) if baseline_seconds else None
    names = ["AF3", "F7", "F3", "FC5"][:channels]
    return Recording(data, sfreq, names, "s1", trial=2, ratings={"valence": 3}, baseline=rest)


def reference_bde(window, sfreq=128.0):
    """RBTransformer's token of one (C, L) window, written out channel by channel."""
    z = (window - window.mean()) / window.std()
    tokens = np.zeros((window.shape[0], 4))
    for band, (low, high) in enumerate(BANDS):
        b, a = signal.butter(5, [low / (sfreq / 2), high / (sfreq / 2)], "band")
        for channel in range(window.shape[0]):
            variance = np.var(signal.lfilter(b, a, z[channel]))
            tokens[channel, band] = 0.5 * np.log2(2 * np.pi * np.e * variance)
    return tokens


def test_rbtransformer_bde_matches_a_direct_scipy_computation(rng):
    recording = eeg(rng, 60, 3)  # DEAP: 60-s trial, 3-s baseline at 128 Hz
    part = recipes.get("rbtransformer-bde").function(recording)
    assert part.X.shape == (62, 3, 4)  # (7680 - 512) // 117 + 1 windows, as the paper's DEAP
    np.testing.assert_array_equal(part.starts, np.arange(62) * 117)
    np.testing.assert_array_equal(part.stops - part.starts, 512)
    rest = recording.baseline.reshape(3, 3, 128).mean(axis=1)  # 3 x 1 s averaged
    expected = np.stack(
        [reference_bde(recording.data[:, a : a + 512]) - reference_bde(rest) for a in part.starts]
    )
    np.testing.assert_allclose(part.X, expected, rtol=1e-9, atol=1e-9)


def test_rbtransformer_bde_stride_window_and_no_baseline(rng):
    recording = eeg(rng, 20, 0)
    part = recipes.get("rbtransformer-bde").function(recording, window=2.0, stride=0.5)
    np.testing.assert_array_equal(part.starts, np.arange(0, 2560 - 256 + 1, 64))
    np.testing.assert_allclose(part.X[3], reference_bde(recording.data[:, 192:448]), rtol=1e-9)
    with pytest.raises(ValueError, match="longer than the trial"):
        recipes.get("rbtransformer-bde").function(recording, window=30.0)


def test_rbtransformer_bde_through_compute_takes_the_stride(rng):
    [windows] = recipes.compute(
        [eeg(rng, 30, 3)], [(recipes.get("rbtransformer-bde"), {"window": None, "stride": 1.0})]
    )
    assert windows.info["recipe"] == "rbtransformer-bde" and windows.info["provides"] == "de"
    np.testing.assert_array_equal(np.diff(windows.groups["start"]), 128)


def test_histn_raw_keeps_the_last_60_s_scaled_as_the_authors(rng):
    recording = eeg(rng, 65, 61)  # DREAMER-like: 65-s clip, 61-s baseline (7808 samples)
    part = recipes.get("histn-raw").function(recording)
    kept = recording.data[:, -7680:]
    middle = recording.baseline[:, 3264:4544]  # 3904 +- 640, papers.md 1.2
    scaled = (kept - middle.mean(1, keepdims=True)) / middle.std(1, keepdims=True)
    scaled /= np.abs(scaled).max(axis=1, keepdims=True)
    assert part.X.shape == ((7680 - 128) // 16 + 1, 3, 128)
    np.testing.assert_array_equal(part.starts, 640 + np.arange(len(part.X)) * 16)  # 5-s offset
    np.testing.assert_allclose(part.X[10], scaled[:, 160:288])
    np.testing.assert_allclose(np.abs(part.X).max(axis=(0, 2)), 1.0)
    with pytest.raises(ValueError, match="less than the last 60 s"):
        recipes.get("histn-raw").function(eeg(rng, 30, 61))


def test_histn_raw_declares_its_per_trial_scaling(rng):
    [windows] = recipes.compute(
        [eeg(rng, 62, 20)], [(recipes.get("histn-raw"), recipes.get("histn-raw").parameters())]
    )
    assert list(windows.info["fitted_on_all_windows"].values()) == ["trial"]


def test_deap_baseline_shorter_than_the_window(rng):
    recording = eeg(rng, 20, 3)  # 3-s baseline, 4-s windows: used to raise
    for kind in ("de", "bp"):
        got = recording_features(recording, kind, window=4.0, baseline="subtract")
        plain = BAND_FEATURES[kind](recording.data, 128.0, window=4.0)
        rest = BAND_FEATURES[kind](recording.baseline, 128.0, window=3.0)  # one window of all of it
        np.testing.assert_allclose(got, plain - rest[0])
    white = Recording(
        rng.normal(size=(32, 128 * 60)),
        128.0,
        [f"c{i}" for i in range(32)],
        "s1",
        baseline=rng.normal(size=(32, 384)),
    )
    level = recording_features(white, "bp", window=4.0, baseline="subtract").mean(axis=(0, 1))
    np.testing.assert_allclose(level, 0, atol=0.01)  # the same process: the same level


@pytest.fixture(scope="module")
def wesad(tmp_path_factory):
    root = write_wesad(tmp_path_factory.mktemp("wesad"), subjects=2, seconds=40.0, seed=2)
    return datasets.load("wesad", root)


def test_peripheral_self_report_appends_panas_and_sam(wesad):
    plain, reports = recipes.compute(
        wesad,
        [
            (recipes.get("peripheral"), {"window": 20.0, "stride": 5.0, "heart": "chest_ecg"}),
            (recipes.get("peripheral-self-report"), {"window": 20.0, "stride": 5.0}),
        ],
    )
    assert reports.info["feature_names"] == [*FEATURE_NAMES, *SELF_REPORTS]
    assert reports.info["label_proxies"] == list(SELF_REPORTS)
    assert "label_proxies" not in plain.info
    # the EDA target stays raw: each fold scales it on its training windows (test_target_scaling)
    assert "fitted_on_all_windows" not in plain.info and "eda_scaled" not in plain.extra
    np.testing.assert_array_equal(reports.groups, plain.groups)
    np.testing.assert_allclose(reports.X[:, : len(FEATURE_NAMES)], plain.X)
    recording = wesad.subject(wesad.subjects[0])[1]
    mine = (reports.groups["subject"] == recording.subject) & (
        reports.groups["trial"] == recording.trial
    )
    panas = recording.meta["panas"]
    expected = [
        np.nanmean([panas[item] for item in PANAS_POSITIVE]),
        np.nanmean([panas[item] for item in PANAS_NEGATIVE]),
        recording.ratings["valence"],
        recording.ratings["arousal"],
    ]
    np.testing.assert_allclose(
        reports.X[mine][:, -4:], np.tile(expected, (mine.sum(), 1)), rtol=1e-6
    )
