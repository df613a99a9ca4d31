"""Training recipes by name: the papers' full recipes and quick profiles for demos and tests.

Each preset gives `TrainConfig` fields (`train`), the objective's smoothing (`smoothing`) and
model options (`model`). Paper recipes follow papers.md; "-quick" profiles are ours: few
epochs so the default `physioemo bench` stays within its time budget.
"""

from __future__ import annotations

PRESETS = {
    # HiSTN, subject-dependent scripts: Adam 1e-3 then 5e-4 from epoch 30, 50 epochs, batch 256,
    # class-balanced batches, Gaussian ordinal targets, best validation loss kept. Our epoch is
    # one pass over the training windows (the paper draws ~423 batches of random 1-s crops).
    "histn": {
        "train": {
            "epochs": 50,
            "batch_size": 256,
            "lr": 1e-3,
            "lr_schedule": {30: 5e-4},
            "balance": "sampler",
            "patience": None,
        },
        "smoothing": "ordinal",
        "model": {"dropout": 0.5},
    },
    "histn-quick": {
        "train": {"epochs": 10, "batch_size": 16, "lr": 1e-2, "balance": "sampler", "patience": 4},
        "smoothing": "ordinal",
        "model": {"dropout": 0.2},
    },
    # RBTransformer train.py: AdamW 1e-3 / wd 1e-3, cosine over 300 epochs to 1e-6, batch 256
    # then 64 from epoch 150, label smoothing 0.12, SMOTE, seed 23, last epoch kept.
    "rbtransformer": {
        "train": {
            "epochs": 300,
            "batch_size": 256,
            "batch_schedule": {150: 64},
            "optimizer": "adamw",
            "lr": 1e-3,
            "weight_decay": 1e-3,
            "cosine": True,
            "eta_min": 1e-6,
            "smote": True,
            "balance": None,
            "val_fraction": 0.0,
            "patience": None,
            "select_best": False,
            "seed": 23,
        },
        "smoothing": 0.12,
        "model": {},
    },
    "rbtransformer-quick": {
        "train": {
            "epochs": 8,
            "batch_size": 64,
            "optimizer": "adamw",
            "lr": 1e-3,
            "weight_decay": 1e-3,
            "cosine": True,
            "patience": 3,
        },
        "smoothing": 0.12,
        "model": {},
    },
    # Baselines (ours): Adam 1e-3, early stopping on the trial-grouped validation split.
    "dgcnn": {
        "train": {"epochs": 60, "batch_size": 64, "patience": 10},
        "smoothing": None,
        "model": {},
    },
    "dgcnn-quick": {
        "train": {"epochs": 10, "batch_size": 32, "patience": 3},
        "smoothing": None,
        "model": {},
    },
    "eegnet": {
        "train": {"epochs": 60, "batch_size": 64, "patience": 10},
        "smoothing": None,
        "model": {},
    },
    "eegnet-quick": {
        "train": {"epochs": 15, "batch_size": 16, "lr": 3e-3, "patience": 4},
        "smoothing": None,
        "model": {},
    },
}


def preset(name: str) -> dict:
    """The preset `name`, e.g. "histn" or "histn-quick"."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; available: {', '.join(PRESETS)}")
    return PRESETS[name]
