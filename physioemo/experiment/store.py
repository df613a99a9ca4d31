"""The result store of a run folder: an embedded SQLite database (WAL mode).

One row per finished job, written in its own transaction the moment the job ends: identity,
sizes, the training majority class, the fit report (epochs run, the epoch kept and why, training
curves), timings and the per-window test predictions (compressed arrays, never a pickle). A
killed run therefore loses at most the jobs that were running, and re-running the same
experiment into the folder runs only the jobs whose keys are missing.

Tables: meta (key -> text: the experiment, its core digest, versions...), planned (every job
of the experiment and its identity), jobs (finished jobs), runs (each command that wrote here).

Faults are one line: any SQLite failure (not a database, damaged, locked by another process
for more than `LOCK_TIMEOUT`, disk full, cannot be opened) is a `StoreError` naming the file and
what to do. A finished job whose row cannot be read (its report or predictions damaged) is left
out with a `StoreWarning` naming it, and counts as not done, so the next run re-runs it.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
import warnings
from pathlib import Path

from ..errors import clean
from .jobs import pack, unpack

#: seconds a store waits for another process's lock before giving up
LOCK_TIMEOUT = 60.0
#: per-window arrays every stored job's predictions hold, one value per test window
PREDICTION_ARRAYS = ("y_true", "y_pred")


class StoreError(ValueError):
    """The result store cannot be read or written; the message names the file and what to do."""


class StoreWarning(UserWarning):
    """A finished job's row cannot be read: it is left out, and re-run by the next run."""


#: (words of SQLite's message or error name, what the user reads) of each store fault
FAULTS = (
    (
        ("locked", "SQLITE_BUSY"),
        "locked by another process for more than {timeout:g} s: wait for the command using "
        "this run folder to end, or use another --out",
    ),
    (
        ("full", "SQLITE_FULL"),
        "the disk is full: free some space and run the same command again (the jobs stored so "
        "far are kept)",
    ),
    (
        ("not a database", "malformed", "SQLITE_NOTADB", "SQLITE_CORRUPT"),
        "not a readable result store ({text}): its results are lost; run the experiment again "
        "with --overwrite or into another --out",
    ),
    (
        ("unable to open", "readonly", "SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM"),
        "cannot be opened or written ({text}): check the permissions of the file and its folder",
    ),
)


def _fault(path: Path, error: sqlite3.Error) -> StoreError:
    """The one-line `StoreError` of an SQLite failure on the store at `path`."""
    text = clean(str(error).strip() or type(error).__name__, 120)
    said = f"{text} {getattr(error, 'sqlite_errorname', '')}"
    what = next(
        (advice for words, advice in FAULTS if any(word in said for word in words)),
        "the result store failed ({text})",
    )
    return StoreError(f"{path}: {what.format(timeout=LOCK_TIMEOUT, text=text)}")


def _guarded(method):
    """Turn the SQLite failures of a `Store` method into one-line `StoreError`s."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            raise _fault(self.path, error) from None

    return wrapper


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS planned (
    key TEXT PRIMARY KEY, identity TEXT NOT NULL, leaks INTEGER NOT NULL, subjects TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    key TEXT PRIMARY KEY,
    dataset TEXT, features TEXT, model TEXT, preset TEXT, protocol TEXT, labels TEXT,
    dimension TEXT, fold INTEGER, subjects TEXT, leaks INTEGER, n_classes INTEGER, ordinal INTEGER,
    n_train INTEGER, n_test INTEGER, n_validation INTEGER, train_majority INTEGER, note TEXT,
    report TEXT, predictions BLOB, seconds_fit REAL, seconds_predict REAL,
    host TEXT, pid INTEGER, finished TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, command TEXT, started TEXT, finished TEXT,
    backend TEXT, jobs_done INTEGER, status TEXT
);
"""

#: columns of `jobs` besides the blobs, in order
COLUMNS = (
    "key",
    "dataset",
    "features",
    "model",
    "preset",
    "protocol",
    "labels",
    "dimension",
    "fold",
    "subjects",
    "leaks",
    "n_classes",
    "ordinal",
    "n_train",
    "n_test",
    "n_validation",
    "train_majority",
    "note",
    "seconds_fit",
    "seconds_predict",
    "host",
    "pid",
    "finished",
)


class Store:
    """The SQLite store of one run folder (`path`: the database file)."""

    def __init__(self, path):
        self.path = Path(path)
        self.connection = None
        self._reported: set[str] = set()  # keys of the damaged rows already warned about
        self._open()

    @_guarded
    def _open(self) -> None:
        self.connection = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT, isolation_level=None)
        try:
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self.connection.executescript(SCHEMA)
        except sqlite3.Error:
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ meta
    @_guarded
    def get(self, key: str, default=None):
        """The meta value under `key` (`default` when absent); StoreError when it is not JSON."""
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except (TypeError, ValueError):
            raise StoreError(
                f"{self.path}: meta.{clean(key, 40)} is not readable; run the experiment again "
                "with --overwrite or into another --out"
            ) from None

    @_guarded
    def set(self, key: str, value) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
        )

    # ------------------------------------------------------------------ jobs
    @_guarded
    def plan(self, jobs) -> None:
        """Record the jobs of the experiment (kept across runs; new ones added)."""
        with self.connection:
            self.connection.executemany(
                "INSERT OR IGNORE INTO planned (key, identity, leaks, subjects) VALUES (?,?,?,?)",
                [(j.key, json.dumps(j.identity), int(j.leaks), "+".join(j.subjects)) for j in jobs],
            )

    @_guarded
    def done(self) -> set[str]:
        """Keys of the finished jobs (damaged rows included: see `damaged`)."""
        return {row[0] for row in self.connection.execute("SELECT key FROM jobs")}

    @_guarded
    def add(self, result: dict) -> None:
        """Store one finished job in its own transaction."""
        values = {**result, "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
        values["leaks"], values["ordinal"] = int(values["leaks"]), int(values["ordinal"])
        row = [values.get(c) for c in COLUMNS]
        row += [json.dumps(result.get("report", {})), pack(result["predictions"])]
        names = ", ".join((*COLUMNS, "report", "predictions"))
        marks = ", ".join("?" * len(row))
        with self.connection:
            self.connection.execute(f"INSERT OR REPLACE INTO jobs ({names}) VALUES ({marks})", row)

    @_guarded
    def rows(self, predictions: bool = False) -> list[dict]:
        """Finished jobs as dicts (report decoded; predictions unpacked when asked). A row
        whose report or predictions cannot be read is left out with a `StoreWarning`."""
        rows = []
        for row, reason in self._jobs():
            if reason is not None:
                self._left_out(row, reason)
                continue
            if not predictions:
                del row["predictions"]
            rows.append(row)
        return rows

    @_guarded
    def damaged(self) -> dict[str, str]:
        """Key -> why, of the finished jobs whose row cannot be read (run them again)."""
        return {row["key"]: reason for row, reason in self._jobs() if reason is not None}

    def _jobs(self):
        """(row, None) per readable finished job, decoded; (raw row, why) per damaged one."""
        columns = (*COLUMNS, "report", "predictions")
        order = "dataset, dimension, protocol, model, fold"
        query = f"SELECT {', '.join(columns)} FROM jobs ORDER BY {order}"
        for values in self.connection.execute(query).fetchall():
            row = dict(zip(columns, values, strict=True))
            try:
                yield _decoded(row), None
            except _Damaged as damage:
                yield row, str(damage)

    def _left_out(self, row: dict, reason: str) -> None:
        """Warn (once per store object) that a damaged row is left out."""
        if row["key"] in self._reported:
            return
        self._reported.add(row["key"])
        name = " ".join(clean(row.get(k), 40) for k in ("dataset", "model", "protocol"))
        warnings.warn(
            f"{self.path}: job {name} fold {clean(row.get('fold'), 10)}: {reason}; left out "
            "(a run into this folder runs it again)",
            StoreWarning,
            stacklevel=3,
        )

    @_guarded
    def planned(self) -> list[dict]:
        """Every planned job: key, identity fields, leaks, held-out subjects (a damaged
        entry is left out)."""
        planned = []
        for key, identity, leaks, subjects in self.connection.execute(
            "SELECT key, identity, leaks, subjects FROM planned"
        ):
            try:
                fields = json.loads(identity)
            except (TypeError, ValueError):
                continue
            if isinstance(fields, dict):
                planned.append({"key": key, **fields, "leaks": bool(leaks), "subjects": subjects})
        return planned

    def copy_rows_from(self, other: Store) -> int:
        """Copy the finished jobs of another store that this one lacks (or holds damaged);
        returns how many. Damaged rows of `other` are left out with a `StoreWarning`."""
        keep = self.done() - set(self.damaged())
        found, planned = other._copyable()
        copied = [values for values in found if values[0] not in keep]
        self._insert(copied, planned)
        return len(copied)

    @_guarded
    def _copyable(self) -> tuple[list, list]:
        """(readable finished jobs as rows of every column, planned rows) to copy elsewhere."""
        damaged = self.damaged()
        columns = (*COLUMNS, "report", "predictions")
        found = []
        for values in self.connection.execute(f"SELECT {', '.join(columns)} FROM jobs"):
            if values[0] in damaged:
                self._left_out(dict(zip(columns, values, strict=True)), damaged[values[0]])
            else:
                found.append(values)
        planned = self.connection.execute(
            "SELECT key, identity, leaks, subjects FROM planned"
        ).fetchall()
        return found, planned

    @_guarded
    def _insert(self, jobs: list, planned: list) -> None:
        columns = ", ".join((*COLUMNS, "report", "predictions"))
        marks = ", ".join("?" * (len(COLUMNS) + 2))
        with self.connection:
            self.connection.executemany(
                f"INSERT OR REPLACE INTO jobs ({columns}) VALUES ({marks})", jobs
            )
            self.connection.executemany(
                "INSERT OR IGNORE INTO planned (key, identity, leaks, subjects) VALUES (?,?,?,?)",
                planned,
            )

    # ------------------------------------------------------------------ runs
    @_guarded
    def start_run(self, command: str, backend: str) -> int:
        cursor = self.connection.execute(
            "INSERT INTO runs (command, started, backend, status) VALUES (?, ?, ?, 'running')",
            (command, time.strftime("%Y-%m-%dT%H:%M:%S"), backend),
        )
        return cursor.lastrowid

    @_guarded
    def finish_run(self, run_id: int, jobs_done: int, status: str) -> None:
        self.connection.execute(
            "UPDATE runs SET finished = ?, jobs_done = ?, status = ? WHERE id = ?",
            (time.strftime("%Y-%m-%dT%H:%M:%S"), jobs_done, status, run_id),
        )

    @_guarded
    def runs(self) -> list[dict]:
        cursor = self.connection.execute(
            "SELECT id, command, started, finished, backend, jobs_done, status FROM runs"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]


class _Damaged(Exception):
    """A stored job's row cannot be read (the message says why)."""


def _decoded(row: dict) -> dict:
    """The row with its report and predictions decoded and checked; `_Damaged` otherwise."""
    try:
        report = json.loads(row["report"] or "{}")
    except (TypeError, ValueError):
        report = None
    if not isinstance(report, dict):
        raise _Damaged("its fit report cannot be read")
    try:
        arrays = unpack(row["predictions"])
    except Exception as error:  # noqa: BLE001 -- any failure to read a blob means: damaged
        raise _Damaged(f"its predictions cannot be read ({type(error).__name__})") from None
    _check_predictions(arrays, row["n_test"], row["n_classes"])
    return {
        **row,
        "leaks": bool(row["leaks"]),
        "ordinal": bool(row["ordinal"]),
        "report": report,
        "predictions": arrays,
    }


def _check_predictions(arrays: dict, n_test, n_classes) -> None:
    """`_Damaged` unless y_true and y_pred are n_test classes below n_classes."""
    for name in PREDICTION_ARRAYS:
        values = arrays.get(name)
        if values is None:
            raise _Damaged(f"its predictions lack {name}")
        if (
            values.ndim != 1
            or len(values) != n_test
            or values.dtype.kind not in "iu"
            or (len(values) and not 0 <= values.min() <= values.max() < (n_classes or 0))
        ):
            raise _Damaged(f"its predictions' {name} are not {n_test} classes below {n_classes}")
