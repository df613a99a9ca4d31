"""physioemo: emotion recognition from EEG and wearable physiology.

Load a dataset, cut it into windowed features, and cross-validate under a protocol that
never lets one trial reach both sides of a split::

    from physioemo import datasets, extract_windows, labels, protocols
    ds = datasets.load("dreamer", "path/to/DREAMER.mat")
    windows = extract_windows(ds, kind="de", window=1.0, baseline="subtract")
"""

# _logging: the physioemo logger's NullHandler; datasets: installs the names `labels.make` looks up
from . import _logging, datasets  # noqa: F401
from ._version import __version__
from .errors import DatasetFormatError
from .features.recipes import extract_windows
from .recording import Recording, Signal, WindowSet

__all__ = [
    "DatasetFormatError",
    "Recording",
    "Signal",
    "WindowSet",
    "__version__",
    "extract_windows",
]
