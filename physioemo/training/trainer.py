"""One training loop for every torch model of physioemo.

A fit (`Trainer.fit`) trains on every row except the `validation` positions it is given:

* **Validation** rows are never trained on. They choose the epoch kept (``keep="best"``: the
  lowest validation loss) only when they can: at least two trials (or rows, without groups)
  and every training class present. Otherwise the rows go back to training and the recipe's
  fixed schedule runs to its last epoch; the report says why. Recipes that keep the last
  epoch (``keep="last"``) still score the validation rows every epoch, for the curves.
* **Sampling**: "shuffle" (each row once per pass, in random order) or "balanced" (for every
  draw a class uniformly, then one trial of that class, then one of its windows: the HiSTN
  code's class-balanced random crops when the windows are densely strided crops).
* **Epoch length**: one pass over the training rows, a fixed number of batches, or "crops":
  the HiSTN paper's count, the number of crop start positions in the training trials (derived
  from the windows' start/stop samples in `groups`) divided by the batch size (papers.md 1.7).
* **BatchNorm statistics** are re-estimated on the training rows (at most `refresh_rows` of
  them, drawn once per fit) with the current weights before every validation score and after
  the last epoch (ours). Keras' momentum (0.01) cannot settle in a few hundred steps, and a
  momentum fitted to the number of steps would still average statistics over weights that
  changed during training and over dropout-scaled inputs (HiSTN's node-level BatchNorm
  follows a dropout). Re-estimating with the weights kept, dropout off, gives the statistics
  inference sees: every BatchNorm layer in training mode, the rest in evaluation mode, one
  pass with a cumulative average over equal-sized random batches of the training rows.
* **Class weights** ("balanced": n / (K n_k); "max": max_k n_k / n_k, the HiSTN fine-tuning's)
  and SMOTE only when the config asks; both are off by default.
* **Seeds and threads**: `seed` seeds Python, NumPy, torch, the batches and the sampler; two
  fits with the same seed and data give identical weights. Fits run on one torch thread by
  default: with two, some weight gradients (batch reductions in backward) are summed in another
  order and results drift apart by float32 rounding (`TrainConfig.threads`).

After `fit`, `report` holds what the estimators publish as `fit_report_` (see `Trainer.fit`).
"""

from __future__ import annotations

import copy
import math
import random
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from ..recording import trial_keys


@dataclass
class TrainConfig:
    """How to train (module docstring for the behaviour).

    epochs: epochs to run (fewer when patience stops early). batch_size from epoch 0;
    batch_schedule: {epoch: batch size from that epoch} (RBTransformer: {150: 64}).
    steps_per_epoch: None (one pass over the training rows), an int, "crops" (HiSTN
    subject-dependent: crop start positions of the training trials / batch size) or "segments"
    (non-overlapping windows the trials hold / batch size: a pass over 1-s segments however
    densely the windows are strided). sampling: "shuffle" or "balanced".
    lr, optimizer ("adam" | "adamw"), weight_decay; lr_schedule: {epoch: lr from that epoch}
    (HiSTN: {30: 5e-4}); cosine: cosine annealing over `epochs` to `eta_min`, per epoch.
    keep: "best" (lowest validation loss when the validation rows can choose) or "last".
    patience: with usable validation, stop after this many epochs without a lower validation
    loss (None: never). class_weight: None, "balanced" or "max". smote: SMOTE-oversample the
    training rows (imbalanced-learn). freeze: names of submodules not trained (e.g.
    "filter_bank"). refresh_batchnorm / refresh_rows: BatchNorm re-estimation.
    validation_rows: score at most this many validation rows per epoch, a random subset drawn
    once per fit (None: all; quick presets, ours).
    seed. threads: torch CPU threads during the fit; 1 by default (ours) because the summation
    order of some backward reductions depends on the thread count, so results would too
    (docs/training.md); parallelise across folds instead. None leaves torch's setting.
    device: None = CUDA when available.
    progress: tqdm bar over epochs.
    """

    epochs: int = 50
    batch_size: int = 256
    batch_schedule: dict[int, int] = field(default_factory=dict)
    steps_per_epoch: int | str | None = None
    sampling: str = "shuffle"
    lr: float = 1e-3
    lr_schedule: dict[int, float] = field(default_factory=dict)
    optimizer: str = "adam"
    weight_decay: float = 0.0
    cosine: bool = False
    eta_min: float = 1e-6
    keep: str = "best"
    patience: int | None = None
    class_weight: str | None = None
    smote: bool = False
    freeze: tuple[str, ...] = ()
    refresh_batchnorm: bool = True
    refresh_rows: int = 2048
    validation_rows: int | None = None
    seed: int = 0
    threads: int | None = 1
    device: str | None = None
    progress: bool = False

    def __post_init__(self):
        choices = {
            "sampling": ("shuffle", "balanced"),
            "keep": ("best", "last"),
            "class_weight": (None, "balanced", "max"),
            "optimizer": ("adam", "adamw"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        steps = self.steps_per_epoch
        named = steps in (None, "crops", "segments")
        if not (named or (isinstance(steps, int) and steps > 0)):
            raise ValueError(
                f"steps_per_epoch must be None, 'crops', 'segments' or > 0, got {steps!r}"
            )


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy's global state (used by some libraries) and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002
    torch.manual_seed(seed)


def carve_validation(groups, y, fraction: float, seed: int = 0):
    """(fit_positions, val_positions) with about `fraction` of the groups held out, whole
    groups only: a stand-in for a protocol's inner split in scripts and tests.

    groups: a `WindowSet.groups` structured array (split by trial) or one label per sample.
    The held-out groups are drawn per class of their first sample (stratified) when every
    class has at least two groups; a single group cannot be split and gives no validation.
    """
    keys = _unit_keys(groups, len(y))
    unique, first = np.unique(keys, return_index=True)
    if unique.size < 2 or fraction <= 0:
        return np.arange(len(keys)), np.array([], dtype=int)
    rng = np.random.default_rng(seed)
    labels = np.asarray(y)[first]
    held = []
    strata = [unique[labels == c] for c in np.unique(labels)]
    if min(len(s) for s in strata) < 2:
        strata = [unique]
    for members in strata:
        n = max(1, int(round(fraction * len(members))))
        held.extend(rng.choice(members, size=min(n, len(members) - 1), replace=False))
    is_val = np.isin(keys, held)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def class_weights(y: np.ndarray, n_classes: int, kind: str = "balanced") -> np.ndarray:
    """Per-class loss weights, 0 for absent classes.

    "balanced": n / (K n_k) over the K classes present (scikit-learn's); "max": max_k n_k / n_k
    (the HiSTN subject-independent fine-tuning's).
    """
    counts = np.bincount(y, minlength=n_classes).astype(float)
    present = counts > 0
    weights = np.zeros(n_classes)
    if kind == "max":
        weights[present] = counts.max() / counts[present]
    else:
        weights[present] = len(y) / (present.sum() * counts[present])
    return weights


def window_positions(groups: np.ndarray) -> tuple[int, int]:
    """(crop starts, segments) the windows of `groups` cover.

    Per trial, windows that overlap or touch (next start <= previous stop) form one run. A run
    offers every start from its first window's start to its last's (crop starts), and holds
    floor(run length / window length) non-overlapping windows (segments).
    """
    keys = trial_keys(groups)
    order = np.lexsort((groups["start"], keys))
    keys, starts, stops = keys[order], groups["start"][order], groups["stop"][order]
    new_run = np.r_[True, (keys[1:] != keys[:-1]) | (starts[1:] > stops[:-1])]
    firsts = np.flatnonzero(new_run)
    lasts = np.r_[firsts[1:] - 1, len(starts) - 1]
    length = stops[firsts] - starts[firsts]
    spans = starts[lasts] - starts[firsts]
    return int(np.sum(spans + 1)), int(np.sum((spans + length) // length))


def smote(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """SMOTE (imbalanced-learn) on flattened samples; needs the optional `imbalanced-learn`."""
    try:
        from imblearn.over_sampling import SMOTE
    except ImportError as error:
        raise ImportError(
            "smote=True needs imbalanced-learn: pip install 'physioemo[smote]'"
        ) from error
    smallest = np.bincount(y)[np.bincount(y) > 0].min()
    if smallest < 2 or np.unique(y).size < 2:
        return x, y
    sampler = SMOTE(random_state=seed, k_neighbors=min(5, smallest - 1))
    flat, labels = sampler.fit_resample(x.reshape(len(x), -1), y)
    return flat.reshape(-1, *x.shape[1:]).astype(x.dtype), labels


def batchnorm_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def refresh_batchnorm(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 512) -> None:
    """Re-estimate every BatchNorm layer's running statistics on inputs `x` (module docstring):
    one pass, dropout off, cumulative average over equal-sized batches of the rows in the
    order given (pass them shuffled)."""
    layers = batchnorm_layers(model)
    momenta = [layer.momentum for layer in layers]
    model.eval()
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average
        layer.train()
    for chunk in torch.tensor_split(torch.arange(len(x)), max(1, round(len(x) / batch_size))):
        model(x[chunk])
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum
    model.eval()


class Trainer:
    """Train a model with an objective (see `losses`) on arrays given by name.

    data: {"x": (n, ...), "y": (n,), ...}; every array has one row per sample and becomes a
    tensor of the batch under the same name.
    """

    def __init__(self, config: TrainConfig | None = None):
        self.config = config or TrainConfig()
        self.history: list[dict] = []
        self.report: dict = {}

    def device(self) -> torch.device:
        if self.config.device:
            return torch.device(self.config.device)
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def fit(
        self, model: torch.nn.Module, objective, data: dict, validation=None, groups=None
    ) -> torch.nn.Module:
        """Train `model` in place and return it in evaluation mode.

        validation: int positions into the rows held out for choosing the epoch (None or empty:
        none). groups: `WindowSet.groups` of the rows (trials for balanced sampling, the
        validation check and "crops" epochs), or None.
        Sets `report`: epochs_run, epoch_kept, kept_because, history (one dict per epoch:
        epoch, lr, batch_size, steps, train_* and val_* logs, seconds), seconds, n_train,
        n_validation, steps_per_epoch, sampling, class_weight, batchnorm, seed, threads.
        """
        config, started = self.config, time.perf_counter()
        previous_threads = torch.get_num_threads()
        if config.threads:
            torch.set_num_threads(config.threads)
        frozen = _freeze(model, config.freeze)
        try:
            seed_everything(config.seed)
            train, val, problem = self._split(data, validation, groups)
            model = self._loop(model, objective, train, val, problem)
        finally:
            torch.set_num_threads(previous_threads)
            for parameter in frozen:
                parameter.requires_grad_(True)
        self.report["seconds"] = time.perf_counter() - started
        return model

    # ------------------------------------------------------------------------- rows
    def _split(self, data: dict, validation, groups):
        """(training rows and groups, validation rows or None, why there is no usable
        validation: "no validation set", the reason the given rows cannot choose, or None)."""
        config = self.config
        n = len(data["x"])
        val = np.asarray([] if validation is None else validation, dtype=int)
        if val.size and (val.min() < 0 or val.max() >= n or np.unique(val).size != val.size):
            raise ValueError(f"validation must be distinct positions in [0, {n}), got {val}")
        problem = "no validation set"
        if val.size:
            rest = np.setdiff1d(np.arange(n), val)
            problem = _validation_problem(data.get("y"), rest, val, groups)
            if problem:
                val = val[:0]  # back to training
        fit_rows = np.setdiff1d(np.arange(n), val)
        train = {k: np.asarray(v)[fit_rows] for k, v in data.items()}
        train_groups = None if groups is None else groups[fit_rows]
        if config.smote:
            if set(train) != {"x", "y"}:
                raise ValueError("smote=True works on plain (x, y) classification data")
            before = len(train["y"])
            train["x"], train["y"] = smote(train["x"], train["y"], config.seed)
            if train_groups is not None and len(train["y"]) > before:
                train_groups = None  # synthetic rows belong to no trial
        if config.validation_rows and val.size > config.validation_rows:
            rng = np.random.default_rng(config.seed)
            val = np.sort(rng.choice(val, config.validation_rows, replace=False))
        val_rows = {k: np.asarray(v)[val] for k, v in data.items()} if val.size else None
        return {"arrays": train, "groups": train_groups}, val_rows, problem

    # ------------------------------------------------------------------------- loop
    def _loop(self, model, objective, train: dict, val: dict | None, problem: str | None):
        config, device = self.config, self.device()
        arrays, groups = train["arrays"], train["groups"]
        model.to(device)
        tensors = {k: _tensor(v) for k, v in arrays.items()}
        val_tensors = {k: _tensor(v) for k, v in val.items()} if val else None
        n_classes = getattr(objective, "n_classes", None)
        if config.class_weight and "y" in arrays:
            weights = class_weights(arrays["y"], n_classes, config.class_weight)
            objective.class_weight = torch.tensor(weights, dtype=torch.float32)
        rng = np.random.default_rng(config.seed)
        sampler = _Sampler(arrays.get("y"), groups, config.sampling, rng)
        steps, epoch_note = self._steps_per_epoch(len(arrays["x"]), groups)
        refresh = self._refresh_rows(model, tensors, rng)
        optimizer = _optimizer(model, config)
        scheduler = (
            torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.epochs, config.eta_min)
            if config.cosine
            else None
        )
        selects = config.keep == "best" and val_tensors is not None
        best_loss, best_state, best_epoch, waited = np.inf, None, None, 0
        self.history = []
        epochs = tqdm(range(config.epochs), desc="epochs", disable=not config.progress, leave=False)
        for epoch in epochs:
            started = time.perf_counter()
            if epoch in config.lr_schedule:
                for group in optimizer.param_groups:
                    group["lr"] = config.lr_schedule[epoch]
            batch_size = _scheduled(config.batch_schedule, epoch, config.batch_size)
            batches = sampler.batches(steps(batch_size), batch_size)
            record = {
                "epoch": epoch,
                "lr": optimizer.param_groups[0]["lr"],
                "batch_size": batch_size,
                "steps": len(batches),
                **self._train_epoch(model, objective, optimizer, tensors, batches),
            }
            if scheduler is not None:
                scheduler.step()
            if val_tensors is not None:
                refresh(model)
                scores = self.evaluate(model, objective, val_tensors)
                record.update({f"val_{k}": v for k, v in scores.items()})
            record["seconds"] = time.perf_counter() - started
            self.history.append(record)
            epochs.set_postfix(loss=f"{record.get('val_loss', record['train_loss']):.4f}")
            if not selects:
                continue
            if record["val_loss"] < best_loss:
                best_loss, best_epoch, waited = record["val_loss"], epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if config.patience is not None and waited > config.patience:
                    break
        if best_state is not None:
            model.load_state_dict(best_state)  # statistics refreshed at that epoch
        elif val_tensors is None:
            refresh(model)
        epoch_kept = best_epoch if selects else len(self.history) - 1
        self.report = {
            "epochs_run": len(self.history),
            "epoch_kept": epoch_kept,
            "kept_because": self._kept_because(selects, epoch_kept, problem),
            "history": self.history,
            "n_train": len(arrays["x"]),
            "n_validation": 0 if val is None else len(val["x"]),
            "steps_per_epoch": epoch_note,
            "sampling": config.sampling,
            "class_weight": None
            if objective.class_weight is None
            else [round(float(w), 6) for w in objective.class_weight],
            "batchnorm": refresh.note,
            "seed": config.seed,
            "threads": torch.get_num_threads(),
        }
        return model.eval()

    def _train_epoch(self, model, objective, optimizer, tensors: dict, batches) -> dict:
        """One optimiser step per batch of row indices; the mean training logs."""
        device, logs = self.device(), []
        model.train()
        for index in batches:
            batch = {k: v[index].to(device) for k, v in tensors.items()}
            loss, log = objective(model, batch, train=True)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if hasattr(model, "apply_constraints"):
                model.apply_constraints()
            logs.append((len(index), log))
        return {f"train_{k}": v for k, v in _mean(logs).items()}

    def _steps_per_epoch(self, n_rows: int, groups):
        """(batch size -> steps, a note for the report)."""
        steps = self.config.steps_per_epoch
        if isinstance(steps, int):
            return (lambda _: steps), f"{steps} batches"
        if steps in ("crops", "segments") and groups is not None:
            crops, segments = window_positions(groups)
            count = crops if steps == "crops" else segments
            note = f"{steps} / batch size ({count} {steps})"
            return (lambda size: max(1, round(count / size))), note
        note = "one pass over the training rows"
        if steps in ("crops", "segments"):
            note += f" (no window positions to count {steps})"
        return (lambda size: math.ceil(n_rows / size)), note

    def _refresh_rows(self, model, tensors: dict, rng: np.random.Generator):
        """A callable re-estimating BatchNorm statistics on a fixed random set of training rows
        (a no-op without BatchNorm layers or when switched off); `.note` describes it."""
        config = self.config
        n = len(tensors["x"])
        if not (config.refresh_batchnorm and batchnorm_layers(model)):

            def refresh(_):
                return None

            refresh.note = "no BatchNorm" if config.refresh_batchnorm else "running averages"
            return refresh
        rows = torch.as_tensor(rng.permutation(n)[: config.refresh_rows])
        x = tensors["x"][rows].to(self.device())

        def refresh(model):
            refresh_batchnorm(model, x)

        refresh.note = f"re-estimated on {len(rows)} training rows"
        return refresh

    def _kept_because(self, selects: bool, epoch_kept: int, problem: str | None) -> str:
        config = self.config
        if selects:
            because = "lowest validation loss"
            if epoch_kept == 0:
                because += " at epoch 0 (weights after the first epoch): no later epoch improved"
            if len(self.history) < config.epochs:
                because += f"; stopped after {config.patience + 1} epochs without improvement"
            return because
        if config.keep == "last":
            because = "last epoch (recipe keeps the last)"
            if problem is None:
                because += "; validation scored for the curves only"
        elif problem == "no validation set":
            because = "no validation set: fixed schedule, last epoch"
        else:
            because = f"validation set too small ({problem}): fixed schedule, last epoch"
        if epoch_kept == 0:
            because += " (epoch 0: the schedule has one epoch)"
        return because

    def evaluate(self, model, objective, tensors: dict, batch_size: int = 1024) -> dict:
        """Mean objective logs over `tensors` (one-hot targets, eval mode)."""
        model.eval()
        device, logs = self.device(), []
        n = len(tensors["x"])
        with torch.set_grad_enabled(objective.needs_grad_in_eval):
            for start in range(0, n, batch_size):
                batch = {k: v[start : start + batch_size].to(device) for k, v in tensors.items()}
                logs.append((len(batch["x"]), objective(model, batch, train=False)[1]))
        return _mean(logs)


class _Sampler:
    """Index batches: shuffled passes, or class-balanced draws (class, then trial, then row)."""

    def __init__(self, y, groups, sampling: str, rng: np.random.Generator):
        self.rng, self.sampling = rng, sampling
        self.n = len(y) if y is not None else None
        if sampling == "balanced":
            if y is None:
                raise ValueError("balanced sampling needs labels y")
            self._units(np.asarray(y), groups)

    def _units(self, y: np.ndarray, groups) -> None:
        """Units = (trial, label) pairs (rows alone without groups), listed per class."""
        keys = _unit_keys(groups, len(y))
        _, trial = np.unique(keys, return_inverse=True)
        _, unit = np.unique(trial * (y.max() + 1) + y, return_inverse=True)
        self.order = np.argsort(unit, kind="stable")
        self.counts = np.bincount(unit)
        self.offsets = np.r_[0, np.cumsum(self.counts)[:-1]]
        label = y[self.order[self.offsets]]
        self.classes = np.unique(label)
        self.units_of = {c: np.flatnonzero(label == c) for c in self.classes}

    def batches(self, steps: int, batch_size: int) -> list[torch.Tensor]:
        """`steps` index batches: balanced draws, or passes over shuffled rows (each pass
        ends with its partial batch; a pass cut short by `steps` is not resumed)."""
        if self.sampling == "balanced":
            return list(torch.as_tensor(self._balanced(steps * batch_size)).split(batch_size))
        batches = []
        while len(batches) < steps:
            batches += torch.as_tensor(self.rng.permutation(self.n)).split(batch_size)
        return batches[:steps]

    def _balanced(self, total: int) -> np.ndarray:
        labels = self.rng.choice(self.classes, size=total)
        rows = np.empty(total, dtype=np.int64)
        for c in self.classes:
            where = np.flatnonzero(labels == c)
            units = self.units_of[c][self.rng.integers(len(self.units_of[c]), size=where.size)]
            within = np.floor(self.rng.random(where.size) * self.counts[units]).astype(np.int64)
            rows[where] = self.order[self.offsets[units] + within]
        return rows


def _unit_keys(groups, n: int) -> np.ndarray:
    """One key per row naming its unit: trial keys of structured groups, the labels of plain
    groups, or the row itself without groups."""
    if groups is None:
        return np.arange(n).astype(str)
    if getattr(groups, "dtype", None) is not None and groups.dtype.names:
        return trial_keys(groups)
    return np.asarray(groups).astype(str)


def _validation_problem(y, fit_rows: np.ndarray, val: np.ndarray, groups) -> str | None:
    """Why the validation rows cannot choose an epoch ("1 trial, class 1 missing"), or None."""
    units = np.unique(_unit_keys(None if groups is None else groups[val], val.size)).size
    missing = [] if y is None else sorted(set(np.asarray(y)[fit_rows]) - set(np.asarray(y)[val]))
    if units >= 2 and not missing:
        return None
    noun = "trial" if groups is not None else "row"
    parts = [f"{units} {noun}{'s' if units != 1 else ''}"]
    if missing:
        parts.append(f"class {', '.join(str(int(c)) for c in missing)} missing")
    return ", ".join(parts)


def _freeze(model: torch.nn.Module, names) -> list[torch.nn.Parameter]:
    """Stop training the parameters of submodules called `names`; returns them."""
    frozen = []
    for name, parameter in model.named_parameters():
        parts = name.split(".")
        if parameter.requires_grad and any(n in parts for n in names):
            parameter.requires_grad_(False)
            frozen.append(parameter)
    return frozen


def _tensor(array: np.ndarray) -> torch.Tensor:
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.integer):
        return torch.as_tensor(array, dtype=torch.long)
    return torch.as_tensor(array, dtype=torch.float32)


def _optimizer(model, config: TrainConfig) -> torch.optim.Optimizer:
    options = {"lr": config.lr, "weight_decay": config.weight_decay}
    parameters = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        return torch.optim.Adam(parameters, **options)
    return torch.optim.AdamW(parameters, **options)


def _scheduled(schedule: dict[int, int], epoch: int, default):
    started = [e for e in schedule if e <= epoch]
    return schedule[max(started)] if started else default


def _mean(logs: list[tuple[int, dict]]) -> dict:
    total = sum(n for n, _ in logs)
    return {k: sum(n * log[k] for n, log in logs) / total for k in logs[0][1]}
