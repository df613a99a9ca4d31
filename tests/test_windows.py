"""Windows, baseline handling and the first DE / band-power version against SciPy."""

import numpy as np
import pytest
from scipy import signal

from physioemo import Recording
from physioemo.features import BANDS, band_power, differential_entropy
from physioemo.features.extraction import recording_features
from physioemo.features.recipes import extract_windows
from physioemo.features.spectral import bandpass_sos
from physioemo.windows import raw_windows, window_bounds


def test_window_bounds_in_seconds():
    starts, stops = window_bounds(1000, 100.0, window=2.0, stride=0.5)
    assert starts.tolist() == list(range(0, 801, 50)) and (stops - starts == 200).all()
    starts, _ = window_bounds(1000, 100.0, window=1.0)  # stride defaults to the window
    assert starts.tolist() == list(range(0, 901, 100))
    with pytest.raises(ValueError, match="longer than the signal"):
        window_bounds(100, 100.0, window=2.0)


def test_de_matches_sosfiltfilt_reference(rng):
    x = rng.normal(0, 10, (2, 3, 1280))
    de = differential_entropy(x, 128.0, window=2.0, stride=1.0)
    assert de.shape == (2, 9, 3, 4)  # (..., windows, channels, bands)
    for b, (low, high) in enumerate(BANDS.values()):
        sos = signal.butter(4, [low, high], btype="bandpass", fs=128.0, output="sos")
        filtered = signal.sosfiltfilt(sos, x, axis=-1)
        for w in range(9):
            var = filtered[..., 128 * w : 128 * w + 256].var(axis=-1)
            np.testing.assert_allclose(
                de[:, w, :, b], 0.5 * np.log(2 * np.pi * np.e * var), rtol=1e-10
            )


def test_de_of_white_noise_follows_its_band_variance(rng):
    sigma = 3.0
    x = rng.normal(0, sigma, (1, 128 * 400))
    de = differential_entropy(x, 128.0, bands={"b": (16.0, 32.0)}, window=400.0)
    # forward-backward filtering applies |H|^2 twice: the passed share of a white variance
    freqs, response = signal.sosfreqz(bandpass_sos(128.0, 16.0, 32.0), worN=4096, fs=128.0)
    expected_var = sigma**2 * np.mean(np.abs(response) ** 4)
    assert abs(de[0, 0, 0] - 0.5 * np.log(2 * np.pi * np.e * expected_var)) < 0.02


def test_band_power_bins_follow_welch(rng):
    x = rng.normal(size=(2, 512))
    power = band_power(x, 128.0, window=4.0)
    freqs, psd = signal.welch(x, fs=128.0, nperseg=128)
    theta = psd[:, (freqs >= 4) & (freqs < 8)].mean(axis=-1)  # bins 4,5,6,7 Hz
    np.testing.assert_allclose(power[0, :, 0], theta)


def test_bad_feature_arguments(rng):
    with pytest.raises(ValueError, match="Nyquist"):
        bandpass_sos(128.0, 40.0, 64.0)
    with pytest.raises(ValueError, match="NaN"):
        differential_entropy(np.full((2, 256), np.nan), 128.0)
    with pytest.raises(ValueError, match="n_channels, n_times"):
        differential_entropy(np.zeros(256), 128.0)


def make_recording(rng, offset=0.0, scale=1.0):
    data = rng.normal(offset, scale, (2, 640))
    rest = rng.normal(offset, scale, (2, 384))
    return Recording(
        data, 128.0, ["Fz", "Cz"], "s01", trial=1, ratings={"valence": 4}, baseline=rest
    )


def test_baseline_subtract_removes_mean_baseline_features(rng):
    rec = make_recording(rng)
    plain = recording_features(rec)
    rest = differential_entropy(rec.baseline, 128.0)
    np.testing.assert_allclose(
        recording_features(rec, baseline="subtract"), plain - rest.mean(axis=0)
    )


def test_baseline_zscore_scales_signal_by_baseline(rng):
    rec = make_recording(rng, offset=50.0, scale=4.0)
    mean, std = rec.baseline.mean(axis=1, keepdims=True), rec.baseline.std(axis=1, keepdims=True)
    expected = differential_entropy((rec.data - mean) / std, 128.0)
    np.testing.assert_allclose(recording_features(rec, baseline="zscore"), expected)
    without = Recording(rec.data, 128.0, rec.ch_names, "s01", trial=4)
    with pytest.raises(ValueError, match="trial 4 has none"):
        recording_features(without, baseline="subtract")


def test_extract_windows_metadata(rng):
    recs = [make_recording(rng), make_recording(rng)]
    recs[1].trial = 2
    windows = extract_windows(recs, window=1.0, stride=0.5, baseline="subtract", progress=False)
    assert windows.X.shape == (18, 2, 4) and windows.X.dtype == np.float32
    assert windows.groups["trial"].tolist() == [1] * 9 + [2] * 9
    assert windows.groups["start"][:3].tolist() == [0, 64, 128]
    assert windows.ratings["valence"].tolist() == [4.0] * 18
    assert windows.info["baseline"] == "subtract" and windows.info["window"] == 1.0
    raw = extract_windows(recs, kind="raw", window=1.0, progress=False)
    assert raw.X.shape == (10, 2, 128)
    np.testing.assert_allclose(raw.X[1], recs[0].data[:, 128:256].astype(np.float32))
    assert raw_windows(recs[0].data, 128.0, 2.0, 1.0).shape == (4, 2, 256)


def test_window_sets_share_one_pass_over_the_dataset(rng):
    from physioemo.datasets.base import Dataset
    from physioemo.features import recipes

    reads = []

    def read_subject(subject):
        reads.append(subject)
        return [make_recording(rng)]

    dataset = Dataset(
        "test",
        ["s01", "s02"],
        read_subject,
        sfreq=128.0,
        ch_names=["Fz", "Cz"],
        modality="eeg",
        unit="uV",
        rating_names=["valence"],
        source=".",
    )
    de, raw = (recipes.get(name) for name in ("de", "raw"))
    requests = [(de, de.parameters(baseline="subtract")), (raw, raw.parameters(baseline="zscore"))]
    de_set, raw_set = recipes.compute(dataset, requests)
    assert reads == ["s01", "s02"]  # each subject read once for both recipes
    assert de_set.X.shape == (10, 2, 4) and raw_set.X.shape == (10, 2, 128)
    np.testing.assert_array_equal(de_set.groups, raw_set.groups)
    assert raw_set.info["baseline"] == "zscore" and de_set.info["recipe"] == "de"
