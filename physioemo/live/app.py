"""``physioemo live``: a board through a model, with a terminal view and a summary on exit.

Without ``--model`` a logistic regression is trained on the fly on synthetic EEG for the
board's own channels and rate (`predictor.train_synthetic_predictor`), so the command works
out of the box; its predictions demonstrate the pipeline and mean nothing.
"""

from __future__ import annotations

import json
import sys

from .board import Board
from .predictor import load_predictor, train_synthetic_predictor
from .record import Recorder
from .stream import LiveStream

#: Quality states shown in the view.
MARKS = {"ok": "ok", "nan": "NaN", "railed": "RAIL"}


def open_board(args) -> Board:
    """The `Board` of the command-line arguments (not yet streaming)."""
    return Board(
        args.board,
        serial_port=args.serial_port,
        mac_address=args.mac_address,
        ip_address=args.ip_address,
        file=args.file,
        master_board=args.master_board,
    )


class View:
    """The live view, redrawn in place with ANSI cursor moves at most `fps` times a second."""

    def __init__(self, stream: LiveStream, out, fps=10.0):
        self.stream, self.out, self.period = stream, out, 1.0 / fps
        self._lines = 0
        self._drawn_at = 0.0

    def update(self, result) -> None:
        if result.timestamp - self._drawn_at < self.period:
            return
        self._drawn_at = result.timestamp
        lines = self.render(result)
        up = f"\x1b[{self._lines}F" if self._lines else ""
        self.out.write(up + "".join(f"{line}\x1b[K\n" for line in lines) + "\x1b[J")
        self.out.flush()
        self._lines = len(lines)

    def render(self, result) -> list[str]:
        stream, counts = self.stream, self.stream.counts
        labels = stream.predictor.labels
        width = max(map(len, labels))
        lines = [
            f"{stream.board!r} -> {stream.predictor.name}",
            f"channels: {stream.map.description}",
            f"t = {result.time:8.2f} s   prediction: {result.label}",
        ]
        for label, p in zip(labels, result.probabilities, strict=True):
            lines.append(f"  {label:<{width}} {p:6.1%} {'#' * int(round(30 * p))}")
        lines.append(
            f"latency {result.latency_ms:6.1f} ms   windows {counts.windows}   "
            f"dropped samples {counts.dropped}   reconnects {counts.reconnects}"
        )
        cells = [
            f"{name:>4} {MARKS[q]:>4} {rms:7.1f}uV"
            for name, q, rms in zip(stream.board.ch_names, result.quality, result.rms, strict=True)
        ]
        lines += ["  ".join(cells[i : i + 4]) for i in range(0, len(cells), 4)]
        return lines


def format_summary(summary: dict) -> str:
    """The exit summary as aligned text lines."""
    lines = []
    for key, value in summary.items():
        if isinstance(value, dict):
            value = "  ".join(f"{k} {v}" for k, v in value.items()) or "-"
        lines.append(f"{key:>20}: {value}")
    return "\n".join(lines)


def run_live(args) -> int:
    """Run ``physioemo live``; returns the exit code (130 after Ctrl-C)."""
    board = open_board(args)
    if args.model:
        predictor = load_predictor(args.model)
    else:
        predictor = train_synthetic_predictor(board.ch_names, board.sfreq)
    recorder = Recorder(args.record, board) if args.record else None
    stream = LiveStream(board, predictor, recorder=recorder)
    out = sys.stderr if args.json else sys.stdout
    view = View(stream, out) if not args.quiet and out.isatty() else None
    jsonl = open(args.jsonl, "w") if args.jsonl else None  # closed in the finally below

    def on_window(result) -> None:
        if jsonl is not None:
            line = result.to_json(predictor.labels, board.ch_names)
            jsonl.write(json.dumps(line) + "\n")
        if view is not None:
            view.update(result)

    interrupted = False
    try:
        summary = stream.run(args.duration, on_window)
    except KeyboardInterrupt:
        interrupted = True
        summary = stream.summary()
    finally:
        if jsonl is not None:
            jsonl.close()
    summary["interrupted"] = interrupted
    if recorder is not None:
        summary["recording"] = {
            "brainflow": str(recorder.path),
            "bdf": str(recorder.bdf_path),
            "samples": recorder.samples,
        }
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        print(format_summary(summary))
    return 130 if interrupted else 0
