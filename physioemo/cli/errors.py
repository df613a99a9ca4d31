"""How a command's failures reach the user: one sanitised line for what the user can fix, a
traceback for a bug, warnings as one line each, and quiet ends for Ctrl-C and closed pipes."""

from __future__ import annotations

import os
import pickle
import sys
import traceback
import warnings
from collections.abc import Callable
from contextlib import contextmanager

from .._version import __version__
from ..errors import clean

#: exit statuses: a user's error, a bug, a closed output pipe (128 + SIGPIPE), Ctrl-C
USER_ERROR, BUG, BROKEN_PIPE, INTERRUPTED = 2, 1, 141, 130


def exit_status(command: Callable[[], object]) -> int:
    """Run `command` and return the exit status (see `physioemo.cli.main`)."""
    try:
        try:
            command()
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not at exit
    except KeyboardInterrupt:
        print("physioemo: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return BROKEN_PIPE
    except _user_errors() as error:
        print(f"physioemo: error: {describe(error)}", file=sys.stderr)
        return USER_ERROR
    except Exception:
        traceback.print_exc()
        print(
            f"physioemo: internal error: this is a bug in physioemo {__version__}; please report "
            "it with the command and the traceback above (see CONTRIBUTING.md)",
            file=sys.stderr,
        )
        return BUG
    return 0


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions a user's input or machine causes (files, arguments, devices), as opposed to
    bugs. ValueError covers DatasetFormatError; OSError covers missing, unreadable and
    unwritable files; torch's refusal of a checkpoint is a pickle.UnpicklingError."""
    errors = [ValueError, OSError, KeyError, RecursionError, OverflowError, MemoryError]
    errors.append(pickle.UnpicklingError)
    for module, name in (
        ("brainflow.board_shim", "BrainFlowError"),
        ("physioemo.live", "LiveError"),
    ):
        if module in sys.modules:  # only when the command used them: importing them is slow
            errors.append(getattr(sys.modules[module], name))
    return tuple(errors)


def describe(error: BaseException) -> str:
    """One line saying what went wrong, values sanitised."""
    if isinstance(error, OSError) and error.filename is not None:
        names = [error.filename, error.filename2]
        where = " -> ".join(clean(os.fsdecode(name), 200) for name in names if name is not None)
        text = f"{where}: {error.strerror or type(error).__name__}"
    elif isinstance(error, RecursionError):
        text = "input nested too deeply to read (RecursionError)"
    elif isinstance(error, MemoryError):
        text = f"out of memory ({error or 'MemoryError'}): does a file claim more than it holds?"
    else:
        text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
        text = text.strip() or type(error).__name__
        if type(error).__name__ in (
            "KeyError",
            "BrainFlowError",
            "UnpicklingError",
            "OverflowError",
        ):
            text = f"{type(error).__name__}: {text}"
    return clean(text, 600)


@contextmanager
def warnings_as_lines():
    """Show warnings as one ``physioemo: warning: ...`` line each, values sanitised."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"physioemo: warning: {clean(message, 600)}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _quiet_stdout() -> None:
    """Point stdout at the null device, so the exit-time flush into a closed pipe is silent."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (e.g. captured in tests)
        pass
