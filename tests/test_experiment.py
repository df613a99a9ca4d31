"""The experiment engine: every dataset through `bench`, the store, resume after Ctrl-C,
identical results on every backend, replay, merge, and the CLI reading the registries."""

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from physioemo import datasets, labels, protocols
from physioemo.cli import build_parser, main
from physioemo.evaluation.summary import summarise
from physioemo.experiment import Experiment, backends, cross_validate, merge, run
from physioemo.experiment.jobs import Job
from physioemo.experiment.plan import preset_for
from physioemo.features import recipes
from physioemo.models import MODELS
from physioemo.recording import WindowSet, trial_keys

ROOT = Path(__file__).resolve().parents[1]
QUIET = {"progress": False, "echo": lambda *a: None, "report": False}
#: results.csv columns that describe where and how fast a job ran, not what it computed
MACHINE_COLUMNS = {"seconds_fit", "seconds_predict", "host", "pid", "finished"}


def results(folder) -> list[dict]:
    """results.csv of a run folder without its machine columns, sorted by job key."""
    with open(Path(folder) / "results.csv") as f:
        rows = [{k: v for k, v in r.items() if k not in MACHINE_COLUMNS} for r in csv.DictReader(f)]
    return sorted(rows, key=lambda r: r["key"])


def predictions(folder) -> dict:
    """job key -> y_pred of every stored job."""
    from physioemo.experiment.store import Store

    with Store(Path(folder) / "store.sqlite") as store:
        return {r["key"]: r["predictions"]["y_pred"] for r in store.rows(predictions=True)}


# ----------------------------------------------------------------------------- science
@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    """Summary per (dimension, protocol) of logistic regression on 12 synthetic subjects."""
    from physioemo.datasets.synthetic import write_dreamer

    path = write_dreamer(tmp_path_factory.mktemp("science"), subjects=12, seconds=24.0, seed=11)
    de = recipes.get("de")
    [windows] = recipes.compute(datasets.load("dreamer", path), [(de, de.parameters())])
    found = []
    for dimension in ("valence", "arousal"):
        y = labels.make("dreamer", "binary", dimension)(windows.ratings)
        for name in ("subject-dependent", "subject-independent", "leaky-window-kfold"):
            protocol = protocols.get(name)
            found += cross_validate(windows, y, "logreg", protocol, dimension=dimension)
    return {(e["dimension"], e["protocol"]): e for e in summarise(found)}


@pytest.mark.parametrize("dimension", ["valence", "arousal"])
def test_subject_dependent_beats_chance_and_subject_independent(scores, dimension):
    dependent = scores[dimension, "subject-dependent"]
    independent = scores[dimension, "subject-independent"]
    assert dependent["accuracy"] > dependent["chance"]["accuracy"] + 0.05
    assert dependent["macro_f1"] > 0.6
    assert dependent["accuracy"] > independent["accuracy"] + 0.05
    assert dependent["accuracy"] < 0.97  # modest effects: no perfect scores honestly


@pytest.mark.parametrize("dimension", ["valence", "arousal"])
def test_leaky_window_split_scores_higher_than_honest_split(scores, dimension):
    leaky = scores[dimension, "leaky-window-kfold"]
    assert leaky["leaks"] and not scores[dimension, "subject-dependent"]["leaks"]
    assert leaky["accuracy"] > scores[dimension, "subject-dependent"]["accuracy"] + 0.05


def test_summary_pools_each_subjects_predictions_and_uses_every_label_only_guess(scores):
    entry = scores["arousal", "subject-independent"]
    assert entry["n_subjects"] == 12 and entry["n_jobs"] == 12
    assert 0 < entry["chance"]["accuracy"] < 1 and entry["accuracy_std"] > 0
    # one fold per subject: every label-only guess has a balanced accuracy of 1/2 there
    assert entry["chance"]["balanced_accuracy"] == pytest.approx(0.5)
    assert set(entry["beats_chance"]) == set(entry["chance"]) == set(entry["chance_strategy"])


# ----------------------------------------------------------------------------- every dataset
SMALL = {
    "dreamer": {"subjects": 3, "seconds": 10.0},
    "deap": {"subjects": 3, "seconds": 12.0},
    "seed": {"subjects": 2, "seconds": 4.0},
    "seed-iv": {"subjects": 2, "seconds": 6.0},
    "wesad": {"subjects": 4, "seconds": 150.0},
}


@pytest.mark.parametrize("name", list(SMALL))
def test_bench_runs_every_dataset(name, tmp_path, capsys):
    models = ["pinn", "logreg", "rf"] if name == "wesad" else ["logreg"]
    size = SMALL[name]
    argv = ["bench", "--dataset", name, "--models", *models, "--n-splits", "3"]
    argv += ["--synthetic-subjects", str(size["subjects"])]
    argv += ["--synthetic-seconds", str(size["seconds"]), "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    summary = json.loads((tmp_path / "summary.json").read_text())["summary"]
    assert {e["model"] for e in summary} == set(models)
    for entry in summary:
        assert entry["n_jobs"] == entry["n_planned"] > 0
        assert f"| {entry['model']} |" in printed
    if name == "wesad":
        assert {e["protocol"] for e in summary} == {"subject-independent"}  # subject-grouped
        pinn = next(e for e in summary if e["model"] == "pinn")
        # the EDA head tracks the signal: within each unseen subject it follows the ups and downs
        # (r), and overall it beats the best constant guess (the test windows' own mean) though
        # it cannot know an unseen subject's resting level (2-8 uS between subjects)
        from physioemo.evaluation.metrics import eda_metrics
        from physioemo.experiment import load

        folds = [job["predictions"] for job in load(tmp_path) if job["model"] == "pinn"]
        true = np.concatenate([p["eda_true"] for p in folds])
        predicted = np.concatenate([p["eda_pred"] for p in folds])
        assert eda_metrics(true, predicted)["eda_rmse"] < true.std()
        assert pinn["eda_pearson_r"] > 0.9
    if name.startswith("seed"):
        assert {e["dimension"] for e in summary} == {"emotion"}


def test_bench_reads_the_feature_cache_that_features_wrote(small_dreamer, tmp_path, capsys):
    root = str(small_dreamer.parent)
    assert main(["features", "dreamer", "--root", root, "--quiet"]) == 0
    assert "wrote" in capsys.readouterr().out
    argv = ["bench", "--root", root, "--models", "logreg", "--out", str(tmp_path / "run")]
    assert main([*argv, "--dimensions", "arousal", "--protocols", "subject-independent"]) == 0
    assert "features ready" in capsys.readouterr().out
    assert main(["features", "dreamer", "--root", root, "--quiet"]) == 0
    assert "read" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the run folder
def small_experiment(root, **changes) -> Experiment:
    options = {
        "datasets": ["dreamer"],
        "roots": {"dreamer": str(root)},
        "models": ["logreg"],
        "dimensions": ["arousal"],
        "n_splits": 3,
        "seed": 0,
    }
    return Experiment(**{**options, **changes})


def test_run_folder_holds_store_experiment_environment_and_exports(small_dreamer, tmp_path):
    out = tmp_path / "run"
    result = run(small_experiment(small_dreamer), out=out, **QUIET)
    names = {p.name for p in out.iterdir()}
    assert {"store.sqlite", "experiment.toml", "environment.json", "commands.txt"} <= names
    assert {"results.csv", "summary.json", "summary.md"} <= names
    environment = json.loads((out / "environment.json").read_text())
    for library in ("physioemo", "python", "numpy", "scipy", "scikit-learn", "torch", "mne"):
        assert environment["versions"][library]
    assert "numba" in environment["versions"] and "brainflow" in environment["versions"]
    assert f"{os.cpu_count()} cores" in environment["machine"]  # what machine it ran on
    assert "running" not in names  # the jobs' marker folder is removed once empty
    with sqlite3.connect(out / "store.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        stored = db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    assert stored == len(results(out)) == 4 * 3 + 4  # 4 subjects x 3 folds + 4 held-out subjects
    assert len(result["summary"]) == 2


def test_rerun_does_only_missing_jobs_and_adds_models(small_dreamer, tmp_path):
    out = tmp_path / "run"
    run(small_experiment(small_dreamer), out=out, **QUIET)
    lines = []
    run(small_experiment(small_dreamer), out=out, progress=False, echo=lines.append)
    assert any("16 already in" in line and "running 0" in line for line in lines)
    run(small_experiment(small_dreamer, models=["svm"]), out=out, **QUIET)
    assert {r["model"] for r in results(out)} == {"logreg", "svm"}  # nothing replaced
    assert len(results(out)) == 32
    assert "svm" in (out / "experiment.toml").read_text()


def test_other_experiment_and_unwritable_folder_are_refused_before_work(
    small_dreamer, tmp_path, capsys
):
    out = tmp_path / "run"
    run(small_experiment(small_dreamer), out=out, **QUIET)
    argv = ["bench", "--root", str(small_dreamer), "--models", "logreg", "--out", str(out)]
    assert main([*argv, "--dimensions", "arousal", "--n-splits", "4"]) == 2
    error = capsys.readouterr().err
    assert "holds another experiment" in error and "n_splits" in error and "\n" not in error[:-1]
    assert "n_splits 3 vs 4" in error  # the field and both values
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should go")
    started = time.perf_counter()
    assert main([*argv[:-1], str(blocked / "run"), "--quiet"]) == 2
    assert "cannot write into" in capsys.readouterr().err
    assert time.perf_counter() - started < 5  # refused before loading or computing anything


def test_replay_from_the_run_folders_experiment_file(small_dreamer, tmp_path):
    first = tmp_path / "first"
    run(small_experiment(small_dreamer, models=["logreg", "svm"]), out=first, **QUIET)
    again = tmp_path / "again"
    assert main(["bench", str(first / "experiment.toml"), "--out", str(again), "--quiet"]) == 0
    assert results(again) == results(first)


def test_the_run_folders_experiment_file_replays_the_defaults_it_ran(
    small_dreamer, tmp_path, monkeypatch
):
    from dataclasses import replace

    from physioemo.datasets import CARDS

    first = tmp_path / "first"
    run(small_experiment(small_dreamer, seed=None), out=first, **QUIET)  # default protocols
    stored = (first / "experiment.toml").read_text()
    assert stored.startswith("# seed absent: each protocol and training preset uses its own")
    frozen = Experiment.from_toml(first / "experiment.toml").per_dataset["dreamer"]
    assert frozen == {
        "protocols": ["subject-dependent", "subject-independent"],
        "labels": ["binary"],
    }  # models and dimensions were given; the dataset has files: no synthetic size
    # a later version with other defaults replays the same jobs from the file
    monkeypatch.setitem(
        CARDS, "dreamer", replace(CARDS["dreamer"], protocols=("rbtransformer-paper",))
    )
    again = tmp_path / "again"
    assert main(["bench", str(first / "experiment.toml"), "--out", str(again), "--quiet"]) == 0
    assert results(again) == results(first)


def test_resolved_keeps_each_datasets_own_defaults_and_synthetic_size(tmp_path):
    experiment = Experiment(datasets=["dreamer", "wesad"], models=["logreg"])
    experiment.synthetic = {"subjects": 3}
    resolved = experiment.resolved()
    assert resolved.per_dataset == {
        "dreamer": {
            "protocols": ["subject-dependent", "subject-independent"],
            "labels": ["binary"],
            "dimensions": ["valence", "arousal"],
            "synthetic": {"subjects": 3, "seconds": 20.0, "seed": 0},
        },
        "wesad": {
            "protocols": ["subject-independent"],
            "labels": ["3-class"],
            "dimensions": ["condition"],
            "synthetic": {"subjects": 3, "seconds": 150.0, "seed": 0},
        },
    }
    path = tmp_path / "experiment.toml"
    path.write_text(resolved.to_toml())
    replayed = Experiment.from_toml(path)
    assert replayed == resolved and replayed.models == ["logreg"]
    for dataset in ("dreamer", "wesad"):
        for key in ("models", "protocols", "labels", "dimensions"):
            assert replayed.values_for(dataset, key) == experiment.values_for(dataset, key)
        assert replayed.synthetic_for(dataset) == experiment.synthetic_for(dataset)
    # a slice with other models joins per dataset, never running a model on another dataset
    from physioemo.experiment.run import union

    grown = union(resolved, Experiment(datasets=["wesad"], models=[]).resolved())
    assert grown.models == [] and grown.models_for("dreamer") == ["logreg"]
    assert grown.models_for("wesad") == ["logreg", "pinn", "rf"]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"threshold": 4.0}, "threshold - vs 4.0"),
        ({"feature_options": {"window": 2.0}}, "feature_options.window - vs 2.0"),
        ({"n_splits": 3, "profile": "full"}, "n_splits 5 vs 3; profile quick vs full"),
    ],
)
def test_differing_experiments_name_each_field_and_both_values(changes, named):
    from physioemo.experiment.run import _differences

    assert _differences(Experiment(), Experiment(**changes)) == named


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("protocol_options = 3", "protocol_options must be a table"),
        ("per_dataset = 3", "per_dataset must be a table"),
        ("[per_dataset.dreamer]\nmodels = ['nope']", "unknown per_dataset.dreamer.models 'nope'"),
        ("[per_dataset.dreamer]\ndimensions = ['emotion']", "per_dataset.dreamer.dimensions"),
        ("[per_dataset.nowhere]", "per_dataset.nowhere is not a dataset's table"),
        ("[per_dataset.dreamer.synthetic]\nsubjects = 1", "per_dataset.dreamer.synthetic.subjects"),
    ],
)
def test_a_bad_experiment_table_is_refused_naming_it(text, message, tmp_path):
    path = tmp_path / "experiment.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        Experiment.from_toml(path)


def test_the_wesad_header_counts_the_channels_info_counts(tmp_path):
    from physioemo.datasets.synthetic import write_wesad

    dataset = datasets.load("wesad", write_wesad(tmp_path, subjects=2, seconds=20.0))
    assert f"{dataset.info()['n_channels']} channels" in repr(dataset)
    assert "14 channels in 10 streams at 4-700 Hz" in repr(dataset)


def test_merge_of_slices_equals_the_whole_run(small_dreamer, tmp_path):
    whole = tmp_path / "whole"
    run(small_experiment(small_dreamer, models=["logreg", "svm"]), out=whole, **QUIET)
    parts = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    run(small_experiment(small_dreamer, select={"subjects": ["s01", "s02"]}), out=parts[0], **QUIET)
    run(small_experiment(small_dreamer, select={"subjects": ["s03", "s04"]}), out=parts[1], **QUIET)
    run(small_experiment(small_dreamer, models=["svm"]), out=parts[2], **QUIET)
    assert main(["merge", *map(str, parts), "--out", str(tmp_path / "merged")]) == 0
    assert results(tmp_path / "merged") == results(whole)
    different = tmp_path / "different"
    run(small_experiment(small_dreamer, n_splits=4), out=different, **QUIET)
    with pytest.raises(ValueError, match="different experiments: they differ in n_splits 3 vs 4"):
        merge([whole, different], tmp_path / "nope")


def test_slices_select_held_out_subjects_and_folds(small_dreamer, tmp_path):
    experiment = small_experiment(small_dreamer, select={"subjects": ["s02"], "folds": [0, 4]})
    run(experiment, out=tmp_path, **QUIET)
    rows = results(tmp_path)
    # subject-dependent folds run per subject (s02 has folds 3-5); leave-one-out fold 0 is s01
    assert [(r["protocol"], r["fold"], r["subjects"]) for r in rows] == [
        ("subject-dependent", "4", "s02")
    ]


# ----------------------------------------------------------------------------- interruption
def bench_command(root, out, *extra, model="rf") -> list[str]:
    """`physioemo bench` in a subprocess: arousal, 3 folds, 16 jobs of `model`."""
    argv = [sys.executable, "-m", "physioemo.cli", "bench", "--root", str(root), "--out", str(out)]
    return argv + [
        "--no-report",
        "--models",
        model,
        "--n-splits",
        "3",
        "--seed",
        "0",
        "--dimensions",
        "arousal",
        *extra,
    ]


def stored_jobs(out) -> int:
    try:
        with sqlite3.connect(Path(out) / "store.sqlite", timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_ctrl_c_keeps_finished_jobs_and_the_rerun_completes_them(small_dreamer, tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "interrupted"
    process = subprocess.Popen(
        bench_command(small_dreamer, out),
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as from a terminal, even when the suite itself runs with SIGINT ignored
        # (started in the background by a non-interactive shell)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 120
    while stored_jobs(out) < 5 and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 130, error
    assert "Traceback" not in error
    kept = stored_jobs(out)
    total = 4 * 3 + 4
    assert 5 <= kept < total
    assert (out / "results.csv").exists()  # exported on the way out
    rerun = subprocess.run(
        bench_command(small_dreamer, out), env=environment, capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{kept} already in" in rerun.stdout and f"running {total - kept}" in rerun.stdout
    whole = tmp_path / "whole"
    experiment = small_experiment(small_dreamer, models=["rf"])
    run(experiment, out=whole, **QUIET)
    assert predictions(out).keys() == predictions(whole).keys()
    for key, values in predictions(whole).items():
        np.testing.assert_array_equal(predictions(out)[key], values)
    assert results(out) == results(whole)


def children(pid) -> list[str]:
    """Process ids of the children of `pid` (Linux; none once it ended)."""
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def forkservers(pid) -> list[str]:
    """The forkserver of `pid`'s worker processes, once it started."""
    try:
        return [
            c for c in children(pid) if b"forkserver" in Path(f"/proc/{c}/cmdline").read_bytes()
        ]
    except OSError:  # a child that ended meanwhile
        return []


def worker_processes(pid) -> list[str]:
    """Process ids of the worker processes of `pid` (Linux): its forkserver's children."""
    return [worker for server in forkservers(pid) for worker in children(server)]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("moment", ["forkserver importing", "workers starting"])
def test_ctrl_c_while_workers_start_gives_no_traceback(small_dreamer, tmp_path, moment):
    """A terminal sends Ctrl-C to the whole process group: the forkserver while it imports
    what the workers need, and the workers as they start, included."""
    process = subprocess.Popen(
        bench_command(small_dreamer, tmp_path / "run", "--jobs", "2"),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as under a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    started = forkservers if moment == "forkserver importing" else worker_processes
    deadline = time.time() + 120
    while len(started(process.pid)) < (1 if started is forkservers else 2):
        assert process.poll() is None and time.time() < deadline, process.communicate()[1]
        time.sleep(0.005)
    if started is forkservers:
        time.sleep(0.2)  # within the seconds of its imports (workers start in milliseconds)
    os.killpg(process.pid, signal.SIGINT)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 130, error
    assert "Traceback" not in error and "KeyboardInterrupt" not in error
    deadline = time.time() + 60  # a forkserver still importing ends once its imports are done
    while in_group(process.pid) and time.time() < deadline:
        time.sleep(0.1)
    assert not in_group(process.pid)  # no worker or forkserver left behind


def in_group(group: int) -> list[int]:
    """Processes of the process group `group` (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.getpgid(int(entry.name)) == group:
                found.append(int(entry.name))
        except ProcessLookupError:  # ended meanwhile
            pass
    return found


# ----------------------------------------------------------------------------- backends
def test_serial_processes_and_ray_give_identical_results(small_dreamer, tmp_path):
    pytest.importorskip("ray")
    experiment = small_experiment(
        small_dreamer, models=["logreg", "eegnet"], select={"subjects": ["s01", "s02"]}
    )
    runs = {}
    for backend in ("serial", "processes", "ray"):
        runs[backend] = tmp_path / backend
        run(experiment, out=runs[backend], backend=backend, jobs=2, **QUIET)
    reference = predictions(runs["serial"])
    assert len(reference) == 2 * (2 * 3 + 2)  # 2 models x 2 subjects x (3 folds + held out)
    for backend in ("processes", "ray"):
        found = predictions(runs[backend])
        assert found.keys() == reference.keys()
        for key in reference:
            np.testing.assert_array_equal(found[key], reference[key], err_msg=backend)
        assert results(runs[backend]) == results(runs["serial"])


@pytest.mark.parametrize("backend", ["processes", "ray"])
def test_a_killed_worker_has_its_job_run_again(backend, small_dreamer, tmp_path):
    if backend == "ray":
        pytest.importorskip("ray")
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "run"
    command = bench_command(small_dreamer, out, "--backend", backend, "--jobs", "2")
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    killed, deadline = None, time.time() + 180
    while killed is None and process.poll() is None and time.time() < deadline:
        for marker in (out / "running").glob("*.json"):
            try:
                pid = json.loads(marker.read_text())["pid"]
            except (OSError, ValueError):
                continue
            os.kill(pid, signal.SIGKILL)
            killed = marker.stem
            break
        time.sleep(0.02)
    output, error = process.communicate(timeout=300)
    assert killed is not None, "no job was seen running"
    assert process.returncode == 0, error
    assert killed in predictions(out)  # the killed job ran again and was stored
    assert stored_jobs(out) == 4 * 3 + 4
    assert "FAILED" not in output


def test_a_worker_that_cannot_start_fails_its_jobs_instead_of_restarting_for_ever(tmp_path):
    groups = np.zeros(4, dtype=[("subject", "U8"), ("session", "i8"), ("trial", "i8")])
    windows = WindowSet(np.zeros((4, 2)), groups, {})
    unreadable = np.array([None] * 4, dtype=object)  # pickled on save; workers refuse pickles
    (tmp_path / "running").mkdir()
    job = Job(
        key="k",
        dataset="synthetic",
        features="de",
        model="logreg",
        preset=None,
        protocol="subject-dependent",
        labels="binary",
        dimension="arousal",
        fold=0,
        subjects=(),
        leaks=False,
        data="w",
        target="y",
        train=np.arange(2),
        test=np.arange(2, 4),
        running_dir=str(tmp_path / "running"),
    )
    outcome = list(backends.Processes(1).run([job], {"w": windows}, {"y": unreadable}))
    assert outcome == [(job, backends.Failure(f"its worker process died {backends.RETRIES} times"))]


# ----------------------------------------------------------------------------- the CLI
def test_every_registry_entry_is_accepted_by_the_cli():
    from physioemo.datasets import CARDS, scheme_names
    from physioemo.features.recipes import RECIPES
    from physioemo.protocols import PROTOCOLS

    parser = build_parser()
    for flag, registry in (
        ("--dataset", CARDS),
        ("--models", MODELS),
        ("--protocols", PROTOCOLS),
        ("--features", RECIPES),
        ("--labels", scheme_names()),
    ):
        for name in registry:
            parser.parse_args(["bench", flag, name])
    for name in RECIPES:
        parser.parse_args(["features", "dreamer", "--root", ".", "--recipe", name])


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--threshold", "100"], "threshold"),
        (["--threshold", "nan"], "argument --threshold: expected a finite number, got 'nan'"),
        (["--window", "inf"], "argument --window: expected a finite number > 0, got 'inf'"),
        (["--stride", "0"], "argument --stride: expected a finite number > 0, got '0'"),
        (["--n-splits", "1"], "n_splits"),
        (["--n-splits", "1000"], "n_splits"),
        (["--labels", "3-class"], "dreamer has none of the labels"),
        (["--dimensions", "emotion"], "dreamer has none of the dimensions"),
    ],
)
def test_bad_bench_arguments_give_one_line(flags, message, small_dreamer, tmp_path, capsys):
    argv = ["bench", "--root", str(small_dreamer), "--out", str(tmp_path), "--quiet", *flags]
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse refuses values its types reject
        code = stop.code
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert message in error and "error" in error


def test_quiet_prints_the_table_and_plain_lines_without_a_terminal(small_dreamer, tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    quiet = subprocess.run(
        bench_command(small_dreamer, tmp_path / "q", "--quiet", model="logreg"),
        env=environment,
        capture_output=True,
        text=True,
    )
    assert quiet.stdout.startswith("| dimension | protocol | model |") and not quiet.stderr
    talkative = subprocess.run(
        bench_command(small_dreamer, tmp_path / "t", model="logreg"),
        env=environment,
        capture_output=True,
        text=True,
    )
    assert "\r" not in talkative.stdout + talkative.stderr  # no progress bar in a log file
    assert "[16/16] dreamer de logreg subject-independent arousal" in talkative.stdout


def test_a_capped_fold_count_is_said(small_dreamer, tmp_path):
    lines = []
    experiment = small_experiment(small_dreamer, n_splits=30, protocols=["subject-dependent"])
    run(experiment, out=tmp_path, progress=False, echo=lines.append)
    assert any("fewer trials than n_splits=30" in line for line in lines)
    assert len(results(tmp_path)) == 4 * 18  # one fold per trial of each of the 4 subjects


def test_estimators_get_the_metadata_they_request_through_routing(small_dreamer):
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Recorder(ClassifierMixin, BaseEstimator):
        __metadata_request__fit = {"groups": True, "validation": True}
        seen = []

        def fit(self, X, y, groups=None, validation=None):
            Recorder.seen.append((len(X), groups, validation))
            self.classes_ = np.unique(y)
            return self

        def predict(self, X):
            return np.zeros(len(X), dtype=int)

    de = recipes.get("de")
    [windows] = recipes.compute(datasets.load("dreamer", small_dreamer), [(de, de.parameters())])
    y = labels.make("dreamer", "binary", "arousal")(windows.ratings)
    results = cross_validate(windows, y, Recorder(), protocols.get("subject-dependent"))
    assert len(results) == len(Recorder.seen) == 4 * 5
    for (n, groups, validation), result in zip(Recorder.seen, results, strict=True):
        assert groups.dtype.names and len(groups) == n == result["n_train"]
        trials = trial_keys(groups)
        held = set(trials[validation])  # whole training trials of the subject validate
        assert held and not held & set(np.delete(trials, validation))
        assert set(groups["subject"]) == {result["subjects"]}


@pytest.mark.parametrize(
    "profile, model, protocol, preset",
    [
        ("full", "histn", "subject-independent", "histn-si"),
        ("full", "histn", "subject-dependent", "histn"),
        ("full", "histn", "histn-sd", "histn"),
        ("full", "rbtransformer", "subject-independent", "rbtransformer"),
        ("full", "eegnet", "histn-si", "eegnet"),
        ("full", "eegnet", "subject-dependent", "eegnet"),
        ("full", "dgcnn", "subject-independent", "dgcnn"),
        ("quick", "histn", "subject-dependent", "histn-quick"),
        ("quick", "histn", "histn-sd", "histn-quick"),
        ("quick", "histn", "subject-independent", "histn-si-quick"),  # like-for-like with:
        ("quick", "histn", "histn-si", "histn-si-quick"),
        ("quick", "eegnet", "subject-independent", "eegnet-quick"),
        ("full", "logreg", "subject-independent", None),
    ],
)
def test_a_model_trains_on_its_recipe_for_the_protocols_unit(profile, model, protocol, preset):
    chosen = preset_for(Experiment(profile=profile), model, protocols.get(protocol))
    assert chosen == preset
