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
  data whenever a unit of that kind has windows on both sides of a fold.

`audit` returns the counts and a verdict: "honest" or "LEAKS: <list>"; `inflation` is the
difference in points between a leaky and an honest score on the same data and model.
"""

from __future__ import annotations

import numpy as np

from ..protocols.base import nearest_training_gap, unit_index

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
) -> dict:
    """Audit folds [(train, test), ...] over windows with metadata `groups` (start/stop in
    samples at `sfreq` Hz). gap: seconds. info: the feature set's info. unit: what the protocol
    claims to hold out ("trial", "session", "subject", or "window"/"chunk" for the papers').

    Returns a dict: folds, test_windows, trials_on_both_sides, sessions_on_both_sides,
    subjects_on_both_sides, test_windows_near_training (within `gap` s), overlapping_test_windows,
    label_proxies, fitted_on_test (steps), leaks (one line per kind found), verdict.
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
        "leaks": leaks,
        "verdict": "LEAKS: " + "; ".join(leaks) if leaks else "honest",
    }


def audit_protocol(
    protocol, groups, y, sfreq: float, gap: float = DEFAULT_GAP, info: dict | None = None
) -> dict:
    """`audit` of every fold of `protocol` (a `protocols.Protocol`) on these windows, with the
    protocol's name, its declared leak line, and whether the audit agrees with its `leaks`."""
    folds = list(protocol.split(None, y, groups))
    found = audit(groups, folds, sfreq, gap, info, protocol.unit)
    split_leaks = (
        found["trials_on_both_sides"]
        or found["test_windows_near_training"]
        or any(found[f"{u}s_on_both_sides"] for u in ("session", "subject") if u == protocol.unit)
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
