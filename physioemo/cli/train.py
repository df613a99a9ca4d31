"""``physioemo train``: one model on all of a dataset's windows, into a checkpoint that
``physioemo live`` runs. The options set `TrainSpec`'s fields by name."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import (
    add_baseline,
    add_profile,
    add_root,
    add_synthetic,
    add_threshold,
    add_window,
    choices,
    examples,
    fraction,
    given,
    non_negative_int,
    positive_int,
)


def add_train(train) -> None:
    train.add_argument(
        "--model", required=True, choices=choices()["models"], help="the model to train"
    )
    train.add_argument("--out", required=True, type=Path, help="the checkpoint to write (.pt)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    data = train.add_argument_group("data")
    data.add_argument(
        "--dataset", choices=choices()["datasets"], help="the dataset to train on (default dreamer)"
    )
    add_root(data, "the dataset's file or folder (default: the built-in synthetic data)")
    add_synthetic(data)
    _add_features_and_labels(train.add_argument_group("features and labels"))
    how = train.add_argument_group("training")
    add_profile(how, full="the full recipes")
    how.add_argument(
        "--seed", type=non_negative_int, help="seed (default: the preset's own, else 0)"
    )
    how.add_argument(
        "--validation",
        type=fraction,
        help="hold out this share of the trials and score them (default: none)",
    )
    how.add_argument("--threads", type=positive_int, help="torch threads (default 1)")
    how.add_argument(
        "-q", "--quiet", action="store_true", help="no progress, only the written path"
    )
    examples(
        train,
        (
            "HiSTN on the built-in synthetic DREAMER, for physioemo live",
            "physioemo train --model histn --out histn.pt",
        ),
        (
            "logreg on WESAD's wearable features, scored on a fifth of the trials",
            "physioemo train --model logreg --dataset wesad --root WESAD --validation 0.2 "
            "--out wesad.pt",
        ),
    )
    train.set_defaults(run=_train)


def _add_features_and_labels(group) -> None:
    group.add_argument(
        "--features", choices=choices()["recipes"], help="feature recipe (default: the model's)"
    )
    add_window(group, into=None)
    add_baseline(group, dest="baseline")
    group.add_argument(
        "--causal",
        action=argparse.BooleanOptionalAction,
        help="features a live stream computes the same way (default); --no-causal: zero-phase",
    )
    group.add_argument(
        "--inputs",
        help="peripheral feature groups, e.g. 'heart temp acc scr' (default for live use: what a "
        "BrainFlow wearable streams, no respiration)",
    )
    group.add_argument(
        "--heart", help="peripheral: heart features from 'ecg', 'ppg' or a stream (default auto)"
    )
    group.add_argument(
        "--labels", choices=choices()["labels"], help="label scheme (default: the dataset's first)"
    )
    group.add_argument("--dimension", help="rating dimension (default: the dataset's first)")
    add_threshold(group)


def _train(args) -> None:
    from ..experiment.train import TrainSpec, train

    echo = (lambda *lines: None) if args.quiet else print
    train(
        TrainSpec(**given(args, TrainSpec)),
        args.out,
        args.overwrite,
        progress=not args.quiet,
        echo=echo,
    )
    print(f"wrote {args.out}")
