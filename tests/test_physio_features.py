"""Peripheral features on signals whose beats, breaths and responses are placed by hand."""

import numpy as np
import pytest

from physioemo.features.physio import (
    acc_features,
    beats,
    eda_features,
    heart_features,
    respiration_rate,
    temperature_features,
)

SFREQ = 256.0


def pulse_train(times, sfreq, n_times, width):
    """Gaussian pulses of `width` s centred at `times` s."""
    t = np.arange(n_times) / sfreq
    return sum(np.exp(-0.5 * ((t - c) / width) ** 2) for c in times)


def test_heart_rate_and_variability_from_known_intervals():
    intervals = np.tile([0.8, 0.9], 40)  # RR alternating 800 / 900 ms
    times = 0.5 + np.concatenate([[0], np.cumsum(intervals)])
    n_times = int(70 * SFREQ)
    ecg = pulse_train(times, SFREQ, n_times, 0.01)  # narrow R waves
    ecg += 0.02 * np.random.default_rng(0).standard_normal(n_times)
    found = beats(ecg, SFREQ, "ecg") / SFREQ
    np.testing.assert_allclose(found, times[times < 70], atol=2 / SFREQ)
    features = heart_features(ecg, SFREQ, "ecg", window=30.0)
    # hand-computed: closing beats in [0, 30) s close intervals alternating 0.8/0.9 s
    inside = intervals[(times[1:] >= 0) & (times[1:] < 30)]
    assert features["hr_mean"][0] == pytest.approx(60 / inside.mean(), rel=1e-3)
    assert features["sdnn"][0] == pytest.approx(1000 * inside.std(ddof=1), rel=1e-2)
    assert features["rmssd"][0] == pytest.approx(100.0, rel=1e-2)  # every step is 100 ms
    # alternation at half the beat rate (~0.59 Hz) is above HF, so LF/HF stays finite
    assert np.isfinite(features["lf_hf"][0])


def test_bvp_beats():
    times = np.arange(0.5, 20, 0.75)  # 80 bpm
    bvp = pulse_train(times, 64.0, int(20 * 64), 0.12)
    features = heart_features(bvp, 64.0, "bvp", window=10.0)
    np.testing.assert_allclose(features["hr_mean"], 80.0, rtol=1e-2)
    assert np.isnan(features["lf_hf"]).all()  # 10-s windows are shorter than one LF cycle


def test_respiration_temperature_acc():
    t = np.arange(int(60 * 32)) / 32.0
    rate = respiration_rate(np.sin(2 * np.pi * 0.25 * t), 32.0, window=30.0)["resp_rate"]
    np.testing.assert_allclose(rate, 15.0, rtol=1e-2)
    temp = temperature_features(33.0 + 0.01 * t, 32.0, window=20.0)
    np.testing.assert_allclose(temp["temp_slope"], 0.01)
    np.testing.assert_allclose(temp["temp_mean"], 33.0 + 0.01 * np.array([10, 30, 50]) - 0.01 / 64)
    acc = acc_features(np.stack([3 * np.ones_like(t), 4 * np.ones_like(t), 0 * t]), 32.0, 30.0)
    np.testing.assert_allclose(acc["acc_mean"], 5.0)
    np.testing.assert_allclose(acc["acc_std"], 0.0, atol=1e-12)


def test_eda_counts_placed_responses():
    sfreq, n_times = 32.0, int(120 * 32)
    t = np.arange(n_times) / sfreq
    onsets = [10.0, 25.0, 70.0, 95.0]
    scr = sum(
        0.3 * np.clip(t - o, 0, None) * np.exp(-np.clip(t - o, 0, None) / 2.0) for o in onsets
    )
    eda = 2.0 + 0.005 * t + scr
    features = eda_features(eda, sfreq, window=60.0)
    np.testing.assert_array_equal(features["scr_count"], [2, 2])
    assert (features["scr_amplitude"] > 0.05).all()
    np.testing.assert_allclose(features["tonic_mean"], [2.15, 2.45], atol=0.15)


def test_physio_errors_name_the_argument():
    with pytest.raises(ValueError, match="eda holds 1 NaN"):
        eda_features(np.r_[np.ones(100), np.nan], 4.0, window=10.0)
    with pytest.raises(ValueError, match="acc must have shape"):
        acc_features(np.ones((2, 100)), 4.0)
    with pytest.raises(ValueError, match="kind must be"):
        beats(np.ones(100), 4.0, "emg")


# ----------------------------------------------------------------------------- causal mode
def signals(seconds=40.0, sfreq=64.0, seed=0):
    """modality -> (n_channels, n) signal with beats, breaths, responses, drift and noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sfreq)
    t = np.arange(n) / sfreq
    beats_at = 0.3 + np.cumsum(rng.normal(0.8, 0.04, int(seconds / 0.7)))
    pulse = pulse_train(beats_at[beats_at < seconds], sfreq, n, 0.08)
    scr = sum(0.4 * np.clip(t - o, 0, None) * np.exp(-np.clip(t - o, 0, None) / 2) for o in (7, 22))
    noise = lambda scale, rows=1: scale * rng.standard_normal((rows, n))  # noqa: E731
    return {
        "ecg": pulse_train(beats_at[beats_at < seconds], sfreq, n, 0.01)[None] + noise(0.02),
        "ppg": pulse[None] + noise(0.02),
        "eda": (3.0 + 0.01 * t + scr)[None] + noise(0.005),
        "resp": np.sin(2 * np.pi * 0.3 * t)[None] + noise(0.1),
        "temp": (33.0 + 0.002 * t)[None] + noise(0.01),
        "acc": np.vstack([np.ones(n), np.zeros(n), np.zeros(n)]) + noise(0.05, 3),
    }


@pytest.mark.parametrize("modality", ["ecg", "ppg", "eda", "resp", "temp", "acc"])
def test_streamed_features_equal_offline_causal_features(modality):
    """A stream fed in uneven chunks gives, window by window, what the offline causal mode
    gives for the recorded signal (same kernels, filter state carried between chunks)."""
    from physioemo.features.physio import kernel, window_values
    from physioemo.features.streaming import PeripheralStream

    sfreq, x = 64.0, signals()[modality]
    offline = window_values(kernel(modality), x, sfreq, window=10.0, stride=2.5, causal=True)
    stream = PeripheralStream(kernel(modality), sfreq, window=10.0, stride=2.5)
    cuts = np.cumsum(np.random.default_rng(1).integers(1, 90, x.shape[1]))
    pieces = np.split(x, cuts[cuts < x.shape[1]], axis=1)
    live = [values for piece in pieces for values in stream.push(piece)]
    assert [index for index, _ in live] == list(range(len(live)))
    table = np.array([values for _, values in live])
    expected = np.column_stack(list(offline.values()))
    assert table.shape == expected.shape == (13, len(offline))
    np.testing.assert_allclose(table, expected, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_causal_features_use_only_the_past():
    """Causal: changing the signal after a window's end leaves that window's features as
    they were; and by hand: a 75-bpm pulse is 75 bpm, the breathing rate 18 /min."""
    from physioemo.features.physio import heart_features, respiration_rate

    x = signals()["ppg"][0]
    later = x.copy()
    later[int(20 * 64) :] += 5 * np.random.default_rng(2).standard_normal(later.size - 20 * 64)
    before = heart_features(x, 64.0, "bvp", window=10.0, stride=5.0, causal=True)
    after = heart_features(later, 64.0, "bvp", window=10.0, stride=5.0, causal=True)
    np.testing.assert_array_equal(before["hr_mean"][:3], after["hr_mean"][:3])  # end <= 20 s
    assert not np.allclose(before["hr_mean"][3:], after["hr_mean"][3:], equal_nan=True)
    np.testing.assert_allclose(before["hr_mean"], 75.0, rtol=0.05)
    resp = respiration_rate(signals()["resp"][0], 64.0, window=20.0, stride=10.0, causal=True)
    np.testing.assert_allclose(resp["resp_rate"], 18.0, rtol=0.05)
