"""Running an experiment into a run folder, resuming it, and merging run folders.

A run folder holds:

* ``store.sqlite``: the result store (`store.Store`), one row per finished job;
* ``experiment.toml``: the experiment (all slices run into this folder so far), resolved
  (`Experiment.resolved`), replayable with ``physioemo bench RUN/experiment.toml --out NEW``;
* ``environment.json``: versions of physioemo, Python and the libraries, the git revision, the
  host and the machine; ``commands.txt``: every command that wrote into the folder;
* ``results.csv``, ``per_subject.csv``, ``summary.json``, ``summary.md``: exported from the
  store after every run (also after an interruption; `export`), with the leakage audit of
  every protocol that ran;
* ``report.html`` and ``figures/``: the report (`evaluation.report`), written after every run;
* ``running/``: a marker per job while it runs (host and process), and the results local
  workers hand back (`backends.ResultFile`); removed at the end when empty;
* ``checkpoints/<job key>/``: a torch fold's resumable state while it trains (removed once its
  result is stored): a re-run, a restarted worker or a Ray retry continues it from there;
* ``shared/``: the feature sets local workers memory-map (`shared`), while a run goes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shlex
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from .._logging import progress as progress_lines
from .._logging import takes_verbose
from . import backends, estimate, shared
from .export import (
    EXPORTS,
    STORE,
    RunFolderError,
    environment,
    open_existing,
    stored_experiment,
    write_exports,
)
from .jobs import brief, log_sizes
from .plan import build
from .spec import PER_DATASET, SELECTORS, Experiment, differences
from .store import Store

log = logging.getLogger(__name__)

CHECKPOINTS, SHARED = "checkpoints", "shared"


def default_out(experiment: Experiment) -> Path:
    return (
        Path("physioemo-runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{'+'.join(experiment.datasets)}"
    )


def open_folder(out: Path, experiment: Experiment, overwrite: bool = False) -> Store:
    """The store of `out`, created or checked: a folder holding another experiment is refused
    unless `overwrite` (which deletes its store and exports, nothing else)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{time.time_ns()}"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise RunFolderError(f"cannot write into {out}: {error.strerror or error}") from None
    path = out / STORE
    if overwrite:
        for name in (STORE, f"{STORE}-wal", f"{STORE}-shm", "experiment.toml", *EXPORTS):
            (out / name).unlink(missing_ok=True)
    elif not path.exists() and (out / "results.csv").exists():
        raise RunFolderError(
            f"{out} holds results without a store (an older run); use --overwrite or another --out"
        )
    store = Store(path)
    try:
        if store.get("experiment") is None:
            store.set("experiment", asdict(experiment))
            store.set("core_digest", experiment.core_digest())
            return store
        previous = stored_experiment(store)
    except BaseException:
        store.close()
        raise
    if previous.core_digest() != experiment.core_digest():
        store.close()
        raise RunFolderError(
            f"{out} holds another experiment (it differs in {_differences(previous, experiment)}"
            " in the folder vs now); use --overwrite or another --out"
        )
    store.set("experiment", asdict(union(previous, experiment)))
    return store


def _differences(first: Experiment, second: Experiment) -> str:
    """The fields two experiments' cores differ in, e.g. "threshold 3 vs 4; n_splits 5 vs 3"."""
    return "; ".join(differences(first, second)) or "the physioemo version"


def union(first: Experiment, second: Experiment) -> Experiment:
    """The experiment whose jobs are those of both (same core, selections joined): a list of
    models, protocols or dimensions that either leaves to each dataset becomes each dataset's
    own list in `per_dataset`, the union of what each ran there."""
    merged = Experiment(**asdict(second))
    merged.datasets = _joined(first.datasets, second.datasets)
    names = dict.fromkeys([*first.per_dataset, *second.per_dataset])
    per_dataset = {
        d: {**first.per_dataset.get(d, {}), **second.per_dataset.get(d, {})} for d in names
    }
    for key in (k for k in PER_DATASET if k in SELECTORS):
        a, b = getattr(first, key), getattr(second, key)
        setattr(merged, key, _joined(a, b) if a and b else [])
        for dataset in merged.datasets:
            own = per_dataset.setdefault(dataset, {})
            own.pop(key, None)
            if not (a and b):
                ran = [e.values_for(dataset, key) for e in (first, second) if dataset in e.datasets]
                own[key] = _joined(*ran)
    a, b = first.select, second.select
    merged.select = {k: _joined(a[k], b[k]) for k in ("subjects", "folds") if a.get(k) and b.get(k)}
    merged.roots = {**first.roots, **second.roots}
    merged.per_dataset = {name: values for name, values in per_dataset.items() if values}
    return merged


def _joined(*lists) -> list:
    """The items of `lists` in order, each once."""
    return list(dict.fromkeys(item for values in lists for item in values))


@takes_verbose
def run(
    experiment: Experiment,
    out=None,
    backend: str = "serial",
    jobs: int = 1,
    address: str | None = None,
    gpus: float = 0.0,
    overwrite: bool = False,
    progress: bool | None = None,
    echo=print,
    command: str | None = None,
    report: bool = True,
    device: str = "cpu",
    precision: str = "fp32",
) -> dict:
    """Run (or resume) `experiment` into the run folder `out` and return its summary.

    progress: a bar over jobs (None: when stderr is a terminal); without it one plain line per
    finished job goes to `echo`. report: write report.html at the end. device ("cpu", "cuda",
    "auto") and precision ("fp32", "bf16", "fp16") of the torch fits; every row says which it
    ran with. verbose (keyword): the physioemo logger's level for the call (True: INFO); the
    progress lines go to the logger when it shows INFO, else to `echo` (`physioemo._logging`).
    Raises KeyboardInterrupt after saving on Ctrl-C.
    """
    experiment.validate()
    experiment = experiment.resolved()
    out = Path(out) if out is not None else default_out(experiment)
    command = command or " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).name, *sys.argv[1:]])
    executor = backends.create(backend, jobs, address, gpus, device)
    store = open_folder(out, experiment, overwrite)
    say = progress_lines(echo, log)
    run_id, failures = None, []
    try:
        _write_context(out, store, command)
        executor.start()  # Ray connects here: it computes missing features too
        plan, todo, done = _prepare(out, store, experiment, (progress, executor), say)
        for job in plan.jobs:
            job.device, job.precision, job.checkpoints = device, precision, str(out / CHECKPOINTS)
        where = backend if backend == "serial" else f"{backend} x {jobs}"
        say(
            f"{len(plan.jobs)} jobs, {len(plan.jobs) - len(todo)} already in {out}; running "
            f"{len(todo)} ({where}); features ready in {plan.seconds_features:.1f} s"
        )
        estimated = estimate.for_run(todo, plan, say, executor)
        run_id = store.start_run(command, backend)
        started = time.perf_counter()
        failures = _execute(executor, todo, plan, store, (out, progress), echo)
        estimate.keep(estimated, store, (backend, jobs, started), say)
        store.finish_run(run_id, len(store.done()) - len(done), "failed" if failures else "done")
    except KeyboardInterrupt:
        if run_id is not None:
            store.finish_run(run_id, len(store.done()) - len(done), "interrupted")
        write_exports(out, store)
        store.close()
        echo(f"interrupted; the finished jobs are kept in {out}: run the same command to resume")
        raise
    except BaseException:
        store.close()
        raise
    finally:
        executor.stop()
    return _finish(out, store, report, failures, echo)


def _prepare(out: Path, store: Store, experiment: Experiment, how, echo) -> tuple:
    """Plan the experiment (how: progress, and the backend that computes missing features)
    and record its jobs in the store: (plan, the jobs still to run, the keys of those done)."""
    progress, executor = how
    running = out / "running"
    running.mkdir(exist_ok=True)
    shared.remove(out / SHARED)  # left by a run that was killed
    plan = build(experiment, str(running), progress is not False, echo, executor)
    for line in dict.fromkeys(plan.notes + [f"skipped: {s}" for s in plan.skipped]):
        echo(line)
    _same_data(out, store.get("sources", {}), plan.sources)
    remember(store, plan)
    store.plan(plan.jobs)
    done = {row["key"] for row in store.rows()}  # a damaged row is reported and runs again
    return plan, [job for job in plan.jobs if job.key not in done], done


def _fingerprints(sources: dict) -> dict[str, str]:
    """Dataset -> content fingerprint, of a plan's or a store's `sources`."""
    return {
        name: source["fingerprint"]
        for name, source in sources.items()
        if isinstance(source, dict) and source.get("fingerprint")
    }


def _same_data(out, stored: dict, found: dict) -> None:
    """RunFolderError when the files of a dataset are not the data the folder's results were
    made from (`stored`: the store's sources; `found`: the plan's), so they never mix."""
    before = _fingerprints(stored)
    for name, now in _fingerprints(found).items():
        if before.get(name, now) != now:
            raise RunFolderError(
                f"{out} holds {name} results made from other data than the files under "
                f"{found[name]['root']} hold now (fingerprint {before[name][:12]} then, "
                f"{now[:12]} now): results of both would mix; use --overwrite (every job runs "
                "again) or another --out"
            )


def _same_data_merged(stores: list[Store]) -> None:
    """RunFolderError when two of the stores hold results of one dataset's different data."""
    seen: dict[str, tuple] = {}
    for store in stores:
        for name, fingerprint in _fingerprints(store.get("sources", {})).items():
            first, known = seen.setdefault(name, (store.path, fingerprint))
            if known != fingerprint:
                raise RunFolderError(
                    f"{first} and {store.path} hold {name} results of different data "
                    f"(fingerprints {known[:12]} and {fingerprint[:12]}); merge only runs of the "
                    "same files"
                )


def _finish(out: Path, store: Store, report: bool, failures: list[str], echo) -> dict:
    """Export the run folder (and write its report), close the store, print the results and
    return them."""
    from ..evaluation.summary import format_table

    summary = write_exports(out, store)
    with contextlib.suppress(OSError):  # removed when no job left a marker or result there
        (out / "running").rmdir()
    if report:
        from ..evaluation.report import write_report

        write_report(out, store, summary)
    store.close()
    echo(format_table(summary["summary"]))
    for line in _verdicts(summary["audit"]):
        echo(line)
    echo(f"{out}: results.csv, summary.json, summary.md" + (", report.html" if report else ""))
    if failures:
        echo(f"{len(failures)} job(s) failed, e.g. {failures[0]}")
    return {**summary, "out": str(out), "failures": failures}


def _execute(executor, todo, plan, store, where, echo) -> list[str]:
    """Run the jobs, storing each result as it arrives (and removing its checkpoint); returns
    the failures, one line each. where: (the run folder, progress)."""
    from tqdm.auto import tqdm

    out, progress = where
    if progress is None:
        progress = sys.stderr.isatty()
    bar = tqdm(total=len(todo), unit="job", disable=not progress, smoothing=0.1)
    say = progress_lines(None if progress else echo, log)
    failures = []
    try:
        results = executor.run(todo, plan.windows, plan.targets, folder=out / SHARED)
        for count, (job, result) in enumerate(results, start=1):
            if isinstance(result, backends.Failure):
                failures.append(f"{job.name}: {result.error}")
                echo(f"[{count}/{len(todo)}] FAILED {job.name}: {result.error}")
            else:
                store.add(result)
                log_sizes(job, result)
                shutil.rmtree(job.checkpoint, ignore_errors=True)
                say(f"[{count}/{len(todo)}] {job.name} {brief(result)}")
            bar.update()
    finally:
        bar.close()
    return failures


def _verdicts(audits: dict) -> list[str]:
    """One line per protocol and feature set: its audit verdict (the first dimension's)."""
    lines = {}
    for audit in audits.values():
        lines.setdefault((audit["dataset"], audit["protocol"], audit["features"]), audit["verdict"])
    return [f"audit: {d} {p} ({f}): {v}" for (d, p, f), v in lines.items()]


# ----------------------------------------------------------------------------- files
#: store meta keys the plan fills, each a dict that later runs into the folder extend
PLANNED_META = ("sources", "audits", "classes", "class_means")


def remember(store: Store, plan) -> None:
    """Keep what the plan found about the data in the store's meta (`PLANNED_META`), so the
    summary's audit and the report need no dataset; entries of earlier runs stay."""
    for key in PLANNED_META:
        store.set(key, {**store.get(key, {}), **getattr(plan, key)})


def _write_context(out: Path, store: Store, command: str) -> None:
    experiment = stored_experiment(store)
    (out / "experiment.toml").write_text(experiment.to_toml())
    with open(out / "commands.txt", "a") as log:
        log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {command}\n")
    found = environment()
    (out / "environment.json").write_text(json.dumps(found, indent=2) + "\n")
    store.set("environment", found)


# ----------------------------------------------------------------------------- merge
def merge(folders: list, out) -> dict:
    """Merge run folders of one experiment (equal cores) into `out`; returns its summary."""
    from ..evaluation.report import write_report

    if len(folders) < 2:
        raise ValueError("merge needs at least two run folders")
    stores = []
    try:
        for folder in folders:
            stores.append(open_existing(folder))
        experiments = [stored_experiment(s) for s in stores]
        for folder, other in zip(folders[1:], experiments[1:], strict=True):
            if other.core_digest() != experiments[0].core_digest():
                raise RunFolderError(
                    f"{folders[0]} and {folder} hold different experiments: they differ in "
                    f"{_differences(experiments[0], other)}"
                )
        whole = experiments[0]
        for other in experiments[1:]:
            whole = union(whole, other)
        target = open_folder(Path(out), whole)
        stores.append(target)
        _same_data_merged(stores)
        copied = sum(target.copy_rows_from(store) for store in stores[:-1])
        target.set("environment", stores[0].get("environment"))
        for key in PLANNED_META:
            target.set(key, {k: v for store in stores for k, v in store.get(key, {}).items()})
        (Path(out) / "experiment.toml").write_text(whole.to_toml())
        summary = write_exports(Path(out), target)
        write_report(Path(out), target, summary)
    finally:
        for store in stores:
            store.close()
    return {**summary, "copied": copied, "out": str(out)}
