"""The report of a run folder: ``report.html``, self-contained (every figure embedded as a PNG
data URI), and the same figures as PNG files in the folder's ``figures/``.

Sections (docs/report.md says what each shows): where the data came from; the result tables
with chance and p-values; paired comparisons of the rows with a critical-difference diagram;
the leakage audit and the inflation of leaky protocols over honest ones; each paper protocol
beside its honest counterpart and the published figure; per-subject scores with chance;
confusion matrices; band-feature topomaps per class (MNE); RBTransformer attention per class;
training curves; every job of the store.

Everything comes from the run folder's store (`experiment.store.Store`): the predictions of
its jobs and what the plan kept in its meta (audits, class names, per-class band means), so no
dataset is read. The figures are drawn by `plots`.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import numpy as np

from . import plots
from .audit import audit_tables
from .comparisons import comparison_tables
from .comparisons import notes as comparison_notes
from .summary import ROW_KEYS, notes, pooled, tables

REPORT, FIGURES = "report.html", "figures"
DPI = 100


# ----------------------------------------------------------------------------- the page
def write_report(out, store, exported: dict) -> Path:
    """Write ``report.html`` and ``figures/*.png`` into the run folder `out` and return the
    page's path. store: the folder's open `Store`; exported: what `experiment.run.export`
    returned (summary, audit, inflation, comparisons)."""
    out = Path(out)
    figures = Figures(out / FIGURES)
    rows = store.rows(predictions=True)
    summary, audits, pairs = exported["summary"], exported["audit"], exported["inflation"]
    classes, class_means = store.get("classes", {}), store.get("class_means", {})
    sections = [
        ("Results", results_section(summary)),
        ("Comparisons", comparisons_section(figures, exported.get("comparisons"))),
        ("Leakage audit", audit_section(audits, pairs)),
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
    header = header_section(experiment, store.get("sources", {}), store.get("environment"))
    path = out / REPORT
    path.write_text(page(title, header, sections), encoding="utf-8")
    return path


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1300px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } tr.leaks td { background: #fdecea; }
img { max-width: 100%; display: block; margin: 0.6em 0; }
.note { color: #555; } .warning { background: #fff4d6; padding: 0.5em 0.8em; }
details summary { cursor: pointer; color: #245; }
"""


def page(title: str, header: str, sections: list[tuple[str, str]]) -> str:
    """The whole HTML document: a title, the header, a table of contents and the sections."""
    contents = "".join(
        f'<li><a href="#{_slug(name)}">{_text(name)}</a></li>' for name, body in sections if body
    )
    body = "".join(
        f'<h2 id="{_slug(name)}">{_text(name)}</h2>\n{content}\n'
        for name, content in sections
        if content
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_text(title)}</title><style>{STYLE}</style></head><body>\n"
        f"<h1>{_text(title)}</h1>\n{header}\n<ul>{contents}</ul>\n{body}</body></html>\n"
    )


def header_section(experiment: dict, sources: dict, environment: dict | None) -> str:
    """Where the data came from (synthetic or files), what ran, and the versions."""
    parts = []
    for dataset, source in sources.items():
        if source.get("synthetic"):
            parts.append(
                f'<p class="warning">{_text(dataset)}: synthetic data (physioemo\'s simulator '
                f"written in the dataset's file format), not the real {_text(dataset.upper())}; "
                "scores say how the pipeline behaves, not how the published models do.</p>"
            )
        else:
            parts.append(f"<p>{_text(dataset)}: files at <code>{_text(source['root'])}</code></p>")
    if experiment:
        settings = ", ".join(
            f"{key} {_text(experiment[key])}"
            for key in ("profile", "seed", "n_splits", "permutations")
            if key in experiment
        )
        parts.append(f'<p class="note">Experiment: {settings}.</p>')
    if environment:
        versions = ", ".join(
            f"{name} {_text(version)}" for name, version in environment["versions"].items()
        )
        revision = environment.get("git_revision") or "unknown"
        parts.append(f'<p class="note">Versions: {versions}; git revision {_text(revision)}.</p>')
    return "\n".join(parts)


def results_section(summary: list[dict]) -> str:
    if not summary:
        return "<p>No job has finished yet.</p>"
    intro = (
        f"<p>Scores on each subject's pooled test predictions. {_text(notes(summary))} Rows "
        "marked LEAKS come from protocols that declare a leak or whose audit found one.</p>"
    )
    return intro + "".join(html_table(*table) for table in tables(summary))


def comparisons_section(figures: Figures, comparisons: dict | None) -> str:
    """The paired comparisons of the rows and one critical-difference diagram per target."""
    if not comparisons or not comparisons["pairs"]:
        return ""
    parts = [f"<p>{_text(comparison_notes(comparisons))}</p>"]
    parts += [html_table(*table) for table in comparison_tables(comparisons)]
    for ranked in comparisons["ranks"]:
        name = " ".join(ranked["target"].values())
        heading = f"{name}: mean rank of {comparisons['metric']} over {ranked['subjects']} subjects"
        figure = plots.critical_difference(
            ranked["labels"], ranked["mean_ranks"], ranked["cd"], heading
        )
        parts.append(figures.embed(figure, f"critical difference {name}", heading))
    return "".join(parts)


def audit_section(audits: dict, pairs: list[dict]) -> str:
    if not audits:
        return "<p>No audit in this run folder (written by an older physioemo).</p>"
    gap = next(iter(audits.values()))["gap_seconds"]
    intro = (
        "<p>Counted over all folds of each protocol on its feature set and labels: trials with "
        "windows on both sides of a fold, subjects on both sides, test windows within "
        f"{gap:g} s of a training window of their own trial, inputs that proxy the label, and "
        "steps fitted on windows that include test windows.</p>"
    )
    declared = {e["protocol"]: e.get("declared_leak", "") for e in audits.values()}
    statements = "".join(
        f"<li><b>{_text(name)}</b>: {_text(leak)}</li>" for name, leak in declared.items() if leak
    )
    listed = f"<p>What each leaky protocol declares:</p><ul>{statements}</ul>" if statements else ""
    return intro + "".join(html_table(*table) for table in audit_tables(audits, pairs)) + listed


def html_table(title: str, head: list[str], rows: list[list[str]]) -> str:
    """One table of text cells (`summary.tables`, `audit.audit_tables`); rows that mention
    LEAKS are shaded."""
    caption = f"<p><b>{_text(title)}</b></p>" if title else ""
    header = "".join(f"<th>{_text(cell)}</th>" for cell in head)
    lines = []
    for cells in rows:
        shade = ' class="leaks"' if any("LEAKS" in cell for cell in cells) else ""
        lines.append(f"<tr{shade}>" + "".join(f"<td>{_text(c)}</td>" for c in cells) + "</tr>")
    return f"{caption}<table><tr>{header}</tr>{''.join(lines)}</table>"


# ----------------------------------------------------------------------------- figures
class Figures:
    """Saves matplotlib figures as PNG files in `folder` (old PNGs there are removed first)
    and returns each as an embedded <img>."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
        self.names: set[str] = set()

    def embed(self, figure, name: str, alt: str) -> str:
        stem = candidate = _slug(name)
        number = 2
        while candidate in self.names:
            candidate, number = f"{stem}-{number}", number + 1
        stem = candidate
        self.names.add(stem)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
        data = buffer.getvalue()
        (self.folder / f"{stem}.png").write_bytes(data)
        encoded = base64.b64encode(data).decode("ascii")
        return f'<img src="data:image/png;base64,{encoded}" alt="{_text(alt)}">'


def _by(entries: list[dict], keys: tuple[str, ...]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for entry in entries:
        groups.setdefault(tuple(entry[k] for k in keys), []).append(entry)
    return groups


def _key(entry: dict) -> tuple:
    """A summary entry's or job row's result row: its `ROW_KEYS` values."""
    return tuple(entry[k] for k in ROW_KEYS)


TARGET = ("dataset", "labels", "dimension")


def paper_section(figures: Figures, summary: list[dict], pairs: list[dict]) -> str:
    """Bars of each leaky row and its honest counterpart on the published metric (accuracy
    where the papers published none), the published figure and chance marked."""
    if not pairs:
        return ""
    entries = {_key(e): e for e in summary}
    compared = [(entries[_key(pair["leaky"])], entries[_key(pair["honest"])]) for pair in pairs]
    figure = plots.paper_bars(compared)
    intro = (
        "<p>Each leaky protocol (red) beside the honest protocol it is compared with (blue) on "
        "the same data, labels and model, scored on the metric the paper published (accuracy "
        "where it published none); a diamond marks the published figure (for the real dataset), "
        "the dashed line the leaky row's chance on that metric (the best label-only guess).</p>"
    )
    return intro + figures.embed(figure, "paper-vs-honest", "paper protocol beside honest")


def per_target(figures: Figures, summary: list[dict], kind: str, draw, **layout) -> str:
    """One figure per label target (dataset, labels, dimension) under its heading, one panel
    per result row drawn by ``draw(axis, entry)``; the first panel carries the legend when
    `draw` labelled anything. layout: `plots.grid` options."""
    parts = []
    for target, entries in _by(summary, TARGET).items():
        figure, axes = plots.grid(len(entries), **layout)
        for axis, entry in zip(axes, entries, strict=True):
            draw(axis, entry)
        if axes[0].get_legend_handles_labels()[1]:
            axes[0].legend(fontsize=7, loc="lower left")
        name = " ".join(target)
        parts.append(f"<h3>{_text(name)}</h3>" + figures.embed(figure, f"{kind} {name}", name))
    return "".join(parts)


def per_subject_section(figures: Figures, summary: list[dict]) -> str:
    figures_html = per_target(figures, summary, "subjects", plots.subject_scores)
    intro = (
        "<p>Balanced accuracy of each subject's pooled test predictions; the red line on each "
        "bar is that subject's chance (the row's best label-only guess, scored on the "
        "subject's own folds).</p>"
    )
    return intro + figures_html if figures_html else ""


def confusion_section(figures: Figures, summary: list[dict], rows: list[dict], classes) -> str:
    jobs = _by(rows, ROW_KEYS)

    def draw(axis, entry):
        arrays = pooled(jobs[_key(entry)])
        names = classes.get("/".join(str(entry[k]) for k in TARGET))
        plots.confusion(axis, arrays["y_true"], arrays["y_pred"], names, plots.title(entry))

    figures_html = per_target(figures, summary, "confusion", draw, columns=4, panel=(3.6, 3.4))
    intro = (
        "<p>Rows: true class; columns: predicted; each row sums to 1 (all test windows of all "
        "folds).</p>"
    )
    return intro + figures_html if figures_html else ""


def topomap_section(figures: Figures, class_means: dict) -> str:
    parts = []
    for key, means in sorted(class_means.items()):
        found = plots.topomaps(means)
        if isinstance(found, str):
            parts.append(f"<p>{_text(key)}: {_text(found)}</p>")
            continue
        absolute, deviation = found
        parts.append(
            f"<h3>{_text(key.replace('/', ' '))}</h3>"
            + figures.embed(absolute, f"topomap {key}", f"{key} per class")
            + figures.embed(deviation, f"topomap deviation {key}", f"{key} minus class mean")
        )
    intro = (
        "<p>Mean band feature of each electrode over the windows of each class (recipe's unit, "
        "e.g. DE in nats or bits; one colour scale per band), then each class minus the mean "
        "of the classes. Positions: MNE's template 10-05 head (SEED's CB1/CB2 at PO9/PO10).</p>"
    )
    return intro + "".join(parts) if parts else ""


def attention_section(figures: Figures, summary: list[dict], rows, class_means: dict) -> str:
    jobs = _by([r for r in rows if "attention" in r["predictions"]], ROW_KEYS)
    parts = []
    for entry in summary:
        members = jobs.get(_key(entry))
        if not members:
            continue
        maps = class_attention(members)
        means = class_means.get("/".join(entry[k] for k in ("dataset", "features", *TARGET[1:])))
        names = (means or {}).get("ch_names") or [str(i) for i in range(maps.shape[1])]
        classes = (means or {}).get("class_names") or [str(c) for c in range(len(maps))]
        title = plots.title(entry).replace("\n", ", ") + f", {entry['dimension']}"
        figure = plots.attention(maps, names, classes, title)
        parts.append(figures.embed(figure, f"attention {title}", title))
    intro = (
        "<p>Attention between electrodes (query row, attended column) of the fitted network, "
        "averaged over heads, blocks and the test windows of each true class, pooled over "
        "folds.</p>"
    )
    return intro + "".join(parts) if parts else ""


def class_attention(jobs: list[dict]) -> np.ndarray:
    """(n_classes, N, N): the jobs' per-class attention averaged with the number of test
    windows of each class in each job as weights."""
    total = counts = 0
    for job in jobs:
        n = np.bincount(job["predictions"]["y_true"], minlength=job["n_classes"])[:, None, None]
        total = total + job["predictions"]["attention"] * n
        counts = counts + n
    return total / np.maximum(counts, 1)


def curves_section(figures: Figures, summary: list[dict], rows: list[dict]) -> str:
    jobs = _by([r for r in rows if r["report"].get("history")], ROW_KEYS)
    entries = [e for e in summary if _key(e) in jobs]
    if not entries:
        trained = any(r["preset"] for r in rows)
        return "<p>The fit reports of these jobs hold no per-epoch history.</p>" if trained else ""
    figure, axes = plots.grid(len(entries))
    for axis, entry in zip(axes, entries, strict=True):
        reports = [job["report"] for job in jobs[_key(entry)]]
        plots.loss_curves(axis, reports, plots.title(entry) + f", {entry['dimension']}")
    intro = (
        "<p>Loss per epoch of every fold (one colour per fold): training solid, validation "
        "dashed; a dot marks the epoch kept.</p>"
    )
    return intro + figures.embed(figure, "training curves", "training curves")


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


def _text(value) -> str:
    """Any value as HTML-escaped text (names read from files included)."""
    return html.escape(str(value), quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:120] or "figure"
