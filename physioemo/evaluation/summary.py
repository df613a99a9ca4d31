"""Summaries of a run: per result row, scores on each subject's pooled test predictions, then
mean +- std over subjects, each beside its chance.

A result row is one (dataset, features, model, protocol, labels, dimension). Every test window
of the row's jobs is pooled with the other test windows of its subject (all folds), the scores
are computed per subject, and the row reports their mean and standard deviation, with the
number of subjects. A row's chance on a metric is the highest expected score of a label-only
strategy (training majority, prior-matched or uniform guess) under the same folds (`chance`);
it beats chance on that metric when its mean is above and a one-sided Wilcoxon signed-rank
test over subjects says so (`statistics.above_chance`). With permutations, the row's p-value
and one per subject (`metrics.permutation_p_values`), Holm-corrected over the subjects.
"""

from __future__ import annotations

import numpy as np

from . import chance, metrics, statistics

ROW_KEYS = ("dataset", "features", "model", "protocol", "labels", "dimension")
#: scores kept per subject ("per_subject") and per fold ("per_fold"), for the report's charts
#: and the comparisons between rows
PER_SUBJECT = ("balanced_accuracy", "macro_f1", "accuracy", "weighted_f1", "kappa")
#: arrays a job's predictions may carry that describe the whole job, not one window each:
#: "attention" (n_classes, n_chans, n_chans), per true class of the test windows;
#: "train_counts" (n_classes,), the job's training windows per class
JOB_ARRAYS = ("attention", "train_counts")


def subject_scores(arrays: dict[str, np.ndarray], n_classes: int, ordinal: bool) -> dict:
    """Every score of one subject's pooled test predictions (`metrics.scores`)."""
    return metrics.scores(
        arrays["y_true"],
        arrays["y_pred"],
        arrays.get("proba"),
        n_classes=n_classes,
        ordinal=ordinal and "proba" in arrays,
        eda_true=arrays.get("eda_true"),
        eda_pred=arrays.get("eda_pred"),
    )


def pooled(jobs: list[dict]) -> dict[str, np.ndarray]:
    """The jobs' per-window test predictions concatenated, with each window's job (its
    position in `jobs`, "job"); arrays about a whole job (`JOB_ARRAYS`) are left out."""
    parts = [job["predictions"] for job in jobs]
    arrays = {
        name: np.concatenate([p[name] for p in parts])
        for name in parts[0]
        if name not in JOB_ARRAYS and all(name in p for p in parts)
    }
    arrays["job"] = np.concatenate([np.full(len(p["y_true"]), i) for i, p in enumerate(parts)])
    return arrays


def train_counts(jobs: list[dict]) -> np.ndarray:
    """(n_jobs, n_classes) training windows per class of each job; a job stored without them
    (by a physioemo older than the chance of every label-only strategy) is refused."""
    found = []
    for job in jobs:
        counts = job["predictions"].get("train_counts")
        if counts is None:
            raise ValueError(
                f"job {job['key']} holds no training class counts (stored by an older physioemo): "
                "run the experiment again into a new run folder (or with --overwrite)"
            )
        found.append(np.asarray(counts, dtype=np.int64))
    return np.stack(found)


def summarise(
    rows: list[dict], planned: list[dict] | None = None, permutations: int = 0, seed: int = 0
) -> list[dict]:
    """One entry per result row (`row_entry`), in table order.

    rows: finished jobs with their predictions (`Store.rows(predictions=True)` or the results
    of `experiment.cross_validate`), each with n_classes and ordinal. planned: every planned
    job (for "n_planned"). permutations: permutation p-values (0: none). seed: of the
    permutations and of the chance's Monte-Carlo."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in ROW_KEYS), []).append(row)
    expected: dict[tuple, int] = {}
    for job in planned or []:
        key = tuple(job[k] for k in ROW_KEYS)
        expected[key] = expected.get(key, 0) + 1
    return [
        row_entry(groups[key], expected.get(key, len(groups[key])), permutations, seed)
        for key in sorted(groups, key=_order)
    ]


def row_entry(jobs: list[dict], n_planned: int, permutations: int = 0, seed: int = 0) -> dict:
    """The summary of one result row's jobs: identity, leaks (declared), n_subjects, n_jobs,
    n_planned; per score its mean and std over subjects ("<score>", "<score>_std"); "chance",
    "chance_strategy", "beats_chance" and "beats_chance_p" (metric -> value, strategy, bool,
    one-sided Wilcoxon p); "per_subject" (subject names, their `PER_SUBJECT` scores and
    "chance": metric -> list), "per_fold" (`fold_scores`); with permutations "p_value",
    "p_metric", "subjects_significant" and per subject "p_value" and "p_holm"."""
    arrays = pooled(jobs)
    counts = train_counts(jobs)
    subjects = np.unique(arrays["subject"])
    n_classes, ordinal = jobs[0]["n_classes"], bool(jobs[0]["ordinal"])
    per_subject, strategies = [], []
    ordinal = ordinal and "proba" in arrays
    for subject in subjects:
        part = {k: v[arrays["subject"] == subject] for k, v in arrays.items()}
        per_subject.append(subject_scores(part, n_classes, ordinal))
        strategies.append(
            chance.strategy_scores(part["y_true"], part["job"], counts, ordinal, seed)
        )
    entry = {k: jobs[0][k] for k in ROW_KEYS}
    entry.update(
        leaks=any(j["leaks"] for j in jobs),
        n_subjects=int(subjects.size),
        n_jobs=len(jobs),
        n_planned=n_planned,
        epoch0_kept=sum(j["report"].get("epoch_kept") == 0 for j in jobs),
    )
    for score in per_subject[0]:
        values = [s[score] for s in per_subject]
        entry[score] = float(np.mean(values))
        entry[f"{score}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else None
    found = chance.row_chance(strategies)
    entry.update(against_chance(per_subject, found))
    entry["per_subject"] = {
        "subject": subjects.astype(str).tolist(),
        **{score: [s[score] for s in per_subject] for score in PER_SUBJECT},
        "chance": found["per_subject"],
    }
    entry["per_fold"] = fold_scores(jobs)
    if permutations:
        entry.update(significance(arrays, entry["per_subject"], permutations, seed))
    return entry


def against_chance(per_subject: list[dict], found: dict) -> dict:
    """A row's "chance" and "chance_strategy" (`chance.row_chance`'s `found`), and per metric
    whether its subjects' scores beat their chance ("beats_chance") with the one-sided
    Wilcoxon p ("beats_chance_p"; `statistics.above_chance`)."""
    tested = {
        metric: statistics.above_chance([s[metric] for s in per_subject], values)
        for metric, values in found["per_subject"].items()
    }
    return {
        "chance": found["chance"],
        "chance_strategy": found["strategy"],
        "beats_chance": {metric: beats for metric, (beats, _) in tested.items()},
        "beats_chance_p": {metric: p for metric, (_, p) in tested.items()},
    }


def fold_scores(jobs: list[dict]) -> dict[str, list]:
    """Each job's own scores: "fold" (fold index and held-out subjects, "3:s01"), "n_train",
    "n_test" and its `PER_SUBJECT` scores on its test windows, lists in the jobs' order."""
    found = {"fold": [f"{j['fold']}:{j['subjects']}" for j in jobs]}
    found["n_train"] = [int(j["n_train"]) for j in jobs]
    found["n_test"] = [int(j["n_test"]) for j in jobs]
    for score in PER_SUBJECT:
        found[score] = [
            metrics.confusion_score(
                j["predictions"]["y_true"], j["predictions"]["y_pred"], j["n_classes"], score
            )
            for j in jobs
        ]
    return found


def significance(arrays: dict, per_subject: dict, permutations: int, seed: int) -> dict:
    """The row's permutation p-value and its subjects' (`metrics.permutation_p_values`, of
    `metrics.PERMUTATION_METRIC`), Holm-corrected over the subjects: "p_value", "p_metric",
    "subjects_significant" (adjusted p < `statistics.ALPHA`); per subject (added to
    `per_subject`) "p_value" and "p_holm"."""
    parts = zip(arrays["subject"], arrays["session"], arrays["trial"], strict=True)
    trials = np.array([f"{subject}/{session}/{trial}" for subject, session, trial in parts])
    pooled_p, subject_p = metrics.permutation_p_values(
        arrays["y_true"], arrays["y_pred"], trials, arrays["subject"], permutations, seed=seed
    )
    adjusted = statistics.holm(subject_p)
    per_subject.update(p_value=subject_p.tolist(), p_holm=adjusted.tolist())
    return {
        "p_value": float(pooled_p),
        "p_metric": metrics.PERMUTATION_METRIC,
        "subjects_significant": int(np.sum(adjusted < statistics.ALPHA)),
    }


def _order(key):
    dataset, features, model, protocol, labels, dimension = key
    rank = {"subject-dependent": 0, "subject-independent": 1}.get(protocol, 2)
    return dataset, labels, dimension, rank, protocol, model, features


#: the headline table's scores: (column, score key)
HEADLINE = (
    ("balanced acc. %", "balanced_accuracy"),
    ("macro-F1 %", "macro_f1"),
    ("accuracy %", "accuracy"),
)
#: extra tables: (title, rows that have it, [(column, score key)])
EXTRA_TABLES = (
    (
        "HiSTN's ordinal metrics (as defined; the authors' code in parentheses; chance and † "
        "for the metrics as defined)",
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
#: the mark of a score that does not beat its chance, and what it means
NOT_ABOVE = "†"
CHANCE_NOTE = (
    "Mean ± std over subjects. Chance: per metric, the highest expected score of a label-only "
    "guess (the training majority, a guess matched to the training prior, a uniform guess) "
    f"under the same folds. {NOT_ABOVE} marks a score not above its chance (mean at or under "
    "it, or not significantly above it over subjects: one-sided Wilcoxon signed-rank, "
    f"p ≥ {statistics.ALPHA})."
)
P_NOTE = (
    " p: a permutation test of balanced accuracy, trial labels shuffled within each subject and "
    "predictions kept; its null, predictions that carry no information about the labels, "
    "holds for every label-only guess, and its mean is about the balanced-accuracy chance. "
    f"subjects p < {statistics.ALPHA} (Holm): how many subjects pass the same test on their "
    "own, Holm-corrected over the row's subjects."
)


def _cell(entry: dict, score: str, percent: bool = True) -> str:
    mean, std = entry.get(score), entry.get(f"{score}_std")
    if mean is None:
        return "-"
    scale, digits = (100, 1) if percent else (1, 3)
    text = f"{scale * mean:.{digits}f}" + ("" if std is None else f" ± {scale * std:.{digits}f}")
    if score in HISTN_CODE and entry.get(HISTN_CODE[score]) is not None:
        text += f" ({scale * entry[HISTN_CODE[score]]:.{digits}f})"
    if entry.get("beats_chance", {}).get(score) is False:
        text += f" {NOT_ABOVE}"
    return text


def tables(summary: list[dict]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The summary as tables of text cells, (title, header, rows): the headline scores in %
    as mean ± std over subjects with their chance (title ""; `notes` says what chance, the
    mark and p mean), then HiSTN's ordinal metrics and the PINN's EDA scores for the rows that
    have them. Markdown (`format_table`) and the HTML report render these."""
    varying = [k for k in ("dataset", "features", "labels") if len({e[k] for e in summary}) > 1]
    p_values = any("p_value" in e for e in summary)
    found = [("", *_cells(summary, varying, HEADLINE, p_values))]
    for extra_title, marker, extra in EXTRA_TABLES:
        rows = [e for e in summary if e.get(marker) is not None]
        if rows:
            found.append((extra_title, *_cells(rows, varying, extra, False)))
    return found


def notes(summary: list[dict]) -> str:
    """What the tables' chance, mark and p-values mean (one paragraph)."""
    chance = any(isinstance(e.get("chance"), dict) for e in summary)
    p_values = any("p_value" in e for e in summary)
    return (CHANCE_NOTE if chance else "Mean ± std over subjects.") + (P_NOTE if p_values else "")


def format_table(summary: list[dict]) -> str:
    """Markdown tables of the summary (`tables`), then their `notes`."""
    return "\n\n".join([*(markdown(*table) for table in tables(summary)), notes(summary)])


def markdown(title: str, head: list[str], rows: list[list[str]]) -> str:
    """One table of text cells as Markdown, after its title (none when empty); a "|" in a
    cell is escaped."""
    lines = [head, ["---"] * len(head), *rows]
    lines = ["| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |" for cells in lines]
    return (f"{title}:\n\n" if title else "") + "\n".join(lines)


def _cells(summary, varying, columns, p_values) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one table: identity, the `columns`' cells, the chance of each column
    (when every row has it), p and significant subjects (p_values), subjects and folds."""
    keys = [key for _, key in columns]
    with_chance = all(  # summaries written before chance was a mapping show none
        isinstance(e.get("chance"), dict) and key in e["chance"] for e in summary for key in keys
    )
    head = [*varying, "dimension", "protocol", "model", *(name for name, _ in columns)]
    if with_chance:
        head.append("chance % (" + " / ".join(name.removesuffix(" %") for name, _ in columns) + ")")
    tested = ["p (balanced acc.)", f"subjects p < {statistics.ALPHA} (Holm)"]
    head += tested * p_values + ["subjects", "folds"]
    rows = []
    for e in summary:
        protocol = e["protocol"] + (" (LEAKS)" if e["leaks"] else "")
        folds = f"{e['n_jobs']}" + (
            "" if e["n_jobs"] == e["n_planned"] else f" of {e['n_planned']}"
        )
        cells = [str(e[k]) for k in varying] + [e["dimension"], protocol, e["model"]]
        cells += [_cell(e, key, percent=not key.startswith("eda")) for key in keys]
        if with_chance:
            cells.append(" / ".join(f"{100 * e['chance'][key]:.1f}" for key in keys))
        if p_values:
            found = "p_value" in e
            cells.append(f"{e['p_value']:.3g}" if found else "-")
            cells.append(f"{e['subjects_significant']} of {e['n_subjects']}" if found else "-")
        cells += [str(e["n_subjects"]), folds]
        rows.append(cells)
    return head, rows
