"""Synthetic DREAMER.mat in the distributed layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .eeg import EmotionEEG, ecg, standardise

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


# ----------------------------------------------------------------------------- DREAMER
def simulate_dreamer(
    subjects=23, seconds=30.0, seed=0, trials=18, baseline_seconds=None, effect=0.4, **signal
):
    """Simulated DREAMER content: per subject a dict of EEG/ECG arrays and scores.

    Clip lengths vary around `seconds` (+-25 %); the baseline clip lasts `baseline_seconds`
    (default: a third of `seconds`, at least 4 s; the real one is 61 s). `signal`: further
    `EmotionEEG` settings, e.g. ``**eeg.PLANTED`` for strongly planted non-DE effects.
    """
    rng = np.random.default_rng(seed)
    model = EmotionEEG(DREAMER_ELECTRODES, DREAMER_RATE, effect=effect, **signal)
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
