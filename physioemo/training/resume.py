"""Fold checkpoints: what a `Trainer` fit needs to continue where it stopped.

A fit given ``TrainConfig.checkpoint`` (a file path) writes its state there every
``checkpoint_every`` epochs, when it ends (marked finished), and, on SIGINT or SIGTERM, at the
end of the batch that is running; then the signal does what it would have done (Ctrl-C raises
KeyboardInterrupt, SIGTERM ends the process). A fit started again with the same config, data
and model resumes from the file: the same batches, dropout masks and optimiser steps follow as
if it had never stopped, so its predictions equal an uninterrupted fit's.

The state: the model's and optimiser's state dicts, the scheduler's and (fp16) the gradient
scaler's, the sampler's NumPy generator, torch's, Python's and NumPy's global generators (and
CUDA's), the history so far, the best epoch's tracker, and inside an epoch the epoch's batches,
how many ran and their logs. A file written for another fit (its `fingerprint`: the config
without where and how it runs, the data's shapes, the validation rows and the model's
parameter shapes) or that cannot be read is ignored, and the fit starts afresh. Files are
written to a temporary name and renamed, and read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .._json import digest

#: config fields that say where and how a fit runs, not what it computes
PLACE_FIELDS = ("checkpoint", "checkpoint_every", "device", "progress")


def fingerprint(config, shapes: dict, validation, model: torch.nn.Module) -> str:
    """Digest naming one fit: config (without `PLACE_FIELDS`), the data's shapes
    (`sampling.Table.shapes`), the validation positions and the model's parameter names and
    shapes."""
    settings = {k: v for k, v in asdict(config).items() if k not in PLACE_FIELDS}
    rows = [] if validation is None else np.asarray(validation).tolist()
    parameters = {k: list(v.shape) for k, v in model.state_dict().items()}
    return digest({"config": settings, "data": shapes, "validation": rows, "model": parameters})


def rng_state(sampler_rng: np.random.Generator) -> dict:
    """Every random generator a fit draws from, as plain data and tensors."""
    state = {
        "sampler": sampler_rng.bit_generator.state,
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": _numpy_global(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict, sampler_rng: np.random.Generator) -> None:
    sampler_rng.bit_generator.state = state["sampler"]
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    kind, key, position, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, key.numpy().astype(np.uint32), position, has_gauss, gauss))  # noqa: NPY002
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _numpy_global() -> tuple:
    kind, key, position, has_gauss, gauss = np.random.get_state()  # noqa: NPY002
    return kind, torch.as_tensor(key.astype(np.int64)), position, has_gauss, gauss


def snapshot(run, history: list, epoch: int, stopped: bool = False) -> dict:
    """The state of a fit (`trainer._Run`) before epoch `epoch`: weights, optimiser, scheduler,
    gradient scaler, generators, history and best-epoch tracker; "partial" (None here) holds
    the batches of an epoch cut short."""
    optional = {
        part: None if getattr(run, part) is None else getattr(run, part).state_dict()
        for part in ("scheduler", "scaler")
    }
    return {
        "fingerprint": run.key,
        "finished": False,
        "epoch": epoch,
        "partial": None,
        "stopped": stopped,
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        **optional,
        "rng": rng_state(run.sampler.rng),
        "history": history,
        "best": None if run.best is None else vars(run.best),
    }


def restore(run, saved: dict) -> tuple[int, dict | None, bool, list]:
    """Put a `snapshot` back into `run` (and note where it resumed, `run.resumed`): (the
    epoch to continue with, the partial epoch's state or None, whether the fit had stopped
    early, the history so far)."""
    run.model.load_state_dict(saved["model"])
    run.optimizer.load_state_dict(saved["optimizer"])
    for part in ("scheduler", "scaler"):
        if saved[part] is not None:
            getattr(run, part).load_state_dict(saved[part])
    if run.best is not None and saved["best"] is not None:
        vars(run.best).update(saved["best"])
    set_rng_state(saved["rng"], run.sampler.rng)
    partial = saved["partial"]
    run.resumed = (saved["epoch"], 0 if partial is None else partial["done"])
    return saved["epoch"], partial, saved["stopped"], list(saved["history"])


def save(path, state: dict) -> None:
    """Write `state` to `path` atomically (a temporary file in the same folder, renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    torch.save(state, partial)
    os.replace(partial, path)


def load(path, expected: str) -> dict | None:
    """The state saved at `path` for the fit whose fingerprint is `expected`; None when there
    is none, it belongs to another fit, or it cannot be read."""
    if path is None or not Path(path).is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a damaged or foreign file: start afresh
        return None
    if not isinstance(state, dict) or state.get("fingerprint") != expected:
        return None
    return state


class Interruptions:
    """Within `with`: SIGINT and SIGTERM are noted (`caught`) instead of acting, so a fit can
    save at the end of its batch; `deliver()` then restores the handlers and sends the signal
    again. Only in the main thread, and never for a signal that was ignored (worker processes
    ignore Ctrl-C and leave it to their driver)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, active: bool = True):
        self.active = active and threading.current_thread() is threading.main_thread()
        self.caught: int | None = None
        self._previous: dict = {}

    def __enter__(self) -> Interruptions:
        if self.active:
            for number in self.SIGNALS:
                if signal.getsignal(number) is not signal.SIG_IGN:
                    self._previous[number] = signal.signal(number, self._note)
        return self

    def _note(self, number, _frame) -> None:
        self.caught = number

    def __exit__(self, *_) -> None:
        self.deliver()  # one caught after the last save (the fit's end) acts now
        self._restore()

    def _restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}

    def deliver(self) -> None:
        """Let the caught signal, if any, act as it would have without us."""
        if self.caught is None:
            return
        number, self.caught = self.caught, None
        self._restore()
        signal.raise_signal(number)
