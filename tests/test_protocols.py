"""Protocols: each checks its promise on every split; honest ones never share their unit, the
papers' ones leak exactly what they say; validation keeps each protocol's unit whole."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from physioemo import protocols
from physioemo.features.recipes import RECIPES
from physioemo.protocols import LeakageError, check_no_leak, unit_index
from physioemo.protocols.base import nearest_training_gap
from physioemo.recording import make_groups, trial_keys


def grid(n_subjects=3, n_trials=10, n_windows=6, sessions=1, step=128, length=128, clips=False):
    """Window metadata and per-trial labels (alternating classes) for a regular design;
    clips: trial k shows clip k in every session and to every subject (as SEED), else the
    windows name no stimulus."""
    parts, labels = [], []
    for s in range(n_subjects):
        for session in range(1, sessions + 1):
            for t in range(n_trials):
                starts = np.arange(n_windows) * step
                clip = f"clip{t + 1}" if clips else ""
                parts.append(
                    make_groups(n_windows, f"s{s}", session, t + 1, starts, starts + length, clip)
                )
                labels += [t % 2] * n_windows
    return np.concatenate(parts), np.array(labels)


def histn_grid(n_subjects=2, n_trials=5, offset=300):
    """HiSTN's windows: 60-s trials at 128 Hz, 1-s windows every 1/8 s, from `offset` on."""
    parts, labels = [], []
    starts = offset + np.arange(0, 7680 - 128 + 1, 16)
    for s in range(n_subjects):
        for t in range(n_trials):
            parts.append(make_groups(len(starts), f"s{s}", 1, t + 1, starts, starts + 128))
            labels += [t % 3] * len(starts)
    return np.concatenate(parts), np.array(labels)


def shares(groups, train, test, unit):
    """True when some `unit` has windows on both sides."""
    try:
        check_no_leak(groups, train, test, unit)
    except LeakageError:
        return True
    return False


# ----------------------------------------------------------------------------- the registry


HONEST = [
    "subject-dependent",
    "subject-independent",
    "seed-session",
    "cross-session",
    "stimulus-independent",
    "subject-stimulus-independent",
]


def test_registry_lists_every_protocol_with_its_contract():
    assert list(protocols.PROTOCOLS) == [
        *HONEST,
        "histn-sd",
        "histn-sd-windows",
        "histn-si",
        "rbtransformer-paper",
        "pinn-paper",
        "pinn-paper-no-self-report",
        "leaky-window-kfold",
    ]
    for name, cls in protocols.PROTOCOLS.items():
        assert cls.name == name
        assert cls.leaks == bool(cls.leak), name  # a leaky protocol says what leaks, one line
        assert "\n" not in cls.leak
        assert cls.unit in ("window", "chunk", "trial", "session", "subject", "stimulus")
        assert cls.features is None or cls.features in RECIPES, name
    assert [n for n, c in protocols.PROTOCOLS.items() if not c.leaks] == HONEST


def test_get_passes_options_and_refuses_unknown_ones():
    assert protocols.get("subject-independent", n_splits=4, random_state=7).n_splits == 4
    with pytest.raises(ValueError, match="unknown protocol"):
        protocols.get("random-split")
    with pytest.raises(ValueError, match="subject-dependent.*folds"):
        protocols.get("subject-dependent", folds=3)


def test_requires_window_metadata():
    with pytest.raises(ValueError, match="groups"):
        list(protocols.get("subject-dependent").split(np.zeros((4, 2)), None, np.arange(4)))


def test_unit_index_names_units():
    groups, _ = grid(n_subjects=2, n_trials=3, n_windows=2, sessions=2)
    assert np.unique(unit_index(groups, "trial")).size == 12
    assert np.unique(unit_index(groups, "session")).size == 4
    assert np.unique(unit_index(groups, "subject")).size == 2
    np.testing.assert_array_equal(
        unit_index(groups, "trial"), np.unique(trial_keys(groups), return_inverse=True)[1]
    )


# ----------------------------------------------------------------------------- honest ones


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


def test_subject_independent_k_folds_of_whole_subjects():
    groups, y = grid(n_subjects=7, n_trials=2)
    splitter = protocols.get("subject-independent", n_splits=3, random_state=1)
    splits = list(splitter.split(None, y, groups))
    assert len(splits) == splitter.get_n_splits(groups=groups) == 3
    held = [sorted(set(groups["subject"][test])) for _, test in splits]
    assert sorted(len(h) for h in held) == [2, 2, 3]
    assert sorted(s for h in held for s in h) == [f"s{i}" for i in range(7)]
    other = list(
        protocols.get("subject-independent", n_splits=3, random_state=2).split(None, y, groups)
    )
    assert held != [sorted(set(groups["subject"][test])) for _, test in other]  # seeded


@pytest.mark.parametrize(("clips", "n_train"), [(15, 9), (24, 16)])
def test_seed_session_first_clips_train_last_clips_test(clips, n_train):
    groups, y = grid(n_subjects=2, n_trials=clips, n_windows=3, sessions=3)
    splitter = protocols.get("seed-session")
    splits = list(splitter.split(None, y, groups))
    assert len(splits) == splitter.get_n_splits(groups=groups) == 6  # subjects x sessions
    for train, test in splits:
        assert np.unique(unit_index(groups[np.r_[train, test]], "session")).size == 1
        assert sorted(set(groups["trial"][train])) == list(range(1, n_train + 1))
        assert sorted(set(groups["trial"][test])) == list(range(n_train + 1, clips + 1))
        assert not shares(groups, train, test, "trial")


def test_seed_session_needs_n_train_for_other_clip_counts():
    groups, y = grid(n_subjects=1, n_trials=10)
    with pytest.raises(ValueError, match="10 clips.*n_train"):
        list(protocols.get("seed-session").split(None, y, groups))
    train, test = next(protocols.get("seed-session", n_train=7).split(None, y, groups))
    assert groups["trial"][train].max() == 7 and groups["trial"][test].min() == 8


def test_cross_session_leaves_one_session_out_per_subject():
    groups, y = grid(n_subjects=2, n_trials=4, n_windows=2, sessions=3)
    splits = list(protocols.get("cross-session").split(None, y, groups))
    assert len(splits) == 6
    for train, test in splits:
        assert np.unique(groups["subject"][np.r_[train, test]]).size == 1
        assert np.unique(groups["session"][test]).size == 1
        assert np.unique(groups["session"][train]).size == 2
        assert not shares(groups, train, test, "session")
    one_session, _ = grid(n_subjects=2, n_trials=4)
    with pytest.raises(ValueError, match="only session 1"):
        list(protocols.get("cross-session").split(None, None, one_session))


def test_works_with_scikit_learn_cross_validation(rng):
    groups, y = grid()
    X = rng.normal(size=(len(y), 3)) + y[:, None]
    scores = cross_val_score(
        LogisticRegression(), X, y, groups=groups, cv=protocols.get("subject-independent")
    )
    assert scores.shape == (3,) and scores.min() > 0.6


# ----------------------------------------------------------------------------- papers' ones


def test_leaky_window_kfold_is_marked_and_does_leak():
    groups, y = grid()
    leaky = protocols.get("leaky-window-kfold")
    assert leaky.leaks and not protocols.get("subject-dependent").leaks
    for train, test in leaky.split(None, y, groups):
        assert not set(train) & set(test)
        assert np.unique(groups["subject"][np.r_[train, test]]).size == 1
    assert shares(groups, train, test, "trial")


def test_rbtransformer_paper_pools_subjects_and_puts_one_trial_on_both_sides():
    groups, y = grid(n_subjects=4, n_trials=6, n_windows=10, step=117, length=512)
    protocol = protocols.get("rbtransformer-paper")
    assert protocol.random_state == 23 and protocol.features == "rbtransformer-bde"
    assert "both sides" in protocol.leak
    splits = list(protocol.split(None, y, groups))
    assert len(splits) == protocol.get_n_splits() == 5
    tested = np.concatenate([test for _, test in splits])
    assert len(tested) == len(set(tested)) == round(0.9 * len(groups))  # 10 % dropped, once each
    for train, test in splits:
        assert not set(train) & set(test)
        assert np.unique(groups["subject"][test]).size == 4  # one pooled split over subjects
        assert shares(groups, train, test, "trial")
        assert (nearest_training_gap(groups, train, test) < 0).any()  # overlapping windows
    dropped = set(np.setdiff1d(np.arange(len(groups)), tested))
    assert not any(dropped & set(train) for train, _ in splits)  # dropped windows never train


def test_pinn_paper_stratifies_pooled_windows_and_leaks_segments():
    groups, y = grid(n_subjects=3, n_trials=6, n_windows=10)
    protocol = protocols.get("pinn-paper")
    assert protocol.random_state == 42 and protocol.features == "peripheral-self-report"
    for train, test in protocol.split(None, y, groups):
        assert abs(y[test].mean() - y.mean()) < 0.02
        assert shares(groups, train, test, "trial")
    with pytest.raises(ValueError, match="labels"):
        list(protocol.split(None, None, groups))


def test_histn_sd_tests_chunk_i_validates_chunk_before_and_never_overlaps():
    groups, y = histn_grid()
    protocol = protocols.get("histn-sd", test_crops=None)
    splits = list(protocol.split(None, y, groups))
    assert len(splits) == protocol.get_n_splits(groups=groups) == 2 * 10
    for fold, (train, test) in enumerate(splits[:10]):
        offset = groups["start"][test] - 300
        assert offset.min() >= 768 * fold and offset.max() + 128 <= 768 * (fold + 1)  # chunk i
        assert np.unique(trial_keys(groups[test])).size == 5  # of every trial
        assert len(test) == 5 * 41  # every window wholly in the chunk, once
        assert nearest_training_gap(groups, train, test).min() >= 0  # touching at most
        assert shares(groups, train, test, "trial")  # the leak it declares
        fit, val = protocol.validation(groups[train], y[train], 0)
        val_offset = groups["start"][train][val] - 300
        before = (fold - 1) % 10
        assert val_offset.min() == 768 * before and val_offset.max() + 128 == 768 * (before + 1)
        assert len(val) == 5 * 41
        assert nearest_training_gap(groups[train], fit, val).min() >= 0


def test_histn_sd_draws_class_balanced_test_crops_with_a_seed():
    groups, y = histn_grid(n_subjects=1, n_trials=6)
    train, test = next(protocols.get("histn-sd").split(None, y, groups))
    assert len(test) == 1000 and len(np.unique(test)) < 1000  # drawn with replacement
    counts = np.bincount(y[test])
    assert counts.min() > 280 and counts.max() < 390  # a class drawn uniformly each time
    again = next(protocols.get("histn-sd").split(None, y, groups))[1]
    other = next(protocols.get("histn-sd", random_state=1).split(None, y, groups))[1]
    np.testing.assert_array_equal(test, again)
    assert not np.array_equal(test, other)


def test_the_in_between_protocols_change_one_thing_each():
    groups, y = histn_grid(n_subjects=1, n_trials=6)
    crops, windows = (
        list(protocols.get(name).split(None, y, groups))
        for name in ("histn-sd", "histn-sd-windows")
    )
    for (train, drawn), (same_train, every) in zip(crops, windows, strict=True):
        np.testing.assert_array_equal(train, same_train)  # the same split
        assert len(every) == 6 * 41 and set(drawn) <= set(every)  # every test window, once
    assert sorted(np.bincount(y[windows[0][1]])) == [82, 82, 82]  # the ratings' own balance
    pooled, plain = protocols.get("pinn-paper"), protocols.get("pinn-paper-no-self-report")
    groups, y = grid(n_subjects=2, n_trials=6, n_windows=10)
    both = zip(pooled.split(None, y, groups), plain.split(None, y, groups), strict=True)
    for (train, test), (same_train, same_test) in both:
        np.testing.assert_array_equal(train, same_train)
        np.testing.assert_array_equal(test, same_test)
    assert (pooled.features, plain.features) == ("peripheral-self-report", "peripheral")


def test_histn_sd_refuses_geometry_it_cannot_follow():
    groups, y = grid(n_subjects=1, n_trials=3, n_windows=8)  # 8 windows: no chunk holds one
    with pytest.raises(ValueError, match="histn-sd"):
        list(protocols.get("histn-sd").split(None, y, groups))


def test_histn_si_calibrates_on_the_first_10_s_and_tests_the_rest():
    groups, y = histn_grid(n_subjects=3, n_trials=4)
    protocol = protocols.get("histn-si")
    assert protocol.preset == "histn-si" and protocol.features == "histn-raw"
    splits = list(protocol.split(None, y, groups))
    assert len(splits) == 3
    for train, test in splits:
        held = groups["subject"][test][0]
        own = groups["subject"][train] == held
        assert own.sum() == 4 * 37  # 1/4-s stride in the first 10 s: 37 windows per trial
        assert (groups["stop"][train][own] - 300).max() <= 1280
        assert len(test) == 4 * 50  # non-overlapping 1-s windows over the last 50 s
        assert (groups["start"][test] - 300).min() >= 1280
        assert np.all(np.diff(np.sort(groups["start"][test][:50])) >= 128)
        assert len(train) - own.sum() == 2 * 4 * 60  # other subjects, non-overlapping windows
        np.testing.assert_array_equal(protocol.calibration(groups[train]), np.flatnonzero(own))
        assert shares(groups, train, test, "subject") and shares(groups, train, test, "trial")
        assert nearest_training_gap(groups, train, test).min() >= 0
        fit, val = protocol.validation(groups[train], y[train], 0)
        assert len(val) == 0  # the paper selects no model


# ----------------------------------------------------------------------------- stimuli


def test_stimulus_independent_tests_every_session_of_its_clips_together():
    groups, y = grid(n_subjects=2, n_trials=10, sessions=3, clips=True)  # SEED: clips repeat
    protocol = protocols.get("stimulus-independent", n_splits=5)
    splits = list(protocol.split(None, y, groups))
    assert len(splits) == protocol.get_n_splits(groups=groups) == 10
    tested = []
    for train, test in splits:
        assert np.unique(groups["subject"][np.r_[train, test]]).size == 1
        assert not set(groups["stimulus"][train]) & set(groups["stimulus"][test])
        clips = np.unique(groups["stimulus"][test])
        for clip in clips:  # its trials of all three sessions
            assert set(groups["session"][test][groups["stimulus"][test] == clip]) == {1, 2, 3}
        assert sorted(np.bincount(y[test])) == [18, 18]  # stratified: one clip of each class
        assert len(train) == 8 * 3 * 6  # the subject's 8 other clips, 3 sessions, 6 windows
        tested += [(groups["subject"][test[0]], clip) for clip in clips]
    assert len(set(tested)) == len(tested) == 20  # every clip of every subject tested once


def test_subject_stimulus_independent_holds_out_the_subject_and_its_test_clips():
    groups, y = grid(n_subjects=3, n_trials=10, sessions=2, clips=True)
    protocol = protocols.get("subject-stimulus-independent", n_splits=5)
    splits = list(protocol.split(None, y, groups))
    assert len(splits) == protocol.get_n_splits(groups=groups) == 15
    for train, test in splits:
        assert not shares(groups, train, test, "subject")
        assert not shares(groups, train, test, "stimulus")
        assert np.unique(groups["subject"][test]).size == 1
        assert len(test) == 2 * 2 * 6  # two clips of the held-out subject, both sessions
        assert len(train) == 2 * 8 * 2 * 6  # the other two subjects' other eight clips


def test_stimulus_protocols_need_named_stimuli():
    groups, y = grid(n_subjects=2, n_trials=4)  # no stimulus ids
    for name in ("stimulus-independent", "subject-stimulus-independent"):
        with pytest.raises(ValueError, match="do not all name their stimulus"):
            list(protocols.get(name).split(None, y, groups))


# ----------------------------------------------------------------------------- validation


CASES = {
    "subject-dependent": ({}, dict(n_subjects=2, n_trials=12)),
    "subject-independent": ({}, dict(n_subjects=8, n_trials=2)),
    "seed-session": ({}, dict(n_subjects=1, n_trials=15, sessions=2)),
    "cross-session": ({}, dict(n_subjects=1, n_trials=4, sessions=6)),
    "stimulus-independent": ({}, dict(n_subjects=1, n_trials=12, sessions=2, clips=True)),
    "subject-stimulus-independent": ({}, dict(n_subjects=8, n_trials=10, clips=True)),
    "pinn-paper": ({}, dict(n_subjects=2, n_trials=4, n_windows=20)),
    "leaky-window-kfold": ({}, dict(n_subjects=2, n_trials=4, n_windows=20)),
    "rbtransformer-paper": ({"inner_cv": "StratifiedKFold"}, dict(n_subjects=2, n_windows=20)),
}


@pytest.mark.parametrize("name", CASES)
def test_validation_keeps_the_protocols_unit_whole(name):
    options, design = CASES[name]
    groups, y = grid(**design)
    protocol = protocols.get(name, **options)
    train, _ = next(protocol.split(None, y, groups))
    fit, val = protocol.validation(groups[train], y[train], seed=3)
    assert len(val) and len(fit) + len(val) == len(train)
    if protocol.validation_unit != "window":
        assert not shares(groups[train], fit, val, protocol.validation_unit)
    assert not set(fit) & set(val)
    assert set(np.unique(y[train][fit])) == set(np.unique(y[train]))  # no class lost in fit
    assert 0.1 < len(val) / len(train) < 0.35  # about a fifth of the units


def test_validation_takes_an_inner_cv_by_name_and_refuses_one_that_splits_units():
    groups, y = grid(n_subjects=1, n_trials=12)
    protocol = protocols.get(
        "subject-dependent", inner_cv="GroupKFold", inner_kwargs={"n_splits": 3}
    )
    train, _ = next(protocol.split(None, y, groups))
    fit, val = protocol.validation(groups[train], y[train], 0)
    assert not shares(groups[train], fit, val, "trial") and len(val) > len(train) / 4
    broken = protocols.get("subject-dependent", inner_cv="KFold")
    with pytest.raises(ValueError, match="KFold put"):
        broken.validation(groups[train], y[train], 0)
    with pytest.raises(ValueError, match="unknown inner_cv"):
        protocols.get("subject-dependent", inner_cv="Holdout").validation(groups, y, 0)
    none = protocols.get("subject-dependent", inner_cv="none").validation(
        groups[train], y[train], 0
    )
    assert len(none[1]) == 0


def test_validation_is_empty_when_units_are_too_few():
    groups, y = grid(n_subjects=3, n_trials=2)
    protocol = protocols.get("subject-independent")
    train, _ = next(protocol.split(None, y, groups))
    fit, val = protocol.validation(groups[train], y[train], 0)  # 2 subjects for 5 folds
    assert len(val) == 0 and len(fit) == len(train)


def test_a_broken_split_is_caught():
    class Broken(protocols.SubjectDependent):
        def _splits(self, groups, y):
            yield np.arange(len(groups) - 1), np.array([len(groups) - 2, len(groups) - 1])

    groups, y = grid()
    with pytest.raises(LeakageError, match="window"):
        list(Broken().split(None, y, groups))


def test_histn_si_validation_takes_whole_pretraining_subjects_never_calibration():
    groups, y = histn_grid(n_subjects=4, n_trials=3)
    protocol = protocols.get("histn-si", inner_cv="GroupKFold", inner_kwargs={"n_splits": 3})
    train, test = next(protocol.split(None, y, groups))
    fit, val = protocol.validation(groups[train], y[train], seed=0)
    calibration = protocol.calibration(groups[train])
    assert set(calibration) <= set(fit) and len(val)
    assert np.unique(groups["subject"][train][val]).size == 1  # one whole pretraining subject
    assert not shares(groups[train], fit, val, "subject")
