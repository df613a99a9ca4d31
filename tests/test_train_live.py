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


def test_trained_checkpoint_runs_on_the_synthetic_board(tmp_path, capsys):
    tiny = ["--synthetic-subjects", "2", "--synthetic-seconds", "4"]
    path = train(["--dataset", "dreamer", "--model", "rbtransformer", *tiny], tmp_path)
    capsys.readouterr()
    live = ["live", "--model", str(path), "--duration", "4", "--json", "--quiet"]
    assert main([*live, "--baseline-seconds", "1", "--stride", "0.5"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["source"] == "Synthetic (16 EEG channels, 250 Hz)"
    assert summary["channel_map"].startswith("4 of 14 model channels from the source")
    assert summary["baseline_windows"] == 2  # the first second, at a 0.5-s stride
    assert summary["windows"] >= 4 and summary["dropped_samples"] == 0
    assert set(summary["predictions"]) <= {"valence low (<3)", "valence high (>=3)"}


@pytest.mark.parametrize("kind", ["de", "raw"])
def test_stream_baseline_is_the_rest_after_the_filters_settle(kind):
    """DE minus the mean DE, or raw windows z-scored by the mean and standard deviation, of the
    baseline windows that start after `SETTLE_SECONDS` (here windows 6 and 7 of 8)."""
    from test_live import MemorySource, StubPredictor, run

    from physioemo.features import differential_entropy
    from physioemo.live.featuriser import SETTLE_SECONDS
    from physioemo.windows import window_bounds

    names, sfreq = ["Fz", "Cz", "Pz"], 128.0
    rng = np.random.default_rng(5)
    eeg = rng.normal(0, 20, (3, 1200)) + 4200.0  # an amplifier's DC offset
    baseline = {"de": "subtract", "raw": "zscore"}[kind]
    predictor = StubPredictor(names, 1.0, 0.5, kind, baseline, sfreq)
    results, summary = run(MemorySource(eeg, names, sfreq), predictor, baseline_seconds=4.0)
    assert summary["baseline_windows"] == 8 and SETTLE_SECONDS == 3.0
    starts, stops = window_bounds(eeg.shape[1], sfreq, 1.0, 0.5)
    if kind == "de":
        offline = differential_entropy(eeg, sfreq, window=1.0, stride=0.5, zero_phase=False)
        expected = offline[8:] - offline[6:8].mean(axis=0)
    else:
        windows = np.stack([eeg[:, a:b] for a, b in zip(starts, stops, strict=True)])
        rest = windows[6:8]  # samples of 3.0-4.5 s, the middle second counted twice
        mean = rest.mean(axis=(0, 2))[:, None]
        std = np.sqrt((rest**2).mean(axis=(0, 2))[:, None] - mean**2)
        expected = (windows[8:] - mean) / std
    np.testing.assert_allclose([r.features for r in results], expected, rtol=0, atol=1e-7)
