"""The live command's stand-in model: a logistic regression fitted on synthetic EEG for a
source's own channels and rate, so ``physioemo live`` works before any training (its
predictions mean nothing; the pipeline is real)."""

from __future__ import annotations

import numpy as np

from .. import labels

#: the stand-in's label scheme in the registry: (dataset, scheme, dimension)
STAND_IN_LABELS = ("dreamer", "binary", "arousal")


def synthetic_training_set(
    ch_names,
    sfreq,
    window=1.0,
    stride=0.25,
    bands=None,
    trials=24,
    seconds=8.0,
    seed=0,
    kind="de",
):
    """Windows of synthetic EEG for these channels and rate, to train a stand-in model.

    One simulated subject (`EmotionEEG`), `trials` trials of `seconds` with arousal drawn
    uniformly in [-1, 1], the signal model's z of a rating 3 + 2 z on DREAMER's 1-5 scale (as
    synthetic DREAMER draws it), labelled by DREAMER's binary arousal scheme from the label
    registry (`STAND_IN_LABELS`: "arousal high (>=3)" when z >= 0), so the stand-in names its
    classes as a DREAMER checkpoint does and a DREAMER replay's true labels are its classes.
    kind "de": causal DE per window, X (n_windows, n_channels, n_bands); "raw": the windows'
    samples in uV, X (n_windows, n_channels, round(window * sfreq)) -- what the stream feeds
    such models.
    Returns (X float32, y, features, labels) where `features` and `labels` are the checkpoint
    metadata of such a model.
    """
    from ..datasets.synthetic import EmotionEEG
    from ..features import BANDS, differential_entropy
    from ..windows import window_bounds

    if kind not in ("de", "raw"):
        raise ValueError(f"synthetic training sets are 'de' or 'raw', not {kind!r}")
    bands = dict(bands or BANDS)
    rng = np.random.default_rng(seed)
    generator = EmotionEEG(ch_names, sfreq)
    subject = generator.subject(rng)
    X, y = [], []
    scheme = labels.make(*STAND_IN_LABELS)
    for arousal in rng.uniform(-1, 1, trials):
        eeg = generator.eeg(rng, subject, int(seconds * sfreq), arousal=arousal)
        if kind == "de":
            x = differential_entropy(eeg, sfreq, bands, window, stride, zero_phase=False)
        else:
            starts, stops = window_bounds(eeg.shape[1], sfreq, window, stride)
            x = np.stack([eeg[:, a:b] for a, b in zip(starts, stops, strict=True)])
        X.append(x)
        y.append(np.repeat(scheme({"arousal": np.array([3 + 2 * arousal])}), len(x)))
    features = {
        "kind": kind,
        "window": window,
        "stride": stride,
        "sfreq": sfreq,
        "baseline": "none",
    }
    if kind == "de":
        features["bands"] = bands
    dataset, name, dimension = STAND_IN_LABELS
    meta = {
        "dataset": dataset,
        "scheme": name,
        "dimension": dimension,
        "kind": scheme.kind,
        "threshold": scheme.threshold,
        "classes": labels.output_names(scheme),
    }
    return np.concatenate(X).astype(np.float32), np.concatenate(y), features, meta


def train_stand_in(ch_names, sfreq, seed=0, **options):
    """The live command's stand-in model: the logistic regression baseline (`make_estimator`)
    fitted on `synthetic_training_set(ch_names, sfreq, seed=seed, **options)`.
    Returns (fitted pipeline, features, labels) with checkpoint-style metadata."""
    from ..training.estimator import make_estimator

    X, y, features, labels = synthetic_training_set(ch_names, sfreq, seed=seed, **options)
    return make_estimator("logreg", seed=seed).fit(X, y), features, labels
