"""SEED and SEED-IV (BCMI lab, SJTU): 62-channel ESI NeuroScan EEG while watching film clips.

**SEED** reads ``Preprocessed_EEG/<subject>_<yyyymmdd>.mat`` exactly as distributed: 15 variables
``<prefix>_eeg1`` ... ``<prefix>_eeg15`` per file, each (62, n_times) at 200 Hz; the prefix (the
subject's initials) differs per subject, so trials are found by the regex ``_eeg(\\d+)$``.
``label.mat`` holds ``label`` (1, 15) with -1 negative, 0 neutral, 1 positive, the same for every
subject and session. A subject's three files are its sessions 1-3 in date order.

**SEED-IV** reads ``eeg_raw_data/{1,2,3}/<subject>_<yyyymmdd>.mat`` (session = folder) with 24
trials ``<prefix>_eeg1`` ... ``_eeg24`` each, and the fixed per-session labels below.

Both carry the rating ``emotion``, an integer class: SEED ``label + 1`` (0 negative, 1 neutral,
2 positive); SEED-IV its label (0 neutral, 1 sad, 2 fear, 3 happy). `physioemo.labels.categorical`
names the classes. Trial lengths differ and are taken as they come.

The precomputed features (SEED ``ExtractedFeatures/``: ``{de,psd,dasm,rasm,asm,dcau}_{movingAve,
LDS}{k}`` of shape (C, n_windows, 5) over 1 s windows; SEED-IV ``eeg_feature_smooth/``: ``de_*``
and ``psd_*`` over 4 s windows) load as a `WindowSet` with `load_seed_features` and
`load_seed_iv_features`.

Units: microvolts, as we read the preprocessed files (the distribution does not say).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import DatasetFormatError, clean
from ..recording import Recording, WindowSet, make_groups
from ._checks import length, real, warn_channels
from ._matlab import MatNode, read_mat
from .base import Dataset
from .cards import CARDS

# fmt: off
SEED_CHANNELS = [
    "FP1", "FPZ", "FP2", "AF3", "AF4", "F7", "F5", "F3", "F1", "FZ", "F2", "F4", "F6", "F8", "FT7",
    "FC5", "FC3", "FC1", "FCZ", "FC2", "FC4", "FC6", "FT8", "T7", "C5", "C3", "C1", "CZ", "C2",
    "C4", "C6", "T8", "TP7", "CP5", "CP3", "CP1", "CPZ", "CP2", "CP4", "CP6", "TP8", "P7", "P5",
    "P3", "P1", "PZ", "P2", "P4", "P6", "P8", "PO7", "PO5", "PO3", "POZ", "PO4", "PO6", "PO8",
    "CB1", "O1", "OZ", "O2", "CB2",
]
#: SEED-IV session -> the 24 trial labels (0 neutral, 1 sad, 2 fear, 3 happy)
SEED_IV_LABELS = {
    1: (1, 2, 3, 0, 2, 0, 0, 1, 0, 1, 2, 1, 1, 1, 2, 3, 2, 2, 3, 3, 0, 3, 0, 3),
    2: (2, 1, 3, 0, 0, 2, 0, 2, 3, 3, 2, 3, 2, 0, 1, 1, 2, 1, 0, 3, 0, 1, 3, 1),
    3: (1, 2, 2, 1, 3, 3, 3, 1, 1, 2, 1, 0, 2, 3, 3, 0, 2, 3, 0, 0, 2, 0, 1, 0),
}
# fmt: on
SEED_RATE = 200.0
#: The five bands of the precomputed features (Hz), as the SEED papers define them.
FEATURE_BANDS = {
    "delta": (1.0, 3.0),
    "theta": (4.0, 7.0),
    "alpha": (8.0, 13.0),
    "beta": (14.0, 30.0),
    "gamma": (31.0, 50.0),
}
SEED_FEATURES = tuple(
    f"{kind}_{smoothing}"
    for kind in ("de", "psd", "dasm", "rasm", "asm", "dcau")
    for smoothing in ("movingAve", "LDS")
)
SEED_IV_FEATURES = SEED_FEATURES[:4]  # de and psd, each moving-average and LDS smoothed

_FILE = re.compile(r"^(\d+)_(\d{8})\.mat$")
_RAW_TRIAL = re.compile(r"_eeg(\d+)$")

#: subject -> [(session, file)] in session order
Sessions = dict[str, list[tuple[int, Path]]]


# ----------------------------------------------------------------------------- loaders
def load_seed(root: str | Path) -> Dataset:
    """Read SEED from ``root`` (the SEED folder or its ``Preprocessed_EEG`` folder).

    Recordings: one per film clip, ``data`` (62, n_times) at 200 Hz, subject "1" ... "15",
    session 1-3 (date order), trial 1-15, ratings ``{"emotion": label + 1}``.
    """
    folder = _folder(root, "Preprocessed_EEG")
    emotion = _seed_labels(folder) + 1
    return _raw_dataset("seed", folder, _sessions_by_date(folder), lambda session: emotion)


def load_seed_iv(root: str | Path, sfreq: float = SEED_RATE) -> Dataset:
    """Read SEED-IV from ``root`` (the SEED-IV folder or its ``eeg_raw_data`` folder).

    Recordings: one per film clip, ``data`` (62, n_times), subject "1" ... "15", session 1-3
    (the folder), trial 1-24, ratings ``{"emotion": label}`` from `SEED_IV_LABELS`.
    sfreq: rate of the raw files; 200 Hz as TorchEEG reads them (our reference does not confirm
    it: check the readme of your copy).
    """
    folder = _folder(root, "eeg_raw_data")
    sessions = _sessions_by_folder(folder)
    return _raw_dataset(
        "seed-iv", folder, sessions, lambda session: np.array(SEED_IV_LABELS[session]), sfreq
    )


def load_seed_features(root: str | Path, feature: str = "de_LDS") -> WindowSet:
    """SEED's precomputed features from ``ExtractedFeatures/`` as windows.

    feature: one of `SEED_FEATURES` (e.g. "de_LDS", "psd_movingAve").
    Returns a `WindowSet` with X (n_windows, C, 5) float64 (C = 62 for de/psd, 27 dasm/rasm,
    54 asm, 23 dcau), groups (start/stop in 200 Hz samples of the 1 s windows) and ratings
    ``{"emotion": label + 1}``.
    """
    folder = _folder(root, "ExtractedFeatures")
    emotion = _seed_labels(folder) + 1
    return _feature_windows(
        "seed", _sessions_by_date(folder), feature, SEED_FEATURES, lambda s: emotion, window=1.0
    )


def load_seed_iv_features(root: str | Path, feature: str = "de_LDS") -> WindowSet:
    """SEED-IV's precomputed features from ``eeg_feature_smooth/{1,2,3}/`` as windows.

    feature: one of `SEED_IV_FEATURES`. Returns a `WindowSet` with X (n_windows, 62, 5),
    groups (start/stop in 200 Hz samples of the 4 s windows) and ratings ``{"emotion"}``.
    """
    folder = _folder(root, "eeg_feature_smooth")
    return _feature_windows(
        "seed-iv",
        _sessions_by_folder(folder),
        feature,
        SEED_IV_FEATURES,
        lambda session: np.array(SEED_IV_LABELS[session]),
        window=4.0,
    )


# ----------------------------------------------------------------------------- files
def _folder(root: str | Path, name: str) -> Path:
    """``root/name`` when it exists, else ``root`` itself (the user pointed at the folder)."""
    root = Path(root)
    if (root / name).is_dir():
        return root / name
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder (expected the {name} folder)")
    return root


def _data_files(folder: Path, what: str) -> list[tuple[str, str, Path]]:
    """(subject, date, path) of every ``<subject>_<yyyymmdd>.mat`` in ``folder``."""
    found = [
        (match[1], match[2], path)
        for path in sorted(folder.iterdir())
        if (match := _FILE.match(path.name))
    ]
    if not found:
        raise FileNotFoundError(f"{folder}: no <subject>_<yyyymmdd>.mat files (expected {what})")
    return found


def _sessions_by_date(folder: Path) -> Sessions:
    """SEED: a subject's files are its sessions in date order."""
    sessions: Sessions = {}
    for subject, _, path in sorted(_data_files(folder, "SEED's 45 session files"), key=_by_date):
        files = sessions.setdefault(subject, [])
        files.append((len(files) + 1, path))
    return dict(sorted(sessions.items(), key=lambda item: int(item[0])))


def _by_date(entry: tuple[str, str, Path]) -> tuple[int, str]:
    subject, date, _ = entry
    return int(subject), date


def _sessions_by_folder(folder: Path) -> Sessions:
    """SEED-IV: session k is the folder ``k/``, holding one file per subject."""
    sessions: Sessions = {}
    for session in sorted(SEED_IV_LABELS):
        session_folder = folder / str(session)
        if not session_folder.is_dir():
            raise FileNotFoundError(
                f"{session_folder}: no such folder (expected SEED-IV session folder {session})"
            )
        for subject, _, path in _data_files(session_folder, f"SEED-IV session {session}"):
            if any(s == session for s, _ in sessions.get(subject, [])):
                raise DatasetFormatError(
                    f"{path}: a second file of subject {subject} in session folder {session}"
                )
            sessions.setdefault(subject, []).append((session, path))
    return dict(sorted(sessions.items(), key=lambda item: int(item[0])))


def _seed_labels(folder: Path) -> np.ndarray:
    """The 15 trial labels (-1, 0, 1) of ``label.mat`` as int64."""
    path = folder / "label.mat"
    variables = read_mat(path, "SEED label.mat")
    if "label" not in variables:
        raise MatNode(None, "label", path).fail("variable is missing")
    node = MatNode(variables["label"], "label", path)
    values = node.vector()
    if not np.isin(values, (-1, 0, 1)).all():
        raise node.fail(f"expected values -1, 0 or 1, got {sorted(set(values.tolist()))}")
    return values.astype(np.int64)


def _numbered(variables: dict, pattern: re.Pattern, path: Path, n: int) -> list[MatNode]:
    """The variables whose names match `pattern` (number in group 1), in number order 1..n."""
    found = {}
    for key, value in variables.items():
        if key.startswith("__") or not (match := pattern.search(key)):
            continue
        number = int(match[1])
        if number in found:
            raise DatasetFormatError(f"{path}: two variables for trial {number} ({clean(key)})")
        found[number] = MatNode(value, key, path)
    missing = [k for k in range(1, n + 1) if k not in found]
    if missing or len(found) != n:
        raise DatasetFormatError(
            f"{path}: expected {n} variables matching {pattern.pattern!r}, trials 1..{n}; "
            f"missing {missing}, found {sorted(found)}"
        )
    return [found[k] for k in range(1, n + 1)]


def _finite_array(node: MatNode, shape: str, check: Callable[[np.ndarray], bool]) -> np.ndarray:
    """The node's numeric array, checked against `shape` and for NaN/inf."""
    value = node.value
    if not (isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number)):
        raise node.fail(f"expected a numeric array {shape}, got {type(value).__name__}")
    if not check(value):
        raise node.fail(f"expected shape {shape}, got {value.shape}")
    value = real(value, node.name)
    if not np.isfinite(value).all():
        bad = np.flatnonzero(~np.isfinite(value.reshape(len(value), -1)).all(axis=1)) + 1
        raise node.fail(f"holds NaN or infinite values (in channel row(s) {bad.tolist()})")
    return value


# ----------------------------------------------------------------------------- raw EEG
def _raw_dataset(name, folder, sessions: Sessions, labels_of, sfreq=SEED_RATE) -> Dataset:
    def read_subject(subject: str) -> list[Recording]:
        return [
            recording
            for session, path in sessions[subject]
            for recording in _raw_recordings(path, subject, session, labels_of(session), sfreq)
        ]

    return Dataset(
        name,
        list(sessions),
        read_subject,
        sfreq=sfreq,
        ch_names=SEED_CHANNELS,
        modality="eeg",
        unit="uV",
        rating_names=["emotion"],
        source=folder,
    )


def _raw_recordings(path: Path, subject, session, labels, sfreq) -> list[Recording]:
    trials = _numbered(read_mat(path, "EEG session file"), _RAW_TRIAL, path, len(labels))
    n_ch = len(SEED_CHANNELS)

    def samples(node: MatNode) -> np.ndarray:
        shape = f"({n_ch} channels, samples)"
        value = _finite_array(node, shape, lambda v: v.ndim == 2 and len(v) == n_ch)
        length(value.shape[1], sfreq, node.name)
        return value

    recordings = [
        Recording(
            data=samples(node),
            sfreq=sfreq,
            ch_names=SEED_CHANNELS,
            subject=subject,
            session=session,
            trial=trial,
            ratings={"emotion": int(labels[trial - 1])},
            unit="uV",
            meta={"file": path.name, "variable": node.where},
        )
        for trial, node in enumerate(trials, start=1)
    ]
    warn_channels(((r.trial, r.data) for r in recordings), SEED_CHANNELS, str(path))
    return recordings


# ----------------------------------------------------------------------------- features
def _feature_windows(name, sessions: Sessions, feature, known, labels_of, window) -> WindowSet:
    if feature not in known:
        raise ValueError(f"feature must be one of {', '.join(known)}; got {feature!r}")
    pattern = re.compile(rf"^{feature}(\d+)$")
    step = int(round(window * SEED_RATE))
    parts, n_channels = [], None
    for subject, files in sessions.items():
        for session, path in files:
            labels = labels_of(session)
            trials = _numbered(read_mat(path, "feature file"), pattern, path, len(labels))
            for trial, node in enumerate(trials, start=1):
                values = _finite_array(
                    node, "(channels, windows, 5 bands)", lambda v: v.ndim == 3 and v.shape[2] == 5
                )
                n_channels = n_channels or len(values)
                if len(values) != n_channels:
                    raise node.fail(f"has {len(values)} channels, earlier trials {n_channels}")
                n = values.shape[1]
                starts = np.arange(n) * step
                stimulus = CARDS[name].stimulus_of(session, trial)
                groups = make_groups(n, subject, session, trial, starts, starts + step, stimulus)
                ratings = {"emotion": np.full(n, float(labels[trial - 1]))}
                parts.append(WindowSet(values.transpose(1, 0, 2), groups, ratings))
    ch_names = (
        SEED_CHANNELS
        if n_channels == len(SEED_CHANNELS)
        else [f"{feature.split('_')[0]}{i + 1}" for i in range(n_channels)]
    )
    info = {
        "dataset": name,
        "kind": feature,
        "precomputed": True,
        "sfreq": SEED_RATE,
        "ch_names": ch_names,
        "bands": dict(FEATURE_BANDS),
        "window": window,
        "stride": window,
        "baseline": "none",
    }
    return WindowSet.concatenate(parts, info)
