"""The data a run's workers share, as files they memory-map instead of copying.

A run folder's ``shared/`` folder holds one folder per feature set: ``X.npy`` (the windows,
read back read-only with ``np.load(mmap_mode="r")``: every process reads the same pages of the
page cache, none holds a copy), ``groups.npy``, one ``rating-<name>.npy`` and
``extra-<name>.npy`` per array, and ``info.json``; and ``targets.npz``, the label arrays.
Everything is read with ``allow_pickle=False``. The folder is the run's: it is removed when the
run ends, and when a run resumes in the folder (a run that was killed leaves it behind).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ..recording import WindowSet

TARGETS = "targets.npz"


def write(folder: Path, windows: dict, targets: dict) -> dict:
    """Write the feature sets (id -> WindowSet) and targets (id -> labels) into `folder`
    (emptied first) and replace each set's X in `windows` by its read-only memory map, so the
    caller's copy can go; returns where they are, for `read`."""
    folder = Path(folder)
    remove(folder)
    folder.mkdir(parents=True)
    sets = {}
    for index, (key, found) in enumerate(windows.items()):
        sets[key] = str(folder / f"set-{index}")
        _write_set(Path(sets[key]), found)
        windows[key] = read_set(Path(sets[key]))
    np.savez(folder / TARGETS, **{f"y{i}": y for i, y in enumerate(targets.values())})
    return {"sets": sets, "targets": str(folder / TARGETS), "target_keys": list(targets)}


def _write_set(folder: Path, windows: WindowSet) -> None:
    folder.mkdir()
    np.save(folder / "X.npy", np.ascontiguousarray(windows.X))
    np.save(folder / "groups.npy", windows.groups)
    for prefix, arrays in (("rating", windows.ratings), ("extra", windows.extra)):
        for name, values in arrays.items():
            np.save(folder / f"{prefix}-{name}.npy", values)
    (folder / "info.json").write_text(json.dumps(windows.info, default=str))


def read_set(folder: Path) -> WindowSet:
    """One feature set of `write`: X memory-mapped read-only, the rest in memory."""
    folder = Path(folder)
    arrays = {"rating": {}, "extra": {}}
    for path in sorted(folder.glob("*-*.npy")):
        prefix, _, name = path.stem.partition("-")
        arrays[prefix][name] = np.load(path, allow_pickle=False)
    return WindowSet(
        np.load(folder / "X.npy", mmap_mode="r", allow_pickle=False),
        np.load(folder / "groups.npy", allow_pickle=False),
        arrays["rating"],
        json.loads((folder / "info.json").read_text()),
        arrays["extra"],
    )


def read(where: dict) -> tuple[dict, dict]:
    """(feature sets, targets) of what `write` returned."""
    windows = {key: read_set(Path(folder)) for key, folder in where["sets"].items()}
    with np.load(where["targets"], allow_pickle=False) as stored:
        targets = {key: stored[f"y{i}"] for i, key in enumerate(where["target_keys"])}
    return windows, targets


def remove(folder: Path) -> None:
    """Remove a shared folder (gone already: nothing to do)."""
    shutil.rmtree(folder, ignore_errors=True)
