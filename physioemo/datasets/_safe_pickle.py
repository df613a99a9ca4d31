"""Opening dataset pickles without running code or trusting a size: a checked unpickler.

A pickle is a small program: opcodes push values, build containers, and call the callables it
names (``GLOBAL``) on arguments it chooses (``REDUCE``), then hand them state (``BUILD``).
`safe_load` runs that program in Python's pure-Python unpickler with every step narrowed:

* names resolve only to checking stand-ins for the few callables that rebuild numpy arrays,
  dtypes and scalars (as Python 2 ``cPickle`` and Python 3 write them at any protocol), plain
  sets, complex numbers, and bytes; ``numpy.ndarray`` itself is never called;
* an array is built only from numpy's own reconstruction path, once, after its state is
  checked: a numeric or fixed-width text dtype (never object), a shape whose size times the
  item size equals the bytes actually in the file;
* opcodes that make objects of arbitrary classes (``INST``, ``OBJ``, ``NEWOBJ``, extensions,
  persistent ids, out-of-band buffers) are refused; ``BUILD`` applies only to those arrays
  and dtypes;
* containers nest at most `MAX_DEPTH` levels (keys too, checked before anything is hashed), a
  container is never changed once it sits inside another (so no cycles), and a file runs at
  most `MAX_OPERATIONS` opcodes.

Anything else stops the load with one line naming the file and what was refused.
"""

from __future__ import annotations

import codecs
import io
import math
import pickle
import re
import struct
from pathlib import Path

import numpy as np

from ..errors import DatasetFormatError, clean

#: deepest nesting of containers (dict -> dict -> array is 2); the datasets need 4
MAX_DEPTH = 32
#: opcodes one file may run; a dataset pickle holds a few dozen arrays (DEAP: 2, WESAD: 11)
MAX_OPERATIONS = 1_000_000
#: dtype kinds an array may have: bool, integers, floats, complex, fixed-width bytes and text
_KINDS = "biufcSU"
_DTYPE_NAME = re.compile(r"[biufcSU]\d{1,7}")
_MAX_ITEMSIZE = 1 << 20
_MAX_NDIM = 32
#: Encodings `_codecs.encode` may be asked for (Python 3 writes bytes this way at protocol <= 2).
_BYTES_ENCODINGS = {"latin1", "latin-1", "iso-8859-1", "iso8859-1"}
_CONTAINERS = (tuple, list, dict, set, frozenset)
#: opcodes never needed to rebuild numpy content, and what they would do
_REFUSED_OPCODES = {
    pickle.INST: "INST (instantiates a class)",
    pickle.OBJ: "OBJ (instantiates a class)",
    pickle.NEWOBJ: "NEWOBJ (instantiates a class)",
    pickle.NEWOBJ_EX: "NEWOBJ_EX (instantiates a class)",
    pickle.EXT1: "EXT1 (extension registry)",
    pickle.EXT2: "EXT2 (extension registry)",
    pickle.EXT4: "EXT4 (extension registry)",
    pickle.PERSID: "PERSID (persistent id)",
    pickle.BINPERSID: "BINPERSID (persistent id)",
    pickle.NEXT_BUFFER: "NEXT_BUFFER (out-of-band buffer)",
    pickle.READONLY_BUFFER: "READONLY_BUFFER (out-of-band buffer)",
    pickle.DUP: "DUP",
}


class _Refused(pickle.UnpicklingError):
    """Something the checked unpickler does not build; the message says what."""


def _numpy_core(name: str):
    """numpy's core attribute `name` (``numpy._core`` in numpy 2, ``numpy.core`` before)."""
    core = getattr(np, "_core", None) or np.core
    module, _, attribute = name.rpartition(".")
    return getattr(getattr(core, module), attribute)


# ----------------------------------------------------------------------------- checks
def _dtype(value) -> np.dtype:
    """`value` if it is a dtype arrays may have, else refused."""
    if not isinstance(value, np.dtype):
        raise _Refused(f"a {clean(type(value).__name__)} where a numpy dtype belongs")
    if value.hasobject or value.kind not in _KINDS or value.fields or value.subdtype:
        raise _Refused(f"numpy dtype {clean(value.str)} (only numbers and fixed-width text)")
    if not 0 < value.itemsize <= _MAX_ITEMSIZE:
        raise _Refused(f"numpy dtype {clean(value.str)} of item size {value.itemsize}")
    return value


def _shape(value) -> tuple[int, ...]:
    if type(value) is not tuple or len(value) > _MAX_NDIM:
        raise _Refused(f"array shape {clean(value, 40)} (expected a tuple of sizes)")
    if not all(type(n) is int and n >= 0 for n in value):
        raise _Refused(f"array shape {clean(value, 40)} (sizes must be non-negative integers)")
    return value


def _raw(value, what: str) -> bytes:
    """Bytes of `value`: bytes, bytearray, or a Python 2 byte string read as latin-1 text."""
    if isinstance(value, bytes | bytearray):
        return value
    if isinstance(value, str):
        try:
            return value.encode("latin1")
        except UnicodeEncodeError:
            raise _Refused(f"{what} given as text that is not bytes") from None
    raise _Refused(f"{what} given as {clean(type(value).__name__)} (expected bytes)")


def _sized(shape: tuple[int, ...], dtype: np.dtype, data, what: str) -> bytes:
    """`data` as bytes, refused unless it holds exactly shape x item size bytes."""
    data = _raw(data, what)
    claimed = math.prod(shape) * dtype.itemsize
    if claimed != len(data):
        raise _Refused(
            f"{what} claiming shape {clean(shape, 60)} of {dtype.str} ({claimed:,} bytes) "
            f"from {len(data):,} bytes"
        )
    return data


# ----------------------------------------------------------------------------- the unpickler
class _NdarrayName:
    """What ``numpy.ndarray`` resolves to: a marker `_reconstruct` accepts, never called."""

    def __call__(self, *args, **kwargs):
        raise _Refused("numpy.ndarray called directly (arrays come only from their pickled state)")


_NDARRAY = _NdarrayName()


class _ExactReads(io.BytesIO):
    """The file's bytes, where a read of n bytes returns n bytes or fails: a length read from
    the file is never trusted (the pure-Python unpickler would accept a short read)."""

    def read(self, size=-1):
        data = super().read(size)
        if size is not None and 0 <= size != len(data):
            raise pickle.UnpicklingError("pickle data was truncated")
        return data


def _counted(handler):
    """An opcode handler that counts operations before running `handler`."""

    def run(self):
        self._operations += 1
        if self._operations > MAX_OPERATIONS:
            raise _Refused(f"more than {MAX_OPERATIONS:,} operations")
        handler(self)

    return run


def _refuse(what: str):
    def run(self):
        raise _Refused(f"opcode {what}")

    return run


class _CheckedUnpickler(pickle._Unpickler):
    """Python's pure-Python unpickler (whose opcode handlers can be replaced), with the checked
    handlers of `_dispatch` and the stand-ins of `_allowed_names`."""

    def __init__(self, file):
        super().__init__(file, encoding="latin1")
        self._operations = 0
        self._depths: dict[int, tuple[int, object]] = {}  # id -> (depth, the container alive)
        self._nested: set[int] = set()  # ids of containers that sit inside another
        self._unbuilt: dict[int, object] = {}  # arrays and dtypes awaiting their one BUILD
        self._names = self._allowed_names()

    # ------------------------------------------------------------------------- names
    def find_class(self, module, name):
        found = self._names.get((module, name))
        if found is None:
            raise _Refused(f"{clean(module, 60)}.{clean(name, 60)}")
        return found

    def _allowed_names(self) -> dict:
        """(module, name) a pickle may use -> the checking stand-in it resolves to."""
        names = {("numpy", "ndarray"): _NDARRAY, ("numpy", "dtype"): self._new_dtype}
        for core in ("core", "_core"):
            names[(f"numpy.{core}.multiarray", "_reconstruct")] = self._reconstruct
            names[(f"numpy.{core}.multiarray", "scalar")] = self._scalar
            names[(f"numpy.{core}.numeric", "_frombuffer")] = self._frombuffer
        plain = {"set": self._set, "frozenset": self._frozenset, "complex": _complex}
        plain["bytes"] = _empty_bytes
        for module in ("builtins", "__builtin__"):
            names.update({(module, name): function for name, function in plain.items()})
        names[("_codecs", "encode")] = _encode_latin1
        return names

    def _reconstruct(self, cls, shape, code):
        """numpy's first step of unpickling an array: an empty int8 array, state to follow."""
        plain = cls is _NDARRAY and type(shape) is tuple and shape == (0,)
        if not plain or _raw(code, "array type code") != b"b":
            raise _Refused("numpy _reconstruct of anything but an empty plain ndarray")
        array = _numpy_core("multiarray._reconstruct")(np.ndarray, (0,), b"b")
        self._unbuilt[id(array)] = array
        return array

    def _new_dtype(self, name, align=False, copy=False):
        if type(name) is not str or not _DTYPE_NAME.fullmatch(name):
            raise _Refused(f"numpy dtype {clean(name, 40)} (only numbers and fixed-width text)")
        if type(align) not in (bool, int) or type(copy) not in (bool, int):
            raise _Refused("numpy dtype with non-boolean flags")
        dtype = _dtype(np.dtype(name, bool(align), True))  # a copy: BUILD may change it
        self._unbuilt[id(dtype)] = dtype
        return dtype

    def _scalar(self, dtype, data):
        dtype = _dtype(dtype)
        return _numpy_core("multiarray.scalar")(dtype, _sized((), dtype, data, "a numpy scalar"))

    def _frombuffer(self, buffer, dtype, shape, order):
        if not isinstance(buffer, bytes | bytearray) or order not in ("C", "F"):
            raise _Refused("numpy _frombuffer of anything but bytes in C or F order")
        dtype, shape = _dtype(dtype), _shape(shape)
        buffer = _sized(shape, dtype, buffer, "an array")
        return _numpy_core("numeric._frombuffer")(buffer, dtype, shape, order)

    def _set(self, items=()):
        return set(_sequence(items, "set"))

    def _frozenset(self, items=()):
        return frozenset(_sequence(items, "frozenset"))

    # ------------------------------------------------------------------------- BUILD
    def _build(self):
        state = self.stack.pop()
        target = self.stack[-1]
        if self._unbuilt.pop(id(target), None) is not target:
            raise _Refused(f"BUILD of a {clean(type(target).__name__)} (state only for new arrays)")
        if isinstance(target, np.dtype):
            target.__setstate__(_dtype_state(state, target))
            _dtype(target)
        else:
            target.__setstate__(_array_state(state))

    # ------------------------------------------------------------------------- containers
    def _depth(self, value) -> int:
        if not isinstance(value, _CONTAINERS):
            return 0
        return self._depths.get(id(value), (1, None))[0]

    def _holding(self, items) -> int:
        """Depth of a container holding `items`, which now count as nested."""
        depth = 0
        for item in items:
            if isinstance(item, _CONTAINERS):
                self._nested.add(id(item))
                depth = max(depth, self._depth(item))
        if depth >= MAX_DEPTH:
            raise _Refused(f"containers nested deeper than {MAX_DEPTH} levels")
        return depth + 1

    def _push(self, make, items):
        """Push the container `make(items)`, its depth checked before it is made (and hashes)."""
        depth = self._holding(items)
        container = make(items)
        self._depths[id(container)] = (depth, container)
        self.append(container)

    def _grow(self, target, kind, items):
        """Check adding `items` to `target` (a `kind`) on the stack."""
        if type(target) is not kind:
            raise _Refused(f"adding items to a {clean(type(target).__name__)}")
        if id(target) in self._nested:
            raise _Refused("a container changed after it was put inside another")
        if any(item is target for item in items):
            raise _Refused("a container holding itself")
        depth = max(self._depth(target), self._holding(items))
        self._depths[id(target)] = (depth, target)

    def _empty(self, kind):
        self._push(lambda _: kind(), ())

    def _tuple(self, n=None):
        if n is None:
            items = self.pop_mark()
        else:
            if len(self.stack) < n:
                raise pickle.UnpicklingError(f"a tuple of {n} items from fewer")
            items = self.stack[len(self.stack) - n :]
            del self.stack[len(self.stack) - n :]
        self._push(tuple, items)

    def _list(self):
        self._push(lambda items: items, self.pop_mark())

    def _dict(self):
        items = self.pop_mark()
        self._push(lambda kv: dict(zip(kv[::2], kv[1::2], strict=True)), items)

    def _frozenset_opcode(self):
        self._push(frozenset, self.pop_mark())

    def _append(self):
        item = self.stack.pop()
        self._grow(self.stack[-1], list, [item])
        self.stack[-1].append(item)

    def _appends(self):
        items = self.pop_mark()
        self._grow(self.stack[-1], list, items)
        self.stack[-1].extend(items)

    def _setitem(self):
        key, value = self.stack[-2:]
        del self.stack[-2:]
        self._grow(self.stack[-1], dict, [key, value])
        self.stack[-1][key] = value

    def _setitems(self):
        items = self.pop_mark()
        self._grow(self.stack[-1], dict, items)
        self.stack[-1].update(zip(items[::2], items[1::2], strict=True))

    def _additems(self):
        items = self.pop_mark()
        self._grow(self.stack[-1], set, items)
        self.stack[-1].update(items)

    def _bytearray8(self):
        """BYTEARRAY8 without allocating the claimed size before the bytes are read."""
        (size,) = struct.unpack("<Q", self.read(8))
        self.append(bytearray(self.read(size)))

    def _reduce(self):
        arguments = self.stack.pop()
        function = self.stack[-1]
        if type(arguments) is not tuple:
            raise _Refused("a call whose arguments are not a tuple")
        result = function(*arguments)
        if isinstance(result, _CONTAINERS):
            self._depths[id(result)] = (self._holding(result), result)
        self.stack[-1] = result


class _Dispatch(dict):
    """Opcode -> handler; an opcode outside the table is damage, not a KeyError."""

    def __missing__(self, code):
        raise pickle.UnpicklingError(f"unknown opcode 0x{code:02x}")


def _dispatch() -> _Dispatch:
    """The pure-Python unpickler's table with the checked handlers, every one counted."""
    u = _CheckedUnpickler
    overrides = {
        pickle.BUILD: u._build,
        pickle.REDUCE: u._reduce,
        pickle.BYTEARRAY8: u._bytearray8,
        pickle.EMPTY_TUPLE: lambda self: self._empty(tuple),
        pickle.EMPTY_LIST: lambda self: self._empty(list),
        pickle.EMPTY_DICT: lambda self: self._empty(dict),
        pickle.EMPTY_SET: lambda self: self._empty(set),
        pickle.TUPLE: u._tuple,
        pickle.TUPLE1: lambda self: self._tuple(1),
        pickle.TUPLE2: lambda self: self._tuple(2),
        pickle.TUPLE3: lambda self: self._tuple(3),
        pickle.LIST: u._list,
        pickle.DICT: u._dict,
        pickle.FROZENSET: u._frozenset_opcode,
        pickle.APPEND: u._append,
        pickle.APPENDS: u._appends,
        pickle.SETITEM: u._setitem,
        pickle.SETITEMS: u._setitems,
        pickle.ADDITEMS: u._additems,
    }
    table = _Dispatch(
        (code, _counted(overrides.get(bytes([code]), handler)))
        for code, handler in pickle._Unpickler.dispatch.items()
    )
    table.update({code[0]: _refuse(what) for code, what in _REFUSED_OPCODES.items()})
    return table


_CheckedUnpickler.dispatch = _dispatch()


def _array_state(state) -> tuple:
    """numpy's array state (version, shape, dtype, fortran, raw bytes), checked."""
    if type(state) is not tuple or len(state) not in (4, 5):
        raise _Refused("an array state that is not numpy's (version, shape, dtype, order, data)")
    version, shape, dtype, fortran, data = state if len(state) == 5 else (1, *state)
    if type(version) is not int or type(fortran) not in (bool, int):
        raise _Refused("an array state with a malformed version or order flag")
    shape, dtype = _shape(shape), _dtype(dtype)
    return version, shape, dtype, bool(fortran), _sized(shape, dtype, data, "an array")


def _dtype_state(state, dtype: np.dtype) -> tuple:
    """numpy's dtype state (3, byte order, None, None, None, size, alignment, flags), checked:
    no sub-arrays or fields, the size of the named type (or of its text width)."""
    if type(state) is not tuple or len(state) != 8 or state[0] != 3:
        raise _Refused("a dtype state that is not numpy's version 3 state")
    _, order, subarray, names, fields, size, alignment, flags = state
    simple = subarray is None and names is None and fields is None
    sizes = (-1, dtype.itemsize) if dtype.kind not in "SU" else (dtype.itemsize,)
    if not simple or order not in ("<", ">", "|", "=") or size not in sizes:
        raise _Refused(f"a dtype state {clean(state, 60)} for {dtype.str}")
    if type(alignment) is not int or flags not in (0, 8):
        raise _Refused(f"a dtype state {clean(state, 60)} for {dtype.str}")
    return state


def _sequence(items, what: str):
    if type(items) not in (list, tuple):
        raise _Refused(f"{what} of a {clean(type(items).__name__)} (expected a list)")
    return items


def _complex(real=0.0, imaginary=0.0):
    if not all(type(part) in (int, float) for part in (real, imaginary)):
        raise _Refused("complex of anything but two numbers")
    return complex(real, imaginary)


def _empty_bytes(*arguments):
    """``bytes()``: how Python 3 pickles an empty byte string at protocols below 3."""
    if arguments:
        raise _Refused("builtins.bytes with arguments")
    return b""


def _encode_latin1(text, encoding="utf-8"):
    """`_codecs.encode` limited to latin-1, the only use a data pickle makes of it."""
    if type(text) is not str or type(encoding) is not str:
        raise _Refused("_codecs.encode of anything but text")
    if encoding.lower() not in _BYTES_ENCODINGS:
        raise _Refused(f"_codecs.encode with encoding {clean(encoding, 30)!r}")
    return codecs.encode(text, "latin1")


def safe_load(path: Path, what: str) -> object:
    """Unpickle `path` (strings decoded as latin-1, as Python 2 pickles need) safely.

    `what` is the distribution's name of the file, used in the error messages.
    Raises FileNotFoundError when `path` is missing and `DatasetFormatError` (one line, naming
    the file) when the pickle is truncated or damaged, names anything but numpy arrays, dtypes
    and scalars, or breaks a rule of the module docstring.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected the {what} file)")
    payload = path.read_bytes()  # reads never ask for more than is there: sizes are not trusted
    try:
        return _CheckedUnpickler(_ExactReads(payload)).load()
    except _Refused as refused:
        raise DatasetFormatError(
            f"{path}: refused to unpickle {refused} (the {what} file may hold only numpy "
            "arrays, dtypes, numbers, strings and plain containers)"
        ) from None
    except Exception as error:  # truncation and damage surface as many exception types
        reason = clean(error, 120) if str(error) else type(error).__name__
        raise DatasetFormatError(
            f"{path}: not a readable {what} pickle ({type(error).__name__}: {reason})"
        ) from None
