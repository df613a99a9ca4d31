"""The signal model of synthetic emotion EEG (shared by every dataset writer).

The signal model (all choices ours, seeded, documented here so results can be read against it):

* **Background and rhythms.** Each channel is a stationary Gaussian process whose amplitude
  spectrum is a 1/f^(chi/2) background plus Gaussian bumps for theta (6 Hz), alpha (the
  subject's peak, about 10 Hz) and beta (20 Hz, broad). Alpha is twice as strong over
  posterior sites, theta a little stronger frontally. RMS amplitude is some 10-30 uV.
* **Ratings.** Each clip has a valence/arousal target shared by all subjects; a subject's rating
  is that target plus a personal bias and noise, rounded onto the rating scale.
* **Emotion effects (modest).** With z = (rating - middle) / half-range in [-1, 1]: arousal scales
  beta amplitude by exp(+k a z) and alpha amplitude by exp(-k a z); valence shifts frontal alpha
  asymmetry (left frontal alpha down, right up, by exp(-/+ k v z)), the classic frontal
  asymmetry direction. k = `effect` (0.4). The sensitivities a, v are per channel: a population
  mean (`mean_effect` 0.6, spread 0.6 across subjects, so some subjects respond the other way)
  plus a personal spatial pattern (sd `pattern_spread` 1.0) that only that subject shares.
* **Planted effects that per-channel DE cannot see** (ours; so raw-input models can be told
  from DE models). Both leave every channel's power spectrum, hence its band powers and DE,
  exactly as they were:

  - *Valence in the phase relation of homologous channels* (`coupling`, c). For every
    left/right pair of the same site (F3/F4, O1/O2, ...), the right channel's Fourier
    coefficients become rho(f) L(f) + sqrt(1 - rho(f)^2) R(f), with rho(f) = c z_v at the
    subject's alpha peak, tapering with the alpha bump: positive valence pulls the pair's
    alpha in phase, negative valence in anti-phase. Each channel's coefficients stay standard
    complex Gaussian, so each channel's distribution is unchanged; only the pair's alpha
    coherence (c z_v at the peak) carries valence. A spatial filter (left + right vs left -
    right) followed by power sees it; HiSTN, whose cross-region mixing is linear after its
    per-channel nonlinearity, cannot.
  - *Arousal in the temporal shape of transient bursts* (`bursts`, amplitude in uV). Bursts
    (about 1.5 per second at random times, 0.5 s, Hann envelope) of a band-limited 6-Hz
    sawtooth (3 harmonics) appear at fronto-central sites (a per-subject spatial pattern).
    Each burst rises slowly and falls fast with probability (1 + z_a) / 2, else it is the
    time-reversed waveform; a waveform and its time reverse have the same power spectrum, so
    rate, amplitude and spectrum are independent of arousal and only the asymmetry of each
    burst (the sign of the skewness of its derivative) carries it.

  Defaults are present but modest (c = 0.3, bursts 6 uV against 10-30 uV of EEG); `PLANTED`
  holds the settings of a strongly planted data set (`write_dreamer(..., **PLANTED)`), whose
  measured effect on model families is in docs/planted-synthetic.md.
* **Subjects differ** in spectral exponent, alpha peak frequency, overall and per-channel gain
  and in their effect patterns: a classifier trained on other subjects transfers poorly, so
  subject-independent accuracy is clearly below subject-dependent accuracy. (Measured with DE,
  baseline subtraction and logistic regression on 12 subjects: subject-dependent 74-87 %,
  subject-independent 63-76 %, leaky window-level k-fold 93-97 %, majority class 58-66 %.)
* **Per-trial nuisance.** Every trial gets its own random log-gains per channel and rhythm
  (sd `trial_nuisance`), stationary within the trial and independent of the ratings. Splits that
  put windows of one trial on both sides can learn this signature and score visibly higher than
  honest trial-level splits, as on real data.
* **Artefacts.** Eye blinks (about 15 per minute, 300 ms, 100 uV at Fp/AF sites, falling off
  backwards) and muscle bursts (about 3 per minute, 0.5-2 s of 20-60 Hz activity, strongest at
  temporal sites). A per-channel DC offset near 4,200 uV mimics the Emotiv export.
* **ECG** (for DREAMER): a P-QRS-T template at a heart rate that rises with arousal, 2 leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Settings of a strongly planted data set (ours): DE-visible effects at a quarter of the
#: default, the two effects per-channel DE cannot see strong. docs/planted-synthetic.md.
PLANTED = {"effect": 0.1, "coupling": 0.9, "bursts": 25.0}


# ----------------------------------------------------------------------------- sites
def _site(name: str) -> tuple[str, int]:
    """(area, side) of a 10-20 name: area in frontal/central/temporal/parietal/occipital,
    side -1 left (odd number), +1 right (even), 0 midline or unknown."""
    upper = name.upper()
    digits = "".join(ch for ch in upper if ch.isdigit())
    side = 0 if not digits else (-1 if int(digits) % 2 else 1)
    letters = "".join(ch for ch in upper if ch.isalpha()).rstrip("Z")
    if letters.startswith(("FP", "AF", "F")) and not letters.startswith("FT"):
        area = "frontal"
    elif letters.startswith(("T", "FT")):
        area = "temporal"
    elif letters.startswith(("PO", "O", "CB", "I")):
        area = "occipital"
    elif letters.startswith(("P", "CP", "TP")):
        area = "parietal"
    else:
        area = "central"
    return area, side


def _site_weights(ch_names: list[str]) -> dict[str, np.ndarray]:
    """Per-channel weights of the model's spatial patterns."""
    areas = [_site(n) for n in ch_names]
    upper = [n.upper() for n in ch_names]
    alpha = np.array(
        [{"occipital": 2.0, "parietal": 1.7, "central": 1.2}.get(a, 1.0) for a, _ in areas]
    )
    theta = np.array([1.3 if a == "frontal" else 1.0 for a, _ in areas])
    blink = np.array(
        [
            1.0
            if n.startswith("FP")
            else 0.8
            if n.startswith("AF")
            else 0.5
            if n in ("F7", "F8")
            else 0.4
            if a == "frontal"
            else 0.15
            if n.startswith(("FC", "FT"))
            else 0.03
            for n, (a, _) in zip(upper, areas, strict=True)
        ]
    )
    muscle = np.array(
        [
            1.0 if a == "temporal" else 0.5 if n in ("F7", "F8") else 0.1
            for n, (a, _) in zip(upper, areas, strict=True)
        ]
    )
    frontal_side = np.array([s if a == "frontal" else 0 for a, s in areas], dtype=float)
    bursts = np.array(
        [{"frontal": 1.0, "central": 1.0, "temporal": 0.5}.get(a, 0.3) for a, _ in areas]
    )
    return {
        "alpha": alpha,
        "theta": theta,
        "blink": blink,
        "muscle": muscle,
        "frontal_side": frontal_side,
        "bursts": bursts,
    }


def homologous_pairs(ch_names: list[str]) -> list[tuple[int, int]]:
    """(left, right) index pairs of the same site (F3/F4, FP1/FP2, O1/O2, CB1/CB2): the
    indices of `features.asymmetry.mirror_pairs`."""
    from ...features.asymmetry import mirror_pairs

    index = {name: i for i, name in enumerate(ch_names)}
    return [(index[left], index[right]) for left, right in mirror_pairs(ch_names)]


def sawtooth_burst(sfreq: float, frequency=6.0, seconds=0.5, harmonics=3) -> np.ndarray:
    """A Hann-windowed band-limited sawtooth (slow rise, fast fall), peak amplitude 1."""
    t = np.arange(int(round(seconds * sfreq))) / sfreq
    wave = -sum(np.sin(2 * np.pi * k * frequency * t) / k for k in range(1, harmonics + 1))
    burst = wave * np.hanning(t.size)
    return burst / np.abs(burst).max()


# ----------------------------------------------------------------------------- model
@dataclass
class Subject:
    """One simulated subject: spectra, effect sensitivities and rating habits."""

    exponent: float  # 1/f exponent of the background power
    alpha_freq: float  # Hz
    gain: np.ndarray  # (n_channels,) overall amplitude gain
    arousal_effect: np.ndarray  # (n_channels,) a per site: population mean plus personal pattern
    valence_effect: np.ndarray  # (n_channels,) v per site: frontal asymmetry plus personal pattern
    rating_bias: np.ndarray  # (n_dimensions,) in rating units
    heart_rate: float  # bpm at neutral arousal
    dc_offset: np.ndarray  # (n_channels,) uV
    burst_pattern: np.ndarray  # (n_channels,) gain of the burst source per site


class EmotionEEG:
    """The seeded generative model described in the module docstring.

    Args:
        ch_names: 10-20 names of the simulated channels (spatial patterns follow the names).
        sfreq: sampling rate in Hz.
        effect: k, the log-amplitude change per unit of standardised rating.
        trial_nuisance: sd of the per-trial log-gains.
        mean_effect, subject_spread, pattern_spread: population mean, between-subject sd and
            personal spatial sd of the effect sensitivities.
        coupling: c, valence's alpha coherence between homologous channels (module docstring).
        bursts: amplitude (uV) of the arousal-shaped sawtooth bursts; 0 switches them off.
    """

    def __init__(
        self,
        ch_names,
        sfreq,
        effect=0.4,
        trial_nuisance=0.25,
        mean_effect=0.6,
        subject_spread=0.6,
        pattern_spread=1.0,
        coupling=0.3,
        bursts=6.0,
    ):
        self.ch_names = list(ch_names)
        self.sfreq = float(sfreq)
        self.effect = effect
        self.trial_nuisance = trial_nuisance
        self.mean_effect = mean_effect
        self.subject_spread = subject_spread
        self.pattern_spread = pattern_spread
        self.coupling = coupling
        self.bursts = bursts
        self.weights = _site_weights(self.ch_names)
        self.pairs = homologous_pairs(self.ch_names)
        self.burst = sawtooth_burst(self.sfreq)

    def subject(self, rng: np.random.Generator, n_dimensions: int = 3) -> Subject:
        n = len(self.ch_names)
        return Subject(
            exponent=rng.uniform(1.3, 2.2),
            alpha_freq=rng.normal(10.0, 0.8),
            gain=np.exp(rng.normal(0, 0.35) + rng.normal(0, 0.2, n)),
            arousal_effect=rng.normal(self.mean_effect, self.subject_spread)
            + rng.normal(0, self.pattern_spread, n),
            valence_effect=rng.normal(self.mean_effect, self.subject_spread)
            * self.weights["frontal_side"]
            + rng.normal(0, self.pattern_spread, n),
            rating_bias=rng.normal(0, 0.4, n_dimensions),
            heart_rate=rng.normal(70, 8),
            dc_offset=rng.normal(4200, 60, n),
            burst_pattern=self.weights["bursts"] * np.exp(rng.normal(0, 0.3, n)),
        )

    def eeg(
        self,
        rng,
        subject: Subject,
        n_times: int,
        arousal: float = 0.0,
        valence: float = 0.0,
        nuisance: np.ndarray | None = None,
    ) -> np.ndarray:
        """(n_channels, n_times) EEG in uV for standardised arousal/valence in [-1, 1].

        `nuisance` (4, n_channels) are the trial's log-gains for background, theta, alpha, beta;
        drawn fresh when None.
        """
        n_ch = len(self.ch_names)
        if nuisance is None:
            nuisance = self.nuisance(rng)
        w = self.weights
        k = self.effect
        a = k * subject.arousal_effect * arousal
        v = k * subject.valence_effect * valence
        freqs = np.fft.rfftfreq(n_times, 1 / self.sfreq)
        bump = lambda f0, width: np.exp(-0.5 * ((freqs - f0) / width) ** 2)  # noqa: E731
        background = 60.0 * (1 + freqs) ** (-subject.exponent / 2)
        gains = np.exp(nuisance)  # (4, n_ch)
        amplitude = (
            gains[0][:, None] * background
            + (9.0 * w["theta"] * gains[1])[:, None] * bump(6.0, 1.2)
            + (16.0 * w["alpha"] * gains[2] * np.exp(-a + v))[:, None]
            * bump(subject.alpha_freq, 1.1)
            + (7.0 * gains[3] * np.exp(a))[:, None] * bump(20.0, 4.5)
        ) * subject.gain[:, None]
        phases = rng.standard_normal((n_ch, freqs.size)) + 1j * rng.standard_normal(
            (n_ch, freqs.size)
        )
        phases[:, 0] = 0
        self._couple(phases, bump(subject.alpha_freq, 1.1), valence)
        # unit-variance white noise for amplitude 1; the variance is the mean squared amplitude
        signal = np.fft.irfft(amplitude * phases, n=n_times) * np.sqrt(n_times / 2)
        signal += self._artefacts(rng, n_times)
        if self.bursts:
            signal += np.outer(subject.burst_pattern, self._burst_train(rng, n_times, arousal))
        return signal + subject.dc_offset[:, None]

    def _couple(self, phases: np.ndarray, alpha_bump: np.ndarray, valence: float) -> None:
        """Give each homologous pair alpha coherence rho = c z_v x bump (in place)."""
        rho = np.clip(self.coupling * valence, -1.0, 1.0) * alpha_bump
        for left, right in self.pairs:
            phases[right] = rho * phases[left] + np.sqrt(1 - rho**2) * phases[right]

    def _burst_train(self, rng, n_times: int, arousal: float) -> np.ndarray:
        """(n_times,) bursts at random times: rising slowly with probability
        clip(0.5 + z_a, 0, 1), else time-reversed; amplitude `bursts` uV."""
        width = self.burst.size
        count = rng.poisson(3.0 * n_times / self.sfreq)
        onsets = rng.integers(-width + 1, n_times, count)
        rising = rng.random(count) < np.clip(0.5 + arousal, 0.0, 1.0)
        train = np.zeros(n_times + 2 * width)
        for onset, slow_rise in zip(onsets + width, rising, strict=True):
            train[onset : onset + width] += self.burst if slow_rise else self.burst[::-1]
        return self.bursts * train[width : width + n_times]

    def nuisance(self, rng) -> np.ndarray:
        """Per-trial log-gains (4, n_channels): background, theta, alpha, beta."""
        return rng.normal(0, self.trial_nuisance, (4, len(self.ch_names)))

    def _artefacts(self, rng, n_times: int) -> np.ndarray:
        sfreq = self.sfreq
        seconds = n_times / sfreq
        out = np.zeros((len(self.ch_names), n_times))
        # blinks: 15/min, a 300 ms bump of about 100 uV at the front
        width = int(0.3 * sfreq)
        shape = np.hanning(width) ** 2
        train = np.zeros(n_times)
        onsets = rng.integers(0, max(n_times - width, 1), rng.poisson(15 * seconds / 60))
        np.add.at(train, onsets, rng.normal(100, 20, onsets.size))
        out += np.outer(self.weights["blink"], np.convolve(train, shape, mode="same"))
        # muscle bursts: 3/min, 0.5-2 s of high-frequency noise, strongest at temporal sites
        burst = np.zeros(n_times)
        for _ in range(rng.poisson(3 * seconds / 60)):
            length = int(rng.uniform(0.5, 2.0) * sfreq)
            start = int(rng.integers(0, max(n_times - length, 1)))
            noise = np.diff(rng.standard_normal(length + 1))  # first difference: high-pass
            burst[start : start + length] += (
                12.0 * noise[: n_times - start] * np.hanning(length)[: n_times - start]
            )
        out += np.outer(self.weights["muscle"], burst)
        return out

    def ratings(
        self, rng, subject: Subject, targets: np.ndarray, scale: tuple[int, int]
    ) -> np.ndarray:
        """Integer ratings on `scale` for clip targets (n_dimensions,) in rating units."""
        low, high = scale
        noisy = targets + subject.rating_bias[: targets.size] + rng.normal(0, 0.7, targets.size)
        return np.clip(np.rint(noisy), low, high).astype(int)


def standardise(rating: float, scale: tuple[int, int]) -> float:
    """Map a rating on `scale` to [-1, 1]."""
    low, high = scale
    return (rating - (low + high) / 2) / ((high - low) / 2)


def ecg(rng, subject: Subject, n_times: int, sfreq: float, arousal: float) -> np.ndarray:
    """(2, n_times) ECG in uV: P-QRS-T beats at a rate that rises 6 bpm per unit of arousal."""
    rate = subject.heart_rate + 6 * arousal * subject.arousal_effect.mean()
    intervals = rng.normal(60 / rate, 0.03, int(n_times / sfreq * rate / 60) + 2)
    beats = np.rint(np.cumsum(intervals) * sfreq).astype(int)
    train = np.zeros(n_times)
    train[beats[beats < n_times]] = 1.0
    lag = np.arange(-int(0.3 * sfreq), int(0.4 * sfreq)) / sfreq  # template support, s
    waves = ((0.15, -0.2, 0.025), (1.0, 0.0, 0.01), (-0.25, 0.03, 0.01), (0.3, 0.25, 0.04))
    template = sum(h * np.exp(-0.5 * ((lag - delay) / width) ** 2) for h, delay, width in waves)
    lead = 1000 * np.convolve(train, template, mode="same") + rng.normal(0, 20, n_times)
    return np.stack([lead, 0.7 * lead + rng.normal(0, 20, n_times)])
