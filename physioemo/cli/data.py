"""``physioemo synth``, ``info`` and ``features``: datasets on disk, real or synthetic."""

from __future__ import annotations

import json
from pathlib import Path

from .options import (
    add_baseline,
    add_filter_order,
    add_root,
    add_window,
    choices,
    examples,
    given,
    non_negative_int,
    positive_float,
    positive_int,
)


def add_synth(synth) -> None:
    synth.add_argument("dataset", choices=choices()["datasets"], help="whose file format")
    synth.add_argument("out_dir", type=Path, help="the folder to write into")
    synth.add_argument(
        "--subjects", type=positive_int, help="subjects (default: the writer's; DREAMER 23, DEAP 3)"
    )
    synth.add_argument(
        "--seconds",
        type=positive_float,
        help="mean clip length (s; default: the writer's; DREAMER 30, DEAP 5)",
    )
    synth.add_argument(
        "--full",
        action="store_true",
        help="deap: the distribution's size, 32 subjects x 60 s (7.6 GB)",
    )
    synth.add_argument("--seed", type=non_negative_int, default=0, help="the data's seed")
    examples(
        synth,
        ("a small synthetic DREAMER.mat", "physioemo synth dreamer data/dreamer"),
        (
            "DEAP's preprocessed files at the distribution's size",
            "physioemo synth deap data/deap --full --seed 1",
        ),
    )
    synth.set_defaults(run=_synth)


def _synth(args) -> None:
    from ..datasets import CARDS, card

    sizes = {"subjects": args.subjects, "seconds": args.seconds}
    given_sizes = {name: value for name, value in sizes.items() if value is not None}
    chosen = card(args.dataset)
    if args.full and not chosen.small:
        large = ", ".join(name for name, c in CARDS.items() if c.small)
        raise ValueError(f"--full applies to {large} only ({args.dataset}'s writer has one size)")
    small = {} if args.full else chosen.small
    path = chosen.write(args.out_dir, seed=args.seed, **{**small, **given_sizes})
    print(f"wrote {path}")


def add_info(info) -> None:
    info.add_argument("dataset", choices=choices()["datasets"], help="the dataset's format")
    add_root(info, "the dataset's file or folder", required=True)
    info.add_argument("--json", action="store_true", help="print one JSON object")
    examples(
        info,
        (
            "subjects, channels, rates and labels of DREAMER",
            "physioemo info dreamer --root DREAMER.mat",
        ),
        ("WESAD as JSON", "physioemo info wesad --root WESAD --json"),
    )
    info.set_defaults(run=_info)


def _info(args) -> None:
    from ..datasets import load

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


def add_features(features) -> None:
    features.add_argument("dataset", choices=choices()["datasets"], help="the dataset's format")
    add_root(features, "the dataset's file or folder", required=True)
    features.add_argument(
        "--recipe", "--kind", default="de", choices=choices()["recipes"], help="feature recipe"
    )
    add_window(features)
    add_filter_order(features)
    add_baseline(features)
    features.add_argument(
        "--no-cache", action="store_true", help="recompute and overwrite the cache entry"
    )
    features.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    examples(
        features,
        ("DE features of DREAMER in 1 s windows", "physioemo features dreamer --root DREAMER.mat"),
        (
            "band powers of DEAP in 2 s windows, recomputed",
            "physioemo features deap --root data_preprocessed_python --recipe bp --window 2 "
            "--no-cache",
        ),
    )
    features.set_defaults(run=_features)


def _features(args) -> None:
    from ..datasets import load
    from ..experiment import Experiment
    from ..experiment.feature_jobs import feature_sets

    wanted = {args.recipe: given(args, Experiment).get("feature_options", {})}
    dataset = load(args.dataset, args.root)
    found = feature_sets(
        args.dataset, args.root, dataset, wanted, not args.quiet, use_cache=not args.no_cache
    )
    windows, parameters, status = found[args.recipe]
    print(f"{len(windows)} windows of {args.recipe} features, X {windows.X.shape[1:]}; {status}")
