"""Lab Streaming Layer through mne-lsl: a file played by `PlayerLSL` is classified live, and
the same checkpoint predicts the same on BrainFlow's playback of the same samples.

Both replays run in real time (about 5 s each).
"""

from __future__ import annotations

import time
import uuid

import numpy as np
import pytest

from physioemo.live import BoardError
from physioemo.live.board import Board, brainflow
from physioemo.live.record import Recorder
from physioemo.live.stream import LiveStream

mne_lsl = pytest.importorskip("mne_lsl")
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the player's end of file

NAMES = "Fz C3 Cz C4 Pz PO7 Oz PO8 F5 F7 F3 F1 F2 F4 F6 F8".split()  # BrainFlow's synthetic
SECONDS = 4.0


def play(tmp_path, eeg, ecg, name):
    """Start an LSL player of a .fif file holding `eeg` (uV, 250 Hz) and one ECG channel."""
    import mne

    info = mne.create_info([*NAMES, "ECG"], 250.0, ["eeg"] * len(NAMES) + ["ecg"])
    raw = mne.io.RawArray(np.vstack([eeg, ecg]) * 1e-6, info, verbose="error")
    path = tmp_path / "replay_raw.fif"
    raw.save(path, fmt="double", verbose="error")  # FIF stores float32 by default
    player = mne_lsl.player.PlayerLSL(path, chunk_size=10, n_repeat=1, name=name)
    player.start()
    return player


def test_lsl_replay_is_classified_like_brainflow_playback(tmp_path):
    from test_live import de_checkpoint

    from physioemo.live.lsl import LSLSource

    _, predictor = de_checkpoint(tmp_path, ["Cz", "Fz", "Pz", "C3", "C4", "O1"], stride=0.5)
    rng = np.random.default_rng(7)
    n = int(SECONDS * 250)
    eeg = np.round(rng.normal(0, 20, (16, n)).cumsum(axis=1) * 0.1, 6)  # what %f files keep
    ecg = np.round(rng.normal(0, 300, (1, n)), 6)
    name = f"physioemo-test-{uuid.uuid4().hex[:8]}"
    player = play(tmp_path, eeg, ecg, name)
    try:
        source = LSLSource(name=name)
        assert source.ch_names == [*NAMES, "ECG"] and source.ch_types[-2:] == ["eeg", "ecg"]
        assert source.sfreq == 250.0
        recorder = Recorder(tmp_path / "lsl.csv", source)
        over_lsl = []
        summary = LiveStream(source, predictor, recorder=recorder, stall_timeout=30).run(
            duration=SECONDS + 1.0, on_window=over_lsl.append
        )
    finally:
        if player.running:
            player.stop()
    # the stream starts where the connection did; from there on every sample came, in uV
    recorded = brainflow()[1].DataFilter.read_file(str(tmp_path / "lsl.csv"))
    first = int(np.argmin(np.abs(eeg - recorded[:16, :1]).sum(axis=0)))
    m = recorded.shape[1]
    assert m >= 2.5 * 250 and summary["samples"] == m and summary["dropped_samples"] == 0
    np.testing.assert_allclose(
        recorded[:17], np.vstack([eeg, ecg])[:, first : first + m], atol=1e-6
    )
    assert len(over_lsl) == (m - 250) // 125 + 1 and summary["windows"] == len(over_lsl)
    assert "O1" in summary["channel_map"]  # interpolated from PO7, Oz ...

    # BrainFlow's playback of the very samples LSL delivered, in the synthetic board's layout
    shim = brainflow()[0].BoardShim
    layout = shim.get_board_descr(brainflow()[0].BoardIds.SYNTHETIC_BOARD.value)
    rows = np.zeros((layout["num_rows"], m))
    rows[layout["eeg_channels"]] = eeg[:, first : first + m]
    rows[layout["package_num_channel"]] = np.arange(m) % 256
    rows[layout["timestamp_channel"]] = time.time() + np.arange(m) / 250.0
    brainflow()[1].DataFilter.write_file(rows, str(tmp_path / "brainflow.csv"), "w")
    board = Board("playback", file=tmp_path / "brainflow.csv", master_board="synthetic")
    over_brainflow = []
    LiveStream(board, predictor).run(duration=SECONDS + 2, on_window=over_brainflow.append)

    assert len(over_brainflow) == len(over_lsl)
    np.testing.assert_allclose(
        [r.features for r in over_lsl], [r.features for r in over_brainflow], atol=1e-9
    )
    np.testing.assert_allclose(
        [r.probabilities for r in over_lsl], [r.probabilities for r in over_brainflow], atol=1e-6
    )
    assert [r.label for r in over_lsl] == [r.label for r in over_brainflow]


def test_missing_lsl_stream_is_one_line():
    from physioemo.live.lsl import LSLSource

    with pytest.raises(BoardError, match="no LSL stream with name 'physioemo-none' within 0.5 s"):
        LSLSource(name="physioemo-none", timeout=0.5)


def test_wearable_outlets_each_at_its_own_rate_give_the_offline_features(tmp_path):
    """A WESAD segment played as six LSL outlets (chest ECG and respiration at 700 Hz, wrist
    BVP 64 Hz, EDA and temperature 4 Hz, ACC 32 Hz; 10 times real time) is one source whose
    peripheral features equal the offline recipe's (causal) on the segment, to 1e-9."""
    from test_live_physiology import _Stub

    from physioemo.datasets import load
    from physioemo.datasets.synthetic import write_wesad
    from physioemo.features.peripheral_windows import peripheral_part
    from physioemo.live.lsl import LSLSource
    from physioemo.live.playback import LSLPlayer

    recording = load("wesad", write_wesad(tmp_path, subjects=1, seconds=20.0)).subject("S2")[0]
    player = LSLPlayer([recording], f"physioemo-test-{uuid.uuid4().hex[:8]}", speed=10.0)
    player.open()

    class Played(LSLSource):
        def start(self):
            super().start()
            player.play()  # once the inlets are open: LSL streams start where one connects

    try:
        source = Played(player.stream)
        rates = {stream.name: stream.sfreq for stream in source.streams}
        assert rates == {"ecg": 700, "ppg": 64, "eda": 4, "resp": 700, "temp": 4, "acc": 32}
        units = {stream.name: stream.unit for stream in source.streams}
        assert units["eda"] == "uS" and units["acc"] == "g" and units["ecg"] == "uV"
        groups = ["heart", "resp", "temp", "acc", "scr"]
        features = {"kind": "peripheral", "window": 10.0, "stride": 5.0}
        features["inputs"] = [["heart", "ecg"], *([g, m] for g, m in zip(
            groups[1:], ["resp", "temp", "acc", "eda"], strict=True
        ))]  # fmt: skip
        results = []
        stream = LiveStream(source, _Stub(["x"], features), stall_timeout=30)
        summary = stream.run(duration=recording.duration / 10 + 2, on_window=results.append)
    finally:
        player.stop()
    offline = peripheral_part(recording, 10.0, 5.0, "ecg", groups, causal=True)
    assert summary["dropped_samples"] == 0 and len(results) == len(offline.X)
    np.testing.assert_allclose([r.features for r in results], offline.X, rtol=1e-9, atol=1e-9)


DECLARED = """
import contextlib, io, json, resource, sys, time, uuid
from mne_lsl.lsl import StreamInfo, StreamOutlet
from physioemo.cli import main
import physioemo.live.app, physioemo.live.lsl  # what `live` imports, before the limit

name = f"physioemo-test-{uuid.uuid4().hex[:8]}"
outlet = StreamOutlet(StreamInfo(name, "EEG", 1, float(sys.argv[1]), "float32", uuid.uuid4().hex))
used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
budget = used + 500 * 2**20  # 500 MB beyond what the process holds before `live` starts
resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
errors, started = io.StringIO(), time.perf_counter()
with contextlib.redirect_stderr(errors):
    try:
        code = main(["live", "--source", "lsl", "--stream", name, "--quiet"])
    except SystemExit as end:
        code = end.code
seconds = time.perf_counter() - started
print(json.dumps({"code": code, "stderr": errors.getvalue(), "seconds": seconds, "name": name}))
"""


def test_a_stream_declaring_10_mhz_is_refused_within_500_mb_and_5_s():
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", DECLARED, "1e7"], capture_output=True, text=True, env=env,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    assert found["code"] == 2 and found["stderr"].count("\n") == 1, found
    assert found["stderr"] == (
        f"physioemo: error: LSL stream '{found['name']}': field nominal_srate: declares "
        "10,000,000 Hz; the limit is 100,000 Hz\n"
    )
    assert found["seconds"] < 5, found


def test_declared_sizes_are_checked_against_stated_limits():
    from physioemo.live import LiveError
    from physioemo.live.buffer import BUFFER_BYTES, RingBuffer, capacity, check_declared

    check_declared("s", 64, 2048.0)  # a lab's 64 channels at 2 kHz
    refusal = r"^s: field channel_count: declares 4,096 channels; the limit is 1,024$"
    with pytest.raises(LiveError, match=refusal):
        check_declared("s", 4096, 250.0)
    with pytest.raises(LiveError, match="field nominal_srate: declares 0 Hz"):
        check_declared("s", 1, 0.0)
    with pytest.raises(LiveError, match=r"16,001 samples of 1,024 channels .* at most 64 MiB"):
        check_declared("s", 1024, 8000.5)  # under both limits, but 2 s need 125 MiB
    # a buffer's capacity is cut to the budget, never below what a window needs
    assert capacity("s", 512, 4096.0, seconds=10.0) == BUFFER_BYTES // (8 * 512)
    assert capacity("s", 16, 250.0, seconds=10.0, least=500) == 2501
    with pytest.raises(ValueError, match="exceeds 64 MiB"):
        RingBuffer(1024, BUFFER_BYTES // 8 // 1024 + 1)
