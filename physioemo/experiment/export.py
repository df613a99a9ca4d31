"""What a run folder holds, read back from its store: the exports (results.csv, summary.json,
summary.md), the report, the audit and the comparisons of its rows, and the environment a run
records.
"""

from __future__ import annotations

import contextlib
import csv
import json
import platform
import subprocess
from dataclasses import asdict
from pathlib import Path

from .._version import __version__
from .results import Results, per_subject_frame
from .spec import Experiment
from .store import Store, StoreError

STORE = "store.sqlite"
LIBRARIES = ("numpy", "scipy", "scikit-learn", "torch", "mne", "numba", "brainflow")
EXPORTS = (
    "results.csv",
    "per_subject.csv",
    "summary.json",
    "summary.md",
    "report.html",
    "report.pdf",
)


class RunFolderError(ValueError):
    """The run folder cannot take this experiment (another experiment, not writable, ...)."""


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
    """(Re)write the exports of a run folder from its store (`write_exports`)."""
    with open_existing(out) as store:
        return write_exports(Path(out), store)


def report(out, format: str = "html") -> Path:
    """(Re)write the exports and the report of a run folder from its store: report.html
    (format "html") or report.pdf ("pdf"), and figures/; returns the report's path."""
    from ..evaluation.report import REPORTS, write_report

    if format not in REPORTS:
        raise ValueError(f"report format {format!r}: use one of {', '.join(REPORTS)}")
    with open_existing(out) as store:
        return write_report(Path(out), store, write_exports(Path(out), store), format)


def audit(out) -> tuple[dict, list[dict]]:
    """The audits kept in a run folder's store and the inflation of its leaky rows over honest
    ones (`evaluation.audit.inflations`)."""
    from ..evaluation.audit import inflations

    with open_existing(out) as store:
        audits = store.get("audits", {})
        return audits, inflations(results_of(store).summary(permutations=0), audits)


def compare(out, metric: str | None = None) -> dict:
    """The paired comparisons of a run folder's rows on `metric` (default the headline,
    `evaluation.comparisons.COMPARE_METRIC`); nothing is written."""
    from ..evaluation.comparisons import COMPARE_METRIC, compare

    with open_existing(out) as store:
        seed = (store.get("experiment") or {}).get("seed") or 0
        return compare(results_of(store).summary(permutations=0), metric or COMPARE_METRIC, seed)


def load(out) -> Results:
    """A run folder read back: its finished jobs as `Results` (with its experiment, plan,
    audits, environment and sources), e.g. ``load(RUN).to_frame()``. RunFolderError when
    `out` is no run folder, StoreError when its store cannot be read."""
    with open_existing(out) as store:
        return results_of(store)


def results_of(store: Store) -> Results:
    """The finished jobs of an open store as `Results`."""
    return Results(
        store.rows(predictions=True),
        planned=store.planned(),
        experiment=stored_experiment(store),
        audits=store.get("audits", {}),
        environment=store.get("environment"),
        sources=store.get("sources", {}),
    )


def write_exports(out: Path, store: Store) -> dict:
    """Write results.csv, per_subject.csv, summary.json and summary.md of a run folder from
    its open store; returns its summary, audits, inflation and comparisons."""
    from ..evaluation.audit import inflations
    from ..evaluation.comparisons import compare

    results = results_of(store)
    summary = results.summary()
    _write_results(out / "results.csv", results)
    _write_frame(out / "per_subject.csv", per_subject_frame(summary))
    pairs = inflations(summary, results.audits)
    comparisons = compare(summary, seed=results.experiment.seed or 0)
    context = {
        "experiment": asdict(results.experiment),
        "environment": results.environment,
        "sources": results.sources,
        "runs": store.runs(),
        "summary": summary,
        "comparisons": comparisons,
        "audit": results.audits,
        "inflation": pairs,
        "estimate": store.get("estimate"),
    }
    (out / "summary.json").write_text(json.dumps(context, indent=2, default=str) + "\n")
    (out / "summary.md").write_text(summary_markdown(context))
    return {
        "summary": summary,
        "audit": results.audits,
        "inflation": pairs,
        "comparisons": comparisons,
    }


def _write_frame(path: Path, frame) -> None:
    """A DataFrame as CSV, numbers to 6 significant digits (the header alone when empty)."""
    frame.to_csv(path, index=False, float_format="%.6g")


#: scores of each fold's own test windows in results.csv
FOLD_SCORES = ("balanced_accuracy", "macro_f1", "accuracy")
#: fit report fields results.csv shows, after the job's own
REPORTED = ("epochs_run", "epoch_kept", "kept_because", "device", "precision", "resumed_from")


def _write_results(path: Path, rows: list[dict]) -> None:
    """results.csv: one line per stored job, its fields, its `FOLD_SCORES` and what its fit
    report says of epochs, device, precision and resuming (`REPORTED`)."""
    from ..evaluation.metrics import confusion_score

    fields = [c for c in rows[0] if c not in ("predictions", "report")] if rows else []
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*fields, *FOLD_SCORES, *REPORTED])
        writer.writeheader()
        for row in rows:
            p = row["predictions"]
            scores = {
                name: round(confusion_score(p["y_true"], p["y_pred"], row["n_classes"], name), 6)
                for name in FOLD_SCORES
            }
            epoch = {k: row["report"].get(k, "") for k in REPORTED}
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


def environment() -> dict:
    """Where and with what a run ran: "versions" (`versions`), "git_revision", "host" (the
    network name) and "machine" (`machine`)."""
    return {
        "versions": versions(),
        "git_revision": git_revision(),
        "host": platform.node(),
        "machine": machine(),
    }


def machine() -> str:
    """The machine in words: CPU model (Linux: /proc/cpuinfo; else what `platform` says),
    logical cores, memory and system, e.g. "Intel(R) Xeon(R) Processor, 2 cores, 23.5 GiB,
    Linux-6.1-x86_64"."""
    import os

    names = []
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            names = [
                line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")
            ]
    model = next(filter(None, names), None) or platform.processor() or platform.machine()
    parts = [model or "unknown CPU", f"{os.cpu_count() or '?'} cores"]
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        parts.append(f"{memory / 2**30:.1f} GiB")
    except (AttributeError, ValueError, OSError):
        pass
    return ", ".join([*parts, platform.platform(terse=True)])


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
