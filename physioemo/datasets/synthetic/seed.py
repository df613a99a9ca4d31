"""Synthetic SEED and SEED-IV files: preprocessed EEG, labels and feature folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..seed import FEATURE_BANDS as SEED_FEATURE_BANDS
from ..seed import SEED_CHANNELS, SEED_FEATURES, SEED_IV_FEATURES, SEED_IV_LABELS, SEED_RATE
from .eeg import REALISTIC, EmotionEEG

# ----------------------------------------------------------------------------- SEED, SEED-IV
#: SEED's label.mat, the same for every subject and session (-1 negative, 0 neutral, 1 positive)
SEED_LABEL = (1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1)
#: variable prefixes of the simulated subjects (SEED uses the subjects' initials)
SEED_PREFIXES = ("djc", "jl", "jj", "lqj", "ly", "mhw", "phl", "sxy", "wk", "ww", "wsf", "wyw")
#: standardised (valence, arousal) each class evokes (ours)
SEED_EMOTIONS = {-1: (-0.8, 0.3), 0: (0.0, -0.4), 1: (0.8, 0.3)}
SEED_IV_EMOTIONS = {0: (0.0, -0.4), 1: (-0.7, -0.3), 2: (-0.6, 0.8), 3: (0.8, 0.5)}
#: SEED's (and SEED-IV's) calibration of the signal model (docs/synthetic.md): clips screened to
#: elicit one emotion each, labelled by that emotion, so strong effects the subjects share
#: (k 0.5, mean 1.2, sd 0.3) with a varying reaction per clip (0.34); three sessions days apart
#: (the cap put on again: session log-gains of sd 0.2).
SEED_SIGNAL = {
    **REALISTIC,
    "effect": 0.5,
    "mean_effect": 1.2,
    "subject_spread": 0.3,
    "pattern_spread": 0.7,
    "reaction": 0.34,
    "session_drift": 0.2,
}


def _seed_session_eeg(rng, model, person, labels, emotions, seconds) -> list[np.ndarray]:
    """One session: per trial (62, 200 * s + 1) float64 EEG, s varying +-25 % around seconds;
    the felt state is the class's (`emotions`) plus the subject's reaction to the clip."""
    trials = []
    for label, nuisance in zip(labels, model.session_nuisance(rng, len(labels)), strict=True):
        valence, arousal = model.felt(rng, emotions[label])
        n = max(1, int(round(rng.uniform(0.75, 1.25) * seconds))) * int(model.sfreq) + 1
        trials.append(model.eeg(rng, person, n, arousal, valence, nuisance))
    return trials


def _seed_features(trials, window, bands, names) -> dict[str, np.ndarray]:
    """The feature file of a session: per trial k (from 1) the variables ``{name}{k}`` of
    `names` (``{kind}_{smoothing}``: `SEED_FEATURES` or `SEED_IV_FEATURES`), each of shape
    (C, n_windows, 5), in the order of the real files (trial, then kind, then smoothing).

    de: DE of order-3 Butterworth band-passes (SEED's and LibEER's order), psd: band power
    (Welch); dasm, rasm, asm, dcau: the asymmetries of that DE over SEED's 27 left/right and 23
    frontal/posterior pairs (`features.asymmetry`). Each kind is then smoothed on its own: a
    moving average over 5 windows (ours) and the LDS smoother (`features.lds_smooth`).
    """
    from ...features import band_power, differential_entropy, lds_smooth, moving_average
    from ...features.asymmetry import asm, dasm, dcau, rasm

    out = {}
    for k, eeg in enumerate(trials, start=1):
        de = differential_entropy(eeg, SEED_RATE, bands=bands, window=window, filter_order=3)
        values = {  # (W, C, 5) each
            "de": de,
            "psd": band_power(eeg, SEED_RATE, bands=bands, window=window),
            **{f.__name__: f(de, SEED_CHANNELS) for f in (dasm, rasm, asm, dcau)},
        }
        for name in names:
            kind, smoothing = name.split("_")
            smooth = lds_smooth if smoothing == "LDS" else moving_average
            out[f"{name}{k}"] = np.ascontiguousarray(smooth(values[kind]).transpose(1, 0, 2))
    return out


def _seed_people(rng, subjects, signal):
    """EmotionEEG subjects over SEED's montage (`SEED_SIGNAL` updated with `signal`), without
    the Emotiv DC offset (SEED is filtered)."""
    from dataclasses import replace

    model = EmotionEEG(SEED_CHANNELS, SEED_RATE, **{**SEED_SIGNAL, **signal})
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


def _write_session(raw: Path, features: Path, prefix: str, trials, window: float, names) -> None:
    """One session's two files: its trials as variables ``<prefix>_eeg<k>`` in `raw`, their
    features `names` over `window`-second windows in `features`."""
    _savemat(raw, {f"{prefix}_eeg{k}": trial for k, trial in enumerate(trials, start=1)})
    _savemat(features, _seed_features(trials, window, SEED_FEATURE_BANDS, names))


def write_seed(out_dir, subjects=2, seconds=4.0, seed=0, **signal) -> Path:
    """Write ``Preprocessed_EEG/`` and ``ExtractedFeatures/`` of SEED into ``out_dir``.

    Per subject three sessions of the 15 clips of `SEED_LABEL` (clip lengths around `seconds`),
    variables ``<prefix>_eeg<k>`` (62, n_times) at 200 Hz; features over 1 s windows.
    Returns ``out_dir``.
    """
    rng = np.random.default_rng(seed)
    model, people = _seed_people(rng, subjects, signal)
    out = Path(out_dir)
    label = {"label": np.array([SEED_LABEL], dtype=float)}
    for folder in ("Preprocessed_EEG", "ExtractedFeatures"):
        _savemat(out / folder / "label.mat", label)
    for number, person in enumerate(people, start=1):
        prefix = SEED_PREFIXES[(number - 1) % len(SEED_PREFIXES)]
        for date in _session_dates(rng):
            trials = _seed_session_eeg(rng, model, person, SEED_LABEL, SEED_EMOTIONS, seconds)
            name = f"{number}_{date}.mat"
            raw, features = out / "Preprocessed_EEG" / name, out / "ExtractedFeatures" / name
            _write_session(raw, features, prefix, trials, 1.0, SEED_FEATURES)
    return out


def write_seed_iv(out_dir, subjects=2, seconds=6.0, seed=0, **signal) -> Path:
    """Write ``eeg_raw_data/{1,2,3}/`` and ``eeg_feature_smooth/{1,2,3}/`` of SEED-IV.

    24 clips per session with the fixed labels of `SEED_IV_LABELS`, raw EEG at 200 Hz, features
    over 4 s windows (clips shorter than 4 s get none, so keep `seconds` >= 6). Returns out_dir.
    """
    rng = np.random.default_rng(seed)
    model, people = _seed_people(rng, subjects, signal)
    out = Path(out_dir)
    for number, person in enumerate(people, start=1):
        prefix = SEED_PREFIXES[-number % len(SEED_PREFIXES)]
        for session, date in enumerate(_session_dates(rng), start=1):
            labels = SEED_IV_LABELS[session]
            trials = _seed_session_eeg(rng, model, person, labels, SEED_IV_EMOTIONS, seconds)
            name = f"{session}/{number}_{date}.mat"
            raw, features = out / "eeg_raw_data" / name, out / "eeg_feature_smooth" / name
            _write_session(raw, features, prefix, trials, 4.0, SEED_IV_FEATURES)
    return out
