"""``physioemo live``: a source through a model, with terminal and web views and a summary.

Without ``--model`` a logistic regression is trained on the fly on synthetic EEG for the
source's own channels and rate (`predictor.train_synthetic_predictor`), so the command works
out of the box; its predictions demonstrate the pipeline and mean nothing. ``--stride`` sets
how often a window is predicted (default: the checkpoint's training stride); with a checkpoint
trained with a baseline, the first ``--baseline-seconds`` (10) of the stream are the resting
baseline (`featuriser.Featuriser`).

Outputs are checked before any device is touched: ``--jsonl`` must be writable and
``--record`` gets a name of its own (`record.free_path`: an existing recording is never
overwritten). Ctrl-C and SIGTERM end the stream the same way: the source is released, the
recording flushed and its BDF written, and the summary printed (exit 130 or 143).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

from . import LiveError
from .predictor import load_predictor, train_synthetic_predictor
from .record import Recorder, reserve
from .stream import LiveStream
from .views import TerminalView, format_summary


def open_source(args):
    """The source of the command-line arguments (not yet streaming)."""
    names = args.channels.replace(",", " ").split() if args.channels else None
    if args.source == "lsl":
        from .lsl import LSLSource

        return LSLSource(args.stream, stype=args.stream_type, ch_names=names)
    from .board import Board

    return Board(
        args.board,
        serial_port=args.serial_port,
        mac_address=args.mac_address,
        ip_address=args.ip_address,
        file=args.file,
        master_board=args.master_board,
        ch_names=names,
    )


def check_writable(path: Path, option: str) -> None:
    """One-line LiveError unless `path` can be written (without touching an existing file)."""
    folder = path.parent
    if path.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
        reason = "is a folder" if path.is_dir() else f"cannot write into {folder}"
        raise LiveError(f"{option} {path}: {reason}")
    if path.exists() and not os.access(path, os.W_OK):
        raise LiveError(f"{option} {path}: not writable")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be so both end the stream alike."""


def _raise_terminated(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the saving short
    raise Terminated


def run_live(args) -> int:
    """Run ``physioemo live``; returns the exit code (130 after Ctrl-C, 143 after SIGTERM)."""
    if threading.current_thread() is not threading.main_thread():
        return _run(args)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return _run(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args) -> int:
    if args.jsonl:
        check_writable(args.jsonl, "--jsonl")
    record = reserve(args.record) if args.record else None
    try:
        source = open_source(args)
        if args.model:
            predictor = load_predictor(args.model)
        else:
            predictor = train_synthetic_predictor(source.ch_names, source.sfreq)
        if args.stride:
            predictor.features["stride"] = args.stride
        stream = LiveStream(source, predictor, baseline_seconds=args.baseline_seconds)
    except BaseException:
        if record is not None:
            record.unlink(missing_ok=True)  # the empty file that held the name
        raise
    if record is not None:
        stream.recorder = Recorder(record, source, reserved=True)
        if record != args.record:
            print(f"physioemo: {args.record} exists; recording to {record}", file=sys.stderr)
    return _stream(args, stream)


def _views(args, stream) -> list:
    out = sys.stderr if args.json else sys.stdout
    views = [TerminalView(out)] if not args.quiet and out.isatty() else []
    if args.web:
        from .web import WebView

        web = WebView(stream, port=args.port)
        print(f"physioemo: dashboard at {web.url}", file=sys.stderr, flush=True)
        views.append(web)
    return views


def _stream(args, stream) -> int:
    labels, ch_names = stream.predictor.labels, stream.source.ch_names
    views = _views(args, stream)
    jsonl = open(args.jsonl, "w") if args.jsonl else None  # closed in the finally below

    def on_window(result) -> None:
        if jsonl is not None:
            jsonl.write(json.dumps(result.to_json(labels, ch_names)) + "\n")
        for view in views:
            view.update(result, stream)

    ended_by = None
    try:
        summary = stream.run(args.duration, on_window)
    except KeyboardInterrupt as interrupt:
        ended_by = "SIGTERM" if isinstance(interrupt, Terminated) else "Ctrl-C"
        summary = stream.summary()
    finally:
        if jsonl is not None:
            jsonl.close()
        for view in views:
            view.close()
    summary["interrupted"] = ended_by is not None
    summary["ended_by"] = ended_by or "end of stream"
    recorder = stream.recorder
    if recorder is not None:
        summary["recording"] = {
            "brainflow": str(recorder.path),
            "bdf": str(recorder.bdf_path) if recorder.samples else None,
            "samples": recorder.samples,
        }
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        print(format_summary(summary))
    return {None: 0, "Ctrl-C": 130, "SIGTERM": 143}[ended_by]
