"""Opening dataset pickles without running code: an allow-list unpickler.

A pickle names the callables that rebuild its objects (``GLOBAL`` opcodes) and the unpickler
imports and calls them. `safe_load` resolves only the few names that rebuild numpy arrays,
dtypes and scalars (as written by Python 2 ``cPickle`` and by Python 3 at any protocol);
plain containers, strings, bytes and numbers need no names at all. Any other name is refused
when it is read, before anything built from it can run.
"""

from __future__ import annotations

import codecs
import io
import pickle
from pathlib import Path

from ..errors import DatasetFormatError

#: Encodings `_codecs.encode` may be asked for (Python 3 writes bytes this way at protocol <= 2).
_BYTES_ENCODINGS = {"latin1", "latin-1", "iso-8859-1", "iso8859-1"}


def _numpy_core(name: str):
    """numpy's core attribute `name` (``numpy._core`` in numpy 2, ``numpy.core`` before)."""
    import numpy as np

    core = getattr(np, "_core", None) or np.core
    module, _, attribute = name.rpartition(".")
    return getattr(getattr(core, module), attribute)


def _encode_latin1(text, encoding="utf-8"):
    """`_codecs.encode` limited to latin-1, the only use a data pickle makes of it."""
    if encoding.lower() not in _BYTES_ENCODINGS:
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r}")
    return codecs.encode(text, "latin1")


#: (module, name) a pickle may use -> where it lives in numpy ("name" in numpy, "x.name" in core).
_NUMPY_NAMES = {
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
    **{
        (f"numpy.{core}.{module}", name): f"{module}.{name}"
        for core in ("core", "_core")
        for module, name in (
            ("multiarray", "_reconstruct"),
            ("multiarray", "scalar"),
            ("numeric", "_frombuffer"),
        )
    },
}


#: Plain containers and numbers that protocols below 4 (and Python 2) build by name.
_BUILTINS = {"set": set, "frozenset": frozenset, "complex": complex}


def _allowed(module: str, name: str):
    """The object a pickle may name as (module, name), or None when it is not allowed."""
    if (module, name) == ("_codecs", "encode"):
        return _encode_latin1
    if module in ("builtins", "__builtin__"):
        return _BUILTINS.get(name)
    where = _NUMPY_NAMES.get((module, name))
    if where is None:
        return None
    if "." in where:
        return _numpy_core(where)
    import numpy as np

    return getattr(np, where)


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        found = _allowed(module, name)
        if found is None:
            raise _Refused(f"{module}.{name}")
        return found


class _Refused(pickle.UnpicklingError):
    """A name outside the allow-list; the message is the refused name."""


def safe_load(path: Path, what: str) -> object:
    """Unpickle `path` (strings decoded as latin-1, as Python 2 pickles need) safely.

    `what` is the distribution's name of the file, used in the error messages.
    Raises FileNotFoundError when `path` is missing and `DatasetFormatError` (one line, naming
    the file) when the pickle is truncated or damaged or names anything but numpy arrays,
    dtypes and scalars.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected the {what} file)")
    payload = path.read_bytes()
    try:
        return _AllowListUnpickler(io.BytesIO(payload), encoding="latin1").load()
    except _Refused as refused:
        raise DatasetFormatError(
            f"{path}: refused to unpickle {refused} (the {what} file may hold only numpy "
            "arrays, dtypes, numbers, strings and plain containers)"
        ) from None
    except Exception as error:  # truncation and damage surface as many exception types
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DatasetFormatError(
            f"{path}: not a readable {what} pickle ({type(error).__name__}: {reason})"
        ) from error
