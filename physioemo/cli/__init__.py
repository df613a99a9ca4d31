"""The `physioemo` command: synth, info, features, bench, merge, audit, reproduce, report,
compare, train, live, playback, models, export-bids."""

from __future__ import annotations

import argparse
import sys

from .._version import __version__
from . import bench, bids, compare, data, live, models, playback, train
from .errors import exit_status, warnings_as_lines
from .options import Parser

#: the commands as `physioemo --help` lists them: name, what it does, and the function that adds
#: its options and its handler (``run``) to its parser
COMMANDS = (
    ("synth", "write synthetic data in a dataset's real file format", data.add_synth),
    ("info", "describe a dataset on disk", data.add_info),
    (
        "features",
        "compute windowed features of a dataset into the feature cache",
        data.add_features,
    ),
    (
        "bench",
        "cross-validate models under protocols into a resumable run folder "
        "(default: built-in synthetic DREAMER)",
        bench.add_bench,
    ),
    (
        "train",
        "train one model on all of a dataset's windows into a checkpoint that live runs "
        "(default: built-in synthetic DREAMER)",
        train.add_train,
    ),
    (
        "merge",
        "merge run folders of one experiment (slices, other machines) into one",
        bench.add_merge,
    ),
    (
        "audit",
        "leakage audit of a run folder, or of protocols on a dataset (nothing trained)",
        bench.add_audit,
    ),
    (
        "reproduce",
        "a paper's protocol and recipe beside the honest protocol, the published figure "
        "and the audit (default: synthetic data)",
        bench.add_reproduce,
    ),
    (
        "report",
        "write report.html (figures embedded) and figures/*.png of a run folder",
        bench.add_report,
    ),
    (
        "compare",
        "compare the result rows of a run folder: paired tests over subjects and folds, ranks",
        compare.add_compare,
    ),
    (
        "live",
        "predict emotions live from a BrainFlow board (default: the synthetic one) or an "
        "LSL stream",
        live.add_live,
    ),
    (
        "playback",
        "write one subject of a dataset as a BrainFlow playback file with its true labels, "
        "for live --board playback",
        playback.add_playback,
    ),
    ("models", "list the models, parameter counts and inputs", models.add_models),
    (
        "export-bids",
        "write a dataset (default: synthetic) as BIDS (MNE-BIDS)",
        bids.add_export_bids,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command in `COMMANDS`."""
    parser = Parser(prog="physioemo", description=__doc__)
    parser.add_argument("--version", action="version", version=f"physioemo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, about, add_options in COMMANDS:
        add_options(commands.add_parser(name, help=about))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command in `argv`; returns the exit status.

    A user's error (bad file, argument, device, permission) prints one line
    ``physioemo: error: ...`` and returns 2; argparse's own errors exit with 2 likewise. Ctrl-C
    prints one line and returns 130; a closed output pipe (``info ... | head``) returns 141
    silently. Any other exception is a bug: its traceback is shown and 1 returned.
    """

    def command() -> None:
        args = build_parser().parse_args(argv)
        with warnings_as_lines():
            args.run(args)

    return exit_status(command)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


__all__ = ["build_parser", "main", "run"]
