"""The physioemo loggers: silent by default, verbose= on the Python API, -v/-vv on the CLI; the
engine's progress lines go to the logger when something shows INFO, else to echo as before."""

import csv
import logging
import re

import pytest

from physioemo import _logging, datasets, labels, protocols
from physioemo.cli import main
from physioemo.experiment import cross_validate
from physioemo.features import recipes

ROOT = logging.getLogger("physioemo")


def _ours(caplog, level=logging.DEBUG) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("physioemo") and r.levelno >= level]


@pytest.fixture
def de_windows(small_dreamer):
    de = recipes.get("de")
    [windows] = recipes.compute(datasets.load("dreamer", small_dreamer), [(de, de.parameters())])
    return windows, labels.make("dreamer", "binary", "arousal")(windows.ratings)


def test_the_library_root_holds_a_null_handler_only():
    assert [type(h) for h in ROOT.handlers] == [logging.NullHandler]
    assert ROOT.level == logging.NOTSET


@pytest.mark.parametrize(
    "verbose, level",
    [
        (True, logging.INFO),
        (False, logging.WARNING),
        (0, logging.WARNING),
        (1, logging.INFO),
        (2, logging.DEBUG),
        (5, logging.DEBUG),
        ("debug", logging.DEBUG),
        ("WARNING", logging.WARNING),
        (logging.ERROR, logging.ERROR),
    ],
)
def test_verbose_values(verbose, level):
    assert _logging.level(verbose) == level


@pytest.mark.parametrize("verbose", ["loud", -1, 2.5])
def test_a_bad_verbose_is_refused_naming_it(verbose):
    with pytest.raises(ValueError, match=re.escape("verbose: expected True/False, a count")):
        _logging.level(verbose)


def test_cross_validate_is_silent_by_default_and_verbose_logs_each_fold(de_windows, caplog):
    windows, y = de_windows
    protocol = protocols.get("subject-independent")
    cross_validate(windows, y, "logreg", protocol)
    assert _ours(caplog) == []
    results = cross_validate(windows, y, "logreg", protocol, verbose=True)
    info = [r.getMessage() for r in _ours(caplog)]
    assert len(info) == len(results) == 4 and all(re.match(r"\[\d/4\] dreamer", m) for m in info)
    assert ROOT.level == logging.NOTSET  # restored after the call
    caplog.clear()
    results = cross_validate(windows, y, "logreg", protocol, dimension="arousal", verbose="DEBUG")
    subjects = windows.groups["subject"]
    for result in results:  # held out: the subject's labelled windows; trained on the rest
        held = (subjects == result["subjects"]) & (y >= 0)
        assert (result["n_test"], result["n_train"]) == (held.sum(), ((y >= 0) & ~held).sum())
    sizes = [r.getMessage() for r in _ours(caplog) if r.levelno == logging.DEBUG]
    assert sizes == [
        f"{r['dataset']} de logreg subject-independent arousal fold {r['fold']} ({r['subjects']}): "
        f"{r['n_train']} training windows (0 of them validation), {r['n_test']} test windows, "
        "on cpu"
        for r in results
    ]


def test_verbose_without_a_handler_writes_to_stderr(monkeypatch, capsys):
    monkeypatch.setattr(logging.root, "handlers", [])  # pytest's own capture handler away
    log = logging.getLogger("physioemo.experiment.run")
    log.info("not shown")
    with _logging.verbosity(True):
        log.info("shown")
        log.debug("too detailed")
    log.info("not shown either")
    assert capsys.readouterr().err == "shown\n"
    assert ROOT.handlers == [h for h in ROOT.handlers if isinstance(h, logging.NullHandler)]


def test_progress_lines_go_to_the_log_only_when_it_shows_info(monkeypatch):
    monkeypatch.setattr(logging.root, "handlers", [])
    echoed, log = [], logging.getLogger("physioemo.test")
    say = _logging.progress(echoed.append, log)
    say("one")
    with _logging.verbosity("INFO"):  # a stderr handler shows INFO now
        say("two")
    with _logging.verbosity("WARNING"):
        say("three")
    assert echoed == ["one", "three"]


def _bench(root, out, *flags):
    return main(
        ["bench", "--root", str(root), "--models", "logreg", "--dimensions", "arousal"]
        + ["--protocols", "subject-independent", "--no-report", "--out", str(out), *flags]
    )


def test_cli_default_prints_progress_and_logs_nothing_v_moves_it_to_stderr(
    small_dreamer, tmp_path, capsys, caplog
):
    assert _bench(small_dreamer, tmp_path / "plain") == 0
    plain = capsys.readouterr()
    assert "4 jobs, 0 already in" in plain.out and plain.err == ""
    assert _ours(caplog, logging.INFO) == []
    assert _bench(small_dreamer, tmp_path / "verbose", "-vv", "--jobs", "2") == 0
    verbose = capsys.readouterr()
    assert "4 jobs, 0 already in" not in verbose.out and "| arousal |" in verbose.out
    assert "physioemo.experiment.run: 4 jobs, 0 already in" in verbose.err
    assert re.search(r"physioemo.features.cache: read feature cache entry \S+\.npz", verbose.err)
    with open(tmp_path / "verbose" / "results.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 4
    for row in rows:  # each fold's sizes at DEBUG, as the results hold, from worker processes too
        line = f"({row['subjects']}): {row['n_train']} training windows (0 of them validation), "
        assert line + f"{row['n_test']} test windows, on cpu" in verbose.err
    assert {r.name for r in _ours(caplog)} >= {"physioemo.experiment.run"}
    assert ROOT.level == logging.NOTSET and len(ROOT.handlers) == 1
