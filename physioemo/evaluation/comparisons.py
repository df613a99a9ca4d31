"""Comparisons between the result rows of a run: which model or protocol scores more, tested.

Rows are compared within a label target (dataset, labels, dimension), every pair of rows:

* paired over subjects (the subjects both rows scored): the mean difference of their scores
  in points with a percentile-bootstrap 95 % interval, the rank-biserial correlation with its
  interval, and a two-sided Wilcoxon signed-rank test (`statistics.wilcoxon`);
* paired over folds when both rows ran the same protocol (the same folds): Nadeau & Bengio's
  corrected resampled t-test (`statistics.corrected_resampled_t`);
* each test's p-values Holm-corrected over all pairs of the run.

Per target, the rows' mean ranks over their common subjects with the Nemenyi critical
difference and Friedman's test (Demšar 2006), drawn as a critical-difference diagram
(`plots.critical_difference`).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from . import statistics
from .summary import PER_SUBJECT, ROW_KEYS

#: the score compared by default: the headline, whose chance does not move with class balance
COMPARE_METRIC = "balanced_accuracy"
#: what identifies the rows that can be compared: one label target
TARGET = ("dataset", "labels", "dimension")


def label(entry: dict) -> str:
    """A row's short name: "model (features) protocol", LEAKS when it leaks."""
    leaks = " LEAKS" if entry.get("leaks") else ""
    return f"{entry['model']} ({entry['features']}) {entry['protocol']}{leaks}"


def compare(summary: list[dict], metric: str = COMPARE_METRIC, seed: int = 0) -> dict:
    """Every pair of rows of each target (`compare_pair`), Holm-corrected over all pairs, and
    each target's ranks (`ranks`): {"metric", "alpha", "pairs", "ranks"}."""
    if metric not in PER_SUBJECT:
        raise ValueError(f"cannot compare on {metric!r}; choose one of {', '.join(PER_SUBJECT)}")
    targets: dict[tuple, list[dict]] = {}
    for entry in summary:
        targets.setdefault(tuple(entry[k] for k in TARGET), []).append(entry)
    pairs = [
        found
        for entries in targets.values()
        for a, b in combinations(entries, 2)
        if (found := compare_pair(a, b, metric, seed)) is not None
    ]
    for test in ("wilcoxon", "t_test"):
        tested = [pair[test] for pair in pairs if pair[test] is not None]
        for result, adjusted in zip(tested, statistics.holm([t["p"] for t in tested]), strict=True):
            result["p_holm"] = float(adjusted)
    ranked = [ranks(entries, metric) for entries in targets.values()]
    return {
        "metric": metric,
        "alpha": statistics.ALPHA,
        "pairs": pairs,
        "ranks": [r for r in ranked if r is not None],
    }


def _by_subject(entry: dict, metric: str) -> dict[str, float]:
    scores = entry["per_subject"]
    return dict(zip(scores["subject"], scores[metric], strict=True))


def compare_pair(a: dict, b: dict, metric: str, seed: int = 0) -> dict | None:
    """Row `a` against row `b` on `metric` (None when they share fewer than two subjects):
    identities, subjects, "difference" (mean of a - b over subjects, points) and its
    bootstrap "difference_ci", "rank_biserial" and its "rank_biserial_ci", "wilcoxon"
    (statistic, p) and "t_test" (`fold_test`, or None)."""
    scores_a, scores_b = _by_subject(a, metric), _by_subject(b, metric)
    common = [s for s in scores_a if s in scores_b]
    if len(common) < 2:
        return None
    d = 100 * np.array([scores_a[s] - scores_b[s] for s in common])
    statistic, p = statistics.wilcoxon(d)
    return {
        "a": {k: a[k] for k in ROW_KEYS},
        "b": {k: b[k] for k in ROW_KEYS},
        "a_label": label(a),
        "b_label": label(b),
        "subjects": len(common),
        "difference": float(d.mean()),
        "difference_ci": statistics.bootstrap_ci(d, lambda x: x.mean(axis=1), seed=seed),
        "rank_biserial": statistics.rank_biserial(d),
        "rank_biserial_ci": statistics.bootstrap_ci(d, statistics.rank_biserial, seed=seed),
        "wilcoxon": {"statistic": statistic, "p": p},
        "t_test": fold_test(a, b, metric),
    }


def fold_test(a: dict, b: dict, metric: str) -> dict | None:
    """The corrected resampled t-test of two rows' fold-level scores, paired by fold (index
    and held-out subjects); None unless both ran the same protocol on two folds or more.
    n_test/n_train: the mean over the common folds of both rows."""
    if a["protocol"] != b["protocol"]:
        return None
    folds_a, folds_b = a["per_fold"], b["per_fold"]
    where_b = {fold: i for i, fold in enumerate(folds_b["fold"])}
    pairs = [(i, where_b[fold]) for i, fold in enumerate(folds_a["fold"]) if fold in where_b]
    if len(pairs) < 2:
        return None
    d = [100 * (folds_a[metric][i] - folds_b[metric][j]) for i, j in pairs]
    n_test = np.mean([folds_a["n_test"][i] + folds_b["n_test"][j] for i, j in pairs])
    n_train = np.mean([folds_a["n_train"][i] + folds_b["n_train"][j] for i, j in pairs])
    t, df, p = statistics.corrected_resampled_t(d, n_test / n_train)
    return {"t": t, "df": df, "p": p, "folds": len(pairs), "test_train_ratio": n_test / n_train}


def ranks(entries: list[dict], metric: str) -> dict | None:
    """Mean ranks of a target's rows over the subjects all of them scored (rank 1: best),
    the Nemenyi critical difference and Friedman's test (three rows or more); None with fewer
    than two rows or two common subjects."""
    common = set.intersection(*(set(e["per_subject"]["subject"]) for e in entries))
    subjects = sorted(common)
    if len(entries) < 2 or len(subjects) < 2:
        return None
    scores = np.array([[_by_subject(e, metric)[s] for e in entries] for s in subjects])
    friedman = None
    if len(entries) >= 3:
        statistic, p = statistics.friedman(scores)
        friedman = {"statistic": statistic, "p": p}
    return {
        "target": {k: entries[0][k] for k in TARGET},
        "labels": [label(e) for e in entries],
        "mean_ranks": statistics.mean_ranks(scores).tolist(),
        "cd": statistics.nemenyi_cd(len(entries), len(subjects)),
        "subjects": len(subjects),
        "friedman": friedman,
    }


# ----------------------------------------------------------------------------- tables
def _p(result: dict | None) -> str:
    if result is None:
        return "-"
    mark = " *" if result["p_holm"] < statistics.ALPHA else ""
    return f"{result['p']:.3g} ({result['p_holm']:.3g}){mark}"


def notes(comparisons: dict) -> str:
    """What the comparison tables show (one paragraph)."""
    tested = sum(pair["t_test"] is not None for pair in comparisons["pairs"])
    return (
        f"Paired comparisons on {comparisons['metric']} (per-subject scores, A - B in points, "
        "95 % percentile-bootstrap intervals over subjects): two-sided Wilcoxon signed-rank "
        "over subjects, and Nadeau & Bengio's corrected resampled t-test over folds when both "
        f"rows ran the same protocol; p (Holm-corrected over the {len(comparisons['pairs'])} "
        f"pairs, or the {tested} with a t-test), * Holm p < {comparisons['alpha']}. Ranks: mean "
        "rank over the subjects every row scored (1 is best); two rows whose mean ranks differ "
        "by more than the critical difference (Nemenyi) differ at that level (Demšar 2006)."
    )


def comparison_tables(comparisons: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """The pairs and the ranks as tables of text cells, (title, header, rows)."""
    head = ["dataset", "labels", "dimension", "A", "B", "subjects", "A - B points [95 % CI]"]
    head += ["rank-biserial [95 % CI]", "Wilcoxon p (Holm)", "t-test p (Holm)"]
    rows = []
    for pair in comparisons["pairs"]:
        low, high = pair["difference_ci"]
        rb_low, rb_high = pair["rank_biserial_ci"]
        rows.append(
            [pair["a"][k] for k in TARGET]
            + [pair["a_label"], pair["b_label"], str(pair["subjects"])]
            + [f"{pair['difference']:+.1f} [{low:+.1f}, {high:+.1f}]"]
            + [f"{pair['rank_biserial']:+.2f} [{rb_low:+.2f}, {rb_high:+.2f}]"]
            + [_p(pair["wilcoxon"]), _p(pair["t_test"])]
        )
    found = [("", head, rows)] if rows else []
    for ranked in comparisons["ranks"]:
        friedman = ranked["friedman"]
        tested = "" if friedman is None else f", Friedman p = {friedman['p']:.3g}"
        title = (
            f"Mean ranks, {' '.join(ranked['target'].values())} ({ranked['subjects']} subjects, "
            f"critical difference {ranked['cd']:.2f}{tested})"
        )
        order = np.argsort(ranked["mean_ranks"], kind="stable")
        cells = [[ranked["labels"][i], f"{ranked['mean_ranks'][i]:.2f}"] for i in order]
        found.append((title, ["row", "mean rank"], cells))
    return found


def matrices(comparisons: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """Per target, the matrix of mean differences (row minus column, points; * Holm-corrected
    Wilcoxon p < alpha) as tables of text cells."""
    found = []
    for ranked in comparisons["ranks"]:
        names = ranked["labels"]
        cells = {name: dict.fromkeys(names, "") for name in names}
        for pair in comparisons["pairs"]:
            if all(pair["a"][k] == ranked["target"][k] for k in TARGET):
                mark = "*" if pair["wilcoxon"]["p_holm"] < comparisons["alpha"] else ""
                a, b = pair["a_label"], pair["b_label"]
                cells[a][b] = f"{pair['difference']:+.1f}{mark}"
                cells[b][a] = f"{-pair['difference']:+.1f}{mark}"
        title = f"{' '.join(ranked['target'].values())}: row minus column, points"
        found.append((title, ["", *names], [[n, *cells[n].values()] for n in names]))
    return found
