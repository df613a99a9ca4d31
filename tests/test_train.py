"""`physioemo train`: what the checkpoint records, the held-out validation, the logistic
regression stored as arrays, and the one-line refusals."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from physioemo import montage
from physioemo.cli import main
from physioemo.datasets import load
from physioemo.datasets.synthetic import DREAMER_ELECTRODES
from physioemo.experiment.plan import feature_sets
from physioemo.experiment.train import _seed
from physioemo.live import LiveError
from physioemo.live.predictor import load_predictor
from physioemo.models import make_baseline
from physioemo.recording import trial_keys
from physioemo.training.checkpoint import load_checkpoint
from physioemo.training.linear import LinearPredictor


@pytest.fixture(autouse=True)
def _one_torch_thread_after():
    """Numba's OpenMP feature kernels reset torch's threads to the core count."""
    yield
    torch.set_num_threads(1)


def train(tmp_path, *args, name="m.pt"):
    out = tmp_path / name
    assert main(["train", *args, "--threads", "1", "--out", str(out), "--quiet"]) == 0
    return out


def test_checkpoint_records_what_live_needs(tmp_path, capsys):
    tiny = ["--synthetic-subjects", "2", "--synthetic-seconds", "4"]
    path = train(tmp_path, "--model", "histn", *tiny)  # synthetic DREAMER, the default
    assert capsys.readouterr().out == f"wrote {path}\n"
    model, meta = load_checkpoint(path)
    names = DREAMER_ELECTRODES
    assert meta["ch_names"] == meta["args"]["ch_names"] == names and meta["args"]["sfreq"] == 128
    expected = montage.positions(names)
    for name in names:
        np.testing.assert_allclose(meta["positions"][name], expected[name], atol=1e-6)
    features = meta["features"]
    assert features == {
        "kind": "raw",
        "recipe": "raw",
        "parameters": {"window": 1.0, "stride": None, "baseline": "zscore"},
        "window": 1.0,
        "stride": 1.0,
        "sfreq": 128.0,
        "baseline": "zscore",  # "auto": DREAMER's trials have baseline recordings
        "causal": True,
    }
    assert meta["labels"] == {
        "dataset": "dreamer",
        "scheme": "binary",
        "dimension": "valence",
        "kind": "binary",
        "threshold": 3.0,
        "classes": ["valence low (<3)", "valence high (>=3)"],
        "ordinal": False,
    }
    training = meta["training"]
    assert training["preset"] == "histn-quick" and training["seed"] == 0
    assert training["synthetic"] == {"subjects": 2, "seconds": 4.0, "seed": 0}
    assert training["subjects"] == ["s01", "s02"] and training["validation"] is None
    assert training["trials"] == 36 and sum(training["class_counts"]) == training["windows"]
    assert np.shape(meta["standardize"]["mean"]) == (14, 1)  # per channel, raw windows
    assert model(torch.zeros(3, 14, 128)).shape == (3, 2)


def test_seed_defaults_to_the_preset_own():
    assert _seed(None, "rbtransformer") == 23  # the paper's recipe
    assert _seed(None, "histn-quick") == _seed(None, None) == 0 and _seed(7, "rbtransformer") == 7


def test_validation_holds_out_whole_trials_and_scores_them(small_dreamer, tmp_path):
    root = small_dreamer.parent
    path = train(tmp_path, "--model", "logreg", "--root", str(root), "--validation", "0.25")
    predictor = load_predictor(path)
    training = predictor.meta["training"]
    validation = training["validation"]
    assert training["trials"] + validation["trials"] == 4 * 18
    assert validation["trials"] == len(validation["held_out"])
    assert 16 <= validation["trials"] <= 20  # a quarter of the trials, whole ones
    # score the held-out windows again from the feature cache, with the stored arrays
    wanted = {"de": {"baseline": "subtract", "zero_phase": False}}
    windows = feature_sets("dreamer", root, load("dreamer", root), wanted)["de"][0]
    held = np.isin(trial_keys(windows.groups), validation["held_out"])
    assert held.sum() == validation["windows"] and (~held).sum() == training["windows"]
    y = (windows.ratings["valence"][held] >= 3).astype(int)
    predicted = [int(np.argmax(predictor.predict_proba(x))) for x in windows.X[held]]
    assert np.mean(np.equal(predicted, y)) == pytest.approx(validation["accuracy"])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logreg_arrays_predict_like_scikit_learn(tmp_path, n_classes):
    rng = np.random.default_rng(n_classes)
    X = rng.normal(size=(120, 3, 4)) + 3.0
    y = rng.integers(0, n_classes, 120)
    X[np.arange(120), 0, 0] += y  # something to learn
    pipeline = make_baseline("logreg").fit(X, y)
    meta = {
        "ch_names": ["Fz", "Cz", "Pz"],
        "features": {"kind": "de", "window": 1.0, "stride": 1.0, "sfreq": 128.0},
        "labels": {"classes": [f"c{i}" for i in range(n_classes)]},
    }
    path = LinearPredictor.from_pipeline(pipeline, meta).save(tmp_path / "lr.pt")
    loaded = load_predictor(path)
    assert isinstance(loaded, LinearPredictor) and loaded.ch_names == ["Fz", "Cz", "Pz"]
    ours = np.stack([loaded.predict_proba(x) for x in X[:20]])
    np.testing.assert_allclose(ours, pipeline.predict_proba(X[:20]), rtol=0, atol=1e-12)


def test_logreg_that_never_saw_a_class_gives_it_probability_zero(tmp_path):
    X = np.random.default_rng(0).normal(size=(60, 2, 4))
    y = np.repeat([0, 2], 30)
    meta = {
        "ch_names": ["Fz", "Cz"],
        "features": {"kind": "de"},
        "labels": {"classes": ["a", "b", "c"]},
    }
    predictor = LinearPredictor.from_pipeline(make_baseline("logreg").fit(X, y), meta)
    probabilities = predictor.predict_proba(X[0])
    assert probabilities[1] == 0 and probabilities.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a["coef"].__setitem__((0, 1), float("nan")), "arrays.coef holds NaN"),
        (lambda a: a.__setitem__("mean", a["mean"][:-1]), "arrays.mean does not fit 8 features"),
        (lambda a: a.__setitem__("classes", a["classes"] + 1), "arrays.classes: expected"),
        (lambda a: a.pop("scale"), "arrays.scale is missing"),
    ],
)
def test_malformed_linear_files_are_refused_naming_the_key(tmp_path, change, message):
    X = np.random.default_rng(0).normal(size=(40, 2, 4))
    meta = {"ch_names": ["Fz", "Cz"], "features": {"kind": "de"}, "labels": {"classes": ["a", "b"]}}
    pipeline = make_baseline("logreg").fit(X, np.repeat([0, 1], 20))
    path = LinearPredictor.from_pipeline(pipeline, meta).save(tmp_path / "lr.pt")
    content = torch.load(path, weights_only=True)
    change(content["arrays"])
    torch.save(content, path)
    with pytest.raises(LiveError, match=message):
        load_predictor(path)


def test_zero_phase_checkpoint_runs_live_with_a_warning(small_dreamer, tmp_path):
    path = train(tmp_path, "--model", "logreg", "--root", str(small_dreamer), "--no-causal")
    with pytest.warns(UserWarning, match="trained on zero-phase features"):
        predictor = load_predictor(path)
    assert predictor.features["causal"] is False
    assert predictor.features["parameters"]["zero_phase"] is True


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "rf"], "--model rf: a random forest can only be stored by pickle"),
        (["--model", "svm"], "--model svm: a linear SVM gives no class probabilities"),
        (["--model", "pinn"], "--model pinn: its EDA target needs an EDA stream in uS, which dr"),
        (["--model", "histn", "--features", "de"], "--features de gives de windows; histn reads"),
        (["--model", "logreg", "--features", "bp"], "bp: a live stream computes de and raw feat"),
        (["--model", "logreg", "--baseline", "zscore"], "--baseline zscore: a live stream repro"),
        (["--model", "logreg", "--dimension", "joy"], "dreamer has no rating dimension 'joy'"),
        (["--model", "logreg", "--validation", "1"], r"expected a number in \(0, 1\), got '1'"),
    ],
)
def test_refusals_are_one_line_and_write_nothing(small_dreamer, tmp_path, capsys, args, message):
    out = tmp_path / "m.pt"
    try:
        code = main(["train", "--root", str(small_dreamer), *args, "--out", str(out)])
    except SystemExit as exit:  # argparse's own refusals
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("physioemo: error: ")
    assert re.search(message, err), err
    assert list(tmp_path.iterdir()) == []


def test_an_existing_checkpoint_is_kept(small_dreamer, tmp_path, capsys):
    out = tmp_path / "m.pt"
    out.write_text("kept")
    assert (
        main(["train", "--model", "logreg", "--root", str(small_dreamer), "--out", str(out)]) == 2
    )
    assert "--out" in capsys.readouterr().err and out.read_text() == "kept"
