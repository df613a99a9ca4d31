"""One fold job: the unit of work of an experiment, and what it does.

A `Job` names one fold of (dataset, feature recipe, model, protocol, label scheme, dimension) and
carries the fold's window indices, so a worker needs only the job, the feature set and the labels.
Its `key` is a digest of the dataset fingerprint, the feature parameters, the model and recipe,
the protocol and its options, the labels, the fold, the seed and the physioemo version: a store
that holds the key holds the job's result. Where it runs (device, precision) and where its
torch fit keeps its checkpoint (``<run folder>/checkpoints/<key>/``) are not part of the key;
the row says which device and precision it ran with, and from where it resumed.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._json import digest, plain
from .._version import __version__

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One fold to fit and score. Index arrays refer to rows of the job's feature set;
    `validation` and `calibration` are positions within `train`."""

    key: str
    dataset: str
    features: str
    model: str
    preset: str | None
    protocol: str
    labels: str
    dimension: str
    fold: int
    subjects: tuple[str, ...]  # held-out subjects
    leaks: bool
    data: str  # id of the feature set in the shared data
    target: str  # id of the label array in the shared data
    train: np.ndarray
    test: np.ndarray
    validation: np.ndarray | None = None
    calibration: np.ndarray | None = None
    n_classes: int = 2
    ordinal: bool = False
    seed: int | None = None
    threads: int = 1
    device: str = "cpu"  # "cpu", "cuda" or "auto" (a worker may pin "cuda" to one GPU)
    precision: str = "fp32"  # "fp32", "bf16" or "fp16" autocast (torch models)
    running_dir: str | None = None  # where a worker leaves a marker while the job runs
    checkpoints: str | None = None  # the run's folder of fold checkpoints (None: none)
    identity: dict = field(default_factory=dict)
    estimator: object | None = None  # an unfitted estimator to clone instead of `model`

    @property
    def checkpoint(self) -> str | None:
        """The folder of this job's fold checkpoint (None when the run keeps none)."""
        return None if self.checkpoints is None else str(Path(self.checkpoints) / self.key)

    @property
    def name(self) -> str:
        """Short human-readable name for progress lines."""
        return (
            f"{self.dataset} {self.features} {self.model} {self.protocol} {self.dimension} "
            f"fold {self.fold} ({'+'.join(self.subjects)})"
        )


def job_key(parts: dict) -> str:
    """Digest of the job's defining parts and the physioemo version."""
    return digest({**parts, "version": __version__})


# ----------------------------------------------------------------------------- estimators
def _estimator(job: Job, info: dict, device: str):
    """The job's estimator: a clone of its own, or the registry model's; a torch one runs on
    `device` in the job's precision and keeps its checkpoint in the job's folder."""
    from ..training.estimator import make_estimator

    if job.estimator is None:
        return make_estimator(
            job.model,
            n_classes=job.n_classes,
            info=info,
            seed=job.seed,
            preset=job.preset,
            threads=job.threads,
            device=device,
            precision=job.precision,
            checkpoint=job.checkpoint,
        )
    from sklearn.base import clone

    estimator = clone(job.estimator)
    if "checkpoint" in estimator.get_params(deep=False):  # TorchClassifier, PINNClassifier
        options = {**(estimator.train_options or {}), "device": device}
        options["precision"] = job.precision
        estimator.set_params(checkpoint=job.checkpoint, train_options=options)
    return estimator


def requested(estimator, method: str) -> set[str]:
    """Metadata `method` of `estimator` asks for through scikit-learn's metadata routing
    (consumers that declare ``__metadata_request__<method>``; pipelines ask for nothing)."""
    from sklearn.utils.metadata_routing import get_routing_for_object

    requests = getattr(get_routing_for_object(estimator), method, None)
    return {name for name, value in getattr(requests, "requests", {}).items() if value is True}


def _metadata(job: Job, windows, rows: np.ndarray, fitting: bool) -> dict:
    """Everything a fit/predict might ask for, for the windows at `rows`; the EDA target
    "eda" min-max scaled per subject with ranges fitted on the job's training windows only."""
    from ..features.peripheral_windows import minmax_per_subject

    available = {"groups": windows.groups[rows]}
    available.update({name: values[rows] for name, values in windows.extra.items()})
    if "eda" in windows.extra:  # the PINN's target, scaled on this fold's training windows
        subjects = windows.groups["subject"]
        available["eda"] = minmax_per_subject(windows.extra["eda"], subjects, job.train)[rows]
    if fitting:
        available["validation"] = job.validation
        available["calibration"] = job.calibration
    return available


# ----------------------------------------------------------------------------- running
def brief(result: dict) -> str:
    """A result in a few words: its accuracy and fit time, e.g. "accuracy 85.5 % (0.0 s)"."""
    predictions = result["predictions"]
    accuracy = float((predictions["y_true"] == predictions["y_pred"]).mean())
    return f"accuracy {100 * accuracy:.1f} % ({result['seconds_fit']:.1f} s)"


def run_job(job: Job, windows, y: np.ndarray, device: str | None = None) -> dict:
    """Fit the job's estimator on its training windows and predict its test windows.

    device: where a torch fit runs (default: the job's device; a worker with a GPU of its
    own passes e.g. "cuda:1"). Returns the job's result: identity, sizes, the training
    majority class, per-window predictions (`predictions`, arrays, with the training windows
    per class "train_counts"), the estimator's fit report (with the device and precision it
    ran with) and timings.
    """
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(job.threads)
    marker = _mark_running(job)
    try:
        with threadpool_limits(job.threads):  # BLAS/OpenMP: as many threads as torch
            return _fit_and_predict(job, windows, y, device or job.device)
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)


def log_sizes(job: Job, result: dict) -> None:
    """A finished job's fold sizes and device at DEBUG, logged where the result arrives (the
    driver: a worker process has no handler of the caller's)."""
    log.debug(
        "%s: %d training windows (%d of them validation), %d test windows, on %s",
        job.name,
        result["n_train"],
        result["n_validation"],
        result["n_test"],
        result["report"]["device"],
    )


def _fit_and_predict(job: Job, windows, y: np.ndarray, device: str) -> dict:
    X = windows.X
    train, test = job.train, job.test
    counts = np.bincount(y[train], minlength=job.n_classes)
    majority = int(counts.argmax())
    started = time.perf_counter()
    if (counts > 0).sum() < 2:
        estimator, note = None, "single-class training fold: the majority class is predicted"
    else:
        estimator, note = _estimator(job, windows.info, device), ""
        fit_data = _metadata(job, windows, train, fitting=True)
        fit_args = {k: v for k, v in fit_data.items() if k in requested(estimator, "fit")}
        estimator.fit(_training_rows(estimator, X, train), y[train], **fit_args)
    fitted = time.perf_counter()
    predictions = {
        "index": test,
        **{name: windows.groups[name][test] for name in ("subject", "session", "trial", "start")},
        "y_true": y[test],
        "train_counts": counts,  # what a label-only guess knows: the chance (evaluation.chance)
    }
    if estimator is None:
        predictions["y_pred"] = np.full(test.size, majority)
        predictions["proba"] = np.eye(job.n_classes)[predictions["y_pred"]]
    else:
        test_data = _metadata(job, windows, test, fitting=False)

        def call(method: str):
            args = {k: v for k, v in test_data.items() if k in requested(estimator, method)}
            return np.asarray(getattr(estimator, method)(X[test], **args))

        predictions["y_pred"] = call("predict")
        if hasattr(estimator, "predict_proba"):
            predictions["proba"] = _full_proba(estimator, call("predict_proba"), job.n_classes)
        if hasattr(estimator, "predict_eda"):
            predictions["eda_true"] = test_data["eda"]
            predictions["eda_pred"] = estimator.predict_eda(X[test], test_data["t"])
        attention = class_attention(estimator, X[test], y[test], job.n_classes)
        if attention is not None:
            predictions["attention"] = attention
    return {
        "key": job.key,
        **job.identity,
        "subjects": "+".join(job.subjects),
        "leaks": job.leaks,
        "n_classes": job.n_classes,
        "ordinal": job.ordinal,
        "n_train": int(train.size),
        "n_test": int(test.size),
        "n_validation": 0 if job.validation is None else int(job.validation.size),
        "train_majority": majority,
        "note": note,
        "report": {"device": "cpu", **plain(getattr(estimator, "fit_report_", {}))},
        "predictions": predictions,
        "seconds_fit": round(fitted - started, 3),
        "seconds_predict": round(time.perf_counter() - fitted, 3),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


def _training_rows(estimator, X, train: np.ndarray):
    """X[train], or for a torch classifier a `RowView` of them, which it reads batch by batch
    (a worker then holds no copy of the training rows)."""
    from ..training.estimator import TorchClassifier
    from ..training.sampling import RowView

    return RowView(X, train) if isinstance(estimator, TorchClassifier) else X[train]


def class_attention(estimator, X: np.ndarray, y: np.ndarray, n_classes: int, batch=512):
    """Electrode x electrode attention of a fitted network, per true class of the windows:
    (n_classes, n_chans, n_chans) float32, averaged over heads, blocks and the class's windows
    (a class without windows is all zeros); None unless the estimator's `network_` takes
    ``forward(x, return_attention=True)`` (RBTransformer: maps (B, blocks, heads, N, N))."""
    import inspect

    network = getattr(estimator, "network_", None)
    inner = getattr(network, "model", network)  # inside the `Standardized` wrapper
    forward = getattr(inner, "forward", None)
    if (
        forward is None
        or not len(X)
        or "return_attention" not in inspect.signature(forward).parameters
    ):
        return None
    import torch

    device = next(network.parameters()).device
    network.eval()
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    sums = None
    with torch.no_grad():
        for first in range(0, len(X), batch):
            maps = network(X[first : first + batch].to(device), return_attention=True)[1]
            maps = maps.mean(dim=(1, 2)).cpu().numpy().astype(np.float64)  # (B, N, N)
            one_hot = np.eye(n_classes)[y[first : first + batch]]
            part = np.einsum("bc,bij->cij", one_hot, maps)
            sums = part if sums is None else sums + part
    counts = np.bincount(y, minlength=n_classes)[:, None, None]
    return (sums / np.maximum(counts, 1)).astype(np.float32)


def _full_proba(estimator, proba: np.ndarray, n_classes: int) -> np.ndarray:
    """Class probabilities (n, n_classes) whatever subset of classes the estimator saw."""
    classes = np.asarray(getattr(estimator, "classes_", np.arange(proba.shape[1])))
    full = np.zeros((len(proba), n_classes))
    full[:, classes] = proba
    return full


def marker_path(job: Job) -> Path | None:
    """Where the job's running marker lives (None when the run keeps no markers)."""
    return Path(job.running_dir) / f"{job.key}.json" if job.running_dir else None


def _mark_running(job: Job) -> Path | None:
    """A marker file naming the host and process while the job runs (best effort: only
    where the run folder is reachable, e.g. not on a Ray node without the shared disk)."""
    marker = marker_path(job)
    if marker is None or not marker.parent.is_dir():
        return None
    try:
        marker.write_text(
            json.dumps({"job": job.name, "host": socket.gethostname(), "pid": os.getpid()})
        )
    except OSError:
        return None
    return marker


# ----------------------------------------------------------------------------- predictions
def pack(arrays: dict[str, np.ndarray]) -> bytes:
    """Per-window arrays as compressed .npz bytes (numbers and fixed-width strings only)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return buffer.getvalue()


def unpack(blob: bytes) -> dict[str, np.ndarray]:
    """The arrays of `pack`; object arrays are refused (no pickle is ever loaded)."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as stored:
        return {name: stored[name] for name in stored.files}


_FIELDS = "__result__"  # the entry of a result file holding every field but the predictions


def write_result(path: Path, result: dict) -> None:
    """A job's result as one file, written atomically: its predictions as `pack` arrays, the
    other fields (plain values) as JSON."""
    fields = {k: v for k, v in result.items() if k != "predictions"}
    blob = pack({**result["predictions"], _FIELDS: np.array(json.dumps(fields))})
    partial = path.with_name(f"{path.name}.partial")
    partial.write_bytes(blob)
    os.replace(partial, path)


def read_result(path: Path) -> dict:
    """The result `write_result` wrote at `path`."""
    arrays = unpack(path.read_bytes())
    return {**json.loads(str(arrays.pop(_FIELDS))), "predictions": arrays}
