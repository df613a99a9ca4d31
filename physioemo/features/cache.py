"""Feature cache: windowed features of a dataset on disk, keyed by what made them.

The key is a SHA-256 of (fingerprint of the input files, feature parameters, physioemo
version). Entries live in ``<cache_dir()>/features/<dataset>-<key>.npz`` (`cache_dir` is
$PHYSIOEMO_CACHE, else $XDG_CACHE_HOME/physioemo, else ~/.cache/physioemo). Writes go to a
temporary name in the same folder and are renamed into place, so an interrupted run never
leaves a half-written entry under the real name. Every entry stores a digest of its arrays; an
entry that fails to load or to match its digest is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import __version__
from ..paths import cache_dir
from ..recording import WindowSet

#: bytes read from the start of each input file for its fingerprint (besides size and mtime)
_HEAD_BYTES = 1 << 16


def fingerprint(root) -> list:
    """[relative path, size, mtime_ns, sha256 of the first 64 KiB] of every file under `root`
    (or of `root` itself when it is a file), sorted by path."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    entries = []
    for path in files:
        stat = path.stat()
        with open(path, "rb") as handle:
            head = hashlib.sha256(handle.read(_HEAD_BYTES)).hexdigest()
        name = path.name if path == root else path.relative_to(root).as_posix()
        entries.append([name, stat.st_size, stat.st_mtime_ns, head])
    return entries


def cache_key(input_fingerprint, parameters: dict) -> str:
    """Hex SHA-256 of the fingerprint, the parameters (JSON) and the physioemo version."""
    payload = {"input": input_fingerprint, "parameters": parameters, "version": __version__}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def feature_folder() -> Path:
    """Folder of the feature cache entries."""
    return cache_dir() / "features"


def _arrays(windows: WindowSet) -> dict[str, np.ndarray]:
    arrays = {"X": windows.X, "groups": windows.groups}
    arrays.update({f"rating:{k}": v for k, v in windows.ratings.items()})
    arrays.update({f"extra:{k}": v for k, v in windows.extra.items()})
    arrays["info"] = np.array(json.dumps(windows.info, default=str))
    return arrays


def _digest(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        digest.update(name.encode())
        digest.update(str(arrays[name].dtype).encode() + str(arrays[name].shape).encode())
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()


def save(windows: WindowSet, path: Path) -> None:
    """Write `windows` with its digest to `path` atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = _arrays(windows)
    arrays["digest"] = np.array(_digest(arrays))
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path) -> WindowSet | None:
    """The entry at `path`, or None when it is missing, unreadable or fails its digest."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        digest = str(arrays.pop("digest"))
        if digest != _digest(arrays):
            return None
        ratings, extra = (
            {k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith(prefix)}
            for prefix in ("rating:", "extra:")
        )
        info = json.loads(str(arrays["info"]))
        return WindowSet(arrays["X"], arrays["groups"], ratings, info, extra)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def cached(
    dataset: str, root, parameters: dict, compute: Callable[[], WindowSet], use_cache=True
) -> tuple[WindowSet, Path, bool]:
    """(windows, entry path, whether they came from the cache).

    Computes with `compute()` and stores the result when there is no valid entry for
    (files under `root`, `parameters`, version); use_cache=False recomputes and overwrites.
    """
    key = cache_key(fingerprint(root), {"dataset": dataset, **parameters})
    path = feature_folder() / f"{dataset}-{key[:24]}.npz"
    if use_cache and path.exists():
        windows = load(path)
        if windows is not None:
            return windows, path, True
    windows = compute()
    save(windows, path)
    return windows, path, False
