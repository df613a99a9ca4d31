"""The `physioemo` command: synth, info, features, bench, models, live."""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import sys
import traceback
import warnings
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .errors import clean

#: `synth` sizes when neither --full nor --subjects/--seconds say otherwise (the writers'
#: defaults are small except DEAP's, which is the distribution's 7.6 GB)
SMALL = {"deap": {"subjects": 3, "seconds": 5.0}}
#: exit statuses: a user's error, a bug, a closed output pipe (128 + SIGPIPE), Ctrl-C
USER_ERROR, BUG, BROKEN_PIPE, INTERRUPTED = 2, 1, 141, 130


# ----------------------------------------------------------------------------- argument types
def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (seconds, rates)."""
    value = _number(text, float)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {clean(text, 40)!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (counts)."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {clean(text, 40)!r}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (seeds)."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {clean(text, 40)!r}")
    return value


def _number(text: str, kind: type):
    try:
        return kind(text)
    except ValueError:
        name = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {name}, got {clean(text, 40)!r}") from None


class Parser(argparse.ArgumentParser):
    """argparse whose errors are physioemo's one line (value sanitised), exit status 2."""

    def error(self, message):
        print(f"physioemo: error: {clean(message, 300)} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(USER_ERROR)


# ----------------------------------------------------------------------------- commands
def _synth(args) -> None:
    from .datasets.synthetic import WRITERS

    sizes = {"subjects": args.subjects, "seconds": args.seconds}
    given = {name: value for name, value in sizes.items() if value is not None}
    if args.full and args.dataset != "deap":
        raise ValueError(f"--full applies to deap only ({args.dataset}'s writer has one size)")
    small = {} if args.full else SMALL.get(args.dataset, {})
    path = WRITERS[args.dataset](args.out_dir, seed=args.seed, **{**small, **given})
    print(f"wrote {path}")


def _info(args) -> None:
    from .datasets import load

    info = load(args.dataset, args.root).info()
    if args.json:
        print(json.dumps(info, indent=2))
        return
    width = max(map(len, info))
    for key, value in info.items():
        if key == "ch_names":
            value = " ".join(value)
        if key == "labels":  # one line per rating dimension
            for i, (name, counts) in enumerate(value.items()):
                cells = ", ".join(f"{k}: {v}" for k, v in counts.items())
                print(
                    f"{key if i == 0 else '':>{width}}{':' if i == 0 else ' '} {name} {{{cells}}}"
                )
            continue
        print(f"{key:>{width}}: {value}")


def _features(args) -> None:
    from .datasets import load
    from .features.cache import cached
    from .windows import extract_windows

    parameters = {
        "kind": args.kind,
        "window": args.window,
        "stride": args.stride,
        "baseline": args.baseline,
    }
    windows, path, hit = cached(
        args.dataset,
        args.root,
        parameters,
        lambda: extract_windows(
            load(args.dataset, args.root), progress=not args.quiet, **parameters
        ),
        use_cache=not args.no_cache,
    )
    where = "not cached" if path is None else f"{'read' if hit else 'wrote'} {path}"
    print(f"{len(windows)} windows, X {windows.X.shape[1:]}; {where}")


def _bench(args) -> None:
    from .evaluation.bench import BenchConfig, run_bench

    config = BenchConfig(
        dataset=args.dataset,
        root=str(args.root) if args.root else None,
        dimensions=tuple(args.dimensions),
        labels=args.labels,
        threshold=args.threshold,
        protocols=tuple(args.protocols),
        models=tuple(args.models),
        kind=args.features,
        window=args.window,
        baseline=args.baseline,
        n_splits=args.folds,
        seed=args.seed,
        synthetic={"subjects": args.subjects, "seconds": args.seconds, "seed": args.seed},
        profile=args.profile,
        threads=args.threads,
    )
    run_bench(
        config,
        out=args.out,
        progress=not args.quiet,
        echo=(lambda *a: None) if args.quiet else print,
    )


def _live(args) -> None:
    from .live import LiveError
    from .live.app import run_live

    try:
        code = run_live(args)
    except LiveError as error:
        print(f"physioemo: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    if code:
        raise SystemExit(code)


def _models(args) -> None:
    from .models import available, describe

    rows = [describe(name) for name in available()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        counts = row.get("parameters")
        size = f"{counts['trainable']:,} trainable / {counts['total']:,} stored" if counts else "-"
        print(f"{row['model']:<14} {size:<36} {row['inputs']}")
        print(f"{'':<14} {row['summary']}")


def build_parser() -> argparse.ArgumentParser:
    from .datasets import available
    from .datasets.synthetic import WRITERS
    from .labels import SCALES
    from .models import available as models_available
    from .protocols import PROTOCOLS

    parser = Parser(prog="physioemo", description=__doc__)
    parser.add_argument("--version", action="version", version=f"physioemo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser(
        "synth", help="write synthetic data in a dataset's real file format"
    )
    synth.add_argument("dataset", choices=sorted(WRITERS))
    synth.add_argument("out_dir", type=Path)
    synth.add_argument(
        "--subjects", type=positive_int, help="default: the writer's (DREAMER: 23; DEAP: 3)"
    )
    synth.add_argument(
        "--seconds",
        type=positive_float,
        help="mean clip length (s); default: the writer's (DREAMER: 30; DEAP: 5)",
    )
    synth.add_argument(
        "--full",
        action="store_true",
        help="deap: the distribution's size, 32 subjects x 60 s (7.6 GB)",
    )
    synth.add_argument("--seed", type=non_negative_int, default=0)
    synth.set_defaults(run=_synth)

    info = commands.add_parser("info", help="describe a dataset on disk")
    info.add_argument("dataset", choices=available())
    info.add_argument("--root", required=True, type=Path, help="the dataset's file or folder")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(run=_info)

    features = commands.add_parser(
        "features", help="compute windowed features of a dataset into the feature cache"
    )
    features.add_argument("dataset", choices=available())
    features.add_argument("--root", required=True, type=Path, help="the dataset's file or folder")
    features.add_argument("--kind", default="de", choices=["de", "bp", "psd_de"])
    features.add_argument("--window", type=positive_float, default=1.0, help="window length (s)")
    features.add_argument(
        "--stride", type=positive_float, help="window step (s), default the window"
    )
    features.add_argument("--baseline", default="none", choices=["none", "subtract", "zscore"])
    features.add_argument(
        "--no-cache", action="store_true", help="recompute and overwrite the cache entry"
    )
    features.add_argument("--quiet", action="store_true", help="no progress bar")
    features.set_defaults(run=_features)

    bench = commands.add_parser(
        "bench",
        help="cross-validate baselines under the protocols (default: built-in synthetic DREAMER)",
    )
    bench.add_argument(
        "--dataset",
        default="dreamer",
        choices=sorted(SCALES),
        help="a dataset with rating scales (SEED's and WESAD's categorical labels: Python API)",
    )
    bench.add_argument("--root", type=Path, help="real files; without it, built-in synthetic data")
    bench.add_argument("--dimensions", nargs="+", default=["valence", "arousal"])
    bench.add_argument("--labels", default="binary", choices=["binary", "ordinal"])
    bench.add_argument("--threshold", type=float, help="binary threshold (default: the dataset's)")
    bench.add_argument(
        "--protocols",
        nargs="+",
        default=["subject-dependent", "subject-independent"],
        choices=list(PROTOCOLS),
    )
    bench.add_argument(
        "--models",
        "--model",
        nargs="+",
        default=["logreg", "histn", "rbtransformer"],
        choices=[m for m in models_available() if m != "pinn"],
    )
    bench.add_argument(
        "--profile",
        default="quick",
        choices=["quick", "full"],
        help="torch models: quick demo presets on a few folds, or the papers' full recipes",
    )
    bench.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    bench.add_argument("--features", default="de", choices=["de", "bp"])
    bench.add_argument("--window", type=float, default=1.0, help="window length (s)")
    bench.add_argument("--baseline", default="subtract", choices=["none", "subtract", "zscore"])
    bench.add_argument(
        "--folds", type=int, default=5, help="folds of the subject-dependent protocol"
    )
    bench.add_argument("--seed", type=int, default=0, help="seed of the models and synthetic data")
    bench.add_argument("--subjects", type=int, default=23, help="synthetic subjects (no --root)")
    bench.add_argument("--seconds", type=float, default=30.0, help="synthetic clip length (s)")
    bench.add_argument(
        "--out", type=Path, help="run folder (default: physioemo-runs/<time>-<dataset>)"
    )
    bench.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    bench.set_defaults(run=_bench)

    live = commands.add_parser(
        "live", help="predict emotions live from a BrainFlow board (default: the synthetic one)"
    )
    live.add_argument(
        "--board",
        default="synthetic",
        help="synthetic, cyton, cyton-daisy, ganglion, muse-2, muse-s, unicorn, brainbit, crown, "
        "playback, or any BrainFlow BoardIds name or id",
    )
    live.add_argument(
        "--model", type=Path, help="checkpoint; without it, a model trained on synthetic EEG"
    )
    live.add_argument("--duration", type=positive_float, help="seconds (default: until Ctrl-C)")
    live.add_argument(
        "--record", type=Path, help="BrainFlow file to record to; a BDF is written beside it"
    )
    live.add_argument("--jsonl", type=Path, help="write one JSON line per window")
    live.add_argument("--json", action="store_true", help="print the summary as JSON")
    live.add_argument("--quiet", action="store_true", help="no live view or text summary")
    live.add_argument("--serial-port", help="e.g. /dev/ttyUSB0 or COM3 (Cyton, Ganglion dongle)")
    live.add_argument("--mac-address", help="Bluetooth address (Muse, Ganglion native)")
    live.add_argument("--ip-address", help="WiFi boards")
    live.add_argument("--file", type=Path, help="playback: the BrainFlow recording to replay")
    live.add_argument("--master-board", help="playback: the board that recorded --file")
    live.set_defaults(run=_live)
    listing = commands.add_parser("models", help="list the models, parameter counts and inputs")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=_models)
    return parser


# ----------------------------------------------------------------------------- errors
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
def _warnings_as_lines():
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


def main(argv: list[str] | None = None) -> int:
    """Run the command in `argv`; returns the exit status.

    A user's error (bad file, argument, device, permission) prints one line
    ``physioemo: error: ...`` and returns 2; argparse's own errors exit with 2 likewise. Ctrl-C
    prints one line and returns 130; a closed output pipe (``info ... | head``) returns 141
    silently. Any other exception is a bug: its traceback is shown and 1 returned.
    """
    try:
        try:
            args = build_parser().parse_args(argv)
            with _warnings_as_lines():
                args.run(args)
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


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
