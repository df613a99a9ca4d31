"""Checks of a checkpoint's metadata against the model it describes, shared by the torch and
the linear checkpoint formats: each refusal is a ValueError in one line naming the file and
the key.

A stream feeds a checkpoint's model the electrodes its ``ch_names`` list, in that order, and
names its outputs with ``labels.classes``: 14 names all "AF3" would feed one electrode to 14
inputs, and 3 class names on a 2-output model would put names on the wrong outputs, so both
must be unique and as many as the model's inputs and outputs. Importing this module imports
no torch.
"""

from __future__ import annotations

import math

from ..errors import clean

#: longest channel or class name a checkpoint may hold (characters)
NAME_LIMIT = 256
#: (lowest, highest) rate in Hz, longest window in seconds, most samples in one window that a
#: checkpoint may declare: a stream's buffers are sized by them
RATE_LIMITS, WINDOW_LIMIT, SAMPLES_LIMIT = (1e-3, 100_000.0), 600.0, 1_000_000


def check_names(path, meta: dict, n_chans: int | None = None) -> list[str]:
    """meta.ch_names: distinct (case-insensitively) channel names, `n_chans` of them when
    given. Returns them."""
    names = _texts(path, meta.get("ch_names"), "ch_names", "channel names")
    if n_chans is not None and len(names) != n_chans:
        raise ValueError(
            f"{path}: key meta.ch_names: {len(names)} names for a model of {n_chans} input channels"
        )
    return names


def check_classes(path, meta: dict, n_outputs: int | None = None) -> list[str]:
    """meta.labels.classes: at least two distinct class names, `n_outputs` of them when
    given. Returns them."""
    labels = meta.get("labels")
    if not isinstance(labels, dict) or "classes" not in labels:
        raise ValueError(
            f"{path}: key meta.labels.classes is missing: a checkpoint names the class of "
            "each output"
        )
    classes = _texts(path, labels["classes"], "labels.classes", "class names")
    if len(classes) < 2:
        raise ValueError(f"{path}: key meta.labels.classes: expected at least two class names")
    if n_outputs is not None and len(classes) != n_outputs:
        raise ValueError(
            f"{path}: key meta.labels.classes: {len(classes)} class names for a model of "
            f"{n_outputs} outputs"
        )
    return classes


def check_kind(path, meta: dict, model: str, inputs: str) -> str:
    """meta.features.kind: a feature recipe whose windows are what `model` reads (`inputs`,
    its `models.INPUTS` key; "features" reads any). Returns the kind."""
    from ..features.recipes import RECIPES

    features = meta.get("features")
    kind = features.get("kind") if isinstance(features, dict) else None
    if not isinstance(kind, str) or kind not in RECIPES:
        raise ValueError(
            f"{path}: key meta.features.kind: expected one of {', '.join(RECIPES)}, "
            f"got {clean(kind, 40)!r}"
        )
    provides = RECIPES[kind].provides
    if inputs != "features" and provides != inputs:
        raise ValueError(
            f"{path}: key meta.features.kind: {kind} windows are {provides} inputs, but "
            f"{model} reads {inputs} inputs"
        )
    return kind


def _texts(path, value, key: str, what: str) -> list[str]:
    """`value` as a non-empty list of distinct, non-empty names."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and 0 < len(item) <= NAME_LIMIT for item in value)
    ):
        raise ValueError(f"{path}: key meta.{key}: expected a list of {what}")
    seen = set()
    for item in value:
        if item.casefold() in seen:
            raise ValueError(f"{path}: key meta.{key}: {clean(item, 40)!r} appears twice")
        seen.add(item.casefold())
    return value


def check_features(path, meta: dict, n_bands: int | None = None, n_times: int | None = None):
    """meta.features: window and stride (s) in (0, `WINDOW_LIMIT`], sfreq (Hz, when given)
    within `RATE_LIMITS`, at most `SAMPLES_LIMIT` samples per window; as many bands as the
    model's `n_bands` and, for raw windows, window x sfreq = the model's `n_times` (when the
    model has them)."""
    from ..features import BANDS
    from ..windows import window_samples

    features = meta.get("features")
    if not isinstance(features, dict):
        raise ValueError(f"{path}: key meta.features: expected a table")
    window, stride = features.get("window", 1.0), features.get("stride")
    for key, value in (("window", window), ("stride", stride)):
        if value is not None and not _number_in(value, 0.0, WINDOW_LIMIT, low_open=True):
            raise ValueError(
                f"{path}: key meta.features.{key}: {clean(repr(value), 40)} is not a number of "
                f"seconds in (0, {WINDOW_LIMIT:g}]"
            )
    sfreq = features.get("sfreq")
    if sfreq is not None and not _number_in(sfreq, *RATE_LIMITS):
        raise ValueError(
            f"{path}: key meta.features.sfreq: {clean(repr(sfreq), 40)} is not a rate in "
            f"{RATE_LIMITS[0]:g}..{RATE_LIMITS[1]:g} Hz"
        )
    samples = window_samples(window or 1.0, sfreq) if sfreq else None
    if samples is not None and samples > SAMPLES_LIMIT:
        raise ValueError(
            f"{path}: key meta.features: windows of {samples:,} samples, more than the limit "
            f"of {SAMPLES_LIMIT:,}"
        )
    if features.get("kind") == "raw" and n_times is not None and samples not in (None, n_times):
        raise ValueError(
            f"{path}: key meta.features: {window:g}-s windows at {sfreq:g} Hz are {samples} "
            f"samples, the model takes {n_times}"
        )
    bands = features.get("bands") or BANDS
    if n_bands is not None and (not isinstance(bands, dict | list) or len(bands) != n_bands):
        raise ValueError(f"{path}: key meta.features.bands: the model takes {n_bands} bands")


def _number_in(value, low: float, high: float, low_open: bool = False) -> bool:
    """Whether `value` is a finite real number (not a bool) in [low, high] ((low, high] when
    `low_open`)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    return (low < value if low_open else low <= value) and value <= high
