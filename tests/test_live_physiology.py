"""Wearable physiology live: every stream of a source at its own rate, peripheral and fused
models trained by `physioemo train` run on them, and a replayed WESAD subject shows its true
labels beside the predictions.

The WESAD tests replay a synthetic subject through BrainFlow's playback board in EmotiBit's
layout (three presets: accelerometer and PPG at 25 Hz, EDA and temperature at 15 Hz), written
by ``physioemo playback`` at 40 times real time; the live features are compared with the
offline recipe's (causal) on the signals the files hold, read back with BrainFlow.
"""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from test_live import MemorySource, noise_eeg

from physioemo.cli import main
from physioemo.features import recipes
from physioemo.features.peripheral_windows import peripheral_part
from physioemo.live import LiveError
from physioemo.live.app import true_labels
from physioemo.live.board import Board, brainflow, preset_file
from physioemo.live.labels import read_sidecar, sidecar_path
from physioemo.live.physiology import PeripheralFeaturiser
from physioemo.live.predictor import load_predictor
from physioemo.live.source import Chunk, Stream
from physioemo.live.stream import LiveStream
from physioemo.live.views import TerminalView
from physioemo.recording import Recording, Signal

SPEED = 40.0


@pytest.fixture(scope="module")
def wesad(tmp_path_factory):
    """Synthetic WESAD (6 subjects), a logistic regression and a PINN trained on it by
    `physioemo train` for live use, and a subject of other synthetic data (seed 1) written by
    `physioemo playback` in EmotiBit's layout."""
    from physioemo.datasets.synthetic import write_wesad

    folder = tmp_path_factory.mktemp("wesad")
    root = write_wesad(folder / "train", subjects=6, seconds=20.0, seed=0)
    models = {}
    for model in ("logreg", "pinn"):
        models[model] = folder / f"{model}.pt"
        args = ["train", "--dataset", "wesad", "--root", str(root), "--model", model]
        assert main([*args, "--threads", "1", "--quiet", "--out", str(models[model])]) == 0
    other = write_wesad(folder / "other", subjects=1, seconds=20.0, seed=1)
    replay = folder / "S2.csv"
    args = ["playback", "--dataset", "wesad", "--root", str(other), "--out", str(replay)]
    assert main([*args, "--speed", str(SPEED)]) == 0
    return root, models, replay


def recorded(board: Board) -> Recording:
    """The playback files' signals as one recording: each stream at its preset's rate."""
    read = brainflow()[1].DataFilter.read_file
    extra = {}
    for preset in board.presets:
        rows = read(str(preset_file(board.file, preset.preset)))
        for stream in board.streams:
            if stream.name in preset.rows:
                data = rows[preset.rows[stream.name]]
                extra[stream.name] = Signal(data, preset.sfreq, list(stream.ch_names), stream.unit)
    acc = extra["acc"]
    return Recording(acc.data, acc.sfreq, list(acc.ch_names), "S2", extra=extra)


def replay(board, predictor, **options):
    results = []
    stream = LiveStream(board, predictor, labels=true_labels(board, predictor), **options)
    summary = stream.run(duration=60, on_window=results.append)
    return stream, summary, results


def test_multi_preset_playback_reaches_the_featuriser_at_each_rate(wesad):
    _, models, path = wesad
    board = Board("playback", file=path)  # the sidecar names EmotiBit and the speed
    assert board.device == "Emotibit" and [p.name for p in board.presets] == [
        "default",
        "aux",
        "anc",
    ]
    rates = {s.name: s.sfreq for s in board.streams}
    shim = brainflow()[0].BoardShim
    emotibit = brainflow()[0].BoardIds.EMOTIBIT_BOARD.value
    assert rates == {
        "acc": shim.get_sampling_rate(emotibit, 0),  # 25 Hz, default preset
        "ppg": shim.get_sampling_rate(emotibit, 1),  # 25 Hz, auxiliary preset
        "eda": shim.get_sampling_rate(emotibit, 2),  # 15 Hz, ancillary preset
        "temp": shim.get_sampling_rate(emotibit, 2),
    }
    stream, summary, results = replay(board, load_predictor(models["logreg"]))
    featuriser = stream.featuriser
    assert {name: s.sfreq for name, (_, s) in featuriser.streams.items()} == {
        "ppg": 25.0, "temp": 15.0, "acc": 25.0, "eda": 15.0
    }  # fmt: skip
    seconds = sum(s["stop"] - s["start"] for s in board.sidecar["segments"])
    assert stream.seen == {name: int(seconds * rate) for name, rate in rates.items()}
    assert summary["dropped_samples"] == 0 and summary["windows"] == int(seconds - 10) + 1


def test_wesad_playback_features_and_predictions_equal_offline(wesad):
    """Live peripheral features equal the offline recipe's (causal) on the replayed signals,
    to 1e-9 (the same samples through the same filters, in chunks or whole), and the
    probabilities equal a scikit-learn logistic regression fitted like `physioemo train`'s
    on those windows."""
    from physioemo.datasets import load
    from physioemo.experiment.train import LIVE_PERIPHERAL_WINDOW
    from physioemo.models import make_baseline

    root, models, path = wesad
    board = Board("playback", file=path)
    predictor = load_predictor(models["logreg"])
    parameters = predictor.features["parameters"]
    assert parameters["causal"] is True and parameters["heart"] == "ppg"
    assert parameters["inputs"] == "heart temp acc scr"  # what BrainFlow wearables stream
    _, summary, results = replay(board, predictor)
    offline = peripheral_part(recorded(board), **parameters)
    assert offline.names == tuple(predictor.ch_names)
    live = np.stack([r.features for r in results])
    assert live.shape == offline.X.shape and summary["incomplete_windows"] == 0
    np.testing.assert_allclose(live, offline.X, rtol=1e-9, atol=1e-9)
    # the offline model: the recipe on the training data, scikit-learn's logistic regression
    recipe = recipes.get("peripheral")
    training = recipes.compute(load("wesad", root), [(recipe, recipe.parameters(**parameters))])
    windows = training[0]
    scheme = ("baseline", "stress", "amusement")
    condition = windows.ratings["condition"]
    kept = np.isin(condition, [1, 2, 3])
    y = condition[kept].astype(int) - 1
    pipeline = make_baseline("logreg").fit(windows.X[kept], y)
    np.testing.assert_allclose(
        [r.probabilities for r in results], pipeline.predict_proba(offline.X), atol=1e-6
    )
    assert predictor.labels == list(scheme) and LIVE_PERIPHERAL_WINDOW["window"] == 10.0


def test_pinn_playback_equals_the_offline_pinn(wesad):
    """The PINN's live probabilities and EDA equal the checkpoint's network run offline on
    the recipe's windows, with t the window centre's place in its replayed condition segment
    (as offline, where each segment is a recording)."""
    import torch

    from physioemo.training.checkpoint import load_checkpoint

    _, models, path = wesad
    board = Board("playback", file=path)
    predictor = load_predictor(models["pinn"])
    _, summary, results = replay(board, predictor)
    offline = peripheral_part(recorded(board), **predictor.features["parameters"])
    parameters = predictor.features["parameters"]
    centres = np.arange(len(offline.X)) * parameters["stride"] + parameters["window"] / 2
    t = [
        (c - s["start"]) / (s["stop"] - s["start"])
        for c in centres
        for s in board.sidecar["segments"]
        if s["start"] <= c < s["stop"]
    ]
    assert len(t) == len(centres)
    network, _ = load_checkpoint(models["pinn"])
    with torch.no_grad():
        eda, logits = network(
            torch.as_tensor(offline.X, dtype=torch.float32), torch.tensor(t, dtype=torch.float32)
        )
    np.testing.assert_allclose(
        [r.probabilities for r in results], torch.softmax(logits, -1).numpy(), atol=1e-5
    )
    np.testing.assert_allclose([r.eda["predicted"] for r in results], eda.numpy(), atol=1e-5)
    np.testing.assert_allclose(
        [r.eda["measured"] for r in results], offline.extra["eda"], rtol=1e-6
    )


def test_replay_demo_shows_the_true_labels_beside_the_predictions(wesad, capsys, tmp_path):
    _, models, path = wesad
    jsonl = tmp_path / "windows.jsonl"
    live = ["live", "--board", "playback", "--file", str(path), "--model", str(models["logreg"])]
    assert main([*live, "--json", "--jsonl", str(jsonl)]) == 0
    summary = json.loads(capsys.readouterr().out)
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    truth = [line["true_label"] for line in lines]
    # the replayed conditions in order, in the model's class names (meditation is none)
    names = {1: "baseline", 2: "stress", 3: "amusement", 4: "(not rated)"}
    segments = read_sidecar(path)["segments"]
    expected = [names[int(s["ratings"]["condition"])] for s in segments]
    assert [t for i, t in enumerate(truth) if i == 0 or t != truth[i - 1]] == expected
    assert summary["true_label_windows"] == sum(t != "(not rated)" for t in truth)
    assert summary["agreement"] >= 0.7  # chance: about 0.4 (a new synthetic subject)
    # the terminal view draws the track: the true and predicted class of each window
    out = io.StringIO()
    view = TerminalView(out, fps=1e9)
    stream, _, results = replay(Board("playback", file=path), load_predictor(models["logreg"]))
    for result in results[:30]:
        view.update(result, stream)
    drawn = out.getvalue().rsplit("\x1b[J", 2)[-2]
    first = expected[0]
    assert f"   true: {first}" in drawn
    assert f"  true  {str(['baseline', 'stress', 'amusement'].index(first)) * 30}" in drawn
    assert "  pred  " in drawn and "agreement" in drawn and "hr_mean" in drawn
    assert "(0 baseline  1 stress  2 amusement)" in drawn


def test_pinn_runs_on_the_synthetic_board_with_its_predicted_eda(wesad, capsys, tmp_path):
    _, models, _ = wesad
    jsonl = tmp_path / "windows.jsonl"
    live = ["live", "--model", str(models["pinn"]), "--duration", "13", "--json", "--quiet"]
    assert main([*live, "--jsonl", str(jsonl)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["source"] == "Synthetic (16 EEG channels, 250 Hz)"
    assert "eda 1 ch 250 Hz (uS)" in summary["streams"] and summary["dropped_samples"] == 0
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(lines) == summary["windows"] >= 2  # 10-s windows every second from 10 s on
    assert all(set(line["eda"]) == {"predicted", "measured", "measured_scaled"} for line in lines)
    assert all(np.isfinite(line["eda"]["predicted"]) for line in lines)
    assert set(lines[0]["physiology"]) == set(load_predictor(models["pinn"]).ch_names)


# ----------------------------------------------------------------------------- refusals
def test_a_model_whose_inputs_the_source_lacks_is_refused_in_one_line(wesad, capsys):
    _, models, _ = wesad
    with pytest.raises(SystemExit) as caught:
        main(["live", "--board", "muse-2", "--model", str(models["pinn"]), "--quiet"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "physioemo: error: the model needs temp, eda, which the source does not stream "
        "(it streams eeg, acc, ppg)\n"
    )
    features = {"inputs": [["heart", "ppg"]], "window": 10.0, "stride": 0.3}
    ppg = Stream("ppg", "ppg", ("PPG",), 15.0, "a.u.")
    with pytest.raises(LiveError, match="stride 0.3 s is not a whole number of samples of ppg"):
        PeripheralFeaturiser(features, [ppg])


def test_a_damaged_sidecar_is_one_line_naming_the_key(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("")
    sidecar_path(path).write_text("{not json")
    with pytest.raises(LiveError, match=r"s.json: not JSON"):
        read_sidecar(path)
    good = {
        "format": "physioemo-playback-1",
        "dataset": "wesad",
        "subject": "S2",
        "master_board": "EMOTIBIT_BOARD",
        "segments": [{"start": 5, "stop": 1, "label": "x", "ratings": {}}],
    }
    sidecar_path(path).write_text(json.dumps(good))
    with pytest.raises(LiveError, match=r"key segments\[0\]: expected numbers start < stop"):
        read_sidecar(path)
    good["segments"][0]["stop"] = 9
    good["speed"] = "fast"
    sidecar_path(path).write_text(json.dumps(good))
    with pytest.raises(LiveError, match="key speed"):
        read_sidecar(path)


# ----------------------------------------------------------------------------- fused
class TwoStreams(MemorySource):
    """EEG at 128 Hz and ECG at 256 Hz from memory, read in chunks of 0.25 s."""

    def __init__(self, eeg, ecg, names):
        super().__init__(eeg, names, sfreq=128.0, chunk=32)
        self.ecg, self.ecg_position = ecg, 0
        self.streams = [
            Stream("eeg", "eeg", tuple(names), 128.0, "uV"),
            Stream("ecg", "ecg", ("ECG1", "ECG2"), 256.0, "uV"),
        ]

    def read(self):
        chunk = super().read()
        stop = min(self.ecg_position + 2 * chunk.n, self.ecg.shape[1])
        data = self.ecg[:, self.ecg_position : stop]
        self.ecg_position = stop
        chunk.others = {"ecg": Chunk(data, np.full(data.shape[1], time.time()))}
        return chunk


def test_fused_live_features_equal_the_fused_recipe():
    """DREAMER-like EEG + ECG: live fused windows equal the "de+peripheral" recipe in causal
    mode (no baseline), which is the DE recipe's and the peripheral recipe's side by side."""
    from physioemo.datasets.synthetic import EmotionEEG, ecg

    names = ["AF3", "F7", "F3", "FC5"]
    rng = np.random.default_rng(3)
    generator = EmotionEEG(names, 128.0)
    person = generator.subject(rng)
    eeg = noise_eeg(4, 128 * 30) + 10 * rng.standard_normal((4, 128 * 30))
    heart = ecg(rng, person, 256 * 30, 256.0, 0.5)
    recording = Recording(eeg, 128.0, names, "s1", extra={"ecg": Signal(heart, 256.0, ["a", "b"])})
    parameters = {"window": 10.0, "stride": 5.0, "baseline": "none", "causal": True}
    fused = recipes.get("de+peripheral").function(recording, **parameters)
    de = recipes.get("de").function(recording, window=10.0, stride=5.0, zero_phase=False)
    body = peripheral_part(recording, 10.0, 5.0, causal=True)
    np.testing.assert_array_equal(fused.X, np.hstack([de.X.reshape(5, -1), body.X]))
    assert fused.names[-3:] == ("hr_mean", "sdnn", "rmssd") and fused.names[0] == "AF3 theta"

    features = {
        "kind": "de+peripheral",
        "window": 10.0,
        "stride": 5.0,
        "baseline": "none",
        "inputs": [["heart", "ecg"]],
    }
    predictor = _Stub(names, features)
    results = []
    LiveStream(TwoStreams(eeg, heart, names), predictor, poll_margin=10.0).run(
        on_window=results.append
    )
    np.testing.assert_allclose([r.features for r in results], fused.X, rtol=1e-9, atol=1e-9)


class _Stub:
    name = "stub"
    labels = ["low", "high"]

    def __init__(self, ch_names, features):
        self.ch_names, self.features = list(ch_names), features

    def predict_proba(self, x):
        assert np.isfinite(x).all()
        return np.array([0.5, 0.5])
