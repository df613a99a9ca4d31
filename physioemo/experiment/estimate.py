"""What an experiment will cost before it runs: CPU- and wall-time per backend and worker count.

Each job's work is counted from its recipe (`training.presets`) and its fold: the training
samples (batches x batch size over the recipe's epochs and stages, the epoch length derived
as the Trainer derives it, SMOTE's oversampling included), and the forward passes (validation
scored and BatchNorm statistics refreshed every epoch, the test windows predicted). Early
stopping can only shorten a fit: the estimate counts every epoch. A scikit-learn job's work
is its training and test rows.

The seconds per sample come from short timed fits of each (model, recipe, input shape) on this
machine (`unit_costs`: after a warm-up fit, a fit of 1 epoch x 2 batches and one of 3 x 5 give
the per-batch cost without the fixed cost; a prediction gives the forward cost, and the
standardisation statistics the cost of reading a training row), measured once and kept in the
cache (``<cache>/costs.json``, keyed by the machine, torch and the thread count). Wall time on
N workers is the makespan of the jobs dealt longest first to the least loaded worker; a
worker's start (importing torch: seconds) is not counted.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass

import numpy as np

from .._json import digest
from .._version import __version__

#: worker counts the estimate is shown for (and the run's own)
WORKERS = (1, 2, 4, 8, 16, 32, 64)
#: timed fits per measurement, the fastest kept
REPEATS = 2


@dataclass
class Work:
    """One job's work: what it runs on and how many samples it passes through the model."""

    unit: dict  # model, preset, input shape, classes, threads: what its costs are measured on
    n_train: int
    train_samples: int  # samples through forward + backward + optimiser step
    forward_samples: int  # samples through a forward pass only


def job_work(job, windows, y: np.ndarray) -> Work:
    """The work of `job` on its feature set `windows` with labels `y`."""
    from ..models import spec

    unit = {
        "model": job.model,
        "preset": job.preset,
        "shape": list(windows.X.shape[1:]),
        "n_classes": job.n_classes,
        "threads": job.threads,
    }
    if spec(job.model).framework != "torch":
        return Work(unit, job.train.size, job.train.size, job.test.size)
    from ..training.presets import preset

    recipe, groups = preset(job.preset), windows.groups
    validation = np.asarray([] if job.validation is None else job.validation, dtype=int)
    calibration = np.asarray([] if job.calibration is None else job.calibration, dtype=int)
    first = np.setdiff1d(np.arange(job.train.size), calibration if "calibration" in recipe else [])
    fit = job.train[np.setdiff1d(first, validation)]
    stages = [(recipe["train"], fit, validation.size)]
    if "calibration" in recipe and calibration.size:
        stages.append((recipe["calibration"], job.train[calibration], 0))
    train, forward = 0, job.test.size
    for config, rows, n_validation in stages:
        n_rows = _after_smote(config, y[rows], job.n_classes)
        samples, scored = _stage(config, n_rows, groups[rows], n_validation)
        train, forward = train + samples, forward + scored
    return Work(unit, job.train.size, train, forward)


def _after_smote(config: dict, y: np.ndarray, n_classes: int) -> int:
    """Training rows after SMOTE (every class up to the largest) when the recipe uses it."""
    if not config.get("smote"):
        return len(y)
    return int(np.bincount(y, minlength=n_classes).max() * np.unique(y).size)


def _stage(config: dict, n_rows: int, groups, n_validation: int) -> tuple[int, int]:
    """(training samples, forward samples) of one training stage."""
    from ..training.config import TrainConfig
    from ..training.sampling import epoch_length

    settings = TrainConfig(**config)
    steps, _ = epoch_length(settings.steps_per_epoch, n_rows, groups)
    train = scored = 0
    for epoch in range(settings.epochs):
        started = [e for e in settings.batch_schedule if e <= epoch]
        size = settings.batch_schedule[max(started)] if started else settings.batch_size
        train += steps(size) * size
        if n_validation:
            scored += min(n_validation, settings.validation_rows or n_validation)
            scored += min(n_rows, settings.refresh_rows)
    return train, scored + min(n_rows, settings.refresh_rows)


# ----------------------------------------------------------------------------- unit costs
def machine() -> dict:
    """What the costs of this machine depend on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((ln.split(":", 1)[1].strip() for ln in info if "model name" in ln), cpu)
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": version("torch"),  # without importing it: the driver may not need it
        "physioemo": __version__,
    }


def unit_costs(units: list[dict], echo=None, executor=None) -> dict:
    """digest of a unit -> {"train", "forward": seconds per sample, "rows": per training row
    read, "fixed": seconds per job}, measured once per machine and unit, where the jobs run
    (on `executor`, a backend; None: this process), and kept in the cache."""
    from ..paths import cache_dir
    from .backends import Failure, Serial

    path = cache_dir() / "costs.json"
    here = digest(machine())
    try:
        stored = json.loads(path.read_text()).get(here, {})
    except (OSError, ValueError, AttributeError):
        stored = {}
    missing = [unit for unit in units if digest(unit) not in stored]
    if missing and echo:
        names = ", ".join(f"{u['model']} ({u['preset'] or 'default'})" for u in missing)
        echo(f"measuring the cost per sample of {names} on this machine (once) ...")
    for unit, measured in (executor or Serial()).map(_measure, missing):
        if isinstance(measured, Failure):
            raise ValueError(f"measuring {unit['model']}: {measured.error}")
        stored[digest(unit)] = measured
    _store(path, here, stored)
    return {digest(unit): stored[digest(unit)] for unit in units}


def _store(path, here: str, costs: dict) -> None:
    """Keep this machine's costs in the cache (best effort: a read-only cache measures again)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps({here: costs}, indent=1))
        os.replace(partial, path)
    except OSError:
        pass


def _measure(unit: dict) -> dict:
    """Seconds per training and per forward sample, and the fixed seconds, of one unit."""
    from ..models import spec

    rng = np.random.default_rng(0)
    if spec(unit["model"]).framework != "torch":
        return _measure_sklearn(unit, rng)
    from ..training.presets import preset

    size = preset(unit["preset"])["train"].get("batch_size", 256)
    X = rng.normal(size=(max(2 * size, 1024), *unit["shape"])).astype(np.float32)
    y = np.arange(len(X)) % unit["n_classes"]
    first = _timed_fit(unit, X, y, 1, 1)[0]  # first calls: imports, allocations, kernels
    # the fastest of repeated fits: the least disturbed by other work on the machine
    short = np.min([_timed_fit(unit, X, y, 1, 2) for _ in range(REPEATS)], axis=0)
    long = np.min([_timed_fit(unit, X, y, 3, 5) for _ in range(REPEATS)], axis=0)
    per_batch = max(long[0] - short[0], 1e-6) / (15 - 2)
    return {
        "startup": max(first - float(short[0]), 0.0),
        "rows": _statistics_seconds(X),
        "train": per_batch / size,
        "forward": float(min(short[1], long[1])),
        "fixed": max(float(short[0]) - 2 * per_batch, 0.0),
    }


def _statistics_seconds(X: np.ndarray) -> float:
    """Seconds per training row of the standardisation statistics (`sampling.moments`),
    which read every training row of a fold (the fastest of `REPEATS`)."""
    from ..training.sampling import moments

    axes = (0, 2) if X.ndim == 3 else 0
    rows = np.arange(len(X))
    return min(timed(lambda: moments(X, rows, axes)) for _ in range(REPEATS)) / len(X)


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _timed_fit(unit: dict, X, y, epochs: int, steps: int) -> tuple[float, float]:
    """(seconds of a fit of `epochs` x `steps` batches, seconds per predicted sample)."""
    import torch

    from ..training.estimator import make_estimator
    from .jobs import requested

    estimator = make_estimator(
        unit["model"], n_classes=unit["n_classes"], preset=unit["preset"], threads=unit["threads"]
    )
    options = {"epochs": epochs, "steps_per_epoch": steps, "batch_schedule": {}, "smote": False}
    options.update(threads=unit["threads"], progress=False)
    estimator.set_params(train_options=options)
    extra = {"t": np.linspace(0, 1, len(X)), "eda": np.zeros(len(X))}
    fit_args = {k: v for k, v in extra.items() if k in requested(estimator, "fit")}
    previous = torch.get_num_threads()
    torch.set_num_threads(unit["threads"])  # as `jobs.run_job` predicts
    started = time.perf_counter()
    estimator.fit(X, y, **fit_args)
    fitted = time.perf_counter()
    predict_args = {k: v for k, v in extra.items() if k in requested(estimator, "predict_proba")}
    estimator.predict_proba(X, **predict_args)
    torch.set_num_threads(previous)
    return fitted - started, (time.perf_counter() - fitted) / len(X)


def _measure_sklearn(unit: dict, rng) -> dict:
    """Seconds per training row (a fit on 2,000 random rows) and per predicted row."""
    from threadpoolctl import threadpool_limits

    from ..training.estimator import make_estimator

    n = 2000
    X = rng.normal(size=(n, *unit["shape"]))
    y = np.arange(n) % unit["n_classes"]
    estimator = make_estimator(unit["model"], n_classes=unit["n_classes"])
    with threadpool_limits(unit["threads"]):
        timings = [_timed_sklearn(estimator, X, y) for _ in range(REPEATS)]
    fit, predict = np.min(timings, axis=0) / n
    return {"train": float(fit), "forward": float(predict), "fixed": 0.0}


def _timed_sklearn(estimator, X, y) -> tuple[float, float]:
    started = time.perf_counter()
    estimator.fit(X, y)
    fitted = time.perf_counter()
    estimator.predict(X)
    return fitted - started, time.perf_counter() - fitted


# ----------------------------------------------------------------------------- estimates
def estimate(jobs: list, windows: dict, targets: dict, echo=None, executor=None) -> dict:
    """{"jobs": [(job, seconds)], "startup": seconds a worker process spends on its first
    job's imports, "cpu_seconds" (the jobs' sum), "wall_seconds": {workers: seconds}} of
    `jobs` on their feature sets (id -> WindowSet) and labels (id -> classes); missing unit
    costs are measured on `executor` (`unit_costs`)."""
    works = [job_work(job, windows[job.data], targets[job.target]) for job in jobs]
    units = list({digest(w.unit): w.unit for w in works}.values())
    costs = unit_costs(units, echo, executor)
    seconds = [_seconds(w, costs[digest(w.unit)]) for w in works]
    startup = max((cost.get("startup", 0.0) for cost in costs.values()), default=0.0)
    return {
        "jobs": list(zip(jobs, seconds, strict=True)),
        "startup": startup,
        "cpu_seconds": float(sum(seconds)),
        "wall_seconds": {n: startup + makespan(seconds, n) for n in WORKERS},
    }


def busy_seconds(found: dict, workers: int) -> tuple[float, float]:
    """(CPU, wall) seconds of the jobs of `found` on `workers` workers, each worker's start
    included."""
    seconds = [s for _, s in found["jobs"]]
    started = min(workers, len(seconds)) * found["startup"]
    return found["cpu_seconds"] + started, found["startup"] + makespan(seconds, workers)


def _seconds(work: Work, cost: dict) -> float:
    samples = work.train_samples * cost["train"] + work.forward_samples * cost["forward"]
    return cost["fixed"] + samples + work.n_train * cost.get("rows", 0.0)


def makespan(seconds: list[float], workers: int) -> float:
    """Wall time of jobs lasting `seconds` on `workers` workers, longest dealt first to the
    least loaded worker (the backends hand each free worker the next job)."""
    loads = [0.0] * max(1, min(workers, len(seconds) or 1))
    for duration in sorted(seconds, reverse=True):
        loads[loads.index(min(loads))] += duration
    return max(loads)


def format_estimate(found: dict, backend: str, workers: int) -> str:
    """Lines: the jobs grouped by model, recipe and protocol, then CPU- and wall-hours."""
    groups: dict = {}
    for job, seconds in found["jobs"]:
        key = (job.dataset, job.features, job.model, job.preset or "-", job.protocol)
        groups.setdefault(key, []).append(seconds)
    lines = ["| dataset | features | model | recipe | protocol | jobs | one job | CPU-hours |"]
    lines.append("|---|---|---|---|---|---:|---|---:|")
    for (dataset, features, model, preset, protocol), times in groups.items():
        low, high = _duration(min(times)), _duration(max(times))
        spread = low if low == high else f"{low}-{high}"
        lines.append(
            f"| {dataset} | {features} | {model} | {preset} | {protocol} | {len(times)} | "
            f"{spread} | {sum(times) / 3600:.2f} |"
        )
    cpu = found["cpu_seconds"]
    walls = dict(found["wall_seconds"])
    walls.setdefault(workers, busy_seconds(found, workers)[1])
    lines.append(
        f"\n{len(found['jobs'])} jobs, {cpu / 3600:.2f} CPU-hours ({_duration(cpu)}), and "
        f"{_duration(found['startup'])} per worker to start"
    )
    for n in sorted(walls):
        mark = f"  <- {backend} x {workers}" if n == workers else ""
        efficiency = cpu / (n * walls[n]) if walls[n] else 1.0
        lines.append(
            f"wall on {n:>2} worker(s): {walls[n] / 3600:8.2f} h ({_duration(walls[n])}, "
            f"{100 * efficiency:.0f} % busy){mark}"
        )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def preview(experiment, backend: str = "serial", workers: int = 1, echo=print) -> dict:
    """`physioemo bench --plan`: plan `experiment` (features computed or read, on `backend`)
    and estimate its jobs (`format_estimate` shows it); nothing runs."""
    from . import backends
    from .plan import build

    experiment.validate()
    executor = backends.create(backend, workers)
    executor.start()
    try:
        plan = build(experiment, progress=True, echo=echo, executor=executor)
        for line in dict.fromkeys(plan.notes + [f"skipped: {s}" for s in plan.skipped]):
            echo(line)
        return estimate(plan.jobs, plan.windows, plan.targets, echo, executor)
    finally:
        executor.stop()


def for_run(todo: list, plan, echo, executor) -> dict | None:
    """The estimate of the jobs a run is about to run (costs measured on `executor` the first
    time), or None when there are none or it cannot be made (said in one line: an estimate
    never stops a run)."""
    if not todo:
        return None
    try:
        return estimate(todo, plan.windows, plan.targets, echo, executor)
    except Exception as error:
        echo(f"no estimate of the run's cost: {type(error).__name__}: {error}")
        return None


def keep(estimated: dict | None, store, how: tuple, echo) -> None:
    """After a run's jobs: keep its estimate against what they took in the store's meta
    ("estimate", exported to summary.json) and say it; how: (backend, workers, the
    `time.perf_counter()` when the jobs started)."""
    if estimated is None:
        return
    backend, workers, started = how
    wall = time.perf_counter() - started
    compared = against_actual(estimated, backend, workers, store.rows(), wall)
    store.set("estimate", compared)
    echo(f"estimate: {describe(compared)}")


def against_actual(estimated: dict, backend: str, workers: int, rows: list, wall: float):
    """The estimate of a run's jobs beside what they took: CPU seconds (the sum of the jobs'
    fit and predict seconds, `rows` of the store) and the wall seconds of running them."""
    keys = {job.key for job, _ in estimated["jobs"]}
    actual = sum(r["seconds_fit"] + r["seconds_predict"] for r in rows if r["key"] in keys)
    cpu, wall_estimated = busy_seconds(estimated, workers)
    return {
        "backend": backend,
        "workers": workers,
        "jobs": len(keys),
        "estimated_cpu_seconds": round(cpu, 3),
        "actual_cpu_seconds": round(actual, 3),
        "estimated_wall_seconds": round(wall_estimated, 3),
        "actual_wall_seconds": round(wall, 3),
    }


def describe(compared: dict) -> str:
    """One line: estimate against actual."""
    return (
        f"{compared['jobs']} jobs on {compared['backend']} x {compared['workers']}: estimated "
        f"{_duration(compared['estimated_cpu_seconds'])} CPU, "
        f"{_duration(compared['estimated_wall_seconds'])} wall; took "
        f"{_duration(compared['actual_cpu_seconds'])} CPU, "
        f"{_duration(compared['actual_wall_seconds'])} wall"
    )
