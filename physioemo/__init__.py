"""physioemo: emotion recognition from EEG and wearable physiology.

Load a dataset, cut it into windowed features, and cross-validate under a protocol that
never lets one trial reach both sides of a split::

    from physioemo import datasets, extract_windows, labels, protocols
    ds = datasets.load("dreamer", "path/to/DREAMER.mat")
    windows = extract_windows(ds, kind="de", window=1.0, baseline="subtract")
"""

__version__ = "0.1.0"

from .errors import DatasetFormatError  # noqa: E402
from .recording import Recording, Signal, WindowSet  # noqa: E402
from .windows import extract_windows  # noqa: E402

__all__ = [
    "DatasetFormatError",
    "Recording",
    "Signal",
    "WindowSet",
    "__version__",
    "extract_windows",
]
