"""The `physioemo` command: synth, info, features, bench, merge, models, live."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from .errors import DatasetFormatError


def _synth(args) -> None:
    from .datasets.synthetic import WRITERS

    sizes = {"subjects": args.subjects, "seconds": args.seconds}
    given = {name: value for name, value in sizes.items() if value is not None}
    path = WRITERS[args.dataset](args.out_dir, seed=args.seed, **given)
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
    windows, parameters, hit = found[args.recipe]
    print(
        f"{len(windows)} windows of {args.recipe} features, X {windows.X.shape[1:]}; "
        f"{'read' if hit else 'wrote'} the feature cache entry of {parameters}"
    )


def _bench(args) -> None:
    from .experiment import Experiment, run

    experiment = Experiment.from_toml(args.experiment) if args.experiment else Experiment()
    _apply_bench_flags(experiment, args)
    experiment.validate("arguments")
    backend = args.backend or ("processes" if args.jobs > 1 else "serial")
    try:
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
        )
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def _quiet_echo(*lines) -> None:
    """--quiet: only the result table (and failures) reach stdout."""
    for line in lines:
        if str(line).startswith("|") or "failed" in str(line):
            print(line)


def _apply_bench_flags(experiment, args) -> None:
    """Flags given on the command line override the experiment file."""
    simple = {
        "datasets": args.dataset,
        "models": args.models,
        "protocols": args.protocols,
        "features": args.features,
        "labels": args.labels,
        "dimensions": args.dimensions,
        "threshold": args.threshold,
        "n_splits": args.n_splits,
        "profile": args.profile,
        "seed": args.seed,
        "threads": args.threads,
    }
    for key, value in simple.items():
        if value is not None:
            setattr(experiment, key, value)
    options = {"window": args.window, "stride": args.stride, "baseline": args.baseline}
    experiment.feature_options.update({k: v for k, v in options.items() if v is not None})
    sizes = {"subjects": args.synthetic_subjects, "seconds": args.synthetic_seconds}
    sizes["seed"] = args.data_seed
    experiment.synthetic.update({k: v for k, v in sizes.items() if v is not None})
    for given in args.root or []:
        name, _, path = given.rpartition("=")
        if not name:
            if len(experiment.datasets) != 1:
                raise ValueError("--root: with several datasets give NAME=PATH for each")
            name = experiment.datasets[0]
        experiment.roots[name] = str(Path(path).resolve())
    select = {"subjects": args.subjects, "folds": args.folds}
    experiment.select.update({k: v for k, v in select.items() if v is not None})


def _merge(args) -> None:
    from .evaluation.summary import format_table
    from .experiment import merge

    result = merge(args.runs, args.out)
    print(format_table(result["summary"]))
    print(f"merged {len(args.runs)} runs into {result['out']} ({result['copied']} jobs)")


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
    from .features.recipes import available as recipes_available

    parser = argparse.ArgumentParser(prog="physioemo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser(
        "synth", help="write synthetic data in a dataset's real file format"
    )
    synth.add_argument("dataset", choices=sorted(WRITERS))
    synth.add_argument("out_dir", type=Path)
    synth.add_argument("--subjects", type=int, help="default: the writer's (DREAMER: 23)")
    synth.add_argument(
        "--seconds", type=float, help="mean clip length (s); default: the writer's (DREAMER: 30)"
    )
    synth.add_argument("--seed", type=int, default=0)
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
    features.add_argument("--window", type=_positive_float, help="window length (s)")
    features.add_argument("--stride", type=_positive_float, help="window step (s)")
    features.add_argument("--baseline", choices=["auto", "none", "subtract", "zscore"])
    features.add_argument(
        "--no-cache", action="store_true", help="recompute and overwrite the cache entry"
    )
    features.add_argument("--quiet", action="store_true", help="no progress bar")
    features.set_defaults(run=_features)

    _add_bench(commands)
    merge = commands.add_parser(
        "merge", help="merge run folders of one experiment (slices, other machines) into one"
    )
    merge.add_argument("runs", nargs="+", type=Path, help="run folders")
    merge.add_argument("--out", required=True, type=Path, help="the merged run folder")
    merge.set_defaults(run=_merge)

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
    live.add_argument("--duration", type=float, help="seconds (default: until Ctrl-C)")
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


def _add_bench(commands) -> None:
    """The `bench` subcommand; every choice list comes from a registry."""
    from .datasets import available as datasets_available
    from .experiment.backends import NAMES as BACKENDS
    from .experiment.spec import PROFILES
    from .features.recipes import available as recipes_available
    from .labels import SCHEME_NAMES
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
    data.add_argument("--synthetic-subjects", type=_positive_int, help="default 10")
    data.add_argument("--synthetic-seconds", type=_positive_float, help="clip length, default 20")
    data.add_argument("--data-seed", type=_natural, help="seed of the synthetic data (default 0)")
    what = bench.add_argument_group("what runs")
    what.add_argument("--models", "--model", nargs="+", choices=models_available())
    what.add_argument("--protocols", nargs="+", choices=list(PROTOCOLS))
    what.add_argument(
        "--features", nargs="+", choices=recipes_available(), help="default: each model's own"
    )
    what.add_argument("--labels", nargs="+", choices=SCHEME_NAMES)
    what.add_argument("--dimensions", nargs="+", help="rating dimensions (default per dataset)")
    what.add_argument("--threshold", type=_finite_float, help="binary threshold on the rating")
    what.add_argument("--window", type=_positive_float, help="window length (s)")
    what.add_argument("--stride", type=_positive_float, help="window step (s)")
    what.add_argument("--baseline", choices=["auto", "none", "subtract", "zscore"])
    what.add_argument("--n-splits", type=_positive_int, help="folds of k-fold protocols (5)")
    what.add_argument("--profile", choices=PROFILES, help="quick presets (default) or full recipes")
    what.add_argument("--seed", type=_natural, help="models and splits (default: recipes' own)")
    select = bench.add_argument_group("slices of the jobs")
    select.add_argument("--subjects", nargs="+", help="held-out subjects to run")
    select.add_argument("--folds", nargs="+", type=_natural, help="fold indices to run")
    where = bench.add_argument_group("where and how")
    where.add_argument("--jobs", type=_positive_int, default=1, help="worker processes")
    where.add_argument("--backend", choices=BACKENDS, help="default: serial, processes if --jobs")
    where.add_argument("--address", help="Ray cluster address (HOST:PORT or auto)")
    where.add_argument("--gpus", type=float, default=0.0, help="Ray: GPUs per torch job")
    where.add_argument("--threads", type=_positive_int, help="torch threads per job (1)")
    where.add_argument("--out", type=Path, help="run folder (default physioemo-runs/<time>-<data>)")
    where.add_argument(
        "--overwrite", action="store_true", help="replace a run folder of another experiment"
    )
    where.add_argument("--quiet", action="store_true", help="only the result table")
    bench.set_defaults(run=_bench)


def _number(text: str, kind, test, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not test(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def _positive_float(text: str) -> float:
    return _number(text, float, lambda v: math.isfinite(v) and v > 0, "a positive number")


def _finite_float(text: str) -> float:
    return _number(text, float, math.isfinite, "a finite number")


def _positive_int(text: str) -> int:
    return _number(text, int, lambda v: v > 0, "a positive whole number")


def _natural(text: str) -> int:
    return _number(text, int, lambda v: v >= 0, "a whole number >= 0")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (DatasetFormatError, FileNotFoundError, ValueError) as error:
        print(f"physioemo: error: {error}", file=sys.stderr)
        return 2
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
