"""`physioemo bench`: dataset -> windowed features -> protocols -> result table and files."""

from __future__ import annotations

import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from .. import __version__
from ..datasets import load
from ..datasets.synthetic import WRITERS
from ..labels import scheme
from ..models import make_baseline, spec
from ..paths import cache_dir
from ..protocols import get as get_protocol
from ..windows import extract_window_sets
from .report import format_table, summarise, write_run
from .runner import cross_validate


@dataclass
class BenchConfig:
    """What `physioemo bench` runs. root=None means the built-in synthetic data."""

    dataset: str = "dreamer"
    root: str | None = None
    dimensions: tuple[str, ...] = ("valence", "arousal")
    labels: str = "binary"
    threshold: float | None = None
    protocols: tuple[str, ...] = ("subject-dependent", "subject-independent")
    models: tuple[str, ...] = ("logreg", "histn", "rbtransformer")
    kind: str = "de"
    window: float = 1.0
    stride: float | None = None
    baseline: str = "subtract"
    n_splits: int = 5
    seed: int = 0
    synthetic: dict = field(default_factory=lambda: {"subjects": 23, "seconds": 30.0, "seed": 0})
    profile: str = "quick"
    threads: int = 1


#: The quick profile of torch models (ours): their "-quick" training presets, and per protocol
#: only this many folds, spread over the subjects, with subject-independent training sets
#: thinned to QUICK_SI_WINDOWS evenly spaced windows, so `physioemo bench` stays a demo.
QUICK_FOLDS = {"subject-dependent": 2, "subject-independent": 1, "leaky-window-kfold": 2}
QUICK_SI_WINDOWS = 800


def synthetic_root(dataset: str, subjects: int, seconds: float, seed: int) -> Path:
    """Folder holding the synthetic files of `dataset`, written on first use and reused after."""
    if dataset not in WRITERS:
        raise ValueError(f"no synthetic writer for {dataset!r}; available: {sorted(WRITERS)}")
    folder = (
        cache_dir() / "synthetic" / f"{dataset}-n{subjects}-s{seconds:g}-seed{seed}-v{__version__}"
    )
    marker = folder / ".complete"
    if not marker.exists():
        WRITERS[dataset](folder, subjects=subjects, seconds=seconds, seed=seed)
        marker.write_text("written by physioemo\n")
    return folder


def run_bench(
    config: BenchConfig, out: Path | None = None, progress: bool = True, echo=print
) -> dict:
    """Run the benchmark of `config`, write the run folder, and return its summary."""
    started = time.time()
    root = config.root
    if root is None:
        echo(f"Synthetic {config.dataset}: {config.synthetic}")
        root = synthetic_root(config.dataset, **config.synthetic)
    dataset = load(config.dataset, root)
    echo(f"Loaded {dataset}")
    kinds = {config.kind: config.baseline}
    raw_models = [m for m in config.models if spec(m).inputs == "raw"]
    raw_baseline = "none" if config.baseline == "none" else "zscore"
    if raw_models:
        kinds["raw"] = raw_baseline
    sets = extract_window_sets(dataset, kinds, config.window, config.stride, progress=progress)
    windows = sets[config.kind]
    echo(f"{len(windows)} windows of {config.kind.upper()} features, shape {windows.X.shape[1:]}")
    inputs = {"features": windows, "de": windows, "raw": sets.get("raw")}
    notes = (
        [f"{', '.join(raw_models)}: raw windows, baseline {raw_baseline}, same windows and labels."]
        if raw_models
        else []
    )
    notes += _profile_notes(config)
    for note in notes:
        echo(note)
    rows = []
    for dimension in config.dimensions:
        labels = scheme(config.dataset, dimension, config.labels, config.threshold)
        y = labels(windows.ratings)
        for protocol in config.protocols:
            options = {"n_splits": config.n_splits} if protocol != "subject-independent" else {}
            splitter = get_protocol(protocol, **options)
            for model in config.models:
                data = inputs[spec(model).inputs]
                folds = _quick_folds(config, model, protocol, splitter, data, y)
                for row in cross_validate(
                    data.X,
                    y,
                    data.groups,
                    partial(_make_model, config, model, protocol, labels.n_classes, data.info),
                    splitter,
                    progress=progress,
                    description=f"{dimension} {protocol} {model}",
                    folds=folds,
                ):
                    rows.append(
                        {"dimension": dimension, "protocol": protocol, "model": model, **row}
                    )
    summary = summarise(rows)
    context = {
        "dataset": config.dataset,
        "root": str(root),
        "synthetic": config.root is None,
        "features": f"{config.kind}, {config.window:g}-s windows, baseline {config.baseline}",
        "labels": f"{config.labels} ({', '.join(config.dimensions)})",
        "config": asdict(config),
        "notes": notes,
        "seconds": round(time.time() - started, 1),
        "versions": _versions(),
        "git_revision": _git_revision(),
    }
    out = out or Path("physioemo-runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{config.dataset}"
    write_run(out, rows, summary, context)
    echo(format_table(summary))
    echo(f"Wrote {out}/results.csv, summary.json and summary.md ({context['seconds']} s)")
    return {**context, "summary": summary, "out": str(out)}


def _make_model(config: BenchConfig, model: str, protocol: str, n_classes: int, info: dict):
    """A fresh estimator: a scikit-learn baseline, or a torch model in the Trainer wrapper."""
    if spec(model).framework == "sklearn":
        return make_baseline(model, config.seed)
    from ..training import TorchClassifier

    quick = config.profile == "quick"
    raw = spec(model).inputs == "raw"
    return TorchClassifier(
        model,
        preset=f"{model}-quick" if quick else model,
        model_options={"sfreq": info["sfreq"], "ch_names": info["ch_names"]} if raw else {},
        train_options={"threads": config.threads},
        n_classes=n_classes,
        seed=config.seed,
        max_train_windows=QUICK_SI_WINDOWS if quick and protocol == "subject-independent" else None,
    )


def _quick_folds(config: BenchConfig, model: str, protocol: str, splitter, data, y):
    """Fold indices a torch model runs under the quick profile (None: all folds)."""
    if config.profile != "quick" or spec(model).framework == "sklearn":
        return None
    total = splitter.get_n_splits(data.X, y, data.groups)
    count = min(QUICK_FOLDS.get(protocol, 2), total)
    return sorted({int(i) for i in np.linspace(0, total - 1, count).round()})


def _profile_notes(config: BenchConfig) -> list[str]:
    torch_models = [m for m in config.models if spec(m).framework == "torch"]
    if not torch_models:
        return []
    if config.profile != "quick":
        return [f"Torch models ({', '.join(torch_models)}): the papers' full training recipes."]
    folds = ", ".join(f"{p} {QUICK_FOLDS.get(p, 2)}" for p in config.protocols)
    return [
        f"Quick profile for {', '.join(torch_models)}: short training presets (few epochs), "
        f"folds per protocol: {folds} (spread over subjects; see the subjects column), "
        f"subject-independent training thinned to {QUICK_SI_WINDOWS} windows. "
        "Not the papers' recipes: use --profile full for those."
    ]


def _versions() -> dict:
    import numpy
    import scipy
    import sklearn

    return {
        "physioemo": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


def _git_revision() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None
