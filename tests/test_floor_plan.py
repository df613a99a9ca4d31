"""The floor plan: adding a dataset, model, recipe or protocol is one file and one registry
entry; each test adds a toy one inside itself and runs it through the whole package."""

from pathlib import Path

import numpy as np

# ----------------------------------------------------------------------------- a toy dataset
TOY_CHANNELS = ["F3", "F4", "P3", "P4"]
TOY_RATE = 128.0
TOY_VALENCE = (1, 5, 2, 4, 1, 5, 2, 4)  # one rating per trial, on a 1-5 scale


def _write_toy(out_dir, subjects=2, seconds=4.0, seed=0) -> Path:
    """A toy dataset's files: per subject ``sN.npz`` with "eeg" (trials, 4, n) of noise in uV
    (more alpha-band power when valence is high) and "valence" (trials,)."""
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = int(seconds * TOY_RATE)
    t = np.arange(n) / TOY_RATE
    for number in range(1, subjects + 1):
        valence = np.array(TOY_VALENCE, dtype=float)
        alpha = np.sin(2 * np.pi * 10 * t) * (valence[:, None, None] >= 3) * 20.0
        eeg = rng.normal(0, 10, (len(valence), len(TOY_CHANNELS), n)) + alpha
        np.savez(out / f"s{number}.npz", eeg=eeg, valence=valence)
    return out


def _load_toy(root):
    """The toy dataset's `Dataset`: one recording per trial, rating "valence"."""
    from physioemo.datasets import Dataset
    from physioemo.recording import Recording

    root = Path(root)
    subjects = sorted(path.stem for path in root.glob("s*.npz"))

    def read_subject(subject):
        content = np.load(root / f"{subject}.npz")
        trials = zip(content["eeg"], content["valence"], strict=True)
        return [
            Recording(eeg, TOY_RATE, TOY_CHANNELS, subject, trial=k, ratings={"valence": rating})
            for k, (eeg, rating) in enumerate(trials, start=1)
        ]

    return Dataset(
        "toy",
        subjects,
        read_subject,
        sfreq=TOY_RATE,
        ch_names=TOY_CHANNELS,
        modality="eeg",
        unit="uV",
        rating_names=["valence"],
        source=root,
    )


def test_toy_dataset_is_one_card(tmp_path, monkeypatch):
    from physioemo import datasets, labels
    from physioemo.datasets import DatasetCard
    from physioemo.experiment import Experiment, run

    toy = DatasetCard(
        name="toy",
        loader=_load_toy,
        writer=_write_toy,
        dimensions=("valence",),
        default_dimensions=("valence",),
        scale=(1, 5, 3.0),
        modalities=("eeg",),
        synthetic={"subjects": 2, "seconds": 4.0},
        n_subjects=2,
        models=("logreg",),
        protocols=("subject-dependent",),
        stimuli="8 noise clips: trial k is clip k",
    )
    monkeypatch.setitem(datasets.CARDS, "toy", toy)  # the one registry entry

    scheme = labels.make("toy", "binary", "valence")
    assert scheme({"valence": np.array(TOY_VALENCE)}).tolist() == [0, 1, 0, 1, 0, 1, 0, 1]
    assert datasets.load("toy", _write_toy(tmp_path / "files")).subjects == ["s1", "s2"]

    experiment = Experiment(datasets=["toy"], n_splits=2)
    result = run(experiment, out=tmp_path / "run", report=False, echo=lambda *_: None)
    assert not result["failures"]
    (entry,) = result["summary"]
    assert (entry["dataset"], entry["model"], entry["protocol"]) == (
        "toy",
        "logreg",
        "subject-dependent",
    )
    assert (entry["labels"], entry["dimension"]) == ("binary", "valence")
    assert entry["accuracy"] > 0.5
