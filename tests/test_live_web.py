"""The live dashboard (`physioemo live --web`): in headless Chromium (one browser for the
module, `browser.Browser`) the page draws EEG, every physiological stream with its unit, the
class probabilities and, on a replay, the true-label track; names planted with markup and
escape sequences stay text in the page and in the terminal. Without a browser: band power
against sines of known amplitude, the topomap inside the electrodes, and the server's `Host`
check and security headers.

The browser tests need Debian's ``chromium`` (``.ci/run`` installs it) and plotly (the ``web``
extra); without them they are skipped and say why.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from browser import CHROMIUM, Browser
from test_live import DREAMER_NAMES, SYNTHETIC_NAMES, MemorySource, StubPredictor

from physioemo.features import BANDS
from physioemo.live.source import Chunk, Stream
from physioemo.live.stream import LiveStream
from physioemo.live.views import TerminalView, format_summary
from physioemo.live.web import WebView, band_powers, topomap_setup

pytest.importorskip("plotly", reason="the dashboard needs plotly: pip install physioemo[web]")
#: the view's own terminal sequences: cursor up, clear to the end of line / screen, colours
OWN_SEQUENCES = re.compile(r"\x1b\[(\d+F|K|J|1;31m|0m)")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Chromium is missing (apt-get install chromium): the test needs a browser")
    chromium = Browser(tmp_path_factory.mktemp("chromium"))
    yield chromium
    chromium.close()


@contextmanager
def live(*arguments):
    """`physioemo live --web --port 0 --json --quiet ARGUMENTS` in a subprocess: (its
    dashboard's URL, the process)."""
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "physioemo.cli", "live", "--web", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--json", "--quiet", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = process.stderr.readline()
        match = re.search(r"dashboard at (http://\S+)", line)
        assert match, f"no dashboard URL in {line!r}"
        yield match.group(1), process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_dashboard_draws_eeg_every_physiological_stream_and_probabilities(browser):
    with live("--duration", "60") as (url, process):
        page = browser.open(url)
        page.wait_for("Number(document.body.dataset.frames) >= 8")
        body = page.evaluate("({...document.body.dataset})")
        ends = [float(t) for t in body["traceEnds"].split()]
        counts = [int(n) for n in body["probCounts"].split()]
        assert ends == sorted(set(ends)), ends  # the traces scroll on, frame after frame
        assert counts[-1] > counts[0] and counts == sorted(counts), counts  # predictions come in
        drawn = page.evaluate(
            "['traces', 'probabilities', 'topomap', 'quality']"
            ".map((id) => document.getElementById(id).data?.length || 0)"
        )
        assert drawn == [16, 2, 2, 1], drawn  # 16 EEG channels, 2 classes, map + electrodes
        legend = page.evaluate(
            "[...document.querySelectorAll('#probabilities .legendtext')].map((e) => e.textContent)"
        )
        assert legend == ["arousal low (<3)", "arousal high (>=3)"]  # the registry's names
        streams = page.evaluate(
            """[...document.querySelectorAll('#physiology .js-plotly-plot')].map((plot) => [
                plot.dataset.stream, plot.querySelector('.ytitle').textContent, plot.data.length,
                Math.min(...plot.data.map((line) => line.y.filter(Number.isFinite).length))])"""
        )
        units = {name: (unit, channels) for name, unit, channels, _ in streams}
        assert units == {"eda": ("µS", 1), "ppg": ("a.u.", 2), "temp": ("°C", 1), "acc": ("g", 3)}
        assert all(samples >= 50 for *_, samples in streams), streams  # > 1 s at 50 a second
        assert page.evaluate("document.querySelector('#quality .ytitle').textContent") == "RMS (µV)"
        assert "dropped 0" in page.evaluate("document.getElementById('status').textContent")
        assert body["cspViolations"] == "0"  # plotly draws under the page's policy
        shot = page.screenshot()
        assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 50_000
        page.close()

        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 143
    summary = json.loads(out)
    assert summary["ended_by"] == "SIGTERM" and summary["windows"] > 5


def arousal_class(sidecar: dict, seconds: float) -> str | None:
    """The true class at a window's end by hand: DREAMER's binary arousal (rating >= 3)."""
    for segment in sidecar["segments"]:
        if segment["start"] < seconds <= segment["stop"]:
            high = segment["ratings"]["arousal"] >= 3
            return "arousal high (>=3)" if high else "arousal low (<3)"
    return None


def track_screenshot(page) -> tuple[dict, bytes]:
    """The track's box and a screenshot taken while it stayed there (a warning band may
    appear above it and move it down)."""
    where = (
        "(({x, y, width, height}) => ({x, y, width, height}))"
        "(document.getElementById('track').getBoundingClientRect())"
    )
    for _ in range(5):
        box, shot = page.evaluate(where), page.screenshot()
        if page.evaluate(where) == box:
            return box, shot
    raise AssertionError("the track kept moving")


def test_playback_demo_shows_the_true_label_track(browser, tmp_path):
    from PIL import Image

    from physioemo.cli import main

    recording = tmp_path / "s01.csv"
    arguments = ["--dataset", "dreamer", "--board", "synthetic", "--synthetic-seconds", "6"]
    assert main(["playback", *arguments, "--speed", "12", "--out", str(recording)]) == 0
    sidecar = json.loads(recording.with_suffix(".json").read_text())
    with live("--board", "playback", "--file", str(recording)) as (url, process):
        page = browser.open(url, height=1700)
        page.wait_for("(document.getElementById('track').data?.[0].z[1] || []).length >= 60")
        track = page.evaluate(
            "(({x, z, text}) => ({x, z, text}))(document.getElementById('track').data[0])"
        )
        status = page.evaluate("document.getElementById('status').textContent")
        box, shot = track_screenshot(page)
        page.close()
        process.send_signal(signal.SIGTERM)  # the replay need not run to its end
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 143 and json.loads(out)["true_label_windows"] > 0
    classes = ["arousal low (<3)", "arousal high (>=3)"]
    expected = [arousal_class(sidecar, t) for t in track["x"]]
    assert set(expected) == set(classes)  # both classes come by in the windows shown
    assert track["z"][1] == [classes.index(label) for label in expected]
    escaped = [label.replace("<", "&lt;").replace(">", "&gt;") for label in expected]
    assert track["text"][1] == escaped  # the hover text plotly shows as written
    assert re.search(r"true: arousal (low|high)", status), status

    image = Image.open(io.BytesIO(shot)).convert("RGB")
    cells = np.asarray(image)[
        int(box["y"]) : int(box["y"] + box["height"]), int(box["x"]) : int(box["x"] + box["width"])
    ]
    colours = {tuple(c) for c in cells.reshape(-1, 3)}
    assert {(0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)} <= colours  # both classes' cells drawn
    assert len(np.unique(np.asarray(image).reshape(-1, 3), axis=0)) > 200  # plots, not a blank


class Screen(io.StringIO):
    """A terminal for the terminal view."""

    def isatty(self):
        return True


PLANTED = [
    '<img src=x onerror="window.pwned=1">',
    "\x1b]0;pwned\x07<b id=planted>B</b>",
    "<script>window.pwned=2</script>\x1b[2J",
    '<a href="javascript:window.pwned=3">link</a>\u202e',
]


def planted_checkpoint(path, names, classes):
    """A logistic regression checkpoint (arrays and JSON) whose channels and classes are the
    planted names; its label scheme is a lab's own, so its class names are used as given."""
    from physioemo.training.linear import LinearPredictor

    n = 4 * len(names)
    arrays = {
        "mean": np.zeros(n),
        "scale": np.ones(n),
        "coef": np.random.default_rng(0).normal(0, 1, (1, n)),
        "intercept": np.zeros(1),
        "classes": np.array([0, 1]),
    }
    features = {"kind": "de", "window": 1.0, "stride": 0.25, "baseline": "none"}
    meta = {"ch_names": names, "features": features, "labels": {"classes": classes}}
    return LinearPredictor(arrays, meta).save(path)


def test_planted_markup_and_escapes_stay_text_in_the_page_and_the_terminal(browser, tmp_path):
    pytest.importorskip("mne_lsl")
    from mne_lsl.lsl import StreamInfo, StreamOutlet

    from physioemo.live.lsl import LSLSource
    from physioemo.live.predictor import load_predictor

    names = [f"{text}{i}" for i, text in enumerate(PLANTED)]
    classes = [f"low {PLANTED[0]}", f"high {PLANTED[1]}{PLANTED[3]}"]
    predictor = load_predictor(planted_checkpoint(tmp_path / "planted.pt", names, classes))
    assert predictor.labels == classes
    info = StreamInfo(f"physioemo-test-{uuid.uuid4().hex[:8]}", "EEG", 4, 250.0, "float32", "x")
    info.set_channel_names(names)
    info.set_channel_types(["eeg"] * 4)
    info.set_channel_units(["microvolts"] * 4)
    outlet = StreamOutlet(info)
    source = LSLSource(name=info.name)
    assert source.ch_names == names  # the stream's names reach the live pipeline as they are

    screen, stop = Screen(), threading.Event()
    stream = LiveStream(source, predictor, stall_timeout=30)
    terminal, web = TerminalView(screen, fps=1e6), WebView(stream, port=0)

    def push():
        rng = np.random.default_rng(1)
        while not stop.is_set():
            outlet.push_chunk(rng.normal(0, 20, (25, 4)).astype(np.float32))
            time.sleep(0.1)

    def show(result):
        terminal.update(result, stream)
        web.update(result, stream)

    threads = [
        threading.Thread(target=push),
        threading.Thread(target=lambda: stream.run(duration=30, on_window=show)),
    ]
    for thread in threads:
        thread.start()
    try:
        page = browser.open(web.url)
        page.wait_for("Number((document.body.dataset.probCounts || '0').split(' ').pop()) >= 4")
        shown = page.evaluate("document.body.textContent")
        created = page.evaluate(
            "document.querySelectorAll('img, iframe, object, embed, a, b, #planted').length"
        )
        scripts = page.evaluate("[...document.scripts].map((s) => s.getAttribute('src'))")
        pwned = page.evaluate("typeof window.pwned")
        legend = page.evaluate(
            "[...document.querySelectorAll('#probabilities .legendtext')].map((e) => e.textContent)"
        )
        page.close()
    finally:
        stop.set()
        stream.stop()
        for thread in threads:
            thread.join(timeout=30)
        web.close()
    assert pwned == "undefined" and created == 0 and scripts == ["plotly.min.js", "dashboard.js"]
    assert PLANTED[0] in shown  # the status line shows the predicted class, as text
    assert legend == classes  # plotly's legend shows the names as written, markup and all

    drawn = OWN_SEQUENCES.sub("", screen.getvalue()).replace("\n", "")
    assert drawn and not CONTROL.search(drawn) and "\u202e" not in drawn  # nor a bidi override
    assert "<img src=x" in drawn and "<b id=planted>" in drawn  # the names, as text
    summary = format_summary(stream.summary())
    assert "<img src=x" in summary and not CONTROL.search(summary.replace("\n", ""))


class Wrist(MemorySource):
    """EDA (uS, the main stream) and skin temperature (degC), both at 16 Hz, from memory."""

    def __init__(self, eda, temp):
        super().__init__(eda, ["EDA"], sfreq=16.0, chunk=16)
        self.ch_types, self.temp = ["gsr"], temp
        self.streams = [
            Stream("eda", "eda", ("EDA",), 16.0, "uS"),
            Stream("temp", "temp", ("TEMP",), 16.0, "degC"),
        ]

    def read(self):
        chunk = super().read()
        part = self.temp[:, self.position - chunk.n : self.position]
        chunk.others = {"temp": Chunk(part, chunk.timestamps)}
        return chunk


class StubPINN:
    """A PINN's interface: class probabilities and a predicted EDA (here its time input)."""

    name, labels, ch_names, time_input = "pinn (stub)", ["calm", "stressed"], [], True
    features = {"kind": "peripheral", "window": 2.0, "stride": 1.0, "segment_seconds": 30.0}
    features["inputs"] = [["eda", "eda"], ["temp", "temp"]]

    def predict_with_eda(self, x, t):
        return np.array([0.4, 0.6]), t


def test_the_pinns_predicted_eda_is_drawn_against_the_measured_one(browser):
    t = np.arange(16 * 30) / 16.0
    eda = 2 + 0.5 * np.sin(2 * np.pi * t / 20)[None]  # uS
    stream = LiveStream(Wrist(eda, 33 + 0.01 * t[None]), StubPINN(), poll_margin=10.0)
    results = []
    web = WebView(stream, port=0)
    try:
        stream.run(on_window=lambda result: (results.append(result), web.update(result, stream)))
        page = browser.open(web.url)
        page.wait_for("document.getElementById('eda').data?.length === 2")
        drawn = page.evaluate(
            "document.getElementById('eda').data.map(({x, y, customdata}) => ({x, y, customdata}))"
        )
        streams = page.evaluate(
            "[...document.querySelectorAll('#physiology h3')].map((e) => e.textContent)"
        )
        hidden = page.evaluate("document.getElementById('eeg-section').hidden")
        page.close()
    finally:
        web.close()
    measured, predicted = drawn
    ends = np.arange(2, 31)  # 2-s windows every second, ending at 2 ... 30 s
    assert measured["x"] == predicted["x"] == ends.tolist()
    by_hand = [eda[0, 16 * (end - 2) : 16 * end].mean() for end in ends]
    np.testing.assert_allclose(measured["customdata"], by_hand, atol=1e-4)  # uS, as measured
    low, high = min(by_hand), max(by_hand)
    np.testing.assert_allclose(measured["y"], (np.array(by_hand) - low) / (high - low), atol=1e-4)
    np.testing.assert_allclose(predicted["y"], [r.eda["predicted"] for r in results], atol=1e-4)
    assert streams == ["EDA · eda (µS)", "Temperature · temp (°C)"] and hidden


def test_header_keeps_the_channel_map_and_warns_that_most_channels_are_interpolated(browser):
    stream = LiveStream(
        MemorySource(np.random.default_rng(0).normal(0, 20, (16, 750)), SYNTHETIC_NAMES),
        StubPredictor(DREAMER_NAMES),
        poll_margin=10.0,
    )
    web = WebView(stream, port=0)
    try:
        stream.run(on_window=lambda result: web.update(result, stream))
        page = browser.open(web.url, width=900, height=900)
        page.wait_for("Number(document.body.dataset.frames) >= 1")
        header = page.evaluate(
            """[...document.querySelectorAll('#channels, #warnings p')].map((e) => {
                const box = e.getBoundingClientRect();
                const middle = document.elementFromPoint(box.left + 5, box.top + box.height / 2);
                return [e.textContent, box.top, box.bottom, box.right,
                        e.scrollWidth <= e.clientWidth, middle === e];
            })"""
        )
        page.close()
    finally:
        web.close()
    (channels, *place), (warning, *loud) = header
    assert channels.startswith("channels: 4 of 14 model channels from the source, interpolated")
    assert warning.startswith("⚠ 10 of 14 model channels are interpolated")
    for top, bottom, right, fits, on_top in (place, loud):  # whole, inside the window, on top
        assert 0 <= top < bottom <= 900 and right <= 900 and fits and on_top, header


# ----------------------------------------------------------------------------- no browser
def test_band_power_of_sines_of_known_amplitude():
    """A sine of amplitude A has power A^2 / 2 (uV^2) in its band: log10 3.70 at 100 uV and
    1.70 at 10 uV in alpha (10 Hz), nothing of it in the other bands."""
    sfreq = 250.0
    t = np.arange(int(sfreq)) / sfreq
    x = np.stack([100 * np.sin(2 * np.pi * 10 * t), 10 * np.sin(2 * np.pi * 10 * t + 1)])
    powers = band_powers(x, sfreq)
    np.testing.assert_allclose(powers["alpha"], np.log10([100**2 / 2, 10**2 / 2]), atol=0.05)
    assert max(powers["theta"] + powers["gamma"]) < np.log10(10**2 / 2) - 3
    beta = band_powers(20 * np.sin(2 * np.pi * 21.3 * t)[None], sfreq)["beta"]  # off a bin
    assert abs(beta[0] - np.log10(20**2 / 2)) < 0.05


def served(web, path, host=None) -> tuple[int, dict, bytes]:
    """GET `path` from a WebView with the Host header `host` (default: its own)."""
    port = web.server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", path, skip_host=True)
    if host is not None:
        connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    answer = (response.status, dict(response.getheaders()), response.read())
    connection.close()
    return answer


def test_the_dashboard_shows_the_band_power_of_a_10_uv_sine():
    sfreq, names = 250.0, ["Fz", "C3", "C4", "Pz"]
    t = np.arange(int(3 * sfreq)) / sfreq
    amplitudes = np.array([10.0, 10.0, 100.0, 10.0])
    eeg = amplitudes[:, None] * np.sin(2 * np.pi * 10 * t)
    stream = LiveStream(MemorySource(eeg, names), StubPredictor(names), poll_margin=10.0)
    web = WebView(stream, port=0, fps=20)
    try:
        stream.run(on_window=lambda result: web.update(result, stream))
        time.sleep(0.3)  # the view's thread builds the frame of the last samples
        with urllib.request.urlopen(web.url + "frame?after=0", timeout=10) as response:
            frame = json.load(response)
    finally:
        web.close()
    assert frame["t"] == 3.0 and list(frame["bands"]) == list(BANDS)
    expected = np.log10(amplitudes**2 / 2)  # 1.70 for 10 uV, 3.70 for 100 uV
    assert np.abs(np.array(frame["bands"]["alpha"]) - expected).max() < 0.05, frame["bands"]


def test_the_topomap_fills_only_the_hull_of_the_electrodes():
    from scipy.spatial import ConvexHull

    from physioemo import montage

    topo = topomap_setup(SYNTHETIC_NAMES)
    axis = np.array(topo["axis"])
    gx, gy = np.meshgrid(axis, axis)
    cells = np.column_stack([gx.ravel(), gy.ravel()])
    hull = ConvexHull(np.column_stack([topo["x"], topo["y"]]))
    inside_hull = (cells @ hull.equations[:, :2].T + hull.equations[:, 2] <= 1e-9).all(axis=1)
    filled = np.zeros(len(cells), dtype=bool)
    filled[topo["inside"]] = True
    assert not (filled & ~inside_hull).any()  # nothing drawn beyond the electrodes
    assert filled.sum() > 0.9 * inside_hull.sum()  # and the hull is drawn
    for site in ("T7", "T8"):  # no electrode there: no value there
        x, y = montage.flat_positions([site])[0]
        assert not filled[np.argmin(np.hypot(cells[:, 0] - x, cells[:, 1] - y))], site


def test_only_its_own_address_is_answered_with_a_strict_policy():
    names = ["Fz", "Cz", "Pz"]
    stream = LiveStream(MemorySource(np.zeros((3, 10)), names), StubPredictor(names))
    web = WebView(stream, port=0)
    port = web.server.server_address[1]
    try:
        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            status, headers, body = served(web, "/", host)
            assert status == 200 and b"dashboard.js" in body
            policy = headers["Content-Security-Policy"]
            assert "script-src 'self';" in policy and "default-src 'none'" in policy
            assert "unsafe-eval" not in policy and headers["X-Content-Type-Options"] == "nosniff"
        for host in (f"evil.example:{port}", "127.0.0.1:1", f"127.0.0.1.evil.example:{port}", None):
            for path in ("/", "/setup", "/frame?after=0", "/plotly.min.js"):
                status, _, body = served(web, path, host)
                assert status == 403 and b"Fz" not in body, (host, path)
    finally:
        web.close()
