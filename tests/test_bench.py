"""The science of the synthetic data and the `bench` job end to end."""

import csv
import json

import numpy as np
import pytest

from physioemo.cli import main
from physioemo.datasets import load
from physioemo.evaluation.bench import BenchConfig, run_bench
from physioemo.evaluation.report import summarise
from physioemo.evaluation.runner import cross_validate
from physioemo.labels import scheme
from physioemo.models import make_baseline
from physioemo.protocols import get
from physioemo.windows import extract_windows


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    """Mean accuracy per (dimension, protocol) on 12 synthetic subjects."""
    from physioemo.datasets.synthetic import write_dreamer

    path = write_dreamer(tmp_path_factory.mktemp("science"), subjects=12, seconds=24.0, seed=11)
    windows = extract_windows(load("dreamer", path), baseline="subtract", progress=False)
    rows = []
    for dimension in ("valence", "arousal"):
        y = scheme("dreamer", dimension)(windows.ratings)
        for protocol in ("subject-dependent", "subject-independent", "leaky-window-kfold"):
            for row in cross_validate(
                windows.X, y, windows.groups, make_baseline, get(protocol), progress=False
            ):
                rows.append({"dimension": dimension, "protocol": protocol, "model": "lr", **row})
    return {(e["dimension"], e["protocol"]): e for e in summarise(rows)}


@pytest.mark.parametrize("dimension", ["valence", "arousal"])
def test_subject_dependent_beats_chance_and_subject_independent(scores, dimension):
    dependent = scores[dimension, "subject-dependent"]
    independent = scores[dimension, "subject-independent"]
    assert dependent["accuracy"] > dependent["chance"] + 0.05
    assert dependent["macro_f1"] > 0.6
    assert dependent["accuracy"] > independent["accuracy"] + 0.05
    assert dependent["accuracy"] < 0.97  # modest effects: no perfect scores honestly


@pytest.mark.parametrize("dimension", ["valence", "arousal"])
def test_leaky_window_split_scores_higher_than_honest_split(scores, dimension):
    leaky = scores[dimension, "leaky-window-kfold"]
    assert leaky["leaks"] and not scores[dimension, "subject-dependent"]["leaks"]
    assert leaky["accuracy"] > scores[dimension, "subject-dependent"]["accuracy"] + 0.05


def test_bench_writes_run_folder(tmp_path):
    config = BenchConfig(
        synthetic={"subjects": 3, "seconds": 10.0, "seed": 1}, n_splits=3, models=("logreg",)
    )
    out = tmp_path / "run"
    result = run_bench(config, out=out, progress=False, echo=lambda *a: None)
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * (3 * 3 + 3)  # 2 dimensions x (3 subjects x 3 folds + 3 LOSO folds)
    assert {r["protocol"] for r in rows} == {"subject-dependent", "subject-independent"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["synthetic"] and summary["versions"]["physioemo"]
    assert len(summary["summary"]) == 4 == len(result["summary"])
    assert "| valence | subject-dependent | logreg |" in (out / "summary.md").read_text()
    entry = summary["summary"][0]
    per_subject = [
        np.mean(
            [
                float(r["accuracy"])
                for r in rows
                if r["subject"] == s
                and r["protocol"] == entry["protocol"]
                and r["dimension"] == entry["dimension"]
            ]
        )
        for s in ("s01", "s02", "s03")
    ]
    assert entry["accuracy"] == pytest.approx(np.mean(per_subject))


def test_bench_cli_on_real_files_marks_leaky_rows(small_dreamer, tmp_path, capsys):
    out = tmp_path / "run"
    argv = [
        "bench",
        "--root",
        str(small_dreamer.parent),
        "--out",
        str(out),
        "--dimensions",
        "arousal",
    ]
    assert main([*argv, "--protocols", "leaky-window-kfold", "--folds", "3"]) == 0
    printed = capsys.readouterr().out
    assert "leaky-window-kfold (LEAKS)" in printed
    assert "LEAKS" in (out / "summary.md").read_text()


def test_bad_bench_arguments_give_one_line(small_dreamer, capsys):
    argv = ["bench", "--root", str(small_dreamer.parent), "--window", "600", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physioemo: error: ") and "longer than the signal" in err
    assert "\n" not in err
