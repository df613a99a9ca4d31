"""Synthetic emotion EEG that behaves like the real thing, written in the real file formats.

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

Writers produce the exact on-disk layout of each dataset (see `write_dreamer`), so the real
loaders read them; `WRITERS` maps dataset names to writers for ``physioemo synth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .seed import FEATURE_BANDS as SEED_FEATURE_BANDS
from .seed import SEED_CHANNELS, SEED_IV_LABELS, SEED_RATE

DREAMER_ELECTRODES = [
    "AF3",
    "F7",
    "F3",
    "FC5",
    "T7",
    "P7",
    "O1",
    "O2",
    "P8",
    "T8",
    "FC6",
    "F4",
    "F8",
    "AF4",
]
DREAMER_RATE, DREAMER_ECG_RATE = 128.0, 256.0


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
    return {
        "alpha": alpha,
        "theta": theta,
        "blink": blink,
        "muscle": muscle,
        "frontal_side": frontal_side,
    }


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


class EmotionEEG:
    """The seeded generative model described in the module docstring.

    Args:
        ch_names: 10-20 names of the simulated channels (spatial patterns follow the names).
        sfreq: sampling rate in Hz.
        effect: k, the log-amplitude change per unit of standardised rating.
        trial_nuisance: sd of the per-trial log-gains.
        subject_spread: sd of the subject sensitivities around 1.
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
    ):
        self.ch_names = list(ch_names)
        self.sfreq = float(sfreq)
        self.effect = effect
        self.trial_nuisance = trial_nuisance
        self.mean_effect = mean_effect
        self.subject_spread = subject_spread
        self.pattern_spread = pattern_spread
        self.weights = _site_weights(self.ch_names)

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
        # unit-variance white noise for amplitude 1; the variance is the mean squared amplitude
        signal = np.fft.irfft(amplitude * phases, n=n_times) * np.sqrt(n_times / 2)
        signal += self._artefacts(rng, n_times)
        return signal + subject.dc_offset[:, None]

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


# ----------------------------------------------------------------------------- DREAMER
def simulate_dreamer(
    subjects=23, seconds=30.0, seed=0, trials=18, baseline_seconds=None, effect=0.4
):
    """Simulated DREAMER content: per subject a dict of EEG/ECG arrays and scores.

    Clip lengths vary around `seconds` (+-25 %); the baseline clip lasts `baseline_seconds`
    (default: a third of `seconds`, at least 4 s; the real one is 61 s).
    """
    rng = np.random.default_rng(seed)
    model = EmotionEEG(DREAMER_ELECTRODES, DREAMER_RATE, effect=effect)
    scale = (1, 5)
    targets = rng.uniform(1.2, 4.2, (trials, 3))  # clip targets: valence, arousal, dominance
    baseline_seconds = baseline_seconds or max(4.0, seconds / 3)
    people = []
    for _ in range(subjects):
        person = model.subject(rng)
        eeg, eeg_rest, ecg_clip, ecg_rest, scores = [], [], [], [], []
        for clip in range(trials):
            score = model.ratings(rng, person, targets[clip], scale)
            arousal, valence = standardise(score[1], scale), standardise(score[0], scale)
            n = int(round(rng.uniform(0.75, 1.25) * seconds * DREAMER_RATE))
            n_rest = int(round(baseline_seconds * DREAMER_RATE))
            nuisance = model.nuisance(rng)
            eeg.append(model.eeg(rng, person, n, arousal, valence, nuisance))
            eeg_rest.append(
                model.eeg(rng, person, n_rest, nuisance=nuisance * [[1], [0], [0], [0]])
            )
            ecg_clip.append(ecg(rng, person, 2 * n, DREAMER_ECG_RATE, arousal))
            ecg_rest.append(ecg(rng, person, 2 * n_rest, DREAMER_ECG_RATE, 0.0))
            scores.append(score)
        people.append(
            {
                "eeg": eeg,
                "eeg_baseline": eeg_rest,
                "ecg": ecg_clip,
                "ecg_baseline": ecg_rest,
                "scores": np.array(scores),
                "age": str(int(rng.integers(22, 34))),
                "gender": str(rng.choice(["male", "female"])),
            }
        )
    return people


def _cell(arrays) -> np.ndarray:
    """A MATLAB n x 1 cell of (samples, channels) matrices from (channels, samples) arrays."""
    cell = np.empty((len(arrays), 1), dtype=object)
    for i, array in enumerate(arrays):
        cell[i, 0] = np.ascontiguousarray(array.T)
    return cell


def write_dreamer(out_dir, subjects=23, seconds=30.0, seed=0, **options) -> Path:
    """Write ``out_dir/DREAMER.mat`` in the distributed layout; returns its path."""
    from scipy.io import savemat

    people = simulate_dreamer(subjects, seconds, seed, **options)
    data = np.empty((1, len(people)), dtype=object)
    for i, person in enumerate(people):
        scores = person["scores"]
        data[0, i] = {
            "Age": person["age"],
            "Gender": person["gender"],
            "EEG": {"baseline": _cell(person["eeg_baseline"]), "stimuli": _cell(person["eeg"])},
            "ECG": {"baseline": _cell(person["ecg_baseline"]), "stimuli": _cell(person["ecg"])},
            "ScoreValence": scores[:, [0]].astype(float),
            "ScoreArousal": scores[:, [1]].astype(float),
            "ScoreDominance": scores[:, [2]].astype(float),
        }
    electrodes = np.empty((1, len(DREAMER_ELECTRODES)), dtype=object)
    electrodes[0, :] = DREAMER_ELECTRODES
    content = {
        "Data": data,
        "EEG_SamplingRate": DREAMER_RATE,
        "ECG_SamplingRate": DREAMER_ECG_RATE,
        "EEG_Electrodes": electrodes,
        "noOfSubjects": float(len(people)),
        "noOfVideoSequences": float(len(people[0]["eeg"])),
        "Disclaimer": "Synthetic data written by physioemo; not the DREAMER recordings.",
        "Provider": "physioemo.datasets.synthetic",
        "Version": f"synthetic seed={seed}",
        "Acknowledgement": "Signal model documented in physioemo.datasets.synthetic.",
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "DREAMER.mat"
    partial = path.with_suffix(".mat.partial")
    savemat(partial, {"DREAMER": content}, format="5")
    partial.replace(path)
    return path


# ----------------------------------------------------------------------------- DEAP
DEAP_RATE, DEAP_BDF_RATE = 128.0, 512.0
DEAP_BASELINE_SECONDS = 3.0
#: BDF channels after the EEG -> row of the preprocessed array they are simulated from (our
#: stand-in: the distribution does not document how EXG1-8 pair into hEOG/vEOG/zEMG/tEMG).
DEAP_BDF_PERIPHERAL = {
    **{f"EXG{i + 1}": 32 + i // 2 for i in range(8)},
    **{"GSR1": 36, "GSR2": 36, "Erg1": 35, "Erg2": 35, "Resp": 37, "Plet": 38, "Temp": 39},
}


def _deap_peripheral(rng, person: Subject, n_times: int, sfreq: float, arousal: float):
    """(8, n_times) stand-ins for hEOG, vEOG, zEMG, tEMG, GSR, respiration, plethysmograph,
    temperature (arbitrary units): skin conductance level, muscle tone and pulse rise with
    arousal."""
    t = np.arange(n_times) / sfreq
    drift = lambda sd: np.cumsum(rng.normal(0, sd, n_times))  # noqa: E731
    eog = np.stack([np.convolve(rng.normal(0, 20, n_times), np.hanning(32), "same")] * 2)
    emg = rng.normal(0, 5 * np.exp(0.3 * arousal), (2, n_times))
    gsr = 2000 + 300 * arousal * person.arousal_effect.mean() + drift(0.5)
    resp = 300 * np.sin(2 * np.pi * 0.25 * t + rng.uniform(0, 2 * np.pi))
    pulse = np.sin(2 * np.pi * (person.heart_rate + 6 * arousal) / 60 * t)
    temperature = 32 + drift(0.001)
    return np.vstack([eog, emg, gsr, resp, 500 * pulse, temperature])


def simulate_deap(subjects=32, seconds=60.0, seed=0, trials=40, effect=0.4):
    """Simulated DEAP content per subject: {"data": (trials, 40, 128 * (3 + seconds)),
    "labels": (trials, 4), "order": presentation order (video ids), "eeg512": per video the
    512 Hz EEG of baseline + trial (32, n)} (rows in video order, EEG in Geneva order, uV)."""
    from scipy.signal import butter, sosfiltfilt

    from .deap import GENEVA_EEG

    rng = np.random.default_rng(seed)
    model = EmotionEEG(GENEVA_EEG, DEAP_RATE, effect=effect)
    band = butter(4, [4.0, 45.0], "bandpass", fs=DEAP_RATE, output="sos")
    scale = (1, 9)
    targets = rng.uniform(2.0, 8.0, (trials, 4))  # video targets: valence, arousal, dom., liking
    n_rest = int(DEAP_BASELINE_SECONDS * DEAP_RATE)
    n_trial = int(round(seconds * DEAP_RATE))
    people = []
    for _ in range(subjects):
        person = model.subject(rng, n_dimensions=4)
        data = np.empty((trials, 40, n_rest + n_trial))
        labels = np.empty((trials, 4))
        for video in range(trials):
            score = model.ratings(rng, person, targets[video], scale) + rng.uniform(-0.5, 0.5, 4)
            labels[video] = np.clip(score, *scale)
            arousal = standardise(labels[video, 1], scale)
            valence = standardise(labels[video, 0], scale)
            nuisance = model.nuisance(rng)
            rest = model.eeg(rng, person, n_rest, nuisance=nuisance * [[1], [0], [0], [0]])
            clip = model.eeg(rng, person, n_trial, arousal, valence, nuisance)
            eeg = np.hstack([rest, clip]) - person.dc_offset[:, None]
            eeg = sosfiltfilt(band, eeg - eeg.mean(axis=0), axis=1)  # common average, 4-45 Hz
            data[video, :32] = eeg
            data[video, 32:] = _deap_peripheral(rng, person, n_rest + n_trial, DEAP_RATE, arousal)
        people.append({"data": data, "labels": labels, "order": rng.permutation(trials) + 1})
    return people


def write_deap(out_dir, subjects=32, seconds=60.0, seed=0, bdf=False, **options) -> Path:
    """Write DEAP's layout under ``out_dir``: ``data_preprocessed_python/sXX.dat`` (protocol-2
    pickles), ``data_preprocessed_matlab/sXX.mat``, ``metadata_csv/participant_ratings.csv``
    and, with `bdf`, ``data_original/sXX.bdf`` (512 Hz sessions in presentation order, status
    code 4 at each video's start, 5 s fixation before it). Returns ``out_dir``."""
    import csv
    import pickle

    from scipy.io import savemat

    out = Path(out_dir)
    folders = {
        name: out / name for name in ("data_preprocessed_python", "data_preprocessed_matlab")
    }
    for folder in [*folders.values(), out / "metadata_csv"] + [out / "data_original"] * bdf:
        folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for number, person in enumerate(simulate_deap(subjects, seconds, seed, **options), start=1):
        content = {"labels": person["labels"], "data": person["data"]}
        with open(folders["data_preprocessed_python"] / f"s{number:02d}.dat", "wb") as f:
            pickle.dump(content, f, protocol=2)
        savemat(folders["data_preprocessed_matlab"] / f"s{number:02d}.mat", content)
        start = 0
        for position, video in enumerate(person["order"], start=1):
            ratings = person["labels"][video - 1]
            familiarity = "" if number in (2, 15, 23) else str(1 + (video * number) % 5)
            rows.append([number, position, video, start, *np.round(ratings, 2), familiarity])
            start += int((seconds + 15) * 1e6)
        if bdf:
            _write_deap_bdf(out / "data_original" / f"s{number:02d}.bdf", person, seed + number)
    with open(out / "metadata_csv" / "participant_ratings.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            "Participant_id Trial Experiment_id Start_time Valence Arousal Dominance Liking "
            "Familiarity".split()
        )
        writer.writerows(rows)
    return out


def _write_deap_bdf(path: Path, person: dict, seed: int) -> None:
    """A 512 Hz BioSemi-like session: per video in presentation order 5 s fixation, the
    video (status code 4 at its start, 3 at the fixation, 5 at the end) and 2 s rest. The EEG
    is the preprocessed signal resampled (a stand-in; real raw data carry more)."""
    import pyedflib
    from scipy.signal import resample_poly

    from ..io.edf import signal_header, to_digital
    from .deap import GENEVA_EEG

    rng = np.random.default_rng(seed)
    up = int(DEAP_BDF_RATE / DEAP_RATE)
    n_fix, n_rest = int(2 * DEAP_BDF_RATE), int(2 * DEAP_BDF_RATE)  # + the 3 s baseline
    pieces, status = [], []
    for video in person["order"]:
        trial = resample_poly(person["data"][video - 1], up, 1, axis=1)
        n = trial.shape[1]
        pieces.append(np.hstack([np.zeros((40, n_fix)), trial, np.zeros((40, n_rest))]))
        pieces[-1] += rng.normal(0, 1, pieces[-1].shape)
        codes = np.zeros(n_fix + n + n_rest, np.int32)
        onset = n_fix + int(DEAP_BASELINE_SECONDS * DEAP_BDF_RATE)
        codes[0:8], codes[onset : onset + 8], codes[n_fix + n : n_fix + n + 8] = 3, 4, 5
        status.append(codes)
    signals = np.hstack(pieces)
    order = sorted(range(32), key=lambda i: GENEVA_EEG[i])  # alphabetical, not Geneva
    rows = [signals[i] for i in order] + [signals[i] for i in DEAP_BDF_PERIPHERAL.values()]
    labels = [GENEVA_EEG[i] for i in order] + list(DEAP_BDF_PERIPHERAL)
    headers = [
        signal_header(
            label, row, DEAP_BDF_RATE, "uV" if label.startswith("EXG") or i < 32 else "", "bdf"
        )
        for i, (label, row) in enumerate(zip(labels, rows, strict=True))
    ]
    codes = [to_digital(row, header) for row, header in zip(rows, headers, strict=True)]
    status_header = signal_header("Status", np.array([-8388608, 8388607]), DEAP_BDF_RATE, "", "bdf")
    with pyedflib.EdfWriter(str(path), len(headers) + 1, file_type=pyedflib.FILETYPE_BDF) as w:
        w.setSignalHeaders([*headers, {**status_header, "dimension": "Boolean"}])
        w.writeSamples([*codes, np.concatenate(status)], digital=True)


# ----------------------------------------------------------------------------- SEED, SEED-IV
#: SEED's label.mat, the same for every subject and session (-1 negative, 0 neutral, 1 positive)
SEED_LABEL = (1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1)
#: variable prefixes of the simulated subjects (SEED uses the subjects' initials)
SEED_PREFIXES = ("djc", "jl", "jj", "lqj", "ly", "mhw", "phl", "sxy", "wk", "ww", "wsf", "wyw")
#: standardised (valence, arousal) each class evokes (ours)
SEED_EMOTIONS = {-1: (-0.8, 0.3), 0: (0.0, -0.4), 1: (0.8, 0.3)}
SEED_IV_EMOTIONS = {0: (0.0, -0.4), 1: (-0.7, -0.3), 2: (-0.6, 0.8), 3: (0.8, 0.5)}


def _seed_session_eeg(rng, model, person, labels, emotions, seconds) -> list[np.ndarray]:
    """One session: per trial (62, 200 * s + 1) float64 EEG, s varying +-25 % around seconds."""
    trials = []
    for label in labels:
        valence, arousal = emotions[label]
        n = max(1, int(round(rng.uniform(0.75, 1.25) * seconds))) * int(model.sfreq) + 1
        trials.append(model.eeg(rng, person, n, arousal, valence))
    return trials


def _seed_features(trials, window, bands) -> dict[str, np.ndarray]:
    """de_movingAve and psd_movingAve (C, n_windows, 5) per trial, numbered from 1.

    The moving average runs over 5 windows (ours); the LDS-smoothed variants are not written.
    """
    from scipy.ndimage import uniform_filter1d

    from ..features import band_power, differential_entropy

    out = {}
    for k, eeg in enumerate(trials, start=1):
        for name, feature in (("de", differential_entropy), ("psd", band_power)):
            values = feature(eeg, SEED_RATE, bands=bands, window=window)  # (W, C, 5)
            smooth = uniform_filter1d(values, size=5, axis=0, mode="nearest")
            out[f"{name}_movingAve{k}"] = np.ascontiguousarray(smooth.transpose(1, 0, 2))
    return out


def _seed_people(rng, subjects):
    """EmotionEEG subjects over SEED's montage, without the Emotiv DC offset (SEED is filtered)."""
    from dataclasses import replace

    model = EmotionEEG(SEED_CHANNELS, SEED_RATE)
    people = [
        replace(model.subject(rng), dc_offset=np.zeros(len(SEED_CHANNELS))) for _ in range(subjects)
    ]
    return model, people


def _session_dates(rng, n_sessions=3) -> list[str]:
    """yyyymmdd dates a few days to weeks apart, in order."""
    from datetime import date, timedelta

    day = date(2013, 7, 1) + timedelta(days=int(rng.integers(0, 300)))
    dates = []
    for _ in range(n_sessions):
        dates.append(day.strftime("%Y%m%d"))
        day += timedelta(days=int(rng.integers(3, 30)))
    return dates


def _savemat(path: Path, variables: dict) -> None:
    from scipy.io import savemat

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as file:
        savemat(file, variables)
    partial.replace(path)


def write_seed(out_dir, subjects=2, seconds=4.0, seed=0) -> Path:
    """Write ``Preprocessed_EEG/`` and ``ExtractedFeatures/`` of SEED into ``out_dir``.

    Per subject three sessions of the 15 clips of `SEED_LABEL` (clip lengths around `seconds`),
    variables ``<prefix>_eeg<k>`` (62, n_times) at 200 Hz; features over 1 s windows.
    Returns ``out_dir``.
    """
    rng = np.random.default_rng(seed)
    model, people = _seed_people(rng, subjects)
    out = Path(out_dir)
    label = {"label": np.array([SEED_LABEL], dtype=float)}
    for folder in ("Preprocessed_EEG", "ExtractedFeatures"):
        _savemat(out / folder / "label.mat", label)
    for number, person in enumerate(people, start=1):
        prefix = SEED_PREFIXES[(number - 1) % len(SEED_PREFIXES)]
        for date in _session_dates(rng):
            trials = _seed_session_eeg(rng, model, person, SEED_LABEL, SEED_EMOTIONS, seconds)
            name = f"{number}_{date}.mat"
            eeg = {f"{prefix}_eeg{k}": trial for k, trial in enumerate(trials, start=1)}
            _savemat(out / "Preprocessed_EEG" / name, eeg)
            features = _seed_features(trials, 1.0, SEED_FEATURE_BANDS)
            _savemat(out / "ExtractedFeatures" / name, features)
    return out


def write_seed_iv(out_dir, subjects=2, seconds=6.0, seed=0) -> Path:
    """Write ``eeg_raw_data/{1,2,3}/`` and ``eeg_feature_smooth/{1,2,3}/`` of SEED-IV.

    24 clips per session with the fixed labels of `SEED_IV_LABELS`, raw EEG at 200 Hz, features
    over 4 s windows (clips shorter than 4 s get none, so keep `seconds` >= 6). Returns out_dir.
    """
    rng = np.random.default_rng(seed)
    model, people = _seed_people(rng, subjects)
    out = Path(out_dir)
    for number, person in enumerate(people, start=1):
        prefix = SEED_PREFIXES[-number % len(SEED_PREFIXES)]
        for session, date in enumerate(_session_dates(rng), start=1):
            labels = SEED_IV_LABELS[session]
            trials = _seed_session_eeg(rng, model, person, labels, SEED_IV_EMOTIONS, seconds)
            name = f"{session}/{number}_{date}.mat"
            eeg = {f"{prefix}_eeg{k}": trial for k, trial in enumerate(trials, start=1)}
            _savemat(out / "eeg_raw_data" / name, eeg)
            features = _seed_features(trials, 4.0, SEED_FEATURE_BANDS)
            _savemat(out / "eeg_feature_smooth" / name, features)
    return out


# ----------------------------------------------------------------------------- WESAD
# Physiology model (ours; sizes and time constants from the psychophysiology literature, rounded):
# every condition sets a target for each slow state and the body follows it as a first-order
# system: tonic skin conductance (tau 30 s), heart rate (tau 15 s), breathing rate (tau 10 s),
# wrist skin temperature (tau 120 s, vasoconstriction under stress). Skin conductance responses
# (rise 0.75 s, decay 3 s) come as a Poisson train whose rate depends on the condition; the BVP
# pulse shrinks as skin temperature falls. Subjects differ in resting levels and in how strongly
# they respond (log-normal gain per subject).

#: label code -> targets: tonic EDA (uS above rest), heart rate (bpm above rest), breaths/min,
#: wrist temperature (degC above rest), SCRs per minute, movement (0-1)
WESAD_RESPONSES = {
    0: dict(eda=0.3, hr=2.0, breaths=15.0, temp=0.0, scr=3.0, move=0.3),  # transitions
    1: dict(eda=0.0, hr=0.0, breaths=14.0, temp=0.0, scr=2.0, move=0.1),  # baseline
    2: dict(eda=2.5, hr=18.0, breaths=20.0, temp=-0.8, scr=8.0, move=0.6),  # stress (TSST)
    3: dict(eda=0.7, hr=5.0, breaths=16.0, temp=-0.1, scr=4.0, move=0.3),  # amusement
    4: dict(eda=-0.4, hr=-4.0, breaths=7.0, temp=0.3, scr=1.0, move=0.05),  # meditation
    6: dict(eda=0.5, hr=4.0, breaths=16.0, temp=0.0, scr=3.0, move=0.2),  # reading (ignored)
}
WESAD_TIME_CONSTANTS = {"eda": 30.0, "hr": 15.0, "breaths": 10.0, "temp": 120.0}
#: (ORDER name, label code, length in units of `seconds`); TSST and Fun swap every other subject
WESAD_PROTOCOL = (
    ("Base", 1, 2.0),
    ("TSST", 2, 1.0),
    ("sRead", 6, 0.2),
    ("Medi 1", 4, 0.7),
    ("Fun", 3, 0.6),
    ("fRead", 6, 0.2),
    ("Medi 2", 4, 0.7),
)
WESAD_GAP = 0.25  # transition (label 0) between the periods, in units of `seconds`
#: condition code -> (SAM valence, SAM arousal) means, 1-9
WESAD_SAM = {1: (6.0, 3.0), 2: (4.0, 7.0), 3: (7.0, 5.0), 4: (6.5, 2.0)}
GRID_RATE = 32.0  # Hz of the slow states, interpolated to every stream's rate


def _first_order(target: np.ndarray, tau: float, rate: float) -> np.ndarray:
    """Response of a first-order system with time constant tau (s) to `target` sampled at rate."""
    from scipy.signal import lfilter

    a = np.exp(-1.0 / (tau * rate))
    return lfilter([1 - a], [1, -a], target, zi=[a * target[0]])[0]


def _place(template: np.ndarray, times: np.ndarray, heights, sfreq: float, n: int) -> np.ndarray:
    """Sum of `template` copies starting at `times` (s), scaled by `heights`, on n samples."""
    out = np.zeros(n + len(template))
    index = np.round(times * sfreq).astype(int)
    keep = (index >= 0) & (index < n)
    np.add.at(
        out,
        index[keep, None] + np.arange(len(template)),
        np.asarray(heights)[keep, None] * template,
    )
    return out[:n]


def _gauss(t, centre, width):
    return np.exp(-0.5 * ((t - centre) / width) ** 2)


def _ecg_beat(sfreq: float) -> np.ndarray:
    """One P-QRS-T complex in mV, starting 0.3 s before the R peak."""
    t = np.arange(int(0.8 * sfreq)) / sfreq - 0.3
    return (
        0.12 * _gauss(t, -0.2, 0.025)
        - 0.1 * _gauss(t, -0.03, 0.008)
        + 1.0 * _gauss(t, 0.0, 0.01)
        - 0.2 * _gauss(t, 0.03, 0.008)
        + 0.3 * _gauss(t, 0.25, 0.04)
    )


def _pulse(sfreq: float) -> np.ndarray:
    """One BVP pulse, starting at the R peak: systolic peak after 0.25 s, dicrotic wave at 0.5 s."""
    t = np.arange(int(0.9 * sfreq)) / sfreq
    wave = _gauss(t, 0.25, 0.07) + 0.35 * _gauss(t, 0.5, 0.09)
    return wave - wave.mean()


def simulate_wesad_subject(rng, seconds=30.0, swap=False) -> dict:
    """One subject's session: the pkl content (chest at 700 Hz, wrist at its rates) and periods.

    Returns {"chest": {key: (n, k)}, "wrist": {key: (m, k)}, "label": (n,) int32,
    "periods": [(ORDER name, code, start_s, stop_s)]}.
    """
    protocol = list(WESAD_PROTOCOL)
    if swap:  # Fun (and its reading) before TSST
        protocol[1:3], protocol[4:6] = protocol[4:6], protocol[1:3]
    periods, t = [], WESAD_GAP * seconds
    for name, code, length in protocol:
        periods.append((name, code, t, t + length * seconds))
        t += (length + WESAD_GAP) * seconds
    total = t
    grid = np.arange(int(total * GRID_RATE)) / GRID_RATE
    codes = np.zeros(grid.size, dtype=int)
    for _, code, start, stop in periods:
        codes[(grid >= start) & (grid < stop)] = code
    target = {key: np.array([WESAD_RESPONSES[c][key] for c in codes]) for key in WESAD_RESPONSES[0]}
    gain = np.exp(rng.normal(0, 0.3))
    state = {
        key: _first_order(
            target[key] * (gain if key in ("eda", "hr", "temp") else 1.0), tau, GRID_RATE
        )
        for key, tau in WESAD_TIME_CONSTANTS.items()
    }
    rest_eda, rest_hr = rng.uniform(2.0, 8.0), rng.normal(72, 7)
    # skin conductance responses: Poisson events, bi-exponential shape
    events = rng.random(grid.size) < target["scr"] / 60 / GRID_RATE
    kernel_t = np.arange(int(20 * GRID_RATE)) / GRID_RATE
    kernel = np.exp(-kernel_t / 3.0) - np.exp(-kernel_t / 0.75)
    scr = np.convolve(events * rng.uniform(0.1, 0.8, grid.size), kernel / kernel.max())[: grid.size]
    eda = rest_eda + state["eda"] + scr
    # beats from the integrated heart rate, with some variability
    phase = np.cumsum((rest_hr + state["hr"]) / 60 / GRID_RATE)
    beats = np.interp(np.arange(1, int(phase[-1])), phase, grid) + rng.normal(
        0, 0.015, int(phase[-1]) - 1
    )
    breathing = 2 * np.pi * np.cumsum(state["breaths"] / 60 / GRID_RATE)

    n = int(total * 700)
    t700 = np.arange(n) / 700.0
    at = lambda values, times: np.interp(times, grid, values)  # noqa: E731
    move700 = at(target["move"], t700)
    chest = {
        "ACC": np.array([0.85, -0.05, -0.5])
        + rng.normal(0, 1, (n, 3)) * (0.005 + 0.03 * move700[:, None]),
        "ECG": (
            _place(_ecg_beat(700.0), beats - 0.3, np.ones(beats.size), 700.0, n)
            + rng.normal(0, 0.02, n)
        )[:, None],
        "EMG": (rng.normal(0, 1, n) * (0.005 + 0.02 * move700))[:, None],
        "EDA": (at(eda, t700) + rng.normal(0, 0.002, n))[:, None],
        "Temp": (34.0 + 0.2 * at(state["temp"], t700) + rng.normal(0, 0.01, n)).astype(np.float32)[
            :, None
        ],
        "Resp": (3.0 * np.sin(at(breathing, t700)) + rng.normal(0, 0.1, n))[:, None],
    }
    wrist = {}
    for key, rate in (("ACC", 32.0), ("BVP", 64.0), ("EDA", 4.0), ("TEMP", 4.0)):
        times = np.arange(int(total * rate)) / rate
        if key == "ACC":
            move = at(target["move"], times)[:, None]
            values = 64 * np.array([-0.3, 0.1, 0.95]) + rng.normal(0, 1, (times.size, 3)) * (
                0.5 + 6 * move
            )
        elif key == "BVP":
            strength = 60 * np.exp(0.4 * np.interp(beats, grid, state["temp"]))
            values = _place(_pulse(rate), beats, strength, rate, times.size) + rng.normal(
                0, 2, times.size
            )
        elif key == "EDA":
            values = 0.3 * at(eda, times) + rng.normal(0, 0.005, times.size)
        else:
            values = 32.0 + at(state["temp"], times) + rng.normal(0, 0.02, times.size)
        wrist[key] = values if values.ndim == 2 else values[:, None]
    label = np.zeros(n, dtype=np.int32)
    for _, code, start, stop in periods:
        label[(t700 >= start) & (t700 < stop)] = code
    return {"chest": chest, "wrist": wrist, "label": label, "periods": periods}


def _minutes_seconds(seconds: float) -> str:
    """Time as the questionnaire writes it: minutes.seconds (7 min 8 s -> "7.08")."""
    whole = int(round(seconds))
    return f"{whole // 60}.{whole % 60:02d}"


def _quest_lines(rng, subject: str, periods) -> list[str]:
    """SX_quest.csv in the distributed layout: ORDER/START/END, then PANAS, STAI, DIM, SSSQ.

    As in the real files, ORDER lists the five protocol conditions first, the readings after.
    """
    columns = sorted(periods, key=lambda period: period[1] not in WESAD_SAM)
    rows = [
        f"# Subj;{subject};;;",
        "# ORDER;" + ";".join(name for name, *_ in columns) + ";;",
        "# START;" + ";".join(_minutes_seconds(start) for *_, start, _ in columns) + ";;",
        "# END;" + ";".join(_minutes_seconds(stop) for *_, stop in columns) + ";;",
        ";;;;",
    ]
    protocol = [code for _, code, *_ in periods if code in WESAD_SAM]
    blocks = {"PANAS": [], "STAI": [], "DIM": []}
    for code in protocol:
        stressed = {2: 1.0, 3: 0.2, 1: 0.0, 4: -0.3}[code]
        n_items = 26 if code == 2 else 24
        negative = rng.random(n_items) < 0.5  # which items read as negative affect (ours)
        panas = np.clip(
            np.rint(2 + 1.5 * stressed * np.where(negative, 1, -0.5) + rng.normal(0, 0.7, n_items)),
            1,
            5,
        )
        stai = np.clip(
            np.rint(2 + 1.2 * stressed * np.array([-1, 1, 1, -1, 1, -1]) + rng.normal(0, 0.5, 6)),
            1,
            4,
        )
        sam = np.clip(np.rint(np.array(WESAD_SAM[code]) + rng.normal(0, 0.8, 2)), 1, 9)
        cells = [f"{v:g}" for v in panas]
        if rng.random() < 0.3:
            cells[int(rng.integers(n_items))] = "Nan"  # a question left out, as in the real files
        blocks["PANAS"].append("# PANAS;" + ";".join(cells) + ";;")
        blocks["STAI"].append("# STAI;" + ";".join(f"{v:g}" for v in stai) + ";;")
        blocks["DIM"].append("# DIM;" + ";".join(f"{v:g}" for v in sam) + ";;")
    for tag in ("PANAS", "STAI", "DIM"):
        rows += blocks[tag] + [";;;;"]
    sssq = np.clip(np.rint(3.5 + rng.normal(0, 0.8, 6)), 1, 5)
    rows.append("# SSSQ;" + ";".join(f"{v:g}" for v in sssq) + ";;")
    return rows


def write_wesad(out_dir, subjects=3, seconds=30.0, seed=0) -> Path:
    """Write WESAD subject folders ``S2/`` ... into ``out_dir`` (``SX.pkl`` as a protocol-2
    pickle of plain dicts, ``SX_quest.csv``, ``SX_readme.txt``); returns out_dir.

    seconds: the unit of the protocol's lengths (baseline 2x, stress 1x, amusement 0.6x,
    meditations 0.7x, with transitions between); the real study used 20 min of baseline and
    about 10 min of stress, i.e. seconds ~ 600.
    """
    import pickle

    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    numbers = [k for k in range(2, 2 + subjects + 1) if k != 12][:subjects]
    for i, number in enumerate(numbers):
        subject = f"S{number}"
        folder = out / subject
        folder.mkdir(parents=True, exist_ok=True)
        session = simulate_wesad_subject(rng, seconds, swap=bool(i % 2))
        content = {
            "signal": {"chest": session["chest"], "wrist": session["wrist"]},
            "label": session["label"],
            "subject": subject,
        }
        partial = folder / f"{subject}.pkl.partial"
        with partial.open("wb") as file:
            pickle.dump(content, file, protocol=2)
        partial.replace(folder / f"{subject}.pkl")
        lines = _quest_lines(rng, subject, session["periods"])
        (folder / f"{subject}_quest.csv").write_text("\n".join(lines) + "\n")
        readme = [
            "### Personal information ###",
            f"Age: {int(rng.integers(21, 35))}",
            f"Height (cm): {int(rng.normal(175, 8))}",
            f"Weight (kg): {int(rng.normal(72, 10))}",
            f"Gender: {rng.choice(['male', 'female'])}",
            f"Dominant hand: {rng.choice(['right', 'left'], p=[0.9, 0.1])}",
            "",
            "### Study pre-requisites ###",
            "Did you drink coffee today? NO",
            "Did you do any sports today? NO",
            "",
            "### Additional notes ###",
            "Synthetic subject written by physioemo; not a WESAD recording.",
        ]
        (folder / f"{subject}_readme.txt").write_text("\n".join(readme) + "\n")
    return out


#: dataset name -> writer(out_dir, subjects=..., seconds=..., seed=...) -> path written
WRITERS = {
    "dreamer": write_dreamer,
    "deap": write_deap,
    "seed": write_seed,
    "seed-iv": write_seed_iv,
    "wesad": write_wesad,
}
