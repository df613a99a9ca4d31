"""Hostile pickles, built here (never committed as files): each is refused in one line naming the
file, in a child process that must not die by a signal and runs under a 2.5 GB address-space
limit, and no gadget runs.

Covered: object arrays through every allowed callable, deep nesting as values and as keys,
cycles, size claims far beyond the file, and the classic code-execution gadgets.
"""

import json
import os
import pickle
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from physioemo import DatasetFormatError
from physioemo.datasets import _safe_pickle
from physioemo.datasets._safe_pickle import MAX_DEPTH, MAX_OPERATIONS, safe_load

MEMORY_LIMIT = int(2.5 * 2**30)
CORE = "numpy._core.multiarray"


# ----------------------------------------------------------------------------- opcodes
def glob(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def text(value: str) -> bytes:
    data = value.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def raw(data: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(data)) + data  # BINBYTES


def num(n: int) -> bytes:
    return (
        b"J" + struct.pack("<i", n)
        if -(2**31) <= n < 2**31
        else b"\x8a\x08" + n.to_bytes(8, "little", signed=True)
    )


def tup(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def call(function: bytes, *arguments: bytes) -> bytes:
    return function + tup(*arguments) + b"R"


def dtype(name: str, order="<") -> bytes:
    state = tup(num(3), text(order), b"NNN", num(-1), num(-1), num(0))
    return call(glob("numpy", "dtype"), text(name), b"\x89", b"\x88") + state + b"b"


def empty_array() -> bytes:
    return call(glob(CORE, "_reconstruct"), glob("numpy", "ndarray"), tup(num(0)), raw(b"b"))


def array(shape: tuple, dtype_opcodes: bytes, data: bytes) -> bytes:
    state = tup(num(1), tup(*map(num, shape)), dtype_opcodes, b"\x89", raw(data))
    return empty_array() + state + b"b"


def program(body: bytes, protocol=4) -> bytes:
    return b"\x80" + bytes([protocol]) + body + b"."


class Gadget:
    """Pickles as `function(*arguments)`; plain pickle would run it."""

    def __init__(self, function, *arguments):
        self.call = (function, arguments)

    def __reduce__(self):
        return self.call


# ----------------------------------------------------------------------------- payloads
def payloads(sentinel: Path) -> dict[str, tuple[bytes, str]]:
    """name -> (pickle bytes, a fragment the refusal must contain)."""
    object_dtype = call(glob("numpy", "dtype"), text("O8"), b"\x89", b"\x88")
    pointers = struct.pack("<Q", 0x4141414141414141)
    n_deep = 1_000_000
    cases = {
        # object arrays, through every callable the allow-list knows
        "ndarray called with a buffer": (
            program(call(glob("numpy", "ndarray"), tup(num(1)), text("O"), raw(pointers))),
            "numpy.ndarray called directly",
        ),
        "ndarray called for 10**9 objects": (
            program(call(glob("numpy", "ndarray"), tup(num(10**9)), text("O"))),
            "numpy.ndarray called directly",
        ),
        "set over an object array (the segfault)": (
            program(
                call(
                    glob("builtins", "set"),
                    call(glob("numpy", "ndarray"), tup(num(4)), text("O"), raw(pointers * 4)),
                )
            ),
            "numpy.ndarray called directly",
        ),
        "object dtype by name": (program(object_dtype), "numpy dtype O8"),
        "object dtype through _reconstruct": (
            program(array((2,), object_dtype, b"")),
            "numpy dtype O8",
        ),
        "object array state with a dtype string": (
            program(
                empty_array() + tup(num(1), tup(num(1)), text("O"), b"\x89", raw(pointers)) + b"b"
            ),
            "a str where a numpy dtype belongs",
        ),
        "object scalar": (program(call(glob(CORE, "scalar"), object_dtype, raw(pointers))), "O8"),
        "object _frombuffer": (
            program(
                call(
                    glob("numpy._core.numeric", "_frombuffer"),
                    raw(pointers),
                    object_dtype,
                    tup(num(1)),
                    text("C"),
                )
            ),
            "O8",
        ),
        "structured dtype with an object field": (
            program(
                call(glob("numpy", "dtype"), text("V8"), b"\x89", b"\x88")
                + tup(num(3), text("|"), b"N", tup(text("f")), b"}", num(8), num(1), num(63))
                + b"b"
            ),
            "numpy dtype V8",
        ),
        "dtype state with a sub-array": (
            program(
                call(glob("numpy", "dtype"), text("f8"), b"\x89", b"\x88")
                + tup(
                    num(3),
                    text("<"),
                    tup(dtype("f8"), tup(num(10**9))),
                    b"NN",
                    num(-1),
                    num(-1),
                    num(0),
                )
                + b"b"
            ),
            "a dtype state",
        ),
        "_reconstruct of another class": (
            program(
                call(glob(CORE, "_reconstruct"), glob("numpy", "dtype"), tup(num(0)), raw(b"b"))
            ),
            "_reconstruct of anything but an empty plain ndarray",
        ),
        "BUILD applied to an array a second time": (
            program(
                array((1,), dtype("f8"), bytes(8))
                + tup(num(1), tup(num(2)), dtype("f8"), b"\x89", raw(bytes(16)))
                + b"b"
            ),
            "BUILD of a ndarray",
        ),
        "BUILD applied to a dict": (program(b"}" + b"}" + b"b"), "BUILD of a dict"),
        "set of a numeric array": (
            program(call(glob("builtins", "set"), array((3,), dtype("f8"), bytes(24)))),
            "set of a ndarray",
        ),
        "bytes with a size": (
            program(call(glob("builtins", "bytes"), num(10**12))),
            "builtins.bytes",
        ),
        "codecs to zlib": (
            program(call(glob("_codecs", "encode"), text("x"), text("zlib"))),
            "zlib",
        ),
        # nesting, as values and as keys, and cycles
        "tuple nested 10**6 deep as a value": (
            program(num(0) + b"\x85" * n_deep),
            f"nested deeper than {MAX_DEPTH}",
        ),
        "tuple nested 10**6 deep as a key": (
            program(b"}" + num(0) + b"\x85" * n_deep + num(1) + b"s"),
            f"nested deeper than {MAX_DEPTH}",
        ),
        "frozenset nested 10**5 deep as a key": (
            program(b"}" + b"(" * 100_000 + num(0) + b"\x91" * 100_000 + num(1) + b"s"),
            f"nested deeper than {MAX_DEPTH}",
        ),
        "list nested 10**5 deep": (
            program(b"(" * 100_000 + num(0) + b"l" * 100_000, 2),
            f"nested deeper than {MAX_DEPTH}",
        ),
        "dict nested 10**5 deep": (
            program((b"(" + num(0)) * 100_000 + num(0) + b"d" * 100_000, 2),
            f"nested deeper than {MAX_DEPTH}",
        ),
        "a list holding itself": (program(b"]q\x00h\x00a", 2), "holding itself"),
        "a list changed after nesting": (
            program(b"]q\x00]h\x00ah\x00" + num(1) + b"a", 2),
            "changed after it was put inside another",
        ),
        # size claims far beyond the file
        "array claiming 10**9 floats from 0 bytes": (
            program(array((10**9,), dtype("f8"), b"")),
            "claiming shape (1000000000,) of <f8 (8,000,000,000 bytes) from 0 bytes",
        ),
        "DEAP data claiming (40, 40, 234375) from 8 bytes": (
            program(b"}" + text("data") + array((40, 40, 234375), dtype("f8"), bytes(8)) + b"s"),
            "(3,000,000,000 bytes) from 8 bytes",
        ),
        "shape whose product overflows int64": (
            program(array((2**62, 2**62, 16), dtype("f8"), bytes(8))),
            "claiming shape",
        ),
        "_frombuffer claiming 10**9 floats": (
            program(
                call(
                    glob("numpy._core.numeric", "_frombuffer"),
                    raw(bytes(8)),
                    dtype("f8"),
                    tup(num(10**9)),
                    text("C"),
                )
            ),
            "claiming shape (1000000000,)",
        ),
        "scalar with too few bytes": (
            program(call(glob(CORE, "scalar"), dtype("f8"), raw(b""))),
            "a numpy scalar",
        ),
        "dtype with a 40 MB item": (
            program(call(glob("numpy", "dtype"), text("U9999999"), b"\x89", b"\x88")),
            "item size",
        ),
        "BINBYTES8 claiming 2**62 bytes": (
            program(b"\x8e" + struct.pack("<Q", 2**62) + b"xx"),
            "truncated",
        ),
        "BYTEARRAY8 claiming 2**62 bytes": (
            program(b"\x96" + struct.pack("<Q", 2**62) + b"xx", 5),
            "truncated",
        ),
        "BINUNICODE8 claiming 2**62 bytes": (
            program(b"\x8d" + struct.pack("<Q", 2**62) + b"xx"),
            "truncated",
        ),
        "LONG4 claiming 2**31 bytes": (
            program(b"\x8b" + struct.pack("<i", 2**31 - 1) + b"xx"),
            "truncated",
        ),
        "FRAME claiming 2**62 bytes": (
            program(b"\x95" + struct.pack("<Q", 2**62) + b"N"),
            "truncated",
        ),
        # code-execution gadgets
        "os.system via REDUCE": (
            program(call(glob("os", "system"), text(f"touch {sentinel}")), 2),
            "os.system",
        ),
        "Python 2 names (__builtin__.eval)": (
            pickle.dumps(Gadget(eval, "1"), protocol=2),
            "unpickle __builtin__.eval ",
        ),
        "posix.system via INST": (
            b"(S'touch " + str(sentinel).encode() + b"'\nios\nsystem\n.",
            "opcode INST",
        ),
        "OBJ of an allowed name": (b"\x80\x02(" + glob("builtins", "set") + b"o.", "opcode OBJ"),
        "NEWOBJ of a class": (program(glob("builtins", "set") + b")\x81"), "opcode NEWOBJ"),
        "EXT1 from the copyreg registry": (program(b"\x82\x01"), "opcode EXT1"),
        "persistent id": (program(text("x") + b"Q"), "opcode BINPERSID"),
        "out-of-band buffer": (program(b"\x97", 5), "opcode NEXT_BUFFER"),
        "Path.touch via STACK_GLOBAL": (
            program(
                text("pathlib") + text("Path.touch") + b"\x93" + tup(text(str(sentinel))) + b"R"
            ),
            "pathlib.Path.touch",
        ),
        "attribute path through numpy": (
            program(text("numpy") + text("ndarray.__reduce__") + b"\x93"),
            "numpy.ndarray.__reduce__",
        ),
        "numpy.load with pickles": (program(glob("numpy", "load")), "numpy.load"),
        "copyreg._reconstructor": (
            program(glob("copyreg", "_reconstructor")),
            "copyreg._reconstructor",
        ),
        "a name with terminal escapes": (
            program(glob("os\x1b[2J", "system\x1b]0;pwned\x07")),
            "os.system",
        ),
    }
    touch = f"open({str(sentinel)!r}, 'w')"
    gadgets = {  # refused name at protocol 5 -> gadget
        "posix.system": Gadget(os.system, f"touch {sentinel}"),
        "builtins.eval": Gadget(eval, touch),
        "builtins.exec": Gadget(exec, touch),
        "builtins.__import__": Gadget(__import__, "os"),
        "builtins.getattr": Gadget(getattr, "", "join"),
        "subprocess.Popen": Gadget(subprocess.Popen, ["touch", str(sentinel)]),
        "pathlib.Path.touch": Gadget(Path.touch, Path(sentinel)),
    }
    for protocol in (0, 2, 5):
        for refused, gadget in gadgets.items():
            if protocol < 4 and refused.startswith("pathlib"):  # methods go through getattr
                refused = "builtins.getattr"
            data = pickle.dumps({"data": [gadget]}, protocol=protocol, fix_imports=False)
            cases[f"{refused} gadget at protocol {protocol}"] = (data, f"unpickle {refused} ")
    return cases


CHILD = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    from physioemo import DatasetFormatError
    from physioemo.datasets import load
    from physioemo.datasets._safe_pickle import safe_load

    for argument in sys.argv[1:]:
        kind, _, path = argument.partition(":")
        try:
            if kind == "pickle":
                safe_load(path, "hostile")
            else:
                load(kind, path).subject(load(kind, path).subjects[0])
            outcome, message = "loaded", ""
        except DatasetFormatError as error:
            outcome, message = "refused", str(error)
        except BaseException as error:  # anything else is a finding
            outcome, message = type(error).__name__, str(error)[:300]
        print(json.dumps({{"argument": argument, "outcome": outcome, "message": message}}))
        sys.stdout.flush()
    """
)


def run_child(arguments: list[str]) -> list[dict]:
    """Load each argument ("pickle:PATH" or "DATASET:ROOT") in one child under the memory limit."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(limit=MEMORY_LIMIT), *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, f"child ended with {done.returncode}: {done.stderr[-2000:]}"
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_hostile_pickles_are_refused_in_one_line(tmp_path):
    sentinel = tmp_path / "pwned"
    cases = payloads(sentinel)
    paths = {}
    for i, (name, (data, _)) in enumerate(cases.items()):
        paths[name] = tmp_path / f"case{i:02d}.pkl"
        paths[name].write_bytes(data)
    results = run_child([f"pickle:{paths[name]}" for name in cases])
    assert len(results) == len(cases)
    for (name, (_, fragment)), result in zip(cases.items(), results, strict=True):
        assert result["outcome"] == "refused", (name, result)
        message = result["message"]
        assert "\n" not in message and "\x1b" not in message and str(paths[name]) in message, name
        assert fragment in message, (name, message)
    assert not sentinel.exists()


def test_every_payload_is_small():
    # the refusals above are claims, not bytes: no payload is larger than a few MB
    sizes = {name: len(data) for name, (data, _) in payloads(Path("/nonexistent")).items()}
    assert max(sizes.values()) < 4_000_000


def test_hostile_dataset_files_through_the_loaders(tmp_path):
    # DEAP: a 1.7 KB s01.dat claiming 73,242 s of data; WESAD: an object array in the signals
    deap = tmp_path / "deap" / "data_preprocessed_python"
    deap.mkdir(parents=True)
    labels = text("labels") + array((40, 4), dtype("f8"), bytes(40 * 4 * 8))
    data = text("data") + array((40, 40, 234375), dtype("f8"), bytes(64))
    (deap / "s01.dat").write_bytes(program(b"}(" + labels + data + b"u", 2))
    assert (deap / "s01.dat").stat().st_size < 2000
    wesad = tmp_path / "wesad" / "S2"
    wesad.mkdir(parents=True)
    (wesad / "S2.pkl").write_bytes(
        program(
            call(glob("builtins", "set"), call(glob("numpy", "ndarray"), tup(num(1)), text("O"))), 2
        )
    )
    results = run_child([f"deap:{tmp_path / 'deap'}", f"wesad:{tmp_path / 'wesad'}"])
    assert [r["outcome"] for r in results] == ["refused", "refused"], results
    assert (
        "s01.dat: refused to unpickle an array claiming shape (40, 40, 234375)"
        in results[0]["message"]
    )
    assert "S2.pkl: refused to unpickle numpy.ndarray called directly" in results[1]["message"]


def test_operation_budget(tmp_path, monkeypatch):
    # the budget itself, in this process: a file of no-ops longer than MAX_OPERATIONS
    path = tmp_path / "long.pkl"
    path.write_bytes(program(b"N0" * 1000 + b"N", 2))
    monkeypatch.setattr(_safe_pickle, "MAX_OPERATIONS", 1000)
    with pytest.raises(DatasetFormatError, match="more than 1,000 operations"):
        safe_load(path, "hostile")
    monkeypatch.setattr(_safe_pickle, "MAX_OPERATIONS", MAX_OPERATIONS)
    assert safe_load(path, "hostile") is None


def test_depth_limit_is_exact(tmp_path):
    # MAX_DEPTH levels load, one more is refused, keys included
    path = tmp_path / "deep.pkl"
    for depth, refused in ((MAX_DEPTH, False), (MAX_DEPTH + 1, True)):
        key = num(0) + b"\x85" * (depth - 1)  # a tuple `depth - 1` deep inside a dict
        path.write_bytes(program(b"}" + key + num(1) + b"s"))
        if refused:
            with pytest.raises(DatasetFormatError, match="nested deeper"):
                safe_load(path, "hostile")
        else:
            loaded = safe_load(path, "hostile")
            assert isinstance(loaded, dict) and len(loaded) == 1


def test_the_hand_assembled_array_loads(tmp_path):
    # the opcodes the payloads are made of build a real array when nothing is wrong with them
    path = tmp_path / "array.pkl"
    path.write_bytes(program(array((2, 3), dtype("f4", ">"), np.arange(6, dtype=">f4").tobytes())))
    np.testing.assert_array_equal(safe_load(path, "test"), np.arange(6.0).reshape(2, 3))
