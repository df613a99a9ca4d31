"""Reading MATLAB files by field name, with errors that name the file and the field.

`scipy.io.loadmat` (default options) returns MATLAB structs as (1, 1) structured arrays and
cells as object arrays; these helpers walk that tree and check what they find.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DatasetFormatError, clean
from ._checks import listing, real


def read_mat(path: Path, what: str) -> dict:
    """All variables of a MAT file (v5/v7). `what` is the distribution's name for the file.

    A file that cannot be opened raises the OSError of opening it (e.g. PermissionError naming
    the file), not scipy's "Reader needs file name"."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected the {what} file)")
    with open(path, "rb") as handle:
        try:
            return loadmat(handle, verify_compressed_data_integrity=True)
        except MemoryError:  # a compressed field inflating beyond memory
            raise DatasetFormatError(
                f"{path}: not a readable MATLAB file (MemoryError: it claims more than fits in "
                "memory)"
            ) from None
        except Exception as error:  # scipy raises ValueError, OSError, zlib.error, TypeError...
            reason = clean(error, 120) if str(error) else type(error).__name__
            raise DatasetFormatError(
                f"{path}: not a readable MATLAB file ({type(error).__name__}: {reason})"
            ) from error


class MatNode:
    """A value inside a MAT file, with its path (e.g. ``DREAMER.Data{3}.EEG``) for messages."""

    def __init__(self, value, where: str, file: Path):
        self.value = value
        self.where = where
        self.file = file

    def fail(self, problem: str) -> DatasetFormatError:
        return DatasetFormatError(f"{self.file}: field {self.where}: {problem}")

    @property
    def name(self) -> str:
        """How messages name this node: ``<file>: field <where>``."""
        return f"{self.file}: field {self.where}"

    def _struct(self):
        value = self.value
        if isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
            value = value.reshape(-1)[0]
        return value, getattr(getattr(value, "dtype", None), "names", None) or ()

    def has(self, name: str) -> bool:
        """Whether this node is a struct with a field `name`."""
        return name in self._struct()[1]

    def field(self, name: str) -> MatNode:
        """The struct field `name` of this node."""
        value, names = self._struct()
        if not names:
            raise self.fail(f"expected a struct holding '{name}', got {_describe(value)}")
        if name not in names:
            raise DatasetFormatError(
                f"{self.file}: field {self.where}.{name} is missing (has {listing(names)})"
            )
        return MatNode(value[name].reshape(-1)[0], f"{self.where}.{name}", self.file)

    def cells(self) -> list[MatNode]:
        """The elements of a cell array, in MATLAB's linear order."""
        value = self.value
        if not (isinstance(value, np.ndarray) and value.dtype == object):
            raise self.fail(f"expected a cell array, got {_describe(value)}")
        return [
            MatNode(item, f"{self.where}{{{i + 1}}}", self.file)
            for i, item in enumerate(value.reshape(-1, order="F"))
        ]

    def scalar(self) -> float:
        value = np.asarray(self.value)
        if value.size != 1 or not np.issubdtype(value.dtype, np.number):
            raise self.fail(f"expected a number, got {_describe(value)}")
        return float(real(value, self.name).reshape(-1)[0])

    def vector(self, length: int | None = None) -> np.ndarray:
        value = np.asarray(self.value)
        if not np.issubdtype(value.dtype, np.number) or sum(n > 1 for n in value.shape) > 1:
            raise self.fail(f"expected a numeric vector, got {_describe(value)}")
        value = real(value, self.name).reshape(-1)
        if length is not None and value.size != length:
            raise self.fail(f"expected {length} values, got {value.size}")
        return value

    def matrix(self, n_columns: int | None = None) -> np.ndarray:
        """A finite, real, numeric 2-D matrix, optionally with `n_columns` columns."""
        value = np.asarray(self.value)
        if value.ndim != 2 or not np.issubdtype(value.dtype, np.number):
            raise self.fail(f"expected a numeric matrix, got {_describe(value)}")
        if n_columns is not None and value.shape[1] != n_columns:
            raise self.fail(f"expected (samples, {n_columns}), got shape {value.shape}")
        value = real(value, self.name)
        if not np.isfinite(value).all():
            bad = np.flatnonzero(~np.isfinite(value).all(axis=0)).tolist()
            raise self.fail(f"holds NaN or infinite values (in column(s) {bad})")
        return value

    def text(self) -> str:
        value = self.value
        if isinstance(value, np.ndarray):
            if value.dtype == object and value.size == 1:
                return MatNode(value.reshape(-1)[0], self.where, self.file).text()
            if value.dtype.kind == "U":
                return "".join(value.reshape(-1).tolist()).strip()
            if value.size == 0:
                return ""
        if isinstance(value, str):
            return value.strip()
        raise self.fail(f"expected text, got {_describe(value)}")

    def texts(self) -> list[str]:
        """A cell array of strings (or a char matrix, one string per row)."""
        value = self.value
        if isinstance(value, np.ndarray) and value.dtype.kind == "U" and value.ndim == 2:
            return [str(row).strip() for row in value.reshape(value.shape[0], -1)[:, 0]]
        return [cell.text() for cell in self.cells()]


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return type(value).__name__
