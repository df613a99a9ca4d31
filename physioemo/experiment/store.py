"""The result store of a run folder: an embedded SQLite database (WAL mode).

One row per finished job, written in its own transaction the moment the job ends: identity,
sizes, the training majority class, the fit report (epochs run, the epoch kept and why, training
curves), timings and the per-window test predictions (compressed arrays, never a pickle). A
killed run therefore loses at most the jobs that were running, and re-running the same
experiment into the folder runs only the jobs whose keys are missing.

Tables: meta (key -> text: the experiment, its core digest, versions...), planned (every job
of the experiment and its identity), jobs (finished jobs), runs (each command that wrote here).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from .jobs import pack, unpack

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
        self.connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.executescript(SCHEMA)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ meta
    def get(self, key: str, default=None):
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set(self, key: str, value) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
        )

    # ------------------------------------------------------------------ jobs
    def plan(self, jobs) -> None:
        """Record the jobs of the experiment (kept across runs; new ones added)."""
        with self.connection:
            self.connection.executemany(
                "INSERT OR IGNORE INTO planned (key, identity, leaks, subjects) VALUES (?,?,?,?)",
                [(j.key, json.dumps(j.identity), int(j.leaks), "+".join(j.subjects)) for j in jobs],
            )

    def done(self) -> set[str]:
        """Keys of the finished jobs."""
        return {row[0] for row in self.connection.execute("SELECT key FROM jobs")}

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

    def rows(self, predictions: bool = False) -> list[dict]:
        """Finished jobs as dicts (report decoded; predictions unpacked when asked)."""
        columns = (*COLUMNS, "report") + (("predictions",) if predictions else ())
        order = "dataset, dimension, protocol, model, fold"
        query = f"SELECT {', '.join(columns)} FROM jobs ORDER BY {order}"
        rows = []
        for values in self.connection.execute(query):
            row = dict(zip(columns, values, strict=True))
            row["leaks"], row["ordinal"] = bool(row["leaks"]), bool(row["ordinal"])
            row["report"] = json.loads(row["report"] or "{}")
            if predictions:
                row["predictions"] = unpack(row["predictions"])
            rows.append(row)
        return rows

    def planned(self) -> list[dict]:
        """Every planned job: key, identity fields, leaks, held-out subjects."""
        return [
            {"key": key, **json.loads(identity), "leaks": bool(leaks), "subjects": subjects}
            for key, identity, leaks, subjects in self.connection.execute(
                "SELECT key, identity, leaks, subjects FROM planned"
            )
        ]

    def copy_rows_from(self, other: Store) -> int:
        """Copy the finished jobs of another store that this one lacks; returns how many."""
        mine = self.done()
        copied = 0
        columns = (*COLUMNS, "report", "predictions")
        query = f"SELECT {', '.join(columns)} FROM jobs"
        with self.connection:
            for values in other.connection.execute(query):
                if values[0] in mine:
                    continue
                marks = ", ".join("?" * len(columns))
                self.connection.execute(
                    f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({marks})", values
                )
                copied += 1
            for values in other.connection.execute(
                "SELECT key, identity, leaks, subjects FROM planned"
            ):
                self.connection.execute(
                    "INSERT OR IGNORE INTO planned (key, identity, leaks, subjects) "
                    "VALUES (?,?,?,?)",
                    values,
                )
        return copied

    # ------------------------------------------------------------------ runs
    def start_run(self, command: str, backend: str) -> int:
        cursor = self.connection.execute(
            "INSERT INTO runs (command, started, backend, status) VALUES (?, ?, ?, 'running')",
            (command, time.strftime("%Y-%m-%dT%H:%M:%S"), backend),
        )
        return cursor.lastrowid

    def finish_run(self, run_id: int, jobs_done: int, status: str) -> None:
        self.connection.execute(
            "UPDATE runs SET finished = ?, jobs_done = ?, status = ? WHERE id = ?",
            (time.strftime("%Y-%m-%dT%H:%M:%S"), jobs_done, status, run_id),
        )

    def runs(self) -> list[dict]:
        cursor = self.connection.execute(
            "SELECT id, command, started, finished, backend, jobs_done, status FROM runs"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]
