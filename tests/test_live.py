"""Live pipeline: causal streaming features, resampling, sources, channel mapping, recording.

The synthetic and playback boards and LSL players stream in real time, so few tests use them;
the rest drive the stream with an in-memory source.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from scipy import signal

from physioemo import montage
from physioemo.cli import main
from physioemo.features import BANDS, differential_entropy
from physioemo.features.streaming import StreamResampler
from physioemo.live import BoardError, LiveError, MontageError
from physioemo.live.board import Board, brainflow, file_rate, resolve_board_id
from physioemo.live.buffer import RingBuffer
from physioemo.live.channels import map_channels
from physioemo.live.featuriser import CausalFeatures
from physioemo.live.layout import DropCounter
from physioemo.live.quality import channel_quality
from physioemo.live.record import Recorder, free_path, write_bdf
from physioemo.live.source import Chunk
from physioemo.live.stream import LiveStream
from physioemo.windows import window_bounds

SYNTHETIC_NAMES = "Fz C3 Cz C4 Pz PO7 Oz PO8 F5 F7 F3 F1 F2 F4 F6 F8".split()
DREAMER_NAMES = "AF3 F7 F3 FC5 T7 P7 O1 O2 P8 T8 FC6 F4 F8 AF4".split()


class StubPredictor:
    """Equal probabilities; only carries what the stream needs."""

    name = "stub"

    def __init__(self, ch_names, window=1.0, stride=0.25, kind="de", baseline="none", sfreq=None):
        self.ch_names = list(ch_names)
        self.features = {"kind": kind, "window": window, "stride": stride, "baseline": baseline}
        if sfreq:
            self.features["sfreq"] = sfreq
        self.labels = ["low", "high"]

    def predict_proba(self, x):
        assert np.isfinite(x).all()
        return np.array([0.5, 0.5])


class MemorySource:
    """A source in memory, `chunk` samples per read, timestamps of now.

    stall_after: samples after which the first session delivers nothing more.
    fail_reopen: every start after the first raises BoardError.
    interrupt_after: reads after which the next one raises KeyboardInterrupt (Ctrl-C).
    """

    drop_detection = "none"
    native_layout = None

    def __init__(
        self,
        eeg,
        ch_names,
        sfreq=250.0,
        chunk=50,
        stall_after=None,
        fail_reopen=False,
        interrupt_after=None,
    ):
        self.eeg, self.ch_names, self.sfreq, self.chunk = eeg, list(ch_names), sfreq, chunk
        self.interrupt_after, self.reads = interrupt_after, 0
        self.ch_types = ["eeg"] * len(ch_names)
        self.name = f"memory ({len(ch_names)} channels)"
        self.n_samples = None if stall_after else eeg.shape[1]
        self.stall_after, self.fail_reopen = stall_after, fail_reopen
        self.position = 0
        self.starts = []
        self.first_session_end = None  # when the first session last delivered samples

    def start(self):
        if self.starts and self.fail_reopen:
            raise BoardError("cannot open board memory: gone")
        self.starts.append(time.time())

    def stop(self):
        pass

    def read(self):
        if self.reads == self.interrupt_after:
            raise KeyboardInterrupt
        self.reads += 1
        limit = self.eeg.shape[1]
        if self.stall_after and len(self.starts) == 1:
            limit = self.stall_after
        stop = min(self.position + self.chunk, limit)
        n = stop - self.position
        data = self.eeg[:, self.position : stop]
        stamps = time.time() - np.arange(n)[::-1] / self.sfreq
        self.position = stop
        if n and len(self.starts) == 1:
            self.first_session_end = time.time()
        return Chunk(data, stamps)


def noise_eeg(n_channels, n_times, seed=0):
    return np.random.default_rng(seed).normal(0, 20, (n_channels, n_times)).cumsum(axis=1) * 0.1


def run(source, predictor, **options):
    results = []
    summary = LiveStream(source, predictor, poll_margin=10.0, **options).run(
        on_window=results.append
    )
    return results, summary


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


@pytest.mark.parametrize("rate_in, rate_out", [(250, 128), (128, 250), (1000, 128), (200, 128)])
def test_stream_resampler_equals_resample_poly(rate_in, rate_out):
    x = np.random.default_rng(1).normal(size=(3, 2500))
    resampler = StreamResampler(rate_in, rate_out, 3)
    sizes = np.random.default_rng(2).integers(1, 90, 200).cumsum()
    pieces = [resampler.push(part) for part in np.split(x, sizes[sizes < x.shape[1]], axis=1)]
    live = np.concatenate(pieces, axis=1)
    offline = signal.resample_poly(x, resampler.up, resampler.down, axis=-1)
    assert offline.shape[1] - live.shape[1] == resampler.skip  # the tail still needs input
    np.testing.assert_allclose(live, offline[:, : live.shape[1]], rtol=0, atol=1e-12)
    # output i arrives with input_index(i): the FIR's half-length later than its own time
    i = 100
    assert resampler.input_index(i) / rate_in - i / rate_out == pytest.approx(
        resampler.delay, abs=1 / rate_in
    )


def test_channel_quality_flags():
    raw = np.ones((4, 10)) * np.arange(10)
    raw[1] = 7.0  # flat
    raw[2, 3] = 2e5  # beyond the rail
    quality = channel_quality(raw, np.array([False, False, False, True]))
    assert quality == ["ok", "railed", "railed", "nan"]


def test_ring_buffer_holds_the_newest_samples():
    ring = RingBuffer(2, 10)
    x = np.vstack([np.arange(23), -np.arange(23)]).astype(float)
    ring.push(x[:, :4])
    ring.push(x[:, 4:17])  # more than fits: the newest 10 stay
    ring.push(x[:, 17:23])
    np.testing.assert_array_equal(ring.latest(10), x[:, 13:23])
    np.testing.assert_array_equal(ring.window(20, 5), x[:, 15:20])
    with pytest.raises(IndexError, match="samples 10-15 are not held .held: 13-23"):
        ring.window(15, 5)


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
    assert muse.eeg_rows == shim.get_eeg_channels(38) and muse.ch_types == ["eeg"] * 4
    assert muse.sfreq == shim.get_sampling_rate(38) and muse.n_samples is None
    assert Board("ganglion").ch_names == ["EEG1", "EEG2", "EEG3", "EEG4"]  # BrainFlow names none
    cap = ["O1", "Oz", "O2", "Pz"]
    assert Board("ganglion", ch_names=cap).ch_names == cap  # the cap's names override
    with pytest.raises(BoardError, match="ch_names has 3 names for the 4 EEG rows"):
        Board("ganglion", ch_names=cap[:3])


def test_board_counts_lost_samples_from_counter_and_timestamps():
    board = Board("synthetic")
    counter = DropCounter(board.presets[0], board.buffer_size)
    rows = np.zeros((board.num_rows, 100))
    rows[board.package_row] = np.arange(100) % 256
    rows[board.timestamp_row] = 1e9 + np.arange(100) / 250.0
    assert counter.count(rows) == 0 and counter.counter_regular is True
    later = rows.copy()
    later[board.package_row] = np.r_[100:140, 145:205] % 256
    later[board.timestamp_row] += 100 / 250.0
    assert counter.count(later) == 5  # counter jumped 139 -> 145
    counter.restart()  # after a reconnect, the gap in time counts
    restart = rows.copy()
    restart[board.timestamp_row] = later[board.timestamp_row, -1] + (31 + np.arange(100)) / 250.0
    assert counter.count(restart) == 30


def test_board_that_cannot_open_says_why_and_what_to_check():
    board = Board("cyton")
    with pytest.raises(BoardError) as caught:
        board.start()
    message = str(caught.value)
    assert "INVALID_ARGUMENTS_ERROR" in message and "--serial-port" in message
    with pytest.raises(BoardError, match="UNABLE_TO_OPEN_PORT_ERROR.*dialout"):
        Board("cyton", serial_port="/dev/no-such-port").start()
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


# ----------------------------------------------------------------------------- channels
def test_channels_reorder_pick_and_match_other_names():
    source = ["T3", "cz", "T4", "Pz", "Fz", "CB1"]
    same = map_channels(source, source)
    assert "as they are" in same.description
    reordered = map_channels(["Fz", "Pz", "T4", "CZ", "T3", "cb1"], source)
    assert reordered.picks.tolist() == [4, 3, 2, 1, 0, 5] and "reordered" in reordered.description
    picked = map_channels(["T7", "T8", "Cz", "PO9"], source)  # T7 = T3, T8 = T4, PO9 = CB1
    assert picked.picks.tolist() == [0, 2, 1, 5]
    assert "ignored: Pz Fz" in picked.description
    x = np.arange(6 * 3).reshape(6, 3)
    np.testing.assert_array_equal(picked.apply(x), x[[0, 2, 1, 5]])


def test_channels_interpolate_a_missing_electrode_with_splines():
    positions = montage.standard_montage("1005").get_positions()["ch_pos"]
    source = "Fz C3 Cz C4 Pz F4 P3 P4 F7 F8 T7 T8 O1 O2 Fp1 Fp2".split()
    mapping = map_channels(["Fz", "C3", "Cz", "F3"], source)
    assert "interpolated (spherical splines, MNE): F3" in mapping.description
    np.testing.assert_allclose(mapping.matrix.sum(axis=1), 1.0, atol=1e-6)
    for axis in range(3):  # a smooth field over the scalp: each position coordinate
        field = np.array([[positions[n][axis]] for n in source])
        estimate = mapping.apply(field)[3, 0]
        assert abs(estimate - positions["F3"][axis]) < 0.05 * np.ptp(field)


def test_dreamer_model_on_the_synthetic_board_interpolates_what_it_lacks():
    dreamer = "AF3 F7 F3 FC5 T7 P7 O1 O2 P8 T8 FC6 F4 F8 AF4".split()
    mapping = map_channels(dreamer, SYNTHETIC_NAMES)
    assert mapping.description.startswith("4 of 14 model channels from the source")
    assert "AF3 FC5 T7 P7 O1 O2 P8 T8 FC6 AF4" in mapping.description


def test_channels_refused_naming_the_electrodes_without_neighbours():
    dreamer = "AF3 F7 F3 FC5 T7 P7 O1 O2 P8 T8 FC6 F4 F8 AF4".split()
    with pytest.raises(MontageError, match=r"needs AF3 F7 F3 FC5 P7 O1 O2 P8 FC6 F4 F8 AF4, "):
        map_channels(dreamer, ["TP9", "AF7", "AF8", "TP10"])  # a Muse: T7 and T8 have 2 each
    with pytest.raises(MontageError, match="needs X9, which the source lacks"):
        map_channels(["Fz", "Cz", "Pz", "X9"], ["Fz", "Cz", "Pz", "Oz"])


# ----------------------------------------------------------------------------- stream
def test_nan_and_railed_channels_are_flagged_and_interpolated():
    names = "Fz C3 Cz C4 Pz O1 O2 F3".split()
    eeg = noise_eeg(len(names), 1500)
    eeg[2, 600:640] = np.nan  # Cz drops out
    eeg[5, 900:] = 187500.0  # O1 rails
    results, summary = run(MemorySource(eeg, names), StubPredictor(names))
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


def test_raw_window_model_at_another_rate_gets_resampled_windows():
    names = ["F3", "Fz", "F4", "C3", "Cz", "C4"]
    eeg = noise_eeg(6, 2500)
    predictor = StubPredictor(names[::-1], window=1.0, stride=0.5, kind="raw", sfreq=128.0)
    results, summary = run(MemorySource(eeg, names, chunk=33), predictor)
    offline = signal.resample_poly(eeg, 64, 125, axis=-1)[::-1]  # 250 -> 128 Hz, model order
    starts, stops = window_bounds(offline.shape[1], 128.0, 1.0, 0.5)
    windows = np.stack([offline[:, a:b] for a, b in zip(starts, stops, strict=True)])
    live = np.stack([r.features for r in results])
    assert live.shape[1:] == (6, 128) and len(live) == len(windows) - 1  # the last one waits
    np.testing.assert_allclose(live, windows[: len(live)], rtol=0, atol=1e-9)
    assert summary["resampling_delay_ms"] == pytest.approx(85.9, abs=0.1)
    # a window is complete once the input its last output needs is in
    assert results[0].time == ((127 + 11) * 125 // 64 + 1) / 250.0  # output 127 needs input 269


def test_stall_is_detected_within_two_seconds_and_reconnected():
    names = ["Fz", "Cz", "Pz"]
    source = MemorySource(noise_eeg(3, 10_000), names, chunk=250, stall_after=250)
    summary = LiveStream(source, StubPredictor(names), backoff=(0.05,)).run(duration=1.9)
    assert summary["reconnects"] == 1 and len(source.starts) == 2
    assert source.starts[1] - source.first_session_end < 2.0
    assert summary["windows"] > 0


def test_failed_reconnects_raise_a_board_error():
    names = ["Fz", "Cz", "Pz"]
    source = MemorySource(noise_eeg(3, 10_000), names, stall_after=100, fail_reopen=True)
    stream = LiveStream(source, StubPredictor(names), stall_timeout=0.1, backoff=(0.01, 0.01))
    with pytest.raises(BoardError, match="stalled .* 2 reconnects failed: .*gone"):
        stream.run(duration=5)


def de_checkpoint(tmp_path, names, **options):
    from physioemo.experiment.stand_in import synthetic_training_set
    from physioemo.live.predictor import load_predictor
    from physioemo.training.estimator import TorchClassifier

    X, y, features, labels = synthetic_training_set(names, 250.0, trials=6, seconds=4, **options)
    classifier = TorchClassifier("dgcnn", train_options={"epochs": 2}).fit(X, y)
    path = classifier.save_checkpoint(tmp_path / "model.pt", names, features, labels)
    return path, load_predictor(path)


def test_torch_checkpoint_runs_live(tmp_path, capsys):
    import torch

    names = ["Fz", "Cz", "Pz"]
    path, predictor = de_checkpoint(tmp_path, names, stride=0.5)
    assert predictor.labels == ["arousal low (<3)", "arousal high (>=3)"]  # the registry's
    eeg = noise_eeg(3, 1000)
    order = [1, 2, 0]  # the source lists Cz, Pz, Fz: the stream reorders to the model's
    results, _ = run(MemorySource(eeg[order], [names[i] for i in order]), predictor)
    offline = differential_entropy(eeg, 250.0, window=1.0, stride=0.5, zero_phase=False)
    with torch.no_grad():
        expected = torch.softmax(predictor.model(torch.as_tensor(offline, dtype=torch.float32)), -1)
    np.testing.assert_allclose([r.probabilities for r in results], expected.numpy(), atol=1e-5)

    assert main(["live", "--model", str(path), "--duration", "2", "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["windows"] >= 1 and set(summary["predictions"]) <= set(predictor.labels)


def test_histn_checkpoint_on_raw_windows_runs_live(tmp_path):
    import torch

    from physioemo.experiment.stand_in import synthetic_training_set
    from physioemo.live.predictor import load_predictor
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
    eeg = noise_eeg(6, 750)
    results, _ = run(MemorySource(eeg, names), predictor)
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


def test_bdf_of_typed_channels(tmp_path):
    import mne

    data = noise_eeg(3, 500)
    path = write_bdf(
        tmp_path / "t.bdf", data, ["Fz", "X1", "Cz"], 250.0, ch_types=["eeg", "ecg", "eeg"]
    )
    raw = mne.io.read_raw_bdf(path, infer_types=True, verbose="error")
    assert raw.ch_names == ["Fz", "Cz", "X1"] and raw.get_channel_types() == ["eeg", "eeg", "ecg"]


def test_recording_names_are_never_reused(tmp_path):
    (tmp_path / "s01.csv").write_text("kept\n")
    (tmp_path / "s01-2.bdf").write_text("kept\n")  # a BDF alone also holds its name
    assert free_path(tmp_path / "s01.csv") == tmp_path / "s01-3.csv"
    assert (tmp_path / "s01-3.csv").exists() and (tmp_path / "s01.csv").read_text() == "kept\n"
    with pytest.raises(LiveError, match="--record .*/no/such/dir/s.csv: cannot write there"):
        free_path(tmp_path / "no" / "such" / "dir" / "s.csv")
    with pytest.raises(LiveError, match="give the BrainFlow file's name"):
        Recorder(tmp_path / "x.bdf", Board("synthetic"))


@pytest.fixture(scope="module")
def killed_recording(tmp_path_factory):
    """Stream the synthetic board with a recorder, kill the loop after 3 windows."""
    path = tmp_path_factory.mktemp("live") / "session.csv"
    board = Board("synthetic")
    read = []
    board_read = board.read
    board.read = lambda: read.append(board_read()) or read[-1]

    def crash(result):
        if result.index == 2:
            raise RuntimeError("killed mid-run")

    stream = LiveStream(board, StubPredictor(SYNTHETIC_NAMES), recorder=Recorder(path, board))
    with pytest.raises(RuntimeError, match="killed mid-run"):
        stream.run(duration=10, on_window=crash)
    return path, board, stream, np.concatenate([c.native for c in read], axis=1)


def test_killed_stream_keeps_every_read_sample(killed_recording):
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
    assert summary["interrupted"] is False and summary["ended_by"] == "end of stream"
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


@pytest.fixture
def memory_cli(monkeypatch):
    """`physioemo live` on a fresh in-memory source of 3 channels (1200 samples per run) made
    with the options in the returned dict; the sources made are listed there under "made"."""
    from physioemo.live import app

    names = ["Fz", "Cz", "Pz"]
    options, made = {}, []

    def make(args):
        eeg = noise_eeg(3, 1200, seed=len(made))
        made.append(MemorySource(eeg, names, chunk=100, **options))
        return made[-1]

    monkeypatch.setattr(app, "open_source", make)
    monkeypatch.setattr(app, "train_synthetic_predictor", lambda *a: StubPredictor(names))
    return options, made


def test_ctrl_c_prints_the_summary_and_keeps_the_recording(memory_cli, capsys, tmp_path):
    options, made = memory_cli
    options["interrupt_after"] = 6
    record = tmp_path / "session.csv"
    with pytest.raises(SystemExit) as caught:
        main(["live", "--duration", "60", "--json", "--record", str(record)])
    assert caught.value.code == 130
    summary = json.loads(capsys.readouterr().out)
    assert summary["interrupted"] is True and summary["ended_by"] == "Ctrl-C"
    assert summary["samples"] == summary["recording"]["samples"] == 6 * 100
    recorded = brainflow()[1].DataFilter.read_file(str(record))
    np.testing.assert_allclose(recorded[:3], made[0].eeg[:, :600], atol=5e-7)
    assert record.with_suffix(".bdf").is_file()


def test_record_twice_to_one_name_keeps_both(memory_cli, capsys, tmp_path):
    made = memory_cli[1]
    record = tmp_path / "s01.csv"
    for _ in range(2):
        assert main(["live", "--json", "--record", str(record)]) == 0
    out, err = capsys.readouterr()
    first, second = (json.loads(part + "}") for part in out.split("\n}\n") if part.strip())
    assert first["recording"]["brainflow"] == str(record)
    assert second["recording"]["brainflow"] == str(tmp_path / "s01-2.csv")
    assert err == f"physioemo: {record} exists; recording to {tmp_path / 's01-2.csv'}\n"
    for path, source in zip([record, tmp_path / "s01-2.csv"], made, strict=True):
        recorded = brainflow()[1].DataFilter.read_file(str(path))
        np.testing.assert_allclose(recorded[:3], source.eeg, atol=5e-7)
        assert path.with_suffix(".bdf").is_file()


@pytest.mark.parametrize("option", ["--record", "--jsonl"])
def test_unwritable_outputs_are_refused_before_the_source_opens(
    memory_cli, capsys, tmp_path, option
):
    target = tmp_path / "missing-folder" / "out.csv"
    with pytest.raises(SystemExit) as caught:
        main(["live", "--quiet", option, str(target)])
    assert caught.value.code == 2 and not memory_cli[1]  # no source was even made
    err = capsys.readouterr().err
    assert err.startswith(f"physioemo: error: {option} {target}: ") and err.count("\n") == 1


def test_sigterm_mid_stream_saves_like_ctrl_c(tmp_path):
    import os
    import signal as signals
    import subprocess
    import sys
    from pathlib import Path

    import pyedflib

    record = tmp_path / "s01.csv"
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "physioemo.cli", "live", "--duration", "60", "--json"]
    process = subprocess.Popen(
        [*command, "--record", str(record)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    deadline = time.time() + 60
    while time.time() < deadline and (not record.exists() or record.stat().st_size < 150_000):
        time.sleep(0.1)  # about 2 s of the synthetic board's 32 rows
    process.send_signal(signals.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    summary = json.loads(out)
    assert summary["ended_by"] == "SIGTERM" and summary["interrupted"] is True
    recorded = brainflow()[1].DataFilter.read_file(str(record))
    assert recorded.shape[1] == summary["recording"]["samples"] == summary["samples"] >= 400
    with pyedflib.EdfReader(summary["recording"]["bdf"]) as reader:
        assert reader.getSignalLabels() == SYNTHETIC_NAMES
        bdf = reader.readSignal(3)[: recorded.shape[1]]
    eeg = recorded[4]  # C4: row 4 of the synthetic board
    np.testing.assert_allclose(bdf, eeg, atol=2 * np.ptp(eeg) / 2**23 + 1e-6)
