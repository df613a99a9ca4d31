"""``physioemo playback``: one subject of a dataset as a BrainFlow playback recording with its
true labels beside it (`physioemo.live.playback`), for ``physioemo live --board playback``."""

from __future__ import annotations

from pathlib import Path

from .options import add_root, add_synthetic, choices, given, positive_float


def add_playback(playback) -> None:
    playback.add_argument("--dataset", required=True, choices=choices()["datasets"])
    playback.add_argument("--out", type=Path, help="the BrainFlow file to write")
    playback.add_argument(
        "--lsl",
        metavar="NAME",
        help="play over LSL outlets NAME-<modality> (each at its own rate) instead of a file",
    )
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

    if (args.out is None) == (args.lsl is None):
        raise ValueError("playback: give --out (a BrainFlow file) or --lsl (outlets), one of them")
    if args.lsl:
        _play_lsl(args)
        return
    path, sidecar, subject = playback_of(**given(args, playback_of))
    print(f"wrote {path} (subject {subject}) and its true labels {sidecar}")
    print(f"replay it: physioemo live --board playback --file {path} --model MODEL")


def _play_lsl(args) -> None:
    """Play the subject over LSL until its end (or Ctrl-C), once a consumer connects."""
    from ..live.playback import LSLPlayer, subject_recordings

    options = given(args, subject_recordings)
    recordings, subject, eeg = subject_recordings(**options)
    player = LSLPlayer(recordings, args.lsl, eeg, args.speed or 1.0)
    player.open()
    print(
        f"subject {subject} on LSL; read it: physioemo live --source lsl --stream {player.stream}"
    )
    try:
        for outlet in player.outlets.values():
            outlet.wait_for_consumers(timeout=3600)
        player.play()
        player.done.wait()
    finally:
        player.stop()
