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
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

ROW_KEYS = ("dataset", "features", "model", "protocol", "labels", "dimension")
#: scores of every row, in table order
SCORES = ("accuracy", "balanced_accuracy", "macro_f1", "chance")


def subject_scores(arrays: dict[str, np.ndarray]) -> dict[str, float]:
    """Scores of one subject's pooled test predictions (y_true, y_pred, chance_pred, and for
    the PINN eda_true, eda_pred)."""
    y_true, y_pred = arrays["y_true"], arrays["y_pred"]
    scores = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "chance": float(accuracy_score(y_true, arrays["chance_pred"])),
    }
    if "eda_pred" in arrays:
        error = arrays["eda_pred"] - arrays["eda_true"]
        scores["eda_rmse"] = float(np.sqrt(np.mean(error**2)))
        scores["pearson_r"] = float(np.corrcoef(arrays["eda_pred"], arrays["eda_true"])[0, 1])
    return scores


def pooled(jobs: list[dict]) -> dict[str, np.ndarray]:
    """The jobs' test predictions concatenated, with each window's training majority class."""
    parts = [job["predictions"] for job in jobs]
    arrays = {
        name: np.concatenate([p[name] for p in parts])
        for name in parts[0]
        if all(name in p for p in parts)
    }
    arrays["chance_pred"] = np.concatenate(
        [
            np.full(len(p["y_true"]), job["train_majority"])
            for job, p in zip(jobs, parts, strict=True)
        ]
    )
    return arrays


def summarise(rows: list[dict], planned: list[dict] | None = None) -> list[dict]:
    """One entry per result row: identity, leaks, n_subjects, n_jobs (and planned), and per
    score its mean and std over subjects ("<score>" and "<score>_std")."""
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
        per_subject = [
            subject_scores({k: v[arrays["subject"] == subject] for k, v in arrays.items()})
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
        summary.append(entry)
    return summary


def _order(key):
    dataset, features, model, protocol, labels, dimension = key
    rank = {"subject-dependent": 0, "subject-independent": 1}.get(protocol, 2)
    return dataset, labels, dimension, rank, protocol, model, features


def _percent(entry: dict, score: str) -> str:
    mean, std = entry.get(score), entry.get(f"{score}_std")
    if mean is None:
        return "-"
    return f"{100 * mean:.1f}" + ("" if std is None else f" ± {100 * std:.1f}")


def format_table(summary: list[dict]) -> str:
    """A Markdown table of the summary (scores in %, mean ± std over subjects)."""
    varying = [k for k in ("dataset", "features", "labels") if len({e[k] for e in summary}) > 1]
    head = [*varying, "dimension", "protocol", "model", "accuracy %", "balanced acc. %"]
    head += ["macro-F1 %", "chance %", "subjects", "folds"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in summary:
        protocol = e["protocol"] + (" (LEAKS)" if e["leaks"] else "")
        folds = f"{e['n_jobs']}" + (
            "" if e["n_jobs"] == e["n_planned"] else f" of {e['n_planned']}"
        )
        cells = [str(e[k]) for k in varying] + [e["dimension"], protocol, e["model"]]
        cells += [_percent(e, s) for s in SCORES[:3]] + [_percent(e, "chance")]
        cells += [str(e["n_subjects"]), folds]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
