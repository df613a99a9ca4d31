"""Synthetic DEAP files: preprocessed pickles and MAT files, ratings CSV, optional BDF."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .eeg import EmotionEEG, Subject, standardise

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

    from ..deap import GENEVA_EEG

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

    from ...io.edf import signal_header, to_digital
    from ..deap import GENEVA_EEG

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
