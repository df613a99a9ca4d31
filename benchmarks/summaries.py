"""What a stored benchmark summary says of itself: when, where, from which revision and by
which command it was measured (the "about" entry docs/figures.py reads)."""

from __future__ import annotations

import json
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


#: where stored summaries go, for docs/figures.py
RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"


def write(path: Path, summary: dict) -> None:
    """`summary` as JSON at `path`, with its "about" entry (this run's, unless it has one)."""
    summary = {**summary, "about": summary.get("about") or about()}
    Path(path).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")


def markdown(rows: list[dict]) -> str:
    """Rows of one table (dicts with the same keys, the header) as Markdown."""
    from physioemo.evaluation.summary import markdown as table

    return table("", list(rows[0]), [list(row.values()) for row in rows])
