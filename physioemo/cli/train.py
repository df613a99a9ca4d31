"""``physioemo train``: one model on all of a dataset's windows, into a checkpoint that
``physioemo live`` runs. The options set `TrainSpec`'s fields by name."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import (
    add_baseline,
    add_root,
    add_synthetic,
    add_window,
    choices,
    finite_float,
    fraction,
    given,
    non_negative_int,
    positive_int,
)


def add_train(train) -> None:
    train.add_argument("--model", required=True, choices=choices()["models"])
    train.add_argument("--out", required=True, type=Path, help="the checkpoint to write (.pt)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    data = train.add_argument_group("data")
    data.add_argument("--dataset", choices=choices()["datasets"])
    add_root(data, "the dataset's file or folder; default synthetic")
    add_synthetic(data, subjects="default 10 (DREAMER)", seconds="clip length, default 20")
    _add_features_and_labels(train.add_argument_group("features and labels"))
    how = train.add_argument_group("training")
    how.add_argument("--profile", choices=choices()["profiles"], help="quick presets or full")
    how.add_argument("--seed", type=non_negative_int, help="default: the preset's own, else 0")
    how.add_argument(
        "--validation", type=fraction, help="hold out this share of the trials and score them"
    )
    how.add_argument("--threads", type=positive_int, help="torch threads (default 1)")
    how.add_argument("--quiet", action="store_true", help="no progress, only the written path")
    train.set_defaults(run=_train)


def _add_features_and_labels(group) -> None:
    group.add_argument(
        "--features", choices=choices()["recipes"], help="feature recipe (default: the model's)"
    )
    add_window(group, into=None, stride="window step (s); default the window")
    add_baseline(
        group,
        dest="baseline",
        help="auto (default): subtract (DE) or zscore (raw) when trials have a baseline",
    )
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
        "--heart", help="peripheral: heart features from 'ecg', 'ppg' or a stream (auto)"
    )
    group.add_argument("--labels", choices=choices()["labels"], help="default: the dataset's first")
    group.add_argument("--dimension", help="rating dimension (default: the dataset's first)")
    group.add_argument("--threshold", type=finite_float, help="binary threshold on the rating")


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
