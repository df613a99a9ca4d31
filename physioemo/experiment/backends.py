"""Where jobs run: in this process, in local worker processes, or on a Ray cluster.

Every backend takes the plan's shared data once (feature sets and labels) and yields
``(job, result)`` as jobs finish, in any order; a job that raised yields a `Failure` instead.
Jobs are self-contained and seeded, so the same experiment gives the same results on every
backend. The driver writes each result to the store as it arrives.

* `Serial`: in-process, one job at a time (the default).
* `Processes`: `concurrent.futures.ProcessPoolExecutor` with `--jobs N` workers forked from a
  forkserver that has imported what they need (`preload`: torch, scikit-learn, the job code),
  so they share those pages instead of importing a copy each (spawned workers where the
  platform has no forkserver); they run with the driver's environment of the moment; the
  feature sets go to the run's ``shared/`` folder as .npy files that every process, the driver
  included, memory-maps read-only (`shared`), so no worker holds a copy; each worker ignores
  Ctrl-C from its start (the driver stops the workers, which save their fits' checkpoints on
  the way out). A worker that dies (killed, out of memory) breaks the pool: the job it ran
  goes back to the queue (a job that keeps killing its worker fails after `RETRIES`
  attempts), and the jobs the other workers were running resume from their checkpoints in
  the restarted pool. Results come back as files in the run's ``running/`` folder
  (`ResultFile`), so a worker killed mid-way never leaves a partial message in the pool's pipe.
  With GPUs and device "cuda" or "auto", worker i trains on GPU i modulo their number.
* `Ray`: tasks on a Ray cluster (`--backend ray [--address HOST:PORT|auto]`, the `ray` extra);
  the shared data goes to Ray's object store once (the driver then reads the store's copy, so
  it holds no second one) and tasks read their rows from it without copies; each task asks for
  `threads` CPUs (and `gpus` GPUs, 1 with device "cuda" unless given) and is retried by Ray
  when its worker dies, resuming from its checkpoint where the run folder is reachable.

Device "cuda" is refused in one line where no GPU exists (this machine for serial and
processes, the cluster for Ray).
"""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import shared as sharing
from .jobs import Job, marker_path, read_result, run_job, write_result

#: attempts of a job whose worker process dies before it fails for good
RETRIES = 3
NAMES = ("serial", "processes", "ray")
DEVICES = ("cpu", "cuda", "auto")
#: precisions of torch fits (`training.device.PRECISIONS`, named here without importing torch)
PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass
class Failure:
    """A job that raised: the exception's type and message."""

    error: str


def create(
    name: str, jobs: int = 1, address: str | None = None, gpus: float = 0.0, device: str = "cpu"
):
    """The backend `name` ("serial", "processes" or "ray") for jobs on `device` ("cpu",
    "cuda" or "auto"); ValueError in one line for "cuda" where this machine has no GPU (Ray:
    checked against the cluster when it starts)."""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; available: {', '.join(DEVICES)}")
    if name not in NAMES:
        raise ValueError(f"unknown backend {name!r}; available: {', '.join(NAMES)}")
    if name == "ray":
        return Ray(jobs, address, gpus, device)
    if device == "cuda" and not gpu_count():
        raise ValueError(
            f"--device cuda: no CUDA GPU is visible on this machine ({name} backend); "
            "use --device cpu or auto, or --backend ray with GPU nodes"
        )
    return Serial() if name == "serial" else Processes(jobs)


def gpu_count() -> int:
    """CUDA GPUs torch sees on this machine."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def worker_device(device: str, worker: int) -> str:
    """The device of local worker `worker` for jobs on `device`: "cuda" and "auto" spread
    the workers over the GPUs (worker i on GPU i modulo their number), else the CPU."""
    count = gpu_count() if device in ("cuda", "auto") else 0
    return f"cuda:{worker % count}" if count else "cpu"


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class Serial:
    """Jobs in this process, one at a time."""

    name = "serial"
    local = True  # runs where the driver's disk (run folder, feature cache) is

    def start(self) -> None:
        """Nothing to start (`Ray.start` connects to a cluster)."""

    def stop(self) -> None:
        """Nothing to stop."""

    def map(self, function, items: list):
        """(item, function(item) or `Failure`) for each item, in order."""
        for item in items:
            yield item, _call(function, item)

    def run(self, jobs: list[Job], windows: dict, targets: dict, folder=None):
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


def _quiet_worker(environment: dict) -> None:
    """Worker initialiser: take the driver's environment (a forked worker has the
    forkserver's, from when it started), leave Ctrl-C to the driver (already ignored: see
    `_context`), end quietly when the driver stops it, and compute on one core (Numba reads
    this when a feature job first imports it): the workers are the run's parallelism."""
    import os

    os.environ.clear()
    os.environ.update(environment, NUMBA_NUM_THREADS="1")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stopped)
    from tqdm.auto import tqdm

    # tqdm's default lock is a multiprocessing lock: a worker stopped by SIGTERM would leave
    # it behind, and the resource tracker warns of "leaked semaphore objects" at the end
    tqdm.set_lock(threading.RLock())


def _start_worker(environment: dict, where: dict, counter, device: str) -> None:
    """Worker initialiser of fold jobs: `_quiet_worker`, then memory-map the shared data
    (`shared.write`) and take the next worker number (its GPU)."""
    _quiet_worker(environment)
    with counter.get_lock():
        worker, counter.value = counter.value, counter.value + 1
    windows, targets = sharing.read(where)
    _SHARED.update(windows=windows, targets=targets, device=worker_device(device, worker))


def _context():
    """The multiprocessing context of local workers: a forkserver that imported `preload`
    (started now, with Ctrl-C ignored, which the workers it forks inherit), or spawn where the
    platform has no forkserver."""
    import multiprocessing
    from multiprocessing import forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([f"{__package__}.preload"])
    with _ctrl_c_ignored():
        forkserver.ensure_running()
    return context


def _starting(context):
    """What surrounds starting workers of `context`. Spawned workers: Ctrl-C ignored while they
    start, so they inherit it ignored. Forked workers inherit the forkserver's (ignored since
    `_context` started it); the driver holds a Ctrl-C back until they have started
    (`_ctrl_c_deferred`), as the first waits for the forkserver's imports (seconds)."""
    return _ctrl_c_ignored() if context.get_start_method() == "spawn" else _ctrl_c_deferred()


@contextmanager
def _ctrl_c_deferred():
    """Hold Ctrl-C (SIGINT) back until the block ends, then deliver it. A driver that died
    between asking the forkserver for a worker and handing the worker its work would leave a
    half-started worker, which prints a traceback. Only the main thread may set signal
    handlers: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed = []
    handler = signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        if pressed:
            signal.raise_signal(signal.SIGINT)


@contextmanager
def _ctrl_c_ignored():
    """Ignore Ctrl-C (SIGINT) while a process starts; it inherits it ignored.

    A terminal sends Ctrl-C to its whole process group, and a worker still importing would die
    with a traceback. Starting a process takes milliseconds; a Ctrl-C pressed within them is
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


def _stopped(number, _frame) -> None:
    """A worker's SIGTERM handler (the driver stops its workers with SIGTERM; a torch fit
    saves its checkpoint first): remove the running job's marker, so the job is not blamed
    for the stop (`_suspects`), then end as SIGTERM ends a process."""
    job = _SHARED.get("job")
    marker = marker_path(job) if job is not None else None
    if marker is not None:
        marker.unlink(missing_ok=True)
    signal.signal(number, signal.SIG_DFL)
    signal.raise_signal(number)


def _run_in_worker(job: Job) -> dict | Failure | ResultFile:
    _SHARED["job"] = job
    try:
        windows, y = _SHARED["windows"][job.data], _SHARED["targets"][job.target]
        result = run_job(job, windows, y, _SHARED["device"] if job.device != "cpu" else None)
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


class Processes(Serial):
    """Jobs in `jobs` worker processes on this machine."""

    name = "processes"

    def __init__(self, jobs: int):
        if jobs < 1:
            raise ValueError(f"--jobs must be at least 1, got {jobs}")
        self.jobs = jobs

    def map(self, function, items: list):
        """(item, function(item) or `Failure`) as the worker processes finish them; a worker
        that dies fails the items not finished."""
        import os
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        context, environment = _context(), dict(os.environ)
        pool = ProcessPoolExecutor(
            self.jobs, context, initializer=_quiet_worker, initargs=(environment,)
        )
        try:
            with _starting(context):  # submitting starts the workers
                pending = {pool.submit(_call, function, item): item for item in items}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    item = pending.pop(future)
                    broken = isinstance(future.exception(), BrokenProcessPool)
                    yield item, Failure("its worker process died") if broken else future.result()
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown(wait=True)

    def run(self, jobs: list[Job], windows: dict, targets: dict, folder=None):
        """folder: where the shared data goes (the run's ``shared/``; a temporary folder
        when None), removed at the end."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="physioemo-shared-") as temporary:
            folder = Path(folder or Path(temporary) / "shared")
            try:
                where = sharing.write(folder, windows, targets)
                device = next((job.device for job in jobs), "cpu")
                yield from self._run(jobs, where, device)
            finally:
                sharing.remove(folder)

    def _run(self, jobs: list[Job], where: dict, device: str):
        import os
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        context, environment = _context(), dict(os.environ)
        attempts = {job.key: 0 for job in jobs}
        remaining = list(jobs)
        while remaining:
            args = (environment, where, context.Value("i", 0), device)
            pool = ProcessPoolExecutor(self.jobs, context, initializer=_start_worker, initargs=args)
            try:
                for job, result in self._results(pool, context, remaining):
                    remaining.remove(job)
                    yield job, result
            except BrokenProcessPool:  # a worker died: restart, run the unfinished jobs again
                _stop(pool)  # the survivors too: one may wait for ever on a lock the dead held
                for job in _suspects(remaining):
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
    def _results(pool, context, jobs: list[Job]):
        """(job, result) as they finish; BrokenProcessPool when a worker dies (while jobs
        are submitted or run), after yielding the results that arrived before."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        with _starting(context):  # submitting starts the workers
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
    """Jobs that were running when a worker died, asked once every worker has ended: those
    whose running marker (see `jobs.run_job`) was left behind. A worker the driver stops
    removes its marker on the way out (`_stopped`), so only a worker that died on its own
    (killed, out of memory) leaves one. All of them when the run keeps no markers or none was
    left (a worker that dies while it starts, e.g. on unreadable shared data, fails them all)."""
    markers = {job.key: marker_path(job) for job in jobs}
    if not any(markers.values()):
        return jobs
    left = [job for job in jobs if markers[job.key] and markers[job.key].exists()]
    for job in left:
        markers[job.key].unlink(missing_ok=True)
    return left or jobs


#: seconds stopped workers get to save their fits' checkpoints (the end of one batch)
STOP_SECONDS = 60


def _stop(pool) -> None:
    """Cancel what has not started and end the workers (Ctrl-C, an error, a dead worker):
    SIGTERM, which a torch fit answers by saving its checkpoint at the end of its batch, then
    wait for them."""
    import multiprocessing

    pool.shutdown(wait=False, cancel_futures=True)
    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(STOP_SECONDS)
        if child.is_alive():
            child.kill()


# ----------------------------------------------------------------------------- ray
def _call(function, *args):
    """function(*args), or a `Failure` naming what it raised (a Ray task, a pool's call)."""
    try:
        return function(*args)
    except Exception as error:
        return Failure(_describe(error))


class Ray:
    """Jobs as Ray tasks: a local instance with `jobs` CPUs, or the cluster at `address`.

    `start` connects (and checks for a GPU when the device is "cuda"); the instance a backend
    started ends when its jobs have run (`run`) or with `stop`."""

    name = "ray"
    local = False  # nodes may not see the driver's disk

    def __init__(
        self, jobs: int = 1, address: str | None = None, gpus: float = 0.0, device: str = "cpu"
    ):
        self.jobs, self.address, self.device = jobs, address, device
        self.gpus = gpus or (1.0 if device == "cuda" else 0.0)
        self.started = False

    def start(self):
        """Ray, connected (started here when no instance runs in this process)."""
        try:
            import ray
        except ImportError:
            raise ValueError("--backend ray needs Ray: pip install 'physioemo[ray]'") from None
        if not ray.is_initialized():
            options = {"address": self.address} if self.address else {"num_cpus": self.jobs}
            quiet = {"logging_level": logging.ERROR}  # Ray's start-up lines are not ours to show
            ray.init(include_dashboard=False, log_to_driver=False, **quiet, **options)
            self.started = True
        if self.device == "cuda" and not ray.cluster_resources().get("GPU"):
            self.stop()
            raise ValueError("--device cuda: the Ray cluster has no GPU; use --device cpu or auto")
        return ray

    def stop(self) -> None:
        if self.started:
            import ray

            ray.shutdown()
            self.started = False

    def map(self, function, items: list):
        """(item, function(item) or `Failure`) as Ray tasks finish (one CPU each)."""
        ray = self.start()
        task = ray.remote(_call).options(num_cpus=1, max_retries=RETRIES)
        pending = {task.remote(function, item): item for item in items}
        yield from _ray_results(ray, pending)

    def run(self, jobs: list[Job], windows: dict, targets: dict, folder=None):
        ray = self.start()
        try:
            yield from self._run(ray, jobs, windows, targets)
        finally:
            self.stop()

    def _run(self, ray, jobs, windows, targets):
        from ..models import spec

        refs = {}
        for key in list(windows):
            refs[key] = ray.put(windows[key])
            windows[key] = ray.get(refs[key])  # the store's copy: the driver's own can go
        target_refs = {k: ray.put(v) for k, v in targets.items()}
        task = ray.remote(_call)
        pending = {}
        for job in jobs:
            gpus = self.gpus if spec(job.model).framework == "torch" else 0
            options = {"num_cpus": job.threads, "num_gpus": gpus, "max_retries": RETRIES}
            ref = task.options(**options).remote(
                run_job, job, refs[job.data], target_refs[job.target]
            )
            pending[ref] = job
        yield from _ray_results(ray, pending)


def _ray_results(ray, pending: dict):
    """(what each task was given, its result or `Failure`) as tasks finish; the tasks not
    finished are cancelled when the caller stops (Ctrl-C, an error)."""
    try:
        while pending:
            [ready], _ = ray.wait(list(pending), num_returns=1)
            item = pending.pop(ready)
            try:
                result = ray.get(ready)
            except ray.exceptions.RayError as error:
                result = Failure(_describe(error).splitlines()[0])
            yield item, result
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
