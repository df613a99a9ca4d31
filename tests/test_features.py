"""Spectral features against SciPy/MNE references; asymmetry, smoothing and bad input."""

import numpy as np
import pytest
from scipy import signal

from physioemo.datasets.synthetic import DREAMER_ELECTRODES, EmotionEEG
from physioemo.features import (
    BANDS,
    SEED_CHANNELS,
    CausalFilterBank,
    asm,
    band_power,
    bandpass_sos,
    baseline_correct,
    dasm,
    dcau,
    differential_entropy,
    frontal_posterior_pairs,
    lds_smooth,
    mirror_pairs,
    moving_average,
    psd_de,
    rasm,
)
from physioemo.windows import window_bounds

SFREQ = 128.0


def reference_de(x, sfreq, window, stride, filt):
    """DE by SciPy: filter the whole signal per band, then np.var of each window."""
    starts, stops = window_bounds(x.shape[-1], sfreq, window, stride)
    out = []
    for low, high in BANDS.values():
        y = filt(bandpass_sos(sfreq, low, high), x, axis=-1)
        var = np.stack(
            [y[..., a:b].var(axis=-1) for a, b in zip(starts, stops, strict=True)], axis=-2
        )
        out.append(0.5 * np.log(2 * np.pi * np.e * var))
    return np.stack(out, axis=-1)


@pytest.fixture(scope="module")
def random_f32():
    return np.random.default_rng(0).standard_normal((2, 3, 700)).astype(np.float32) * 20


@pytest.fixture(scope="module")
def synthetic_eeg():
    model = EmotionEEG(DREAMER_ELECTRODES, SFREQ)
    rng = np.random.default_rng(1)
    return model.eeg(rng, model.subject(rng), int(8 * SFREQ), arousal=0.5).astype(np.float32)


def test_zero_phase_de_matches_sosfiltfilt_on_random_float32(random_f32):
    ours = differential_entropy(random_f32, SFREQ, window=1.0, stride=0.5)
    expected = reference_de(random_f32, SFREQ, 1.0, 0.5, signal.sosfiltfilt)
    assert ours.shape == (2, 9, 3, 4) == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-4)


def test_zero_phase_de_matches_sosfiltfilt_on_synthetic_eeg(synthetic_eeg):
    ours = differential_entropy(synthetic_eeg, SFREQ, window=2.0)
    expected = reference_de(synthetic_eeg, SFREQ, 2.0, None, signal.sosfiltfilt)
    assert ours.shape == (4, 14, 4)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-4)
    # the rhythms of the model: posterior alpha (O1) above frontal (AF3) alpha
    alpha = ours[..., 1].mean(axis=0)
    assert alpha[DREAMER_ELECTRODES.index("O1")] > alpha[DREAMER_ELECTRODES.index("AF3")]


def test_causal_de_matches_sosfilt(random_f32):
    ours = differential_entropy(random_f32, SFREQ, window=1.0, stride=0.25, zero_phase=False)
    expected = reference_de(random_f32, SFREQ, 1.0, 0.25, signal.sosfilt)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9)


def test_log_base_two_is_bits(random_f32):
    nats = differential_entropy(random_f32, SFREQ)
    np.testing.assert_allclose(
        differential_entropy(random_f32, SFREQ, log_base=2), nats / np.log(2)
    )


def test_filter_bank_in_chunks_equals_one_shot_sosfilt(random_f32):
    x = random_f32[0].astype(np.float64)
    bank = CausalFilterBank(SFREQ, n_channels=3)
    chunks = [bank.filter(x[:, a:b]) for a, b in [(0, 1), (1, 100), (100, 333), (333, 700)]]
    streamed = np.concatenate(chunks, axis=-1)
    for band, (low, high) in enumerate(BANDS.values()):
        expected = signal.sosfilt(bandpass_sos(SFREQ, low, high), x, axis=-1)
        np.testing.assert_allclose(streamed[band], expected, rtol=1e-10, atol=1e-10)
    window = streamed[..., 128:256].var(axis=-1).T  # (channels, bands) of window 1
    de = differential_entropy(x, SFREQ, zero_phase=False)[1]
    np.testing.assert_allclose(0.5 * np.log(2 * np.pi * np.e * window), de, atol=1e-9)


def scipy_de(x, sfreq, order, window, filt=signal.sosfiltfilt):
    """DE written from SciPy alone: butter(order, band, output="sos"), `filt` over the whole
    signal, np.var of each window, 0.5 * log(2 pi e var)."""
    size = int(window * sfreq)
    out = []
    for low, high in BANDS.values():
        sos = signal.butter(order, [low, high], btype="bandpass", fs=sfreq, output="sos")
        y = filt(sos, x, axis=-1)
        n = y.shape[-1] // size
        var = y[..., : n * size].reshape(*y.shape[:-1], n, size).var(axis=-1)
        out.append(0.5 * np.log(2 * np.pi * np.e * np.moveaxis(var, -1, -2)))
    return np.stack(out, axis=-1)


@pytest.mark.parametrize("order", [1, 2, 3, 5, 6])
def test_de_at_any_filter_order_equals_scipy(order):
    x = np.random.default_rng(order).standard_normal((2, 3, 1000)) * 20
    ours = differential_entropy(x, SFREQ, window=1.0, filter_order=order)
    np.testing.assert_allclose(ours, scipy_de(x, SFREQ, order, 1.0), rtol=0, atol=1e-10)
    causal = differential_entropy(x, SFREQ, window=1.0, zero_phase=False, filter_order=order)
    expected = scipy_de(x, SFREQ, order, 1.0, signal.sosfilt)
    np.testing.assert_allclose(causal, expected, rtol=0, atol=1e-10)
    bank = CausalFilterBank(SFREQ, n_channels=3, order=order)
    streamed = np.concatenate([bank.filter(x[0, :, a : a + 97]) for a in range(0, 1000, 97)], -1)
    sos = signal.butter(order, BANDS["theta"], btype="bandpass", fs=SFREQ, output="sos")
    np.testing.assert_allclose(streamed[0], signal.sosfilt(sos, x[0]), rtol=0, atol=1e-10)


def test_seed_filter_order_three_moves_low_band_de():
    """SEED's and LibEER's order 3 is not our default 4: the lowest band's DE differs, so the
    order must be a recipe parameter (and part of the feature cache key)."""
    from physioemo.features import recipes
    from physioemo.recording import Recording

    x = np.random.default_rng(7).standard_normal((3, 1280)) * 20
    third, fourth = (differential_entropy(x, SFREQ, filter_order=k) for k in (3, 4))
    assert np.abs(third - fourth)[..., 0].mean() > 0.01
    recording = Recording(x, SFREQ, ["F3", "F4", "O1"], "s01", trial=1)
    de = recipes.get("de")
    [windows] = recipes.compute([recording], [(de, de.parameters(filter_order=3))])
    assert windows.info["filter_order"] == 3
    np.testing.assert_allclose(windows.X, third.astype(np.float32))
    assert recipes.get("de").parameters()["filter_order"] == 4
    with pytest.raises(ValueError, match="filter_order must be an integer from 1 to 10"):
        differential_entropy(x, SFREQ, filter_order=2.5)


def welch_bands(x, sfreq, nperseg):
    freqs, psd = signal.welch(x, fs=sfreq, nperseg=nperseg, axis=-1)
    return np.stack(
        [psd[..., (freqs >= lo) & (freqs < hi)].mean(-1) for lo, hi in BANDS.values()], -1
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_band_power_matches_welch(random_f32, dtype):
    x = random_f32.astype(dtype)
    welch = band_power(x, SFREQ, window=2.0, stride=1.0, method="welch")
    fft = band_power(x, SFREQ, window=2.0, stride=1.0, method="fft")
    assert welch.shape == (2, 4, 3, 4)
    for w, start in enumerate(range(0, 512, 128)):
        part = x[..., start : start + 256]
        np.testing.assert_allclose(welch[:, w], welch_bands(part, SFREQ, 128), rtol=1e-4)
        np.testing.assert_allclose(fft[:, w], welch_bands(part, SFREQ, 256), rtol=1e-4)


def test_band_power_multitaper_matches_mne(random_f32):
    from mne.time_frequency import psd_array_multitaper

    x = random_f32.astype(np.float64)[..., :256]
    psd, freqs = psd_array_multitaper(
        x, SFREQ, adaptive=False, low_bias=True, normalization="full", verbose=False
    )
    expected = np.stack(
        [psd[..., (freqs >= lo) & (freqs < hi)].mean(-1) for lo, hi in BANDS.values()], -1
    )
    ours = band_power(x, SFREQ, window=2.0, method="multitaper")[:, 0]
    np.testing.assert_allclose(ours, expected, rtol=1e-8)


def test_band_edges_are_lower_inclusive_upper_exclusive():
    # A unit cosine on bin k of a 1-s periodic-Hann periodogram has one-sided density
    # N / (3 fs) = 1/3 at k and 1/12 at k +- 1 (|W[1] / W[0]|**2 = 1/4), 0 elsewhere.
    t = np.arange(int(SFREQ)) / SFREQ
    at_3, at_8 = (
        band_power(np.cos(2 * np.pi * f * t)[None], SFREQ, method="fft")[0, 0] for f in (3, 8)
    )
    # theta [4, 8) sees only the 1/12 leak at 4 Hz of the 3-Hz tone (a 1-Hz shift, bins 3-7,
    # would give (1/3 + 1/12) / 5); the 8-Hz tone belongs to alpha [8, 13), not theta
    np.testing.assert_allclose(at_3[0], (1 / 12) / 4, atol=1e-12)
    np.testing.assert_allclose(at_8[0], (1 / 12) / 4, atol=1e-12)
    np.testing.assert_allclose(at_8[1], (1 / 3 + 1 / 12) / 5, atol=1e-12)


def test_relative_band_power_sums_to_one(random_f32):
    relative = band_power(random_f32, SFREQ, relative=True)
    np.testing.assert_allclose(relative.sum(axis=-1), 1.0)


def test_psd_de_is_gaussian_entropy_of_band_variance():
    x = np.random.default_rng(3).standard_normal((32, 8192))  # white, variance 1
    power = band_power(x, SFREQ, window=4.0, method="fft")
    widths = np.array([hi - lo for lo, hi in BANDS.values()])
    de = psd_de(x, SFREQ, window=4.0)
    np.testing.assert_allclose(de, 0.5 * np.log(2 * np.pi * np.e * power * widths))
    # white noise of variance 1 has one-sided density 2 / sfreq in every band
    np.testing.assert_allclose(power.mean(axis=(0, 1)), 2 / SFREQ, rtol=0.05)


def test_seed_pairs_follow_the_stated_rules():
    lr, fb = mirror_pairs(SEED_CHANNELS), frontal_posterior_pairs(SEED_CHANNELS)
    assert len(lr) == 27 and len(fb) == 23
    assert lr[:3] == [("FP1", "FP2"), ("AF3", "AF4"), ("F7", "F8")]
    assert ("CB1", "CB2") in lr and ("O1", "O2") in lr and ("TP7", "TP8") in lr
    assert not any("Z" in a or "Z" in b for a, b in lr)
    assert fb[:6] == [
        ("FP1", "O1"),
        ("FPZ", "OZ"),
        ("FP2", "O2"),
        ("AF3", "PO3"),
        ("AF4", "PO4"),
        ("F7", "P7"),
    ]
    assert ("FCZ", "CPZ") in fb and ("FT8", "TP8") in fb
    assert mirror_pairs(DREAMER_ELECTRODES) == [
        ("AF3", "AF4"),
        ("F7", "F8"),
        ("F3", "F4"),
        ("FC5", "FC6"),
        ("T7", "T8"),
        ("P7", "P8"),
        ("O1", "O2"),
    ]


def test_asymmetry_values():
    features = np.random.default_rng(4).uniform(1, 2, (5, 62, 5))
    i = SEED_CHANNELS.index
    d, r, c = (
        dasm(features, SEED_CHANNELS),
        rasm(features, SEED_CHANNELS),
        dcau(features, SEED_CHANNELS),
    )
    assert d.shape == r.shape == (5, 27, 5) and c.shape == (5, 23, 5)
    assert asm(features, SEED_CHANNELS).shape == (5, 54, 5)
    np.testing.assert_array_equal(d[:, 2], features[:, i("F7")] - features[:, i("F8")])
    np.testing.assert_array_equal(r[:, 0], features[:, i("FP1")] / features[:, i("FP2")])
    np.testing.assert_array_equal(c[:, 3], features[:, i("AF3")] - features[:, i("PO3")])
    with pytest.raises(ValueError, match="n_channels=62"):
        dasm(features[:, :10], SEED_CHANNELS)


def test_lds_matches_hand_computed_kalman_rts():
    # x0 ~ N(0, 1), Q = R = 1, y = [1, 3]. Filter: K0 = 1/2 -> m0 = 0.5, P0 = 0.5;
    # predicted P = 1.5, K1 = 0.6 -> m1 = 0.5 + 0.6 * 2.5 = 2.0.
    # RTS: J0 = 0.5 / 1.5 = 1/3 -> s0 = 0.5 + (2.0 - 0.5) / 3 = 1.0; s1 = m1 = 2.0.
    y = np.array([[1.0], [3.0]])
    smoothed = lds_smooth(
        y, transition_var=1.0, observation_var=1.0, initial_var=1.0, initial_mean=0.0
    )
    np.testing.assert_allclose(smoothed, [[1.0], [2.0]])


def test_lds_recovers_a_random_walk_of_its_model():
    rng = np.random.default_rng(5)
    walk = np.cumsum(0.03 * rng.standard_normal((300, 4)), axis=0)
    noisy = walk + 0.5 * rng.standard_normal(walk.shape)
    smoothed = lds_smooth(noisy, transition_var=0.03**2, observation_var=0.25)
    assert np.abs(smoothed - walk).mean() < 0.4 * np.abs(noisy - walk).mean()


def test_moving_average_and_baseline():
    y = np.array([1.0, 2.0, 6.0, 3.0])
    np.testing.assert_allclose(moving_average(y, 3), [1.5, 3.0, 11 / 3, 4.5])
    base = np.array([[2.0, 4.0], [4.0, 8.0]])
    feats = np.array([[6.0, 12.0]])
    np.testing.assert_allclose(baseline_correct(feats, base), [[3.0, 6.0]])
    np.testing.assert_allclose(baseline_correct(feats, base, "divide"), [[2.0, 2.0]])
    with pytest.raises(ValueError, match="size"):
        moving_average(y, 2)


@pytest.mark.parametrize("feature", [differential_entropy, band_power])
def test_bad_input_gets_a_clear_error(feature):
    x = np.zeros((2, 256))
    with pytest.raises(ValueError, match="window of 3.0 s .* longer than the signal"):
        feature(x, SFREQ, window=3.0)
    with pytest.raises(ValueError, match=r"bands\['high'\].*Nyquist"):
        feature(x, SFREQ, bands={"high": (50.0, 70.0)})
    with pytest.raises(ValueError, match="x must have shape"):
        feature(np.zeros(256), SFREQ)
    bad = x.copy()
    bad[1, 7] = np.nan
    with pytest.raises(ValueError, match=r"x holds 1 NaN .*\(1, 7\)"):
        feature(bad, SFREQ)


def test_zero_phase_needs_more_than_the_padding():
    beta = {"beta": (14.0, 31.0)}  # one cycle of 14 Hz fits in the 13-sample window
    with pytest.raises(ValueError, match="zero_phase"):
        differential_entropy(np.ones((1, 20)), SFREQ, window=0.1, bands=beta)
    with pytest.raises(ValueError, match="shorter than one cycle of the lowest band edge"):
        differential_entropy(np.ones((1, 20)), SFREQ, window=0.1)
