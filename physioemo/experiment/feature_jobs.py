"""The feature sets of a plan: read from the feature cache, or computed subject by subject as
jobs on the run's backend.

A set missing from the cache is cut per subject, each subject a job (`SubjectFeatures`) that
any backend runs (`backends.Serial.map` in this process, local worker processes, Ray tasks),
so a cluster computes a dataset's features in parallel. A job reads its subject's recordings
(a worker loads a dataset once, `_dataset`), cuts them with every missing recipe except the
recipes' whole-set `finish` step, and keeps each part in the feature cache under its subject
(a killed plan resumes from the subjects done). The driver joins the parts in subject order,
runs `finish` on the whole set, stores it in the cache as before and removes the subjects'
entries. Trials shorter than a window are skipped and named in one warning per recipe, as
`recipes.compute` does; a recipe for which no trial is long enough is refused.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..datasets import card
from ..errors import DataQualityWarning
from ..features import recipes
from ..recording import WindowSet


@dataclass(frozen=True)
class SubjectFeatures:
    """One subject's share of a plan's missing feature sets: recipe names and parameters.
    by_path: hand each part back as its cache entry (a worker on the driver's disk), not as
    windows (a Ray node elsewhere)."""

    dataset: str
    root: str
    subject: str
    requests: tuple[tuple[str, dict], ...]
    use_cache: bool = True
    by_path: bool = True


@dataclass
class Part:
    """One subject's windows of one recipe: their count and layout, and the windows or the
    cache entry holding them (None for both when every trial was too short); the trials
    skipped, one line each."""

    rows: int
    shape: tuple
    dtype: str
    windows: WindowSet | None
    path: str | None
    skipped: list[str]

    def read(self) -> WindowSet:
        """The windows, read from the cache entry when they were handed back as one."""
        from ..features.cache import load

        windows = self.windows if self.path is None else load(Path(self.path))
        if windows is None:
            raise ValueError(f"feature cache entry {self.path} vanished or was damaged; run again")
        return windows


def feature_sets(
    name, root, dataset, wanted: dict, progress=False, use_cache=True, executor=None
) -> dict:
    """recipe name -> (WindowSet, parameters, cache status: "read", "wrote" or "not cached").

    wanted: recipe name -> parameter overrides (those a recipe does not take are ignored).
    Sets are read from the content-hashed feature cache; the missing ones are computed per
    subject as jobs on `executor` (a backend; None: in this process) and stored there.
    """
    from ..features.cache import cached

    chosen = {}
    for recipe_name, overrides in wanted.items():
        recipe = recipes.get(recipe_name)
        taken = {k: v for k, v in overrides.items() if k in recipe.defaults}
        chosen[recipe_name] = (recipe, recipe.parameters(**taken))
    found, missing = {}, []
    for recipe_name, (recipe, parameters) in chosen.items():
        try:
            if not use_cache:
                raise _NotCached
            windows = cached(name, root, _key(recipe.name, parameters), _absent)[0]
            found[recipe_name] = (windows, parameters, "read")
        except _NotCached:
            missing.append(recipe_name)
    if missing:
        requests = tuple((n, chosen[n][1]) for n in missing)
        computed = _computed(name, root, dataset, requests, progress, use_cache, executor)
        for recipe_name, windows in zip(missing, computed, strict=True):
            parameters = chosen[recipe_name][1]
            path = cached(name, root, _key(recipe_name, parameters), lambda w=windows: w, False)[1]
            found[recipe_name] = (windows, parameters, "not cached" if path is None else "wrote")
            _forget_subjects(name, root, dataset.subjects, recipe_name, parameters)
    return found


def _computed(name, root, dataset, requests, progress, use_cache, executor) -> list[WindowSet]:
    """The sets of `requests` (recipe name, parameters), cut per subject on `executor`."""
    from tqdm.auto import tqdm

    from .backends import Failure, Serial

    executor = executor or Serial()
    tasks = [
        SubjectFeatures(name, str(root), subject, requests, use_cache, executor.local)
        for subject in dataset.subjects
    ]
    parts = {}
    bar = tqdm(
        total=len(tasks), desc="features", unit="subject", disable=None if progress else True
    )
    _DATASETS[(name, str(root))] = dataset  # jobs run here use the plan's, not a second one
    try:
        for task, result in executor.map(subject_features, tasks):
            if isinstance(result, Failure):
                raise ValueError(f"features of {name} subject {task.subject}: {result.error}")
            parts[task.subject] = result
            bar.update()
    finally:
        _DATASETS.pop((name, str(root)), None)
        bar.close()
    return [
        _joined(recipes.get(recipe_name), parameters, [parts[s][i] for s in dataset.subjects], name)
        for i, (recipe_name, parameters) in enumerate(requests)
    ]


def _joined(recipe, parameters: dict, parts: list[Part], dataset: str) -> WindowSet:
    """One recipe's set of `dataset` from its subjects' parts (the info names the dataset, as
    `recipes.compute` of the whole dataset does)."""
    kept = [part for part in parts if part.rows]
    skipped = [line for part in parts for line in part.skipped]
    if not kept:
        raise ValueError(
            f"{recipe.name}: every trial is shorter than one window, e.g. {skipped[0]}"
        )
    if skipped:
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warnings.warn(
            f"{recipe.name}: skipped {len(skipped)} trial(s) shorter than a window: "
            + "; ".join(skipped[:5])
            + more,
            DataQualityWarning,
            stacklevel=4,
        )
    windows = _concatenated(kept)
    windows.info["dataset"] = dataset
    return recipe.finish(windows, **parameters) if recipe.finish else windows


def _concatenated(parts: list[Part]) -> WindowSet:
    """The subjects' parts as one set, each read and copied in turn: the driver holds the
    set once, never all the parts besides it."""
    first = parts[0]
    X = np.empty((sum(p.rows for p in parts), *first.shape), dtype=first.dtype)
    offset, pieces = 0, []
    for part in parts:
        windows = part.read()
        part.windows = None  # released once copied
        X[offset : offset + part.rows] = windows.X
        offset += part.rows
        pieces.append((windows.groups, windows.ratings, windows.extra, windows.info))
        del windows
    groups, ratings, extra, info = zip(*pieces, strict=True)
    return WindowSet(
        X,
        np.concatenate(groups),
        {k: np.concatenate([r[k] for r in ratings]) for k in ratings[0]},
        dict(info[0]),
        {k: np.concatenate([e[k] for e in extra]) for k in extra[0]},
    )


def subject_features(task: SubjectFeatures) -> list[Part]:
    """A `SubjectFeatures` job: per request, the subject's windows before the recipe's
    `finish` (`Part`), kept in the feature cache under the subject and handed back as that
    entry (`by_path`, when the cache could be written) or as the windows."""
    from ..features.cache import CacheWarning, cached

    recordings = _dataset(task.dataset, task.root).subject(task.subject)
    out = []
    for recipe_name, parameters in task.requests:
        recipe = replace(recipes.get(recipe_name), finish=None)  # finish sees the whole set
        key = {**_key(recipe_name, parameters), "subject": task.subject}

        def cut(recipe=recipe, parameters=parameters):
            return recipes.compute(recordings, [(recipe, parameters)])[0]

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataQualityWarning)
            try:
                windows, path, _ = cached(task.dataset, task.root, key, cut, task.use_cache)
                skipped = []
            except recipes.NoWindows as error:  # "...: every trial is shorter..., e.g. TRIALS"
                windows, path, skipped = None, None, [str(error).split(", e.g. ", 1)[-1]]
        for found in caught:
            message = str(found.message)
            if issubclass(found.category, CacheWarning):
                continue  # the whole set's entry says it once (`feature_sets`)
            if issubclass(found.category, DataQualityWarning) and "shorter than a" in message:
                skipped.append(message.split(" shorter than a window: ", 1)[-1])
            else:
                warnings.warn(message, found.category, stacklevel=2)
        out.append(_part(windows, path if task.by_path else None, skipped))
    return out


def _part(windows: WindowSet | None, path, skipped: list[str]) -> Part:
    """A `Part` handing back `windows` as the cache entry `path` when there is one."""
    if windows is None:
        return Part(0, (), "float32", None, None, skipped)
    shape, dtype = tuple(windows.X.shape[1:]), str(windows.X.dtype)
    if path is not None:
        return Part(len(windows), shape, dtype, None, str(path), skipped)
    return Part(len(windows), shape, dtype, windows, None, skipped)


#: (dataset, root) -> Dataset: the plan's own in the driver, one per worker process
_DATASETS: dict = {}


def _dataset(name: str, root: str):
    """The dataset at `root`, loaded once per process (a worker runs many subjects)."""
    if (name, root) not in _DATASETS:
        _DATASETS[(name, root)] = card(name).load(Path(root))
    return _DATASETS[(name, root)]


def _forget_subjects(name, root, subjects, recipe_name: str, parameters: dict) -> None:
    """Remove the subjects' cache entries of a set now stored whole."""
    from ..features.cache import entry_path

    for subject in subjects:
        key = {**_key(recipe_name, parameters), "subject": subject}
        entry_path(name, root, key)[1].unlink(missing_ok=True)


def _key(recipe_name: str, parameters: dict) -> dict:
    return {"recipe": recipe_name, **parameters}


class _NotCached(Exception):
    pass


def _absent():
    raise _NotCached
