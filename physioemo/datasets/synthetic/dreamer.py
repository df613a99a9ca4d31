"""Synthetic DREAMER.mat in the distributed layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .eeg import REALISTIC, EmotionEEG
from .peripheral import ecg

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


#: DREAMER's calibration of the signal model (docs/synthetic.md): with it, logistic regression on
#: DE lands inside the field's honest ranges for DREAMER. Film clips and 5-point self-reports:
#: moderate effects (k 0.65) that subjects share only in part (mean 0.28, sd 0.3 between them,
#: personal patterns of log-sd 1), a personal reaction to each clip (sd 0.2).
DREAMER_SIGNAL = {
    **REALISTIC,
    "effect": 0.65,
    "mean_effect": 0.28,
    "subject_spread": 0.3,
    "pattern_spread": 1.0,
    "idiosyncrasy": 0.3,
    "valence_scale": 1.4,
    "reaction": 0.2,
    "report_noise": 0.3,
}


#: standardised (valence, arousal, dominance) an emotion's clip aims at (ours: placements on
#: Russell's circumplex, rounded, with arousal lowered by 0.3 so that, rated sitting through a
#: film, about a third of the clips fall below the middle of the arousal scale)
EMOTION_TARGETS = {
    "calmness": (0.4, -0.9, 0.2),
    "surprise": (0.2, 0.2, 0.0),
    "amusement": (0.7, 0.0, 0.4),
    "fear": (-0.6, 0.4, -0.6),
    "excitement": (0.6, 0.4, 0.4),
    "disgust": (-0.6, 0.0, 0.0),
    "happiness": (0.8, 0.0, 0.5),
    "anger": (-0.7, 0.3, 0.3),
    "sadness": (-0.6, -0.7, -0.4),
}
#: the emotion each of DREAMER's 18 clips targets (formats.md, from a third-party list)
DREAMER_CLIPS = (
    "calmness surprise amusement fear excitement disgust happiness anger sadness "
    "disgust calmness amusement happiness anger fear excitement sadness surprise"
).split()


# ----------------------------------------------------------------------------- DREAMER
def simulate_dreamer(subjects=23, seconds=30.0, seed=0, trials=18, baseline_seconds=None, **signal):
    """Simulated DREAMER content: per subject a dict of EEG/ECG arrays and scores.

    Clip k aims at the state of the emotion DREAMER's clip k targets (`DREAMER_CLIPS`, cycled
    beyond 18 trials). Clip lengths vary around `seconds` (+-25 %); the baseline clip lasts
    `baseline_seconds` (default: a third of `seconds`, at least 4 s; the real one is 61 s).
    `signal`: `Settings` of `EmotionEEG` over `DREAMER_SIGNAL`, e.g. ``**eeg.PLANTED`` for
    strongly planted non-DE effects. The baselines share each trial's background gain, not its
    rhythms' gains.
    """
    rng, body = np.random.default_rng(seed), np.random.default_rng([seed, 1])  # EEG, ECG
    model = EmotionEEG(DREAMER_ELECTRODES, DREAMER_RATE, **{**DREAMER_SIGNAL, **signal})
    scale = (1, 5)
    targets = [EMOTION_TARGETS[DREAMER_CLIPS[clip % len(DREAMER_CLIPS)]] for clip in range(trials)]
    baseline_seconds = baseline_seconds or max(4.0, seconds / 3)
    n_rest = int(round(baseline_seconds * DREAMER_RATE))
    people = []
    for _ in range(subjects):
        person = model.subject(rng)
        trial = {key: [] for key in ("eeg", "eeg_baseline", "ecg", "ecg_baseline", "scores")}
        for clip, nuisance in enumerate(model.session_nuisance(rng, trials)):
            felt = model.felt(rng, targets[clip])
            valence, arousal = felt[0], felt[1]
            n = int(round(rng.uniform(0.75, 1.25) * seconds * DREAMER_RATE))
            trial["eeg"].append(model.eeg(rng, person, n, arousal, valence, nuisance))
            trial["eeg_baseline"].append(
                model.eeg(rng, person, n_rest, nuisance=nuisance * [[1], [0], [0], [0]])
            )
            trial["ecg"].append(ecg(body, person, 2 * n, DREAMER_ECG_RATE, arousal))
            trial["ecg_baseline"].append(ecg(body, person, 2 * n_rest, DREAMER_ECG_RATE, 0.0))
            trial["scores"].append(model.ratings(rng, person, felt, scale))
        people.append(
            {
                **trial,
                "scores": np.array(trial["scores"]),
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
