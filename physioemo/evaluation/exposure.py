"""What of the test data reaches training although no window crosses the split: the stimuli
shown, and target scalings fitted with test targets. The leakage audit (`audit.audit`) calls
these and adds their counts and leak lines to its own.

Stimuli: windows name the clip or video their trial showed (groups field "stimulus", from the
dataset card's `stimulus_id`). A test trial's stimulus can reach training

* through the same subject: another trial of that subject showing the same stimulus trains.
  SEED shows its 15 clips in each of its three sessions, so under `subject-dependent` every
  test trial has the same subject's trial of its clip from another session in training: the
  model can recognise the subject's response to the clip rather than the emotion. A leak
  under every protocol;
* through other subjects: other subjects' trials of the stimulus train. In every
  subject-independent protocol on a dataset whose subjects saw the same clips (DREAMER,
  DEAP, SEED) every test trial's clip trained. Counted, and a leak only for a protocol that
  claims to hold stimuli out (`holds_out_stimuli`: `stimulus-independent`,
  `subject-stimulus-independent`).

Targets: info "targets_fitted_on_all_windows" ({step: unit}) declares a target transform
fitted on all windows of each unit, e.g. an EDA target min-max scaled per subject. Test targets
scaled with their own unit's range saw the test data in every fold, whatever the split. (The
experiment engine scales the PINN's EDA target on each fold's training windows instead;
`experiment.jobs`.)
"""

from __future__ import annotations

import numpy as np

from ..protocols.base import unit_index


def stimulus_overlap(groups: np.ndarray, folds) -> dict | None:
    """Counts over all folds [(train, test), ...] of the windows with metadata `groups`:
    "test_trials" (test trials that name their stimulus, summed over folds), "by_subject"
    (those with another trial of their subject and stimulus in training), "by_others" (those
    whose stimulus other subjects' training trials show) and "in_training" (those whose
    stimulus is in training at all, their own trial included). None when no window names its
    stimulus."""
    if "stimulus" not in (groups.dtype.names or ()) or not np.any(groups["stimulus"] != ""):
        return None
    trial = unit_index(groups, "trial")
    first = np.unique(trial, return_index=True)[1]
    subject = np.unique(groups["subject"][first], return_inverse=True)[1].ravel()
    names, stimulus = np.unique(groups["stimulus"][first], return_inverse=True)
    stimulus = stimulus.ravel()
    known = names[stimulus] != ""
    n_subjects, n_stimuli = subject.max() + 1, names.size
    counts = dict.fromkeys(("test_trials", "by_subject", "by_others", "in_training"), 0)
    for train, test in folds:
        trained = np.zeros(trial.max() + 1, dtype=bool)
        trained[trial[train]] = True
        pairs = np.zeros((n_subjects, n_stimuli), dtype=int)  # training trials per pair
        np.add.at(pairs, (subject[trained], stimulus[trained]), 1)
        tested = np.unique(trial[test])
        tested = tested[known[tested]]
        own = pairs[subject[tested], stimulus[tested]]
        subjects_with = (pairs > 0).sum(axis=0)[stimulus[tested]]
        counts["test_trials"] += tested.size
        counts["by_subject"] += int(np.sum(own - trained[tested] > 0))
        counts["by_others"] += int(np.sum(subjects_with - (own > 0) > 0))
        counts["in_training"] += int(np.sum(pairs.sum(axis=0)[stimulus[tested]] > 0))
    return counts


def stimulus_leaks(overlap: dict | None, holds_out_stimuli: bool = False) -> list[str]:
    """The leak lines of a `stimulus_overlap` (module docstring)."""
    if overlap is None:
        return []
    of = f"of {overlap['test_trials']} test trials"
    leaks = []
    if overlap["by_subject"]:
        leaks.append(
            f"{overlap['by_subject']} {of} have their stimulus in training through another "
            "trial of the same subject"
        )
    if holds_out_stimuli and overlap["in_training"]:
        leaks.append(
            f"{overlap['in_training']} {of} have their stimulus on both sides of a "
            "stimulus-wise split"
        )
    return leaks


def stimulus_cell(overlap: dict | None) -> str:
    """One table cell: "<by subject> / <by others> of <test trials>", or "unknown"."""
    if overlap is None:
        return "unknown"
    return f"{overlap['by_subject']} / {overlap['by_others']} of {overlap['test_trials']}"


def targets_fitted_on_test(info: dict | None, folds) -> list[str]:
    """The declared target transforms fitted with test targets (info
    "targets_fitted_on_all_windows", {step: unit}): all of them when some fold tests a
    window, since each test window's unit was fitted with it."""
    steps = (info or {}).get("targets_fitted_on_all_windows") or {}
    tests_something = any(len(test) for _, test in folds)
    return list(steps) if tests_something else []
