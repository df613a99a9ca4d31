"""A recipe choice re-decided on the development subjects: EEGNet's learning rate and dropout.

The candidates are scored on synthetic DREAMER drawn from the development seed
(`datasets.cards.DEVELOPMENT_SEED`: subjects and clips the reported seed 0 does not share),
every subject-dependent fold of 10 subjects, binary arousal, 1-s raw windows, EEGNet's full
preset; the score is balanced accuracy (mean over subjects of each subject's pooled test
windows). docs/training.md ("Where each choice was made") quotes the stored summary.

    python benchmarks/development.py            # writes docs/results/eegnet-development.json
    python benchmarks/development.py --quick    # 3 subjects; prints, writes nothing
"""

from __future__ import annotations

import argparse
import json
import sys

from summaries import RESULTS, about, write

from physioemo import datasets, extract_windows, labels, protocols
from physioemo.datasets.cards import DEVELOPMENT_SEED
from physioemo.evaluation import summarise
from physioemo.experiment import cross_validate
from physioemo.experiment.plan import synthetic_root
from physioemo.training import TorchClassifier

#: (Adam learning rate, dropout): the paper's dropout with Adam's usual rate, and ours
CANDIDATES = [(1e-3, 0.5), (1e-2, 0.25)]


def score(windows, y, lr: float, dropout: float) -> dict:
    """Balanced accuracy and macro-F1 (mean over subjects, %) of EEGNet with `lr`, `dropout`."""
    model = TorchClassifier(
        "eegnet",
        preset="eegnet",
        train_options={"lr": lr},
        model_options={"dropout": dropout, "sfreq": 128.0, "ch_names": windows.info["ch_names"]},
    )
    (row,) = summarise(cross_validate(windows, y, model, protocols.get("subject-dependent")))
    return {
        "lr": lr,
        "dropout": dropout,
        "balanced_accuracy": round(100 * row["balanced_accuracy"], 1),
        "macro_f1": round(100 * row["macro_f1"], 1),
        "subjects": row["n_subjects"],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 subjects; write nothing")
    args = parser.parse_args(argv)
    subjects = 3 if args.quick else 10
    root = synthetic_root("dreamer", subjects=subjects, seconds=20.0, seed=DEVELOPMENT_SEED)
    windows = extract_windows(datasets.load("dreamer", root), kind="raw", window=1.0)
    y = labels.make("dreamer", "binary", "arousal")(windows.ratings)
    rows = [score(windows, y, lr, dropout) for lr, dropout in CANDIDATES]
    best = max(rows, key=lambda row: row["balanced_accuracy"])
    found = {
        "table": rows,
        "chosen": f"Adam {best['lr']:g}, dropout {best['dropout']:g}",
        "about": about(),
    }
    print(json.dumps(found, indent=1))
    if not args.quick:
        write(RESULTS / "eegnet-development.json", found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
