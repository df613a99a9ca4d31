"""Where jobs run: in this process, in local worker processes, or on a Ray cluster.

Every backend takes the plan's shared data once (feature sets and labels) and yields
``(job, result)`` as jobs finish, in any order; a job that raised yields a `Failure` instead.
Jobs are self-contained and seeded, so the same experiment gives the same results on every
backend. The driver writes each result to the store as it arrives.

* `Serial`: in-process, one job at a time (the default).
* `Processes`: `concurrent.futures.ProcessPoolExecutor` with spawned workers (`--jobs N`); each
  worker reads the shared data once, from files in a temporary folder, and ignores Ctrl-C from
  its start (the driver stops the workers); a worker that dies (killed, out of memory) breaks the
  pool, which is restarted and the unfinished jobs re-run (a job that keeps killing its worker
  fails after `RETRIES` attempts). Results come back as files in the run's ``running/`` folder
  (`ResultFile`), so a worker killed mid-way never leaves a partial message in the pool's pipe.
* `Ray`: tasks on a Ray cluster (`--backend ray [--address HOST:PORT|auto]`, the `ray` extra);
  the shared data goes to Ray's object store once; each task asks for `threads` CPUs (and GPUs
  when given) and is retried by Ray when its worker dies.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..features import cache
from .jobs import Job, marker_path, read_result, run_job, write_result

#: attempts of a job whose worker process dies before it fails for good
RETRIES = 3
NAMES = ("serial", "processes", "ray")


@dataclass
class Failure:
    """A job that raised: the exception's type and message."""

    error: str


def create(name: str, jobs: int = 1, address: str | None = None, gpus: float = 0.0):
    """The backend `name` ("serial", "processes" or "ray")."""
    if name == "serial":
        return Serial()
    if name == "processes":
        return Processes(jobs)
    if name == "ray":
        return Ray(jobs, address, gpus)
    raise ValueError(f"unknown backend {name!r}; available: {', '.join(NAMES)}")


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class Serial:
    """Jobs in this process, one at a time."""

    name = "serial"

    def run(self, jobs: list[Job], windows: dict, targets: dict):
        for job in jobs:
            try:
                result = run_job(job, windows[job.data], targets[job.target])
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as error:  # a failing job must not stop the others
                result = Failure(_describe(error))
            yield job, result


# ----------------------------------------------------------------------------- processes
_SHARED: dict = {}


def _write_shared(folder: Path, windows: dict, targets: dict) -> dict:
    """The shared data as files in `folder`, for `_start_worker`; returns where they are.

    Workers read their data from files rather than from their start-up arguments: the driver
    starts its workers with Ctrl-C ignored (`_ctrl_c_ignored`), which must last milliseconds,
    and a large start-up argument keeps it waiting until the worker has imported and read it."""
    files = {key: str(folder / f"windows-{i}.npz") for i, key in enumerate(windows)}
    for key, path in files.items():
        cache.save(windows[key], Path(path), key)
    labels = folder / "targets.npz"
    np.savez(labels, **{f"y{i}": y for i, y in enumerate(targets.values())})
    return {"windows": files, "targets": str(labels), "target_keys": list(targets)}


def _start_worker(shared: dict) -> None:
    """Worker initialiser: read the shared data `_write_shared` wrote; leave Ctrl-C to the
    driver (already ignored when the driver started this worker from its main thread)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    windows = {key: cache.load(Path(path), key) for key, path in shared["windows"].items()}
    if any(w is None for w in windows.values()):
        raise RuntimeError(f"shared windows in {Path(shared['targets']).parent} are unreadable")
    with np.load(shared["targets"], allow_pickle=False) as stored:
        targets = {key: stored[f"y{i}"] for i, key in enumerate(shared["target_keys"])}
    _SHARED.update(windows=windows, targets=targets)


@contextmanager
def _ctrl_c_ignored():
    """Ignore Ctrl-C (SIGINT) while worker processes start; they inherit it ignored.

    A terminal sends Ctrl-C to its whole process group, and a worker still importing would die
    with a traceback. Starting a worker takes milliseconds; a Ctrl-C pressed within them is
    lost. Only the main thread may set signal handlers: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)


@dataclass(frozen=True)
class ResultFile:
    """Where a worker process left its job's result. A worker killed while it sends a large
    result through the pool's pipe leaves a partial message that blocks the pool's reader for
    ever; this short message is sent in one atomic write."""

    path: str

    def take(self) -> dict:
        """The result, its file removed."""
        path = Path(self.path)
        result = read_result(path)
        path.unlink()
        return result


def _run_in_worker(job: Job) -> dict | Failure | ResultFile:
    try:
        result = run_job(job, _SHARED["windows"][job.data], _SHARED["targets"][job.target])
    except Exception as error:
        return Failure(_describe(error))
    marker = marker_path(job)
    if marker is None:
        return result
    path = marker.with_suffix(".npz")
    try:
        write_result(path, result)
    except OSError:  # the run folder is not writable from here: send it through the pipe
        return result
    return ResultFile(str(path))


class Processes:
    """Jobs in `jobs` spawned worker processes on this machine."""

    name = "processes"

    def __init__(self, jobs: int):
        if jobs < 1:
            raise ValueError(f"--jobs must be at least 1, got {jobs}")
        self.jobs = jobs

    def run(self, jobs: list[Job], windows: dict, targets: dict):
        import tempfile

        with tempfile.TemporaryDirectory(prefix="physioemo-shared-") as folder:
            shared = _write_shared(Path(folder), windows, targets)
            yield from self._run(jobs, shared)

    def _run(self, jobs: list[Job], shared: dict):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        context = multiprocessing.get_context("spawn")
        attempts = {job.key: 0 for job in jobs}
        remaining = list(jobs)
        while remaining:
            pool = ProcessPoolExecutor(
                self.jobs, context, initializer=_start_worker, initargs=(shared,)
            )
            try:
                for job, result in self._results(pool, remaining):
                    remaining.remove(job)
                    yield job, result
            except BrokenProcessPool:  # a worker died: restart, run the unfinished jobs again
                suspects = _suspects(remaining)
                _stop(pool)  # the survivors too: one may wait for ever on a lock the dead held
                for job in suspects:
                    attempts[job.key] += 1
                for job in [j for j in remaining if attempts[j.key] >= RETRIES]:
                    remaining.remove(job)
                    yield job, Failure(f"its worker process died {RETRIES} times")
                continue
            except BaseException:
                _stop(pool)
                raise
            pool.shutdown(wait=True)

    @staticmethod
    def _results(pool, jobs: list[Job]):
        """(job, result) as they finish; BrokenProcessPool when a worker dies (while jobs
        are submitted or run), after yielding the results that arrived before."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        with _ctrl_c_ignored():  # submitting starts the workers
            pending = {pool.submit(_run_in_worker, job): job for job in jobs}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in finished:
                job = pending.pop(future)
                if isinstance(future.exception(), BrokenProcessPool):
                    broken = True
                else:
                    result = future.result()
                    yield job, result.take() if isinstance(result, ResultFile) else result
            if broken:
                raise BrokenProcessPool("a worker process died")


def _suspects(jobs: list[Job]) -> list[Job]:
    """Jobs that were running when a worker died: those whose running marker was left
    behind (see `jobs.run_job`); all of them when the run keeps no markers or none was left
    (a worker that dies while it starts, e.g. on unreadable shared data, fails them all)."""
    markers = {job.key: marker_path(job) for job in jobs}
    if not any(markers.values()):
        return jobs
    left = [job for job in jobs if markers[job.key] and markers[job.key].exists()]
    for job in left:
        markers[job.key].unlink(missing_ok=True)
    return left or jobs


def _stop(pool) -> None:
    """Cancel what has not started and end the workers now (Ctrl-C, an error, a dead worker)."""
    import multiprocessing

    pool.shutdown(wait=False, cancel_futures=True)
    for child in multiprocessing.active_children():
        child.terminate()


# ----------------------------------------------------------------------------- ray
def _ray_job(job: Job, windows, y) -> dict | Failure:
    try:
        return run_job(job, windows, y)
    except Exception as error:
        return Failure(_describe(error))


class Ray:
    """Jobs as Ray tasks: a local instance with `jobs` CPUs, or the cluster at `address`."""

    name = "ray"

    def __init__(self, jobs: int = 1, address: str | None = None, gpus: float = 0.0):
        self.jobs, self.address, self.gpus = jobs, address, gpus

    def run(self, jobs: list[Job], windows: dict, targets: dict):
        try:
            import ray
        except ImportError:
            raise ValueError("--backend ray needs Ray: pip install 'physioemo[ray]'") from None
        started_here = not ray.is_initialized()
        if started_here:
            options = {"address": self.address} if self.address else {"num_cpus": self.jobs}
            ray.init(include_dashboard=False, log_to_driver=False, **options)
        try:
            yield from self._run(ray, jobs, windows, targets)
        finally:
            if started_here:
                ray.shutdown()

    def _run(self, ray, jobs, windows, targets):
        from ..models import spec

        refs = {k: ray.put(v) for k, v in windows.items()}
        target_refs = {k: ray.put(v) for k, v in targets.items()}
        task = ray.remote(_ray_job)
        pending = {}
        for job in jobs:
            gpus = self.gpus if spec(job.model).framework == "torch" else 0
            options = {"num_cpus": job.threads, "num_gpus": gpus, "max_retries": RETRIES}
            ref = task.options(**options).remote(job, refs[job.data], target_refs[job.target])
            pending[ref] = job
        try:
            while pending:
                [ready], _ = ray.wait(list(pending), num_returns=1)
                job = pending.pop(ready)
                try:
                    result = ray.get(ready)
                except ray.exceptions.RayError as error:
                    result = Failure(_describe(error).splitlines()[0])
                yield job, result
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
