"""Feature cache: windowed features of a dataset on disk, keyed by what made them.

The key is a SHA-256 of (fingerprint of the input files, feature parameters, the window
metadata's fields, physioemo version). Entries live in
``<cache_dir()>/features/<dataset>-<key>.npz`` (`cache_dir` is $PHYSIOEMO_CACHE, else
$XDG_CACHE_HOME/physioemo, else ~/.cache/physioemo).

The fingerprint of a dataset is the SHA-256 of every byte of every file under its folder, so
a changed sample anywhere changes every key made from it (feature cache entries and experiment
job keys alike), and a copy of the same files elsewhere gets the same keys. Each file is
hashed once and remembered in ``<cache_dir()>/fingerprints/`` with its status (size, mtime,
ctime, inode, device); it is hashed again when any of them changes. Tools that copy or restore
files (``cp -p``, rsync, tar) can set the modification time but never the change time, which
every write and every replacement of a file renews. Remembered, a DEAP-sized folder costs
milliseconds; hashed cold, about the disk's read time (`benchmarks/fingerprint.py`). A file
that cannot be read gives no hash (the loader names it if it needs it).

Each entry stores its own key and a digest of its arrays: an entry copied under another name,
damaged, or whose array headers claim more bytes than the file holds is rebuilt, never trusted
(and never read into memory first). Writes go to a temporary file named after the writer's
process, renamed into place; temporary files left by a killed writer (its process gone, or
older than `STALE_SECONDS`) are removed by later writers. A cache folder that cannot be written
costs one warning, and the features computed are returned all the same.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._json import digest
from .._version import __version__
from ..paths import cache_dir
from ..recording import GROUP_FIELDS, WindowSet

#: temporary files older than this (s) are left-overs even when their writer's pid is alive
STALE_SECONDS = 6 * 3600


class CacheWarning(UserWarning):
    """The feature cache could not be used; results are computed but not stored."""


#: status fields that must all be unchanged for a remembered hash to be used
_STATUS = ("st_size", "st_mtime_ns", "st_ctime_ns", "st_ino", "st_dev")


def _files(root) -> list[tuple[str, Path]]:
    """(name relative to `root`, path) of every file under `root` (or `root` itself when it is
    a file), sorted by path."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist")
    if root.is_file():
        return [(root.name, root)]
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return [(path.relative_to(root).as_posix(), path) for path in files]


def fingerprint(root) -> list:
    """[relative path, size, SHA-256 of the whole file] of every file under `root` (or of
    `root` itself when it is a file), sorted by path; [path, None, None] for a file that cannot
    be read. Equal for a copy of the same files anywhere. Hashes are remembered with each
    file's status (`_STATUS`), so only new or changed files are read."""
    root = Path(root)
    memo_path = _memo_path(root)
    memo = _read_memo(memo_path)
    entries, remembered = [], {}
    for name, path in _files(root):
        status, sha = _hash(path, memo.get(name))
        entries.append([name, status and status[0], sha])
        if sha is not None:
            remembered[name] = [*status, sha]
    if remembered != memo:
        _write_memo(memo_path, remembered)
    return entries


def _hash(path: Path, known) -> tuple[list | None, str | None]:
    """(status, SHA-256) of one file: the remembered hash when `known` ([*status, sha]) has
    the file's current status, else the file read whole; (None, None) when unreadable. A file
    whose status changes while it is read is hashed again."""
    try:
        for _ in range(3):
            status = _status(path.stat())
            if known is not None and known[:-1] == status:
                return status, known[-1]
            with open(path, "rb") as handle:
                sha = hashlib.file_digest(handle, "sha256").hexdigest()
                if _status(os.fstat(handle.fileno())) == status:
                    return status, sha
    except OSError:
        pass
    return None, None


def _status(stat: os.stat_result) -> list[int]:
    return [getattr(stat, name) for name in _STATUS]


def _memo_path(root: Path) -> Path:
    return cache_dir() / "fingerprints" / f"{digest(str(root.resolve()))}.json"


def _read_memo(path: Path) -> dict:
    """name -> [*status, sha] remembered for one dataset folder; {} when missing or damaged
    (entries of any other shape are dropped)."""
    try:
        memo = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(memo, dict):
        return {}
    width = len(_STATUS) + 1
    return {
        name: value
        for name, value in memo.items()
        if isinstance(value, list)
        and len(value) == width
        and all(type(v) is int for v in value[:-1])
        and isinstance(value[-1], str)
    }


def _write_memo(path: Path, memo: dict) -> None:
    """Replace the remembered hashes of one folder; a cache that cannot be written only means
    the files are hashed again next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, lambda stream: stream.write(json.dumps(memo).encode()))
    except OSError:
        pass


def cache_key(input_fingerprint, parameters: dict) -> str:
    """Digest of the fingerprint, the parameters, the window metadata's fields and the
    physioemo version."""
    return digest(
        {
            "input": input_fingerprint,
            "parameters": parameters,
            "groups": GROUP_FIELDS,
            "version": __version__,
        }
    )


def feature_folder() -> Path:
    """Folder of the feature cache entries."""
    return cache_dir() / "features"


def _arrays(windows: WindowSet, key: str) -> dict[str, np.ndarray]:
    arrays = {"X": windows.X, "groups": windows.groups, "key": np.array(key)}
    arrays.update({f"rating:{k}": v for k, v in windows.ratings.items()})
    arrays.update({f"extra:{k}": v for k, v in windows.extra.items()})
    arrays["info"] = np.array(json.dumps(windows.info, default=str))
    return arrays


def _digest(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        digest.update(name.encode())
        digest.update(str(arrays[name].dtype).encode() + str(arrays[name].shape).encode())
        digest.update(memoryview(np.ascontiguousarray(arrays[name])).cast("B"))  # no copy
    return digest.hexdigest()


def save(windows: WindowSet, path: Path, key: str) -> None:
    """Write `windows`, `key` and their digest to `path` atomically (temporary file, rename).

    Raises OSError when the folder cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    arrays = _arrays(windows, key)
    arrays["digest"] = np.array(_digest(arrays))
    _replace(path, lambda stream: np.savez(stream, **arrays))


def _replace(path: Path, write: Callable) -> None:
    """Write `path` atomically: `write(binary stream)` into a temporary file named after this
    process, renamed into place (OSError when the folder cannot be written)."""
    handle, temporary = tempfile.mkstemp(
        prefix=f"{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path, key: str | None = None) -> WindowSet | None:
    """The entry at `path`, or None when it is missing, unreadable, claims more than it holds,
    fails its digest, or was stored under another key than `key` (when given)."""
    try:
        if not _claims_fit(path):
            return None
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        digest = str(arrays.pop("digest"))
        if digest != _digest(arrays) or (key is not None and str(arrays.pop("key")) != key):
            return None
        ratings, extra = (
            {k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith(prefix)}
            for prefix in ("rating:", "extra:")
        )
        info = json.loads(str(arrays["info"]))
        return WindowSet(arrays["X"], arrays["groups"], ratings, info, extra)
    except Exception:  # anything wrong with an entry (MemoryError included) means: rebuild it
        return None


def _claims_fit(path: Path) -> bool:
    """Whether every array of the .npz at `path` is stored uncompressed and its header claims
    no more bytes than the member holds (so reading it allocates no more than the file)."""
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            if member.compress_type != zipfile.ZIP_STORED or member.file_size > size:
                return False
            with archive.open(member) as stream:
                version = np.lib.format.read_magic(stream)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
                if dtype.hasobject or math.prod(shape) * dtype.itemsize > member.file_size:
                    return False
    return True


def remove_stale_temporaries(folder: Path) -> None:
    """Remove the ``*.tmp`` files in `folder` whose writer process is gone (on this machine)
    or that are older than `STALE_SECONDS`."""
    now = time.time()
    for temporary in folder.glob("*.tmp"):
        try:
            pid = int(temporary.name.split(".")[-3])
        except (IndexError, ValueError):
            pid = None
        try:
            if now - temporary.stat().st_mtime > STALE_SECONDS or not _running(pid):
                temporary.unlink()
        except OSError:  # removed meanwhile, or not ours to remove
            pass


def _running(pid: int | None) -> bool:
    if pid is None or os.name != "posix":
        return True  # unknown: only the age rule applies
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def entry_path(dataset: str, root, parameters: dict) -> tuple[str, Path]:
    """(key, path) of the cache entry of (files under `root`, `parameters`, version)."""
    key = cache_key(fingerprint(root), {"dataset": dataset, **parameters})
    return key, feature_folder() / f"{dataset}-{key[:24]}.npz"


def cached(
    dataset: str, root, parameters: dict, compute: Callable[[], WindowSet], use_cache=True
) -> tuple[WindowSet, Path | None, bool]:
    """(windows, entry path, whether they came from the cache).

    Computes with `compute()` and stores the result when there is no valid entry for
    (files under `root`, `parameters`, version); use_cache=False recomputes and overwrites.
    When the cache folder cannot be written, warns once (`CacheWarning`) and returns the
    computed windows with path None.
    """
    key, path = entry_path(dataset, root, parameters)
    if use_cache and path.exists():
        windows = load(path, key)
        if windows is not None:
            return windows, path, True
    windows = compute()
    try:
        save(windows, path, key)
    except OSError as error:
        warnings.warn(
            f"feature cache {path.parent} cannot be written ({error.strerror or error}): "
            "features not cached",
            CacheWarning,
            stacklevel=2,
        )
        return windows, None, False
    return windows, path, False
