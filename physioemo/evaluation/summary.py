"""Summaries of a run: per result row, scores on each subject's pooled test predictions, then
mean +- std over subjects.

A result row is one (dataset, features, model, protocol, labels, dimension). Every test window
of the row's jobs is pooled with the other test windows of its subject (all folds), the scores
are computed per subject, and the row reports their mean and standard deviation, with the
number of subjects. "chance" is the accuracy of predicting the training majority class of each
window's own fold: the score a model reaches without learning anything from the inputs.
"""

from __future__ import annotations

import numpy as np

from . import metrics

ROW_KEYS = ("dataset", "features", "model", "protocol", "labels", "dimension")
#: scores kept per subject in each summary entry ("per_subject"), for the report's charts
PER_SUBJECT = ("accuracy", "balanced_accuracy", "chance")
#: arrays a job's predictions may carry that describe the whole job, not one window each:
#: "attention" (n_classes, n_chans, n_chans), per true class of the test windows
JOB_ARRAYS = ("attention",)


def subject_scores(arrays: dict[str, np.ndarray], n_classes: int, ordinal: bool) -> dict:
    """Every score of one subject's pooled test predictions (`metrics.scores`), with chance as
    the accuracy of each window's own fold's training majority class."""
    scores = metrics.scores(
        arrays["y_true"],
        arrays["y_pred"],
        arrays.get("proba"),
        n_classes=n_classes,
        ordinal=ordinal and "proba" in arrays,
        eda_true=arrays.get("eda_true"),
        eda_pred=arrays.get("eda_pred"),
    )
    scores["chance"] = float(np.mean(arrays["y_true"] == arrays["chance_pred"]))
    return scores


def pooled(jobs: list[dict]) -> dict[str, np.ndarray]:
    """The jobs' per-window test predictions concatenated, with each window's training
    majority class (arrays about a whole job, `JOB_ARRAYS`, are left out)."""
    parts = [job["predictions"] for job in jobs]
    arrays = {
        name: np.concatenate([p[name] for p in parts])
        for name in parts[0]
        if name not in JOB_ARRAYS and all(name in p for p in parts)
    }
    arrays["chance_pred"] = np.concatenate(
        [
            np.full(len(p["y_true"]), job["train_majority"])
            for job, p in zip(jobs, parts, strict=True)
        ]
    )
    return arrays


def summarise(
    rows: list[dict], planned: list[dict] | None = None, permutations: int = 0, seed: int = 0
) -> list[dict]:
    """One entry per result row: identity, leaks, n_subjects, n_jobs (and planned), per score
    its mean and std over subjects ("<score>" and "<score>_std"), "per_subject" (subject names
    and their `PER_SUBJECT` scores, lists in the same order), and with `permutations` the
    p-value of the row's pooled accuracy (`metrics.permutation_p_value`: trial labels permuted
    within each subject, predictions kept).

    rows: finished jobs with their predictions (`Store.rows(predictions=True)` or the results
    of `experiment.cross_validate`), each with n_classes and ordinal."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in ROW_KEYS), []).append(row)
    expected: dict[tuple, int] = {}
    for job in planned or []:
        key = tuple(job[k] for k in ROW_KEYS)
        expected[key] = expected.get(key, 0) + 1
    summary = []
    for key in sorted(groups, key=_order):
        jobs = groups[key]
        arrays = pooled(jobs)
        subjects = np.unique(arrays["subject"])
        n_classes, ordinal = jobs[0]["n_classes"], bool(jobs[0]["ordinal"])
        per_subject = [
            subject_scores(
                {k: v[arrays["subject"] == subject] for k, v in arrays.items()}, n_classes, ordinal
            )
            for subject in subjects
        ]
        entry = dict(zip(ROW_KEYS, key, strict=True))
        entry.update(
            leaks=any(j["leaks"] for j in jobs),
            n_subjects=int(subjects.size),
            n_jobs=len(jobs),
            n_planned=expected.get(key, len(jobs)),
            epoch0_kept=sum(j["report"].get("epoch_kept") == 0 for j in jobs),
        )
        for score in per_subject[0]:
            values = [s[score] for s in per_subject]
            entry[score] = float(np.mean(values))
            entry[f"{score}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else None
        entry["per_subject"] = {
            "subject": subjects.astype(str).tolist(),
            **{score: [s[score] for s in per_subject] for score in PER_SUBJECT},
        }
        if permutations:
            parts = zip(arrays["subject"], arrays["session"], arrays["trial"], strict=True)
            trials = np.array([f"{subject}/{session}/{trial}" for subject, session, trial in parts])
            entry["p_value"] = metrics.permutation_p_value(
                arrays["y_true"],
                arrays["y_pred"],
                trials,
                arrays["subject"],
                permutations,
                seed=seed,
            )
        summary.append(entry)
    return summary


def _order(key):
    dataset, features, model, protocol, labels, dimension = key
    rank = {"subject-dependent": 0, "subject-independent": 1}.get(protocol, 2)
    return dataset, labels, dimension, rank, protocol, model, features


#: extra tables: (title, rows that have it, [(column, score key)])
EXTRA_TABLES = (
    (
        "HiSTN's ordinal metrics (as defined; the authors' code in parentheses)",
        "seq2hr",
        [
            ("weighted F1 %", "weighted_f1"),
            ("Seq2HR %", "seq2hr"),
            ("Tri-P %", "tri_p"),
            ("top-2 %", "top2_accuracy"),
        ],
    ),
    ("EDA prediction", "eda_rmse", [("EDA RMSE", "eda_rmse"), ("Pearson r", "eda_pearson_r")]),
)
#: the authors' code's variant of an ordinal metric
HISTN_CODE = {
    "seq2hr": "seq2hr_histn_code",
    "tri_p": "tri_p_histn_code",
    "top2_accuracy": "top2_histn_code",
}


def _cell(entry: dict, score: str, percent: bool = True) -> str:
    mean, std = entry.get(score), entry.get(f"{score}_std")
    if mean is None:
        return "-"
    scale, digits = (100, 1) if percent else (1, 3)
    text = f"{scale * mean:.{digits}f}" + ("" if std is None else f" ± {scale * std:.{digits}f}")
    if score in HISTN_CODE and entry.get(HISTN_CODE[score]) is not None:
        text += f" ({scale * entry[HISTN_CODE[score]]:.{digits}f})"
    return text


def tables(summary: list[dict]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The summary as tables of text cells, (title, header, rows): the scores in % as mean ±
    std over subjects (title ""), then HiSTN's ordinal metrics and the PINN's EDA scores for the
    rows that have them. Markdown (`format_table`) and the HTML report render these."""
    varying = [k for k in ("dataset", "features", "labels") if len({e[k] for e in summary}) > 1]
    p_values = any("p_value" in e for e in summary)
    columns = [("accuracy %", "accuracy"), ("balanced acc. %", "balanced_accuracy")]
    columns += [("macro-F1 %", "macro_f1"), ("chance %", "chance")]
    found = [("", *_cells(summary, varying, columns, p_values))]
    for title, marker, extra in EXTRA_TABLES:
        rows = [e for e in summary if e.get(marker) is not None]
        if rows:
            found.append((title, *_cells(rows, varying, extra, False)))
    return found


def format_table(summary: list[dict]) -> str:
    """Markdown tables of the summary (`tables`)."""
    return "\n\n".join(markdown(*table) for table in tables(summary))


def markdown(title: str, head: list[str], rows: list[list[str]]) -> str:
    """One table of text cells as Markdown, after its title (none when empty); a "|" in a
    cell is escaped."""
    lines = [head, ["---"] * len(head), *rows]
    lines = ["| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |" for cells in lines]
    return (f"{title}:\n\n" if title else "") + "\n".join(lines)


def _cells(summary, varying, columns, p_values) -> tuple[list[str], list[list[str]]]:
    head = [*varying, "dimension", "protocol", "model", *(name for name, _ in columns)]
    head += ["p"] * p_values + ["subjects", "folds"]
    rows = []
    for e in summary:
        protocol = e["protocol"] + (" (LEAKS)" if e["leaks"] else "")
        folds = f"{e['n_jobs']}" + (
            "" if e["n_jobs"] == e["n_planned"] else f" of {e['n_planned']}"
        )
        cells = [str(e[k]) for k in varying] + [e["dimension"], protocol, e["model"]]
        cells += [_cell(e, key, percent=not key.startswith("eda")) for _, key in columns]
        if p_values:
            cells.append(f"{e['p_value']:.3g}" if "p_value" in e else "-")
        cells += [str(e["n_subjects"]), folds]
        rows.append(cells)
    return head, rows
