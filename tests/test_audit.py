"""The leakage audit flags each kind of leak on a constructed example and passes honest splits."""

import json

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from physioemo import protocols
from physioemo.evaluation.audit import (
    audit,
    audit_key,
    audit_protocol,
    inflation,
    leak_evidence,
    mark_leaks,
)
from physioemo.evaluation.exposure import stimulus_overlap
from physioemo.experiment import Experiment
from physioemo.experiment.plan import audit_only
from physioemo.protocols.papers import LeakyWindowKFold
from physioemo.recording import make_groups

SFREQ = 128.0


def design(n_subjects=3, n_trials=8, n_windows=10, sessions=1, step=128, clips="per session"):
    """1-s windows every `step` samples; trial labels alternate. clips: "per session" (every
    session shows other clips, all subjects the same ones, as SEED-IV) or "repeated" (every
    session shows the same clips, as SEED)."""
    parts, labels = [], []
    for s in range(n_subjects):
        for session in range(1, sessions + 1):
            for t in range(n_trials):
                starts = np.arange(n_windows) * step
                clip = f"clip{t + 1}" if clips == "repeated" else f"ses{session}-clip{t + 1}"
                parts.append(
                    make_groups(n_windows, f"s{s}", session, t + 1, starts, starts + 128, clip)
                )
                labels += [t % 2] * n_windows
    return np.concatenate(parts), np.array(labels)


def folds_of(name, groups, y, **options):
    return list(protocols.get(name, **options).split(None, y, groups))


@pytest.mark.parametrize("name", ["subject-dependent", "subject-independent"])
def test_honest_splits_pass(name):
    groups, y = design()
    unit = protocols.PROTOCOLS[name].unit
    result = audit(groups, folds_of(name, groups, y), SFREQ, gap=5.0, unit=unit)
    assert result["verdict"] == "honest" and result["leaks"] == []
    assert result["trials_on_both_sides"] == 0 and result["test_windows_near_training"] == 0
    assert result["subjects_on_both_sides"] == (3 if name == "subject-dependent" else 0)


def test_trials_on_both_sides_and_overlapping_windows():
    groups, y = design(step=64)  # windows overlap by half
    result = audit(groups, folds_of("leaky-window-kfold", groups, y), SFREQ, unit="window")
    assert result["trials_on_both_sides"] == 24  # every trial of every subject
    assert result["overlapping_test_windows"] > 0
    assert result["verdict"].startswith("LEAKS: 24 trial(s) with windows on both sides")


def test_test_windows_near_training_depend_on_the_gap():
    groups, y = design(n_subjects=1, n_trials=1, n_windows=10, step=128 * 4)  # 3 s apart
    train, test = np.arange(5), np.arange(5, 10)  # first half trains, second half tests
    near = audit(groups, [(train, test)], SFREQ, gap=5.0)
    far = audit(groups, [(train, test)], SFREQ, gap=2.0)
    assert near["test_windows_near_training"] == 1 and far["test_windows_near_training"] == 0
    assert near["overlapping_test_windows"] == 0
    assert "1 of 5 test windows within 5 s" in near["verdict"]
    assert far["trials_on_both_sides"] == 1 and far["verdict"].startswith("LEAKS")


def test_subjects_and_sessions_leak_only_when_the_protocol_holds_them_out():
    groups, y = design(n_subjects=2, n_trials=2, sessions=2)
    subject0 = groups["subject"] == "s0"
    session1 = groups["session"] == 1
    trials12 = groups["trial"] == 1
    # s0's trial 1 trains and its trial 2 tests: the subject and session are on both sides
    train = np.flatnonzero(~subject0 | trials12)
    test = np.flatnonzero(subject0 & ~trials12 & session1)
    as_subjectwise = audit(groups, [(train, test)], SFREQ, unit="subject")
    as_trialwise = audit(groups, [(train, test)], SFREQ, unit="trial")
    as_sessionwise = audit(groups, [(train, test)], SFREQ, unit="session")
    assert "1 subject(s) on both sides" in as_subjectwise["verdict"]
    assert "1 session(s) on both sides" in as_sessionwise["verdict"]
    assert as_trialwise["verdict"] == "honest"


def test_label_proxies_and_steps_fitted_on_test_data():
    groups, y = design()
    info = {
        "label_proxies": ["sam_valence", "panas_positive"],
        "fitted_on_all_windows": ["eda min-max per subject"],
    }
    dependent = audit(groups, folds_of("subject-dependent", groups, y), SFREQ, info=info)
    assert "inputs that proxy the label: sam_valence, panas_positive" in dependent["verdict"]
    assert dependent["fitted_on_test"] == ["eda min-max per subject"]  # test trials scaled it
    loso = audit(
        groups, folds_of("subject-independent", groups, y), SFREQ, info=info, unit="subject"
    )
    assert loso["fitted_on_test"] == []  # the held-out subject's own windows only
    per_trial = {"fitted_on_all_windows": {"max |x| per trial": "trial"}}
    assert (
        audit(groups, folds_of("subject-dependent", groups, y), SFREQ, info=per_trial)["verdict"]
        == "honest"
    )
    leaky = audit(groups, folds_of("leaky-window-kfold", groups, y), SFREQ, info=per_trial)
    assert leaky["fitted_on_test"] == ["max |x| per trial"]


def histn_design(n_subjects=3, n_trials=4):
    parts, labels = [], []
    starts = np.arange(0, 7680 - 128 + 1, 16)
    for s in range(n_subjects):
        for t in range(n_trials):
            parts.append(make_groups(len(starts), f"s{s}", 1 + t // 2, t + 1, starts, starts + 128))
            labels += [t % 2] * len(starts)
    return np.concatenate(parts), np.array(labels)


@pytest.mark.parametrize("name", list(protocols.PROTOCOLS))
def test_every_protocol_is_audited_as_it_declares(name):
    groups, y = histn_design() if name.startswith("histn") else design(sessions=2, n_trials=15)
    options = {"test_crops": 200} if name == "histn-sd" else {}
    result = audit_protocol(protocols.get(name, **options), groups, y, SFREQ)
    assert result["agrees"], result
    assert (result["verdict"] == "honest") == (not protocols.PROTOCOLS[name].leaks)


def test_inflation_in_points_on_trial_fingerprints(rng):
    """Windows carry their trial's fingerprint and nothing about the label: a split by windows
    recognises trials, a split by trials cannot."""
    groups, y = design(n_subjects=2, n_trials=12, n_windows=20)
    _, trial = np.unique(groups[["subject", "trial"]], return_inverse=True)
    X = rng.normal(size=(trial.max() + 1, 8))[trial] + 0.3 * rng.normal(size=(len(y), 8))
    score = {}
    for name in ("subject-dependent", "leaky-window-kfold"):
        hits = [
            np.mean(KNeighborsClassifier(1).fit(X[tr], y[tr]).predict(X[te]) == y[te])
            for tr, te in folds_of(name, groups, y)
        ]
        score[name] = float(np.mean(hits))
    assert score["subject-dependent"] < 0.7 and score["leaky-window-kfold"] > 0.95
    points = inflation(score["leaky-window-kfold"], score["subject-dependent"])
    assert points == pytest.approx(100 * (score["leaky-window-kfold"] - score["subject-dependent"]))
    assert points > 25
    assert inflation(0.965, 0.768) == pytest.approx(19.7)


# ----------------------------------------------------------------------------- stimuli


def overlap_by_hand(groups, folds) -> dict:
    """The stimulus counts trial by trial with Python sets (the reference)."""
    counts = dict.fromkeys(("test_trials", "by_subject", "by_others", "in_training"), 0)
    for train, test in folds:
        trained = {tuple(g[["subject", "session", "trial", "stimulus"]]) for g in groups[train]}
        tested = {tuple(g[["subject", "session", "trial", "stimulus"]]) for g in groups[test]}
        for subject, session, trial, clip in tested:
            same = [t for t in trained if t[3] == clip]
            counts["test_trials"] += 1
            other_trial = [t for t in same if t[1:3] != (session, trial)]
            counts["by_subject"] += any(t[0] == subject for t in other_trial)
            counts["by_others"] += any(t[0] != subject for t in same)
            counts["in_training"] += bool(same)
    return counts


def test_seed_clips_repeated_over_sessions_leak_within_a_subject():
    groups, y = design(n_subjects=3, n_trials=15, sessions=3, clips="repeated")  # SEED
    found = {
        name: audit_protocol(protocols.get(name), groups, y, SFREQ)
        for name in ("subject-dependent", "cross-session", "subject-independent")
        + ("stimulus-independent", "subject-stimulus-independent")
    }
    dependent = found["subject-dependent"]
    assert dependent["stimulus"] == {
        "test_trials": 135,
        "by_subject": 135,  # every test trial: its clip from another session trains
        "by_others": 0,
        "in_training": 135,
    }
    assert dependent["verdict"] == (
        "LEAKS: 135 of 135 test trials have their stimulus in training through another trial "
        "of the same subject"
    )
    assert found["cross-session"]["stimulus"]["by_subject"] == 135
    assert found["cross-session"]["verdict"].startswith("LEAKS: 135 of 135")
    independent = found["subject-independent"]["stimulus"]
    assert (independent["by_subject"], independent["by_others"]) == (0, 135)  # all saw them
    assert found["subject-independent"]["verdict"] == "honest"  # it claims unseen subjects
    for name in ("stimulus-independent", "subject-stimulus-independent"):
        assert found[name]["stimulus"]["in_training"] == 0 and found[name]["verdict"] == "honest"
        assert found[name]["agrees"]


def test_clips_seen_by_other_subjects_leak_when_a_protocol_holds_stimuli_out():
    groups, y = design(n_subjects=3, n_trials=6, clips="repeated")
    folds = folds_of("subject-independent", groups, y)
    claimed = audit(groups, folds, SFREQ, unit="subject", holds_out_stimuli=True)
    assert claimed["verdict"] == (
        "LEAKS: 18 of 18 test trials have their stimulus on both sides of a stimulus-wise split"
    )
    assert audit(groups, folds, SFREQ, unit="subject")["verdict"] == "honest"


def test_stimulus_counts_match_a_count_by_hand_on_random_folds(rng):
    groups, _ = design(n_subjects=4, n_trials=6, n_windows=3, sessions=2, clips="repeated")
    trials = np.unique(groups[["subject", "session", "trial"]], return_inverse=True)[1].ravel()
    folds = []
    for _ in range(5):
        side = rng.integers(0, 3, trials.max() + 1)[trials]  # 0 train, 1 test, 2 unused
        folds.append((np.flatnonzero(side == 0), np.flatnonzero(side == 1)))
    assert stimulus_overlap(groups, folds) == overlap_by_hand(groups, folds)
    unknown = groups.copy()
    unknown["stimulus"] = ""
    assert stimulus_overlap(unknown, folds) is None
    assert audit(unknown, folds, SFREQ)["stimulus"] is None


def test_a_target_scaled_with_test_data_is_flagged_under_every_split():
    groups, y = design()
    info = {"targets_fitted_on_all_windows": {"eda min-max per subject": "subject"}}
    for name, unit in (("subject-independent", "subject"), ("subject-dependent", "trial")):
        found = audit(groups, folds_of(name, groups, y), SFREQ, info=info, unit=unit)
        assert found["fitted_on_test"] == ["eda min-max per subject"]
        assert found["verdict"] == "LEAKS: fitted on test data: eda min-max per subject"
    plain = audit(groups, folds_of("subject-independent", groups, y), SFREQ, unit="subject")
    assert plain["verdict"] == "honest"


def test_synthetic_seed_names_its_clips_and_the_audit_flags_subject_dependent():
    experiment = Experiment(
        datasets=["seed"],
        protocols=["subject-dependent", "seed-session", "stimulus-independent"],
        synthetic={"subjects": 2, "seconds": 4.0},
    )
    audits = {a["protocol"]: a for a in audit_only(experiment, echo=lambda *_: None).values()}
    assert audits["subject-dependent"]["stimulus"]["by_subject"] == 90  # 2 x 3 sessions x 15
    assert (
        "90 of 90 test trials have their stimulus in training"
        in (audits["subject-dependent"]["verdict"])
    )
    assert audits["seed-session"]["verdict"] == "honest"  # clips 1-9 train, 10-15 test
    assert audits["stimulus-independent"]["verdict"] == "honest"


class WindowKFoldSaidHonest(LeakyWindowKFold):
    """A custom protocol that splits the windows of trials but declares no leak."""

    name = "window-kfold-said-honest"
    leaks = False
    leak = ""


def test_a_leak_the_audit_finds_marks_the_row_though_the_protocol_declares_none(
    tmp_path, monkeypatch
):
    from physioemo.experiment import Experiment, run
    from physioemo.protocols import PROTOCOLS

    monkeypatch.setitem(PROTOCOLS, WindowKFoldSaidHonest.name, WindowKFoldSaidHonest)
    experiment = Experiment(
        models=["logreg"],
        protocols=[WindowKFoldSaidHonest.name, "subject-dependent"],
        dimensions=["arousal"],
        synthetic={"subjects": 3, "seconds": 8.0, "seed": 2},
        n_splits=2,
    )
    out = tmp_path / "run"
    result = run(experiment, out=out, echo=lambda *_: None, report=False)
    rows = {e["protocol"]: e for e in result["summary"]}
    custom, honest = rows[WindowKFoldSaidHonest.name], rows["subject-dependent"]
    assert (custom["leaks"], custom["leak_evidence"]) == (True, ["audit"])
    assert (honest["leaks"], honest["leak_evidence"]) == (False, [])
    table = (out / "summary.md").read_text()
    assert f"| arousal | {WindowKFoldSaidHonest.name} (LEAKS) | logreg |" in table
    assert "| arousal | subject-dependent | logreg |" in table
    [pair] = result["inflation"]
    assert pair["leaky"]["protocol"] == WindowKFoldSaidHonest.name
    stored = json.loads((out / "summary.json").read_text())["summary"]
    assert [e["leaks"] for e in stored] == [e["leaks"] for e in result["summary"]]


def test_leak_evidence_is_the_declaration_or_the_audit():
    entry = {"dataset": "d", "features": "f", "labels": "l", "dimension": "x", "protocol": "p"}
    leaking = {audit_key(entry): {"verdict": "LEAKS: something"}}
    honest = {audit_key(entry): {"verdict": "honest"}}
    assert leak_evidence({**entry, "leaks": True}, honest) == ["declared"]
    assert leak_evidence({**entry, "leaks": False}, leaking) == ["audit"]
    assert leak_evidence({**entry, "leaks": True}, leaking) == ["declared", "audit"]
    assert leak_evidence({**entry, "leaks": False}, {}) == []
    [marked] = mark_leaks([{**entry, "leaks": False}], leaking)
    assert marked["leaks"] and mark_leaks([marked], leaking)[0]["leak_evidence"] == ["audit"]
