"""Peripheral physiology for the clip datasets (DREAMER's ECG; DEAP's EOG, EMG, GSR, respiration,
plethysmograph and temperature) and the building blocks WESAD's model shares with them.

Physiology model (ours; directions from the psychophysiology of film and music clips, sizes
rounded and modest on purpose: clip-to-clip differences of a few beats per minute, not the
stress test of WESAD). The body follows the felt state of `EmotionEEG.felt`, scaled by the
subject's autonomic gain (`Subject.autonomic`, mean 1, sd 0.5: some subjects barely respond,
a few the other way). `CLIP_EFFECTS` holds the size of each effect per unit felt state (z in
[-1, 1]); each slow state moves to its trial value with a time constant of some seconds after
the clip starts, so a resting baseline before the clip stays at the subject's resting level.

* heart: beats from the integrated heart rate (rest `Subject.heart_rate`, sd 3 bpm from trial to
  trial), with respiratory sinus arrhythmia (4 % of the interval at the breathing rate) and
  beat jitter (sd 20 ms), both shrinking with arousal (`hrv`): HR up, HRV down with arousal.
* skin conductance (uS): a resting level of 2-10 uS, a tonic rise and more skin conductance
  responses (Poisson, 3 per minute at rest, rise 0.75 s, decay 3 s) with arousal.
* breathing: 16 breaths per minute at rest (sd 1.5 from trial to trial, at least 13, so a
  10-s window holds two breaths), faster with arousal.
* pulse (plethysmograph): one pulse per beat, smaller with arousal (vasoconstriction).
* skin temperature: a resting level near 32 degC that drifts, falling a little during an
  arousing clip.
* EMG: zygomatic activity up with valence (smiling), trapezius activity up with arousal.
"""

from __future__ import annotations

import numpy as np

from .eeg import Subject

#: per unit felt state (z in [-1, 1]): heart rate (bpm), log-change of heart rate variability
#: (down with arousal), tonic skin conductance (uS), log-change of the SCR rate, breaths per
#: minute, log-change of the pulse amplitude (down), skin temperature over the clip (degC, down),
#: log-change of zygomatic (valence) and trapezius (arousal) EMG amplitude. Ours, modest, set
#: so that logistic regression on DEAP's and DREAMER's peripheral features (10-s windows) finds
#: arousal somewhat above chance and the fused features gain a little over EEG alone
#: (docs/synthetic.md).
CLIP_EFFECTS = {
    "heart_rate": 4.5,
    "hrv": 0.3,
    "scl": 0.04,
    "scr_rate": 0.35,
    "breathing": 1.2,
    "pulse": 0.15,
    "temperature": 0.04,
    "smile": 0.4,
    "tension": 0.05,
}
#: what moves the body from trial to trial regardless of the clip (ours): heart rate (sd, bpm),
#: breathing (sd, breaths/min), EMG amplitude (sd of its log, drawn apart for the rest before a
#: clip and for the clip: posture, swallowing), tonic skin conductance (random walk, uS per
#: sqrt(s)) and skin temperature (random walk, degC per sqrt(s))
CLIP_NOISE = {"heart_rate": 3.0, "breathing": 1.5, "emg": 0.4, "scl": 0.02, "temperature": 0.01}
SETTLE = 5.0  # s: time constant of the slow states after the clip starts (ours)


# ----------------------------------------------------------------------------- building blocks
def first_order(target: np.ndarray, tau: float, rate: float) -> np.ndarray:
    """Response of a first-order system with time constant tau (s) to `target` sampled at rate."""
    from scipy.signal import lfilter

    a = np.exp(-1.0 / (tau * rate))
    return lfilter([1 - a], [1, -a], target, zi=[a * target[0]])[0]


def place(template: np.ndarray, times: np.ndarray, heights, sfreq: float, n: int) -> np.ndarray:
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


def gauss(t, centre, width):
    return np.exp(-0.5 * ((t - centre) / width) ** 2)


def ecg_beat(sfreq: float) -> np.ndarray:
    """One P-QRS-T complex in mV, starting 0.3 s before the R peak."""
    t = np.arange(int(0.8 * sfreq)) / sfreq - 0.3
    return (
        0.12 * gauss(t, -0.2, 0.025)
        - 0.1 * gauss(t, -0.03, 0.008)
        + 1.0 * gauss(t, 0.0, 0.01)
        - 0.2 * gauss(t, 0.03, 0.008)
        + 0.3 * gauss(t, 0.25, 0.04)
    )


def pulse(sfreq: float) -> np.ndarray:
    """One BVP pulse, starting at the R peak: systolic peak after 0.25 s, dicrotic wave at 0.5 s."""
    t = np.arange(int(0.9 * sfreq)) / sfreq
    wave = gauss(t, 0.25, 0.07) + 0.35 * gauss(t, 0.5, 0.09)
    return wave - wave.mean()


def scr_shape(rate: float) -> np.ndarray:
    """One skin conductance response (peak 1): rise 0.75 s, decay 3 s, 20 s long."""
    t = np.arange(int(20 * rate)) / rate
    kernel = np.exp(-t / 3.0) - np.exp(-t / 0.75)
    return kernel / kernel.max()


# ----------------------------------------------------------------------------- clip datasets
def _state(n: int, sfreq: float, onset: int, rest: float, trial: float) -> np.ndarray:
    """(n,) a slow state: `rest` before sample `onset`, then moving to `trial` (tau SETTLE)."""
    target = np.where(np.arange(n) < onset, rest, trial)
    return first_order(target, SETTLE, sfreq)


def _walk(rng, sd: float, n: int, sfreq: float) -> np.ndarray:
    """(n,) a random walk of `sd` units per sqrt(s)."""
    return np.cumsum(rng.normal(0, sd / np.sqrt(sfreq), n))


def beat_times(rng, subject: Subject, n: int, sfreq: float, arousal: float, onset=0):
    """Heart beat times (s) over n samples, and the breathing phase (rad, (n,)): the felt
    arousal acts from sample `onset` on (module docstring)."""
    g, e = subject.autonomic, CLIP_EFFECTS
    rate = _state(n, sfreq, onset, 0.0, g * e["heart_rate"] * arousal) + subject.heart_rate
    rate += rng.normal(0, CLIP_NOISE["heart_rate"])
    breaths = _state(n, sfreq, onset, 0.0, g * e["breathing"] * arousal)
    breaths += max(rng.normal(16, CLIP_NOISE["breathing"]), 13.0)
    breathing = 2 * np.pi * np.cumsum(breaths / 60 / sfreq) + rng.uniform(0, 2 * np.pi)
    variability = np.exp(-_state(n, sfreq, onset, 0.0, g * e["hrv"] * arousal))
    rate = rate * (1 - 0.04 * variability * np.sin(breathing))  # sinus arrhythmia
    phase = np.cumsum(rate / 60 / sfreq)
    count = int(phase[-1])
    times = np.interp(np.arange(1, count + 1), phase, np.arange(n) / sfreq)
    jitter = 0.02 * np.interp(times, np.arange(n) / sfreq, variability)
    return times + rng.normal(0, 1, count) * jitter, breathing


def ecg(rng, subject: Subject, n_times: int, sfreq: float, arousal: float) -> np.ndarray:
    """(2, n_times) ECG in uV (DREAMER's Shimmer leads): P-QRS-T beats at `beat_times`."""
    times, _ = beat_times(rng, subject, n_times, sfreq, arousal)
    lead = 1000 * place(ecg_beat(sfreq), times - 0.3, np.ones(times.size), sfreq, n_times)
    lead += rng.normal(0, 20, n_times)
    return np.stack([lead, 0.7 * lead + rng.normal(0, 20, n_times)])


def skin_conductance(rng, subject: Subject, n: int, sfreq: float, arousal: float, onset: int):
    """(n,) skin conductance in uS: resting level, tonic rise, responses and a slow drift."""
    g, e = subject.autonomic, CLIP_EFFECTS
    level = rng.uniform(2.0, 10.0) + _state(n, sfreq, onset, 0.0, g * e["scl"] * arousal)
    rate = np.where(np.arange(n) < onset, 3.0, 3.0 * np.exp(g * e["scr_rate"] * arousal))
    onsets = np.flatnonzero(rng.random(n) < rate / 60 / sfreq) / sfreq
    responses = place(scr_shape(sfreq), onsets, rng.uniform(0.05, 0.5, onsets.size), sfreq, n)
    return level + responses + _walk(rng, CLIP_NOISE["scl"], n, sfreq)


def deap_peripheral(rng, subject: Subject, n: int, sfreq: float, felt, onset: int) -> np.ndarray:
    """(8, n) DEAP's peripheral rows: hEOG, vEOG (uV), zEMG, tEMG (uV), GSR (skin resistance,
    Ohm), respiration belt, plethysmograph (a.u.) and skin temperature (degC); `felt` =
    (valence, arousal) standardised, acting from sample `onset` (the clip's start) on."""
    valence, arousal = felt
    g, e = subject.autonomic, CLIP_EFFECTS
    clip = np.arange(n) >= onset
    times, breathing = beat_times(rng, subject, n, sfreq, arousal, onset)
    eog = np.stack([np.convolve(rng.normal(0, 20, n), np.hanning(32), "same") for _ in range(2)])
    effect = np.array([[g * e["smile"] * valence], [g * e["tension"] * arousal]])
    rest, during = rng.normal(0, CLIP_NOISE["emg"], (2, 2, 1))  # activity unrelated to the clip
    emg = rng.normal(0, 5, (2, n)) * np.exp(np.where(clip, during + effect, rest))
    conductance = skin_conductance(rng, subject, n, sfreq, arousal, onset)
    resp = 300 * np.sin(breathing) + rng.normal(0, 10, n)
    strength = np.exp(-_state(n, sfreq, onset, 0.0, g * e["pulse"] * arousal))
    pleth = 500 * place(
        pulse(sfreq), times, np.interp(times * sfreq, np.arange(n), strength), sfreq, n
    )
    cooling = np.cumsum(clip) / max(1, clip.sum()) * g * e["temperature"] * arousal
    temperature = rng.normal(32, 1) - cooling + _walk(rng, CLIP_NOISE["temperature"], n, sfreq)
    return np.vstack([eog, emg, 1e6 / conductance, resp, pleth, temperature])
