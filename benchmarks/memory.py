"""Memory of `bench --jobs 2` on a DEAP-sized raw-window set: the process tree against the driver.

Writes synthetic DEAP (32 subjects x 40 trials x 32 channels x 63 s at 128 Hz by default: raw
1-s windows of 76,800 x 32 x 128 float32, 1.26 GB), then runs

    /usr/bin/time -v physioemo bench --dataset deap --root DATA --models MODEL \\
        --protocols subject-independent --dimensions valence --folds F... --jobs 2 ...

from an empty feature cache, so the per-subject feature jobs run on the two workers too, and
samples every process of the tree every 0.1 s: its resident set (RSS) and its proportional set
(PSS: a page shared by k processes counts 1/k in each, so the tree's PSS sum is the physical
memory it holds; memory-mapped feature sets are shared pages). Printed: the driver's peak RSS
(sampled, and `time -v`'s maximum resident set size: the largest process `time` waited for,
the driver, as the workers are the forkserver's children) and the tree's peak PSS sum, their
ratio (target: at most 1.3; `room_at_1_3_gib` is the 0.3 x the driver's peak the tree may
hold beyond it), the peak RSS sum (which counts every shared page once per process that maps
it), and where the tree's PSS goes at its peak: the feature
set's pages, the driver, the forkserver whose imports the workers share, the workers. A sample
taken while a process started or ended is dropped (its pages would count twice).

    python benchmarks/memory.py [--subjects 32] [--folds 0 1] [--model eegnet] [--root DEAP]
    python benchmarks/memory.py --quick    # 3 subjects, one fold: a smoke run, not the figure

Exits non-zero only on an error. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import summaries


def tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            queue += [
                int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()
            ]
        except OSError:
            pass
    return found


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in bytes; (0, 0) once it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    values = dict(re.findall(r"^(Rss|Pss):\s+(\d+) kB", text, re.M))
    return int(values.get("Rss", 0)) * 1024, int(values.get("Pss", 0)) * 1024


def steady(before: list[int], after: list[int]) -> bool:
    """Whether no process started or ended while the tree was read: a process that unmaps
    its pages meanwhile hands its share of them to the others, which would count them twice."""
    return before == after and all(running(pid) for pid in after)


def running(pid: int) -> bool:
    """Whether `pid` is alive (an ended process that was not yet reaped has no memory)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


PEAK_PARTS = {
    "feature set": "the feature set's pages (every process's share)",
    "driver": "the driver, besides",
    "forkserver": "the forkserver (the imports the workers share)",
    "workers": "the workers, besides the feature set",
    "other": "the rest (multiprocessing's resource tracker)",
}
PARTS = tuple(PEAK_PARTS)


def composition(pids: list[int], shared: Path) -> dict[str, int]:
    """Where the PSS of the tree `pids` (the driver first) goes, in bytes: the pages of the
    shared feature sets (every process's share of them), and besides those the driver's, the
    forkserver's (the imports the workers share), the workers' and the rest's."""
    parts = dict.fromkeys(PARTS, 0)
    for index, pid in enumerate(pids):
        total, mapped = pss_split(pid, str(shared))
        parts["feature set"] += mapped
        parts[role(pid, pids[0]) if index else "driver"] += total - mapped
    return parts


def pss_split(pid: int, prefix: str) -> tuple[int, int]:
    """(PSS of `pid`, PSS of its mappings of files under `prefix`) in bytes."""
    total = mapped = 0
    inside = False
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return 0, 0
    for line in lines:
        fields = line.split()
        if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
            inside = len(fields) > 5 and fields[5].startswith(prefix)
        elif fields[0] == "Pss:":
            total += int(fields[1]) * 1024
            mapped += int(fields[1]) * 1024 if inside else 0
    return total, mapped


def role(pid: int, driver: int) -> str:
    """ "forkserver" (the driver's child that forks the workers), "workers" or "other"."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return "other"
    if b"forkserver" in command:
        return "forkserver" if parent == driver else "workers"
    return "workers" if b"spawn_main" in command else "other"


class Sampler(threading.Thread):
    """Peaks of the tree below `pid` (the `time` process): PSS and RSS sums, the driver's,
    and the tree's `composition` at its PSS peak."""

    def __init__(self, pid: int, shared: Path):
        super().__init__(daemon=True)
        self.pid, self.shared, self.done = pid, shared, threading.Event()
        self.peak = {"tree_pss": 0, "tree_rss": 0, "driver_pss": 0, "driver_rss": 0}
        self.peak["worker_rss"] = 0
        self.processes, self.composition = 0, dict.fromkeys(PARTS, 0)

    def run(self) -> None:
        while not self.done.is_set():
            below = tree(self.pid)[1:]  # the driver and its workers, not `time` itself
            sizes = [memory(p) for p in below]
            if sizes and steady(below, tree(self.pid)[1:]):
                if sum(p for _, p in sizes) > self.peak["tree_pss"]:
                    found = composition(below, self.shared)
                    if steady(below, tree(self.pid)[1:]):
                        self.composition = found
                self._note(sizes)
                self.processes = max(self.processes, len(below))
            time.sleep(0.1)

    def _note(self, sizes: list[tuple[int, int]]) -> None:
        peak = self.peak
        peak["tree_rss"] = max(peak["tree_rss"], sum(r for r, _ in sizes))
        peak["tree_pss"] = max(peak["tree_pss"], sum(p for _, p in sizes))
        peak["driver_rss"] = max(peak["driver_rss"], sizes[0][0])
        peak["driver_pss"] = max(peak["driver_pss"], sizes[0][1])
        peak["worker_rss"] = max([peak["worker_rss"], *(r for r, _ in sizes[1:])])


def write_data(folder: Path, subjects: int) -> Path:
    from physioemo.datasets.synthetic.deap import write_deap

    started = time.perf_counter()
    write_deap(folder, subjects=subjects, seed=0)
    print(f"wrote synthetic DEAP ({subjects} subjects) in {time.perf_counter() - started:.0f} s")
    return folder


def measure(root: Path, folder: Path, args) -> dict:
    """Run the bench under `time -v` with the sampler; the peaks and `time`'s maximum RSS."""
    command = [
        "/usr/bin/time", "-v", sys.executable, "-m", "physioemo.cli", "bench",
        "--dataset", "deap", "--root", str(root), "--models", args.model, "--features", "raw",
        "--protocols", "subject-independent", "--dimensions", "valence",
        "--folds", *map(str, args.folds), "--jobs", "2", "--seed", "0",
        "--out", str(folder / "run"), "--no-report", "--quiet",
    ]  # fmt: skip
    environment = {**os.environ, "PHYSIOEMO_CACHE": str(folder / "cache")}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(process.pid, folder / "run" / "shared")
    sampler.start()
    _, error = process.communicate()
    sampler.done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"bench failed:\n{error[-3000:]}")
    maximum = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", error).group(1))
    return {
        **sampler.peak,
        "time_max_rss": maximum * 1024,
        "seconds": time.perf_counter() - started,
        "processes": sampler.processes,
        "composition": sampler.composition,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=32, help="synthetic DEAP subjects")
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1], help="LOSO folds run")
    parser.add_argument("--model", default="eegnet", help="a model reading raw windows")
    parser.add_argument("--root", type=Path, help="existing DEAP folder (default: write one)")
    parser.add_argument("--quick", action="store_true", help="3 subjects, fold 0")
    parser.add_argument("--out", type=Path, help="write the summary as JSON here (docs/results)")
    args = parser.parse_args()
    if args.quick:
        args.subjects, args.folds = 3, [0]
    with tempfile.TemporaryDirectory(prefix="physioemo-memory-") as temporary:
        folder = Path(temporary)
        root = args.root or write_data(folder / "deap", args.subjects)
        found = measure(root, folder, args)
    gib = 2**30
    subjects = args.subjects if args.root is None else "given"
    size = f"{args.subjects * 40 * 60 * 32 * 128 * 4 / 1e9:.2f} GB" if args.root is None else "?"
    print(
        f"\n# Memory of bench --jobs 2, {time.strftime('%Y-%m-%d')}, {platform.node()}, "
        f"{os.cpu_count()} CPUs; synthetic DEAP {subjects} subjects (raw 1-s windows {size}), "
        f"{args.model} quick, subject-independent folds {args.folds}, valence; "
        f"{found['seconds']:.0f} s, {found['processes']} processes at most\n"
    )
    rows = [
        (
            "time -v maximum resident set (the driver's: workers are the forkserver's)",
            found["time_max_rss"],
        ),
        ("driver peak RSS (sampled)", found["driver_rss"]),
        ("driver peak PSS (sampled)", found["driver_pss"]),
        ("largest worker peak RSS (sampled)", found["worker_rss"]),
        ("process tree peak PSS sum (sampled)", found["tree_pss"]),
        ("process tree peak RSS sum (shared pages once per process)", found["tree_rss"]),
    ]
    table = [{"measure": name, "GiB": f"{value / gib:.2f}"} for name, value in rows]
    parts = [(PEAK_PARTS[name], found["composition"][name]) for name in PARTS]
    peak = [{"at the tree's PSS peak": name, "GiB": f"{v / gib:.2f}"} for name, v in parts]
    print(summaries.markdown(table) + "\n\n" + summaries.markdown(peak))
    ratios = {
        "tree_pss_over_driver_rss": round(found["tree_pss"] / found["driver_rss"], 2),
        "tree_pss_over_time_max_rss": round(found["tree_pss"] / found["time_max_rss"], 2),
    }
    room = 0.3 * found["driver_rss"] / gib  # what the tree may hold beyond the driver's peak
    print(f"\ntree peak PSS over the driver and over time -v: {ratios} (target <= 1.3)")
    if args.out:
        summary = {"table": table, "peak": peak, **ratios, "room_at_1_3_gib": f"{room:.2f}"}
        summary["seconds"] = round(found["seconds"])
        summaries.write(args.out, summary)


if __name__ == "__main__":
    main()
