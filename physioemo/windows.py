"""From recordings to windows: segmentation in seconds and baseline handling.

Baseline modes (the trial's own `baseline` recording is the reference):

* ``"none"``: features of the trial as they are.
* ``"subtract"``: features of the trial minus the mean features of its baseline windows
  (in the feature domain; for DE this removes the subject's and session's spectral level).
* ``"zscore"``: the trial signal is z-scored per channel with the baseline's mean and standard
  deviation before features are computed.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .features import FEATURES
from .features.spectral import window_bounds, window_samples
from .recording import Recording, WindowSet

BASELINE_MODES = ("none", "subtract", "zscore")


def zscore_by_baseline(data: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """(n_channels, n_times) data z-scored per channel by the baseline's mean and std."""
    mean = baseline.mean(axis=-1, keepdims=True)
    std = baseline.std(axis=-1, keepdims=True)
    return (data - mean) / np.where(std > 0, std, 1.0)


def recording_features(
    recording: Recording,
    kind="de",
    window=1.0,
    stride=None,
    bands=None,
    baseline="none",
    zero_phase=True,
) -> np.ndarray:
    """Features of one recording, (n_windows, n_channels, n_bands), with baseline handling.

    zero_phase=False filters causally, as the live stream does (DE only)."""
    if baseline not in BASELINE_MODES:
        raise ValueError(f"baseline must be one of {BASELINE_MODES}, got {baseline!r}")
    if kind not in FEATURES:
        raise ValueError(f"unknown feature kind {kind!r}; available: {sorted(FEATURES)}")
    feature = FEATURES[kind]
    options = {"bands": bands, "window": window, "stride": stride}
    if kind == "de":
        options["zero_phase"] = zero_phase
    elif not zero_phase:
        raise ValueError(f"causal (zero_phase=False) features exist for DE only, not {kind!r}")
    if baseline != "none" and recording.baseline is None:
        raise ValueError(
            f"baseline={baseline!r} needs a baseline recording, and subject {recording.subject} "
            f"trial {recording.trial} has none"
        )
    if baseline == "zscore":
        return feature(
            zscore_by_baseline(recording.data, recording.baseline), recording.sfreq, **options
        )
    values = feature(recording.data, recording.sfreq, **options)
    if baseline == "subtract":
        rest = feature(recording.baseline, recording.sfreq, **baseline_options(recording, options))
        values = values - rest.mean(axis=0)
    return values


def baseline_options(recording: Recording, options: dict) -> dict:
    """Feature options for the baseline: the trial's, except that a baseline shorter than one
    window (DEAP's 3 s against 4-s windows) gives one window spanning all of it (ours: the
    longest window it holds; DE and log band power are per-sample quantities, so a shorter
    window estimates the same level with more variance)."""
    n = recording.baseline.shape[-1]
    if n >= window_samples(options["window"], recording.sfreq):
        return options
    return {**options, "window": n / recording.sfreq, "stride": None}


def raw_windows(data: np.ndarray, sfreq: float, window=1.0, stride=None) -> np.ndarray:
    """(n_channels, n_times) cut into windows: (n_windows, n_channels, n_window_samples)."""
    starts, stops = window_bounds(data.shape[-1], sfreq, window, stride)
    views = np.lib.stride_tricks.sliding_window_view(data, stops[0] - starts[0], axis=-1)
    return np.moveaxis(views[:, starts], 1, 0).copy()


def extract_windows(
    recordings: Iterable[Recording],
    kind="de",
    window=1.0,
    stride=None,
    bands=None,
    baseline="none",
    progress=False,
) -> WindowSet:
    """Windowed features of many recordings as one `WindowSet` (the feature recipe `kind`).

    kind: "de", "bp", "psd_de" (X is (n_windows, n_channels, n_bands)) or "raw" (X is
    (n_windows, n_channels, n_window_samples); baseline must be "none" or "zscore"), or any
    other name of `features.recipes`. Several recipes in one pass: `features.recipes.compute`.
    progress: a bar over trials (on a terminal only).
    """
    from .features import recipes

    recipe = recipes.get(kind)
    options = {"window": window, "stride": stride, "bands": bands, "baseline": baseline}
    parameters = recipe.parameters(**{k: v for k, v in options.items() if k in recipe.defaults})
    return recipes.compute(recordings, [(recipe, parameters)], progress=progress)[0]
