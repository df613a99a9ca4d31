"""What a stored benchmark summary says of itself: when, where, from which revision and by
which command it was measured (the "about" entry docs/figures.py reads)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from physioemo.experiment.export import git_revision, machine


def about(command: str | None = None) -> dict:
    """Date, machine, git revision and command (default: this script as it was called)."""
    called = " ".join([f"python benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "revision": git_revision() or "unknown",
        "command": command or called,
    }
