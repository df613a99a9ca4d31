"""The report of a run folder: ``report.html``, self-contained (every figure embedded as a PNG
data URI under its numbered caption), or ``report.pdf`` (one PDF of the numbered tables and
figures, for a supplement); either way every figure as PNG, SVG and PDF in ``figures/``.

Sections (docs/report.md says what each shows): where the data came from; the result tables
with chance and p-values; paired comparisons of the rows with a critical-difference diagram;
the leakage audit and the inflation of leaky protocols over honest ones; each paper protocol
beside its honest counterpart and the published figure; per-subject scores with chance;
confusion matrices; band-feature topomaps per class (MNE); RBTransformer attention per class;
training curves; every job of the store.

Everything comes from the run folder's store (`experiment.store.Store`): the predictions of
its jobs and what the plan kept in its meta (audits, class names, per-class band means), so no
dataset is read. The figures are drawn by `plots`, numbered and saved by `figures.Figures`;
each caption says what is plotted, its unit, n and what an error bar or band is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import plots
from .audit import audit_tables
from .comparisons import comparison_tables
from .comparisons import notes as comparison_notes
from .figures import Figures, html_table, slug, write_pdf
from .figures import text as _text
from .summary import ROW_KEYS, notes, pooled, tables

#: the report's file name per format
REPORTS = {"html": "report.html", "pdf": "report.pdf"}
FIGURES = "figures"


# ----------------------------------------------------------------------------- the page
def write_report(out, store, exported: dict, format: str = "html") -> Path:
    """Write ``report.html`` (format "html") or ``report.pdf`` ("pdf"), and ``figures/``,
    into the run folder `out`; returns the report's path. store: the folder's open `Store`;
    exported: what `experiment.export.write_exports` returned (summary, audit, inflation,
    comparisons)."""
    out = Path(out)
    figures = Figures(out / FIGURES)
    rows = store.rows(predictions=True)
    summary, audits, pairs = exported["summary"], exported["audit"], exported["inflation"]
    classes, class_means = store.get("classes", {}), store.get("class_means", {})
    sections = [
        ("Results", results_section(figures, summary)),
        ("Comparisons", comparisons_section(figures, exported.get("comparisons"))),
        ("Leakage audit", audit_section(figures, audits, pairs)),
        ("Paper protocol beside the honest one", paper_section(figures, summary, pairs)),
        ("Per-subject scores", per_subject_section(figures, summary)),
        ("Confusion matrices", confusion_section(figures, summary, rows, classes)),
        ("Band features per class", topomap_section(figures, class_means)),
        ("Attention per class", attention_section(figures, summary, rows, class_means)),
        ("Training curves", curves_section(figures, summary, rows)),
        ("Every job", jobs_section(rows)),
    ]
    experiment = store.get("experiment") or {}
    title = f"physioemo report: {', '.join(experiment.get('datasets', []))}"
    header = header_lines(experiment, store.get("sources", {}), store.get("environment"))
    path = out / REPORTS[format]
    if format == "pdf":
        return write_pdf(path, title, [line for _, line in header], figures)
    paragraphs = "\n".join(f'<p class="{kind}">{_text(line)}</p>' for kind, line in header)
    path.write_text(page(title, paragraphs, sections), encoding="utf-8")
    return path


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1300px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } tr.leaks td { background: #fdecea; }
img { max-width: 100%; display: block; margin: 0.6em 0; }
figure { margin: 1em 0 1.6em; } figcaption { max-width: 60em; color: #333; }
.note { color: #555; } .warning { background: #fff4d6; padding: 0.5em 0.8em; }
details summary { cursor: pointer; color: #245; }
"""


def page(title: str, header: str, sections: list[tuple[str, str]]) -> str:
    """The whole HTML document: a title, the header, a table of contents and the sections."""
    contents = "".join(
        f'<li><a href="#{slug(name)}">{_text(name)}</a></li>' for name, body in sections if body
    )
    body = "".join(
        f'<h2 id="{slug(name)}">{_text(name)}</h2>\n{content}\n'
        for name, content in sections
        if content
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_text(title)}</title><style>{STYLE}</style></head><body>\n"
        f"<h1>{_text(title)}</h1>\n{header}\n<ul>{contents}</ul>\n{body}</body></html>\n"
    )


def header_lines(experiment: dict, sources: dict, environment: dict | None) -> list:
    """The header as (kind, text) paragraphs, kind "warning" or "note": where the data came
    from (synthetic or files), what ran, the versions and the machine."""
    lines = []
    for dataset, source in sources.items():
        if not source.get("synthetic"):
            lines.append(("note", f"{dataset}: files at {source['root']}"))
            continue
        warning = (
            f"{dataset}: synthetic data (physioemo's simulator written in the dataset's file "
            f"format), not the real {dataset.upper()}; scores say how the pipeline behaves, "
            "not how the published models do."
        )
        lines.append(("warning", warning))
    if experiment:
        seed = experiment.get("seed")
        settings = [f"profile {experiment.get('profile')}"]
        settings.append("each protocol's and preset's own seed" if seed is None else f"seed {seed}")
        settings += [f"{key} {experiment[key]}" for key in ("n_splits", "permutations")]
        lines.append(("note", f"Experiment: {', '.join(settings)}."))
    if environment:
        versions = ", ".join(f"{name} {v}" for name, v in environment["versions"].items())
        revision = environment.get("git_revision") or "unknown"
        machine = environment.get("machine") or environment.get("host") or "unknown"
        lines.append(("note", f"Versions: {versions}; git revision {revision}; machine {machine}."))
    return lines


def results_section(figures: Figures, summary: list[dict]) -> str:
    if not summary:
        return "<p>No job has finished yet.</p>"
    (_, head, rows), *extra = tables(summary)
    caption = (
        f"Scores (%) on each subject's pooled test predictions, per result row. {notes(summary)}"
        " Rows marked LEAKS come from protocols that declare a leak or whose audit found one."
    )
    return figures.table(caption, head, rows) + "".join(figures.table(*t) for t in extra)


def comparisons_section(figures: Figures, comparisons: dict | None) -> str:
    """The paired comparisons of the rows and one critical-difference diagram per target."""
    if not comparisons or not comparisons["pairs"]:
        return ""
    parts = [f"<p>{_text(comparison_notes(comparisons))}</p>"]
    for title, head, rows in comparison_tables(comparisons):
        parts.append(figures.table(title or "Paired comparisons of the rows.", head, rows))
    metric = comparisons["metric"].replace("_", " ")
    for ranked in comparisons["ranks"]:
        name = " ".join(ranked["target"].values())
        heading = f"{name}: mean rank of {metric} over {ranked['subjects']} subjects"
        figure = plots.critical_difference(
            ranked["labels"], ranked["mean_ranks"], ranked["cd"], heading
        )
        caption = (
            f"Critical-difference diagram, {name}: each result row at its mean rank of {metric} "
            f"over the n = {ranked['subjects']} subjects (1: best, left); red bar: Nemenyi's "
            f"critical difference (CD = {ranked['cd']:.2f} ranks, alpha = "
            f"{comparisons['alpha']}); a thick line joins rows whose mean ranks differ by less "
            "than CD (not told apart)."
        )
        parts.append(figures.embed(figure, f"critical difference {name}", caption))
    return "".join(parts)


def audit_section(figures: Figures, audits: dict, pairs: list[dict]) -> str:
    if not audits:
        return "<p>No audit in this run folder (written by an older physioemo).</p>"
    gap = next(iter(audits.values()))["gap_seconds"]
    titles = iter(
        (
            "Leakage audit, counted over all folds of each protocol on its feature set and "
            "labels: trials with windows on both sides of a fold, subjects on both sides, test "
            f"windows within {gap:g} s of a training window of their own trial, inputs that "
            "proxy the label, and steps fitted on windows that include test windows.",
            "Inflation: each leaky row beside the honest row of the same data, labels, "
            "dimension and model, in points.",
        )
    )
    parts = [
        figures.table(title or next(titles, ""), head, rows)
        for title, head, rows in audit_tables(audits, pairs)
    ]
    declared = {e["protocol"]: e.get("declared_leak", "") for e in audits.values()}
    statements = "".join(
        f"<li><b>{_text(name)}</b>: {_text(leak)}</li>" for name, leak in declared.items() if leak
    )
    if statements:
        parts.append(f"<p>What each leaky protocol declares:</p><ul>{statements}</ul>")
    return "".join(parts)


# ----------------------------------------------------------------------------- figures
def _by(entries: list[dict], keys: tuple[str, ...]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for entry in entries:
        groups.setdefault(tuple(entry[k] for k in keys), []).append(entry)
    return groups


def _key(entry: dict) -> tuple:
    """A summary entry's or job row's result row: its `ROW_KEYS` values."""
    return tuple(entry[k] for k in ROW_KEYS)


TARGET = ("dataset", "labels", "dimension")


def _subjects(entries: list[dict]) -> str:
    """ "n = 5 subjects" (or "n = 4-5 subjects per row") of summary entries."""
    counts = sorted({e["n_subjects"] for e in entries})
    if len(counts) == 1:
        return f"n = {counts[0]} subjects"
    return f"n = {counts[0]}-{counts[-1]} subjects per row"


def paper_section(figures: Figures, summary: list[dict], pairs: list[dict]) -> str:
    """Bars of each leaky row and its honest counterpart on the published metric (accuracy
    where the papers published none), each bar's own chance and the published figure marked."""
    if not pairs:
        return ""
    entries = {_key(e): e for e in summary}
    compared = [(entries[_key(pair["leaky"])], entries[_key(pair["honest"])]) for pair in pairs]
    caption = (
        "Each leaky protocol (red) beside the honest protocol it is compared with (blue) on the "
        "same data, labels and model, scored in % on the metric the paper published (accuracy "
        "where it published none; named under each pair with the number of subjects n of the "
        "leaky / honest row). Bars: mean over subjects of each subject's pooled test "
        "predictions; error bars: ± 1 standard deviation over subjects; dashed line over each "
        "bar: that row's own chance on the metric (the best label-only guess under its folds); "
        "diamond: the published figure (for the real dataset)."
    )
    return figures.embed(plots.paper_bars(compared), "paper-vs-honest", caption)


def per_target(figures: Figures, summary: list[dict], kind: str, draw, caption, **layout) -> str:
    """One figure per label target (dataset, labels, dimension) under its heading, one panel
    per result row drawn by ``draw(axis, entry)`` (which may return an image: then one
    colour bar, `layout["colorbar"]` its label); the first panel carries the legend when
    `draw` labelled anything. caption(name, entries): the figure's caption. layout: else
    `plots.grid` options."""
    label = layout.pop("colorbar", None)
    parts = []
    for target, entries in _by(summary, TARGET).items():
        figure, axes = plots.grid(len(entries), **layout)
        images = [draw(axis, entry) for axis, entry in zip(axes, entries, strict=True)]
        if label and images[-1] is not None:
            figure.colorbar(images[-1], ax=axes, shrink=0.8, label=label)
        if axes[0].get_legend_handles_labels()[1]:
            axes[0].legend(fontsize=7, loc="lower left")
        name = " ".join(target)
        embedded = figures.embed(figure, f"{kind} {name}", caption(name, entries))
        parts.append(f"<h3>{_text(name)}</h3>" + embedded)
    return "".join(parts)


def per_subject_section(figures: Figures, summary: list[dict]) -> str:
    def caption(name, entries):
        return (
            f"Balanced accuracy (%) of each subject's pooled test predictions (all folds), "
            f"{name}, one panel per result row ({_subjects(entries)}); red line on each bar: "
            "that subject's chance, the row's best label-only guess scored on the subject's own "
            "folds. One value per subject, so no error bars."
        )

    return per_target(figures, summary, "subjects", plots.subject_scores, caption)


def confusion_section(figures: Figures, summary: list[dict], rows: list[dict], classes) -> str:
    jobs = _by(rows, ROW_KEYS)

    def draw(axis, entry):
        arrays = pooled(jobs[_key(entry)])
        names = classes.get("/".join(str(entry[k]) for k in TARGET))
        return plots.confusion(axis, arrays["y_true"], arrays["y_pred"], names, plots.title(entry))

    def caption(name, entries):
        return (
            f"Confusion matrices, {name}, one per result row, over all test windows of all "
            "folds (n windows in each title). Rows: true class; columns: predicted class; each "
            "cell: the fraction of the true class's windows (rows sum to 1) and, in brackets, "
            "their count; colour: the fraction (0-1)."
        )

    layout = {"columns": 4, "panel": (3.8, 3.6), "colorbar": "fraction of the true class"}
    return per_target(figures, summary, "confusion", draw, caption, **layout)


def topomap_section(figures: Figures, class_means: dict) -> str:
    parts = []
    for key, means in sorted(class_means.items()):
        found = plots.topomaps(means)
        if isinstance(found, str):
            parts.append(f"<p>{_text(key)}: {_text(found)}</p>")
            continue
        name = key.replace("/", " ")
        counts = zip(means["class_names"], means.get("counts", []), strict=False)
        what = (
            f"Mean band feature of each electrode ({means.get('recipe') or 'band'} recipe, in "
            "its unit, e.g. differential entropy in nats) over the windows of each class ("
            + ", ".join(f"{label}: n = {n}" for label, n in counts)
            + f" windows), {name}; rows: classes, columns: bands"
        )
        where = "Positions: MNE's template 10-05 head (SEED's CB1/CB2 at PO9/PO10)."
        absolute = f"{what}; one colour scale per band. {where}"
        deviation = f"{what}; each class minus the mean of the classes, one scale per band. {where}"
        parts.append(
            f"<h3>{_text(name)}</h3>"
            + figures.embed(found[0], f"topomap {key}", absolute)
            + figures.embed(found[1], f"topomap deviation {key}", deviation)
        )
    return "".join(parts)


def attention_section(figures: Figures, summary: list[dict], rows, class_means: dict) -> str:
    jobs = _by([r for r in rows if "attention" in r["predictions"]], ROW_KEYS)
    parts = []
    for entry in summary:
        members = jobs.get(_key(entry))
        if not members:
            continue
        maps, counts = class_attention(members)
        means = class_means.get("/".join(entry[k] for k in ("dataset", "features", *TARGET[1:])))
        names = (means or {}).get("ch_names") or [str(i) for i in range(maps.shape[1])]
        classes = (means or {}).get("class_names") or [str(c) for c in range(len(maps))]
        title = plots.title(entry).replace("\n", ", ") + f", {entry['dimension']}"
        caption = (
            f"Attention between the {len(names)} electrodes of {title}: the weight (0-1; each "
            "row sums to 1) of each query electrode (row) on each key electrode (column), "
            "averaged over heads, blocks and the test windows of each true class ("
            + ", ".join(f"{label}: n = {n}" for label, n in zip(classes, counts, strict=True))
            + f" windows), pooled over the {len(members)} folds; one colour scale."
        )
        figure = plots.attention(maps, names, classes, title)
        parts.append(figures.embed(figure, f"attention {title}", caption))
    return "".join(parts)


def class_attention(jobs: list[dict]) -> tuple[np.ndarray, list[int]]:
    """(n_classes, N, N): the jobs' per-class attention averaged with the number of test
    windows of each class in each job as weights; and those numbers summed over the jobs."""
    total = counts = 0
    for job in jobs:
        n = np.bincount(job["predictions"]["y_true"], minlength=job["n_classes"])[:, None, None]
        total = total + job["predictions"]["attention"] * n
        counts = counts + n
    return total / np.maximum(counts, 1), [int(n) for n in np.ravel(counts)]


def curves_section(figures: Figures, summary: list[dict], rows: list[dict]) -> str:
    jobs = _by([r for r in rows if r["report"].get("history")], ROW_KEYS)
    entries = [e for e in summary if _key(e) in jobs]
    if not entries:
        trained = any(r["preset"] for r in rows)
        return "<p>The fit reports of these jobs hold no per-epoch history.</p>" if trained else ""
    figure, axes = plots.grid(len(entries))
    folds = sorted({len(jobs[_key(entry)]) for entry in entries})
    for axis, entry in zip(axes, entries, strict=True):
        reports = [job["report"] for job in jobs[_key(entry)]]
        plots.loss_curves(axis, reports, plots.title(entry) + f", {entry['dimension']}")
    axes[0].legend(fontsize=7)
    n = f"{folds[0]}" if len(folds) == 1 else f"{folds[0]}-{folds[-1]}"
    caption = (
        "Training (solid) and validation (dashed) loss per epoch of each result row (the "
        "preset's loss, e.g. cross-entropy in nats): the median over the folds that ran each "
        f"epoch (n = {n} folds per row), band: the inter-quartile range over those folds; "
        "ticks at the bottom: the epoch each fold kept."
    )
    return figures.embed(figure, "training curves", caption)


def jobs_section(rows: list[dict]) -> str:
    if not rows:
        return ""
    head = ["key", *ROW_KEYS, "fold", "held out", "train", "test", "accuracy %"]
    head += ["epochs run", "epoch kept", "fit s"]
    cells = []
    for row in rows:
        p = row["predictions"]
        accuracy = 100 * float(np.mean(p["y_true"] == p["y_pred"]))
        report = row["report"]
        cells.append(
            [row["key"], *(str(row[k]) for k in ROW_KEYS), str(row["fold"]), row["subjects"]]
            + [str(row["n_train"]), str(row["n_test"]), f"{accuracy:.1f}"]
            + [str(report.get(k, "-")) for k in ("epochs_run", "epoch_kept")]
            + [f"{row['seconds_fit']:.2f}"]
        )
    table = html_table("", head, cells)
    return f"<details><summary>{len(rows)} jobs (click to show)</summary>{table}</details>"
