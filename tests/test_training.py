"""The Trainer, losses, checkpoints, and end-to-end learning on synthetic data."""

import numpy as np
import pytest
import torch

from physioemo import extract_windows, models
from physioemo.datasets.synthetic import DREAMER_ELECTRODES, simulate_dreamer
from physioemo.evaluation.summary import summarise
from physioemo.experiment import cross_validate
from physioemo.labels import scheme
from physioemo.protocols import SubjectDependent
from physioemo.recording import Recording, trial_keys
from physioemo.training import (
    PINNClassifier,
    PINNObjective,
    TorchClassifier,
    TrainConfig,
    Trainer,
    carve_validation,
    load_checkpoint,
    ordinal_targets,
    save_checkpoint,
)
from physioemo.training.estimator import _corrected
from physioemo.training.losses import soft_cross_entropy
from physioemo.training.sampling import Sampler, class_weights, smote, window_positions


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


def test_training_is_deterministic_and_the_best_validation_epoch_is_kept():
    x, y, groups = _separable()
    _, val = carve_validation(groups, y, 0.2, seed=0)
    fits = [
        TorchClassifier("dgcnn", train_options={"epochs": 6}, seed=7).fit(
            x, y, groups=groups, validation=val
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fits[0].predict_proba(x), fits[1].predict_proba(x))
    report = fits[0].fit_report_
    history = report["history"]
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(history[0])
    best = min(range(len(history)), key=lambda i: history[i]["val_loss"])
    assert report["epoch_kept"] == best and report["epochs_run"] == 6
    assert report["kept_because"].startswith("lowest validation loss")
    assert report["n_validation"] == val.size and report["n_train"] == y.size - val.size


def test_checkpoint_round_trip_restores_predictions(tmp_path):
    x, y, groups = _separable()
    fitted = TorchClassifier("rbtransformer", train_options={"epochs": 2}).fit(x, y)
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
        "labels": {
            "dimension": "arousal",
            "kind": "binary",
            "threshold": 3.0,
            "classes": ["low arousal", "high arousal"],
        },
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
#: a subject with a clear, typical arousal effect and no electrode drift (DREAMER's calibration
#: lets some subjects barely respond and adds drift below 1 Hz, right for a benchmark and not
#: what a test of learning from one subject's 18 clips needs)
RESPONDER = {"effect": 0.8, "mean_effect": 1.0, "subject_spread": 0.0, "electrode_drift": 0.0}


@pytest.fixture(scope="module")
def dreamer_subject():
    """One simulated DREAMER subject (18 clips of ~24 s), as raw and DE windows."""
    person = simulate_dreamer(subjects=1, seconds=24.0, seed=5, **RESPONDER)[0]
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
    results = cross_validate(windows, y, name, SubjectDependent(n_splits=3), seed=0)
    [entry] = summarise(results)
    assert entry["accuracy"] > entry["chance"]["accuracy"] + 0.1, entry


# ----------------------------------------------------------------------------- PINN
def test_pinn_recovers_the_ode_and_keeps_parameters_positive(pinn_task):
    data, segments = pinn_task.make()
    torch.manual_seed(0)
    net = models.create("pinn", n_chans=4, n_outputs=3)
    config = TrainConfig(epochs=250, batch_size=64, lr=3e-3, keep="last")
    trainer = Trainer(config)
    trainer.fit(net, PINNObjective(lambda_p=0.1, n_collocation=64), data)
    physics = net.physics()
    assert physics["alpha0"] > 0 and physics["gamma"] > 0
    assert physics["alpha0_over_gamma"] == pytest.approx(
        pinn_task.alpha0 / pinn_task.gamma, rel=0.2
    )
    gains = np.array(physics["beta"]) / physics["alpha0"]  # steady states E* = beta_c / alpha0
    np.testing.assert_allclose(gains, pinn_task.beta / pinn_task.alpha0, rtol=0.2)
    residuals = [h["train_residual"] for h in trainer.history]
    assert np.mean(residuals[-10:]) < 0.2 * np.mean(residuals[:10])
    assert trainer.history[-1]["train_eda_mse"] < 1e-3


# ----------------------------------------------------------------------------- trainer rows
class RowRecorder:
    """Objective that trains a linear model on x and records which rows (x[:, 0] holds the
    row number) it saw in training and in validation."""

    needs_grad_in_eval = False
    n_classes = 2

    def __init__(self):
        self.class_weight = None
        self.trained, self.validated = set(), set()

    def __call__(self, model, batch, train):
        rows = batch["x"][:, 0].long().tolist()
        (self.trained if train else self.validated).update(rows)
        logits = model(batch["x"])
        loss = torch.nn.functional.cross_entropy(logits, batch["y"], weight=self.class_weight)
        return loss, {"loss": loss.item(), "accuracy": 0.0}


def _recording_fit(validation, groups, y, **config):
    x = np.c_[np.arange(y.size), np.zeros(y.size)].astype(np.float32)
    objective = RowRecorder()
    trainer = Trainer(TrainConfig(**{"epochs": 3, "batch_size": 8, **config}))
    trainer.fit(torch.nn.Linear(2, 2), objective, {"x": x, "y": y}, validation, groups)
    return trainer.report, objective


def test_validation_rows_are_exactly_the_given_positions():
    groups = _groups(10, 6)
    y = np.repeat(np.arange(10) % 2, 6)
    validation = np.flatnonzero(np.isin(groups["trial"], [3, 4]))  # the protocol's grouping
    report, seen = _recording_fit(validation, groups, y)
    assert seen.validated == set(validation.tolist())
    assert seen.trained == set(range(y.size)) - set(validation.tolist())
    assert report["n_validation"] == validation.size


def test_unusable_validation_returns_to_training_with_the_reason():
    groups = _groups(10, 6)
    y = np.repeat(np.arange(10) % 2, 6)
    one_trial = np.flatnonzero(groups["trial"] == 2)  # class 0 only
    report, seen = _recording_fit(one_trial, groups, y)
    assert seen.trained == set(range(y.size)) and not seen.validated
    assert report["kept_because"] == (
        "validation set too small (1 trial, class 1 missing): fixed schedule, last epoch"
    )
    assert report["epoch_kept"] == 2 and report["n_validation"] == 0
    report, _ = _recording_fit(None, groups, y)
    assert report["kept_because"] == "no validation set: fixed schedule, last epoch"


def test_keeping_epoch_zero_is_said():
    groups = _groups(10, 6)
    y = np.repeat(np.arange(10) % 2, 6)
    validation = np.flatnonzero(np.isin(groups["trial"], [3, 4]))
    report, _ = _recording_fit(validation, groups, y, lr=0.0)  # nothing improves after epoch 0
    assert report["epoch_kept"] == 0
    assert "at epoch 0" in report["kept_because"]
    report, _ = _recording_fit(None, groups, y, epochs=1)
    assert report["epoch_kept"] == 0 and "epoch 0" in report["kept_because"]


@pytest.mark.parametrize("name", ["histn", "histn-quick", "rbtransformer", "dgcnn", "eegnet"])
def test_presets_weigh_no_class_unless_asked(name):
    from physioemo.training import preset

    assert preset(name)["train"].get("class_weight") is None
    assert TrainConfig().class_weight is None and not TrainConfig().smote


def test_class_weights_only_when_asked():
    x, y, groups = _separable()
    y = np.where(np.arange(y.size) < 200, 0, 1)  # 200 vs 40
    default = TorchClassifier("dgcnn", train_options={"epochs": 1}).fit(x, y)
    assert default.fit_report_["class_weight"] is None
    asked = TorchClassifier("dgcnn", train_options={"epochs": 1, "class_weight": "balanced"})
    weights = asked.fit(x, y).fit_report_["class_weight"]
    np.testing.assert_allclose(weights, class_weights(y, 2), rtol=1e-5)
    np.testing.assert_allclose(class_weights(y, 2, "max"), [1.0, 5.0])


def test_window_positions_count_crop_starts_and_segments():
    groups = _groups(2, 5)
    groups["start"] = np.tile(np.arange(5) * 16, 2)  # 1-s windows of 128 samples, stride 16
    groups["start"][5:] += 1000  # the second trial's windows sit elsewhere: same count
    groups["stop"] = groups["start"] + 128
    assert window_positions(groups) == (2 * 65, 2 * 1)  # starts 0..64; 192 samples = 1 segment
    assert window_positions(groups[[0, 1, 4]]) == (65, 1)  # 64 <= stop 144: still one run
    apart = groups[[0, 4]].copy()
    apart["start"][1], apart["stop"][1] = 500, 628  # a gap: two runs of one start each
    assert window_positions(apart) == (2, 2)
    touching = groups[:1].copy()
    touching = np.r_[touching, touching]
    touching["start"][1], touching["stop"][1] = 128, 256  # stride = window: one run
    assert window_positions(touching) == (129, 2)


def test_balanced_sampling_draws_classes_then_trials_uniformly():
    groups = _groups(10, 1)
    sizes = np.array([40, 10, 10, 10, 10, 2, 2, 2, 2, 2])  # trials 0-4 class 0, 5-9 class 1
    groups = np.repeat(groups, sizes)
    y = np.repeat(np.r_[np.zeros(5), np.ones(5)].astype(int), sizes)
    sampler = Sampler(y, groups, "balanced", np.random.default_rng(0))
    rows = torch.cat(sampler.batches(200, 100)).numpy()
    assert abs((y[rows] == 1).mean() - 0.5) < 0.01  # 8 % of the rows, half of the draws
    per_trial = np.bincount(groups["trial"][rows], minlength=10) / rows.size
    np.testing.assert_allclose(per_trial, 0.1, atol=0.01)  # trial size does not matter


def test_batchnorm_statistics_match_the_training_data_after_training():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(240, 14, 128)) * rng.uniform(0.5, 3, (1, 14, 1))).astype(np.float32)
    y = np.repeat([0, 1], 120)
    x[y == 1, :4] *= 1.5
    fitted = TorchClassifier("histn", train_options={"epochs": 3}, standardize=False).fit(x, y)
    network = fitted.network_
    assert "re-estimated" in fitted.fit_report_["batchnorm"]
    inputs = {}
    layers = [m for m in network.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    hooks = [
        layer.register_forward_pre_hook(lambda m, a: inputs.setdefault(m, []).append(a[0]))
        for layer in layers
    ]
    with torch.no_grad():
        network.eval()(torch.as_tensor(x))
    for hook in hooks:
        hook.remove()
    assert len(layers) == 3
    for layer in layers:
        seen = torch.cat(inputs[layer]).transpose(0, 1).reshape(layer.num_features, -1)
        mean, var = seen.mean(dim=1), seen.var(dim=1)
        assert (layer.running_mean - mean).abs().max() <= 0.2 * var.sqrt().min()
        np.testing.assert_allclose(layer.running_var, var, rtol=0.2)


def test_seed_none_is_the_presets_own():
    x, y, _ = _separable()
    options = {"train_options": {"epochs": 1, "steps_per_epoch": 1}}
    assert TorchClassifier("rbtransformer", **options).fit(x, y).fit_report_["seed"] == 23
    assert TorchClassifier("rbtransformer", seed=5, **options).fit(x, y).fit_report_["seed"] == 5
    assert TorchClassifier("dgcnn", **options).fit(x, y).fit_report_["seed"] == 0


def test_estimators_request_their_fit_metadata():
    fit = TorchClassifier().get_metadata_routing().fit.requests
    assert {k for k, v in fit.items() if v} == {"groups", "validation", "calibration"}
    routing = PINNClassifier().get_metadata_routing()
    assert {k for k, v in routing.fit.requests.items() if v} == {"t", "eda", "validation"}
    assert routing.predict_proba.requests == {"t": True}


def test_label_correction_takes_each_clips_most_frequent_class():
    groups = np.concatenate([_groups(3, 2, subject=s) for s in ("a", "b", "c")])
    y = np.array([0, 0, 1, 1, 1, 1] + [0, 0, 0, 0, 1, 1] + [1, 1, 0, 0, 1, 1])
    validation = np.flatnonzero(groups["subject"] == "c")
    # a and b vote: clip 0: 0, 0 -> 0; clip 1: 1, 0 -> 0 (a tie: the lower class); clip 2: 1
    corrected = _corrected(y, groups, validation)
    np.testing.assert_array_equal(corrected[:12], [0, 0, 0, 0, 1, 1] * 2)
    np.testing.assert_array_equal(corrected[12:], y[12:])  # validation rows keep theirs
    # with c voting: clip 0 -> 0 (0, 0, 1), clip 1 -> 0 (1, 0, 0), clip 2 -> 1
    np.testing.assert_array_equal(_corrected(y, groups, np.array([], int)), [0, 0, 0, 0, 1, 1] * 3)


def test_histn_si_pretrains_then_fine_tunes_with_the_filter_bank_frozen():
    rng = np.random.default_rng(1)
    groups = np.concatenate([_groups(4, 6, subject=s) for s in ("a", "b", "c")])
    y = np.tile(np.repeat([0, 1, 0, 1], 6), 3)
    x = rng.normal(size=(y.size, 14, 128)).astype(np.float32)
    calibration = np.flatnonzero((groups["subject"] == "c") & (groups["start"] < 2))
    rest = np.setdiff1d(np.arange(y.size), calibration)
    short = {"epochs": 2, "steps_per_epoch": 2, "batch_size": 16}
    options = {"preset": "histn-si", "train_options": short, "seed": 3, "standardize": False}
    pretrained = TorchClassifier("histn", **options).fit(x[rest], y[rest], groups=groups[rest])
    tuned = TorchClassifier("histn", **options).fit(x, y, groups=groups, calibration=calibration)
    report = tuned.fit_report_
    assert [s["stage"] for s in report["stages"]] == ["pretraining", "fine-tuning"]
    assert report["stages"][1]["n_train"] == calibration.size
    assert report["stages"][1]["class_weight"] == [1.0, 1.0]  # max/count on balanced rows
    assert report["epochs_run"] == 4 and {h["stage"] for h in report["history"]} == {
        "pretraining",
        "fine-tuning",
    }
    assert "fine-tuning: last epoch" in report["kept_because"]
    bank = [f.network_.filter_bank.weight for f in (pretrained, tuned)]
    head = [f.network_.head.weight for f in (pretrained, tuned)]
    torch.testing.assert_close(bank[0], bank[1])  # frozen while fine-tuning
    assert not torch.equal(head[0], head[1])
    assert "fine-tuning" not in pretrained.fit_report_["kept_because"]


def test_fits_do_not_depend_on_the_callers_thread_count():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(96, 14, 128)).astype(np.float32), np.repeat([0, 1], 48)
    options = {"train_options": {"epochs": 2, "steps_per_epoch": 3}, "seed": 1}
    fits = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        try:
            fits.append(TorchClassifier("rbtransformer", **options).fit(x[:, :, :4], y))
        finally:
            torch.set_num_threads(1)
    assert fits[0].fit_report_["threads"] == fits[1].fit_report_["threads"] == 1
    np.testing.assert_array_equal(
        fits[0].predict_proba(x[:, :, :4]), fits[1].predict_proba(x[:, :, :4])
    )
