"""`make demo` on a fresh clone: how long the install takes, how big the venv is, what it leaves
out, and how long the demo runs, with an empty physioemo cache.

The script clones the repository's committed HEAD into a temporary folder and runs the
README's first command there in two timed steps: the install (`make .venv/.demo`: a venv, the
CPU build of torch, physioemo without extras) and the demo (`make demo`). pip's download cache
is the machine's own, so the install time is that of a machine that has fetched the wheels
once; the venv's size is what it holds on disk. The summary goes to
docs/results/install.json, the demo's run summary to docs/results/demo.json (the README's
demo table and its figures come from both, through docs/figures.py).

    python benchmarks/install.py            # clone, install, demo; writes both summaries
    python benchmarks/install.py --quick    # clone and install only; prints, writes nothing
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from summaries import RESULTS, about, write

ROOT = Path(__file__).resolve().parents[1]
#: optional parts the demo's install must leave out (extras of pyproject.toml)
LEFT_OUT = ("ray", "plotly", "mne-lsl", "mne-bids", "pytest")


def timed(command: list[str], cwd: Path, env: dict) -> float:
    """Seconds `command` took in `cwd` (its output to stderr; an error if it fails)."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=sys.stderr)
    return round(time.perf_counter() - started, 1)


def venv_bytes(venv: Path) -> int:
    """Bytes of the files under `venv` (links not followed)."""
    return sum(p.lstat().st_size for p in venv.rglob("*") if p.is_file() and not p.is_symlink())


def installed(venv: Path) -> set[str]:
    """Names of the distributions installed in `venv`, lower case."""
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {entry["name"].lower() for entry in json.loads(listed)}


def measure(clone: Path, env: dict, demo: bool) -> dict:
    """Install (and run the demo) in `clone` with `env`; the figures."""
    found = {"install_seconds": timed(["make", ".venv/.demo"], clone, env)}
    venv = clone / ".venv"
    size = venv_bytes(venv)
    names = installed(venv)
    found |= {
        "venv_bytes": size,
        "venv_gb": round(size / 1e9, 2),
        "torch": _version(venv, "torch"),
        "left_out": ", ".join(name for name in LEFT_OUT if name not in names),
    }
    if anyway := [name for name in LEFT_OUT if name in names]:
        raise SystemExit(f"make demo installed what it should leave out: {', '.join(anyway)}")
    if demo:
        found["demo_seconds"] = timed(["make", "demo"], clone, env)
        found["demo_time"] = _minutes(found["demo_seconds"])
    return found


def _version(venv: Path, name: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({name!r}))"
    python = str(venv / "bin" / "python")
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {round(seconds % 60):d} s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="install only; write nothing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="physioemo-install-") as folder:
        clone = Path(folder) / "physioemo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {**os.environ, "PHYSIOEMO_CACHE": str(clone / "cache")}  # empty
        found = measure(clone, env, demo=not args.quick)
        found["about"] = about()
        print(json.dumps(found, indent=1))
        if not args.quick:
            write(RESULTS / "install.json", found)
            (summary,) = (clone / "physioemo-runs").glob("*/summary.json")
            store = [sys.executable, str(ROOT / "docs" / "figures.py"), "store"]
            subprocess.run([*store, str(summary), "demo.json"], env=env, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
