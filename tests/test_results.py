"""Results as tables: `Results.to_frame()` and `per_subject()` against scikit-learn's scores,
per_subject.csv in every run folder, and `experiment.load(RUN)` reading a run folder back."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from physioemo import datasets, extract_windows, labels, protocols
from physioemo.evaluation.summary import summarise
from physioemo.experiment import Experiment, Results, RunFolderError, cross_validate, load, run


@pytest.fixture(scope="module")
def cross_validated(small_dreamer):
    """Logistic regression on DE windows of 4 synthetic subjects, 2 folds of 2 subjects."""
    windows = extract_windows(datasets.load("dreamer", small_dreamer), kind="de", window=2.0)
    y = labels.make("dreamer", "binary", "arousal")(windows.ratings)
    protocol = protocols.get("subject-independent", n_splits=2)
    return cross_validate(windows, y, "logreg", protocol, labels="binary", dimension="arousal")


def test_cross_validate_returns_results_named_after_the_windows(cross_validated):
    assert isinstance(cross_validated, Results) and isinstance(cross_validated, list)
    assert (
        len(cross_validated) == 2 and repr(cross_validated) == "<Results: 2 jobs of 1 result rows>"
    )
    [entry] = cross_validated.summary()
    assert (entry["dataset"], entry["features"], entry["labels"]) == ("dreamer", "de", "binary")
    [plain] = summarise(cross_validated)  # the list-of-dicts users keep working
    assert plain["balanced_accuracy"] == entry["balanced_accuracy"]


def test_to_frame_has_one_row_per_fold_and_subject_scored_as_scikit_learn(cross_validated):
    frame = cross_validated.to_frame()
    assert len(frame) == 4  # 2 folds x 2 held-out subjects
    assert sorted(frame["subject"]) == ["s01", "s02", "s03", "s04"]
    assert set(frame["dataset"]) == {"dreamer"} and not frame["leaks"].any()
    for job in cross_validated:
        p = job["predictions"]
        for subject in np.unique(p["subject"]):
            mask = p["subject"] == subject
            [row] = frame[
                (frame["fold"] == job["fold"]) & (frame["subject"] == subject)
            ].itertuples()
            assert row.n_test == mask.sum() and row.subjects == job["subjects"]
            true, pred = p["y_true"][mask], p["y_pred"][mask]
            assert row.balanced_accuracy == pytest.approx(balanced_accuracy_score(true, pred))
            assert row.accuracy == pytest.approx(accuracy_score(true, pred))
            assert row.macro_f1 == pytest.approx(
                f1_score(true, pred, average="macro", labels=[0, 1], zero_division=0)
            )


def test_per_subject_puts_each_score_beside_its_chance(cross_validated):
    frame = cross_validated.per_subject()
    assert len(frame) == 4 and list(frame.columns[:8]) == [
        "dataset", "features", "model", "protocol", "labels", "dimension", "leaks", "subject",
    ]  # fmt: skip
    pooled = {}
    for job in cross_validated:
        p = job["predictions"]
        for subject in np.unique(p["subject"]):
            mask = p["subject"] == subject
            pooled[str(subject)] = (p["y_true"][mask], p["y_pred"][mask])
    for row in frame.itertuples():
        assert row.balanced_accuracy == pytest.approx(balanced_accuracy_score(*pooled[row.subject]))
        # one fold per subject: every label-only guess has a balanced accuracy of 1/2
        assert row.chance_balanced_accuracy == pytest.approx(0.5)
        assert 0 < row.chance_accuracy < 1
    summary = cross_validated.summary_frame()
    assert summary.loc[0, "balanced_accuracy"] == pytest.approx(frame["balanced_accuracy"].mean())
    assert summary.loc[0, "chance_balanced_accuracy"] == pytest.approx(0.5)


def test_every_run_folder_has_per_subject_csv_and_load_reads_it_back(small_dreamer, tmp_path):
    experiment = Experiment(
        datasets=["dreamer"], roots={"dreamer": str(small_dreamer)}, models=["logreg"],
        dimensions=["arousal"], n_splits=3, seed=0,
    )  # fmt: skip
    out = tmp_path / "run"
    run(experiment, out=out, progress=False, echo=lambda *a: None, report=False)
    results = load(out)
    assert isinstance(results, Results) and len(results) == 4 * 3 + 4
    assert results.experiment.models == ["logreg"] and results.experiment.seed == 0
    assert results.sources["dreamer"]["synthetic"] is False and results.environment["machine"]
    frame = results.to_frame()
    assert len(frame) == 16  # each fold holds one subject out here
    assert set(frame["protocol"]) == {"subject-dependent", "subject-independent"}
    written = pd.read_csv(out / "per_subject.csv")
    assert len(written) == 2 * 4  # two result rows x four subjects
    expected = results.per_subject()
    assert list(written.columns) == list(expected.columns)
    for score in ("balanced_accuracy", "chance_balanced_accuracy", "macro_f1", "chance_macro_f1"):
        np.testing.assert_allclose(written[score], expected[score], rtol=1e-5)
    stored = json.loads((out / "summary.json").read_text())["summary"]
    again = results.summary()
    assert [e["balanced_accuracy"] for e in stored] == [e["balanced_accuracy"] for e in again]
    for row in written.itertuples():  # pooled over the subject's folds, as scikit-learn scores
        jobs = [j for j in results if j["protocol"] == row.protocol]
        true = np.concatenate(
            [j["predictions"]["y_true"][j["predictions"]["subject"] == row.subject] for j in jobs]
        )
        pred = np.concatenate(
            [j["predictions"]["y_pred"][j["predictions"]["subject"] == row.subject] for j in jobs]
        )
        assert row.balanced_accuracy == pytest.approx(balanced_accuracy_score(true, pred), rel=1e-5)


def test_load_refuses_a_folder_that_is_no_run(tmp_path):
    with pytest.raises(RunFolderError, match="is not a run folder"):
        load(tmp_path)
