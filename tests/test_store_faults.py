"""Faults of a run folder's store: each is one line naming the file and exit status 2 from
bench, report, merge and audit; a damaged row is reported, left out and run again; a folder
whose data changed refuses to mix old and new results."""

import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from physioemo.cli import main
from physioemo.datasets.synthetic import write_dreamer
from physioemo.experiment import store as store_module

STORE = "store.sqlite"


def bench_args(root, out) -> list[str]:
    return [
        "bench",
        "--root",
        str(root),
        "--models",
        "logreg",
        "--dimensions",
        "arousal",
        "--protocols",
        "subject-independent",
        "--seed",
        "0",
        "--out",
        str(out),
        "--quiet",
        "--no-report",
    ]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """(dataset folder, a run folder of 4 finished jobs)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PHYSIOEMO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        base = tmp_path_factory.mktemp("store-faults")
        root = write_dreamer(base / "dreamer", subjects=4, seconds=8.0, seed=5).parent
        assert main(bench_args(root, base / "run")) == 0
    return root, base / "run"


def copy_run(finished, tmp_path, name="run") -> Path:
    folder = tmp_path / name
    shutil.copytree(finished[1], folder)
    return folder


def commands(root, folder, tmp_path) -> dict[str, list[str]]:
    """Each command that opens the store of `folder` (merge beside a sound copy)."""
    healthy = tmp_path / "healthy"
    return {
        "bench": bench_args(root, folder),
        "report": ["report", str(folder)],
        "merge": ["merge", str(folder), str(healthy), "--out", str(tmp_path / "merged")],
        "audit": ["audit", str(folder)],
    }


def one_line(capsys, *parts) -> str:
    captured = capsys.readouterr()
    err = captured.err
    assert err.count("\n") == 1 and err.startswith("physioemo: error: "), err
    for part in parts:
        assert part in err, err
    return err


def random_bytes(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(8192))


def truncated(path: Path) -> None:
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])


def _set_experiment(path: Path, change) -> None:
    db = sqlite3.connect(path)
    (value,) = db.execute("SELECT value FROM meta WHERE key = 'experiment'").fetchone()
    experiment = json.loads(value)
    change(experiment)
    with db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'experiment'", (json.dumps(experiment),))
    db.close()


FAULTS = {
    "random": (random_bytes, "not a readable result store (file is not a database)"),
    "truncated": (truncated, "not a readable result store (database disk image is malformed)"),
    "unknown key": (
        lambda path: _set_experiment(path, lambda e: e.update(colour="blue")),
        "stored experiment: unknown key(s) colour",
    ),
    "not a table": (
        lambda path: _set_experiment(path, lambda e: e.update(datasets=7)),
        "stored experiment: datasets must be a list of names",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("command", ["bench", "report", "merge", "audit"])
def test_a_damaged_store_is_one_line_from_every_command(finished, tmp_path, capsys, fault, command):
    damage, message = FAULTS[fault]
    folder = copy_run(finished, tmp_path)
    copy_run(finished, tmp_path, "healthy")
    damage(folder / STORE)
    assert main(commands(finished[0], folder, tmp_path)[command]) == 2
    one_line(capsys, str(folder / STORE), message)


def _unreadable(monkeypatch, folder: Path) -> None:
    """The store cannot be opened: chmod 0, and as root (which chmod does not stop) SQLite's
    own error for it."""
    (folder / STORE).chmod(0)
    if os.geteuid() == 0:
        real_connect = sqlite3.connect

        def refused(path, *args, **kwargs):
            if Path(path) == folder / STORE:
                raise sqlite3.OperationalError("unable to open database file")
            return real_connect(path, *args, **kwargs)

        monkeypatch.setattr(store_module.sqlite3, "connect", refused)


@pytest.mark.parametrize("command", ["bench", "report", "merge", "audit"])
def test_an_unreadable_store_is_one_line(finished, tmp_path, capsys, monkeypatch, command):
    folder = copy_run(finished, tmp_path)
    copy_run(finished, tmp_path, "healthy")
    _unreadable(monkeypatch, folder)
    try:
        assert main(commands(finished[0], folder, tmp_path)[command]) == 2
    finally:
        (folder / STORE).chmod(0o644)
    one_line(capsys, str(folder / STORE), "cannot be opened or written", "permissions")


@pytest.mark.parametrize("command", ["bench", "report", "merge", "audit"])
def test_a_store_locked_past_the_timeout_is_one_line(
    finished, tmp_path, capsys, monkeypatch, command
):
    folder = copy_run(finished, tmp_path)
    copy_run(finished, tmp_path, "healthy")
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT", 0.2)
    holder = sqlite3.connect(folder / STORE, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert main(commands(finished[0], folder, tmp_path)[command]) == 2
    finally:
        holder.close()
    one_line(capsys, str(folder / STORE), "locked by another process for more than 0.2 s")


def _full_disk(monkeypatch) -> None:
    """Every store connection may not grow its database: SQLite's own 'disk is full'."""
    real_connect = sqlite3.connect

    def capped(*args, **kwargs):
        connection = real_connect(*args, **kwargs)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return connection

    monkeypatch.setattr(store_module.sqlite3, "connect", capped)


def test_a_full_disk_is_one_line_from_bench_and_merge(finished, tmp_path, capsys, monkeypatch):
    folder = copy_run(finished, tmp_path)
    copy_run(finished, tmp_path, "healthy")
    given = commands(finished[0], folder, tmp_path)
    _full_disk(monkeypatch)
    # bench with a new model: its rows do not fit
    assert main([*given["bench"], "--models", "svm"]) == 2
    one_line(capsys, str(folder / STORE), "the disk is full", "run the same command again")
    assert main(given["merge"]) == 2  # a new store does not fit
    one_line(capsys, str(tmp_path / "merged" / STORE), "the disk is full")
    # report and audit only read the store; report's files on a full disk are one line too
    assert main(given["audit"]) == 0
    capsys.readouterr()
    real_write = Path.write_text

    def no_space(self, *args, **kwargs):
        if self.parent == folder:
            raise OSError(28, "No space left on device", str(self))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", no_space)
    assert main(given["report"]) == 2
    one_line(capsys, str(folder), "No space left on device")


def test_a_full_disk_in_the_middle_of_a_run_is_one_line_and_keeps_the_jobs_stored(
    finished, tmp_path, capsys, monkeypatch
):
    folder = copy_run(finished, tmp_path)
    real_pack, packed = store_module.pack, []

    def full_after_one(arrays):
        if packed:
            raise sqlite3.OperationalError("database or disk is full")
        packed.append(1)
        return real_pack(arrays)

    monkeypatch.setattr(store_module, "pack", full_after_one)
    assert main([*bench_args(finished[0], folder), "--models", "svm"]) == 2
    one_line(capsys, str(folder / STORE), "the disk is full")
    monkeypatch.undo()
    with store_module.Store(folder / STORE) as store:
        assert sorted(row["model"] for row in store.rows()) == ["logreg"] * 4 + ["svm"]


def test_a_damaged_row_is_reported_left_out_and_run_again(finished, tmp_path, capsys):
    folder = copy_run(finished, tmp_path)
    copy_run(finished, tmp_path, "healthy")
    given = commands(finished[0], folder, tmp_path)
    sound = json.loads((finished[1] / "summary.json").read_text())["summary"]
    db = sqlite3.connect(folder / STORE)
    keys = [key for (key,) in db.execute("SELECT key FROM jobs ORDER BY key")]
    object_array = _pickled_blob()
    for key, blob in zip(keys[:3], (b"garbage", object_array, b""), strict=True):
        with db:
            db.execute("UPDATE jobs SET predictions = ? WHERE key = ?", (blob, key))
    db.close()
    for command in ("report", "audit", "merge"):
        assert main(given[command]) == 0, command
        err = capsys.readouterr().err
        assert err.count("physioemo: warning: ") == 3 and "allow_pickle" not in err, err
        assert "its predictions cannot be read" in err and "left out" in err
    merged = json.loads((tmp_path / "merged" / "summary.json").read_text())["summary"]
    assert merged[0]["n_jobs"] == 4  # the healthy copy's rows fill in
    summary = json.loads((folder / "summary.json").read_text())["summary"]
    assert summary[0]["n_jobs"] == 1 and summary[0]["n_planned"] == 4
    assert main(given["bench"]) == 0
    err = capsys.readouterr().err
    assert err.count("physioemo: warning: ") == 3 and "runs it again" in err, err
    again = json.loads((folder / "summary.json").read_text())["summary"]
    assert [e["accuracy"] for e in again] == [e["accuracy"] for e in sound]
    assert again[0]["n_jobs"] == 4


def _pickled_blob() -> bytes:
    """An .npz whose array is an object array: numpy refuses it without allow_pickle."""
    import io

    buffer = io.BytesIO()
    np.savez(buffer, y_true=np.array([{"a": 1}], dtype=object), y_pred=np.zeros(1, int))
    return buffer.getvalue()


def test_a_changed_sample_outside_any_sampled_block_is_not_mixed_with_stored_results(
    finished, tmp_path, capsys
):
    root = tmp_path / "data"
    shutil.copytree(finished[0], root)
    folder = copy_run(finished, tmp_path)
    copy_run(finished, tmp_path, "fresh-before")
    mat = root / "DREAMER.mat"
    before = mat.stat()
    content = bytearray(mat.read_bytes())
    sampled = np.linspace(0, len(content) - 65536, 16).astype(np.int64)
    offset = _sample_offset(mat, sampled)
    content[offset] ^= 0x08  # one EEG sample changes by up to half its value
    mat.write_bytes(bytes(content))
    os.utime(mat, ns=(before.st_atime_ns, before.st_mtime_ns))  # as cp -p or rsync keep it
    assert main(bench_args(root, folder)) == 2
    one_line(capsys, str(folder), "other data", "--overwrite")
    assert main([*bench_args(root, folder), "--overwrite"]) == 0
    fresh = tmp_path / "fresh"
    assert main(bench_args(root, fresh)) == 0
    capsys.readouterr()
    rows, fresh_rows = (_results(f) for f in (folder, fresh))
    assert rows == fresh_rows
    assert {r["key"] for r in rows}.isdisjoint(r["key"] for r in _results(finished[1]))


def _sample_offset(path: Path, sampled) -> int:
    """Offset of a byte of an EEG sample (float64, in the file as written, uncompressed)
    outside every sampled 64 KiB block."""
    from physioemo import datasets

    content = path.read_bytes()
    for recording in datasets.load("dreamer", path):
        for channel in recording.data:
            start = content.find(channel[100:104].tobytes())
            offset = start + 8 + 6  # the second sample's top mantissa bits
            if start >= 0 and not any(s <= offset < s + 65536 for s in sampled):
                return offset
    raise AssertionError("no sample outside the sampled blocks")


def _results(folder) -> list[dict]:
    import csv

    skip = {"seconds_fit", "seconds_predict", "host", "pid", "finished"}
    with open(Path(folder) / "results.csv") as f:
        rows = [{k: v for k, v in r.items() if k not in skip} for r in csv.DictReader(f)]
    return sorted(rows, key=lambda r: (r["fold"], r["subjects"]))
