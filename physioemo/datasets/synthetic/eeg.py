"""The signal model of synthetic emotion EEG (shared by every dataset writer).

The signal model (all choices ours, seeded, documented here so results can be read against it;
`Settings` lists every knob with its unit, default and reason, and each dataset's writer sets the
knobs calibrated for it, docs/synthetic.md):

* **Background and rhythms.** Each source is a stationary Gaussian process whose amplitude
  spectrum is a 1/f^(chi/2) background plus Gaussian bumps for theta (6 Hz), alpha (the
  subject's peak, about 10 Hz) and beta (20 Hz, broad). Alpha is twice as strong over
  posterior sites, theta a little stronger frontally. RMS amplitude is some 10-30 uV.
* **Felt state and ratings.** Each clip has a target state (valence, arousal, ...) shared by all
  subjects; what a subject feels is that target plus a personal reaction to the clip
  (`reaction`). The EEG follows the felt state; the rating reports it through the subject's
  rating habits: a personal use of the scale (`scale_use`), a personal bias (`rating_bias`)
  and report noise (`report_noise`). The label is therefore a noisy, personally biased reading
  of what the EEG carries, as with real self-reports.
* **Emotion effects (modest).** With z the felt state in [-1, 1]: arousal scales the beta
  range's amplitude by exp(+k a z) and the alpha range's by exp(-k a z); valence shifts
  frontal alpha asymmetry (left frontal alpha down, right up, by exp(-/+ k v z)), the classic
  frontal asymmetry direction, and raises beta over the lateral temporal sites by exp(+k u z)
  (the SEED papers' finding for positive emotions). k = `effect`. The ranges (`_zones`: the
  subject's alpha peak -2 to +3 Hz, and from there to 30 Hz) scale as a whole, background
  included, so an effect x moves the DE of a band inside its range by exactly x nats. (Scaling
  only the rhythm's peak would make band DE a convex function of the effect, and personal
  effects of either sign would then raise every band's DE with the felt state's magnitude,
  a sign-free signal no real effect is known to carry.) The sensitivities a, v, u are per
  channel: the subject's overall sensitivity (population mean `mean_effect`, spread
  `subject_spread` across subjects, so some subjects respond the other way) at the effect's
  sites, weighted by a personal log-normal pattern (`pattern_spread`), plus an idiosyncratic
  pattern of either sign (`idiosyncrasy`) that only that subject has.
* **Spatial mixing.** Each subject's head and cap place the generators differently: a channel
  sees its own sources' power mixed with that of its neighbours (Gaussian weights over the
  10-05 template positions, sd 4 cm, with personal log-normal jitter), a fraction `mixing` of
  its power. Powers of independent sources add, so each channel stays a Gaussian process of
  the mixed spectrum (channels are drawn independently, which keeps the planted coupling below
  invisible to per-channel spectra); the topography of every rhythm and effect is blurred
  differently per subject.
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
    (about 3 per second at random times, 0.5 s, Hann envelope) of a band-limited 6-Hz
    sawtooth (3 harmonics) appear at fronto-central sites (a per-subject spatial pattern).
    Each burst rises slowly and falls fast with probability clip(0.5 + z_a, 0, 1), else it is
    the time-reversed waveform; a waveform and its time reverse have the same power spectrum,
    so rate, amplitude and spectrum are independent of arousal and only the asymmetry of each
    burst (the sign of the skewness of its derivative) carries it.

  Defaults are present but modest (c = 0.3, bursts 6 uV against 10-30 uV of EEG); `PLANTED`
  holds the settings of a strongly planted data set (`write_dreamer(..., **PLANTED)`), whose
  measured effect on model families is in docs/planted-synthetic.md.
* **Subjects differ** in spectral exponent, alpha peak frequency (sd `alpha_spread`), overall
  and per-channel gain, spatial mixing, effect patterns and rating habits: a classifier trained
  on other subjects transfers poorly, so subject-independent accuracy is clearly below
  subject-dependent accuracy.
* **Nuisance.** Every trial gets its own log-gains per channel and rhythm (sd `trial_nuisance`),
  stationary within the trial and independent of the felt state; consecutive trials of a
  session share part of them (correlation `nuisance_memory`: electrode contact and vigilance
  drift slowly), and each session adds its own offsets (sd `session_drift`: the cap is put on
  again). Splits that put windows of one trial on both sides can learn a trial's signature and
  score visibly higher than honest trial-level splits, as on real data.
* **Artefacts.** Eye blinks (`blink_rate` per minute, 300 ms, 100 uV at Fp/AF sites, falling
  off backwards), muscle bursts (`muscle_rate` per minute, 0.5-2 s of broadband high-frequency
  activity, strongest at temporal sites), electrode drift (a random walk of `electrode_drift`
  uV per sqrt(s) per channel) and a per-channel DC offset near 4,200 uV (the Emotiv export).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

#: Settings of a strongly planted data set (ours): DE-visible effects at a quarter of the
#: default, the two effects per-channel DE cannot see strong. docs/planted-synthetic.md.
PLANTED = {"effect": 0.1, "coupling": 0.9, "bursts": 25.0}
#: The subject variability and nuisance every calibrated dataset shares (ours; each dataset's
#: writer adds its effect sizes, docs/synthetic.md): a quarter of a channel's power from its
#: neighbours (volume conduction at 10-20 spacing), individual alpha peaks with the adult
#: spread of about 1 Hz, trial gains half shared with the previous trial (contact and vigilance
#: drift slowly), 0.5 uV/sqrt(s) of electrode drift (below 1 Hz: felt by raw models, not by band
#: features from 4 Hz), a rating-scale use that differs by about 20 % between subjects.
REALISTIC = {
    "mixing": 0.25,
    "alpha_spread": 1.0,
    "nuisance_memory": 0.5,
    "electrode_drift": 0.5,
    "scale_use": 0.2,
}


@dataclass(frozen=True)
class Settings:
    """The knobs of `EmotionEEG`. Defaults: a clear, generic model (DE effects well above the
    noise); each dataset's writer overrides them with its calibration (docs/synthetic.md).

    Effects seen by per-channel DE:
        effect: k, log-amplitude change of a rhythm per unit felt state (0.4: exp(0.4) ~ 1.5x).
        mean_effect, subject_spread: population mean and between-subject sd of a subject's
            overall sensitivity (0.6, 0.6: about one subject in six responds the other way).
        valence_scale: the valence sensitivity's mean and sd relative to arousal's (1). Valence
            acts at fewer sites (frontal alpha asymmetry, temporal beta) than arousal (alpha
            and beta everywhere); a scale near 2 gives both a similar overall visibility.
        pattern_spread: sd of the log of a subject's per-channel weights of the population
            pattern (0: every channel at the mean; 0.5: some at half, some at 1.6x).
        idiosyncrasy: sd of the per-channel sensitivity of either sign that only the subject
            has (1.0). Strong idiosyncrasy makes leave-one-subject-out scores a lottery: a
            held-out subject's pattern aligns with the others' by chance, for or against.
        mixing: fraction of a channel's power that comes from its neighbours' sources
            (0: none; the subject's own mix, module docstring).
        alpha_spread: sd (Hz) of the subject's alpha peak around 10 Hz (0.8; a peak near 8 or
            13 Hz moves the effect across band edges).
    What the rating says (all in standardised units, z in [-1, 1] spans the scale):
        reaction: sd of a subject's felt state around the clip's target (0: clips work alike).
        report_noise: sd of the self-report error (0.35: about 0.7 points on a 1-5 scale).
        rating_bias: sd of a subject's bias (0.2). scale_use: sd of the log of a subject's gain
            on the scale (0: everyone uses the whole scale alike).
    Nuisance:
        trial_nuisance: sd of a trial's log-gains per channel and rhythm (0.25).
        nuisance_memory: correlation of those log-gains between consecutive trials (0).
        session_drift: sd of a session's log-gains per channel and rhythm (0).
        blink_rate, muscle_rate: artefacts per minute (15, 3).
        electrode_drift: random walk per channel, uV per sqrt(s) (0).
    Planted (invisible to per-channel DE): coupling (c, 0.3), bursts (uV, 6).
    """

    effect: float = 0.4
    mean_effect: float = 0.6
    subject_spread: float = 0.6
    valence_scale: float = 1.0
    pattern_spread: float = 0.0
    idiosyncrasy: float = 1.0
    mixing: float = 0.0
    alpha_spread: float = 0.8
    reaction: float = 0.0
    report_noise: float = 0.35
    rating_bias: float = 0.2
    scale_use: float = 0.0
    trial_nuisance: float = 0.25
    nuisance_memory: float = 0.0
    session_drift: float = 0.0
    blink_rate: float = 15.0
    muscle_rate: float = 3.0
    electrode_drift: float = 0.0
    coupling: float = 0.3
    bursts: float = 6.0

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


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


def _blink_weight(name: str, area: str) -> float:
    """How much of a blink reaches the site: most at Fp, falling off backwards."""
    for prefix, weight in (("FP", 1.0), ("AF", 0.8), ("F7", 0.5), ("F8", 0.5)):
        if name.startswith(prefix):
            return weight
    if area == "frontal":
        return 0.4
    return 0.15 if name.startswith(("FC", "FT")) else 0.03


def _site_weights(ch_names: list[str]) -> dict[str, np.ndarray]:
    """Per-channel weights of the model's spatial patterns."""
    areas = [_site(n) for n in ch_names]
    upper = [n.upper() for n in ch_names]
    pick = lambda table, default: np.array([table.get(a, default) for a, _ in areas])  # noqa: E731
    return {
        "alpha": pick({"occipital": 2.0, "parietal": 1.7, "central": 1.2}, 1.0),
        "theta": pick({"frontal": 1.3}, 1.0),
        "blink": np.array([_blink_weight(n, a) for n, (a, _) in zip(upper, areas, strict=True)]),
        "muscle": np.array(
            [
                1.0 if a == "temporal" else 0.5 if n in ("F7", "F8") else 0.1
                for n, (a, _) in zip(upper, areas, strict=True)
            ]
        ),
        "frontal_side": np.array([s if a == "frontal" else 0 for a, s in areas], dtype=float),
        "temporal": pick({"temporal": 1.0}, 0.0),
        "bursts": pick({"frontal": 1.0, "central": 1.0, "temporal": 0.5}, 0.3),
    }


def _neighbourhood(ch_names: list[str], width: float = 0.04) -> np.ndarray:
    """(n, n) Gaussian weights exp(-d^2 / (2 width^2)) of the distance d (m) between the
    channels on the 10-05 template head; a name without a position has only itself."""
    from ...montage import positions, unplaced

    placed = [n for n in ch_names if n not in set(unplaced(ch_names))]
    where = positions(placed)
    kernel = np.eye(len(ch_names))
    index = [ch_names.index(n) for n in placed]
    xyz = np.array([where[n] for n in placed]).reshape(-1, 3)
    distance2 = ((xyz[:, None] - xyz[None]) ** 2).sum(-1)
    kernel[np.ix_(index, index)] = np.exp(-distance2 / (2 * width**2))
    return kernel


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
    """One simulated subject: spectra, effect sensitivities, mixing and rating habits."""

    exponent: float  # 1/f exponent of the background power
    alpha_freq: float  # Hz
    gain: np.ndarray  # (n_channels,) overall amplitude gain
    arousal_effect: np.ndarray  # (n_channels,) a per site: population mean plus personal pattern
    valence_effect: np.ndarray  # (n_channels,) v per site: frontal asymmetry plus personal pattern
    rating_bias: np.ndarray  # (n_dimensions,) standardised units
    heart_rate: float  # bpm at neutral arousal
    dc_offset: np.ndarray  # (n_channels,) uV
    burst_pattern: np.ndarray  # (n_channels,) gain of the burst source per site
    rating_gain: np.ndarray | None = None  # (n_dimensions,) use of the scale (1: all of it)
    mixing: np.ndarray | None = None  # (n_channels, n_channels) power weights, rows sum to 1
    autonomic: float = 1.0  # gain of the subject's physiological responses (peripheral.py)
    valence_beta: np.ndarray | None = None  # (n_channels,) u per site: temporal plus personal


class EmotionEEG:
    """The seeded generative model described in the module docstring.

    Args:
        ch_names: 10-20 names of the simulated channels (spatial patterns follow the names).
        sfreq: sampling rate in Hz.
        settings: any `Settings` field by name (effect, trial_nuisance, coupling, ...).
    """

    def __init__(self, ch_names, sfreq, **settings):
        unknown = sorted(set(settings) - set(Settings.names()))
        if unknown:
            raise ValueError(f"EmotionEEG takes no setting {', '.join(unknown)}")
        self.settings = Settings(**settings)
        self.ch_names = list(ch_names)
        self.sfreq = float(sfreq)
        self.weights = _site_weights(self.ch_names)
        self.pairs = homologous_pairs(self.ch_names)
        self.burst = sawtooth_burst(self.sfreq)
        self._kernel = _neighbourhood(self.ch_names) if self.settings.mixing else None

    def subject(self, rng: np.random.Generator, n_dimensions: int = 3) -> Subject:
        n, s = len(self.ch_names), self.settings
        arousal, valence_alpha, valence_beta = self._sensitivities(rng)
        return Subject(
            exponent=rng.uniform(1.3, 2.2),
            alpha_freq=rng.normal(10.0, s.alpha_spread),
            gain=np.exp(rng.normal(0, 0.35) + rng.normal(0, 0.2, n)),
            arousal_effect=arousal,
            valence_effect=valence_alpha,
            rating_bias=rng.normal(0, s.rating_bias, n_dimensions),
            heart_rate=rng.normal(70, 8),
            dc_offset=rng.normal(4200, 60, n),
            burst_pattern=self.weights["bursts"] * np.exp(rng.normal(0, 0.3, n)),
            rating_gain=np.exp(rng.normal(0, s.scale_use, n_dimensions)),
            mixing=self._mixing(rng),
            autonomic=rng.normal(1.0, 0.5),
            valence_beta=valence_beta,
        )

    def _sensitivities(self, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A subject's per-channel sensitivities (n_channels,): arousal's, valence's on alpha
        (frontal asymmetry) and on beta (lateral temporal). Each is the subject's overall
        sensitivity (mean `mean_effect`, sd `subject_spread`; valence's scaled by
        `valence_scale`) at the effect's sites, weighted per channel by a personal log-normal
        pattern (sd `pattern_spread`, mean 1), plus an idiosyncratic part of either sign (sd
        `idiosyncrasy`; valence's the same on alpha and beta)."""
        n, s, w = len(self.ch_names), self.settings, self.weights
        scale = np.array([1.0, s.valence_scale])
        overall = rng.normal(s.mean_effect * scale, s.subject_spread * scale)
        pattern = np.exp(rng.normal(-(s.pattern_spread**2) / 2, s.pattern_spread, (2, n)))
        own = rng.normal(0, s.idiosyncrasy, (2, n))
        valence = overall[1] * pattern[1]
        return (
            overall[0] * pattern[0] + own[0],
            valence * w["frontal_side"] + own[1],
            valence * w["temporal"] + own[1],
        )

    def _mixing(self, rng) -> np.ndarray | None:
        """A subject's (n, n) power mixing: (1 - m) I + m K, K the neighbourhood weights with
        personal log-normal jitter (sd 0.5), rows normalised."""
        if self._kernel is None:
            return None
        weights = self._kernel * np.exp(rng.normal(0, 0.5, self._kernel.shape))
        weights /= weights.sum(axis=1, keepdims=True)
        m = self.settings.mixing
        return (1 - m) * np.eye(len(self.ch_names)) + m * weights

    # ------------------------------------------------------------------ felt state, ratings
    def felt(self, rng, targets) -> np.ndarray:
        """Felt state per dimension (standardised, clipped to [-1, 1]) for a clip's targets
        (standardised): the target plus the subject's reaction to this clip (sd `reaction`)."""
        targets = np.asarray(targets, dtype=float)
        return np.clip(targets + rng.normal(0, self.settings.reaction, targets.shape), -1, 1)

    def ratings(self, rng, subject: Subject, felt, scale, continuous=False) -> np.ndarray:
        """Ratings on `scale` (low, high) a subject reports for `felt` (standardised, one per
        dimension): his use of the scale and bias, plus report noise; integers unless
        `continuous` (DEAP's slider)."""
        low, high = scale
        felt = np.asarray(felt, dtype=float)
        n = felt.size
        z = subject.rating_gain[:n] * felt + subject.rating_bias[:n]
        z = z + rng.normal(0, self.settings.report_noise, n)
        rating = (low + high) / 2 + z * (high - low) / 2
        return np.clip(rating if continuous else np.rint(rating), low, high)

    # ------------------------------------------------------------------ nuisance
    def nuisance(self, rng) -> np.ndarray:
        """One trial's log-gains (4, n_channels): background, theta, alpha, beta."""
        return rng.normal(0, self.settings.trial_nuisance, (4, len(self.ch_names)))

    def session_nuisance(self, rng, n_trials: int) -> np.ndarray:
        """(n_trials, 4, n_channels) log-gains of a session's consecutive trials: the session's
        offsets (sd `session_drift`) plus trial terms of sd `trial_nuisance` that follow an
        AR(1) across trials with correlation `nuisance_memory`."""
        s = self.settings
        shape = (4, len(self.ch_names))
        out = np.empty((n_trials, *shape))
        term = self.nuisance(rng)
        for t in range(n_trials):
            if t:
                fresh = self.nuisance(rng)
                term = s.nuisance_memory * term + np.sqrt(1 - s.nuisance_memory**2) * fresh
            out[t] = term
        return out + rng.normal(0, s.session_drift, shape)

    # ------------------------------------------------------------------ signals
    def eeg(
        self,
        rng,
        subject: Subject,
        n_times: int,
        arousal: float = 0.0,
        valence: float = 0.0,
        nuisance: np.ndarray | None = None,
    ) -> np.ndarray:
        """(n_channels, n_times) EEG in uV for felt arousal/valence in [-1, 1] (standardised).

        `nuisance` (4, n_channels) are the trial's log-gains for background, theta, alpha, beta;
        drawn fresh when None.
        """
        n_ch = len(self.ch_names)
        if nuisance is None:
            nuisance = self.nuisance(rng)
        freqs = np.fft.rfftfreq(n_times, 1 / self.sfreq)
        amplitude = self._amplitude(subject, freqs, arousal, valence, np.exp(nuisance))
        phases = rng.standard_normal((n_ch, freqs.size)) + 1j * rng.standard_normal(
            (n_ch, freqs.size)
        )
        phases[:, 0] = 0
        self._couple(phases, _bump(freqs, subject.alpha_freq, 1.1), valence)
        # unit-variance white noise for amplitude 1; the variance is the mean squared amplitude
        signal = np.fft.irfft(amplitude * phases, n=n_times) * np.sqrt(n_times / 2)
        signal += self._artefacts(rng, n_times)
        if self.settings.bursts:
            signal += np.outer(subject.burst_pattern, self._burst_train(rng, n_times, arousal))
        return signal + subject.dc_offset[:, None]

    def _amplitude(self, subject, freqs, arousal, valence, gains) -> np.ndarray:
        """(n_channels, n_freqs) amplitude spectrum: the sources' background and rhythms with
        the trial's gains (4, n_channels), scaled in the alpha and beta ranges by the felt
        state's effects (`_zones`), mixed by the subject's power mixing, times the channel
        gains."""
        w, k = self.weights, self.settings.effect
        a = k * subject.arousal_effect * arousal
        v = k * subject.valence_effect * valence
        u = 0.0 if subject.valence_beta is None else k * subject.valence_beta * valence
        background = 60.0 * (1 + freqs) ** (-subject.exponent / 2)
        sources = (
            gains[0][:, None] * background
            + (9.0 * w["theta"] * gains[1])[:, None] * _bump(freqs, 6.0, 1.2)
            + (16.0 * w["alpha"] * gains[2])[:, None] * _bump(freqs, subject.alpha_freq, 1.1)
            + (7.0 * gains[3])[:, None] * _bump(freqs, 20.0, 4.5)
        )
        alpha_zone, beta_zone = _zones(freqs, subject.alpha_freq)
        sources *= np.exp(np.outer(v - a, alpha_zone) + np.outer(a + u, beta_zone))
        if subject.mixing is not None:
            sources = np.sqrt(subject.mixing @ sources**2)
        return sources * subject.gain[:, None]

    def _couple(self, phases: np.ndarray, alpha_bump: np.ndarray, valence: float) -> None:
        """Give each homologous pair alpha coherence rho = c z_v x bump (in place)."""
        rho = np.clip(self.settings.coupling * valence, -1.0, 1.0) * alpha_bump
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
        return self.settings.bursts * train[width : width + n_times]

    def _artefacts(self, rng, n_times: int) -> np.ndarray:
        """(n_channels, n_times) uV: blinks, muscle bursts and electrode drift."""
        s, sfreq = self.settings, self.sfreq
        minutes = n_times / sfreq / 60
        # blinks: a 300 ms bump of about 100 uV at the front
        width = int(0.3 * sfreq)
        train = np.zeros(n_times)
        onsets = rng.integers(0, max(n_times - width, 1), rng.poisson(s.blink_rate * minutes))
        np.add.at(train, onsets, rng.normal(100, 20, onsets.size))
        blinks = np.convolve(train, np.hanning(width) ** 2, mode="same")
        # muscle bursts: 0.5-2 s of high-frequency noise, strongest at temporal sites
        muscle = np.zeros(n_times)
        for _ in range(rng.poisson(s.muscle_rate * minutes)):
            length = int(rng.uniform(0.5, 2.0) * sfreq)
            start = int(rng.integers(0, max(n_times - length, 1)))
            noise = np.diff(rng.standard_normal(length + 1))  # first difference: high-pass
            muscle[start : start + length] += (
                12.0 * noise[: n_times - start] * np.hanning(length)[: n_times - start]
            )
        out = np.outer(self.weights["blink"], blinks) + np.outer(self.weights["muscle"], muscle)
        if s.electrode_drift:
            steps = rng.normal(0, s.electrode_drift / np.sqrt(sfreq), (len(self.ch_names), n_times))
            out += np.cumsum(steps, axis=1)
        return out


def _zones(freqs: np.ndarray, alpha_freq: float) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, beta) weights (n_freqs,) of the ranges the effects scale: 1 from the subject's
    alpha peak - 2 Hz to peak + 3 Hz (8-13 Hz at a 10-Hz peak), and from there to 30 Hz, with
    logistic edges 0.3 Hz wide. The whole range scales, rhythm and background alike, so an
    effect x moves the DE of a band inside a zone by x nats, whatever the rhythm's share of
    the band."""
    edge = lambda at: 1 / (1 + np.exp(-(freqs - at) / 0.3))  # noqa: E731
    low, high = alpha_freq - 2.0, alpha_freq + 3.0
    return edge(low) - edge(high), edge(high) - edge(30.0)


def _bump(freqs: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((freqs - centre) / width) ** 2)


def standardise(rating, scale: tuple[int, int]):
    """Map a rating (or array of ratings) on `scale` to [-1, 1]."""
    low, high = scale
    return (np.asarray(rating) - (low + high) / 2) / ((high - low) / 2)
