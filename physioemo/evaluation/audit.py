"""Leakage audit: what a set of folds lets through, measured on the window metadata alone.

Kinds of leak, each counted over all folds:

* trials with windows on both sides of a fold (labels are per trial: the model can learn the
  trial, not the emotion);
* test windows within `gap` seconds of a training window of the same trial (overlapping
  windows share samples; adjacent ones share slow drifts);
* subjects (sessions) on both sides, a leak only when the protocol claims to generalise to
  unseen subjects (sessions), i.e. its unit is "subject" ("session");
* inputs that proxy the label (the feature set's info "label_proxies", e.g. self-reports);
* steps fitted on test data: info "fitted_on_all_windows" maps a step to the unit whose windows
  it was fitted on ("trial" or "subject"; a plain list means "subject"); such a step saw test
  data whenever a unit of that kind has windows on both sides of a fold; target transforms
  (info "targets_fitted_on_all_windows") saw it always (`exposure`);
* test trials whose stimulus (clip, video) trains through another trial of the same subject,
  or, for a protocol that claims to hold stimuli out, at all (`exposure.stimulus_overlap`).

`audit` returns the counts and a verdict: "honest" or "LEAKS: <list>"; `inflation` is the
difference in points between a leaky and an honest score on the same data and model.
"""

from __future__ import annotations

import numpy as np

from ..protocols.base import nearest_training_gap, unit_index
from .exposure import stimulus_cell, stimulus_leaks, stimulus_overlap, targets_fitted_on_test
from .summary import markdown

#: seconds: a test window this close to a training window of its trial counts as leaking (ours)
DEFAULT_GAP = 5.0


def _shared(codes: np.ndarray, folds) -> np.ndarray:
    """Codes on both sides of at least one fold."""
    found = [np.intersect1d(codes[train], codes[test]) for train, test in folds]
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=int)


def fitted_steps(info: dict | None) -> dict[str, str]:
    """info's "fitted_on_all_windows" as {step: unit} (a list means unit "subject")."""
    steps = (info or {}).get("fitted_on_all_windows") or {}
    return dict(steps) if isinstance(steps, dict) else dict.fromkeys(steps, "subject")


def audit(
    groups: np.ndarray,
    folds,
    sfreq: float,
    gap: float = DEFAULT_GAP,
    info: dict | None = None,
    unit: str = "trial",
    holds_out_stimuli: bool = False,
) -> dict:
    """Audit folds [(train, test), ...] over windows with metadata `groups` (start/stop in
    samples at `sfreq` Hz). gap: seconds. info: the feature set's info. unit: what the protocol
    claims to hold out ("trial", "session", "subject", "stimulus", or "window"/"chunk" for the
    papers'); holds_out_stimuli: it also claims no stimulus on both sides.

    Returns a dict: folds, test_windows, trials_on_both_sides, sessions_on_both_sides,
    subjects_on_both_sides, test_windows_near_training (within `gap` s), overlapping_test_windows,
    label_proxies, fitted_on_test (steps), stimulus (`exposure.stimulus_overlap`), leaks (one
    line per kind found), verdict.
    """
    folds = [(np.asarray(train), np.asarray(test)) for train, test in folds]
    shared = {
        u: _shared(unit_index(groups, u), folds).size for u in ("trial", "session", "subject")
    }
    near = overlapping = tested = 0
    for train, test in folds:
        distance = nearest_training_gap(groups, train, test)
        near += int(np.sum(distance <= gap * sfreq))
        overlapping += int(np.sum(distance < 0))
        tested += len(test)
    proxies = list((info or {}).get("label_proxies") or [])
    fitted = [step for step, scope in fitted_steps(info).items() if shared.get(scope, 0)]
    fitted += targets_fitted_on_test(info, folds)
    stimulus = stimulus_overlap(groups, folds)
    leaks = []
    if shared["trial"]:
        leaks.append(f"{shared['trial']} trial(s) with windows on both sides")
    if near:
        leaks.append(
            f"{near} of {tested} test windows within {gap:g} s of a training window of their "
            f"trial ({overlapping} overlapping one)"
        )
    for claimed in ("session", "subject"):
        if unit == claimed and shared[claimed]:
            leaks.append(f"{shared[claimed]} {claimed}(s) on both sides of a {claimed}-wise split")
    leaks += stimulus_leaks(stimulus, holds_out_stimuli or unit == "stimulus")
    if proxies:
        leaks.append(f"inputs that proxy the label: {', '.join(proxies)}")
    if fitted:
        leaks.append(f"fitted on test data: {'; '.join(fitted)}")
    return {
        "unit": unit,
        "gap_seconds": gap,
        "folds": len(folds),
        "test_windows": tested,
        "trials_on_both_sides": shared["trial"],
        "sessions_on_both_sides": shared["session"],
        "subjects_on_both_sides": shared["subject"],
        "test_windows_near_training": near,
        "overlapping_test_windows": overlapping,
        "label_proxies": proxies,
        "fitted_on_test": fitted,
        "stimulus": stimulus,
        "leaks": leaks,
        "verdict": "LEAKS: " + "; ".join(leaks) if leaks else "honest",
    }


def audit_protocol(
    protocol, groups, y, sfreq: float, gap: float = DEFAULT_GAP, info: dict | None = None
) -> dict:
    """`audit` of every fold of `protocol` (a `protocols.Protocol`) on these windows, with the
    protocol's name, its declared leak line, and whether the audit agrees with its `leaks`."""
    folds = list(protocol.split(None, y, groups))
    return audit_folds(protocol, groups, folds, sfreq, gap, info)


def audit_folds(
    protocol, groups, folds, sfreq: float, gap: float = DEFAULT_GAP, info: dict | None = None
) -> dict:
    """`audit_protocol` of folds [(train, test), ...] the protocol already made."""
    stimuli = getattr(protocol, "holds_out_stimuli", False)
    found = audit(groups, folds, sfreq, gap, info, protocol.unit, stimuli)
    split_leaks = (
        found["trials_on_both_sides"]
        or found["test_windows_near_training"]
        or any(found[f"{u}s_on_both_sides"] for u in ("session", "subject") if u == protocol.unit)
        or (stimuli and (found["stimulus"] or {}).get("in_training"))
    )
    return {
        "protocol": protocol.name,
        "declared_leak": protocol.leak,
        "agrees": bool(split_leaks) == protocol.leaks,
        **found,
    }


def inflation(leaky_score: float, honest_score: float) -> float:
    """Points (percentage points) a leaky protocol adds over an honest one on the same data and
    model: 100 * (leaky - honest), scores as fractions."""
    return 100.0 * (float(leaky_score) - float(honest_score))


# ----------------------------------------------------------------------------- a run's audit
#: leaky protocol -> the honest protocol measuring what it claims to measure, its comparison
COUNTERPARTS = {
    "histn-sd": "subject-dependent",
    "histn-sd-windows": "subject-dependent",
    "histn-si": "subject-independent",
    "rbtransformer-paper": "subject-dependent",
    "pinn-paper": "subject-independent",
    "pinn-paper-no-self-report": "subject-independent",
    "leaky-window-kfold": "subject-dependent",
}
#: what identifies one audit in a run: a protocol's folds on one feature set and target
AUDIT_KEYS = ("dataset", "features", "labels", "dimension", "protocol")
#: scores whose inflation a run reports (the papers' headline metrics and accuracy)
INFLATION_METRICS = ("accuracy", "macro_f1", "weighted_f1")


def audit_key(entry: dict) -> str:
    """The audit of a summary entry or audit, by `AUDIT_KEYS`: "dreamer/de/binary/..."."""
    return "/".join(str(entry[k]) for k in AUDIT_KEYS)


def leak_evidence(entry: dict, audits: dict) -> list[str]:
    """Why a summary entry leaks: "declared" when its protocol says so, "audit" when its
    audit (audit key -> audit, `audit_key`) found a leak; empty when neither."""
    declared = "declared" in entry.get("leak_evidence", ["declared"] * bool(entry["leaks"]))
    found = audits.get(audit_key(entry))
    audited = found is not None and found["verdict"] != "honest"
    return ["declared"] * declared + ["audit"] * audited


def leaky(entry: dict, audits: dict) -> bool:
    """Whether a summary entry leaks: its protocol declares a leak or its audit finds one."""
    return bool(leak_evidence(entry, audits))


def mark_leaks(summary: list[dict], audits: dict) -> list[dict]:
    """The summary with each entry's "leaks" set from the evidence (`leaky`) and
    "leak_evidence" saying which (`leak_evidence`)."""
    marked = []
    for entry in summary:
        evidence = leak_evidence(entry, audits)
        marked.append({**entry, "leaks": bool(evidence), "leak_evidence": evidence})
    return marked


def inflations(summary: list[dict], audits: dict | None = None) -> list[dict]:
    """Each leaky summary entry beside the honest entry of the same dataset, labels, dimension
    and model: the protocol's `COUNTERPARTS` entry when it ran (else every honest protocol),
    on the same features when one ran on them. Returns one dict per pair: "leaky" and
    "honest" (the two entries' identities), and per `INFLATION_METRICS` score both values and
    the inflation in points ("<metric>": {"leaky", "honest", "points"}).

    audits: audit key -> audit (`audit_key`); an entry whose audit says LEAKS is leaky even
    when its protocol is honest (e.g. self-reports among the inputs)."""
    audits = audits or {}
    same = ("dataset", "labels", "dimension", "model")
    pairs = []
    for entry in (e for e in summary if leaky(e, audits)):
        honest = [
            e for e in summary if not leaky(e, audits) and all(e[k] == entry[k] for k in same)
        ]
        counterpart = [e for e in honest if e["protocol"] == COUNTERPARTS.get(entry["protocol"])]
        honest = counterpart or honest
        honest = [e for e in honest if e["features"] == entry["features"]] or honest
        for other in honest:
            pair = {"leaky": _identity(entry), "honest": _identity(other)}
            for metric in INFLATION_METRICS:
                if entry.get(metric) is not None and other.get(metric) is not None:
                    pair[metric] = {
                        "leaky": entry[metric],
                        "honest": other[metric],
                        "points": inflation(entry[metric], other[metric]),
                    }
            pairs.append(pair)
    return pairs


def _identity(entry: dict) -> dict:
    return {
        k: entry[k] for k in ("dataset", "features", "model", "protocol", "labels", "dimension")
    }


def audit_tables(audits: dict, pairs: list[dict]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The audit and the inflation as tables of text cells, (title, header, rows), for
    summary.md and the report."""
    entries = [audits[k] for k in sorted(audits)]
    varying = [k for k in ("dataset", "features", "labels") if len({e[k] for e in entries}) > 1]
    head = [*varying, "dimension", "protocol", "folds", "trials on both sides"]
    head += ["subjects on both sides", "test windows near training", "label proxies"]
    head += ["stimulus in training (same subject / others)", "fitted on test data", "verdict"]
    rows = []
    for e in entries:
        near = f"{e['test_windows_near_training']} of {e['test_windows']}"
        rows.append(
            [str(e[k]) for k in varying]
            + [e["dimension"], e["protocol"], str(e["folds"]), str(e["trials_on_both_sides"])]
            + [str(e["subjects_on_both_sides"]), near, ", ".join(e["label_proxies"]) or "-"]
            + [stimulus_cell(e.get("stimulus")), "; ".join(e["fitted_on_test"]) or "-"]
            + [e["verdict"]]
        )
    found = [("", head, rows)]
    if pairs:
        names = {"accuracy": "accuracy %", "macro_f1": "macro-F1 %", "weighted_f1": "weighted F1 %"}
        head = ["dataset", "labels", "dimension", "model", "leaky protocol", "honest protocol"]
        head += [names[m] + " leaky / honest (inflation)" for m in INFLATION_METRICS]
        rows = []
        for pair in pairs:
            leaky_row, honest_row = pair["leaky"], pair["honest"]
            cells = [leaky_row[k] for k in ("dataset", "labels", "dimension", "model")]
            cells += [_named(leaky_row), _named(honest_row)]
            for metric in INFLATION_METRICS:
                found_metric = pair.get(metric)
                cells.append(
                    "-"
                    if found_metric is None
                    else f"{100 * found_metric['leaky']:.1f} / {100 * found_metric['honest']:.1f} "
                    f"({found_metric['points']:+.1f})"
                )
            rows.append(cells)
        found.append(
            ("Inflation: the leaky protocol's score minus the honest one's, in points", head, rows)
        )
    return found


def _named(identity: dict) -> str:
    return f"{identity['protocol']} ({identity['features']})"


def format_audit(audits: dict, pairs: list[dict]) -> str:
    """Markdown of the run's audit (`audit_tables`), with what the counts mean."""
    if not audits:
        return "No audit: the run folder holds none (written by an older physioemo)."
    gap = next(iter(audits.values()))["gap_seconds"]
    lines = [
        "Counts over all folds of each protocol on its feature set and labels: trials with "
        "windows on both sides of a fold, subjects on both sides, test windows within "
        f"{gap:g} s of a training window of their own trial, inputs that proxy the label, test "
        "trials whose stimulus (clip, video) is in training through another trial of the same "
        "subject / through other subjects' trials (a leak when through the same subject, or "
        "when the protocol holds stimuli out), and steps fitted on windows that include test "
        "windows. Verdict: honest, or LEAKS and why."
    ]
    lines += [markdown(*table) for table in audit_tables(audits, pairs)]
    disagree = [e["protocol"] for e in audits.values() if not e.get("agrees", True)]
    if disagree:
        lines.append(
            "The audit disagrees with the declared leaks of: " + ", ".join(sorted(set(disagree)))
        )
    return "\n\n".join(lines)
