"""physioemo's loggers: ``logging.getLogger("physioemo")`` and one per module below it
(``getLogger(__name__)``), silent unless the application configures logging or a call asks
for it with ``verbose=``.

The library's root logger holds a `logging.NullHandler`, so importing physioemo prints
nothing. A long-running entry point (`physioemo.experiment.run`, ``cross_validate``,
``experiment.train.train``, ``experiment.reproduce.reproduce``) takes ``verbose``, in the
scikit-learn and MNE tradition, and sets the physioemo logger's level for that call (`level`
says what each value means). Its progress lines ("3 jobs, 0 already in ...", one per finished
job) are log records at INFO: they go to the loggers when something listens at INFO (an
application's ``logging.basicConfig(level=logging.INFO)``, ``verbose=True``, the CLI's
``-v``), and to the call's ``echo`` (``print``) otherwise, as they always did.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import sys

ROOT = logging.getLogger("physioemo")
ROOT.addHandler(logging.NullHandler())

#: -v counts (and verbose=True/False) -> level
COUNTS = {0: logging.WARNING, 1: logging.INFO}


def level(verbose: bool | int | str) -> int:
    """The logging level `verbose` means: True INFO, False WARNING; an int below 10 counts
    like the CLI's -v (0 WARNING, 1 INFO, 2 or more DEBUG), 10 and above is a level; a
    level's name ("DEBUG", "info", ...). ValueError on anything else."""
    if isinstance(verbose, bool) or (isinstance(verbose, int) and 0 <= verbose < 10):
        return COUNTS.get(int(verbose), logging.DEBUG)
    if isinstance(verbose, int) and verbose >= 10:
        return verbose
    named = logging.getLevelName(verbose.upper()) if isinstance(verbose, str) else None
    if not isinstance(named, int):
        raise ValueError(
            f"verbose: expected True/False, a count, a logging level or its name, got {verbose!r}"
        )
    return named


def verbosity(verbose: bool | int | str | None):
    """A context manager: within it, the physioemo logger at `level(verbose)` (None: left as
    it is). When no handler of the application would show the records, a stderr handler shows
    them within it."""
    if verbose is None:
        return contextlib.nullcontext()
    wanted = level(verbose)
    return _at(wanted, None if _shown(wanted) else _stderr_handler(wanted))


def configure(count: int):
    """The CLI's logging for a command (a context manager): a stderr handler on the physioemo
    logger at the level of `count` -v flags (0: warnings only)."""
    wanted = level(count)
    return _at(wanted, _stderr_handler(wanted))


@contextlib.contextmanager
def _at(wanted: int, handler: logging.Handler | None):
    """The physioemo logger at level `wanted`, with `handler` added (if any), within the block."""
    before = ROOT.level
    ROOT.setLevel(wanted)
    if handler:
        ROOT.addHandler(handler)
    try:
        yield
    finally:
        ROOT.setLevel(before)
        if handler:
            ROOT.removeHandler(handler)


def takes_verbose(function):
    """Decorate a public entry point with a keyword ``verbose=None`` that runs the call within
    `verbosity` (the signature shows it)."""

    @functools.wraps(function)
    def wrapper(*args, verbose: bool | int | str | None = None, **kwargs):
        with verbosity(verbose):
            return function(*args, **kwargs)

    signature = inspect.signature(function)
    extra = inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=None)
    wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), extra])
    return wrapper


def progress(echo, logger: logging.Logger):
    """An echo for progress lines: each goes to `logger` at INFO when a handler would show it
    there, else to `echo` (None: nowhere)."""

    def say(*lines) -> None:
        for line in lines:
            if logger.isEnabledFor(logging.INFO) and _shown(logging.INFO, logger):
                logger.info(line)
            elif echo is not None:
                echo(line)

    return say


def _shown(wanted: int, logger: logging.Logger = ROOT) -> bool:
    """Whether a handler on `logger` or its ancestors, other than a NullHandler, takes records
    of level `wanted`."""
    current = logger
    while current is not None:
        for handler in current.handlers:
            if not isinstance(handler, logging.NullHandler) and handler.level <= wanted:
                return True
        current = current.parent if current.propagate else None
    return False


def _stderr_handler(wanted: int) -> logging.Handler:
    """A handler writing records to stderr: the message alone, its logger's name at DEBUG."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(wanted)
    detailed = wanted <= logging.DEBUG
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s" if detailed else "%(message)s"))
    return handler
