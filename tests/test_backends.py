"""Where a run goes (issue 25): features computed per subject on the backend, the shared data
in the run folder, devices refused in one line, and the cost estimate against the time taken."""

import json
import multiprocessing
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from physioemo import datasets
from physioemo.errors import DataQualityWarning
from physioemo.experiment import Experiment, backends, run
from physioemo.experiment.estimate import estimate, makespan
from physioemo.experiment.feature_jobs import feature_sets
from physioemo.experiment.plan import build
from physioemo.features import recipes
from physioemo.features.cache import feature_folder

ROOT = Path(__file__).resolve().parents[1]
QUIET = {"progress": False, "echo": lambda *a: None, "report": False}


def _equal_sets(found, expected) -> None:
    np.testing.assert_array_equal(found.X, expected.X)
    np.testing.assert_array_equal(found.groups, expected.groups)
    for name, values in expected.ratings.items():
        np.testing.assert_array_equal(found.ratings[name], values)
    assert found.info == expected.info


@pytest.fixture(scope="module")
def own_dreamer(tmp_path_factory):
    """A DREAMER.mat of this module's own: its feature cache entries stay out of the others'."""
    from physioemo.datasets.synthetic import write_dreamer

    return write_dreamer(tmp_path_factory.mktemp("own"), subjects=4, seconds=12.0, seed=3)


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_features_cut_per_subject_on_the_backend_equal_one_pass(own_dreamer, backend):
    dataset = datasets.load("dreamer", own_dreamer)
    wanted = {"de": {"window": 2.0}, "raw": {}}
    executor = backends.create(backend, 2)
    found = feature_sets("dreamer", own_dreamer, dataset, wanted, executor=executor)
    requests = [(recipes.get(n), recipes.get(n).parameters(**o)) for n, o in wanted.items()]
    for (name, _), expected in zip(wanted.items(), recipes.compute(dataset, requests), strict=True):
        windows, _, status = found[name]
        assert status in ("wrote", "read")
        _equal_sets(windows, expected)
    names = [p.name for p in feature_folder().glob("dreamer-*.npz")]
    again = feature_sets("dreamer", own_dreamer, dataset, wanted)  # whole sets, cached
    assert {status for _, _, status in again.values()} == {"read"}
    assert len(names) == len(set(names))  # the subjects' entries went once the sets were stored


def test_short_trials_of_every_subject_are_named_in_one_warning(tmp_path):
    from physioemo.datasets.synthetic import write_dreamer

    root = write_dreamer(tmp_path / "short", subjects=3, seconds=3.0, seed=1)
    dataset = datasets.load("dreamer", root)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = feature_sets("dreamer", root, dataset, {"de": {"window": 3.5}, "raw": {}})
    # DREAMER clips here last about 3 s: some are shorter than 3.5 s, none shorter than 1 s
    lines = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert len(lines) == 1 and lines[0].startswith("de: skipped ")
    assert {"s01", "s02", "s03"} <= set(lines[0].replace(" session", " ").split())
    assert len(found["raw"][0]) > 0
    with pytest.raises(ValueError, match="every trial is shorter than one window, e.g. subject"):
        feature_sets("dreamer", root, dataset, {"de": {"window": 60.0}})


# ----------------------------------------------------------------------------- devices
@pytest.mark.parametrize("backend", ["serial", "processes", "ray"])
def test_device_cuda_is_refused_in_one_line_without_a_gpu(backend, own_dreamer, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    if backend == "ray":
        pytest.importorskip("ray")
    command = [sys.executable, "-m", "physioemo.cli", "bench", "--root", str(own_dreamer)]
    command += ["--out", str(tmp_path / "run"), "--models", "logreg", "--backend", backend]
    command += ["--device", "cuda", "--jobs", "2", "--no-report"]
    found = subprocess.run(
        command, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True
    )
    assert found.returncode == 2, found.stderr
    [line] = found.stderr.splitlines()
    assert line.startswith("physioemo: error: --device cuda: ") and "no GPU" in line.replace(
        "no CUDA GPU", "no GPU"
    )
    assert "Traceback" not in found.stderr


def test_workers_spread_over_the_gpus(monkeypatch):
    monkeypatch.setattr(backends, "gpu_count", lambda: 2)
    assert [backends.worker_device("cuda", i) for i in range(3)] == ["cuda:0", "cuda:1", "cuda:0"]
    assert backends.worker_device("auto", 3) == "cuda:1"
    assert backends.worker_device("cpu", 3) == "cpu"
    monkeypatch.setattr(backends, "gpu_count", lambda: 0)
    assert backends.worker_device("auto", 1) == "cpu"


def loaded(module: str) -> bool:
    return module in sys.modules


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="spawned workers"
)
def test_workers_fork_with_the_job_code_imported_and_run_in_the_drivers_environment(
    monkeypatch,
):
    """Workers share the forkserver's imports (`experiment.preload`, which nothing else
    imports) and see the driver's environment as it is when they start, not as it was when
    the forkserver started."""
    executor = backends.Processes(1)
    for value in ("first", "second"):
        monkeypatch.setenv("PHYSIOEMO_TEST_MARK", value)
        assert list(executor.map(os.getenv, ["PHYSIOEMO_TEST_MARK"])) == [
            ("PHYSIOEMO_TEST_MARK", value)
        ]
    modules = ["physioemo.experiment.preload", "torch", "sklearn"]
    assert dict(executor.map(loaded, modules)) == dict.fromkeys(modules, True)
    assert "physioemo.experiment.preload" not in sys.modules  # only the forkserver's


def test_rows_say_their_device_and_precision_and_the_shared_folder_goes(own_dreamer, tmp_path):
    experiment = Experiment(
        datasets=["dreamer"],
        roots={"dreamer": str(own_dreamer)},
        models=["eegnet", "logreg"],
        protocols=["subject-dependent"],
        dimensions=["arousal"],
        n_splits=3,
        seed=0,
        select={"subjects": ["s01"], "folds": [0]},
    )
    out = tmp_path / "run"
    (out / "shared" / "set-0").mkdir(parents=True)  # left by a run that was killed
    run(experiment, out=out, backend="processes", jobs=2, device="auto", precision="bf16", **QUIET)
    import csv

    with open(out / "results.csv") as f:
        rows = {r["model"]: r for r in csv.DictReader(f)}
    assert rows["eegnet"]["device"] == "cpu" and rows["eegnet"]["precision"] == "bf16"
    assert rows["logreg"]["device"] == "cpu" and rows["logreg"]["precision"] == ""
    assert not (out / "shared").exists() and not list((out / "checkpoints").iterdir())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["estimate"]["jobs"] == 2 and summary["estimate"]["workers"] == 2


def test_precisions_are_named_once_for_the_cli():
    from physioemo.training.device import PRECISIONS

    assert backends.PRECISIONS == PRECISIONS


# ----------------------------------------------------------------------------- estimates
def test_makespan_deals_the_longest_jobs_first():
    # 5 and 4 first, then each 3 to the least loaded worker: 4+3, 5+3, 7+3
    assert makespan([3, 5, 3, 4, 3], 2) == 10
    assert makespan([5, 4, 3], 8) == 5
    assert makespan([2.0] * 6, 1) == 12


def test_the_estimate_of_a_tiny_run_is_within_twice_the_time_it_took(own_dreamer, tmp_path):
    """Costs measured on this machine (once; cached), then the jobs run serially: the
    estimated CPU time and the sum of the jobs' fit and predict times agree within 2x."""
    experiment = Experiment(
        datasets=["dreamer"],
        roots={"dreamer": str(own_dreamer)},
        models=["histn", "eegnet", "logreg"],
        protocols=["subject-dependent"],
        dimensions=["arousal"],
        n_splits=3,
        seed=0,
        select={"subjects": ["s02"]},
    )
    plan = build(experiment, echo=lambda *a: None)
    found = estimate(plan.jobs, plan.windows, plan.targets)
    one_worker = found["cpu_seconds"] + found["startup"]  # every job, one start
    assert len(found["jobs"]) == 9 and found["wall_seconds"][1] == pytest.approx(one_worker)
    started = time.perf_counter()
    summary = run(experiment, out=tmp_path / "run", **QUIET)
    took = summary and json.loads((tmp_path / "run" / "summary.json").read_text())["estimate"]
    assert took["estimated_cpu_seconds"] == pytest.approx(one_worker, abs=1e-3)
    assert 0.5 <= took["estimated_cpu_seconds"] / took["actual_cpu_seconds"] <= 2.0, took
    assert took["actual_wall_seconds"] <= time.perf_counter() - started
