"""DREAMER: 23 subjects x 18 film clips, Emotiv EPOC (14 EEG channels, 128 Hz) and 2-lead ECG.

Reads ``DREAMER.mat`` exactly as distributed: the struct ``DREAMER`` with ``Data`` (one struct
per subject: ``EEG.stimuli`` / ``EEG.baseline`` cells of (samples, 14) matrices, ``ECG`` likewise
with 2 leads at ``ECG_SamplingRate``, ``ScoreValence`` / ``ScoreArousal`` / ``ScoreDominance``
integers 1-5, ``Age``, ``Gender``), ``EEG_Electrodes`` and ``EEG_SamplingRate``. Everything is
found by field name; clip lengths differ and are taken as they come.

Units: EEG and ECG in microvolts as stored by the Emotiv/Shimmer export (raw EEG carries a
DC offset of about 4,000 uV; band-pass features ignore it).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DatasetFormatError
from ..recording import Recording, Signal
from ._checks import channel_names, length, listing, rate, ratings, warn_channels
from ._matlab import MatNode, read_mat
from .base import Dataset

FILE_NAME = "DREAMER.mat"
RATINGS = {"valence": "ScoreValence", "arousal": "ScoreArousal", "dominance": "ScoreDominance"}


def load_dreamer(root: str | Path) -> Dataset:
    """Read DREAMER from ``root``: the ``DREAMER.mat`` file or a folder that holds it.

    Returns a `Dataset` whose recordings are one clip each: ``data`` (14, n_times) EEG of the
    clip, ``baseline`` (14, n_baseline_times) of the neutral clip shown before it, ratings
    valence/arousal/dominance (1-5), and ``extra["ecg"]`` / ``extra["ecg_baseline"]``.
    Subjects are named "s01" ... "s23"; trial k is clip k (1-18).
    """
    path = Path(root)
    if path.is_dir():
        path = path / FILE_NAME
    variables = read_mat(path, FILE_NAME)
    if "DREAMER" not in variables:
        found = listing(k for k in variables if not k.startswith("__"))
        raise MatNode(None, "DREAMER", path).fail(f"variable is missing (variables: {found})")
    top = MatNode(variables["DREAMER"], "DREAMER", path)
    sfreq = _rate(top.field("EEG_SamplingRate"))
    ecg_sfreq = _rate(top.field("ECG_SamplingRate")) if top.has("ECG_SamplingRate") else None
    names = top.field("EEG_Electrodes")
    electrodes = channel_names(names.texts(), names.name)
    subjects = top.field("Data").cells()
    names = [f"s{i + 1:02d}" for i in range(len(subjects))]
    by_name = dict(zip(names, subjects, strict=True))

    def read_subject(name: str) -> list[Recording]:
        return _subject_recordings(by_name[name], name, sfreq, ecg_sfreq, electrodes)

    return Dataset(
        "dreamer",
        names,
        read_subject,
        sfreq=sfreq,
        ch_names=electrodes,
        modality="eeg",
        unit="uV",
        rating_names=list(RATINGS),
        source=path,
    )


def _subject_recordings(node: MatNode, subject, sfreq, ecg_sfreq, electrodes) -> list[Recording]:
    eeg = node.field("EEG")
    stimuli = eeg.field("stimuli").cells()
    n_trials = len(stimuli)
    baselines = _same_count(eeg.field("baseline"), n_trials)
    scores = {name: _scores(node.field(field), n_trials) for name, field in RATINGS.items()}
    meta = {"age": node.field("Age").text(), "gender": node.field("Gender").text()}
    n_ch = len(electrodes)
    recordings = []
    ecg = _ecg_signals(node.field("ECG"), n_trials, ecg_sfreq) if node.has("ECG") else []
    for t in range(n_trials):
        recordings.append(
            Recording(
                data=_samples(stimuli[t], sfreq, n_ch).T,
                sfreq=sfreq,
                ch_names=electrodes,
                subject=subject,
                session=1,
                trial=t + 1,
                ratings={name: values[t] for name, values in scores.items()},
                baseline=_samples(baselines[t], sfreq, n_ch).T,
                unit="uV",
                extra=ecg[t] if ecg else {},
                meta=dict(meta),
            )
        )
    trials = ((r.trial, r.data) for r in recordings)
    warn_channels(trials, electrodes, f"{node.file}, subject {subject}")
    return recordings


def _rate(node: MatNode) -> float:
    return rate(node.scalar(), node.name)


def _scores(node: MatNode, n_trials: int) -> list[int]:
    """A subject's ratings of one dimension: whole points of the 1-5 scale."""
    return [int(v) for v in ratings(node.vector(n_trials), node.name, 1, 5, whole=True)]


def _samples(node: MatNode, sfreq: float, n_columns: int | None = None):
    """A (samples, channels) matrix of at most `_checks.MAX_SECONDS`."""
    value = node.matrix(n_columns)
    length(len(value), sfreq, node.name)
    return value


def _ecg_signals(ecg: MatNode, n_trials: int, sfreq: float | None) -> list[dict[str, Signal]]:
    """Per clip, the ECG of the clip and of its baseline (both (2, n_times))."""
    if sfreq is None:
        raise DatasetFormatError(f"{ecg.file}: field DREAMER.ECG_SamplingRate is missing")
    stimuli = _same_count(ecg.field("stimuli"), n_trials)
    baselines = _same_count(ecg.field("baseline"), n_trials)
    signals = []
    for clip, rest in zip(stimuli, baselines, strict=True):
        data = _samples(clip, sfreq)
        names = [f"ECG{i + 1}" for i in range(data.shape[1])]
        baseline = _samples(rest, sfreq, data.shape[1])
        signals.append(
            {
                "ecg": Signal(data.T, sfreq, names, "uV", "ecg"),
                "ecg_baseline": Signal(baseline.T, sfreq, names, "uV", "ecg"),
            }
        )
    return signals


def _same_count(node: MatNode, n: int) -> list[MatNode]:
    cells = node.cells()
    if len(cells) != n:
        raise node.fail(f"expected {n} cells (one per clip, as in EEG.stimuli), got {len(cells)}")
    return cells
