"""The Trainer, losses, checkpoints, and end-to-end learning on synthetic data."""

import numpy as np
import pytest
import torch

from physioemo import extract_windows, models
from physioemo.datasets.synthetic import DREAMER_ELECTRODES, simulate_dreamer
from physioemo.evaluation.runner import cross_validate
from physioemo.labels import scheme
from physioemo.protocols import SubjectDependent
from physioemo.recording import Recording, trial_keys
from physioemo.training import (
    PINNObjective,
    TorchClassifier,
    TrainConfig,
    Trainer,
    carve_validation,
    load_checkpoint,
    ordinal_targets,
    save_checkpoint,
)
from physioemo.training.losses import soft_cross_entropy
from physioemo.training.trainer import class_weights, smote


# ----------------------------------------------------------------------------- losses
@pytest.mark.parametrize(
    ("label", "expected"),
    [
        (2, [0.00026, 0.10645, 0.78657, 0.10645, 0.00026]),
        (0, [0.88054, 0.11917, 0.00030, 0.0, 0.0]),
        (1, [0.10648, 0.78678, 0.10648, 0.00026, 0.0]),
    ],
)
def test_ordinal_targets_match_papers_md(label, expected):
    targets = ordinal_targets(torch.tensor([label]), 5, sigma=0.5)[0].numpy()
    np.testing.assert_allclose(targets, expected, atol=6e-6)


def test_soft_cross_entropy_with_one_hot_targets_is_cross_entropy():
    logits, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 1, 0])
    weight = torch.tensor([1.0, 2.0, 0.5, 1.5])
    one_hot = torch.nn.functional.one_hot(y, 4).float()
    expected = torch.nn.functional.cross_entropy(logits, y, weight=weight)
    assert soft_cross_entropy(logits, one_hot, weight).item() == pytest.approx(expected.item())


def test_class_weights_are_sklearns_balanced():
    y = np.array([0, 0, 0, 1, 2, 2])
    np.testing.assert_allclose(class_weights(y, 4), [6 / 9, 6 / 3, 6 / 6, 0.0])


# ----------------------------------------------------------------------------- trainer
def _groups(n_trials: int, per_trial: int, subject="s01"):
    groups = np.empty(
        n_trials * per_trial,
        dtype=[
            ("subject", "U32"),
            ("session", "i8"),
            ("trial", "i8"),
            ("start", "i8"),
            ("stop", "i8"),
        ],
    )
    groups["subject"], groups["session"] = subject, 1
    groups["trial"] = np.repeat(np.arange(n_trials), per_trial)
    groups["start"] = np.tile(np.arange(per_trial), n_trials)
    groups["stop"] = groups["start"] + 1
    return groups


def test_validation_is_carved_by_whole_trials():
    groups = _groups(10, 7)
    y = np.repeat(np.arange(10) % 2, 7)
    train, val = carve_validation(groups, y, 0.2, seed=3)
    keys = trial_keys(groups)
    assert np.intersect1d(keys[train], keys[val]).size == 0
    assert np.unique(keys[val]).size == 2
    assert set(y[val]) == {0, 1}  # stratified by trial label
    assert train.size + val.size == y.size


def test_smote_balances_the_training_part():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3, 4)).astype(np.float32), np.array([0] * 32 + [1] * 8)
    x_new, y_new = smote(x, y, seed=0)
    assert np.bincount(y_new).tolist() == [32, 32]
    assert x_new.shape == (64, 3, 4)
    np.testing.assert_array_equal(x_new[:40], x)  # originals kept, synthetic ones appended


def _separable(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    x = rng.normal(size=(n, 14, 4)).astype(np.float32)
    x[y == 1, :4, 1] += 1.5
    return x, y, _groups(24, n // 24)


def test_training_is_deterministic_and_early_stopping_uses_validation():
    x, y, groups = _separable()
    fits = [
        TorchClassifier("dgcnn", train_options={"epochs": 6}, seed=7).fit(x, y, groups)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fits[0].predict_proba(x), fits[1].predict_proba(x))
    history = fits[0].history_
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(history[0])
    best = min(range(len(history)), key=lambda i: history[i]["val_loss"])
    assert fits[0].best_epoch_ == best


def test_checkpoint_round_trip_restores_predictions(tmp_path):
    x, y, groups = _separable()
    fitted = TorchClassifier("rbtransformer", train_options={"epochs": 2}).fit(x, y, groups)
    meta = {
        "ch_names": DREAMER_ELECTRODES,
        "features": {
            "kind": "de",
            "window": 1.0,
            "stride": 1.0,
            "bands": None,
            "sfreq": 128.0,
            "baseline": "subtract",
        },
        "labels": {"dimension": "arousal", "kind": "binary", "threshold": 3.0},
    }
    path = save_checkpoint(tmp_path / "model.pt", fitted.network_, meta)
    model, loaded = load_checkpoint(path)
    assert not model.training
    assert loaded["model"] == "rbtransformer" and loaded["args"]["n_chans"] == 14
    assert loaded["features"]["kind"] == "de" and "standardize" in loaded
    with torch.no_grad():
        np.testing.assert_allclose(
            torch.softmax(model(torch.as_tensor(x)), -1).numpy(),
            fitted.predict_proba(x),
            atol=1e-6,
        )


def test_checkpoint_meta_must_name_features_and_labels(tmp_path):
    net = models.create("dgcnn", n_chans=14, n_outputs=2)
    with pytest.raises(ValueError, match="lacks"):
        save_checkpoint(tmp_path / "x.pt", net, {"ch_names": DREAMER_ELECTRODES})


# ----------------------------------------------------------------------------- learning
@pytest.fixture(scope="module")
def dreamer_subject():
    """One simulated DREAMER subject (18 clips of ~24 s), as raw and DE windows."""
    person = simulate_dreamer(subjects=1, seconds=24.0, seed=5, effect=0.8)[0]
    recordings = [
        Recording(
            eeg,
            128.0,
            DREAMER_ELECTRODES,
            "s01",
            trial=i + 1,
            ratings={"arousal": float(person["scores"][i, 1])},
            baseline=rest,
        )
        for i, (eeg, rest) in enumerate(zip(person["eeg"], person["eeg_baseline"], strict=True))
    ]
    raw = extract_windows(recordings, "raw", 1.0, baseline="zscore", progress=False)
    de = extract_windows(recordings, "de", 1.0, baseline="subtract", progress=False)
    return {"raw": raw, "de": de, "y": scheme("dreamer", "arousal")(de.ratings)}


@pytest.mark.parametrize("name", ["histn", "rbtransformer", "dgcnn", "eegnet"])
def test_models_beat_chance_subject_dependent(dreamer_subject, name):
    windows = dreamer_subject[models.spec(name).inputs]
    y = dreamer_subject["y"]
    rows = cross_validate(
        windows.X,
        y,
        windows.groups,
        lambda: TorchClassifier(name, model_options={"sfreq": 128.0}, seed=0),
        SubjectDependent(n_splits=3),
        progress=False,
    )
    accuracy = np.mean([r["accuracy"] for r in rows])
    chance = np.mean([r["chance"] for r in rows])
    assert accuracy > chance + 0.1, (accuracy, chance)


# ----------------------------------------------------------------------------- PINN
ALPHA0, GAMMA, BETA = 0.8, 0.25, np.array([0.5, 1.5, 0.9])


def wesad_like_segments(n_segments=36, per_segment=30, seed=0):
    """Arrays shaped like WESAD windows, EDA from the known ODE
    gamma dEDA/dt = -alpha0 EDA + beta_c (piecewise-constant class c per condition segment):
    EDA(t) = E* + (E0 - E*) exp(-alpha0 t / gamma), E* = beta_c / alpha0, t in [0, 1].
    Features: a noisy class signature (3 values) and the segment's starting EDA."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, per_segment)
    x, times, eda, y, segment = [], [], [], [], []
    for s in range(n_segments):
        c = s % 3
        start = rng.uniform(0.2, 2.0)
        target = BETA[c] / ALPHA0
        eda.append(target + (start - target) * np.exp(-ALPHA0 * t / GAMMA))
        signature = np.eye(3)[c] + rng.normal(0, 0.3, 3)
        x.append(np.tile(np.r_[signature, start], (per_segment, 1)))
        times.append(t), y.append(np.full(per_segment, c)), segment.append(np.full(per_segment, s))
    return {
        "x": np.concatenate(x).astype(np.float32),
        "t": np.concatenate(times).astype(np.float32),
        "eda": np.concatenate(eda).astype(np.float32),
        "y": np.concatenate(y),
    }, np.concatenate(segment)


def test_pinn_recovers_the_ode_and_keeps_parameters_positive():
    data, segments = wesad_like_segments()
    torch.manual_seed(0)
    net = models.create("pinn", n_chans=4, n_outputs=3)
    config = TrainConfig(
        epochs=250, batch_size=64, lr=3e-3, balance=None, val_fraction=0, patience=None
    )
    trainer = Trainer(config)
    trainer.fit(net, PINNObjective(lambda_p=0.1, n_collocation=64), data)
    physics = net.physics()
    assert physics["alpha0"] > 0 and physics["gamma"] > 0
    assert physics["alpha0_over_gamma"] == pytest.approx(ALPHA0 / GAMMA, rel=0.2)
    gains = np.array(physics["beta"]) / physics["alpha0"]  # steady states E* = beta_c / alpha0
    np.testing.assert_allclose(gains, BETA / ALPHA0, rtol=0.2)
    residuals = [h["train_residual"] for h in trainer.history]
    assert np.mean(residuals[-10:]) < 0.2 * np.mean(residuals[:10])
    assert trainer.history[-1]["train_eda_mse"] < 1e-3


def test_pinn_classifies_held_out_segments():
    data, segments = wesad_like_segments(seed=1)
    held_out = segments % 6 == 0
    torch.manual_seed(0)
    net = models.create("pinn", n_chans=4, n_outputs=3)
    train = {k: v[~held_out] for k, v in data.items()}
    Trainer(TrainConfig(epochs=150, batch_size=256, balance=None, patience=None)).fit(
        net, PINNObjective(), train, groups=segments[~held_out]
    )
    with torch.no_grad():
        _, logits = net(torch.as_tensor(data["x"][held_out]), torch.as_tensor(data["t"][held_out]))
    accuracy = (logits.argmax(-1).numpy() == data["y"][held_out]).mean()
    assert accuracy > 0.8  # chance is 1/3


def test_runner_passes_groups_and_runs_only_the_chosen_folds():
    class Recorder:
        accepts_groups = True
        seen = []

        def fit(self, X, y, groups=None):
            Recorder.seen.append(groups)
            self.majority = np.bincount(y).argmax()
            return self

        def predict(self, X):
            return np.full(len(X), self.majority)

    x, y, groups = _separable()
    rows = cross_validate(
        x, y, groups, Recorder, SubjectDependent(n_splits=4), progress=False, folds=[1, 3]
    )
    assert [r["fold"] for r in rows] == [1, 3]
    assert all(g is not None and g.dtype.names for g in Recorder.seen)
