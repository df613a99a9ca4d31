"""``physioemo live``: a source through a model, with terminal and web views and a summary.

Without ``--model`` a logistic regression is trained on the fly on synthetic EEG for the
source's own channels and rate (`predictor.train_synthetic_predictor`), so the command works
out of the box; its predictions demonstrate the pipeline and mean nothing. A checkpoint of
peripheral features (the PINN, a peripheral logistic regression) or fused ones reads the
source's physiological streams (`physiology`). A replayed recording written by ``physioemo
playback`` brings its true labels (`labels.TrueLabels`), shown beside the predictions.
``--stride`` sets how often a window is predicted (default: the checkpoint's training
stride); with a checkpoint trained with a baseline, the first ``--baseline-seconds`` (10) of
the stream are the resting baseline (`featuriser.Featuriser`).

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
from dataclasses import dataclass
from pathlib import Path

from ..errors import clean
from . import LiveError
from .labels import TrueLabels
from .predictor import load_predictor, train_synthetic_predictor
from .record import Recorder, reserve
from .source import open_source
from .stream import LiveStream
from .views import TerminalView, format_summary


@dataclass
class LiveOptions:
    """What ``physioemo live`` runs; its options have these names."""

    #: "brainflow" (a board) or "lsl" (a Lab Streaming Layer stream)
    source: str = "brainflow"
    #: a `board.BOARD_NAMES` name, a BrainFlow BoardIds name or id, and how to reach it
    board: str = "synthetic"
    serial_port: str | None = None
    mac_address: str | None = None
    ip_address: str | None = None
    #: playback: the BrainFlow recording to replay and the board that recorded it
    file: Path | None = None
    master_board: str | None = None
    #: the LSL stream's name and type
    stream: str | None = None
    stream_type: str | None = None
    #: electrode names of the source's channels, "O1 Oz O2 Pz" or comma-separated (None: the
    #: source's own)
    channels: str | None = None
    #: a checkpoint (None: a model trained on synthetic EEG)
    model: Path | None = None
    #: seconds to stream (None: until the stream ends or Ctrl-C)
    duration: float | None = None
    #: seconds between predictions (None: the model's)
    stride: float | None = None
    #: models trained with a baseline: the first seconds of the stream, at rest
    baseline_seconds: float = 10.0
    #: the BrainFlow file to record to (never overwritten; a BDF is written beside it)
    record: Path | None = None
    #: a file to write one JSON line per window to
    jsonl: Path | None = None
    #: print the summary as JSON; quiet: no live view or text summary
    json: bool = False
    quiet: bool = False
    #: serve a dashboard on 127.0.0.1:port (0: any free port)
    web: bool = False
    port: int = 8765


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


def run_live(options: LiveOptions) -> int:
    """Run ``physioemo live`` with `options`; returns the exit code (130 after Ctrl-C, 143
    after SIGTERM)."""
    if threading.current_thread() is not threading.main_thread():
        return _run(options)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return _run(options)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(options: LiveOptions) -> int:
    if options.jsonl:
        check_writable(options.jsonl, "--jsonl")
    record = reserve(options.record) if options.record else None
    try:
        source = open_source(options)
        if options.model:
            predictor = load_predictor(options.model)
        else:
            predictor = train_synthetic_predictor(source.ch_names, source.sfreq)
        if options.stride:
            predictor.features["stride"] = options.stride
        stream = LiveStream(
            source,
            predictor,
            labels=true_labels(source, predictor),
            baseline_seconds=options.baseline_seconds,
        )
    except BaseException:
        if record is not None:
            record.unlink(missing_ok=True)  # the empty file that held the name
        raise
    if record is not None:
        stream.recorder = Recorder(record, source, reserved=True)
        if record != options.record:
            print(f"physioemo: {options.record} exists; recording to {record}", file=sys.stderr)
    return _stream(options, stream)


def true_labels(source, predictor) -> TrueLabels | None:
    """The true labels of a replayed recording whose sidecar the source found, in the
    model's class names when its label scheme is the recording's dataset's."""
    sidecar = getattr(source, "sidecar", None)
    if sidecar is None:
        return None
    scheme = getattr(predictor, "meta", {}).get("labels", {})
    return TrueLabels.from_sidecar(sidecar, scheme, predictor.labels)


def _views(options, stream) -> list:
    out = sys.stderr if options.json else sys.stdout
    views = [TerminalView(out)] if not options.quiet and out.isatty() else []
    if options.web:
        from .web import WebView

        web = WebView(stream, port=options.port)
        print(f"physioemo: dashboard at {web.url}", file=sys.stderr, flush=True)
        views.append(web)
    return views


def _stream(options, stream) -> int:
    labels, ch_names = stream.predictor.labels, stream.source.ch_names
    views = _views(options, stream)
    jsonl = open(options.jsonl, "w") if options.jsonl else None  # closed in the finally below
    # without the terminal view, each kind of loud warning is one stderr line when it starts
    told = set() if not any(isinstance(view, TerminalView) for view in views) else None

    def on_window(result) -> None:
        if jsonl is not None:
            jsonl.write(json.dumps(result.to_json(labels, ch_names)) + "\n")
        for view in views:
            view.update(result, stream)
        for kind, text in result.warnings.items() if told is not None else ():
            if kind not in told:
                told.add(kind)
                print(f"physioemo: WARNING: {clean(text, 600)}", file=sys.stderr, flush=True)

    ended_by = None
    try:
        summary = stream.run(options.duration, on_window)
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
    if options.json:
        print(json.dumps(summary, indent=2))
    elif not options.quiet:
        print(format_summary(summary))
    return {None: 0, "Ctrl-C": 130, "SIGTERM": 143}[ended_by]
