"""Cross-validation of one model on windows already in memory, through the engine's own job
path (no run folder): for scripts and notebooks.

    from physioemo.experiment import cross_validate
    results = cross_validate(windows, y, "logreg", protocols.get("subject-dependent"))
    print(format_table(results.summary()))       # physioemo.evaluation.summary
    results.to_frame()                           # pandas: one row per fold and subject
"""

from __future__ import annotations

import logging

import numpy as np

from .._logging import takes_verbose
from ..models import spec
from .backends import Failure, Serial
from .jobs import brief, log_sizes
from .plan import fold_jobs, folds
from .results import Results

log = logging.getLogger(__name__)


@takes_verbose
def cross_validate(
    windows,
    y,
    model,
    protocol,
    *,
    preset: str | None = None,
    seed: int | None = None,
    threads: int = 1,
    n_classes: int | None = None,
    ordinal: bool = False,
    labels: str = "given",
    dimension: str = "label",
) -> Results:
    """Every fold of `protocol` for `model` on `windows` (a `WindowSet`) with labels `y`.

    model: a registry name (e.g. "logreg", "histn"; torch models train with `preset`, default
        the model's quick preset) or an unfitted scikit-learn estimator, cloned per fold.
    y: (n_windows,) classes 0..K-1; -1 drops a window. labels, dimension: the names the
        results give the label scheme and rating dimension of `y` (e.g. "binary", "arousal").
    Returns `Results`, a list of one result per fold as the run store keeps them (identity,
    sizes, training majority, per-window predictions, fit report, timings), named after the
    windows' dataset and feature recipe (`windows.info`); `Results.summary()` gives mean +-
    std over subjects, `Results.to_frame()` a table. verbose (keyword): the physioemo
    logger's level for the call (True: a line per fold, 2 or "DEBUG": also its sizes).
    """
    y = np.asarray(y, dtype=np.int64)
    name = model if isinstance(model, str) else type(model).__name__
    if isinstance(model, str) and spec(model).framework == "torch" and preset is None:
        preset = spec(model).presets.quick
    context = {
        "dataset": windows.info.get("dataset", "windows"),
        "features": windows.info.get("recipe", windows.info.get("kind", "features")),
        "labels": labels,
        "dimension": dimension,
        "fingerprint": None,
        "feature_parameters": None,
        "threshold": None,
        "n_classes": n_classes or max(int(y.max()) + 1, 2),
        "ordinal": ordinal,
        "data": "windows",
        "target": "y",
    }
    jobs = []
    for fold in folds(protocol, windows, y, seed):
        for job in fold_jobs(fold, protocol, {name: preset}, context, seed, threads):
            if not isinstance(model, str):
                job.estimator = model
            jobs.append(job)
    results = Results()
    for count, (job, result) in enumerate(Serial().run(jobs, {"windows": windows}, {"y": y}), 1):
        if isinstance(result, Failure):
            raise RuntimeError(f"{job.name}: {result.error}")
        log_sizes(job, result)
        log.info("[%d/%d] %s %s", count, len(jobs), job.name, brief(result))
        results.append(result)
    return results
