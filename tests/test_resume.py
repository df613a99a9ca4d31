"""Folds that survive (issue 25): a torch fit interrupted by SIGINT or killed with SIGKILL and
started again ends with the same weights and predictions as one that never stopped, and says
from which epoch it resumed; device and precision plumbing on the CPU."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from physioemo.experiment import Experiment, run
from physioemo.experiment.store import Store
from physioemo.training import ClassificationObjective, TrainConfig, Trainer
from physioemo.training.sampling import RowView

ROOT = Path(__file__).resolve().parents[1]
QUIET = {"progress": False, "echo": lambda *a: None, "report": False}


# ----------------------------------------------------------------------------- the Trainer
def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n // 3)
    x = rng.normal(size=(n, 6)).astype(np.float32) + y[:, None]
    groups = np.zeros(n, dtype=[("subject", "U4"), ("session", "i8"), ("trial", "i8")])
    groups["trial"] = np.arange(n) // 10
    return {"x": x, "y": y}, groups


def _network():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(6, 16),
        torch.nn.BatchNorm1d(16),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.3),
        torch.nn.Linear(16, 3),
    )


CONFIG = {
    "epochs": 6,
    "batch_size": 16,
    "sampling": "balanced",
    "steps_per_epoch": 5,
    "cosine": True,
    "keep": "best",
    "lr": 1e-2,
}


class StopAt:
    """Objective sending this process SIGINT in call `at` (counted over the fit) of its
    training batches (or, with `scoring`, of its validation scorings)."""

    needs_grad_in_eval = False

    def __init__(self, at: int | None, scoring: bool = False):
        self.inner = ClassificationObjective(3, 0.1)
        self.at, self.scoring, self.calls = at, scoring, 0
        self.class_weight = None

    def __call__(self, model, batch, train):
        if train != self.scoring:
            self.calls += 1
            if self.calls == self.at:
                os.kill(os.getpid(), signal.SIGINT)
        return self.inner(model, batch, train)


def _fit(checkpoint, stop=None, **changes):
    data, groups = _data()
    validation = np.flatnonzero(groups["trial"] % 4 == 0)
    trainer = Trainer(TrainConfig(**{**CONFIG, **changes}, checkpoint=checkpoint))
    model = trainer.fit(_network(), stop or StopAt(None), data, validation, groups)
    return model, trainer.report


@pytest.fixture
def interactive_ctrl_c():
    """SIGINT as in an interactive Python (KeyboardInterrupt), even when the suite runs with it
    ignored (a background job: the trainer then rightly leaves an ignored SIGINT ignored)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize(
    "stop, epoch, batch",
    [
        (StopAt(13), 2, 3),  # in epoch 2's third batch (5 a epoch): saved within the epoch
        (StopAt(15), 2, 5),  # in its last batch, before the scheduler step and the scoring
        (StopAt(3, scoring=True), 3, 0),  # while epoch 2 is scored: saved at its end
    ],
)
def test_a_fit_stopped_by_ctrl_c_resumes_to_the_same_weights(
    tmp_path, stop, epoch, batch, interactive_ctrl_c
):
    whole, report = _fit(None)
    checkpoint = tmp_path / "fit.pt"
    with pytest.raises(KeyboardInterrupt):
        _fit(str(checkpoint), stop)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored
    saved = torch.load(checkpoint, weights_only=True)
    assert not saved["finished"] and saved["epoch"] == epoch
    assert (saved["partial"] or {"done": 0})["done"] == batch
    resumed, resumed_report = _fit(str(checkpoint))
    for key, value in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[key], value, rtol=0, atol=0)
    assert resumed_report["resumed_from_epoch"] == epoch
    assert resumed_report["resumed_from_batch"] == batch
    assert [h["val_loss"] for h in resumed_report["history"]] == [
        h["val_loss"] for h in report["history"]
    ]
    assert report["resumed_from_epoch"] is None


def test_a_finished_fit_is_read_back_and_a_foreign_checkpoint_ignored(tmp_path):
    checkpoint = tmp_path / "fit.pt"
    first, report = _fit(str(checkpoint))
    again, again_report = _fit(str(checkpoint), StopAt(1))  # interrupted if it trained
    assert again_report["resumed_from_epoch"] == report["epochs_run"]
    torch.testing.assert_close(again.state_dict(), first.state_dict(), rtol=0, atol=0)
    _, other = _fit(str(checkpoint), lr=5e-3)  # another fit: starts afresh, overwrites
    assert other["resumed_from_epoch"] is None
    checkpoint.write_bytes(b"not a checkpoint")
    _, damaged = _fit(str(checkpoint))
    assert damaged["resumed_from_epoch"] is None


def test_rows_are_read_in_place_with_the_same_result(tmp_path):
    """Training on rows of a larger memory-mapped array equals training on a copy of them."""
    data, _ = _data()
    big = np.concatenate([np.zeros((7, 6), np.float32), data["x"], np.ones((5, 6), np.float32)])
    np.save(tmp_path / "x.npy", big)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    labels = np.r_[np.zeros(7, int), data["y"], np.zeros(5, int)]
    rows = np.arange(7, 7 + len(data["y"]))
    model_copy, _ = _fit(None)
    trainer = Trainer(TrainConfig(**CONFIG))
    groups = _data()[1]
    validation = np.flatnonzero(groups["trial"] % 4 == 0)
    in_place = trainer.fit(
        _network(),
        StopAt(None),
        {"x": RowView(mapped, np.arange(len(big))), "y": labels},
        validation,
        groups,
        rows=rows,
    )
    torch.testing.assert_close(in_place.state_dict(), model_copy.state_dict(), rtol=0, atol=0)


def test_device_and_precision_plumbing_on_the_cpu():
    data, groups = _data()
    for device in ("cpu", "auto", None):
        trainer = Trainer(TrainConfig(**{**CONFIG, "epochs": 1}, device=device))
        trainer.fit(_network(), StopAt(None), data, None, groups)
        assert trainer.report["device"] == "cpu" and trainer.report["precision"] == "fp32"
    trainer = Trainer(TrainConfig(**{**CONFIG, "epochs": 2}, precision="bf16"))
    trainer.fit(_network(), StopAt(None), data, None, groups)
    assert trainer.report["precision"] == "bf16"
    assert np.isfinite(trainer.history[-1]["train_loss"])
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            Trainer(TrainConfig(device="cuda")).fit(_network(), StopAt(None), data)
    with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
        Trainer(TrainConfig(device="cpu", precision="fp16")).fit(_network(), StopAt(None), data)
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="fp8")


# ----------------------------------------------------------------------------- run folders
def _experiment(root) -> Experiment:
    """One subject-dependent HiSTN fold (quick recipe: 8 epochs of 10 batches): seconds."""
    return Experiment(
        datasets=["dreamer"],
        roots={"dreamer": str(root)},
        models=["histn"],
        protocols=["subject-dependent"],
        dimensions=["arousal"],
        n_splits=3,
        seed=0,
        select={"subjects": ["s01"], "folds": [0]},
    )


def _bench(root, out, *extra) -> list[str]:
    argv = [sys.executable, "-m", "physioemo.cli", "bench", "--root", str(root), "--out", str(out)]
    argv += ["--no-report", "--models", "histn", "--protocols", "subject-dependent"]
    argv += ["--n-splits", "3", "--seed", "0", "--dimensions", "arousal"]
    return argv + ["--subjects", "s01", "--folds", "0", *extra]


def _rows(out) -> list[dict]:
    with Store(Path(out) / "store.sqlite") as store:
        return store.rows(predictions=True)


@pytest.fixture(scope="module")
def uninterrupted(small_dreamer, tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run"
    run(_experiment(small_dreamer), out=out, **QUIET)
    [row] = _rows(out)
    return row


def _wait_for_checkpoint(process, out) -> Path:
    """The fold's checkpoint once its first epoch is saved (the fold still training)."""
    deadline = time.time() + 120
    while time.time() < deadline:
        assert process.poll() is None, process.communicate()
        found = list((Path(out) / "checkpoints").glob("*/training.pt"))
        if found:
            return found[0]
        time.sleep(0.005)
    raise AssertionError("no checkpoint was written")


def _same_fold(out, uninterrupted, resumed_from: str) -> None:
    [row] = _rows(out)
    assert row["key"] == uninterrupted["key"]
    for name in ("y_pred", "proba"):
        np.testing.assert_array_equal(row["predictions"][name], uninterrupted["predictions"][name])
    assert row["report"]["resumed_from"] == resumed_from
    assert uninterrupted["report"]["resumed_from"] is None
    assert row["report"]["device"] == "cpu"
    assert not list((Path(out) / "checkpoints").glob("*/*"))  # removed once stored
    assert not (Path(out) / "shared").exists()


def _resume_point(checkpoint: Path) -> str:
    saved = torch.load(checkpoint, weights_only=True)
    where = f"epoch {saved['epoch']}"
    if saved["partial"] is not None:
        where += f", batch {saved['partial']['done']}"
    return where


def test_a_fold_whose_worker_is_killed_resumes_from_its_last_checkpoint(
    small_dreamer, tmp_path, uninterrupted
):
    out = tmp_path / "run"
    process = subprocess.Popen(
        _bench(small_dreamer, out, "--backend", "processes", "--jobs", "1"),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    checkpoint = _wait_for_checkpoint(process, out)
    [marker] = (out / "running").glob("*.json")
    import json

    os.kill(json.loads(marker.read_text())["pid"], signal.SIGKILL)
    resumed_from = _resume_point(checkpoint)  # read before the restarted worker moves on
    output, error = process.communicate(timeout=300)
    assert process.returncode == 0, error
    assert "FAILED" not in output
    assert resumed_from.startswith("epoch ") and "batch" not in resumed_from
    _same_fold(out, uninterrupted, resumed_from)


@pytest.mark.parametrize("workers", [None, "2"])
def test_ctrl_c_saves_the_running_fold_and_the_rerun_resumes_it(
    workers, small_dreamer, tmp_path, uninterrupted
):
    """Ctrl-C of the driver (serial: its own fit saves) or of the whole process group
    (`--jobs 2`: the driver stops its workers, whose fits save): one line on stderr, and the
    re-run continues the fold where it stopped."""
    out = tmp_path / "run"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = _bench(small_dreamer, out, *(["--jobs", workers] if workers else []))
    process = subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as under a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    checkpoint = _wait_for_checkpoint(process, out)
    os.killpg(process.pid, signal.SIGINT)
    _, error = process.communicate(timeout=120)
    assert process.returncode == 130, error
    assert error == "physioemo: interrupted\n"  # no traceback, no leaked-semaphore warning
    resumed_from = _resume_point(checkpoint)
    rerun = subprocess.run(command, env=environment, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    _same_fold(out, uninterrupted, resumed_from)
