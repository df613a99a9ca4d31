"""Every command's --help: a text for every option, its default, and two examples that parse
(so they cannot rot), readable in a 100-column terminal."""

import argparse
import shlex

import pytest

from physioemo.cli import COMMANDS, build_parser

NAMES = [name for name, _, _ in COMMANDS]


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _examples(parser: argparse.ArgumentParser) -> list[list[str]]:
    """The command lines of the parser's epilog, split as a shell would."""
    lines = (parser.epilog or "").splitlines()
    return [shlex.split(line) for line in lines if line.strip().startswith("physioemo ")]


def test_every_command_is_walked():
    assert sorted(_commands()) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_option_has_help(name):
    parser = _commands()[name]
    missing = [
        "/".join(a.option_strings) or a.dest
        for a in parser._actions
        if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()
    ]
    assert missing == [], f"{name}: options without help: {missing}"
    assert parser.description


@pytest.mark.parametrize("name", NAMES)
def test_two_examples_that_parse(name):
    examples = _examples(_commands()[name])
    assert len(examples) == 2, f"{name}: {examples}"
    assert examples[0] != examples[1]
    for argv in examples:
        assert argv[:2] == ["physioemo", name]
        args = build_parser().parse_args(argv[1:])  # argparse exits (2) on any bad flag
        assert args.command == name


@pytest.mark.parametrize("name", NAMES)
def test_help_fits_100_columns(name, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    text = _commands()[name].format_help()
    assert max(map(len, text.splitlines())) <= 100
    assert "default: None" not in text and "default None" not in text


def test_defaults_are_said():
    commands = _commands()
    jobs = " ".join(commands["bench"].format_help().split())
    assert "--jobs JOBS worker processes (default 1)" in jobs
    assert "one of histn, rbtransformer" in jobs  # --models lists the registry's names
    report = " ".join(commands["report"].format_help().split())
    assert "either way (one of html, pdf)" in report and "default html" not in report  # said once
    compare = " ".join(commands["compare"].format_help().split())
    assert "(default balanced_accuracy; one of" in compare
    assert compare.count("default") == 2  # --metric's and -v's


def test_a_bad_example_would_fail():
    """The check is real: an example with a name the registry lacks does not parse."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--models", "no-such-model"])
