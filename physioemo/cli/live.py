"""``physioemo live``: a board or stream through a model (`physioemo.live.app`). The options
set `LiveOptions`' fields by name; those left out keep its defaults."""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import INTERRUPTED, USER_ERROR, describe
from .options import given, positive_float


def add_live(live) -> None:
    from ..live.board import BOARD_NAMES, WEARABLE_NAMES
    from ..live.source import SOURCES

    live.add_argument(
        "--source",
        choices=list(SOURCES),
        help="; ".join(f"{name}: {about}" for name, (_, _, about) in SOURCES.items()),
    )
    live.add_argument(
        "--board",
        help=f"{', '.join({**BOARD_NAMES, **WEARABLE_NAMES})}, or any BrainFlow BoardIds name "
        "or id",
    )
    live.add_argument("--stream", help="LSL: the stream's name")
    live.add_argument("--stream-type", help="LSL: the stream's type (e.g. EEG)")
    live.add_argument(
        "--channels", help="electrode names of the source's channels, e.g. 'O1 Oz O2 Pz'"
    )
    live.add_argument(
        "--model", type=Path, help="checkpoint; without it, a model trained on synthetic EEG"
    )
    _add_timing(live)
    _add_outputs(live)
    live.add_argument("--serial-port", help="e.g. /dev/ttyUSB0 or COM3 (Cyton, Ganglion dongle)")
    live.add_argument("--mac-address", help="Bluetooth address (Muse, Ganglion native)")
    live.add_argument("--ip-address", help="WiFi boards")
    live.add_argument("--file", type=Path, help="playback: the BrainFlow recording to replay")
    live.add_argument("--master-board", help="playback: the board that recorded --file")
    live.set_defaults(run=_live)


def _add_timing(live) -> None:
    """The options in seconds."""
    for flag, about in (
        ("--duration", "seconds (default: until Ctrl-C)"),
        ("--stride", "s between predictions (default: the model's)"),
        (
            "--baseline-seconds",
            "models trained with a baseline: the first seconds of the stream, at rest (10)",
        ),
    ):
        live.add_argument(flag, type=positive_float, help=about)


def _add_outputs(live) -> None:
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
    live.add_argument("--port", type=int, help="dashboard port (0: any free one)")


def _live(args) -> None:
    from ..live import LiveError
    from ..live.app import LiveOptions, Terminated, run_live

    try:
        code = run_live(LiveOptions(**given(args, LiveOptions)))
    except LiveError as error:
        print(f"physioemo: error: {describe(error)}", file=sys.stderr)
        raise SystemExit(USER_ERROR) from None
    except KeyboardInterrupt as interrupt:  # during start-up, before streaming
        print("physioemo: stopped before streaming", file=sys.stderr)
        raise SystemExit(143 if isinstance(interrupt, Terminated) else INTERRUPTED) from None
    if code:
        raise SystemExit(code)
