"""`physioemo train` and the lab-to-demo path: a checkpoint trained on (synthetic) DREAMER runs
live on BrainFlow's synthetic board layout and its predictions follow the replayed trials.

The replay tests plant a strong effect (ours, said here): the training DREAMER and the replayed
person share one response to arousal (`EmotionEEG` with subject_spread = pattern_spread = 0,
effect 1.2: beta up and alpha down by exp(+-0.72) at every site between the lowest and highest
rating), and the replayed person has the population's typical spectrum (1/f exponent 1.75,
alpha at 10 Hz, unit gain). Without it the test would measure how one model generalises to one
random new person, not whether live carries the model over. The replay is written in the
synthetic board's layout (16 channels at 250 Hz: 10 of DREAMER's 14 electrodes interpolated,
raw windows resampled to 128 Hz) and played by BrainFlow's playback board at 4x real time
(timestamps 4x closer, the board's rate given as 250 Hz) to keep the tests short.
"""

from __future__ import annotations

import dataclasses
import functools
import json

import numpy as np
import pytest

from physioemo.cli import main
from physioemo.datasets.synthetic import EmotionEEG, write_dreamer
from physioemo.live import LiveError
from physioemo.live.board import Board, brainflow
from physioemo.live.predictor import load_predictor
from physioemo.live.stream import LiveStream

EFFECT = 1.2
SPEED = 8.0
REST, TRIAL = 6.0, 4.0  # seconds of rest (the live baseline) and of each replayed trial
CLASSES = [0, 1, 1, 0, 1, 0, 0, 1]  # low / high arousal: ratings 1 and 5


@pytest.fixture(scope="module")
def planted_dreamer(tmp_path_factory):
    """Synthetic DREAMER.mat whose subjects all respond alike (see the module docstring)."""
    from physioemo.datasets.synthetic import dreamer

    alike = functools.partial(EmotionEEG, subject_spread=0.0, pattern_spread=0.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dreamer, "EmotionEEG", alike)
        return write_dreamer(
            tmp_path_factory.mktemp("planted"), subjects=4, seconds=6.0, seed=0, effect=EFFECT
        )


def write_replay(path, seed=1):
    """A BrainFlow file in the synthetic board's layout: REST s at rest, then one TRIAL-s trial
    per entry of CLASSES; returns the class of every sample (-1 at rest) and the board layout."""
    board_shim, data_filter, _ = brainflow()
    layout = board_shim.BoardShim.get_board_descr(board_shim.BoardIds.SYNTHETIC_BOARD.value)
    names, sfreq = layout["eeg_names"].split(","), float(layout["sampling_rate"])
    generator = EmotionEEG(names, sfreq, effect=EFFECT, subject_spread=0.0, pattern_spread=0.0)
    rng = np.random.default_rng(seed)
    person = dataclasses.replace(
        generator.subject(rng), exponent=1.75, alpha_freq=10.0, gain=np.ones(len(names))
    )
    background_only = generator.nuisance(rng) * [[1], [0], [0], [0]]  # as DREAMER's baselines
    parts = [generator.eeg(rng, person, int(REST * sfreq), nuisance=background_only)]
    truth = [np.full(int(REST * sfreq), -1)]
    for label in CLASSES:
        n = int(TRIAL * sfreq)
        parts.append(generator.eeg(rng, person, n, arousal=1.0 if label else -1.0))
        truth.append(np.full(n, label))
    eeg, truth = np.concatenate(parts, axis=1), np.concatenate(truth)
    rows = np.zeros((layout["num_rows"], eeg.shape[1]))
    rows[layout["eeg_channels"]] = eeg
    rows[layout["package_num_channel"]] = np.arange(eeg.shape[1]) % 256
    rows[layout["timestamp_channel"]] = 1.7e9 + np.arange(eeg.shape[1]) / (sfreq * SPEED)
    data_filter.DataFilter.write_file(rows, str(path), "w")
    return truth, sfreq


@pytest.fixture(autouse=True)
def _one_torch_thread_after():
    """Numba's OpenMP feature kernels set the process's OpenMP threads (torch's too) to the
    core count; put torch back on the one thread of conftest for the tests that follow."""
    yield
    import torch

    torch.set_num_threads(1)


def train(args, tmp_path, name="m.pt"):
    """`physioemo train ARGS --out tmp_path/name` on one torch thread; the checkpoint path."""
    out = tmp_path / name
    assert main(["train", *args, "--threads", "1", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.parametrize(
    "model, kind, baseline", [("rbtransformer", "de", "subtract"), ("histn", "raw", "zscore")]
)
def test_replayed_trials_are_classified_live(planted_dreamer, tmp_path, model, kind, baseline):
    path = train(
        ["--model", model, "--root", str(planted_dreamer), "--dimension", "arousal"], tmp_path
    )
    predictor = load_predictor(path)
    features = predictor.features
    assert (features["kind"], features["baseline"], features["sfreq"]) == (kind, baseline, 128.0)
    assert features["causal"] is True and predictor.labels[1] == "arousal high (>=3)"

    truth, sfreq = write_replay(tmp_path / "replay.csv")
    board = Board("playback", file=tmp_path / "replay.csv", master_board="synthetic", sfreq=sfreq)
    results = []
    stream = LiveStream(board, predictor, baseline_seconds=REST - 1.0)
    summary = stream.run(duration=60, on_window=results.append)

    assert summary["samples"] == truth.size and summary["dropped_samples"] == 0
    assert summary["channel_map"].startswith("4 of 14 model channels from the source")
    assert (summary["resampling_delay_ms"] > 0) == (kind == "raw")  # 250 -> 128 Hz
    delay = stream.featuriser.delay  # a resampled window ends this much before result.time
    scored = []
    for result in results:
        end = result.time - delay  # s; the window spans the second before (to rounding)
        first, last = truth[[round((end - 0.99) * sfreq), round((end - 0.01) * sfreq)]]
        if first == last >= 0:  # within one trial
            scored.append((first, int(np.argmax(result.probabilities))))
    labels, predicted = np.array(scored).T
    accuracy = np.mean(labels == predicted)
    print(f"{model}: {accuracy:.3f} of {len(scored)} windows within a trial")
    assert len(scored) >= TRIAL * len(CLASSES) - 1  # 1 s every 1 s; a resampler holds the last
    assert accuracy >= 0.85  # chance: 0.5 (balanced replay)
