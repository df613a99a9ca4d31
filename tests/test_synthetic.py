"""The synthetic signal model shows the physiology it promises."""

import numpy as np
from scipy import signal

from physioemo.datasets.synthetic import DREAMER_ELECTRODES as NAMES
from physioemo.datasets.synthetic import EmotionEEG, simulate_dreamer


def band(x, low, high, sfreq=128.0):
    freqs, psd = signal.welch(x, fs=sfreq, nperseg=256)
    return psd[..., (freqs >= low) & (freqs < high)].mean(axis=-1)


def test_seeded_and_reproducible():
    a, b = simulate_dreamer(2, 6.0, seed=5), simulate_dreamer(2, 6.0, seed=5)
    np.testing.assert_array_equal(a[1]["eeg"][3], b[1]["eeg"][3])
    assert not np.array_equal(a[1]["eeg"][3], simulate_dreamer(2, 6.0, seed=6)[1]["eeg"][3])


def test_alpha_is_posterior_and_blinks_are_frontal():
    model = EmotionEEG(NAMES, 128.0)
    rng = np.random.default_rng(1)
    x = np.stack([model.eeg(rng, model.subject(rng), 128 * 60) for _ in range(8)])
    x = x - x.mean(axis=-1, keepdims=True)
    alpha = band(x, 8, 13).mean(axis=0)
    assert alpha[NAMES.index("O1")] > 1.3 * alpha[NAMES.index("F3")]
    slow = band(x, 0.5, 3).mean(axis=0)  # blink energy
    assert slow[NAMES.index("AF3")] > 3 * slow[NAMES.index("O1")]


def test_arousal_raises_beta_and_lowers_alpha_on_average():
    model = EmotionEEG(NAMES, 128.0, trial_nuisance=0.0)
    rng = np.random.default_rng(2)
    ratios = []
    for _ in range(10):
        person = model.subject(rng)
        calm, aroused = (model.eeg(rng, person, 128 * 40, arousal=z) for z in (-1.0, 1.0))
        ratios.append(
            np.log(band(aroused, 13, 30) / band(aroused, 8, 13)).mean()
            - np.log(band(calm, 13, 30) / band(calm, 8, 13)).mean()
        )
    assert np.mean(ratios) > 0.3  # population effect on the beta/alpha ratio
    assert np.min(ratios) < np.mean(ratios) / 2  # ... with subjects who barely respond


def test_homologous_pairs_and_a_burst_with_its_time_reverse():
    from physioemo.datasets.synthetic.eeg import homologous_pairs, sawtooth_burst
    from physioemo.features.asymmetry import mirror_pairs

    pairs = [(NAMES[a], NAMES[b]) for a, b in homologous_pairs(NAMES)]
    assert pairs == mirror_pairs(NAMES) and len(pairs) == 7  # DREAMER: AF3/AF4 ... O1/O2
    burst = sawtooth_burst(128.0)
    np.testing.assert_allclose(np.abs(np.fft.rfft(burst)), np.abs(np.fft.rfft(burst[::-1])))
    slope = np.diff(burst)
    assert slope.max() < -slope.min()  # slow rise, fast fall


def test_planted_effects_are_invisible_to_per_channel_spectra():
    """Valence coupling and arousal bursts alone (no DE effect): every channel's band powers
    stay put between z = -1 and +1, while the sum of homologous channels and the skewness of
    the derivative carry the ratings."""
    from scipy import stats

    model = EmotionEEG(NAMES, 128.0, effect=0.0, trial_nuisance=0.0, coupling=0.9, bursts=20.0)
    rng = np.random.default_rng(4)
    person = model.subject(rng)
    left, right = NAMES.index("O1"), NAMES.index("O2")
    front = int(np.argmax(person.burst_pattern / person.gain))  # where the bursts stand out
    found = {}
    for z in (-1.0, 1.0):
        x = np.stack([model.eeg(rng, person, 128 * 20, arousal=z, valence=z) for _ in range(30)])
        x = x - x.mean(axis=-1, keepdims=True)
        found[z] = {
            "bands": np.stack([band(x, lo, hi).mean(0) for lo, hi in [(4, 8), (8, 13), (13, 30)]]),
            "pair": band(x[:, left] + x[:, right], 8, 13).mean(),
            "skew": stats.skew(np.diff(x[:, front]), axis=-1).mean(),
        }
    ratio = found[1.0]["bands"] / found[-1.0]["bands"]
    assert np.abs(np.log(ratio)).max() < 0.12  # every channel and band within ~12 %
    assert found[1.0]["pair"] > 3 * found[-1.0]["pair"]  # in phase vs anti-phase alpha
    assert found[1.0]["skew"] < -0.2 < 0.2 < found[-1.0]["skew"]  # slow rise vs fast rise
