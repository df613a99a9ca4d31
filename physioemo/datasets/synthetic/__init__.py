"""Synthetic data that behaves like the real thing, written in the real file formats.

`eeg` holds the documented, seeded signal model (`EmotionEEG`, its knobs in `Settings`) and
`peripheral` the physiology beside it; one module per dataset writes its exact on-disk layout,
so the real loaders read the files, and sets the knobs calibrated for that dataset
(docs/synthetic.md); each dataset's card (`physioemo.datasets.CARDS`) names its writer.
"""

from .deap import simulate_deap, write_deap
from .dreamer import DREAMER_ELECTRODES, simulate_dreamer, write_dreamer
from .eeg import PLANTED, EmotionEEG, Settings, Subject, standardise
from .peripheral import ecg
from .seed import write_seed, write_seed_iv
from .wesad import simulate_wesad_subject, write_wesad


def model_digest() -> str:
    """12 hex digits of a SHA-256 over this package's source: the version of the signal model
    and the writers, so synthetic files written by another model are never taken for these."""
    import hashlib
    from pathlib import Path

    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


__all__ = [
    "DREAMER_ELECTRODES",
    "EmotionEEG",
    "PLANTED",
    "Settings",
    "Subject",
    "ecg",
    "model_digest",
    "simulate_deap",
    "simulate_dreamer",
    "simulate_wesad_subject",
    "standardise",
    "write_deap",
    "write_dreamer",
    "write_seed",
    "write_seed_iv",
    "write_wesad",
]
