"""Splitters: the honest ones never share a trial or subject; the leaky one does."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from physioemo import protocols
from physioemo.protocols import LeakageError, check_no_leak
from physioemo.recording import make_groups, trial_keys


def grid(n_subjects=3, n_trials=10, n_windows=6):
    """Window metadata and per-trial labels for a regular design."""
    parts, labels = [], []
    for s in range(n_subjects):
        for t in range(n_trials):
            starts = np.arange(n_windows) * 128
            parts.append(make_groups(n_windows, f"s{s}", 1, t + 1, starts, starts + 128))
            labels += [t % 2] * n_windows
    return np.concatenate(parts), np.array(labels)


def test_subject_dependent_splits_trials_within_subjects():
    groups, y = grid()
    splitter = protocols.get("subject-dependent", n_splits=5)
    splits = list(splitter.split(None, y, groups))
    assert len(splits) == splitter.get_n_splits(groups=groups) == 15
    keys = trial_keys(groups)
    tested = []
    for train, test in splits:
        assert len(np.unique(groups["subject"][np.r_[train, test]])) == 1
        assert not set(keys[train]) & set(keys[test])
        assert sorted(np.bincount(y[test])) == [6, 6]  # stratified: one trial of each class
        tested += list(np.unique(keys[test]))
    assert sorted(tested) == sorted(np.unique(keys))  # every trial tested exactly once


def test_subject_dependent_without_stratifiable_labels():
    groups, _ = grid(n_subjects=1, n_trials=3)
    splits = list(protocols.get("subject-dependent", n_splits=5).split(None, None, groups))
    assert len(splits) == 3  # one fold per trial when trials are fewer than folds


def test_leave_one_subject_out():
    groups, y = grid(n_subjects=4)
    splits = list(protocols.get("subject-independent").split(None, y, groups))
    assert len(splits) == 4
    for train, test in splits:
        assert np.unique(groups["subject"][test]).size == 1
        assert not set(groups["subject"][train]) & set(groups["subject"][test])


def test_leaky_split_is_marked_and_does_leak():
    groups, y = grid()
    leaky = protocols.get("leaky-window-kfold")
    assert leaky.leaks and not protocols.get("subject-dependent").leaks
    train, test = next(iter(leaky.split(None, y, groups)))
    with pytest.raises(LeakageError, match="trial"):
        check_no_leak(groups, train, test, "trial")


def test_works_with_scikit_learn_cross_validation(rng):
    groups, y = grid()
    X = rng.normal(size=(len(y), 3)) + y[:, None]
    scores = cross_val_score(
        LogisticRegression(), X, y, groups=groups, cv=protocols.get("subject-independent")
    )
    assert scores.shape == (3,) and scores.min() > 0.6


def test_requires_window_metadata():
    with pytest.raises(ValueError, match="groups"):
        list(protocols.get("subject-dependent").split(np.zeros((4, 2)), None, np.arange(4)))
    with pytest.raises(ValueError, match="unknown protocol"):
        protocols.get("random-split")
