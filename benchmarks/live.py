"""Live pipeline benchmark: end-to-end latency and sustained throughput on BrainFlow boards.

Two sources: BrainFlow's synthetic board (16 channels, 250 Hz) and a 64-channel 1000 Hz
recording of synthetic emotion EEG replayed through BrainFlow's playback board (in the layout
of BrainFlow's 64-channel ANT Neuro eego board, paced at 1000 Hz by its timestamps). Per
model: the scikit-learn baseline trained on the fly, and torch checkpoints given with
``--checkpoint`` when ``physioemo.training.checkpoint`` exists (skipped otherwise).

Latency runs from the window's last sample being available (BrainFlow's timestamp of it) to
the prediction. Throughput: samples processed per wall second against the board's rate, and
the CPU the stream used per second of signal against the offline reference computing the same
features in one batch (`differential_entropy(..., zero_phase=False)`) in the same run.

    python benchmarks/live.py [--seconds 30] [--replay-seconds 60] [--out docs/benchmark-live.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from physioemo.datasets.synthetic import EmotionEEG
from physioemo.features import differential_entropy
from physioemo.live.board import Board, brainflow
from physioemo.live.predictor import load_predictor, train_synthetic_predictor
from physioemo.live.stream import LiveStream

REPLAY_RATE = 1000.0
REPLAY_MASTER = "ANT_NEURO_EE_211_BOARD"  # 64 EEG rows in BrainFlow's descriptors


def write_replay_file(path: Path, seconds: float, seed=0) -> list[str]:
    """A BrainFlow file of 64-channel synthetic emotion EEG at 1000 Hz; returns the names."""
    import mne

    names = mne.channels.make_standard_montage("biosemi64").ch_names
    shim, data_filter, _ = brainflow()
    descr = shim.BoardShim.get_board_descr(shim.BoardIds[REPLAY_MASTER].value)
    rng = np.random.default_rng(seed)
    generator = EmotionEEG(names, REPLAY_RATE)
    n = int(seconds * REPLAY_RATE)
    rows = np.zeros((descr["num_rows"], n))
    rows[descr["eeg_channels"]] = generator.eeg(rng, generator.subject(rng), n, arousal=0.5)
    rows[descr["package_num_channel"]] = np.arange(n) % 256
    rows[descr["timestamp_channel"]] = time.time() + np.arange(n) / REPLAY_RATE
    data_filter.DataFilter.write_file(rows, str(path), "w")
    return names


def has_checkpoint_module() -> bool:
    try:
        return importlib.util.find_spec("physioemo.training.checkpoint") is not None
    except ModuleNotFoundError:  # no physioemo.training package at all
        return False


def offline_cpu_per_second(eeg: np.ndarray, sfreq: float, spec: dict) -> float:
    """Thread CPU seconds per second of signal of the offline causal DE of `eeg`."""
    start = time.thread_time()
    differential_entropy(
        eeg, sfreq, spec.get("bands"), spec["window"], spec.get("stride"), zero_phase=False
    )
    return (time.thread_time() - start) / (eeg.shape[1] / sfreq)


def measure(board: Board, predictor, seconds: float) -> dict:
    """Stream for `seconds`; the summary plus throughput and the offline reference."""
    kept = []
    poll = board.poll
    board.poll = lambda: kept.append(poll()) or kept[-1]
    stream = LiveStream(board, predictor)
    cpu = time.thread_time()
    summary = stream.run(duration=seconds)
    cpu = time.thread_time() - cpu
    signal_seconds = summary["samples"] / board.sfreq
    eeg = np.concatenate(kept, axis=1)[board.eeg_rows]
    reference = offline_cpu_per_second(eeg, board.sfreq, predictor.features)
    summary.update(
        samples_per_second=summary["samples"] / summary["seconds"],
        cpu_per_signal_second=cpu / signal_seconds,
        offline_cpu_per_signal_second=reference,
    )
    return summary


def row(source: str, model: str, s: dict) -> str:
    lat, comp, cpu = s["latency_ms"], s["compute_ms"], s["cpu_ms"]
    return (
        f"| {source} | {model} | {s['seconds']:.0f} | {s['windows']} | {s['dropped_samples']} | "
        f"{lat['p50']:.2f} / {lat['p95']:.2f} / {lat['p99']:.2f} / {lat['max']:.1f} | "
        f"{comp['p50']:.2f} / {comp['p99']:.2f} | {cpu['p50']:.2f} / {cpu['p99']:.2f} | "
        f"{s['samples_per_second']:.0f} | {100 * s['cpu_per_signal_second']:.1f} % | "
        f"{100 * s['offline_cpu_per_signal_second']:.2f} % |"
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    versions = f"Python {platform.python_version()}, numpy {np.__version__}"
    return f"{cpu}, {os.cpu_count()} cores, load average {load} at start; {versions}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="synthetic board run")
    parser.add_argument("--replay-seconds", type=float, default=60.0, help="64 ch replay run")
    parser.add_argument("--checkpoint", type=Path, nargs="*", default=[], help="torch models")
    parser.add_argument("--out", type=Path, help="write the markdown report here")
    args = parser.parse_args(argv)

    header = machine()
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        replay = Path(tmp) / "replay-64ch-1000hz.csv"
        names = write_replay_file(replay, args.replay_seconds + 2)
        sources = {
            "synthetic board, 16 ch x 250 Hz": (lambda: Board("synthetic"), args.seconds),
            "playback, 64 ch x 1000 Hz": (
                lambda: Board("playback", file=replay, master_board=REPLAY_MASTER, ch_names=names),
                args.replay_seconds,
            ),
        }
        models = {"logreg (scikit-learn)": None}
        notes = []
        if not has_checkpoint_module():
            notes.append("torch models skipped: physioemo.training.checkpoint is not in this build")
        else:
            models.update({f"checkpoint {p.name}": p for p in args.checkpoint})
            if not args.checkpoint:
                notes.append("torch models skipped: no --checkpoint given")
        for note in notes:
            print(note, file=sys.stderr)
        for source, (make_board, seconds) in sources.items():
            for model, checkpoint in models.items():
                board = make_board()
                predictor = (
                    load_predictor(checkpoint)
                    if checkpoint
                    else train_synthetic_predictor(board.ch_names, board.sfreq)
                )
                print(f"{source} / {model}: streaming {seconds:g} s ...", file=sys.stderr)
                summary = measure(board, predictor, seconds)
                lines.append(row(source, model, summary))
                print(lines[-1], file=sys.stderr)

    report = "\n".join(
        [
            "# Live pipeline benchmark",
            "",
            f"Run {dt.date.today().isoformat()} with `python benchmarks/live.py "
            f"--seconds {args.seconds:g} --replay-seconds {args.replay_seconds:g}`.",
            f"Machine: {header}. The machine is shared with other jobs, so latencies include "
            "time spent waiting for a core; `cpu` is the stream's own thread CPU time.",
            "",
            "Window 1 s, stride 0.25 s, DE in 4 bands (causal filters). Latency: from the window's "
            "last sample being available (BrainFlow timestamp) to the prediction, p50 / p95 / "
            "p99 / max in ms. Compute: from the poll that brought that sample to the prediction "
            "(wall ms, p50 / p99); cpu: the same span in thread CPU ms. Throughput: samples "
            "processed per wall second; CPU share: stream CPU per second of signal, against the "
            "offline batch computation of the same features (reference, same run).",
            "",
            "| source | model | s | windows | dropped | latency ms | compute ms | cpu ms | "
            "samples/s | CPU share (live) | CPU share (offline) |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *lines,
            "",
            *[f"- {note}" for note in notes],
        ]
    )
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n")


if __name__ == "__main__":
    main()
