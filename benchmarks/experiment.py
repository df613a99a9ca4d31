"""Experiment engine: the speed-up of local worker processes over one process, in one run.

A torch-heavy experiment on synthetic DREAMER (HiSTN and EEGNet under their quick presets,
subject-dependent and leave-one-subject-out, arousal) runs three times into fresh run folders:
serially, with `--jobs 2` (local processes) and, unless --no-ray, on a local Ray instance with
2 CPUs. Every backend must give identical predictions (checked here too). Printed: wall time,
the time spent computing features (each feature set once per run; the later runs read the
cache), and the speed-up over serial; with --out, the table as a stored summary.

    python benchmarks/experiment.py [--quick] [--subjects N] [--seconds S] [--no-ray] [--out F]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from summaries import markdown, write

from physioemo.datasets.synthetic import write_dreamer
from physioemo.experiment import Experiment, run
from physioemo.experiment.store import Store


def predictions(folder: Path) -> dict:
    with Store(folder / "store.sqlite") as store:
        return {r["key"]: r["predictions"]["y_pred"] for r in store.rows(predictions=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 subjects x 12 s (CI smoke run)")
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray backend")
    parser.add_argument("--out", type=Path, help="write the summary as JSON here (docs/results)")
    args = parser.parse_args()
    subjects, seconds = (4, 12.0) if args.quick else (args.subjects, args.seconds)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["PHYSIOEMO_CACHE"] = str(Path(folder) / "cache")
        root = write_dreamer(Path(folder) / "data", subjects=subjects, seconds=seconds, seed=0)
        experiment = Experiment(
            datasets=["dreamer"],
            roots={"dreamer": str(root)},
            models=["histn", "eegnet"],
            protocols=["subject-dependent", "subject-independent"],
            dimensions=["arousal"],
            seed=0,
        )
        backends = [("serial", 1), ("processes", 2)] + [("ray", 2)] * (not args.no_ray)
        rows, reference = [], None
        for backend, jobs in backends:
            lines = []
            out = Path(folder) / backend
            started = time.perf_counter()
            run(experiment, out=out, backend=backend, jobs=jobs, progress=False, echo=lines.append)
            seconds_total = time.perf_counter() - started
            features = next(
                float(line.split("features ready in ")[1].split(" s")[0])
                for line in lines
                if "features ready in" in line
            )
            found = predictions(out)
            if reference is None:
                reference = found
            same = found.keys() == reference.keys() and all(
                np.array_equal(found[k], reference[k]) for k in reference
            )
            rows.append((backend, jobs, len(found), seconds_total, features, same))
    serial = rows[0][3]
    machine = platform.processor() or platform.machine()
    print(
        f"# Experiment engine, {time.strftime('%Y-%m-%d')}, {machine}, {os.cpu_count()} cores; "
        f"synthetic DREAMER {subjects} subjects x {seconds:g} s, "
        "histn + eegnet (quick presets), subject-dependent + LOSO, arousal\n"
    )
    table = [
        {
            "backend": backend,
            "workers": jobs,
            "jobs": n,
            "wall s": f"{total:.1f}",
            "features s": f"{features:.1f}",
            "speed-up": f"{serial / total:.2f}x",
            "same predictions": "yes" if same else "NO",
        }
        for backend, jobs, n, total, features, same in rows
    ]
    print(markdown(table))
    if args.out:
        summary = {
            "table": table,
            "speed_up": {row["backend"]: row["speed-up"] for row in table},
            "wall_seconds": {row["backend"]: row["wall s"] for row in table},
            "subjects": subjects,
            "seconds": seconds,
        }
        write(args.out, summary)
    if not all(row[5] for row in rows):
        raise SystemExit("backends disagree")


if __name__ == "__main__":
    main()
