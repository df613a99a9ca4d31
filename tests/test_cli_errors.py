"""The CLI's one error path: every error a user can cause is one sanitised line and exit 2;
a bug shows its traceback and says so; Ctrl-C and closed pipes end quietly."""

import os
import pickle
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from physioemo import __version__, cli
from physioemo.cli import main
from physioemo.cli.options import positive_float, positive_int
from physioemo.errors import DataQualityWarning

ROOT = Path(__file__).resolve().parents[1]


def brainflow_error():
    from brainflow.board_shim import BrainFlowError

    return BrainFlowError("unable to prepare streaming session", 7)


def one_line(text: str) -> str:
    """The single line of `text`, checked to hold no control characters."""
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert not re.search(r"[\x00-\x1f\x7f]", lines[0]), lines[0]
    return lines[0]


def raising(monkeypatch, error):
    """Make `physioemo info` raise `error`."""

    def run(args):
        raise error

    monkeypatch.setattr(cli.data, "_info", run)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda: PermissionError(13, "Permission denied", "/data/s01.dat"),
            "/data/s01.dat: Permission denied",
        ),
        (
            lambda: IsADirectoryError(21, "Is a directory", "/data/DREAMER.mat"),
            "/data/DREAMER.mat: Is a directory",
        ),
        (lambda: FileExistsError(17, "File exists", "/out"), "/out: File exists"),
        (lambda: OSError(28, "No space left on device", "/cache/x.tmp"), "No space left on device"),
        (brainflow_error, "BrainFlowError: BOARD_NOT_READY_ERROR:7 unable to prepare"),
        (
            lambda: pickle.UnpicklingError(
                "Weights only load failed.\nUnsupported global: os.system"
            ),
            "UnpicklingError: Weights only load failed. Unsupported global",
        ),
        (lambda: KeyError("valence"), "KeyError: valence"),
        (lambda: RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (
            lambda: OverflowError("cannot convert float infinity to integer"),
            "OverflowError: cannot convert float infinity",
        ),
        (lambda: MemoryError(), "out of memory"),
        (
            lambda: ValueError("key '\x1b[31mred\x1b[0m\nsecond line' is missing"),
            "key 'red second line' is missing",
        ),
        (lambda: ValueError("x" * 20_000_000), "... (20,000,000 characters)"),
    ],
)
def test_user_errors_are_one_sanitised_line(monkeypatch, capsys, make, expected):
    raising(monkeypatch, make())
    assert main(["info", "dreamer", "--root", "anything"]) == 2
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert line.startswith("physioemo: error: ") and expected in line, line
    assert len(line) < 700 and captured.out == ""


def test_a_bug_shows_its_traceback_and_says_so(monkeypatch, capsys):
    raising(monkeypatch, ZeroDivisionError("division by zero"))
    assert main(["info", "dreamer", "--root", "anything"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ZeroDivisionError" in err
    assert err.splitlines()[-1].startswith("physioemo: internal error: this is a bug")


def test_ctrl_c_during_start_up_is_one_line(monkeypatch, capsys):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert main(["info", "dreamer", "--root", "x"]) == 130
    assert one_line(capsys.readouterr().err) == "physioemo: interrupted"


def test_warnings_are_one_line_each(monkeypatch, capsys):
    def run(args):
        warnings.warn(
            "s01.dat: flat channel(s): \x1b[2JFp1\n(all 40 trials)",
            DataQualityWarning,
            stacklevel=2,
        )
        print("done")

    monkeypatch.setattr(cli.data, "_info", run)
    assert main(["info", "deap", "--root", "x"]) == 0
    captured = capsys.readouterr()
    assert (
        one_line(captured.err)
        == "physioemo: warning: s01.dat: flat channel(s): Fp1 (all 40 trials)"
    )
    assert captured.out == "done\n"


def test_a_file_where_the_output_folder_should_be(tmp_path, capsys):
    out = tmp_path / "taken"
    out.write_text("not a folder")
    assert main(["synth", "seed", str(out)]) == 2
    line = one_line(capsys.readouterr().err)
    assert str(out) in line and ("File exists" in line or "Not a directory" in line), line


def test_closed_pipe_exits_quietly(small_dreamer):
    # `physioemo info ... | head -0`: the reader is gone before anything is written
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "physioemo.cli",
        "info",
        "dreamer",
        "--root",
        str(small_dreamer),
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    child.stdout.close()
    err = child.stderr.read()
    assert child.wait(timeout=120) == 141 and err == b""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["features", "dreamer", "--root", "x", "--window", "inf"],
            "argument --window: expected a finite number > 0, got 'inf'",
        ),
        (
            ["features", "dreamer", "--root", "x", "--window", "nan"],
            "argument --window: expected a finite number > 0, got 'nan'",
        ),
        (
            ["features", "dreamer", "--root", "x", "--stride", "0"],
            "argument --stride: expected a finite number > 0, got '0'",
        ),
        (
            ["features", "dreamer", "--root", "x", "--window", "one"],
            "argument --window: expected a number, got 'one'",
        ),
        (
            ["synth", "deap", "out", "--subjects", "0"],
            "argument --subjects: expected an integer >= 1, got '0'",
        ),
        (
            ["synth", "deap", "out", "--seconds", "-1"],
            "argument --seconds: expected a finite number > 0, got '-1'",
        ),
        (
            ["synth", "deap", "out", "--seed", "-3"],
            "argument --seed: expected an integer >= 0, got '-3'",
        ),
        (
            ["live", "--duration", "inf"],
            "argument --duration: expected a finite number > 0, got 'inf'",
        ),
        (
            ["features", "dreamer", "--root", "x", "--kind", "\x1b[31mred\n"],
            "argument --recipe/--kind: invalid choice: '[31mred",
        ),
        (["info"], "the following arguments are required: dataset"),
    ],
)
def test_bad_arguments_are_refused_by_argparse_in_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("physioemo: error: ") and message in line.replace("\\x1b", ""), line


def test_argument_types_are_reusable():
    assert positive_float("0.5") == 0.5 and positive_int("3") == 3
    for bad in ("0", "-1", "inf", "nan", "x"):
        with pytest.raises(Exception, match="expected"):
            positive_float(bad)


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"physioemo {__version__}\n"


def test_full_applies_to_deap_only(tmp_path, capsys):
    assert main(["synth", "seed", str(tmp_path), "--full"]) == 2
    assert "--full applies to deap only" in one_line(capsys.readouterr().err)
