"""Opening the pickles datasets ship (DEAP, WESAD) without ever running code from them.

`safe_load` unpickles with an allow-list: plain containers, str/bytes/numbers (pickle opcodes,
no callables) and numpy's array, dtype and scalar reconstruction. Any other global a pickle
names is refused in `find_class`, before it could be called.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ..errors import DatasetFormatError

_core = getattr(np, "_core", None) or np.core  # numpy >= 2 moved numpy.core to numpy._core


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """What protocol-2 pickles call (``_codecs.encode(text, "latin1")``) to rebuild bytes."""
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"bytes encoded as {encoding!r}, expected latin1")
    return text.encode("latin1", errors)


#: (module, name) a pickle may name -> the object it gets. numpy arrays pickled by numpy 1.x
#: (and by Python 2) name ``numpy.core``, those pickled by numpy 2 name ``numpy._core``.
ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}
for _module in ("numpy.core", "numpy._core"):
    ALLOWED[(f"{_module}.multiarray", "_reconstruct")] = _core.multiarray._reconstruct
    ALLOWED[(f"{_module}.multiarray", "scalar")] = _core.multiarray.scalar
    ALLOWED[(f"{_module}.numeric", "_frombuffer")] = _core.numeric._frombuffer


class _Refused(Exception):
    """A global outside `ALLOWED`; raised from `find_class` so nothing of it is ever called."""


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise _Refused(f"{module}.{name}") from None


def safe_load(path: Path, what: str) -> object:
    """Unpickle ``path`` (Python 2 pickles too: str decoded as latin1) with the allow-list.

    `what` is the distribution's name of the file, used in messages. Raises FileNotFoundError
    when the file is missing and DatasetFormatError when it names a foreign class or is
    truncated or damaged.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected the {what} file)")
    with path.open("rb") as file:
        try:
            return _AllowListUnpickler(file, encoding="latin1").load()
        except _Refused as refused:
            raise DatasetFormatError(
                f"{path}: refused to unpickle {refused} (not an array, number, text or "
                f"container; a {what} file holds only those)"
            ) from None
        except Exception as error:  # EOFError, UnpicklingError, ValueError, TypeError, ...
            reason = str(error).splitlines()[0] if str(error) else "unexpected end of file"
            raise DatasetFormatError(
                f"{path}: not a readable {what} pickle, truncated or damaged "
                f"({type(error).__name__}: {reason})"
            ) from error
