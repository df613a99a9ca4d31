"""From an experiment to its fold jobs: the one place that wires datasets -> feature sets ->
labels -> protocols -> models.

Feature sets are computed once per run through the content-hashed feature cache (and reused by
every model, protocol and dimension), missing ones subject by subject on the run's backend
(`feature_jobs`); protocols split once per (feature set, labels, dimension); each fold of each
model becomes a `Job`.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import numpy as np

from .._json import digest
from .._version import __version__
from ..datasets import card
from ..evaluation.audit import AUDIT_KEYS, audit_folds, audit_key
from ..features import recipes
from ..models import spec
from ..protocols import get as get_protocol
from .feature_jobs import feature_sets
from .jobs import Job, job_key
from .spec import Experiment

#: (dataset modality, model input kind) -> the recipe a model reads unless told otherwise
DEFAULT_RECIPES = {"raw": "raw", "de": "de", "peripheral": "peripheral"}


@dataclass
class Plan:
    """An experiment ready to run: its jobs and the data they share.

    windows: feature set id -> WindowSet; targets: label id -> (n_windows,) classes, -1 where
    the label scheme drops a window. sources: per dataset, where its files are and what they
    hold. audits: `evaluation.audit.audit_key` -> the leakage audit of a protocol's folds (all
    of them, whatever the selection) on one feature set and target. classes: target key
    ("dataset/labels/dimension") -> class names. class_means: "dataset/features/labels/
    dimension" -> per-class mean band features of a band recipe (`class_means`), for the
    report's topomaps. notes: what the plan decided that a reader should know; skipped:
    model/protocol pairs that cannot run together, and why.
    """

    jobs: list[Job]
    windows: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    audits: dict = field(default_factory=dict)
    classes: dict = field(default_factory=dict)
    class_means: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds_features: float = 0.0


def synthetic_root(dataset: str, subjects: int, seconds: float, seed: int) -> Path:
    """Folder holding the synthetic files of `dataset`, written on first use and reused after
    (named by the sizes, seed, version and `synthetic.model_digest`, so a changed signal model
    writes new files)."""
    from ..datasets.synthetic import model_digest
    from ..paths import cache_dir

    write = card(dataset).write
    name = f"{dataset}-n{subjects}-s{seconds:g}-seed{seed}-v{__version__}-{model_digest()}"
    folder = cache_dir() / "synthetic" / name
    marker = folder / ".complete"
    if not marker.exists():
        write(folder, subjects=subjects, seconds=seconds, seed=seed)
        marker.write_text("written by physioemo\n")
    return folder


def recipe_for(experiment: Experiment, dataset: str, model: str, protocol) -> list[str]:
    """Feature recipes a model reads under a protocol: the paper protocol's own recipe when the
    model can read it, else the experiment's recipes the model can read, else its default.
    A recipe is readable when the dataset carries what it reads (EEG, physiology or both) and
    it provides the model's inputs (any recipe for the scikit-learn models)."""
    inputs = spec(model).inputs
    peripheral = card(dataset).peripheral

    def readable(name: str) -> bool:
        recipe = recipes.get(name)
        if not recipe.applies_to(card(dataset).modalities):
            return False
        return inputs == "features" or recipe.provides == inputs

    brought = getattr(protocol, "features", None)
    if brought and readable(brought):
        return [brought]
    chosen = [name for name in experiment.features if readable(name)]
    if chosen:
        return chosen
    default = "peripheral" if peripheral else DEFAULT_RECIPES.get(inputs, "de")
    return [default] if readable(default) else []


def preset_for(experiment: Experiment, model: str, protocol) -> str | None:
    """Training preset of a torch model under the experiment's profile and `protocol`
    (`training.presets.choose`); None for scikit-learn models."""
    if spec(model).framework == "sklearn":
        return None
    from ..training.presets import choose

    brought = getattr(protocol, "preset", None)
    across_subjects = getattr(protocol, "unit", None) == "subject"
    return choose(model, experiment.profile, brought, across_subjects)


def build(
    experiment: Experiment,
    running_dir: str | None = None,
    progress=False,
    echo=print,
    executor=None,
) -> Plan:
    """Load the data, compute (or read) the feature sets, split, and list the jobs.

    executor: the backend that computes missing feature sets, a job per subject
    (`feature_jobs`); None: this process."""
    plan = Plan(jobs=[])
    for dataset in experiment.datasets:
        _plan_dataset(plan, experiment, dataset, (running_dir, executor), progress, echo)
    return plan


def audit_only(experiment: Experiment, echo=print) -> dict:
    """The leakage audits of the experiment's protocols on its data, nothing trained: the
    plan of the experiment with one model that reads any recipe of a dataset's modality
    (logistic regression), so each protocol is audited on its own recipe, else on the
    experiment's recipes, else on "de" ("peripheral" on WESAD)."""
    from dataclasses import replace

    return build(replace(experiment, models=["logreg"]), echo=echo).audits


def _plan_dataset(plan, experiment, name, where, progress, echo) -> None:
    """Add one dataset's feature sets, targets, audits and fold jobs to the plan; where:
    (the running folder, the backend that computes features)."""
    running_dir, executor = where
    root, dataset, fingerprint = _source(plan, experiment, name, echo)
    protocols = {p: _protocol(experiment, p) for p in experiment.protocols_for(name)}
    pairs = _pairs(plan, experiment, name, protocols)
    source = (name, root, dataset, executor)
    feature_sets = _feature_sets(plan, experiment, source, list(pairs), progress)
    for recipe, (data_id, windows, parameters) in feature_sets.items():
        echo(f"{len(windows)} windows of {recipe} features, shape {windows.X.shape[1:]}")
        data = {
            "dataset": name,
            "fingerprint": fingerprint,
            "features": recipe,
            "feature_parameters": parameters,
            "data": data_id,
        }
        targets = product(experiment.labels_for(name), experiment.dimensions_for(name))
        for scheme_name, dimension in targets:
            context, y = _target(plan, experiment, windows, data, scheme_name, dimension)
            for protocol_name, models in pairs[recipe].items():
                protocol = protocols[protocol_name]
                _protocol_jobs(
                    plan, experiment, protocol, models, (windows, y), context, running_dir
                )


def _source(plan, experiment, name, echo) -> tuple:
    """(root, Dataset, content fingerprint) of one dataset: its files, or its synthetic data
    written on first use; where it came from goes to plan.sources."""
    root = experiment.roots.get(name)
    synthetic = root is None
    if synthetic:
        root = synthetic_root(name, **experiment.synthetic_for(name))
    dataset = card(name).load(root)
    fingerprint = _content_digest(root)
    plan.sources[name] = {"root": str(root), "synthetic": synthetic, "fingerprint": fingerprint}
    echo(f"{'Synthetic ' if synthetic else ''}{dataset}")
    return root, dataset, fingerprint


def _pairs(plan, experiment, name, protocols: dict) -> dict:
    """recipe -> protocol name -> the models that read the recipe under it, on one dataset;
    the model/protocol pairs that cannot run there go to plan.skipped, saying why."""
    pairs = {}
    for model in experiment.models_for(name):
        for protocol_name, protocol in protocols.items():
            only = getattr(protocol, "datasets", None)
            if only and name not in only:
                plan.skipped.append(f"{protocol_name} applies to {', '.join(only)}, not {name}")
                continue
            chosen = recipe_for(experiment, name, model, protocol)
            if not chosen:
                plan.skipped.append(
                    f"{model} reads {spec(model).inputs} inputs, which {name} under "
                    f"{protocol_name} does not provide"
                )
            for recipe in chosen:
                pairs.setdefault(recipe, {}).setdefault(protocol_name, []).append(model)
    return pairs


def _target(plan, experiment, windows, data: dict, scheme_name, dimension) -> tuple:
    """Label one feature set's windows under a scheme and dimension: the classes go to
    plan.targets, their names to plan.classes and, for band features, their per-class means
    to plan.class_means. data: the feature set's part of the jobs' context (dataset,
    fingerprint, features, feature_parameters, data). Returns (the jobs' context, classes)."""
    name, recipe = data["dataset"], data["features"]
    scheme = card(name).labels.make(scheme_name, dimension, experiment.threshold)
    target_id = f"{data['data']}/{scheme_name}/{dimension}"
    plan.targets[target_id] = y = window_labels(scheme, windows)
    plan.classes[f"{name}/{scheme_name}/{dimension}"] = list(scheme.class_names)
    if recipes.get(recipe).provides == "de":
        key = f"{name}/{recipe}/{scheme_name}/{dimension}"
        plan.class_means[key] = class_means(windows, y, scheme.class_names)
    context = {
        **data,
        "labels": scheme_name,
        "threshold": experiment.threshold,
        "dimension": dimension,
        "n_classes": scheme.n_classes,
        "ordinal": scheme.ordinal,
        "target": target_id,
    }
    return context, y


def _protocol_jobs(plan, experiment, protocol, models, target, context, running_dir) -> None:
    """Audit all of a protocol's folds on one target (windows, classes), note capped folds,
    and add one job per model for each selected fold."""
    windows, y = target
    presets = {model: preset_for(experiment, model, protocol) for model in models}
    every = list(folds(protocol, windows, y, experiment.seed))
    _audit(plan, protocol, windows, every, context)
    plan.notes.extend(_capped(protocol, every))
    for fold in selected(every, experiment.select):
        plan.jobs.extend(
            fold_jobs(
                fold, protocol, presets, context, experiment.seed, experiment.threads, running_dir
            )
        )


def _audit(plan, protocol, windows, every: list, context: dict) -> None:
    """Keep the leakage audit of all of a protocol's folds on one feature set and target."""
    identity = {**context, "protocol": protocol.name}
    folds = [(fold.train, fold.test) for fold in every]
    found = audit_folds(protocol, windows.groups, folds, windows.info["sfreq"], info=windows.info)
    plan.audits[audit_key(identity)] = {**{k: identity[k] for k in AUDIT_KEYS}, **found}


def _protocol(experiment: Experiment, name: str):
    """The protocol `name` with the experiment's options: `n_splits` for the protocols that
    are k-fold by default (leave-one-subject-out stays leave-one-out), the seed as
    `random_state` when one is set (paper protocols keep their papers' seeds otherwise), then
    the experiment's `protocol_options` for this protocol."""
    from ..protocols import PROTOCOLS

    accepted = inspect.signature(PROTOCOLS[name]).parameters
    options = {}
    if "n_splits" in accepted and isinstance(accepted["n_splits"].default, int):
        options["n_splits"] = experiment.n_splits
    if "random_state" in accepted and experiment.seed is not None:
        options["random_state"] = experiment.seed
    return get_protocol(name, **{**options, **experiment.protocol_options.get(name, {})})


def _protocol_options(protocol) -> dict:
    accepted = inspect.signature(type(protocol)).parameters
    return {k: getattr(protocol, k) for k in accepted if _is_scalar(getattr(protocol, k, None))}


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, int | float | str | bool)


def _feature_sets(plan, experiment, source, names, progress) -> dict:
    """recipe name -> (feature set id, WindowSet, parameters) for the plan; source: (dataset
    name, root, Dataset, the backend that computes missing sets)."""
    name, root, dataset, executor = source
    started = time.perf_counter()
    wanted = {recipe: experiment.feature_options for recipe in names}
    found = feature_sets(name, root, dataset, wanted, progress, executor=executor)
    plan.seconds_features += time.perf_counter() - started
    result = {}
    for recipe_name, (windows, parameters, _) in found.items():
        data_id = f"{name}/{recipe_name}/{digest(parameters)}"
        plan.windows[data_id] = windows
        result[recipe_name] = (data_id, windows, parameters)
    return result


def window_labels(scheme, windows) -> np.ndarray:
    """Classes of every window, -1 where the scheme drops it."""
    keep = scheme.keep(windows.ratings)
    y = np.full(len(windows), -1, dtype=np.int64)
    y[keep] = scheme({k: v[keep] for k, v in windows.ratings.items()})
    return y


@dataclass
class Fold:
    """One split of a protocol: rows of the feature set; `validation` and `calibration` are
    positions within `train` (None when the protocol has none)."""

    index: int
    train: np.ndarray
    test: np.ndarray
    subjects: tuple[str, ...]
    validation: np.ndarray | None = None
    calibration: np.ndarray | None = None


def folds(protocol, windows, y: np.ndarray, seed: int | None = None, select: dict | None = None):
    """The protocol's folds over the windows the labels keep (y >= 0), each with its inner
    validation and calibration positions; `select` keeps only some folds or held-out subjects."""
    rows = np.flatnonzero(y >= 0)
    seed = 0 if seed is None else seed
    # splitters read the windows' metadata and count, not their values (a copy of the kept
    # windows would double the plan's memory): X stands in as zero columns per window
    splits = protocol.split(np.zeros((rows.size, 0)), y[rows], windows.groups[rows])
    for index, (train_kept, test_kept) in enumerate(splits):
        train, test = rows[train_kept], rows[test_kept]
        subjects = tuple(np.unique(windows.groups["subject"][test]).astype(str))
        fold = Fold(index, train, test, subjects)
        if not list(selected([fold], select)):
            continue
        if hasattr(protocol, "validation"):
            fold.validation = protocol.validation(windows.groups[train], y[train], seed)[1]
        if hasattr(protocol, "calibration"):
            fold.calibration = protocol.calibration(windows.groups[train])
        yield fold


def _capped(protocol, made: list[Fold]) -> list[str]:
    """A note when a per-subject k-fold protocol made fewer folds than asked for a subject
    (fewer trials than n_splits: one fold per trial)."""
    asked = getattr(protocol, "n_splits", None)
    if protocol.unit != "trial" or not isinstance(asked, int):
        return []
    counts: dict[str, int] = {}
    for fold in made:
        for subject in fold.subjects:
            counts[subject] = counts.get(subject, 0) + 1
    fewer = sorted(s for s, n in counts.items() if n < asked)
    if not fewer:
        return []
    return [
        f"{protocol.name}: {len(fewer)} subject(s) have fewer trials than n_splits={asked} "
        f"(e.g. {fewer[0]}: {counts[fewer[0]]}); they get one fold per trial"
    ]


def selected(found, select: dict | None):
    """The folds of `found` that `select` keeps (fold indices, held-out subjects; all when
    it names none)."""
    select = select or {}
    wanted_subjects, wanted_folds = set(select.get("subjects", [])), set(select.get("folds", []))
    for fold in found:
        if wanted_folds and fold.index not in wanted_folds:
            continue
        if wanted_subjects and not wanted_subjects.intersection(fold.subjects):
            continue
        yield fold


def class_means(windows, y: np.ndarray, class_names) -> dict:
    """Per-class mean of band features (n_windows, n_chans, n_bands) over the windows of each
    class (y; -1 dropped): "means" (n_classes, n_chans, n_bands) as nested lists, "counts"
    (windows per class), "ch_names", "bands" (names), "class_names", "recipe"."""
    from ..features import papers, spectral

    info = windows.info
    bands = info.get("bands") or (
        papers.RBT_BANDS if info.get("recipe") == "rbtransformer-bde" else spectral.BANDS
    )
    n_classes, n_bands = len(class_names), windows.X.shape[2]
    names = list(bands) if len(bands) == n_bands else [f"band {i + 1}" for i in range(n_bands)]
    counts = np.bincount(y[y >= 0], minlength=n_classes)
    sums = np.zeros((n_classes, *windows.X.shape[1:]))
    np.add.at(sums, y[y >= 0], windows.X[y >= 0].astype(np.float64))
    means = sums / np.maximum(counts, 1)[:, None, None]
    return {
        "recipe": info.get("recipe"),
        "ch_names": list(info["ch_names"]),
        "bands": names,
        "class_names": list(class_names),
        "counts": counts.tolist(),
        "means": np.round(means, 6).tolist(),
    }


def fold_jobs(fold: Fold, protocol, presets: dict, context: dict, seed, threads, running_dir=None):
    """One `Job` per model of `presets` (model -> training preset) for one fold."""
    options = _protocol_options(protocol)
    for model, preset in presets.items():
        identity = {
            "dataset": context["dataset"],
            "features": context["features"],
            "model": model,
            "preset": preset,
            "protocol": protocol.name,
            "labels": context["labels"],
            "dimension": context["dimension"],
            "fold": fold.index,
        }
        key = job_key(
            {
                **identity,
                "fingerprint": context["fingerprint"],
                "feature_parameters": context["feature_parameters"],
                "protocol_options": options,
                "threshold": context["threshold"],
                "seed": seed,
                "threads": threads,
            }
        )
        yield Job(
            key=key,
            **identity,
            subjects=fold.subjects,
            leaks=bool(protocol.leaks),
            data=context["data"],
            target=context["target"],
            train=fold.train,
            test=fold.test,
            validation=fold.validation,
            calibration=fold.calibration,
            n_classes=context["n_classes"],
            ordinal=context["ordinal"],
            seed=seed,
            threads=threads,
            running_dir=running_dir,
            identity=identity,
        )


def _content_digest(root) -> str:
    """Digest of every byte of the dataset's files (`features.cache.fingerprint`), not their
    times: a copy of the same files on another machine gives the same job keys, a changed
    sample gives new ones."""
    from ..features.cache import fingerprint

    return digest(fingerprint(root))
