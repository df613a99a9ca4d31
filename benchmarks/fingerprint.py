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

    python benchmarks/fingerprint.py [--quick] [--files N] [--megabytes M]

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
            "physioemo fingerprint, nothing remembered (hashes every byte)": (first_time, 3),
            "physioemo fingerprint, remembered (reads no file)": (remembered, 20),
            "hashlib SHA-256 of every byte (reference)": (with_hashlib, 3),
            "sha256sum of every file": (with_sha256sum, 3) if shutil.which("sha256sum") else None,
            "status of every file (os.stat)": (status_only, 20),
        }
        seconds = {name: timed(*row, root) for name, row in rows.items() if row is not None}
        reference = seconds["hashlib SHA-256 of every byte (reference)"]
        print("| fingerprint | seconds | MB/s | x hashlib |\n|---|---:|---:|---:|")
        for name, value in seconds.items():
            print(f"| {name} | {value:.4f} | {megabytes / value:,.0f} | {value / reference:.3f} |")


if __name__ == "__main__":
    main()
