"""Summaries and result files of a benchmark run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

SCORES = ("accuracy", "macro_f1")
KEYS = ("dimension", "protocol", "model")


def summarise(rows: list[dict]) -> list[dict]:
    """Mean +- std over subjects per (dimension, protocol, model).

    Folds are first averaged within each held-out subject, so every subject weighs the same
    whatever its number of folds.
    """
    summary = []
    for key in sorted({tuple(r[k] for k in KEYS) for r in rows}, key=_order):
        subset = [r for r in rows if tuple(r[k] for k in KEYS) == key]
        subjects = sorted({r["subject"] for r in subset})
        entry = dict(zip(KEYS, key, strict=True))
        entry["leaks"] = any(r["leaks"] for r in subset)
        entry["n_subjects"] = len(subjects)
        entry["n_folds"] = len(subset)
        for score in (*SCORES, "chance"):
            per_subject = [
                np.mean([r[score] for r in subset if r["subject"] == s]) for s in subjects
            ]
            entry[score] = float(np.mean(per_subject))
            entry[f"{score}_std"] = float(np.std(per_subject))
        summary.append(entry)
    return summary


def _order(key):
    dimension, protocol, model = key
    rank = {"subject-dependent": 0, "subject-independent": 1}.get(protocol, 2)
    return dimension, rank, protocol, model


def format_table(summary: list[dict]) -> str:
    """A Markdown table of the summary (accuracy and macro-F1 in %, mean +- std over subjects)."""
    lines = [
        "| dimension | protocol | model | accuracy % | macro-F1 % | chance % | subjects |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in summary:
        protocol = e["protocol"] + (" (LEAKS)" if e["leaks"] else "")
        lines.append(
            f"| {e['dimension']} | {protocol} | {e['model']} "
            f"| {100 * e['accuracy']:.1f} ± {100 * e['accuracy_std']:.1f} "
            f"| {100 * e['macro_f1']:.1f} ± {100 * e['macro_f1_std']:.1f} "
            f"| {100 * e['chance']:.1f} | {e['n_subjects']} |"
        )
    return "\n".join(lines)


def write_run(out: Path, rows: list[dict], summary: list[dict], context: dict) -> None:
    """results.csv (one row per fold), summary.json and summary.md into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (out / "summary.json").write_text(json.dumps({**context, "summary": summary}, indent=2) + "\n")
    leaky = [e for e in summary if e["leaks"]]
    note = (
        "\n\nRows marked LEAKS put windows of one trial in both training and test data; "
        "their scores are inflated and not comparable to the honest protocols.\n"
        if leaky
        else "\n"
    )
    header = (
        f"# physioemo bench: {context['dataset']}\n\n"
        f"Features: {context['features']}. Labels: {context['labels']}. "
        f"Mean ± std over subjects (folds averaged within a subject first).\n\n"
        + "".join(f"{note}\n\n" for note in context.get("notes", []))
    )
    (out / "summary.md").write_text(header + format_table(summary) + note)
