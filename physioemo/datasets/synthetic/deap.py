"""Synthetic DEAP files: preprocessed pickles and MAT files, ratings CSV, optional BDF."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .eeg import REALISTIC, EmotionEEG
from .peripheral import deap_peripheral

# ----------------------------------------------------------------------------- DEAP
DEAP_RATE, DEAP_BDF_RATE = 128.0, 512.0
DEAP_BASELINE_SECONDS = 3.0
#: DEAP's calibration of the signal model (docs/synthetic.md): music videos move the EEG far
#: less than films (k 0.06), subjects agree on the direction less (mean 0.33, sd 0.35; valence
#: x2.4, at fewer sites), and the continuous 1-9 slider ratings are noisy (report noise 0.4 of
#: the half range).
DEAP_SIGNAL = {
    **REALISTIC,
    "effect": 0.06,
    "mean_effect": 0.33,
    "subject_spread": 0.35,
    "pattern_spread": 0.8,
    "valence_scale": 2.4,
    "reaction": 0.2,
    "report_noise": 0.4,
}
#: BDF channels after the EEG -> row of the preprocessed array they are simulated from (our
#: stand-in: the distribution does not document how EXG1-8 pair into hEOG/vEOG/zEMG/tEMG).
DEAP_BDF_PERIPHERAL = {
    **{f"EXG{i + 1}": 32 + i // 2 for i in range(8)},
    **{"GSR1": 36, "GSR2": 36, "Erg1": 35, "Erg2": 35, "Resp": 37, "Plet": 38, "Temp": 39},
}


def _video_targets(rng, trials: int) -> np.ndarray:
    """(trials, 4) standardised targets (valence, arousal, dominance, liking) of the videos:
    DEAP chose its videos a quarter per quadrant of the valence-arousal plane, so the videos
    take the quadrants in turn (ours: high/high, low/high, low/low, high/low), each at a
    distance of 0.2-0.8 from the middle; dominance is drawn freely, liking follows valence."""
    signs = np.array([(1, 1), (-1, 1), (-1, -1), (1, -1)])[np.arange(trials) % 4]
    valence_arousal = signs * rng.uniform(0.2, 0.8, (trials, 2))
    dominance = rng.uniform(-0.6, 0.6, trials)
    liking = np.clip(0.7 * valence_arousal[:, 0] + rng.normal(0, 0.3, trials), -1, 1)
    return np.column_stack([valence_arousal, dominance, liking])


def simulate_deap(subjects=32, seconds=60.0, seed=0, trials=40, **signal):
    """Simulated DEAP content per subject: {"data": (trials, 40, 128 * (3 + seconds)),
    "labels": (trials, 4), "order": presentation order (video ids)} (rows in video order, EEG in
    Geneva order, uV; peripheral rows as `peripheral.deap_peripheral`). `signal`: `Settings`
    of `EmotionEEG` over `DEAP_SIGNAL`."""
    from scipy.signal import butter, sosfiltfilt

    from ..deap import GENEVA_EEG

    rng, body = np.random.default_rng(seed), np.random.default_rng([seed, 1])  # EEG, physiology
    model = EmotionEEG(GENEVA_EEG, DEAP_RATE, **{**DEAP_SIGNAL, **signal})
    band = butter(4, [4.0, 45.0], "bandpass", fs=DEAP_RATE, output="sos")
    scale = (1, 9)
    targets = _video_targets(rng, trials)
    n_rest = int(DEAP_BASELINE_SECONDS * DEAP_RATE)
    n_trial = int(round(seconds * DEAP_RATE))
    people = []
    for _ in range(subjects):
        person = model.subject(rng, n_dimensions=4)
        data = np.empty((trials, 40, n_rest + n_trial))
        labels = np.empty((trials, 4))
        for video, nuisance in enumerate(model.session_nuisance(rng, trials)):
            felt = model.felt(rng, targets[video])
            labels[video] = model.ratings(rng, person, felt, scale, continuous=True)
            valence, arousal = felt[0], felt[1]
            rest = model.eeg(rng, person, n_rest, nuisance=nuisance * [[1], [0], [0], [0]])
            clip = model.eeg(rng, person, n_trial, arousal, valence, nuisance)
            eeg = np.hstack([rest, clip]) - person.dc_offset[:, None]
            eeg = sosfiltfilt(band, eeg - eeg.mean(axis=0), axis=1)  # common average, 4-45 Hz
            data[video, :32] = eeg
            data[video, 32:] = deap_peripheral(
                body, person, n_rest + n_trial, DEAP_RATE, (valence, arousal), onset=n_rest
            )
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
    units = {"GSR1": "Ohm", "GSR2": "Ohm", "Temp": "degC"}
    headers = [
        signal_header(
            label,
            row,
            DEAP_BDF_RATE,
            "uV" if label.startswith("EXG") or i < 32 else units.get(label, ""),
            "bdf",
        )
        for i, (label, row) in enumerate(zip(labels, rows, strict=True))
    ]
    codes = [to_digital(row, header) for row, header in zip(rows, headers, strict=True)]
    status_header = signal_header("Status", np.array([-8388608, 8388607]), DEAP_BDF_RATE, "", "bdf")
    with pyedflib.EdfWriter(str(path), len(headers) + 1, file_type=pyedflib.FILETYPE_BDF) as w:
        w.setSignalHeaders([*headers, {**status_header, "dimension": "Boolean"}])
        w.writeSamples([*codes, np.concatenate(status)], digital=True)
