"""The `physioemo` command: synth, info, features, bench, models, live."""

from __future__ import annotations

import argparse
import json
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
    print(f"{len(windows)} windows, X {windows.X.shape[1:]}; {'read' if hit else 'wrote'} {path}")


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
    from .datasets.synthetic import WRITERS
    from .labels import SCALES
    from .models import available as models_available
    from .protocols import PROTOCOLS

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
    features.add_argument("--kind", default="de", choices=["de", "bp", "psd_de"])
    features.add_argument("--window", type=float, default=1.0, help="window length (s)")
    features.add_argument("--stride", type=float, help="window step (s), default the window")
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
    live.add_argument("--duration", type=float, help="seconds (default: until Ctrl-C)")
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
