"""scikit-learn estimators around the torch models: `TorchClassifier` (HiSTN, RBTransformer,
DGCNN, EEGNet) and `PINNClassifier` (the multi-task PINN, which also predicts EDA).

Both declare the fit metadata they take for scikit-learn's metadata routing, train with the
`Trainer` under a named preset (`training.presets`), seed everything from one seed (the
preset's own, e.g. RBTransformer's 23, unless the user sets one) and publish `fit_report_`:

    {"epochs_run", "epoch_kept", "kept_because", "history": [one dict per epoch], "seconds",
     "preset", "seed", "n_train", "n_validation", "steps_per_epoch", "sampling",
     "class_weight", "batchnorm", "threads", ...}

and "device", "precision", and "resumed_from" (where a fit continued from its checkpoint, e.g.
"epoch 12" or "fine-tuning epoch 3, batch 40"; None when it did not).

Both take `checkpoint`, a folder: each training stage keeps its state there (`resume`) and a
fit started again with the same data resumes from it. X may be a `sampling.RowView` or a memory
map: TorchClassifier gathers its batches from it and never copies all the training rows.

Two-stage recipes (histn-si with calibration rows) add "stages" (each stage's report without
its history), count epochs over both stages and tag every history entry with its "stage".
"""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from ..models import create, spec
from ..models._layers import Standardized
from .losses import ClassificationObjective, PINNObjective
from .presets import choose
from .presets import preset as get_preset
from .sampling import RowView, forward_rows, moments
from .trainer import TrainConfig, Trainer, seed_everything


class TorchClassifier(ClassifierMixin, BaseEstimator):
    """fit / predict / predict_proba around a registry torch model.

    Args:
        model: registry name ("histn", "rbtransformer", "dgcnn", "eegnet").
        preset: training recipe (default "<model>-quick"), see `training.presets`.
        model_options: extra constructor arguments (e.g. sfreq, ch_names).
        train_options: `TrainConfig` fields overriding the preset's (e.g. threads, epochs).
        n_classes: number of classes (default: max(y) + 1, at least 2); labels are 0..K-1.
        standardize: z-score inputs with training statistics (per channel for raw windows,
            per channel and band for features; ours), kept inside the fitted network.
        seed: seeds the weights, the batches and the sampler; None: the preset's own seed
            (RBTransformer 23, else 0).
        max_train_windows: train on at most this many of the training rows (validation and
            calibration rows excepted), evenly spaced (ours; for quick stand-ins). None: all.
        checkpoint: folder of the fit's resumable state (module docstring); None: none.
    fit(X, y, groups=None, validation=None, calibration=None): groups are the rows'
    `WindowSet.groups`; validation and calibration are int positions into X (module
    docstring; calibration rows are fine-tuned on by recipes with a calibration stage and are
    ordinary training rows otherwise).
    Fitted: network_ (torch module, eval mode), classes_, fit_report_.
    """

    __metadata_request__fit = {"groups": True, "validation": True, "calibration": True}

    def __init__(
        self,
        model: str = "histn",
        preset: str | None = None,
        model_options: dict | None = None,
        train_options: dict | None = None,
        n_classes: int | None = None,
        standardize: bool = True,
        seed: int | None = None,
        max_train_windows: int | None = None,
        checkpoint: str | None = None,
    ):
        self.model = model
        self.preset = preset
        self.model_options = model_options
        self.train_options = train_options
        self.n_classes = n_classes
        self.standardize = standardize
        self.seed = seed
        self.max_train_windows = max_train_windows
        self.checkpoint = checkpoint

    def fit(self, X, y, groups=None, validation=None, calibration=None):
        started = time.perf_counter()
        if spec(self.model).framework != "torch" or self.model == "pinn":
            raise ValueError(
                f"TorchClassifier takes histn, rbtransformer, dgcnn or eegnet, not {self.model!r}"
            )
        X = X if isinstance(X, RowView) else np.asarray(X, dtype=np.float32)
        y = np.asarray(y, dtype=np.int64)
        name = self.preset or spec(self.model).presets.quick
        recipe = get_preset(name)
        seed = self.seed if self.seed is not None else recipe.get("seed", 0)
        n_classes = self.n_classes or max(int(y.max()) + 1, 2)
        self.classes_ = np.arange(n_classes)
        rows = _Rows(len(X), validation, calibration if "calibration" in recipe else None)
        rows.thin(self.max_train_windows)
        seed_everything(seed)
        self.network_ = self._network(X, rows.trained, recipe, n_classes)
        stages = [("training", rows.first, rows.first_validation, recipe["train"])]
        if rows.calibration.size:
            stages = [
                ("pretraining", *stages[0][1:]),
                ("fine-tuning", rows.calibration, None, recipe["calibration"]),
            ]
        reports = []
        for stage, fit_rows, val_rows, train in stages:
            labels = y.copy()
            if stage != "fine-tuning" and recipe.get("label_correction"):
                labels[fit_rows] = _corrected(y[fit_rows], _select(groups, fit_rows), val_rows)
            options = {**train, "seed": seed, **(self.train_options or {})}
            trainer = Trainer(TrainConfig(**options, checkpoint=_stage_file(self, stage)))
            objective = ClassificationObjective(n_classes, recipe["smoothing"])
            data, fit_groups = {"x": X, "y": labels}, _select(groups, fit_rows)
            trainer.fit(self.network_, objective, data, val_rows, fit_groups, rows=fit_rows)
            reports.append({"stage": stage, **trainer.report})
        self.fit_report_ = _merged(reports, name, seed, time.perf_counter() - started)
        return self

    def _network(self, X, trained: np.ndarray, recipe: dict, n_classes: int):
        raw = spec(self.model).inputs == "raw"
        options = {**recipe["model"], **(self.model_options or {})}
        network = create(
            self.model,
            n_chans=X.shape[1],
            n_outputs=n_classes,
            n_times=X.shape[2] if raw else None,
            **options,
        )
        if not self.standardize:
            return network
        mean, std = moments(X, trained, (0, 2) if raw else 0)  # without copying the rows
        return Standardized(network, mean[0], np.where(std[0] > 0, std[0], 1.0))

    def predict_proba(self, X, batch_size: int = 1024) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        batch_size = forward_rows(X.shape[1:], batch_size)
        device = next(self.network_.parameters()).device
        with torch.no_grad():
            parts = [
                torch.softmax(self.network_(_batch(X[i : i + batch_size], device)), dim=-1)
                for i in range(0, len(X), batch_size)
            ]
        return torch.cat(parts).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def save_checkpoint(self, path, ch_names, features: dict, labels: dict):
        """The fitted network as a checkpoint (see `training.checkpoint`) that live and
        offline runs load back; features/labels describe its inputs and classes."""
        from .checkpoint import save_checkpoint

        meta = {"ch_names": list(ch_names), "features": features, "labels": labels}
        return save_checkpoint(path, self.network_, meta)


class PINNClassifier(ClassifierMixin, BaseEstimator):
    """The multi-task PINN (`models.pinn`) as an estimator that also predicts EDA.

    Args:
        preset: "pinn" (papers.md 2.4's proposal) or "pinn-quick" (default).
        model_options: `MultiTaskPINN` options. train_options: `TrainConfig` overrides.
        n_classes: default max(y) + 1. seed: None = the preset's (42). checkpoint: folder of
        the fit's resumable state. The PINN trains in fp32 whatever `precision` asks: its
        physics residual differentiates the network through autograd (ours).
    fit(X, y, t, eda, validation=None): X (n, n_features) peripheral features (standardised
    inside with the training rows' statistics), t (n,) time in [0, 1] within the condition
    segment, eda (n,) the EDA target (e.g. `minmax_per_subject` of WindowSet.extra["eda"]
    fitted on the training rows, as the experiment engine scales it), validation int
    positions held out for early stopping. predict(X, t), predict_proba(X, t),
    predict_eda(X, t), eda_scores(X, t, eda) -> {"eda_rmse", "eda_pearson_r"}.
    Fitted: network_, classes_, physics_ (alpha0, gamma, beta, alpha0_over_gamma, and
    beta_over_gamma: the identifiable ratios), fit_report_.
    """

    __metadata_request__fit = {"t": True, "eda": True, "validation": True}
    __metadata_request__predict = {"t": True}
    __metadata_request__predict_proba = {"t": True}

    def __init__(
        self,
        preset: str | None = None,
        model_options: dict | None = None,
        train_options: dict | None = None,
        n_classes: int | None = None,
        seed: int | None = None,
        checkpoint: str | None = None,
    ):
        self.preset = preset
        self.model_options = model_options
        self.train_options = train_options
        self.n_classes = n_classes
        self.seed = seed
        self.checkpoint = checkpoint

    def fit(self, X, y, t, eda, validation=None):
        started = time.perf_counter()
        X, y = np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)
        name = self.preset or spec("pinn").presets.quick
        recipe = get_preset(name)
        seed = self.seed if self.seed is not None else recipe.get("seed", 0)
        n_classes = self.n_classes or max(int(y.max()) + 1, 2)
        self.classes_ = np.arange(n_classes)
        trained = _Rows(len(X), validation, None).trained
        mean, std = X[trained].mean(axis=0), X[trained].std(axis=0)
        self.scale_ = (mean, np.where(std > 0, std, 1.0).astype(np.float32))
        seed_everything(seed)
        options = {**recipe["model"], **(self.model_options or {})}
        self.network_ = create("pinn", n_chans=X.shape[1], n_outputs=n_classes, **options)
        options = {**recipe["train"], "seed": seed, **(self.train_options or {})}
        options["precision"] = "fp32"  # see the class docstring
        trainer = Trainer(TrainConfig(**options, checkpoint=_stage_file(self, "training")))
        data = {
            "x": self._scaled(X),
            "t": np.asarray(t, dtype=np.float32),
            "eda": np.asarray(eda, dtype=np.float32),
            "y": y,
        }
        trainer.fit(self.network_, PINNObjective(**recipe["objective"]), data, validation)
        physics = self.network_.physics()
        physics["beta_over_gamma"] = [b / physics["gamma"] for b in physics["beta"]]
        self.physics_ = physics
        report = {"stage": "training", **trainer.report}
        self.fit_report_ = _merged([report], name, seed, time.perf_counter() - started)
        self.fit_report_["physics"] = physics
        return self

    def _scaled(self, X) -> np.ndarray:
        mean, std = self.scale_
        return ((np.asarray(X, dtype=np.float32) - mean) / std).astype(np.float32)

    def _outputs(self, X, t) -> tuple[np.ndarray, np.ndarray]:
        x = torch.as_tensor(self._scaled(X))
        times = torch.as_tensor(np.asarray(t, dtype=np.float32))
        with torch.no_grad():
            eda, logits = self.network_.eval()(x, times)
        return eda.numpy(), torch.softmax(logits, dim=-1).numpy()

    def predict_proba(self, X, t) -> np.ndarray:
        return self._outputs(X, t)[1]

    def predict(self, X, t) -> np.ndarray:
        return self.classes_[self.predict_proba(X, t).argmax(axis=1)]

    def predict_eda(self, X, t) -> np.ndarray:
        return self._outputs(X, t)[0]

    def eda_scores(self, X, t, eda) -> dict:
        """RMSE and Pearson r of the predicted EDA against `eda`."""
        predicted, truth = self.predict_eda(X, t), np.asarray(eda, dtype=float)
        return {
            "eda_rmse": float(np.sqrt(np.mean((predicted - truth) ** 2))),
            "eda_pearson_r": float(np.corrcoef(predicted, truth)[0, 1]),
        }


class _Rows:
    """Which rows of X each stage trains on, validates on and fine-tunes on."""

    def __init__(self, n: int, validation, calibration):
        self.n = n
        self.validation = _positions(validation, n, "validation")
        self.calibration = _positions(calibration, n, "calibration")
        if np.intersect1d(self.validation, self.calibration).size:
            raise ValueError("validation and calibration positions overlap")
        self.trained = np.setdiff1d(np.arange(n), self.validation)
        self.first = np.setdiff1d(np.arange(n), self.calibration)

    def thin(self, limit: int | None) -> None:
        """Keep at most `limit` rows for training, evenly spaced, plus the held-out rows."""
        plain = np.setdiff1d(self.first, self.validation)
        if not limit or plain.size <= limit:
            return
        kept = plain[np.unique(np.linspace(0, plain.size - 1, limit).round().astype(int))]
        self.first = np.union1d(kept, self.validation)
        self.trained = np.union1d(kept, self.calibration)

    @property
    def first_validation(self) -> np.ndarray:
        """Validation positions within the first stage's rows."""
        return np.searchsorted(self.first, self.validation)


def _batch(rows: np.ndarray, device) -> torch.Tensor:
    """A batch of rows as a tensor on `device` (copied: the rows may be read-only)."""
    return torch.from_numpy(np.array(rows, dtype=np.float32)).to(device)


def _stage_file(estimator, stage: str) -> str | None:
    """The checkpoint file of one training stage in the estimator's checkpoint folder."""
    return None if estimator.checkpoint is None else f"{estimator.checkpoint}/{stage}.pt"


def _positions(positions, n: int, name: str) -> np.ndarray:
    found = np.asarray([] if positions is None else positions)
    if found.size and (
        not np.issubdtype(found.dtype, np.integer) or found.min() < 0 or found.max() >= n
    ):
        raise ValueError(f"{name} must be integer positions in [0, {n}), got {found[:5]}...")
    return np.unique(found.astype(int))


def _select(groups, rows: np.ndarray):
    return None if groups is None else groups[rows]


def _corrected(y: np.ndarray, groups, validation: np.ndarray) -> np.ndarray:
    """HiSTN's label correction (papers.md 1.7): every row of clip c (groups["trial"]) gets the
    class most trials of clip c have across the subjects (ties: the lower class; ours); a
    trial's class is the most frequent among its rows. Validation rows keep their labels and
    do not vote."""
    if groups is None:
        raise ValueError("label correction needs groups (subject and trial of every row)")
    voters = np.setdiff1d(np.arange(len(y)), validation)
    trials = np.char.add(groups["subject"].astype(str), "/" + groups["trial"].astype(str))
    corrected = y.copy()
    votes: dict[int, list[int]] = {}
    for trial in np.unique(trials[voters]):
        rows = voters[trials[voters] == trial]
        votes.setdefault(int(groups["trial"][rows[0]]), []).append(
            int(np.bincount(y[rows]).argmax())
        )
    for clip, classes in votes.items():
        rows = voters[groups["trial"][voters] == clip]
        corrected[rows] = np.bincount(classes).argmax()
    return corrected


def _merged(reports: list[dict], preset: str, seed: int, seconds: float) -> dict:
    """One fit report from the reports of the stages (module docstring)."""
    last = reports[-1]
    history = [{"stage": r["stage"], **h} for r in reports for h in r["history"]]
    merged = {
        **{k: v for k, v in last.items() if k not in ("stage", "history", "seconds")},
        "epochs_run": sum(r["epochs_run"] for r in reports),
        "history": history,
        "seconds": seconds,
        "preset": preset,
        "seed": seed,
        "resumed_from": _resumed_from(reports),
    }
    if len(reports) > 1:
        merged["kept_because"] = "; ".join(f"{r['stage']}: {r['kept_because']}" for r in reports)
        merged["stages"] = [{k: v for k, v in r.items() if k != "history"} for r in reports]
    return merged


def _resumed_from(reports: list[dict]) -> str | None:
    """Where the fit continued from its checkpoint: the last stage that resumed, its epoch
    and, within an epoch, its batch ("epoch 12", "fine-tuning epoch 3, batch 40")."""
    resumed = [r for r in reports if r.get("resumed_from_epoch") is not None]
    if not resumed:
        return None
    last = resumed[-1]
    where = f"epoch {last['resumed_from_epoch']}"
    if last.get("resumed_from_batch"):
        where += f", batch {last['resumed_from_batch']}"
    return where if len(reports) == 1 else f"{last['stage']} {where}"


def make_estimator(
    name: str,
    profile: str = "quick",
    n_classes: int | None = None,
    info: dict | None = None,
    seed: int | None = None,
    preset: str | None = None,
    threads: int | None = None,
    device: str | None = None,
    precision: str | None = None,
    checkpoint: str | None = None,
):
    """An unfitted scikit-learn-style estimator of registry model `name`.

    profile: "quick" (the model's quick training preset) or "full" (the paper's recipe);
    preset: a named preset instead (e.g. "histn-si", which a paper protocol brings).
    info: the `WindowSet.info` of the inputs; raw-window models take its sfreq and ch_names.
    seed: None = the preset's own seed (RBTransformer 23), baselines 0.
    threads: torch CPU threads while fitting (None: the preset's, 1). device ("cpu", "cuda",
    "auto"), precision ("fp32", "bf16", "fp16") and checkpoint (a folder) go to torch models
    (None: the Trainer's defaults, no checkpoint).
    Torch models give `TorchClassifier`, the PINN `PINNClassifier` (fit metadata t and eda),
    baselines a scikit-learn pipeline.
    """
    if profile not in ("quick", "full"):
        raise ValueError(f"profile must be 'quick' or 'full', got {profile!r}")
    entry = spec(name)
    if entry.framework == "sklearn":
        return create(name, seed=0 if seed is None else seed)
    preset = preset or choose(name, profile)
    given = {"threads": threads, "device": device, "precision": precision}
    train_options = {k: v for k, v in given.items() if v is not None}
    if name == "pinn":
        return PINNClassifier(
            preset=preset,
            n_classes=n_classes,
            seed=seed,
            train_options=train_options,
            checkpoint=checkpoint,
        )
    options = {}
    if entry.inputs == "raw" and info:
        options = {"sfreq": float(info["sfreq"]), "ch_names": list(info["ch_names"])}
    return TorchClassifier(
        name,
        preset=preset,
        model_options=options,
        train_options=train_options,
        n_classes=n_classes,
        seed=seed,
        checkpoint=checkpoint,
    )
