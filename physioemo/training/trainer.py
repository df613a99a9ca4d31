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

* **Rows** are read where they lie (NumPy arrays, memory maps or `sampling.RowView`s): each
  batch is gathered when it is drawn, so a fit never holds a copy of all its training rows.
* **Device and precision**: `TrainConfig.device` ("cpu", "cuda", "cuda:1", or None/"auto":
  CUDA when available); on CUDA, batches are gathered into pinned memory and copied
  asynchronously. `precision` "bf16" or "fp16" runs the forward passes under autocast
  (fp16 with a gradient scaler, CUDA only); "fp32" (the default) does not.
* **Checkpoints** (`TrainConfig.checkpoint`): the fit's state every `checkpoint_every` epochs,
  at its end and on SIGINT/SIGTERM; a fit started again resumes from it and ends with the same
  weights as one that never stopped (`resume`).

After `fit`, `report` holds what the estimators publish as `fit_report_` (see `Trainer.fit`).
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from . import resume
from .config import TrainConfig
from .device import autocast, resolve_device
from .sampling import (
    Sampler,
    Table,
    carve_validation,
    class_weights,
    epoch_length,
    forward_rows,
    smote,
    validation_problem,
)

__all__ = ["TrainConfig", "Trainer", "carve_validation", "resolve_device", "seed_everything"]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy's global state (used by some libraries) and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002
    torch.manual_seed(seed)


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
        return resolve_device(self.config.device)

    def fit(
        self, model: torch.nn.Module, objective, data: dict, validation=None, groups=None, rows=None
    ) -> torch.nn.Module:
        """Train `model` in place and return it in evaluation mode.

        rows: positions of `data`'s arrays this fit uses (None: all of them); `validation`
        and `groups` refer to these rows. validation: int positions into the rows held out
        for choosing the epoch (None or empty: none). groups: `WindowSet.groups` of the rows
        (trials for balanced sampling, the validation check and "crops" epochs), or None.
        Sets `report`: epochs_run, epoch_kept, kept_because, history (one dict per epoch:
        epoch, lr, batch_size, steps, train_* and val_* logs, seconds), seconds, n_train,
        n_validation, steps_per_epoch, sampling, class_weight, batchnorm, seed, threads,
        device, precision, resumed_from_epoch and resumed_from_batch (None unless the fit
        continued from a checkpoint; batch 0 at an epoch's start).
        """
        config, started = self.config, time.perf_counter()
        device = self.device()
        if config.precision == "fp16" and device.type != "cuda":
            raise ValueError("precision fp16 needs a CUDA device; use bf16 or fp32 on the CPU")
        previous_threads = torch.get_num_threads()
        if config.threads:
            torch.set_num_threads(config.threads)
        frozen = _freeze(model, config.freeze)
        try:
            seed_everything(config.seed)
            table = Table(data, rows)
            key = resume.fingerprint(config, table.shapes(), validation, model)
            saved = resume.load(config.checkpoint, key) if config.checkpoint else None
            if saved is not None and saved["finished"]:
                model = self._restored(model, saved, device)
            else:
                train, val, problem = self._split(table, validation, groups)
                with resume.Interruptions(config.checkpoint is not None) as interruptions:
                    run = self._prepare(model, objective, train, val, device)
                    run.key, run.interruptions = key, interruptions
                    model = self._loop(run, problem, saved)
        finally:
            torch.set_num_threads(previous_threads)
            for parameter in frozen:
                parameter.requires_grad_(True)
        self.report["seconds"] = time.perf_counter() - started
        return model

    def _restored(self, model, saved: dict, device) -> torch.nn.Module:
        """A finished fit read back from its checkpoint: its weights and report (resumed at
        its last epoch: nothing trained again)."""
        model.load_state_dict(saved["model"])
        self.report = {**saved["report"], "resumed_from_epoch": saved["report"]["epochs_run"]}
        self.history = self.report["history"]
        return model.to(device).eval()

    # ------------------------------------------------------------------------- rows
    def _split(self, table: Table, validation, groups):
        """(training rows and groups, validation rows or None, why there is no usable
        validation: "no validation set", the reason the given rows cannot choose, or None)."""
        config = self.config
        n = len(table)
        val = np.asarray([] if validation is None else validation, dtype=int)
        if val.size and (val.min() < 0 or val.max() >= n or np.unique(val).size != val.size):
            raise ValueError(f"validation must be distinct positions in [0, {n}), got {val}")
        labels = table.column("y") if "y" in table.arrays else None
        problem = "no validation set"
        if val.size:
            rest = np.setdiff1d(np.arange(n), val)
            problem = validation_problem(labels, rest, val, groups)
            if problem:
                val = val[:0]  # back to training
        fit_rows = np.setdiff1d(np.arange(n), val)
        train = table.subset(fit_rows)
        train_groups = None if groups is None else groups[fit_rows]
        if config.smote:
            if set(table.arrays) != {"x", "y"}:
                raise ValueError("smote=True works on plain (x, y) classification data")
            before = len(train)
            x, y = smote(np.asarray(train.column("x")), train.column("y"), config.seed)
            train = Table({"x": x, "y": y})
            if train_groups is not None and len(y) > before:
                train_groups = None  # synthetic rows belong to no trial
        if config.validation_rows and val.size > config.validation_rows:
            rng = np.random.default_rng(config.seed)
            val = np.sort(rng.choice(val, config.validation_rows, replace=False))
        val_rows = table.subset(val) if val.size else None
        return {"table": train, "groups": train_groups}, val_rows, problem

    # ------------------------------------------------------------------------- loop
    def _loop(self, run: _Run, problem: str | None, saved: dict | None):
        """Run the epochs (early stopping when the validation rows choose), keep the chosen
        epoch's weights and fill `report`; from the checkpoint `saved` when there is one."""
        config, model = self.config, run.model
        selects = config.keep == "best" and run.val is not None
        run.best = _BestEpoch(config.patience) if selects else None
        self.history, first, partial, stopped = [], 0, None, False
        if saved is not None:
            first, partial, stopped, self.history = resume.restore(run, saved)
        epochs = tqdm(
            range(first, config.epochs),
            initial=first,
            total=config.epochs,
            desc="epochs",
            disable=not config.progress,
            leave=False,
        )
        for epoch in [] if stopped else epochs:
            record = self._epoch(run, epoch, partial)
            partial = None
            self.history.append(record)
            epochs.set_postfix(loss=f"{record.get('val_loss', record['train_loss']):.4f}")
            stopped = run.best is not None and run.best.stops_after(record, model)
            every = (epoch + 1) % config.checkpoint_every == 0
            if config.checkpoint and (every or stopped or run.interruptions.caught):
                resume.save(
                    config.checkpoint, resume.snapshot(run, self.history, epoch + 1, stopped)
                )
                run.interruptions.deliver()
            if stopped:
                break
        best = run.best
        if best is not None and best.state is not None:
            model.load_state_dict(best.state)  # statistics refreshed at that epoch
        elif run.val is None:
            run.refresh(model)
        epoch_kept = best.epoch if best is not None else len(self.history) - 1
        self._fill_report(run, epoch_kept, self._kept_because(selects, epoch_kept, problem))
        if config.checkpoint:
            state = {"model": model.state_dict(), "report": self.report}
            resume.save(config.checkpoint, {"fingerprint": run.key, "finished": True, **state})
        return model.eval()

    def _prepare(self, model, objective, train: dict, val: Table | None, device) -> _Run:
        """Everything the epochs of one fit share. The model moves to the device; the objective
        gets the class weights the config asks for. One generator seeded with `seed` serves the
        sampler and then draws the BatchNorm refresh rows."""
        config, table, groups = self.config, train["table"], train["groups"]
        model.to(device)
        labels = table.column("y") if "y" in table.arrays else None
        if config.class_weight and labels is not None:
            n_classes = getattr(objective, "n_classes", None)
            weights = class_weights(labels, n_classes, config.class_weight)
            objective.class_weight = torch.tensor(weights, dtype=torch.float32)
        rng = np.random.default_rng(config.seed)
        sampler = Sampler(labels, groups, config.sampling, rng)
        steps, steps_note = epoch_length(config.steps_per_epoch, len(table), groups)
        refresh = self._refresh_rows(model, table, rng, device)
        optimizer = _optimizer(model, config)
        scheduler = (
            torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.epochs, config.eta_min)
            if config.cosine
            else None
        )
        scaler = torch.amp.GradScaler("cuda") if config.precision == "fp16" else None
        return _Run(
            model,
            objective,
            table,
            val,
            sampler,
            steps,
            steps_note,
            refresh,
            optimizer,
            scheduler,
            scaler,
            device,
        )

    def _epoch(self, run: _Run, epoch: int, partial: dict | None = None) -> dict:
        """Train one epoch (the rest of one, from a checkpoint's `partial` state), then score
        the validation rows (BatchNorm statistics refreshed first); the epoch's record."""
        config, started = self.config, time.perf_counter()
        if epoch in config.lr_schedule:
            for group in run.optimizer.param_groups:
                group["lr"] = config.lr_schedule[epoch]
        batch_size = _scheduled(config.batch_schedule, epoch, config.batch_size)
        if partial is None:
            batches, done, logs = run.sampler.batches(run.steps(batch_size), batch_size), 0, []
        else:
            batches, done, logs = partial["batches"], partial["done"], list(partial["logs"])
        record = {
            "epoch": epoch,
            "lr": run.optimizer.param_groups[0]["lr"],
            "batch_size": batch_size,
            "steps": len(batches),
            **self._train_epoch(run, epoch, batches, done, logs),
        }
        if run.scheduler is not None:
            run.scheduler.step()
        if run.val is not None:
            run.refresh(run.model)
            scores = self.evaluate(run.model, run.objective, run.val)
            record.update({f"val_{k}": v for k, v in scores.items()})
        record["seconds"] = time.perf_counter() - started
        return record

    def _train_epoch(self, run: _Run, epoch: int, batches, done: int, logs: list) -> dict:
        """One optimiser step per batch of row positions from batch `done` on (after `logs`
        of the batches before it); the mean training logs. On SIGINT/SIGTERM, the state after
        the running batch is saved and the signal delivered."""
        model, optimizer, pin = run.model, run.optimizer, run.device.type == "cuda"
        model.train()
        for position in range(done, len(batches)):
            index = batches[position]
            batch = run.table.batch(index, run.device, pin)
            with autocast(self.config.precision, run.device):
                loss, log = run.objective(model, batch, train=True)
            optimizer.zero_grad()
            if run.scaler is None:
                loss.backward()
                optimizer.step()
            else:
                run.scaler.scale(loss).backward()
                run.scaler.step(optimizer)
                run.scaler.update()
            if hasattr(model, "apply_constraints"):
                model.apply_constraints()
            logs.append((len(index), log))
            if run.interruptions.caught:  # only caught when there is a checkpoint
                state = resume.snapshot(run, self.history, epoch)
                state["partial"] = {"batches": batches, "done": position + 1, "logs": logs}
                resume.save(self.config.checkpoint, state)
                run.interruptions.deliver()
        return {f"train_{k}": v for k, v in _mean(logs).items()}

    def _fill_report(self, run: _Run, epoch_kept: int | None, kept_because: str) -> None:
        class_weight = run.objective.class_weight
        resumed = run.resumed or (None, None)
        self.report = {
            "epochs_run": len(self.history),
            "epoch_kept": epoch_kept,
            "kept_because": kept_because,
            "history": self.history,
            "n_train": len(run.table),
            "n_validation": 0 if run.val is None else len(run.val),
            "steps_per_epoch": run.steps_note,
            "sampling": self.config.sampling,
            "class_weight": None
            if class_weight is None
            else [round(float(w), 6) for w in class_weight],
            "batchnorm": run.refresh.note,
            "seed": self.config.seed,
            "threads": torch.get_num_threads(),
            "device": str(run.device),
            "precision": self.config.precision,
            "resumed_from_epoch": resumed[0],
            "resumed_from_batch": resumed[1],
        }

    def _refresh_rows(self, model, table: Table, rng: np.random.Generator, device):
        """A callable re-estimating BatchNorm statistics on a fixed random set of training rows
        (a no-op without BatchNorm layers or when switched off); `.note` describes it."""
        config = self.config
        n = len(table)
        if not (config.refresh_batchnorm and batchnorm_layers(model)):

            def refresh(_):
                return None

            refresh.note = "no BatchNorm" if config.refresh_batchnorm else "running averages"
            return refresh
        rows = rng.permutation(n)[: config.refresh_rows]
        x = table.batch(rows, device)["x"]

        def refresh(model):
            with autocast(self.config.precision, device):
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

    def evaluate(self, model, objective, table: Table, batch_size: int = 1024) -> dict:
        """Mean objective logs over the rows of `table` (one-hot targets, eval mode)."""
        model.eval()
        device, logs = self.device(), []
        batch_size = forward_rows(np.shape(table.arrays["x"])[1:], batch_size)
        with (
            torch.set_grad_enabled(objective.needs_grad_in_eval),
            autocast(self.config.precision, device),
        ):
            for start in range(0, len(table), batch_size):
                batch = table.batch(np.arange(start, min(start + batch_size, len(table))), device)
                logs.append((len(batch["x"]), objective(model, batch, train=False)[1]))
        return _mean(logs)


@dataclass
class _Run:
    """What the epochs of one fit share (`Trainer._prepare`)."""

    model: torch.nn.Module
    objective: object
    table: Table  # the training rows
    val: Table | None
    sampler: Sampler
    steps: Callable[[int], int]  # batch size -> batches per epoch
    steps_note: str
    refresh: Callable  # re-estimates BatchNorm statistics; .note says how
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    scaler: torch.amp.GradScaler | None
    device: torch.device
    key: str = ""  # the fit's fingerprint (`resume`)
    interruptions: resume.Interruptions | None = None
    best: _BestEpoch | None = None
    resumed: tuple[int, int] | None = None  # (epoch, batch) the fit continued from


class _BestEpoch:
    """The epoch of lowest validation loss so far, its weights, and early stopping."""

    def __init__(self, patience: int | None):
        self.patience = patience
        self.loss, self.epoch, self.state, self.waited = np.inf, None, None, 0

    def stops_after(self, record: dict, model: torch.nn.Module) -> bool:
        """Note an epoch's record (`model` holds that epoch's weights); True once more than
        `patience` epochs in a row have not lowered the validation loss."""
        if record["val_loss"] < self.loss:
            self.loss, self.epoch, self.waited = record["val_loss"], record["epoch"], 0
            self.state = copy.deepcopy(model.state_dict())
            return False
        self.waited += 1
        return self.patience is not None and self.waited > self.patience


def _freeze(model: torch.nn.Module, names) -> list[torch.nn.Parameter]:
    """Stop training the parameters of submodules called `names`; returns them."""
    frozen = []
    for name, parameter in model.named_parameters():
        parts = name.split(".")
        if parameter.requires_grad and any(n in parts for n in names):
            parameter.requires_grad_(False)
            frozen.append(parameter)
    return frozen


def _optimizer(model, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam or AdamW over the trainable parameters, all updated in one multi-tensor (foreach)
    step: the same arithmetic as a loop over the tensors, bit for bit, at a fraction of the
    per-step overhead of models with many small tensors (HiSTN)."""
    options = {"lr": config.lr, "weight_decay": config.weight_decay, "foreach": True}
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
