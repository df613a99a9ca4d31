"""One training loop for every torch model of physioemo.

Seeded (Python, NumPy, torch) and deterministic on CPU; the validation split is carved from
the training data only, by trial (or by any group labels), so no trial reaches both sides;
early stopping and best-epoch selection on the validation loss; class weights or balanced
sampling; optional SMOTE (imbalanced-learn) on the training part; CPU thread control; CUDA
when available; tqdm progress; a history of losses and metrics per epoch.
"""

from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from ..recording import trial_keys


@dataclass
class TrainConfig:
    """How to train.

    epochs: maximum number of epochs. batch_size: batch size from epoch 0;
    batch_schedule: {epoch: batch size from that epoch} (RBTransformer: {150: 64}).
    lr, optimizer ("adam" | "adamw"), weight_decay. lr_schedule: {epoch: lr from that epoch}
    (HiSTN: {30: 5e-4}); cosine: cosine annealing over `epochs` to `eta_min` (per epoch).
    val_fraction: share of the training groups held out for validation (0 = none).
    patience: epochs without a better validation loss before stopping (None = never stop).
    select_best: restore the weights of the epoch with the lowest validation loss.
    balance: "weights" (class weights n / (K n_k) in the loss), "sampler" (class-balanced
    sampling with replacement) or None. smote: oversample the training part with SMOTE.
    seed, threads (torch CPU threads while training), device (None: CUDA when available),
    progress (tqdm bar over epochs).
    """

    epochs: int = 50
    batch_size: int = 256
    batch_schedule: dict[int, int] = field(default_factory=dict)
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    lr_schedule: dict[int, float] = field(default_factory=dict)
    cosine: bool = False
    eta_min: float = 1e-6
    val_fraction: float = 0.2
    patience: int | None = 10
    select_best: bool = True
    balance: str | None = "weights"
    smote: bool = False
    seed: int = 0
    threads: int | None = None
    device: str | None = None
    progress: bool = False


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy's global state (used by some libraries) and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002
    torch.manual_seed(seed)


def carve_validation(groups, y, fraction: float, seed: int = 0):
    """(train_index, val_index) with about `fraction` of the groups held out, whole groups only.

    groups: a `WindowSet.groups` structured array (split by trial) or one label per sample.
    The held-out groups are drawn per class of their first sample (stratified) when every
    class has at least two groups; a single group cannot be split and gives no validation.
    """
    keys = (
        trial_keys(groups)
        if getattr(groups, "dtype", None) is not None and groups.dtype.names
        else np.asarray(groups).astype(str)
    )
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


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """n / (K n_k) for the classes present (scikit-learn's "balanced"); 0 for absent ones."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    present = counts > 0
    weights = np.zeros(n_classes)
    weights[present] = len(y) / (present.sum() * counts[present])
    return weights


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


class Trainer:
    """Train a model with an objective (see `losses`) on arrays given by name.

    data: {"x": (n, ...), "y": (n,), ...}; every array has one row per sample and becomes a
    tensor of the batch under the same name. groups: per-sample groups for the validation split.
    After `fit`, `history` holds one dict per epoch and `best_epoch` the selected one.
    """

    def __init__(self, config: TrainConfig | None = None):
        self.config = config or TrainConfig()
        self.history: list[dict] = []
        self.best_epoch: int | None = None

    def device(self) -> torch.device:
        if self.config.device:
            return torch.device(self.config.device)
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def fit(self, model: torch.nn.Module, objective, data: dict, groups=None) -> torch.nn.Module:
        config = self.config
        previous_threads = torch.get_num_threads()
        if config.threads:
            torch.set_num_threads(config.threads)
        try:
            seed_everything(config.seed)
            train, val = self._split(data, groups)
            return self._loop(model, objective, train, val)
        finally:
            torch.set_num_threads(previous_threads)

    def _split(self, data: dict, groups) -> tuple[dict, dict | None]:
        config = self.config
        n = len(data["x"])
        if groups is None or config.val_fraction <= 0:
            train_index, val_index = np.arange(n), np.array([], dtype=int)
        else:
            train_index, val_index = carve_validation(
                groups, data.get("y", np.zeros(n, int)), config.val_fraction, config.seed
            )
        train = {k: np.asarray(v)[train_index] for k, v in data.items()}
        val = {k: np.asarray(v)[val_index] for k, v in data.items()} if val_index.size else None
        if config.smote:
            if set(train) != {"x", "y"}:
                raise ValueError("smote=True works on plain (x, y) classification data")
            train["x"], train["y"] = smote(train["x"], train["y"], config.seed)
        return train, val

    def _loop(self, model, objective, train: dict, val: dict | None):
        config, device = self.config, self.device()
        model.to(device)
        tensors = {k: _tensor(v) for k, v in train.items()}
        val_tensors = {k: _tensor(v) for k, v in val.items()} if val else None
        if config.balance == "weights" and "y" in train and objective.class_weight is None:
            n_classes = getattr(objective, "n_classes", int(train["y"].max()) + 1)
            objective.class_weight = torch.tensor(
                class_weights(train["y"], n_classes), dtype=torch.float32
            )
        optimizer = _optimizer(model, config)
        scheduler = (
            torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.epochs, config.eta_min)
            if config.cosine
            else None
        )
        shuffler = torch.Generator().manual_seed(config.seed)
        best_loss, best_state, waited = np.inf, None, 0
        self.history, self.best_epoch = [], None
        epochs = tqdm(range(config.epochs), desc="epochs", disable=not config.progress, leave=False)
        for epoch in epochs:
            started = time.perf_counter()
            if epoch in config.lr_schedule:
                for group in optimizer.param_groups:
                    group["lr"] = config.lr_schedule[epoch]
            batch_size = _scheduled(config.batch_schedule, epoch, config.batch_size)
            model.train()
            logs = []
            for index in self._batches(train, batch_size, shuffler):
                batch = {k: v[index].to(device) for k, v in tensors.items()}
                loss, log = objective(model, batch, train=True)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if hasattr(model, "apply_constraints"):
                    model.apply_constraints()
                logs.append((len(index), log))
            record = {
                "epoch": epoch,
                "lr": optimizer.param_groups[0]["lr"],
                "batch_size": batch_size,
                **{f"train_{k}": v for k, v in _mean(logs).items()},
            }
            if scheduler is not None:
                scheduler.step()
            if val_tensors is not None:
                record.update(
                    {f"val_{k}": v for k, v in self.evaluate(model, objective, val_tensors).items()}
                )
            record["seconds"] = time.perf_counter() - started
            self.history.append(record)
            monitored = record.get("val_loss", record["train_loss"])
            epochs.set_postfix(loss=f"{monitored:.4f}")
            if monitored < best_loss:
                best_loss, waited, self.best_epoch = monitored, 0, epoch
                if config.select_best and val_tensors is not None:
                    best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if (
                    val_tensors is not None
                    and config.patience is not None
                    and waited > config.patience
                ):
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
        return model.eval()

    def _batches(self, train: dict, batch_size: int, generator: torch.Generator):
        n = len(train["x"])
        if self.config.balance == "sampler" and "y" in train:
            counts = np.bincount(train["y"])
            weights = torch.tensor(1.0 / counts[train["y"]], dtype=torch.float64)
            order = torch.multinomial(weights, n, replacement=True, generator=generator)
        else:
            order = torch.randperm(n, generator=generator)
        return order.split(batch_size)

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


def _tensor(array: np.ndarray) -> torch.Tensor:
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.integer):
        return torch.as_tensor(array, dtype=torch.long)
    return torch.as_tensor(array, dtype=torch.float32)


def _optimizer(model, config: TrainConfig) -> torch.optim.Optimizer:
    options = {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), **options)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), **options)
    raise ValueError(f"optimizer must be 'adam' or 'adamw', got {config.optimizer!r}")


def _scheduled(schedule: dict[int, int], epoch: int, default):
    started = [e for e in schedule if e <= epoch]
    return schedule[max(started)] if started else default


def _mean(logs: list[tuple[int, dict]]) -> dict:
    total = sum(n for n, _ in logs)
    return {k: sum(n * log[k] for n, log in logs) / total for k in logs[0][1]}
