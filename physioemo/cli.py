"""The `physioemo` command: synth, info, features, bench, merge, audit, reproduce, report,
train, models, live."""

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

from ._version import __version__
from .errors import clean

#: exit statuses: a user's error, a bug, a closed output pipe (128 + SIGPIPE), Ctrl-C
USER_ERROR, BUG, BROKEN_PIPE, INTERRUPTED = 2, 1, 141, 130


# ----------------------------------------------------------------------------- argument types
def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (seconds, rates)."""
    value = _number(text, float)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {clean(text, 40)!r}")
    return value


def finite_float(text: str) -> float:
    """argparse type: a finite number (thresholds)."""
    value = _number(text, float)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {clean(text, 40)!r}")
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


def fraction(text: str) -> float:
    """argparse type: a number strictly between 0 and 1 (shares)."""
    value = _number(text, float)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {clean(text, 40)!r}")
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
    from .datasets import CARDS, card

    sizes = {"subjects": args.subjects, "seconds": args.seconds}
    given = {name: value for name, value in sizes.items() if value is not None}
    chosen = card(args.dataset)
    if args.full and not chosen.small:
        large = ", ".join(name for name, c in CARDS.items() if c.small)
        raise ValueError(f"--full applies to {large} only ({args.dataset}'s writer has one size)")
    small = {} if args.full else chosen.small
    path = chosen.write(args.out_dir, seed=args.seed, **{**small, **given})
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
    from .experiment.plan import feature_sets

    options = {"window": args.window, "stride": args.stride, "baseline": args.baseline}
    wanted = {args.recipe: {k: v for k, v in options.items() if v is not None}}
    dataset = load(args.dataset, args.root)
    found = feature_sets(
        args.dataset, args.root, dataset, wanted, not args.quiet, use_cache=not args.no_cache
    )
    windows, parameters, status = found[args.recipe]
    print(f"{len(windows)} windows of {args.recipe} features, X {windows.X.shape[1:]}; {status}")


def _bench(args) -> None:
    from .experiment import Experiment, run

    experiment = Experiment.from_toml(args.experiment) if args.experiment else Experiment()
    _apply_bench_flags(experiment, args)
    experiment.validate("arguments")
    backend = args.backend or ("processes" if args.jobs > 1 else "serial")
    run(
        experiment,
        out=args.out,
        backend=backend,
        jobs=args.jobs,
        address=args.address,
        gpus=args.gpus,
        overwrite=args.overwrite,
        progress=False if args.quiet else None,
        echo=_quiet_echo if args.quiet else print,
        report=not args.no_report,
    )


def _quiet_echo(*lines) -> None:
    """--quiet: only the result table (and failures) reach stdout."""
    for line in lines:
        if str(line).startswith("|") or "failed" in str(line):
            print(line)


def _apply_bench_flags(experiment, args) -> None:
    """Flags given on the command line override the experiment file (a command without some
    of bench's flags, e.g. `audit`, leaves those settings alone)."""
    flags = vars(args)
    simple = {
        "datasets": "dataset",
        "models": "models",
        "protocols": "protocols",
        "features": "features",
        "labels": "labels",
        "dimensions": "dimensions",
        "threshold": "threshold",
        "n_splits": "n_splits",
        "profile": "profile",
        "seed": "seed",
        "threads": "threads",
        "permutations": "permutations",
    }
    for key, flag in simple.items():
        if flags.get(flag) is not None:
            setattr(experiment, key, flags[flag])
    options = {"window": "window", "stride": "stride", "baseline": "baseline"}
    sizes = {"subjects": "synthetic_subjects", "seconds": "synthetic_seconds", "seed": "data_seed"}
    for target, names in ((experiment.feature_options, options), (experiment.synthetic, sizes)):
        target.update({k: flags[f] for k, f in names.items() if flags.get(f) is not None})
    for given in flags.get("root") or []:
        name, _, path = given.rpartition("=")
        if not name:
            if len(experiment.datasets) != 1:
                raise ValueError("--root: with several datasets give NAME=PATH for each")
            name = experiment.datasets[0]
        experiment.roots[name] = str(Path(path).resolve())
    select = {"subjects": flags.get("subjects"), "folds": flags.get("folds")}
    experiment.select.update({k: v for k, v in select.items() if v is not None})


def _merge(args) -> None:
    from .evaluation.summary import format_table
    from .experiment import merge

    result = merge(args.runs, args.out)
    print(format_table(result["summary"]))
    print(f"merged {len(args.runs)} runs into {result['out']} ({result['copied']} jobs)")


def _train(args) -> None:
    from .experiment.train import TrainSpec, train

    sizes = {"subjects": args.synthetic_subjects, "seconds": args.synthetic_seconds}
    sizes["seed"] = args.data_seed
    spec = TrainSpec(
        model=args.model,
        dataset=args.dataset,
        root=str(args.root) if args.root else None,
        features=args.features,
        window=args.window,
        stride=args.stride,
        baseline=args.baseline,
        labels=args.labels,
        dimension=args.dimension,
        threshold=args.threshold,
        profile=args.profile,
        seed=args.seed,
        threads=args.threads,
        validation=args.validation,
        causal=args.causal,
        synthetic={k: v for k, v in sizes.items() if v is not None},
    )
    echo = (lambda *lines: None) if args.quiet else print
    train(spec, args.out, args.overwrite, progress=not args.quiet, echo=echo)
    print(f"wrote {args.out}")


def _audit(args) -> None:
    from .evaluation.audit import format_audit

    if args.folder is not None:
        if args.dataset or args.protocols:
            raise ValueError("audit: give a run folder or --dataset/--protocols, not both")
        from .experiment.run import audit

        print(format_audit(*audit(args.folder)))
        return
    if not args.dataset or not args.protocols:
        raise ValueError("audit: give a run folder, or --dataset NAME and --protocols")
    from .experiment import Experiment
    from .experiment.plan import audit_only

    experiment = Experiment()
    _apply_bench_flags(experiment, args)
    experiment.validate("arguments")
    audits = audit_only(experiment, echo=print)
    print(format_audit(audits, []))


def _reproduce(args) -> None:
    from .experiment.reproduce import experiment_for, reproduce

    sizes = {"subjects": args.synthetic_subjects, "seconds": args.synthetic_seconds}
    experiment = experiment_for(
        args.paper,
        dataset=args.dataset,
        root=args.root,
        profile=args.profile,
        models=args.models,
        dimensions=args.dimensions,
        synthetic={k: v for k, v in sizes.items() if v is not None},
    )
    reproduce(
        args.paper,
        experiment,
        out=args.out,
        backend="processes" if args.jobs > 1 else "serial",
        jobs=args.jobs,
        overwrite=args.overwrite,
        progress=False if args.quiet else None,
        echo=_quiet_echo if args.quiet else print,
    )


def _report(args) -> None:
    from .experiment.run import report

    print(f"wrote {report(args.folder)}")


def _live(args) -> None:
    from .live import LiveError
    from .live.app import Terminated, run_live

    try:
        code = run_live(args)
    except LiveError as error:
        print(f"physioemo: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt as interrupt:  # during start-up, before streaming
        print("physioemo: stopped before streaming", file=sys.stderr)
        raise SystemExit(143 if isinstance(interrupt, Terminated) else 130) from None
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
    from .features.recipes import available as recipes_available

    parser = Parser(prog="physioemo", description=__doc__)
    parser.add_argument("--version", action="version", version=f"physioemo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser(
        "synth", help="write synthetic data in a dataset's real file format"
    )
    synth.add_argument("dataset", choices=available())
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
    features.add_argument(
        "--recipe", "--kind", default="de", choices=recipes_available(), help="feature recipe"
    )
    features.add_argument("--window", type=positive_float, help="window length (s)")
    features.add_argument("--stride", type=positive_float, help="window step (s)")
    features.add_argument("--baseline", choices=["auto", "none", "subtract", "zscore"])
    features.add_argument(
        "--no-cache", action="store_true", help="recompute and overwrite the cache entry"
    )
    features.add_argument("--quiet", action="store_true", help="no progress bar")
    features.set_defaults(run=_features)

    _add_bench(commands)
    _add_train(commands)
    merge = commands.add_parser(
        "merge", help="merge run folders of one experiment (slices, other machines) into one"
    )
    merge.add_argument("runs", nargs="+", type=Path, help="run folders")
    merge.add_argument("--out", required=True, type=Path, help="the merged run folder")
    merge.set_defaults(run=_merge)

    _add_audit(commands)
    _add_reproduce(commands)
    report = commands.add_parser(
        "report",
        help="write report.html (figures embedded) and figures/*.png of a run folder",
    )
    report.add_argument("folder", metavar="RUN", type=Path, help="run folder")
    report.set_defaults(run=_report)

    live = commands.add_parser(
        "live",
        help="predict emotions live from a BrainFlow board (default: the synthetic one) or an "
        "LSL stream",
    )
    from .live.source import SOURCES

    live.add_argument(
        "--source",
        default="brainflow",
        choices=list(SOURCES),
        help="; ".join(f"{name}: {about}" for name, (_, _, about) in SOURCES.items()),
    )
    live.add_argument(
        "--board",
        default="synthetic",
        help="synthetic, cyton, cyton-daisy, ganglion, muse-2, muse-s, unicorn, brainbit, crown, "
        "playback, or any BrainFlow BoardIds name or id",
    )
    live.add_argument("--stream", help="LSL: the stream's name")
    live.add_argument("--stream-type", help="LSL: the stream's type (e.g. EEG)")
    live.add_argument(
        "--channels", help="electrode names of the source's channels, e.g. 'O1 Oz O2 Pz'"
    )
    live.add_argument(
        "--model", type=Path, help="checkpoint; without it, a model trained on synthetic EEG"
    )
    live.add_argument("--duration", type=positive_float, help="seconds (default: until Ctrl-C)")
    live.add_argument(
        "--stride", type=positive_float, help="s between predictions (default: the model's)"
    )
    live.add_argument(
        "--baseline-seconds",
        type=positive_float,
        default=10.0,
        help="models trained with a baseline: the first seconds of the stream, at rest (10)",
    )
    live.add_argument(
        "--record",
        type=Path,
        help="BrainFlow file to record to (never overwritten: s01.csv taken -> s01-2.csv); "
        "a BDF is written beside it",
    )
    live.add_argument("--jsonl", type=Path, help="write one JSON line per window")
    live.add_argument("--json", action="store_true", help="print the summary as JSON")
    live.add_argument("--quiet", action="store_true", help="no live view or text summary")
    live.add_argument(
        "--web", action="store_true", help="serve a dashboard at http://127.0.0.1:PORT/"
    )
    live.add_argument("--port", type=int, default=8765, help="dashboard port (0: any free one)")
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


def _add_bench(commands) -> None:
    """The `bench` subcommand; every choice list comes from a registry."""
    from .datasets import available as datasets_available
    from .datasets import scheme_names
    from .experiment.backends import NAMES as BACKENDS
    from .experiment.spec import PROFILES
    from .features.recipes import available as recipes_available
    from .models import available as models_available
    from .protocols import PROTOCOLS

    bench = commands.add_parser(
        "bench",
        help="cross-validate models under protocols into a resumable run folder "
        "(default: built-in synthetic DREAMER)",
    )
    bench.add_argument(
        "experiment", nargs="?", type=Path, help="experiment file (TOML); flags override it"
    )
    data = bench.add_argument_group("data")
    data.add_argument("--dataset", "--datasets", nargs="+", choices=datasets_available())
    data.add_argument(
        "--root", nargs="+", help="dataset files (PATH, or NAME=PATH each); default synthetic"
    )
    data.add_argument("--synthetic-subjects", type=positive_int, help="default 10")
    data.add_argument("--synthetic-seconds", type=positive_float, help="clip length, default 20")
    data.add_argument("--data-seed", type=non_negative_int, help="synthetic data's seed (0)")
    what = bench.add_argument_group("what runs")
    what.add_argument("--models", "--model", nargs="+", choices=models_available())
    what.add_argument("--protocols", nargs="+", choices=list(PROTOCOLS))
    what.add_argument(
        "--features", nargs="+", choices=recipes_available(), help="default: each model's own"
    )
    what.add_argument("--labels", nargs="+", choices=scheme_names())
    what.add_argument("--dimensions", nargs="+", help="rating dimensions (default per dataset)")
    what.add_argument("--threshold", type=finite_float, help="binary threshold on the rating")
    what.add_argument("--window", type=positive_float, help="window length (s)")
    what.add_argument("--stride", type=positive_float, help="window step (s)")
    what.add_argument("--baseline", choices=["auto", "none", "subtract", "zscore"])
    what.add_argument("--n-splits", type=positive_int, help="folds of k-fold protocols (5)")
    what.add_argument("--profile", choices=PROFILES, help="quick presets (default) or full recipes")
    what.add_argument("--seed", type=non_negative_int, help="models and splits (default: recipes')")
    what.add_argument(
        "--permutations", type=non_negative_int, help="permutation p-value per row (N, 0: none)"
    )
    select = bench.add_argument_group("slices of the jobs")
    select.add_argument("--subjects", nargs="+", help="held-out subjects to run")
    select.add_argument("--folds", nargs="+", type=non_negative_int, help="fold indices to run")
    where = bench.add_argument_group("where and how")
    where.add_argument("--jobs", type=positive_int, default=1, help="worker processes")
    where.add_argument("--backend", choices=BACKENDS, help="default: serial, processes if --jobs")
    where.add_argument("--address", help="Ray cluster address (HOST:PORT or auto)")
    where.add_argument("--gpus", type=float, default=0.0, help="Ray: GPUs per torch job")
    where.add_argument("--threads", type=positive_int, help="torch threads per job (1)")
    where.add_argument("--out", type=Path, help="run folder (default physioemo-runs/<time>-<data>)")
    where.add_argument(
        "--overwrite", action="store_true", help="replace a run folder of another experiment"
    )
    where.add_argument("--quiet", action="store_true", help="only the result table")
    where.add_argument(
        "--no-report", action="store_true", help="no report.html (`physioemo report RUN` later)"
    )
    bench.set_defaults(run=_bench)


def _add_train(commands) -> None:
    """The `train` subcommand; every choice list comes from a registry."""
    from .datasets import available as datasets_available
    from .datasets import scheme_names
    from .experiment.spec import PROFILES
    from .features.recipes import available as recipes_available
    from .models import available as models_available

    train = commands.add_parser(
        "train",
        help="train one model on all of a dataset's windows into a checkpoint that live runs "
        "(default: built-in synthetic DREAMER)",
    )
    train.add_argument("--model", required=True, choices=models_available())
    train.add_argument("--out", required=True, type=Path, help="the checkpoint to write (.pt)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    data = train.add_argument_group("data")
    data.add_argument("--dataset", default="dreamer", choices=datasets_available())
    data.add_argument("--root", type=Path, help="the dataset's file or folder; default synthetic")
    data.add_argument("--synthetic-subjects", type=positive_int, help="default 10 (DREAMER)")
    data.add_argument("--synthetic-seconds", type=positive_float, help="clip length, default 20")
    data.add_argument("--data-seed", type=non_negative_int, help="synthetic data's seed (0)")
    what = train.add_argument_group("features and labels")
    what.add_argument(
        "--features", choices=recipes_available(), help="feature recipe (default: the model's)"
    )
    what.add_argument("--window", type=positive_float, help="window length (s)")
    what.add_argument("--stride", type=positive_float, help="window step (s); default the window")
    what.add_argument(
        "--baseline",
        choices=["auto", "none", "subtract", "zscore"],
        help="auto (default): subtract (DE) or zscore (raw) when trials have a baseline",
    )
    what.add_argument(
        "--causal",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="features a live stream computes the same way (default); --no-causal: zero-phase",
    )
    what.add_argument("--labels", choices=scheme_names(), help="default: the dataset's first")
    what.add_argument("--dimension", help="rating dimension (default: the dataset's first)")
    what.add_argument("--threshold", type=finite_float, help="binary threshold on the rating")
    how = train.add_argument_group("training")
    how.add_argument("--profile", default="quick", choices=PROFILES, help="quick presets or full")
    how.add_argument("--seed", type=non_negative_int, help="default: the preset's own, else 0")
    how.add_argument(
        "--validation", type=fraction, help="hold out this share of the trials and score them"
    )
    how.add_argument("--threads", type=positive_int, help="torch threads (default 1)")
    how.add_argument("--quiet", action="store_true", help="no progress, only the written path")
    train.set_defaults(run=_train)


def _add_audit(commands) -> None:
    """The `audit` subcommand: a run folder's audit, or protocols on a dataset untrained."""
    from .datasets import available as datasets_available
    from .datasets import scheme_names
    from .features.recipes import available as recipes_available
    from .protocols import PROTOCOLS

    audit = commands.add_parser(
        "audit",
        help="leakage audit of a run folder, or of protocols on a dataset (nothing trained)",
    )
    audit.add_argument("folder", metavar="RUN", nargs="?", type=Path, help="run folder")
    audit.add_argument("--dataset", nargs=1, choices=datasets_available())
    audit.add_argument("--root", nargs=1, help="the dataset's files (default: synthetic)")
    audit.add_argument("--protocols", nargs="+", choices=list(PROTOCOLS))
    audit.add_argument(
        "--features",
        nargs="+",
        choices=recipes_available(),
        help="for protocols without a recipe of their own (default: de; peripheral on wesad)",
    )
    audit.add_argument("--labels", nargs="+", choices=scheme_names())
    audit.add_argument("--dimensions", nargs="+", help="rating dimensions (default per dataset)")
    audit.add_argument("--n-splits", type=positive_int, help="folds of k-fold protocols (5)")
    audit.add_argument("--seed", type=non_negative_int, help="splits (default: protocols')")
    audit.add_argument("--window", type=positive_float, help="window length (s)")
    audit.add_argument("--stride", type=positive_float, help="window step (s)")
    audit.add_argument("--synthetic-subjects", type=positive_int)
    audit.add_argument("--synthetic-seconds", type=positive_float)
    audit.add_argument("--data-seed", type=non_negative_int, help="synthetic data's seed (0)")
    audit.set_defaults(run=_audit)


def _add_reproduce(commands) -> None:
    """The `reproduce` subcommand."""
    from .datasets import available as datasets_available
    from .experiment.reproduce import PAPERS
    from .experiment.spec import PROFILES
    from .models import available as models_available

    reproduce = commands.add_parser(
        "reproduce",
        help="a paper's protocol and recipe beside the honest protocol, the published figure "
        "and the audit (default: synthetic data)",
    )
    reproduce.add_argument("paper", choices=list(PAPERS))
    reproduce.add_argument(
        "--dataset", choices=datasets_available(), help="default: the paper's first"
    )
    reproduce.add_argument("--root", help="the dataset's files (default: synthetic)")
    reproduce.add_argument(
        "--profile", choices=PROFILES, default="quick", help="quick presets or the paper's recipes"
    )
    reproduce.add_argument(
        "--models", nargs="+", choices=models_available(), help="default: the paper's model"
    )
    reproduce.add_argument("--dimensions", nargs="+", help="default: those the paper published")
    reproduce.add_argument("--synthetic-subjects", type=positive_int)
    reproduce.add_argument("--synthetic-seconds", type=positive_float)
    reproduce.add_argument("--jobs", type=positive_int, default=1, help="worker processes")
    reproduce.add_argument(
        "--out", type=Path, help="run folder (default physioemo-runs/reproduce-<paper>-...)"
    )
    reproduce.add_argument(
        "--overwrite", action="store_true", help="replace a run folder of another experiment"
    )
    reproduce.add_argument("--quiet", action="store_true", help="only the tables")
    reproduce.set_defaults(run=_reproduce)


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
