"""EEG and physiology fused: the "de+peripheral" recipe on DEAP and DREAMER, and benchmark rows
for EEG-only, physiology-only and fused features on the same windows and folds, so the gain of
fusion is a paired comparison."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from physioemo.cli import main
from physioemo.experiment.plan import build
from physioemo.experiment.spec import Experiment
from physioemo.features import recipes

FEATURES = ["de", "peripheral", "de+peripheral"]


@pytest.mark.parametrize(
    "dataset, seconds, baseline, physiology",
    [  # DEAP's 3-s baselines are shorter than half a 10-s window: no DE baseline there
        ("deap", 12, "none", ["hr_mean", "sdnn", "rmssd", "resp_rate", "temp_mean", "temp_slope"]),
        ("dreamer", 20, "auto", ["hr_mean", "sdnn", "rmssd"]),  # baselines a third of a clip
    ],
)
def test_eeg_physiology_and_fused_rows_share_windows_and_folds(
    dataset, seconds, baseline, physiology
):
    experiment = Experiment(
        datasets=[dataset],
        models=["logreg"],
        features=FEATURES,
        protocols=["subject-dependent"],
        dimensions=["arousal"],
        feature_options={"window": 10.0, "stride": 2.0, "baseline": baseline},
        synthetic={"subjects": 2, "seconds": seconds},
    )
    plan = build(experiment, echo=lambda *_: None)
    sets = {w.info["recipe"]: w for w in plan.windows.values()}
    assert set(sets) == set(FEATURES)
    de, body, fused = (sets[name] for name in FEATURES)
    assert body.info["feature_names"][: len(physiology)] == physiology
    for windows in (body, fused):
        np.testing.assert_array_equal(windows.groups, de.groups)  # the same windows
    # fused = DE per channel and band, then the peripheral features, window by window
    n_de = de.X[0].size
    np.testing.assert_array_equal(fused.X[:, :n_de], de.X.reshape(len(de), -1))
    np.testing.assert_array_equal(fused.X[:, n_de:], body.X)
    folds = {}
    for job in plan.jobs:
        folds.setdefault(job.features, {})[job.fold] = (job.train.tolist(), job.test.tolist())
    assert folds["de"] == folds["peripheral"] == folds["de+peripheral"] and len(folds["de"]) > 2


def test_bench_runs_eeg_only_physiology_only_and_fused_rows(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["bench", "--dataset", "dreamer", "--features", *FEATURES, "--models", "logreg"]
    args += ["--window", "10", "--stride", "5", "--dimensions", "arousal", "--quiet"]
    args += ["--synthetic-subjects", "2", "--synthetic-seconds", "20", "--no-report"]
    assert main([*args, "--out", str(out)]) == 0
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    by_features = {}
    for row in rows:
        by_features.setdefault(row["features"], []).append((row["fold"], row["subjects"]))
    assert set(by_features) == set(FEATURES)
    assert by_features["de"] == by_features["peripheral"] == by_features["de+peripheral"]
    assert "| de+peripheral | arousal |" in capsys.readouterr().out


def test_fused_recipe_reads_eeg_and_physiology():
    fused = recipes.get("de+peripheral")
    assert fused.applies_to(("eeg", "ecg")) and not fused.applies_to(("eeg",))
    assert not fused.applies_to(("ecg", "eda"))  # WESAD: no EEG
    assert recipes.get("peripheral").applies_to(("eeg", "eda", "resp", "ppg", "temp"))
