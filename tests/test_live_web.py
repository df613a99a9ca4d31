"""The live dashboard (`physioemo live --web`) in headless Chromium: the page loads, and its
traces and probability plot keep updating while the synthetic board streams.

Needs Debian's ``chromium`` (``.ci/run`` installs it) and plotly (the ``web`` extra); without
them the test is skipped and says why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is missing (apt-get install chromium): the dashboard test needs a browser",
)


def chromium(tmp_path, name, *options, url):
    """Run headless Chromium with a fresh profile; its stdout."""
    profile = tmp_path / f"profile-{name}"
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *options, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return done.stdout


@pytest.fixture
def dashboard(tmp_path):
    """`physioemo live --web --port 0` on the synthetic board, in a subprocess; its URL."""
    pytest.importorskip("plotly", reason="the dashboard needs plotly: pip install physioemo[web]")
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "physioemo.cli", "live", "--web", "--port", "0"]
    command += ["--duration", "60", "--json", "--quiet"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
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


def test_dashboard_updates_traces_and_probabilities(dashboard, tmp_path):
    url, process = dashboard
    page = chromium(tmp_path, "dom", "--virtual-time-budget=3000", "--dump-dom", url=url)
    body = re.search(r"<body([^>]*)>", page).group(1)
    attributes = dict(re.findall(r'data-([\w-]+)="([^"]*)"', body))
    assert int(attributes["frames"]) >= 5, body
    ends = [float(t) for t in attributes["trace-ends"].split()]
    counts = [int(n) for n in attributes["prob-counts"].split()]
    assert ends == sorted(set(ends)), ends  # the traces scroll on, frame after frame
    assert counts[-1] > counts[0] and counts == sorted(counts), counts  # predictions come in
    for plot in ("traces", "probabilities", "topomap", "quality"):  # Plotly drew each plot
        assert re.search(rf'id="{plot}" class="plot[^"]*js-plotly-plot"', page), plot
    plot = page[page.index('id="probabilities"') : page.index('id="topomap"')]
    lines = [d for d in re.findall(r'class="js-line"[^>]* d="([^"]*)"', plot) if "L" in d]
    assert len(lines) == 2, lines  # one line per class (the legend's samples draw with "h")
    assert "low arousal" in page and "dropped 0" in page  # class names, dropped samples

    shot = tmp_path / "dashboard.png"
    chromium(
        tmp_path, "shot", "--window-size=1400,1250", "--virtual-time-budget=3000",
        f"--screenshot={shot}", url=url,
    )  # fmt: skip
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000

    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 143
    summary = json.loads(out)
    assert summary["ended_by"] == "SIGTERM" and summary["windows"] > 5
