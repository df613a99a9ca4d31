"""`physioemo train`: one model fitted on all of a dataset's windows, saved as a checkpoint that
``physioemo live --model`` runs.

Built from the benchmark's own pieces, so a trained model is made exactly like a benchmark
fold's, on every window instead of one fold's: the feature cache (`feature_jobs.feature_sets`), the
label schemes (the dataset card's `labels`, `plan.window_labels`), the model's training
preset and estimator (`plan.preset_for`, `training.make_estimator`) and the checkpoint format
(`training.checkpoint`).
A torch model trains for its preset's epochs on every window (no inner validation split, so no
early stopping: the last epoch is kept). `TrainSpec.validation` first holds out that share of
the trials (whole trials, stratified by class: `training.carve_validation`); the model is
trained on the rest and scored on them.

For live use (`causal`, the default) only what a stream computes the same way is accepted:
causal DE (``zero_phase=False``), raw windows, causal peripheral features or both fused
(`LIVE_RECIPES`), with a baseline the stream reproduces (`features.streaming.LIVE_BASELINES`).
Baseline "auto" (the default) becomes "subtract" (DE) or "zscore" (raw windows) when the
dataset's trials come with baseline recordings, "none" otherwise; live takes the first seconds
of the stream as that baseline. Peripheral inputs for live use default to what a BrainFlow
wearable streams (`live_inputs`: no respiration, BrainFlow has no such channel type; the heart
from PPG when the dataset has it); `TrainSpec.inputs` and `heart` choose others (e.g. for an
LSL source with respiration); their windows to 10 s every second (`LIVE_PERIPHERAL_WINDOW`).

Torch models are saved by `training.checkpoint.save_checkpoint` (the PINN with its input
standardisation); the logistic regression as arrays (`training.linear`). The linear SVM (no
class probabilities) and the random forest (only pickle could store it, and physioemo never
loads pickle) are refused. The checkpoint's metadata (`checkpoint_meta`) holds what live needs
and how the model was made.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import labels, montage
from .._json import plain
from .._version import __version__
from ..datasets import card
from ..features import BANDS, recipes
from ..models import spec as model_spec
from .feature_jobs import feature_sets
from .plan import preset_for, recipe_for, synthetic_root, window_labels
from .spec import Experiment

#: recipes a stream computes as training did -> the parameters that make them causal
LIVE_RECIPES = {
    "de": {"zero_phase": False},
    "raw": {},
    "peripheral": {"causal": True},
    "de+peripheral": {"causal": True},
}
#: why a model with an EDA target (the PINN) cannot train on a dataset
_NO_TARGET = "its EDA target needs an EDA stream in uS, which {dataset} lacks"
#: window and stride (s) of peripheral checkpoints for live use unless given (ours: the
#: recipe's 60-s windows would keep a stream waiting a minute for its first prediction)
LIVE_PERIPHERAL_WINDOW = {"window": 10.0, "stride": 1.0}
#: live recipes with a trial baseline -> the features the baseline applies to
BASELINE_KINDS = {"de": "de", "raw": "raw", "de+peripheral": "de"}
#: what the recipes' baseline "auto" picks for trials with a baseline recording (features.recipes)
AUTO_BASELINE = {"de": "subtract", "raw": "zscore"}
#: baselines `physioemo train` cannot save for live use, and why
UNSAVED = {
    "svm": "a linear SVM gives no class probabilities, which live shows",
    "rf": "a random forest can only be stored by pickle, which physioemo never loads",
}


@dataclass
class TrainSpec:
    """What to train (the options of ``physioemo train``).

    dataset, root: the dataset and its files (None: the built-in synthetic data, sized by
        `synthetic`: subjects, seconds, seed as in `Experiment.synthetic`).
    model: a registry model. features: a feature recipe (default: the model's own, as in
        `physioemo bench`). window, stride (s), baseline: recipe parameters (None: defaults).
    labels, dimension, threshold: the label scheme (default: the dataset's first scheme and
        first default dimension).
    profile: "quick" or "full" training presets. seed: the model's seed (None: the preset's
        own, else 0). threads: torch threads (None: the preset's, 1).
    validation: share of the trials held out and scored (None: train on every window).
    causal: features a live stream computes the same way (see the module docstring).
    heart, inputs: peripheral recipes: the heart's stream or modality and the feature groups
        (`features.peripheral_windows`; None: `live_inputs` when causal, else the recipe's).
    """

    model: str
    dataset: str = "dreamer"
    root: str | None = None
    features: str | None = None
    window: float | None = None
    stride: float | None = None
    baseline: str | None = None
    labels: str | None = None
    dimension: str | None = None
    threshold: float | None = None
    profile: str = "quick"
    seed: int | None = None
    threads: int | None = None
    validation: float | None = None
    causal: bool = True
    heart: str | None = None
    inputs: str | None = None
    synthetic: dict = field(default_factory=dict)


def train(spec: TrainSpec, out, overwrite=False, progress=False, echo=print) -> dict:
    """Train `spec` on its whole dataset (less the validation trials) and write the checkpoint
    to `out` (refused when it exists, unless `overwrite`). Returns the checkpoint's metadata."""
    recipe = choose_recipe(spec)
    scheme = card(spec.dataset).labels.make(*_label_choice(spec), spec.threshold)
    out = _check_out(Path(out), overwrite)
    experiment = Experiment(datasets=[spec.dataset], profile=spec.profile, synthetic=spec.synthetic)
    experiment.validate("arguments")
    root = spec.root or synthetic_root(spec.dataset, **experiment.synthetic_for(spec.dataset))
    from ..datasets import load

    dataset = load(spec.dataset, root)
    echo(f"{'Synthetic ' if spec.root is None else ''}{dataset}")
    wanted = {recipe: _recipe_options(spec, recipe, dataset)}
    windows, parameters, _ = feature_sets(spec.dataset, root, dataset, wanted, progress)[recipe]
    if model_spec(spec.model).inputs == "peripheral" and "eda" not in windows.extra:
        raise ValueError(f"--model {spec.model}: {_NO_TARGET.format(dataset=spec.dataset)}")
    y = window_labels(scheme, windows)
    windows, y = windows.select(y >= 0), y[y >= 0]
    echo(f"{len(windows)} windows of {recipe} features, shape {windows.X.shape[1:]}")

    from ..training.estimator import make_estimator

    preset = preset_for(experiment, spec.model, None)
    seed = _seed(spec.seed, preset)
    estimator = make_estimator(
        spec.model,
        n_classes=scheme.n_classes,
        info=windows.info,
        seed=seed,
        preset=preset,
        threads=spec.threads,
    )
    fit_rows, held = _split(windows, y, spec.validation, seed)
    echo(
        f"training {spec.model} ({preset or 'scikit-learn'}, seed {seed}) on {fit_rows.size} "
        f"windows of {_n_trials(windows, fit_rows)} trials"
    )
    estimator.fit(
        windows.X[fit_rows], y[fit_rows], **_metadata(estimator, "fit", windows, fit_rows)
    )
    validation = None
    if held.size:
        validation = _score(estimator, windows, y, fit_rows, held, spec.validation)
        echo(
            f"validation on {validation['trials']} held-out trials: accuracy "
            f"{validation['accuracy']:.3f} (majority class {validation['majority']:.3f})"
        )
    meta = checkpoint_meta(spec, windows, y[fit_rows], parameters, scheme, preset, seed)
    if recipes.get(recipe).reads != "eeg":
        meta["features"].update(_peripheral_meta(dataset, windows, parameters))
    meta["training"].update(
        windows=int(fit_rows.size),
        trials=_n_trials(windows, fit_rows),
        validation=validation,
        report=plain(getattr(estimator, "fit_report_", None)),
    )
    _write(out, estimator, meta)
    return meta


def choose_recipe(spec: TrainSpec) -> str:
    """The feature recipe of `spec` (default: the model's own), checked: the model reads it,
    it gives EEG windows, and (causal) a stream computes it; ValueError naming the option."""
    if spec.model in UNSAVED:
        raise ValueError(
            f"--model {spec.model}: {UNSAVED[spec.model]}; train logreg or a torch model"
        )
    inputs = model_spec(spec.model).inputs
    experiment = Experiment(features=[spec.features] if spec.features else [])
    chosen = recipe_for(experiment, spec.dataset, spec.model, None)
    if spec.features and chosen != [spec.features]:
        provides = recipes.get(spec.features).provides
        raise ValueError(
            f"--features {spec.features} gives {provides} windows; {spec.model} reads {inputs}"
        )
    if not chosen:
        raise ValueError(
            f"{spec.model} reads {inputs} inputs, which {spec.dataset} does not provide"
        )
    recipe = chosen[0]
    if inputs == "peripheral" and "eda" not in card(spec.dataset).modalities:
        raise ValueError(f"--model {spec.model}: {_NO_TARGET.format(dataset=spec.dataset)}")
    if spec.causal and recipe not in LIVE_RECIPES:
        raise ValueError(
            f"--features {recipe}: a live stream computes de and raw features (EEG), peripheral "
            "and de+peripheral ones (physiology) only; choose one, or --no-causal for a "
            "checkpoint live cannot run"
        )
    return recipe


def _recipe_options(spec: TrainSpec, recipe: str, dataset) -> dict:
    """Recipe parameters: the spec's window, stride and baseline ("auto" resolved for the
    live recipes, and refused when a stream cannot reproduce it), causal filtering, and the
    peripheral inputs (`live_inputs`)."""
    from ..features.streaming import LIVE_BASELINES

    first = dataset.subject(dataset.subjects[0])[0]
    options = {"window": spec.window, "stride": spec.stride, "baseline": spec.baseline}
    if recipes.get(recipe).reads != "eeg":
        options["heart"], options["inputs"] = live_inputs(
            first, spec.heart, spec.inputs, spec.causal
        )
    options = {k: v for k, v in options.items() if v is not None}
    if spec.causal and recipe == "peripheral":
        options = {**LIVE_PERIPHERAL_WINDOW, **options}
    causal = LIVE_RECIPES.get(recipe, {}) if spec.causal else {}
    kind = BASELINE_KINDS.get(recipe)
    if kind is None:  # no baseline a stream would have to reproduce
        return {**options, **causal}
    baseline = spec.baseline or "auto"
    if baseline == "auto":
        baseline = AUTO_BASELINE[kind] if first.baseline is not None else "none"
    if spec.causal and baseline not in LIVE_BASELINES[kind]:
        raise ValueError(
            f"--baseline {baseline}: a live stream reproduces {' or '.join(LIVE_BASELINES[kind])} "
            f"for {recipe} features"
        )
    return {**options, "baseline": baseline, **causal}


def live_inputs(recording, heart=None, inputs=None, causal=True) -> tuple:
    """(heart, inputs) of a peripheral recipe for a dataset whose first recording is
    `recording`: the ones given; else, for live use, every group the recording carries but
    respiration (BrainFlow has no respiration channel type) with the heart from PPG when the
    recording has it (a wearable's); else the recipe's "auto"."""
    from ..features.peripheral_windows import STREAM_NAMES, choose_inputs

    if not causal:
        return heart or "auto", inputs or "auto"
    if heart is None:
        ppg = any(name in recording.extra for name in STREAM_NAMES["ppg"])
        heart = "ppg" if ppg else "auto"
    if inputs is None:
        groups = [group for group, _, _ in choose_inputs(recording, heart, "auto")]
        inputs = " ".join(group for group in groups if group != "resp")
    return heart, inputs


def _peripheral_meta(dataset, windows, parameters: dict) -> dict:
    """What a live stream needs of a peripheral or fused model: the inputs ([group,
    modality] pairs), the peripheral feature names, and the mean length of the training
    recordings (s, the time input's scale)."""
    from ..features.peripheral_windows import choose_inputs, feature_names
    from ..recording import trial_keys

    first = dataset.subject(dataset.subjects[0])[0]
    chosen = choose_inputs(first, parameters["heart"], parameters["inputs"])
    inputs = [[group, modality] for group, modality, _ in chosen]
    keys = trial_keys(windows.groups)
    lengths = [windows.groups["stop"][keys == key].max() for key in np.unique(keys)]
    return {
        "inputs": inputs,
        "feature_names": feature_names(inputs),
        "segment_seconds": round(float(np.mean(lengths)) / float(windows.info["sfreq"]), 3),
    }


def _metadata(estimator, method: str, windows, rows) -> dict:
    """The fit or predict metadata `estimator` asks for (the PINN's time, and its EDA target
    min-max scaled per subject on the windows at `rows`)."""
    from ..features.peripheral_windows import minmax_per_subject
    from .jobs import requested

    available = {name: values[rows] for name, values in windows.extra.items()}
    if "eda" in windows.extra:
        subjects = windows.groups["subject"]
        available["eda"] = minmax_per_subject(windows.extra["eda"], subjects, rows)[rows]
    return {k: v for k, v in available.items() if k in requested(estimator, method)}


def _label_choice(spec: TrainSpec) -> tuple[str, str]:
    """(scheme name, dimension): the spec's, else the dataset's first of each."""
    known = card(spec.dataset).labels
    return spec.labels or known.schemes[0], spec.dimension or known.default[0]


def _seed(seed: int | None, preset: str | None) -> int:
    """The given seed, else the preset's own (RBTransformer's recipe: 23), else 0."""
    if seed is not None:
        return seed
    if preset is None:
        return 0
    from ..training.presets import preset as get_preset

    return int(get_preset(preset).get("seed", 0))


def _split(windows, y: np.ndarray, fraction: float | None, seed: int):
    """(rows to fit, held-out rows): whole trials held out, about `fraction` of them."""
    rows = np.arange(len(y))
    if not fraction:
        return rows, rows[:0]
    from ..training import carve_validation

    fit_rows, held = carve_validation(windows.groups, y, fraction, seed)
    if not held.size:
        raise ValueError(f"--validation {fraction:g}: the data has too few trials to hold some out")
    return fit_rows, held


def _score(estimator, windows, y, fit_rows, held, fraction) -> dict:
    """Scores of the fitted model on the held-out windows, the trials they came from, and
    the accuracy of always answering the training majority class."""
    from ..evaluation.metrics import classification_scores
    from ..recording import trial_keys

    predicted = np.asarray(
        estimator.predict(windows.X[held], **_metadata(estimator, "predict", windows, held))
    )
    majority = np.bincount(y[fit_rows]).argmax()
    return {
        "fraction": fraction,
        "trials": _n_trials(windows, held),
        "windows": int(held.size),
        **classification_scores(y[held], predicted),
        "majority": float(np.mean(y[held] == majority)),
        "held_out": sorted(set(trial_keys(windows.groups[held]).tolist())),
    }


def checkpoint_meta(spec, windows, y, parameters, scheme, preset, seed) -> dict:
    """What live needs and how the model was made (plain JSON data).

    ch_names: the model's channel order (a peripheral model's: its input features' names);
    positions: {name: [x, y, z]} in metres on the template 10-05 head (`montage.positions`)
    for the names it places. features: kind ("de", "raw", "peripheral", "de+peripheral" or another
    recipe's), recipe and its parameters, window and stride (s), sfreq (Hz), bands ({name:
    [low, high]} Hz, DE and fused), baseline ("none", "subtract", "zscore"), causal (whether a
    stream computes them exactly as training did); `train` adds the peripheral inputs
    (`_peripheral_meta`). labels: dataset, scheme,
    dimension, kind, threshold, classes (names, in class order), ordinal. training: model,
    preset, profile, seed, dataset, synthetic data sizes (None for files), subjects, class
    counts, physioemo version (train adds windows, trials, validation and the fit report).
    The standardisation of torch models is added by `save_checkpoint` ("standardize").
    """
    info = windows.info
    recipe = info["recipe"]
    kind = info["kind"]
    names = list(info["feature_names"] if kind == "peripheral" else info["ch_names"])
    window = parameters.get("window")
    live = LIVE_RECIPES.get(recipe)
    features = {
        "kind": kind,
        "recipe": recipe,
        "parameters": dict(parameters),
        "window": window,
        "stride": parameters.get("stride") or window,
        "sfreq": float(info["sfreq"]),
        "baseline": parameters.get("baseline", "none"),
        "causal": live is not None and all(parameters.get(k) == v for k, v in live.items()),
    }
    if kind in ("de", "de+peripheral"):
        features["bands"] = {k: list(v) for k, v in dict(parameters.get("bands") or BANDS).items()}
    placed = [name for name in names if name not in set(montage.unplaced(names))]
    positions = montage.positions(placed)
    return {
        "ch_names": names,
        "positions": {n: [round(float(c), 6) for c in positions[n]] for n in placed},
        "features": features,
        "labels": _labels_meta(spec, scheme),
        "training": {
            "model": spec.model,
            "preset": preset,
            "profile": spec.profile,
            "seed": seed,
            "dataset": spec.dataset,
            "synthetic": None
            if spec.root
            else Experiment(synthetic=spec.synthetic).synthetic_for(spec.dataset),
            "subjects": sorted(set(windows.groups["subject"].astype(str).tolist())),
            "class_counts": np.bincount(y, minlength=scheme.n_classes).tolist(),
            "physioemo": __version__,
        },
    }


def _labels_meta(spec: TrainSpec, scheme) -> dict:
    """The label scheme; its classes named by `labels.output_names` ("arousal high (>=3)")."""
    rated = isinstance(scheme, labels.LabelScheme)
    name, dimension = _label_choice(spec)
    return {
        "dataset": spec.dataset,
        "scheme": name,
        "dimension": dimension,
        "kind": scheme.kind if rated else "categorical",
        "threshold": scheme.threshold if rated and scheme.kind == "binary" else None,
        "classes": labels.output_names(scheme),
        "ordinal": scheme.ordinal,
    }


def _n_trials(windows, rows) -> int:
    from ..recording import trial_keys

    return int(np.unique(trial_keys(windows.groups[rows])).size)


def _check_out(out: Path, overwrite: bool) -> Path:
    """`out`, refused in one line when it exists (unless `overwrite`) or cannot be written."""
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give the checkpoint's file name")
    if out.exists() and not overwrite:
        raise ValueError(f"--out {out} exists; give another name or --overwrite")
    folder = out.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ValueError(f"--out {out}: cannot write into {folder}")
    return out


def _write(out: Path, estimator, meta: dict) -> None:
    """The checkpoint, written to a temporary name and renamed (an old file stays whole until
    the new one is complete)."""
    partial = out.with_name(f".{out.name}.partial")
    try:
        if model_spec(meta["training"]["model"]).framework == "sklearn":
            from ..training.linear import LinearPredictor

            LinearPredictor.from_pipeline(estimator, meta).save(partial)
        else:
            from ..models._layers import Standardized
            from ..training.checkpoint import save_checkpoint

            network = estimator.network_
            if hasattr(estimator, "scale_"):  # the PINN standardises its inputs outside
                network = Standardized(network, *estimator.scale_)
            save_checkpoint(partial, network, meta)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
