"""The checked unpickler: numpy content loads, anything that could run code is refused.

Hostile files (object arrays, size claims, deep nesting, gadgets) are in test_hostile_files.py."""

import os
import pickle
import re
import struct

import numpy as np
import pytest

from physioemo import DatasetFormatError
from physioemo.datasets._safe_pickle import safe_load


class _TouchesFile:
    """Unpickling this would call pathlib.Path.touch on `target`."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        import pathlib

        return pathlib.Path.touch, (pathlib.Path(self.target),)


class _RunsShell:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return os.system, (f"touch {self.target}",)


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_numpy_content_round_trips(tmp_path, protocol):
    content = {
        "data": np.arange(24.0).reshape(2, 3, 4),
        "labels": np.array([[1.0, 9.0]], dtype=np.float32),
        "scalar": np.float64(2.5),
        "text": np.array(["ECG", "EMG"]),
        "bytes": np.array([b"S2", b"S10"]),
        "empty": np.zeros((0, 3), dtype=np.int32),
        "big-endian": np.arange(3, dtype=">i4"),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "bool": np.array([True, False]),
        "complex": np.array([1 + 2j], dtype=np.complex64),
        "plain": [1, (2, "x"), {b"k": 3.5}, {4, 5}, frozenset({6}), 1 + 2j, b"", None, True],
    }
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps(content, protocol=protocol))
    loaded = safe_load(path, "test")
    np.testing.assert_array_equal(loaded["data"], content["data"])
    assert loaded["labels"].dtype == np.float32
    assert loaded["scalar"] == 2.5 and isinstance(loaded["scalar"], np.float64)
    reference = pickle.loads(path.read_bytes())  # what plain pickle builds (numpy swaps bytes)
    for key in ("text", "bytes", "empty", "big-endian", "fortran", "bool", "complex"):
        np.testing.assert_array_equal(loaded[key], content[key])
        assert loaded[key].dtype == reference[key].dtype and loaded[key].shape == content[key].shape
        assert loaded[key].flags.writeable == reference[key].flags.writeable
    assert loaded["fortran"].flags.f_contiguous
    assert loaded["plain"] == content["plain"]


@pytest.mark.parametrize("protocol", [2, 5])
def test_python3_pickle_of_an_empty_array(tmp_path, protocol):
    # protocol 2 writes the empty data as __builtin__.bytes() (issue 12, item 8)
    path = tmp_path / "empty.pkl"
    path.write_bytes(pickle.dumps({"x": np.zeros(0)}, protocol=protocol))
    loaded = safe_load(path, "test")["x"]
    assert loaded.shape == (0,) and loaded.dtype == np.float64


@pytest.mark.parametrize("payload", [_TouchesFile, _RunsShell])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_code_running_pickle_is_refused_and_creates_no_file(tmp_path, payload, protocol):
    target = tmp_path / "pwned"
    path = tmp_path / "s01.dat"
    path.write_bytes(pickle.dumps({"data": [payload(target)]}, protocol=protocol))
    # the payload really works with plain pickle: that is what is being refused
    pickle.loads(path.read_bytes())
    assert target.exists()
    target.unlink()
    with pytest.raises(DatasetFormatError) as error:
        safe_load(path, "data_preprocessed_python/s01.dat")
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    # older protocols reach Path.touch through getattr; either way the first foreign name stops it
    refused = r"refused to unpickle (__builtin__\.getattr|pathlib\S*\.(Path\.)?touch|\w+\.system) "
    assert re.search(refused, message), message
    assert not target.exists()


def test_codecs_encode_is_limited_to_latin1(tmp_path):
    # _codecs.encode is allowed for Python 3 bytes at protocol 2, but only as latin-1
    payload = b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x04\x00\x00\x00zlibq\x00\x86R."
    path = tmp_path / "codec.pkl"
    path.write_bytes(payload)
    with pytest.raises(DatasetFormatError, match="zlib"):
        safe_load(path, "test")


def test_truncated_pickle_names_the_file(tmp_path):
    path = tmp_path / "s02.dat"
    whole = pickle.dumps({"data": np.zeros((4, 40, 100))}, protocol=2)
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatasetFormatError, match=r"s02\.dat.*not a readable"):
        safe_load(path, "data_preprocessed_python/s02.dat")


def test_missing_file_names_the_distribution_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"s03\.dat.*data_preprocessed_python/s03\.dat"):
        safe_load(tmp_path / "s03.dat", "data_preprocessed_python/s03.dat")


def py2_pickle_of_array(values: np.ndarray) -> bytes:
    """A dict {"x": values} pickled as Python 2 with numpy 1.x would (``numpy.core``, str data)."""
    data = values.astype("<f8").tobytes()
    assert len(data) < 256
    return b"".join(
        [
            b"\x80\x02}U\x01x",  # PROTO 2, EMPTY_DICT, key 'x' as a Python 2 str
            b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R",
            b"(K\x01K%c\x85" % len(values),  # state: version 1, shape (n,)
            b"cnumpy\ndtype\nU\x02f8K\x00K\x01\x87R",
            b"(K\x03U\x01<NNN" + (b"J" + struct.pack("<i", -1)) * 2 + b"K\x00tb",
            b"\x89U%c" % len(data) + data,  # not Fortran order, raw bytes as a Python 2 str
            b"tbs.",
        ]
    )


def test_python2_numpy1_pickle(tmp_path):
    values = np.array([-1.0, 0.5, 3.25, -2e-3, 7.0])  # bytes above 0x7f: latin1 matters
    path = tmp_path / "py2.pkl"
    path.write_bytes(py2_pickle_of_array(values))
    np.testing.assert_array_equal(safe_load(path, "test")["x"], values)
