"""Live emotion recognition from your own headset with your own model, in a few lines.

As it stands it streams BrainFlow's synthetic board through a model trained on the fly on
synthetic EEG (predictions are meaningless, the pipeline is real). For a lab's set-up, change
the settings below: the board (or an LSL stream), how to reach it, and a checkpoint made by
``physioemo train`` (causal features, everything live needs recorded in it). From the shell:

    physioemo train --dataset dreamer --root data/ --model rbtransformer --dimension arousal \
        --out model.pt
    physioemo live --board cyton --serial-port /dev/ttyUSB0 --model model.pt --record s01.csv

A checkpoint trained with a baseline (DREAMER's default) takes the first 10 s of the stream as
the resting baseline (``LiveStream(baseline_seconds=...)``): no predictions before that.
"""

from physioemo.live.board import Board
from physioemo.live.predictor import load_predictor, train_synthetic_predictor
from physioemo.live.record import Recorder
from physioemo.live.stream import LiveStream

BOARD = "synthetic"  # "cyton", "cyton-daisy", "muse-2", "unicorn", ... or a BrainFlow BoardIds name
CONNECTION = {}  # e.g. {"serial_port": "/dev/ttyUSB0"}, {"mac_address": "00:55:DA:B0:1E:7F"}
CHECKPOINT = None  # e.g. "model.pt" from `physioemo train`
RECORD = None  # e.g. "s01.csv": BrainFlow file as it streams, s01.bdf on exit

source = Board(BOARD, **CONNECTION)  # electrode names, rows and rate come from BrainFlow
# or an LSL stream: source = LSLSource("obci_eeg1")  (from physioemo.live.lsl import LSLSource)
if CHECKPOINT:
    model = load_predictor(CHECKPOINT)
else:
    model = train_synthetic_predictor(source.ch_names, source.sfreq)
recorder = Recorder(RECORD, source) if RECORD else None  # never overwrites: s01-2.csv if taken
stream = LiveStream(source, model, recorder=recorder)  # maps the source's channels to the model's
print(f"{source.name} -> {model.name}; {stream.map.description}")


def show(result):
    bad = [f"{n}:{q}" for n, q in zip(source.ch_names, result.quality, strict=True) if q != "ok"]
    print(
        f"{result.time:7.2f} s  {result.label:<14} {max(result.probabilities):5.0%}  "
        f"{result.latency_ms:5.1f} ms  {' '.join(bad)}"
    )


summary = stream.run(duration=10, on_window=show)  # Ctrl-C also stops it and keeps the recording
print(
    f"{summary['windows']} windows, {summary['dropped_samples']} dropped samples, "
    f"latency p50/p99 {summary['latency_ms']['p50']}/{summary['latency_ms']['p99']} ms"
)
