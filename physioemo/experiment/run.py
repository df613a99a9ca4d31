"""Running an experiment into a run folder, resuming it, and merging run folders.

A run folder holds:

* ``store.sqlite``: the result store (`store.Store`), one row per finished job;
* ``experiment.toml``: the experiment (all slices run into this folder so far), replayable with
  ``physioemo bench RUN/experiment.toml --out NEW``;
* ``environment.json``: versions of physioemo, Python and the libraries, the git revision and
  the host; ``commands.txt``: every command that wrote into the folder;
* ``results.csv``, ``summary.json``, ``summary.md``: exported from the store after every run
  (also after an interruption), with the leakage audit of every protocol that ran;
* ``report.html`` and ``figures/``: the report (`evaluation.report`), written after every run;
* ``running/``: a marker per job while it runs (host and process), and the results local
  workers hand back (`backends.ResultFile`);
* ``checkpoints/<job key>/``: a torch fold's resumable state while it trains (removed once its
  result is stored): a re-run, a restarted worker or a Ray retry continues it from there;
* ``shared/``: the feature sets local workers memory-map (`shared`), while a run goes.
"""

from __future__ import annotations

import csv
import json
import platform
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from .._version import __version__
from . import backends, estimate, shared
from .plan import build
from .spec import SELECTORS, Experiment
from .store import Store, StoreError

STORE = "store.sqlite"
CHECKPOINTS, SHARED = "checkpoints", "shared"
LIBRARIES = ("numpy", "scipy", "scikit-learn", "torch", "mne", "numba", "brainflow")


class RunFolderError(ValueError):
    """The run folder cannot take this experiment (another experiment, not writable, ...)."""


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
        differences = [k for k, v in previous.core().items() if experiment.core()[k] != v]
        raise RunFolderError(
            f"{out} holds another experiment (it differs in {', '.join(differences) or 'version'});"
            " use --overwrite or another --out"
        )
    store.set("experiment", asdict(union(previous, experiment)))
    return store


def union(first: Experiment, second: Experiment) -> Experiment:
    """The experiment whose jobs are those of both (same core, selections joined)."""
    merged = Experiment(**asdict(second))
    for key in SELECTORS:
        a, b = getattr(first, key), getattr(second, key)
        if key == "select":
            value = {
                k: list(dict.fromkeys([*a[k], *b[k]]))
                for k in ("subjects", "folds")
                if a.get(k) and b.get(k)
            }
        elif not a or not b:
            value = []  # empty means "the defaults" (or everything)
        else:
            value = list(dict.fromkeys([*a, *b]))
        setattr(merged, key, value)
    merged.roots = {**first.roots, **second.roots}
    return merged


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
    ran with. Raises KeyboardInterrupt after saving on Ctrl-C.
    """
    experiment.validate()
    out = Path(out) if out is not None else default_out(experiment)
    command = command or " ".join(shlex.quote(a) for a in sys.argv)
    executor = backends.create(backend, jobs, address, gpus, device)
    store = open_folder(out, experiment, overwrite)
    run_id, failures = None, []
    try:
        _write_context(out, store, command)
        executor.start()  # Ray connects here: it computes missing features too
        plan, todo, done = _prepare(out, store, experiment, (progress, executor), echo)
        for job in plan.jobs:
            job.device, job.precision, job.checkpoints = device, precision, str(out / CHECKPOINTS)
        where = backend if backend == "serial" else f"{backend} x {jobs}"
        echo(
            f"{len(plan.jobs)} jobs, {len(plan.jobs) - len(todo)} already in {out}; running "
            f"{len(todo)} ({where}); features ready in {plan.seconds_features:.1f} s"
        )
        estimated = estimate.for_run(todo, plan, echo, executor)
        run_id = store.start_run(command, backend)
        started = time.perf_counter()
        failures = _execute(executor, todo, plan, store, (out, progress), echo)
        estimate.keep(estimated, store, (backend, jobs, started), echo)
        store.finish_run(run_id, len(store.done()) - len(done), "failed" if failures else "done")
    except KeyboardInterrupt:
        if run_id is not None:
            store.finish_run(run_id, len(store.done()) - len(done), "interrupted")
        _export(out, store)
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

    summary = _export(out, store)
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
    failures = []
    try:
        results = executor.run(todo, plan.windows, plan.targets, folder=out / SHARED)
        for count, (job, result) in enumerate(results, start=1):
            if isinstance(result, backends.Failure):
                failures.append(f"{job.name}: {result.error}")
                echo(f"[{count}/{len(todo)}] FAILED {job.name}: {result.error}")
            else:
                store.add(result)
                shutil.rmtree(job.checkpoint, ignore_errors=True)
                if not progress:
                    echo(f"[{count}/{len(todo)}] {job.name} {_brief(result)}")
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


def _brief(result: dict) -> str:
    predictions = result["predictions"]
    accuracy = float((predictions["y_true"] == predictions["y_pred"]).mean())
    return f"accuracy {100 * accuracy:.1f} % ({result['seconds_fit']:.1f} s)"


# ----------------------------------------------------------------------------- files
EXPORTS = ("results.csv", "summary.json", "summary.md", "report.html")
#: fit report fields results.csv shows, after the job's own
REPORTED = ("epochs_run", "epoch_kept", "kept_because", "device", "precision", "resumed_from")
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
    environment = {"versions": versions(), "git_revision": git_revision(), "host": platform.node()}
    (out / "environment.json").write_text(json.dumps(environment, indent=2) + "\n")
    store.set("environment", environment)


def open_existing(out) -> Store:
    """The store of an existing run folder, its experiment checked (RunFolderError when `out`
    is none, StoreError when its store or experiment cannot be read)."""
    path = Path(out) / STORE
    if not path.is_file():
        raise RunFolderError(f"{out} is not a run folder (no {STORE})")
    store = Store(path)
    try:
        stored_experiment(store)
    except BaseException:
        store.close()
        raise
    return store


def stored_experiment(store: Store) -> Experiment:
    """The experiment a store holds; StoreError in one line when it is missing, or not one
    this version of physioemo reads (an unknown key, a value out of range)."""
    stored = store.get("experiment")
    try:
        if not isinstance(stored, dict):
            raise ValueError("stored experiment: missing or not a table")
        return Experiment.from_dict(stored, source="stored experiment")
    except (TypeError, ValueError, AttributeError) as error:
        raise StoreError(
            f"{store.path}: {error}; was the folder written by another physioemo version? run "
            "the experiment again with --overwrite or into another --out"
        ) from None


def export(out) -> dict:
    """(Re)write results.csv, summary.json and summary.md of a run folder from its store."""
    with open_existing(out) as store:
        return _export(Path(out), store)


def report(out) -> Path:
    """(Re)write the exports and report.html of a run folder from its store; returns the
    page's path."""
    from ..evaluation.report import write_report

    with open_existing(out) as store:
        return write_report(Path(out), store, _export(Path(out), store))


def audit(out) -> tuple[dict, list[dict]]:
    """The audits kept in a run folder's store and the inflation of its leaky rows over honest
    ones (`evaluation.audit.inflations`)."""
    from ..evaluation.audit import inflations

    with open_existing(out) as store:
        audits = store.get("audits", {})
        return audits, inflations(summary_of(store), audits)


def compare(out, metric: str | None = None) -> dict:
    """The paired comparisons of a run folder's rows on `metric` (default the headline,
    `evaluation.comparisons.COMPARE_METRIC`); nothing is written."""
    from ..evaluation.comparisons import COMPARE_METRIC, compare

    with open_existing(out) as store:
        seed = (store.get("experiment") or {}).get("seed") or 0
        return compare(summary_of(store), metric or COMPARE_METRIC, seed)


def summary_of(store: Store, permutations: int = 0, rows: list[dict] | None = None) -> list[dict]:
    """The summary of a store's finished jobs (`evaluation.summary.summarise`; rows: those
    jobs when already read), each row's leaks marked from its protocol and its audit
    (`evaluation.audit.mark_leaks`)."""
    from ..evaluation.audit import mark_leaks
    from ..evaluation.summary import summarise

    rows = store.rows(predictions=True) if rows is None else rows
    if not rows:
        return []
    seed = (store.get("experiment") or {}).get("seed") or 0
    summary = summarise(rows, store.planned(), permutations, seed)
    return mark_leaks(summary, store.get("audits", {}))


def _export(out: Path, store: Store) -> dict:
    from ..evaluation.audit import inflations
    from ..evaluation.comparisons import compare

    rows = store.rows(predictions=True)
    experiment = store.get("experiment")
    summary = summary_of(store, experiment.get("permutations", 0), rows)
    _write_results(out / "results.csv", rows)
    audits = store.get("audits", {})
    pairs = inflations(summary, audits)
    comparisons = compare(summary, seed=experiment.get("seed") or 0)
    context = {
        "experiment": experiment,
        "environment": store.get("environment"),
        "sources": store.get("sources", {}),
        "runs": store.runs(),
        "summary": summary,
        "comparisons": comparisons,
        "audit": audits,
        "inflation": pairs,
        "estimate": store.get("estimate"),
    }
    (out / "summary.json").write_text(json.dumps(context, indent=2, default=str) + "\n")
    (out / "summary.md").write_text(summary_markdown(context))
    return {"summary": summary, "audit": audits, "inflation": pairs, "comparisons": comparisons}


#: scores of each fold's own test windows in results.csv
FOLD_SCORES = ("balanced_accuracy", "macro_f1", "accuracy")


def _write_results(path: Path, rows: list[dict]) -> None:
    """results.csv: one line per stored job, its fields, its `FOLD_SCORES` and what its fit
    report says of epochs, device, precision and resuming (`REPORTED`)."""
    from ..evaluation.metrics import confusion_score

    fields = [c for c in rows[0] if c not in ("predictions", "report")] if rows else []
    epochs = REPORTED
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*fields, *FOLD_SCORES, *epochs])
        writer.writeheader()
        for row in rows:
            p = row["predictions"]
            scores = {
                name: round(confusion_score(p["y_true"], p["y_pred"], row["n_classes"], name), 6)
                for name in FOLD_SCORES
            }
            epoch = {k: row["report"].get(k, "") for k in epochs}
            writer.writerow({**{k: row[k] for k in fields}, **scores, **epoch})


def summary_markdown(context: dict) -> str:
    """summary.md: where the data came from, the result tables, the comparisons, the audit and
    the inflation."""
    from ..evaluation.audit import format_audit
    from ..evaluation.comparisons import comparison_tables
    from ..evaluation.comparisons import notes as comparison_notes
    from ..evaluation.summary import format_table, markdown

    summary = context["summary"]
    synthetic = [name for name, source in context["sources"].items() if source.get("synthetic")]
    lines = [f"# physioemo bench: {', '.join(context['experiment']['datasets'])}"]
    if synthetic:
        lines.append(
            f"Synthetic data ({', '.join(synthetic)}): physioemo's simulator in the dataset's "
            "file format, not the real dataset."
        )
    lines.append("Scores on each subject's pooled test predictions.")
    lines.append(format_table(summary))
    if any(e["leaks"] for e in summary):
        lines.append(
            "Rows marked LEAKS let data of the test windows reach training: their protocol "
            "declares it or their audit found it (see the audit); their scores are inflated "
            "and not comparable to honest rows."
        )
    comparisons = context.get("comparisons")
    if comparisons and comparisons["pairs"]:
        lines += ["## Comparisons", comparison_notes(comparisons)]
        lines += [markdown(*table) for table in comparison_tables(comparisons)]
    lines += ["## Audit", format_audit(context["audit"], context["inflation"])]
    if context.get("estimate"):
        from .estimate import describe

        lines += ["## Cost", f"The last run's {describe(context['estimate'])}."]
    return "\n\n".join(lines) + "\n"


def versions() -> dict:
    """Versions of physioemo, Python and the libraries results depend on."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"physioemo": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def git_revision() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


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
        digests = {e.core_digest() for e in experiments}
        if len(digests) > 1:
            raise RunFolderError("the runs hold different experiments (their cores differ)")
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
        summary = _export(Path(out), target)
        write_report(Path(out), target, summary)
    finally:
        for store in stores:
            store.close()
    return {**summary, "copied": copied, "out": str(out)}
