"""Dataset fingerprint cost: physioemo's full-content fingerprint, first time and remembered,
against hashing the same bytes with hashlib and with coreutils' ``sha256sum``, in one run.

Input: a DEAP-sized folder, 32 files of 103 MB each (the size of DEAP's preprocessed
``sXX.dat``: 40 x 40 x 8064 float64), random bytes, or 32 files of 10 MB with --quick. Every
row runs after one warm-up read of the files, so they come from the page cache (a cold page
cache adds the disk's read time to every hashing row alike, not to the remembered row).

Rows: physioemo's fingerprint with nothing remembered (every byte hashed, then remembered);
the same fingerprint again (hashes remembered by file status: no file read); SHA-256 of every
byte with hashlib (the raw speed of the same hash in this process); ``sha256sum`` over the
files (another implementation, when installed); the status of every file (os.stat: what a
fingerprint that reads no bytes costs).

    python benchmarks/fingerprint.py [--quick] [--files N] [--megabytes M] [--out F]

With --out, the table and each row's seconds (by short name) as a stored summary.

Exits non-zero only on an error.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from summaries import markdown, write


def first_time(root: Path) -> None:
    """physioemo's fingerprint with an empty memory of hashes."""
    from physioemo.features.cache import fingerprint

    shutil.rmtree(Path(os.environ["PHYSIOEMO_CACHE"]) / "fingerprints", ignore_errors=True)
    fingerprint(root)


def remembered(root: Path) -> None:
    from physioemo.features.cache import fingerprint

    fingerprint(root)


def with_hashlib(root: Path) -> None:
    for path in sorted(root.iterdir()):
        with path.open("rb") as f:
            hashlib.file_digest(f, "sha256")


def with_sha256sum(root: Path) -> None:
    files = sorted(str(path) for path in root.iterdir())
    subprocess.run(["sha256sum", *files], check=True, stdout=subprocess.DEVNULL)


def status_only(root: Path) -> None:
    for path in sorted(root.iterdir()):
        path.stat()


def timed(function, repeats: int, root: Path) -> float:
    """Best of `repeats` wall-clock seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function(root)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="32 files of 10 MB")
    parser.add_argument("--files", type=int, default=32)
    parser.add_argument("--megabytes", type=float, default=103.2)
    parser.add_argument("--out", type=Path, help="write the summary as JSON here (docs/results)")
    args = parser.parse_args()
    size = int((10.0 if args.quick else args.megabytes) * 1e6)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["PHYSIOEMO_CACHE"] = str(Path(folder) / "cache")
        root = Path(folder) / "data"
        root.mkdir()
        for number in range(1, args.files + 1):
            (root / f"s{number:02d}.dat").write_bytes(rng.bytes(size))
        megabytes = args.files * size / 1e6
        gigabytes = megabytes / 1e3
        print(f"{args.files} files x {size / 1e6:.1f} MB = {gigabytes:.2f} GB, warm page cache\n")
        with_hashlib(root)  # warm-up: page cache
        rows = {
            "first": (
                "physioemo fingerprint, nothing remembered (hashes every byte)",
                first_time,
                3,
            ),
            "remembered": ("physioemo fingerprint, remembered (reads no file)", remembered, 20),
            "hashlib": ("hashlib SHA-256 of every byte (reference)", with_hashlib, 3),
            "sha256sum": ("sha256sum of every file", with_sha256sum, 3),
            "stat": ("status of every file (os.stat)", status_only, 20),
        }
        if not shutil.which("sha256sum"):
            del rows["sha256sum"]
        seconds = {key: timed(function, n, root) for key, (_, function, n) in rows.items()}
    table = [
        {
            "fingerprint": rows[key][0],
            "seconds": f"{value:.4f}",
            "MB/s": f"{megabytes / value:,.0f}",
            "x hashlib": f"{value / seconds['hashlib']:.3f}",
        }
        for key, value in seconds.items()
    ]
    print(markdown(table))
    if args.out:
        summary = {
            "input": f"{args.files} files x {size / 1e6:.1f} MB = {gigabytes:.2f} GB",
            "table": table,
            "seconds": {key: f"{value:.1f}" for key, value in seconds.items()},
            "remembered_ms": f"{1e3 * seconds['remembered']:.1f}",
            "first_gb_per_s": f"{gigabytes / seconds['first']:.1f}",
        }
        write(args.out, summary)


if __name__ == "__main__":
    main()
