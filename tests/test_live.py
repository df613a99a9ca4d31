"""Live pipeline: causal streaming features, BrainFlow boards, montage mapping, recording.

The synthetic and playback boards stream in real time, so only three tests use them (about
7 s together); the rest drive the stream with an in-memory board.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from scipy import signal

from physioemo.cli import main
from physioemo.features import BANDS, differential_entropy, window_bounds
from physioemo.live import BoardError, LiveError, MontageError
from physioemo.live.board import Board, brainflow, file_rate, resolve_board_id
from physioemo.live.montage import _montage, map_channels
from physioemo.live.record import Recorder, write_bdf
from physioemo.live.stream import CausalFeatures, LiveStream, channel_quality

SYNTHETIC_NAMES = "Fz C3 Cz C4 Pz PO7 Oz PO8 F5 F7 F3 F1 F2 F4 F6 F8".split()


class StubPredictor:
    """Equal probabilities; only carries what the stream needs."""

    name = "stub"

    def __init__(self, ch_names, window=1.0, stride=0.25, kind="de", baseline="none"):
        self.ch_names = list(ch_names)
        self.features = {"kind": kind, "window": window, "stride": stride, "baseline": baseline}
        self.labels = ["low", "high"]

    def predict_proba(self, x):
        assert np.isfinite(x).all()
        return np.array([0.5, 0.5])


class MemoryBoard:
    """A board in memory: rows [package counter, EEG..., timestamp], `chunk` samples per poll.

    stall_after: samples after which the first session delivers nothing more.
    fail_reopen: every open after the first raises BoardError.
    """

    playback = False
    name = "memory"

    def __init__(self, eeg, ch_names, sfreq=250.0, chunk=50, stall_after=None, fail_reopen=False):
        self.eeg, self.ch_names, self.sfreq, self.chunk = eeg, list(ch_names), sfreq, chunk
        self.eeg_rows = list(range(1, len(ch_names) + 1))
        self.package_row, self.timestamp_row = 0, len(ch_names) + 1
        self.stall_after, self.fail_reopen = stall_after, fail_reopen
        self.position = 0
        self.opens = []
        self.first_session_end = None  # when the first session last delivered samples

    def file_samples(self):
        return None if self.stall_after else self.eeg.shape[1]

    def open(self):
        if self.opens and self.fail_reopen:
            raise BoardError("cannot open board memory: gone")
        self.opens.append(time.time())

    def close(self):
        pass

    def poll(self):
        limit = self.eeg.shape[1]
        if self.stall_after and len(self.opens) == 1:
            limit = self.stall_after
        stop = min(self.position + self.chunk, limit)
        n = stop - self.position
        data = np.zeros((len(self.ch_names) + 2, n))
        data[0] = np.arange(self.position, stop) % 256
        data[1:-1] = self.eeg[:, self.position : stop]
        data[-1] = time.time() - np.arange(n)[::-1] / self.sfreq
        self.position = stop
        if n and len(self.opens) == 1:
            self.first_session_end = time.time()
        return data


def noise_eeg(n_channels, n_times, seed=0):
    return np.random.default_rng(seed).normal(0, 20, (n_channels, n_times)).cumsum(axis=1) * 0.1


# ----------------------------------------------------------------------------- features
@pytest.mark.parametrize("window, stride", [(1.0, 0.25), (0.5, 0.8), (1.0, None)])
def test_streaming_de_equals_offline_causal_de(window, stride):
    x = noise_eeg(5, 1900) + 4000.0  # a DC offset like real amplifiers
    live = CausalFeatures("de", 250.0, 5, window, stride).extract(x, chunk=37)
    offline = differential_entropy(x, 250.0, window=window, stride=stride, zero_phase=False)
    np.testing.assert_allclose(live, offline, rtol=0, atol=1e-9)
    # and by hand: scipy Butterworth band-pass from zero state, variance of the first window
    sos = signal.butter(4, BANDS["alpha"], btype="bandpass", fs=250.0, output="sos")
    alpha = signal.lfilter(*signal.sos2tf(sos), x, axis=-1)[:, : int(window * 250)]
    expected = 0.5 * np.log(2 * np.pi * np.e * alpha.var(axis=-1))
    np.testing.assert_allclose(live[0, :, 1], expected, rtol=0, atol=1e-6)


def test_raw_windows_are_the_samples():
    x = noise_eeg(3, 700)
    live = CausalFeatures("raw", 100.0, 3, 2.0, 1.5).extract(x, chunk=41)
    np.testing.assert_array_equal(live[1], x[:, 150:350])
    assert live.shape == (4, 3, 200)


def test_channel_quality_flags():
    raw = np.ones((4, 10)) * np.arange(10)
    raw[1] = 7.0  # flat
    raw[2, 3] = 2e5  # beyond the rail
    quality = channel_quality(raw, np.array([False, False, False, True]))
    assert quality == ["ok", "railed", "railed", "nan"]


# ----------------------------------------------------------------------------- boards
def test_resolve_board_ids_from_brainflow():
    ids = brainflow()[0].BoardIds
    assert resolve_board_id("cyton-daisy") == ids.CYTON_DAISY_BOARD.value
    assert resolve_board_id("cyton_wifi") == ids.CYTON_WIFI_BOARD.value
    assert resolve_board_id("MUSE_S_BOARD") == ids.MUSE_S_BOARD.value
    assert resolve_board_id("-1") == resolve_board_id(-1) == ids.SYNTHETIC_BOARD.value
    with pytest.raises(BoardError, match="unknown board 'emotiv'"):
        resolve_board_id("emotiv")
    with pytest.raises(BoardError, match="no board with id 999"):
        resolve_board_id(999)


def test_board_layout_comes_from_brainflow_descriptors():
    shim = brainflow()[0].BoardShim
    muse = Board("muse-2")
    assert muse.ch_names == shim.get_eeg_names(38) == ["TP9", "AF7", "AF8", "TP10"]
    assert muse.eeg_rows == shim.get_eeg_channels(38)
    assert muse.sfreq == shim.get_sampling_rate(38)
    assert Board("ganglion").ch_names == ["EEG1", "EEG2", "EEG3", "EEG4"]  # BrainFlow names none
    cap = ["O1", "Oz", "O2", "Pz"]
    assert Board("ganglion", ch_names=cap).ch_names == cap  # the cap's names override
    with pytest.raises(BoardError, match="ch_names has 3 names for the 4 EEG rows"):
        Board("ganglion", ch_names=cap[:3])


def test_board_that_cannot_open_says_why_and_what_to_check():
    board = Board("cyton")
    with pytest.raises(BoardError) as caught:
        board.open()
    message = str(caught.value)
    assert "INVALID_ARGUMENTS_ERROR" in message and "--serial-port" in message
    with pytest.raises(BoardError, match="UNABLE_TO_OPEN_PORT_ERROR.*dialout"):
        Board("cyton", serial_port="/dev/no-such-port").open()
    with pytest.raises(BoardError, match="needs --file"):
        Board("playback")


def test_cli_reports_board_errors_on_one_line(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["live", "--board", "emotiv", "--quiet"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.startswith("physioemo: error: unknown board 'emotiv'")


def test_file_rate_from_timestamps(tmp_path):
    path = tmp_path / "rec.csv"
    rows = np.zeros((300, 4))
    rows[:, 2] = 1.7e9 + np.arange(300) / 1000.0
    np.savetxt(path, rows, fmt="%f", delimiter="\t")
    assert file_rate(path, 2, nominal=2000.0) == 1000.0
    assert file_rate(path, 2, nominal=1010.0) == 1010.0  # within 5 %: the board's own rate


# ----------------------------------------------------------------------------- montage
def test_montage_reorders_picks_and_matches_old_names():
    board = ["T3", "cz", "T4", "Pz", "Fz"]
    same = map_channels(board, board)
    assert "as they are" in same.description
    reordered = map_channels(["Fz", "Pz", "T4", "CZ", "T3"], board)
    assert reordered.picks.tolist() == [4, 3, 2, 1, 0] and "reordered" in reordered.description
    picked = map_channels(["T7", "T8", "Cz"], board)  # T7 = T3, T8 = T4
    assert picked.picks.tolist() == [0, 2, 1]
    assert "ignored: Pz Fz" in picked.description
    x = np.arange(5 * 3).reshape(5, 3)
    np.testing.assert_array_equal(picked.apply(x), x[[0, 2, 1]])


def test_montage_interpolates_missing_channel_with_splines():
    positions = _montage()[0].get_positions()["ch_pos"]
    board = "Fz C3 Cz C4 Pz F4 P3 P4 F7 F8 T7 T8 O1 O2 Fp1 Fp2".split()
    mapping = map_channels(["Fz", "C3", "Cz", "F3"], board)
    assert "interpolated (spherical splines, MNE): F3" in mapping.description
    np.testing.assert_allclose(mapping.matrix.sum(axis=1), 1.0, atol=1e-6)
    for axis in range(3):  # a smooth field over the scalp: each position coordinate
        field = np.array([[positions[n][axis]] for n in board])
        estimate = mapping.apply(field)[3, 0]
        assert abs(estimate - positions["F3"][axis]) < 0.05 * np.ptp(field)


def test_montage_refuses_too_few_or_unplaceable_channels():
    dreamer = "AF3 F7 F3 FC5 T7 P7 O1 O2 P8 T8 FC6 F4 F8 AF4".split()
    with pytest.raises(MontageError, match="board gives 0 of them .*at least 7 must match"):
        map_channels(dreamer, ["TP9", "AF7", "AF8", "TP10"])
    with pytest.raises(MontageError, match="cannot interpolate X9: no position"):
        map_channels(["Fz", "Cz", "Pz", "X9"], ["Fz", "Cz", "Pz", "Oz"])


# ----------------------------------------------------------------------------- stream
def test_nan_and_railed_channels_are_flagged_and_interpolated():
    names = "Fz C3 Cz C4 Pz O1 O2 F3".split()
    eeg = noise_eeg(len(names), 1500)
    eeg[2, 600:640] = np.nan  # Cz drops out
    eeg[5, 900:] = 187500.0  # O1 rails
    results = []
    stream = LiveStream(MemoryBoard(eeg, names), StubPredictor(names), poll_margin=10.0)
    summary = stream.run(on_window=results.append)
    quality = {r.index: dict(zip(names, r.quality, strict=True)) for r in results}
    assert quality[8]["Cz"] == "nan" and quality[8]["O1"] == "ok"  # window 2.0-3.0 s
    assert quality[20]["O1"] == "railed" and quality[20]["Cz"] == "ok"
    starts, stops = window_bounds(1500, 250.0, 1.0, 0.25)
    expected = {"Cz": np.sum((starts < 640) & (stops > 600)), "O1": np.sum(stops > 900)}
    assert summary["bad_channel_windows"] == expected == {"Cz": 5, "O1": 10}
    assert all(np.isfinite(r.features).all() for r in results)
    # while Cz is bad its features come from its neighbours, not the held samples
    offline = differential_entropy(
        np.nan_to_num(eeg), 250.0, window=1.0, stride=0.25, zero_phase=False
    )
    assert not np.allclose(results[8].features[2], offline[8, 2], atol=0.1)
    np.testing.assert_allclose(results[2].features, offline[2], atol=1e-9)


def test_stall_is_detected_within_two_seconds_and_reconnected():
    names = ["Fz", "Cz", "Pz"]
    board = MemoryBoard(noise_eeg(3, 10_000), names, chunk=250, stall_after=250)
    stream = LiveStream(board, StubPredictor(names), backoff=(0.05,))
    summary = stream.run(duration=1.9)
    assert summary["reconnects"] == 1 and len(board.opens) == 2
    assert board.opens[1] - board.first_session_end < 2.0
    assert summary["windows"] > 0
    assert summary["dropped_samples"] > 0  # the silent gap, estimated from timestamps


def test_failed_reconnects_raise_a_board_error():
    names = ["Fz", "Cz", "Pz"]
    board = MemoryBoard(noise_eeg(3, 10_000), names, stall_after=100, fail_reopen=True)
    stream = LiveStream(board, StubPredictor(names), stall_timeout=0.1, backoff=(0.01, 0.01))
    with pytest.raises(BoardError, match="stalled .* 2 reconnects failed: .*gone"):
        stream.run(duration=5)


def test_torch_checkpoint_runs_live(tmp_path, capsys):
    import torch

    from physioemo.live.predictor import load_predictor, synthetic_training_set
    from physioemo.training.estimator import TorchClassifier

    names = ["Fz", "Cz", "Pz"]
    X, y, features, labels = synthetic_training_set(names, 250.0, stride=0.5, trials=6, seconds=4)
    classifier = TorchClassifier("dgcnn", train_options={"epochs": 2}).fit(X, y)
    path = classifier.save_checkpoint(tmp_path / "model.pt", names, features, labels)

    predictor = load_predictor(path)
    assert predictor.labels == ["low arousal", "high arousal"]
    results = []
    eeg = noise_eeg(3, 1000)
    board_order = [1, 2, 0]  # the board lists Cz, Pz, Fz: the stream reorders to the model's
    board = MemoryBoard(eeg[board_order], [names[i] for i in board_order])
    LiveStream(board, predictor, poll_margin=10.0).run(on_window=results.append)
    offline = differential_entropy(eeg, 250.0, window=1.0, stride=0.5, zero_phase=False)
    with torch.no_grad():
        expected = torch.softmax(predictor.model(torch.as_tensor(offline, dtype=torch.float32)), -1)
    np.testing.assert_allclose([r.probabilities for r in results], expected.numpy(), atol=1e-5)

    assert main(["live", "--model", str(path), "--duration", "2", "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["windows"] >= 1 and set(summary["predictions"]) <= set(labels["classes"])


def test_histn_checkpoint_on_raw_windows_runs_live(tmp_path):
    import torch

    from physioemo.live.predictor import load_predictor, synthetic_training_set
    from physioemo.training.estimator import TorchClassifier

    names = ["F3", "Fz", "F4", "P3", "Pz", "P4"]
    X, y, features, labels = synthetic_training_set(
        names, 250.0, stride=0.5, trials=4, seconds=3, kind="raw"
    )
    assert X.shape[1:] == (6, 250) and features["kind"] == "raw" and "bands" not in features
    np.testing.assert_array_equal(X[1][:, :125], X[0][:, 125:])  # 0.5-s stride, same trial
    options = {"sfreq": 250.0, "ch_names": names}
    classifier = TorchClassifier("histn", model_options=options, train_options={"epochs": 1})
    path = classifier.fit(X, y).save_checkpoint(tmp_path / "histn.pt", names, features, labels)

    predictor = load_predictor(path)
    results = []
    eeg = noise_eeg(6, 750)
    LiveStream(MemoryBoard(eeg, names), predictor, poll_margin=10.0).run(on_window=results.append)
    starts, stops = window_bounds(750, 250.0, 1.0, 0.5)
    windows = np.stack([eeg[:, a:b] for a, b in zip(starts, stops, strict=True)])
    with torch.no_grad():
        expected = torch.softmax(predictor.model(torch.as_tensor(windows, dtype=torch.float32)), -1)
    np.testing.assert_allclose([r.probabilities for r in results], expected.numpy(), atol=1e-5)


# ----------------------------------------------------------------------------- recording
def test_bdf_is_24_bit_and_unclipped(tmp_path):
    import pyedflib

    t = np.arange(1003) / 250.0
    data = np.stack([4200 + 50 * np.sin(2 * np.pi * 10 * t), -150000 + 10 * t])
    data[0, 500] = 99_999.5  # a spike far outside the usual range
    path = write_bdf(tmp_path / "x.bdf", data, ["Fz", "Cz"], 250.0)
    assert path.read_bytes()[:8] == b"\xffBIOSEMI"
    with pyedflib.EdfReader(str(path)) as reader:
        assert reader.getSignalLabels() == ["Fz", "Cz"]
        assert reader.getSignalHeader(0)["digital_max"] == 2**23 - 1
        back = np.stack([reader.readSignal(i)[:1003] for i in range(2)])
        onsets, durations, texts = reader.readAnnotations()
    step = np.ptp(data, axis=1, keepdims=True) / 2**23  # one 24-bit quantum (rounded range)
    assert np.all(np.abs(back - data) <= 2 * step + 1e-9)
    assert back[0].max() == pytest.approx(99_999.5, abs=0.05)
    assert list(texts) == ["trial 1 session 1"] and onsets[0] == 0  # marks the recording's extent
    assert durations[0] == pytest.approx(1003 / 250.0)


def test_recorder_refuses_a_bdf_name(tmp_path):
    with pytest.raises(LiveError, match="give the BrainFlow file's name"):
        Recorder(tmp_path / "x.bdf", Board("synthetic"))


@pytest.fixture(scope="module")
def killed_recording(tmp_path_factory):
    """Stream the synthetic board with a recorder, kill the loop after 3 windows."""
    path = tmp_path_factory.mktemp("live") / "session.csv"
    board = Board("synthetic")
    polled = []
    poll = board.poll
    board.poll = lambda: polled.append(poll()) or polled[-1]

    def crash(result):
        if result.index == 2:
            raise RuntimeError("killed mid-run")

    stream = LiveStream(board, StubPredictor(SYNTHETIC_NAMES), recorder=Recorder(path, board))
    with pytest.raises(RuntimeError, match="killed mid-run"):
        stream.run(duration=10, on_window=crash)
    return path, board, stream, np.concatenate(polled, axis=1)


def test_killed_stream_keeps_every_polled_sample(killed_recording):
    import pyedflib

    path, board, stream, polled = killed_recording
    recorded = brainflow()[1].DataFilter.read_file(str(path))
    assert recorded.shape == polled.shape == (board.num_rows, stream.counts.samples)
    np.testing.assert_allclose(recorded, polled, rtol=0, atol=5e-6)  # printed with %f
    assert board._shim is None  # session released
    with pyedflib.EdfReader(str(path.with_suffix(".bdf"))) as reader:
        assert reader.getSignalLabels() == SYNTHETIC_NAMES
        bdf = np.stack([reader.readSignal(i)[: polled.shape[1]] for i in range(16)])
    eeg = recorded[board.eeg_rows]
    np.testing.assert_allclose(bdf, eeg, rtol=0, atol=2 * np.ptp(eeg) / 2**23 + 1e-6)


def test_playback_features_equal_offline_features(killed_recording):
    path = killed_recording[0]
    board = Board("playback", file=path, master_board="synthetic")
    assert board.sfreq == 250.0 and board.ch_names == SYNTHETIC_NAMES
    results = []
    summary = LiveStream(board, StubPredictor(SYNTHETIC_NAMES)).run(
        duration=10, on_window=results.append
    )
    recorded = brainflow()[1].DataFilter.read_file(str(path))
    offline = differential_entropy(
        recorded[board.eeg_rows], 250.0, window=1.0, stride=0.25, zero_phase=False
    )
    assert summary["samples"] == recorded.shape[1] and summary["dropped_samples"] == 0
    live = np.stack([r.features for r in results])
    assert live.shape == offline.shape
    np.testing.assert_allclose(live, offline, rtol=0, atol=1e-5)


def test_live_command_prints_json_summary(capsys, tmp_path):
    jsonl = tmp_path / "windows.jsonl"
    assert main(["live", "--duration", "3", "--json", "--jsonl", str(jsonl)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert 500 <= summary["samples"] <= 900  # 3 s at 250 Hz, give or take start-up
    assert summary["windows"] >= 5 and summary["dropped_samples"] == 0
    latency = summary["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert summary["interrupted"] is False
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(lines) == summary["windows"]
    assert set(lines[0]) == {
        "time",
        "timestamp",
        "probabilities",
        "prediction",
        "latency_ms",
        "bad_channels",
    }
    assert sum(lines[0]["probabilities"].values()) == pytest.approx(1.0)


def test_ctrl_c_prints_the_summary_and_keeps_the_recording(monkeypatch, capsys, tmp_path):
    from physioemo.live import app

    names = ["Fz", "Cz", "Pz"]
    board = MemoryBoard(noise_eeg(3, 5000), names, chunk=100)
    poll = board.poll
    polls = iter(range(1000))

    def poll_then_ctrl_c():
        if next(polls) == 12:
            raise KeyboardInterrupt
        return poll()

    board.poll = poll_then_ctrl_c
    monkeypatch.setattr(app, "open_board", lambda args: board)
    monkeypatch.setattr(app, "train_synthetic_predictor", lambda *a: StubPredictor(names))
    record = tmp_path / "session.csv"
    args = ["live", "--duration", "60", "--json", "--record", str(record)]
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 130
    summary = json.loads(capsys.readouterr().out)
    assert summary["interrupted"] is True and summary["samples"] == 12 * 100
    assert summary["recording"]["samples"] == 12 * 100
    recorded = brainflow()[1].DataFilter.read_file(str(record))
    np.testing.assert_allclose(recorded[1:4], board.eeg[:, : 12 * 100], atol=5e-7)
    assert record.with_suffix(".bdf").is_file()
