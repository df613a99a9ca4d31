"""Dataset fingerprint cost: physioemo's stat fingerprint against hashing the files, in one run.

Input: a DEAP-sized folder, 32 files of 103 MB each (the size of DEAP's preprocessed
``sXX.dat``: 40 x 40 x 8064 float64), random bytes, or smaller files with --quick. Each
fingerprint runs after one warm-up pass, so files come from the page cache (a cold cache adds
the disk's read time to every hashing row, not to the stat row).

Rows: physioemo's fingerprint (status only: size, mtime, ctime, inode); status plus SHA-256 of
the first 64 KiB of each file (the previous scheme); status plus SHA-256 of 16 sampled 64 KiB
blocks per file; SHA-256 of every byte.

    python benchmarks/fingerprint.py [--quick] [--files N] [--megabytes M]

Exits non-zero only on an error.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np

from physioemo.features.cache import content_fingerprint, fingerprint

BLOCK = 1 << 16


def head_hash(root: Path) -> list:
    return [
        [path.name, path.stat().st_size, hashlib.sha256(path.open("rb").read(BLOCK)).hexdigest()]
        for path in sorted(root.iterdir())
    ]


def full_hash(root: Path) -> list:
    entries = []
    for path in sorted(root.iterdir()):
        with path.open("rb") as f:
            entries.append([path.name, hashlib.file_digest(f, "sha256").hexdigest()])
    return entries


def timed(function, root: Path, repeats: int) -> float:
    function(root)  # warm-up: page cache, imports
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
        root = Path(folder)
        for number in range(1, args.files + 1):
            (root / f"s{number:02d}.dat").write_bytes(rng.bytes(size))
        total = args.files * size / 1e9
        print(f"{args.files} files x {size / 1e6:.1f} MB = {total:.2f} GB, warm page cache\n")
        rows = {
            "physioemo: status (size, mtime, ctime, inode)": (fingerprint, 20),
            "status + SHA-256 of the first 64 KiB": (head_hash, 20),
            "SHA-256 of 16 x 64 KiB samples (job keys)": (content_fingerprint, 5),
            "SHA-256 of every byte": (full_hash, 1),
        }
        seconds = {name: timed(function, root, n) for name, (function, n) in rows.items()}
        reference = seconds["physioemo: status (size, mtime, ctime, inode)"]
        print("| fingerprint | seconds | x physioemo's |\n|---|---:|---:|")
        for name, value in seconds.items():
            print(f"| {name} | {value:.4f} | {value / reference:,.0f} |")


if __name__ == "__main__":
    main()
