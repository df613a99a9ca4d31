"""Live pipeline benchmark: end-to-end latency and sustained throughput on BrainFlow boards.

Two sources: BrainFlow's synthetic board (16 channels, 250 Hz) and a 64-channel 1000 Hz
recording of synthetic emotion EEG replayed through BrainFlow's playback board (in the layout
of BrainFlow's 64-channel ANT Neuro eego board, paced at 1000 Hz by its timestamps). Per
source and model, a stand-in model is trained in the run on synthetic EEG for the source's own
channels and rate (its predictions mean nothing; its cost per window is the model's): HiSTN on
raw 1-s windows (hierarchy derived from the montage), RBTransformer on DE, and the
scikit-learn baseline (logistic regression on DE). The torch models go through a checkpoint
file and `load_predictor`, as `physioemo live --model` runs them. Checkpoints of your own can
be added with ``--checkpoint``.

Latency runs from the window's last sample being available (BrainFlow's timestamp of it) to
the prediction. Throughput: samples processed per wall second against the board's rate, and
the CPU the stream used per second of signal against the offline reference computing the same
features in one batch (`differential_entropy(..., zero_phase=False)`) in the same run.

    python benchmarks/live.py [--quick] [--seconds 30] [--replay-seconds 60]
        [--sources synthetic replay] [--models logreg histn rbtransformer] [--out FILE]

Printed: a markdown report. --out: the summary as JSON (docs/results), with the README's
columns per run (`readme`: latency and own-CPU p50 / p99, dropped samples).

The 10-minute no-drop check of issue 6:
``--sources replay --models rbtransformer --replay-seconds 600``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from summaries import write

from physioemo.datasets.synthetic import EmotionEEG
from physioemo.experiment.export import machine, versions
from physioemo.experiment.stand_in import synthetic_training_set
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


#: Stand-in models: registry name -> input kind; "logreg" is the scikit-learn baseline.
MODELS = {"logreg": "de", "histn": "raw", "rbtransformer": "de"}
#: Synthetic training set and training of the torch stand-ins (quick; ours).
STAND_IN_DATA = {"trials": 8, "seconds": 4.0}
STAND_IN_TRAINING = {"train_options": {"epochs": 2}, "max_train_windows": 64}


def stand_in(model: str, board: Board, folder: Path):
    """A predictor of `model` trained on synthetic EEG for the board's channels and rate;
    torch models are saved as a checkpoint and loaded back as `physioemo live` loads them."""
    if model == "logreg":
        return train_synthetic_predictor(board.ch_names, board.sfreq, **STAND_IN_DATA)
    from physioemo.training.estimator import TorchClassifier

    kind = MODELS[model]
    X, y, features, labels = synthetic_training_set(
        board.ch_names, board.sfreq, kind=kind, **STAND_IN_DATA
    )
    options = {"sfreq": board.sfreq, "ch_names": board.ch_names} if kind == "raw" else {}
    classifier = TorchClassifier(model, model_options=options, **STAND_IN_TRAINING).fit(X, y)
    path = folder / f"{model}-{len(board.ch_names)}ch.pt"
    return load_predictor(classifier.save_checkpoint(path, board.ch_names, features, labels))


def offline_cpu_per_second(eeg: np.ndarray, sfreq: float, spec: dict) -> float | None:
    """Thread CPU seconds per second of signal of the offline causal DE of `eeg` (None for
    raw-window models, whose only feature work is cutting windows)."""
    if spec.get("kind", "de") != "de":
        return None
    start = time.thread_time()
    differential_entropy(
        eeg, sfreq, spec.get("bands"), spec["window"], spec.get("stride"), zero_phase=False
    )
    return (time.thread_time() - start) / (eeg.shape[1] / sfreq)


def load() -> str:
    """The 1-minute load average now (the machine's other work competes for its cores)."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"


def cpu_ticks() -> tuple[int, int] | None:
    """(steal, all) clock ticks of the machine's CPUs so far (Linux /proc/stat; None elsewhere).
    Steal is time the hypervisor ran something else while this virtual machine wanted a CPU:
    it shows up as wall time without thread CPU time."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(t) for t in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return ticks[7], sum(ticks[:8])


def steal_share(before, after) -> str:
    if before is None or after is None or after[1] == before[1]:
        return "?"
    return f"{100 * (after[0] - before[0]) / (after[1] - before[1]):.1f} %"


def measure(board: Board, predictor, seconds: float) -> dict:
    """Stream for `seconds`; the summary plus throughput, the offline reference, the load
    average at the start and the end of the run and the hypervisor's steal during it."""
    kept = []
    read = board.read
    board.read = lambda: kept.append(read()) or kept[-1]
    stream = LiveStream(board, predictor)
    load_before, ticks = load(), cpu_ticks()
    cpu = time.thread_time()
    summary = stream.run(duration=seconds)
    cpu = time.thread_time() - cpu
    load_after, steal = load(), steal_share(ticks, cpu_ticks())
    signal_seconds = summary["samples"] / board.sfreq
    eeg = np.concatenate([chunk.data for chunk in kept], axis=1)
    reference = offline_cpu_per_second(eeg, board.sfreq, predictor.features)
    summary.update(
        samples_per_second=summary["samples"] / summary["seconds"],
        cpu_per_signal_second=cpu / signal_seconds,
        offline_cpu_per_signal_second=reference,
        load=f"{load_before} / {load_after}",
        steal=steal,
    )
    return summary


def row(source: str, model: str, s: dict) -> str:
    lat, comp, cpu = s["latency_ms"], s["compute_ms"], s["cpu_ms"]
    offline = s["offline_cpu_per_signal_second"]
    return (
        f"| {source} | {model} | {s['load']} | {s['steal']} | {s['seconds']:.0f} | "
        f"{s['windows']} | {s['dropped_samples']} | "
        f"{lat['p50']:.2f} / {lat['p95']:.2f} / {lat['p99']:.2f} / {lat['max']:.1f} | "
        f"{comp['p50']:.2f} / {comp['p99']:.2f} | {cpu['p50']:.2f} / {cpu['p99']:.2f} | "
        f"{s['samples_per_second']:.0f} | {100 * s['cpu_per_signal_second']:.1f} % | "
        + (f"{100 * offline:.2f} % |" if offline is not None else "- |")
    )


#: how the README names each model with its input
DESCRIBED = {"logreg": "logreg on DE", "histn": "HiSTN on raw windows"}
DESCRIBED["rbtransformer"] = "RBTransformer on DE"


def readme_row(source: str, model: str, s: dict) -> dict:
    """The README's columns of one run: latency and own CPU per window (p50 / p99 ms)."""
    lat, cpu = s["latency_ms"], s["cpu_ms"]
    return {
        "source": source,
        "model": DESCRIBED.get(model, model),
        "p50 / p99 ms": f"{lat['p50']:.1f} / {lat['p99']:.1f}",
        "own CPU p50 / p99 ms": f"{cpu['p50']:.1f} / {cpu['p99']:.1f}",
        "dropped": s["dropped_samples"],
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 s per source/model")
    parser.add_argument("--seconds", type=float, default=30.0, help="synthetic board run")
    parser.add_argument("--replay-seconds", type=float, default=60.0, help="64 ch replay run")
    parser.add_argument("--sources", nargs="+", default=["synthetic", "replay"])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--checkpoint", type=Path, nargs="*", default=[], help="torch models")
    parser.add_argument("--out", type=Path, help="write the summary as JSON here (docs/results)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = args.replay_seconds = 5.0

    loads = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    used = ", ".join(f"{name} {version}" for name, version in versions().items())
    header = f"{machine()}, load average {loads} at start; {used}"
    lines, readme = [], []
    with tempfile.TemporaryDirectory() as tmp:
        replay = Path(tmp) / "replay-64ch-1000hz.csv"
        names = (
            write_replay_file(replay, args.replay_seconds + 2) if "replay" in args.sources else []
        )
        sources = {
            "synthetic": (
                "synthetic board, 16 ch x 250 Hz",
                lambda: Board("synthetic"),
                args.seconds,
            ),
            "replay": (
                "playback, 64 ch x 1000 Hz",
                lambda: Board("playback", file=replay, master_board=REPLAY_MASTER, ch_names=names),
                args.replay_seconds,
            ),
        }
        for key in args.sources:
            source, make_board, seconds = sources[key]
            runs = [(model, None) for model in args.models]
            runs += [(f"checkpoint {path.name}", path) for path in args.checkpoint]
            for model, checkpoint in runs:
                board = make_board()
                predictor = (
                    load_predictor(checkpoint) if checkpoint else stand_in(model, board, Path(tmp))
                )
                print(f"{source} / {predictor.name}: streaming {seconds:g} s ...", file=sys.stderr)
                summary = measure(board, predictor, seconds)
                lines.append(row(source, model, summary))
                readme.append(readme_row(source, model, summary))
                print(lines[-1], file=sys.stderr)

    given = argv if argv is not None else sys.argv[1:]
    if "--out" in given:  # the report names its settings, not where it was written
        given = given[: given.index("--out")] + given[given.index("--out") + 2 :]
    command = " ".join(["python benchmarks/live.py", *given])
    report = "\n".join(
        [
            "# Live pipeline benchmark",
            "",
            f"Run {dt.datetime.now().isoformat(timespec='minutes')} with `{command}`.",
            f"Machine: {header}. The machine is shared with other jobs, so latencies include "
            "time spent waiting for a core; `cpu` is the stream's own thread CPU time; `load` "
            "is the 1-minute load average at the start / end of each run; `steal`: share of the "
            "CPUs' time the hypervisor gave to other machines during the run (/proc/stat).",
            "",
            "Window 1 s, stride 0.25 s; DE in 4 bands (causal filters) for logreg and "
            "RBTransformer, raw 1-s windows for HiSTN; torch with one intra-op thread (as "
            "`load_predictor` sets it). Stand-in models trained in the run on "
            "synthetic EEG for each source's channels and rate. Latency: from the window's "
            "last sample being available (BrainFlow timestamp) to the prediction, p50 / p95 / "
            "p99 / max in ms. Compute: from the poll that brought that sample to the prediction "
            "(wall ms, p50 / p99); cpu: the same span in thread CPU ms. Throughput: samples "
            "processed per wall second; CPU share: stream CPU per second of signal, against the "
            "offline batch computation of the same DE features (reference, same run).",
            "",
            "| source | model | load | steal | s | windows | dropped | latency ms | compute ms | "
            "cpu ms | samples/s | CPU share (live) | CPU share (offline DE) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            *lines,
        ]
    )
    print(report)
    if args.out:
        write(args.out, {"load_average": loads, "readme": readme})


if __name__ == "__main__":
    main()
