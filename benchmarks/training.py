"""What the training recipes achieve on synthetic DREAMER, and what they cost.

    python benchmarks/training.py [demo]    # every quick preset: seconds and accuracy per fold
    python benchmarks/training.py --quick   # the same on 2 subjects
    python benchmarks/training.py full --only s01,s02 --models histn   # full recipes
    python benchmarks/training.py planted   # raw-input models vs DE + logistic regression
    python benchmarks/training.py threads   # same seed twice, 1 vs 2 threads
    python benchmarks/training.py histn     # HiSTN samples/s against its pre-issue-25 form

Data: `write_dreamer(folder, subjects, seconds=20, seed=0)` (the planned demo set; `planted`
adds `PLANTED`), 1-s windows: DE tokens (baseline subtracted) and raw windows (z-scored by the
baseline); labels: binary arousal or valence (rating >= 3). Protocol: `SubjectDependent(5)`
(every fold of the subjects chosen) and, for `demo`, leave-one-subject-out. Validation: the
training set's trials, about 20 % of them, held out whole and stratified by label
(`training.carve_validation`; the experiment engine will use the protocol's own). Full HiSTN
trains on densely strided windows (1/8 s, `--histn-stride`) of the training trials, as its
random crops need; every model is tested on the same 1-s windows.

`planted` also scores an oracle: logistic regression on features that know the planted effects
(per homologous pair the log ratio of (L + R) to (L - R) alpha power; per channel the skewness
of the first difference), to show how much signal the effects carry.

Each fold reports accuracy, the accuracy of always predicting the training majority on the
same test windows, seconds, and the epoch kept and why. Per model: the mean over subjects of
each subject's pooled test accuracy, its standard error across subjects, and how often the
kept epoch is 0. Timings are per fold on one torch thread; `reference` is the seconds of a
fixed workload (100 Adam steps of a 3-layer MLP, batch 256) measured in the same run, so the
ratio column survives a change of machine or load.

`histn`: HiSTN training steps (Gaussian ordinal targets, Adam, max-norm constraints; DREAMER's
14 x 128 windows, 5 classes, one thread) at the recipes' batch sizes (64 quick, 120
subject-independent, 256 subject-dependent): samples/s of the package's HiSTN against the same
network computed as before issue 25 (`histn_reference.py`: grouped filter-bank convolution,
regions in loops, a loop of per-tensor Adam updates), alternating the two, the best of the
repeats each; and their largest output and gradient differences for the same weights, the
check `tests/test_models.py` makes.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from physioemo import models
from physioemo.datasets import load
from physioemo.datasets.synthetic import PLANTED, write_dreamer
from physioemo.features.recipes import extract_windows
from physioemo.labels import scheme
from physioemo.protocols import SubjectDependent, SubjectIndependent
from physioemo.recording import trial_keys
from physioemo.training import carve_validation, make_estimator

#: the registry's torch models that read EEG (raw windows or DE tokens)
TORCH_MODELS = tuple(n for n in models.available() if models.spec(n).inputs in ("raw", "de"))
#: logistic regression on DE, and on features that know the planted effects (`planted` only)
BASELINES = ("logreg", "oracle")
MODES = ("demo", "full", "planted", "threads", "histn")


def reference_seconds() -> float:
    """Seconds of 100 Adam steps of a 3-layer MLP on a batch of 256 (one thread)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU()
    )
    optimiser = torch.optim.Adam(net.parameters())
    x = torch.randn(256, 256)
    started = time.perf_counter()
    for _ in range(100):
        loss = net(x).square().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return time.perf_counter() - started


def oracle_features(raw) -> np.ndarray:
    """(n, n_pairs + n_channels) features that know the planted effects: per homologous pair
    the log ratio of (L + R) to (L - R) alpha (8-13 Hz) power, per channel the skewness of the
    first difference."""
    from scipy import signal, stats

    from physioemo.datasets.synthetic.eeg import homologous_pairs

    b, a = signal.butter(4, [8, 13], btype="band", fs=raw.info["sfreq"])
    alpha = signal.filtfilt(b, a, raw.X, axis=-1)
    pairs = [
        np.log(np.var(alpha[:, i] + alpha[:, j], -1) / np.var(alpha[:, i] - alpha[:, j], -1))
        for i, j in homologous_pairs(list(raw.info["ch_names"]))
    ]
    return np.c_[np.stack(pairs, axis=1), stats.skew(np.diff(raw.X, axis=-1), axis=-1)]


def windows(folder: Path, histn_stride: float | None):
    """1-s DE and raw windows (and densely strided raw windows when asked)."""
    dataset = load("dreamer", folder)
    sets = {
        "de": extract_windows(dataset, "de", baseline="subtract"),
        "raw": extract_windows(dataset, "raw", baseline="zscore"),
    }
    sets["oracle"] = oracle_features(sets["raw"])
    if histn_stride:
        sets["dense"] = extract_windows(dataset, "raw", stride=histn_stride, baseline="zscore")
    return sets


def run_fold(name, profile, sets, y, train, test, fold, dense_y=None):
    """Fit one model on `train` rows (1-s windows; the dense set's rows of the same trials when
    it exists for HiSTN) and score it on `test`."""
    one_second = sets["de"] if name in BASELINES else sets[models.spec(name).inputs]
    data, labels, rows = one_second, y, train
    if name == "histn" and "dense" in sets:
        data, labels = sets["dense"], dense_y
        keys = trial_keys(data.groups)
        rows = np.flatnonzero(np.isin(keys, trial_keys(one_second.groups[train])))
    started = time.perf_counter()
    if name in BASELINES:
        X = sets["oracle"] if name == "oracle" else data.X
        estimator = make_estimator("logreg").fit(X[rows], labels[rows])
        predicted = estimator.predict(X[test])
        report = {}
    else:
        _, validation = carve_validation(data.groups[rows], labels[rows], 0.2, seed=fold)
        estimator = make_estimator(name, profile, 2, data.info)
        estimator.fit(data.X[rows], labels[rows], groups=data.groups[rows], validation=validation)
        report = estimator.fit_report_
        predicted = estimator.predict(one_second.X[test])
    seconds = time.perf_counter() - started
    majority = np.bincount(y[train], minlength=2).argmax()
    return {
        "fold": fold,
        "subject": "+".join(np.unique(one_second.groups["subject"][test])),
        "correct": int((predicted == y[test]).sum()),
        "majority_correct": int((y[test] == majority).sum()),
        "n_test": int(test.size),
        "seconds": seconds,
        "epoch_kept": report.get("epoch_kept"),
        "epochs_run": report.get("epochs_run"),
        "kept_because": report.get("kept_because", ""),
    }


def summary(rows: list[dict], reference: float) -> dict:
    """Per subject pooled accuracy -> mean and standard error over subjects; seconds per fold,
    also as a ratio to the reference workload."""
    subjects = sorted({r["subject"] for r in rows})
    pooled = {
        s: [
            sum(r[k] for r in rows if r["subject"] == s)
            / sum(r["n_test"] for r in rows if r["subject"] == s)
            for k in ("correct", "majority_correct")
        ]
        for s in subjects
    }
    accuracy = np.array([pooled[s][0] for s in subjects])
    majority = np.array([pooled[s][1] for s in subjects])
    seconds = np.array([r["seconds"] for r in rows])
    kept = [r["epoch_kept"] for r in rows if r["epoch_kept"] is not None]
    return {
        "subjects": len(subjects),
        "folds": len(rows),
        "accuracy": float(accuracy.mean()),
        "accuracy_se": float(accuracy.std(ddof=1) / np.sqrt(accuracy.size))
        if accuracy.size > 1
        else float("nan"),
        "majority": float(majority.mean()),
        "per_subject": dict(zip(subjects, accuracy.round(4).tolist(), strict=True)),
        "seconds_mean": float(seconds.mean()),
        "seconds_max": float(seconds.max()),
        "reference_ratio_mean": float(seconds.mean() / reference),
        "epoch0_kept": sum(k == 0 for k in kept),
    }


def evaluate(names, profile, sets, dimension, protocol, reference, subjects=None, log=print):
    y = scheme("dreamer", dimension)(sets["de"].ratings)
    dense_y = scheme("dreamer", dimension)(sets["dense"].ratings) if "dense" in sets else None
    groups = sets["de"].groups
    splitter = SubjectDependent(n_splits=5) if protocol == "sd" else SubjectIndependent()
    folds = list(splitter.split(sets["de"].X, y, groups))
    results = {}
    for name in names:
        rows = []
        for fold, (train, test) in enumerate(folds):
            if subjects and groups["subject"][test[0]] not in subjects:
                continue
            if np.unique(y[train]).size < 2:
                continue  # a single-class training set: nothing to learn
            row = run_fold(name, profile, sets, y, train, test, fold, dense_y)
            rows.append(row)
            log(json.dumps({"model": name, "dimension": dimension, "protocol": protocol, **row}))
        results[name] = {"summary": summary(rows, reference), "rows": rows}
        log(f"# {name} {profile} {dimension} {protocol}: {json.dumps(results[name]['summary'])}")
    return results


def paired_margins(results: dict, against="logreg") -> dict:
    """Per model: mean over subjects of (model - baseline) accuracy and its standard error."""
    base = results[against]["summary"]["per_subject"]
    margins = {}
    for name, result in results.items():
        if name == against:
            continue
        own = result["summary"]["per_subject"]
        difference = np.array([own[s] - base[s] for s in own])
        margins[name] = {
            "margin": float(difference.mean()),
            "margin_se": float(difference.std(ddof=1) / np.sqrt(difference.size)),
        }
    return margins


def thread_check(sets, dimension="arousal") -> dict:
    """Same seed twice at 1 thread, and 1 vs 2 threads (train_options threads), per model on
    the first subject-dependent fold: max |difference| of predict_proba."""
    y = scheme("dreamer", dimension)(sets["de"].ratings)
    train, test = next(SubjectDependent(n_splits=5).split(sets["de"].X, y, sets["de"].groups))
    found = {}
    for name in TORCH_MODELS:
        data = sets[models.spec(name).inputs]
        _, validation = carve_validation(data.groups[train], y[train], 0.2, seed=0)
        probabilities = []
        for threads in (1, 1, 2):
            estimator = make_estimator(name, "quick", 2, data.info)
            estimator.set_params(train_options={"threads": threads})
            estimator.fit(data.X[train], y[train], groups=data.groups[train], validation=validation)
            probabilities.append(estimator.predict_proba(data.X[test]))
        found[name] = {
            "same_seed_identical": bool(np.array_equal(probabilities[0], probabilities[1])),
            "threads_1_vs_2_max_abs": float(np.abs(probabilities[0] - probabilities[2]).max()),
            "threads_1_vs_2_labels_changed": int(
                (probabilities[0].argmax(1) != probabilities[2].argmax(1)).sum()
            ),
        }
    return found


#: HiSTN's presets whose batch sizes `histn` times: quick, subject-independent, subject-dependent
HISTN_RECIPES = ("histn-quick", "histn-si", "histn")


def histn_steps(net, batch: int, steps: int, foreach: bool) -> float:
    """Samples/s of `steps` HiSTN training steps at `batch` (after 3 warm-up steps)."""
    from physioemo.training.losses import ClassificationObjective

    objective = ClassificationObjective(5, "ordinal")
    generator = torch.Generator().manual_seed(0)
    data = {"x": torch.randn(batch, 14, 128, generator=generator)}
    data["y"] = torch.randint(0, 5, (batch,), generator=generator)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3, foreach=foreach)
    for step in range(steps + 3):
        if step == 3:
            started = time.perf_counter()
        loss, _ = objective(net, data, train=True)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        net.apply_constraints()
    return steps * batch / (time.perf_counter() - started)


def histn_speed(recipes=HISTN_RECIPES, steps: int = 20, repeats: int = 3) -> dict:
    """Per batch size of the `recipes` (presets): samples/s of the package's HiSTN and of the
    reference, and the package's speed-up; with the largest output and gradient differences
    between them."""
    from histn_reference import Reference, forward

    from physioemo.training.presets import preset

    found = {}
    for recipe in recipes:
        batch = preset(recipe)["train"]["batch_size"]
        torch.manual_seed(0)
        net = models.create("histn", n_chans=14, n_outputs=5, n_times=128, sfreq=128.0)
        best = {"package": 0.0, "reference": 0.0}
        for _ in range(repeats):  # alternate, so both see the same load
            best["reference"] = max(
                best["reference"], histn_steps(Reference(net), batch, steps, False)
            )
            best["package"] = max(best["package"], histn_steps(net, batch, steps, True))
        speed_up = best["package"] / best["reference"]
        found[batch] = {**best, "speed_up": speed_up, "preset": recipe}
    found["difference"] = histn_difference(forward)
    return found


def histn_difference(forward) -> dict:
    """Largest |package - reference| of HiSTN's training-mode logits (same dropout masks) and
    of every gradient, relative to the reference's largest value."""
    torch.manual_seed(1)
    net = models.create("histn", n_chans=14, n_outputs=5, n_times=128, sfreq=128.0)
    x, state = torch.randn(64, 14, 128), {k: v.clone() for k, v in net.state_dict().items()}
    outputs = []
    for model in (net, lambda x: forward(net, x)):
        net.load_state_dict(state)
        torch.manual_seed(2)
        logits = model(x)
        grads = torch.autograd.grad(logits.square().sum(), list(net.parameters()))
        outputs.append((logits.detach(), grads))
    (logits, grads), (ref_logits, ref_grads) = outputs
    relative = [(g - r).abs().max() / r.abs().max() for g, r in zip(grads, ref_grads, strict=True)]
    return {
        "logits_max_abs": float((logits - ref_logits).abs().max()),
        "gradient_max_relative": float(max(relative)),
    }


def print_histn(found: dict, reference: float) -> None:
    print(
        f"\n# HiSTN training, {time.strftime('%Y-%m-%d')}, torch {torch.__version__}, one thread; "
        f"reference workload {reference:.3f} s\n"
    )
    print("| batch | before issue 25 (samples/s) | now (samples/s) | speed-up |")
    print("|---:|---:|---:|---:|")
    for batch, row in found.items():
        if batch != "difference":
            print(
                f"| {batch} | {row['reference']:,.0f} | {row['package']:,.0f} | "
                f"{row['speed_up']:.2f}x |"
            )
    difference = found["difference"]
    logits, gradients = difference["logits_max_abs"], difference["gradient_max_relative"]
    print(
        f"\nsame weights, same dropout masks: logits differ by at most {logits:.1e}, gradients "
        f"by {gradients:.1e} of their largest value"
    )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", default="demo", choices=MODES)
    parser.add_argument("--subjects", type=int, default=10, help="synthetic subjects written")
    parser.add_argument("--quick", action="store_true", help="2 subjects")
    parser.add_argument("--only", help="comma-separated subjects to run folds of (e.g. s01,s02)")
    parser.add_argument("--models", default=",".join(TORCH_MODELS))
    parser.add_argument("--dimensions", default="arousal")
    parser.add_argument("--profile", choices=("quick", "full"), help="default: the mode's")
    parser.add_argument("--histn-stride", type=float, default=0.125, help="full HiSTN, s")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    reference = reference_seconds()
    started = time.time()
    context = {
        "mode": args.mode,
        "load_average": os.getloadavg()[0],
        "reference_seconds": reference,
        "torch": torch.__version__,
    }
    print(json.dumps(context))
    if args.mode == "histn":
        found = histn_speed(steps=5 if args.quick else 20)
        print_histn(found, reference)
        return _written(args.out, {"context": context, "histn": found})
    names = ["logreg", *(["oracle"] if args.mode == "planted" else []), *args.models.split(",")]
    profile = args.profile or ("quick" if args.mode == "demo" else "full")
    subjects = 2 if args.quick else args.subjects
    with tempfile.TemporaryDirectory() as folder:
        signal = PLANTED if args.mode == "planted" else {}
        write_dreamer(folder, subjects=subjects, seconds=20.0, seed=0, **signal)
        stride = args.histn_stride if "histn" in names and profile == "full" else None
        sets = windows(Path(folder), stride)
    only = set(args.only.split(",")) if args.only else None
    results = {"context": context}
    if args.mode == "threads":
        results["threads"] = thread_check(sets)
        print(json.dumps(results["threads"], indent=1))

    else:
        protocols = ("sd", "loso") if args.mode == "demo" else ("sd",)
        for dimension in args.dimensions.split(","):
            for protocol in protocols:
                found = evaluate(names, profile, sets, dimension, protocol, reference, only)
                results[f"{dimension}/{protocol}"] = found
                if args.mode == "planted":
                    margins = paired_margins(found)
                    results[f"{dimension}/{protocol}/margins"] = margins
                    print(f"# margins over logreg, {dimension}: {json.dumps(margins)}")
    context["seconds"] = time.time() - started
    return _written(args.out, results)


def _written(out: Path | None, results: dict) -> dict:
    """`results`, also written to `out` (when given) with an "about" entry: date, machine,
    revision and command, as docs/figures.py reads summaries."""
    if out:
        from summaries import write

        write(out, results)
    return results


if __name__ == "__main__":
    main()
