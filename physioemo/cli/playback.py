"""``physioemo playback``: one subject of a dataset as a BrainFlow playback recording with its
true labels beside it (`physioemo.live.playback`), for ``physioemo live --board playback``."""

from __future__ import annotations

from pathlib import Path

from .options import add_root, add_synthetic, choices, given, positive_float


def add_playback(playback) -> None:
    playback.add_argument("--dataset", required=True, choices=choices()["datasets"])
    playback.add_argument("--out", required=True, type=Path, help="the BrainFlow file to write")
    playback.add_argument("--subject", help="default: the dataset's first")
    playback.add_argument(
        "--board",
        default="emotibit",
        help="the BrainFlow board whose layout the file takes (default emotibit)",
    )
    playback.add_argument(
        "--speed",
        type=positive_float,
        help="replay this many times faster than real time (default 1)",
    )
    add_root(playback, "the dataset's file or folder; default synthetic")
    add_synthetic(playback)
    playback.set_defaults(run=_playback)


def _playback(args) -> None:
    from ..live.playback import playback_of

    path, sidecar, subject = playback_of(**given(args, playback_of))
    print(f"wrote {path} (subject {subject}) and its true labels {sidecar}")
    print(f"replay it: physioemo live --board playback --file {path} --model MODEL")
