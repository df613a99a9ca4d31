"""One recording's band features or raw windows, with baseline handling.

Baseline modes (the trial's own `baseline` recording is the reference):

* ``"none"``: features of the trial as they are.
* ``"subtract"``: features of the trial minus the mean features of its baseline windows
  (in the feature domain; for DE this removes the subject's and session's spectral level).
* ``"zscore"``: the trial signal is z-scored per channel with the baseline's mean and standard
  deviation before features are computed.
* ``"auto"`` (recipes only): the recipe's own mode when the recording has a baseline, else "none".
"""

from __future__ import annotations

import numpy as np

from ..recording import Recording
from ..windows import Part, SignalTooShort, raw_windows, window_bounds, window_samples
from .spectral import FILTER_ORDER, band_power, differential_entropy, psd_de

BASELINE_MODES = ("none", "subtract", "zscore")
#: band feature kind -> feature function(x, sfreq, bands=..., window=..., stride=...)
BAND_FEATURES = {"de": differential_entropy, "bp": band_power, "psd_de": psd_de}


def zscore_by_baseline(data: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """(n_channels, n_times) data z-scored per channel by the baseline's mean and std."""
    mean = baseline.mean(axis=-1, keepdims=True)
    std = baseline.std(axis=-1, keepdims=True)
    return (data - mean) / np.where(std > 0, std, 1.0)


def baseline_mode(recording: Recording, baseline: str, with_baseline: str) -> str:
    """ "auto": `with_baseline` when the recording has a baseline recording, else "none"."""
    if baseline != "auto":
        return baseline
    return with_baseline if recording.baseline is not None else "none"


def recording_features(
    recording: Recording,
    kind="de",
    window=1.0,
    stride=None,
    bands=None,
    baseline="none",
    zero_phase=True,
    filter_order=FILTER_ORDER,
) -> np.ndarray:
    """Features of one recording, (n_windows, n_channels, n_bands), with baseline handling.

    zero_phase=False filters causally, as the live stream does; filter_order: the Butterworth
    order of the band-passes (both DE only: the other kinds filter nothing)."""
    if baseline not in BASELINE_MODES:
        raise ValueError(f"baseline must be one of {BASELINE_MODES}, got {baseline!r}")
    if kind not in BAND_FEATURES:
        raise ValueError(f"unknown feature kind {kind!r}; available: {sorted(BAND_FEATURES)}")
    feature = BAND_FEATURES[kind]
    options = {"bands": bands, "window": window, "stride": stride}
    if kind == "de":
        options.update(zero_phase=zero_phase, filter_order=filter_order)
    elif not zero_phase:
        raise ValueError(f"causal (zero_phase=False) features exist for DE only, not {kind!r}")
    elif filter_order != FILTER_ORDER:
        raise ValueError(f"filter_order is a parameter of DE only; {kind!r} filters nothing")
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
    window but at least half of one (DEAP's 3 s against 4-s windows) gives one window spanning
    all of it (ours: the longest window it holds; DE and log band power are per-sample
    quantities, so a shorter window estimates the same level with more variance). A shorter
    baseline (a damaged file: DREAMER's are a minute long) raises SignalTooShort, so the trial
    is skipped with the warning of any trial too short for a window."""
    n, sfreq = recording.baseline.shape[-1], recording.sfreq
    needed = window_samples(options["window"], sfreq)
    if n >= needed:
        return options
    if 2 * n < needed:
        raise SignalTooShort(
            f"its baseline of {n} samples ({n / sfreq:.2f} s) is shorter than half a "
            f"{options['window']:g}-s window"
        )
    return {**options, "window": n / sfreq, "stride": None}


def band_part(
    recording: Recording,
    kind="de",
    window=1.0,
    stride=None,
    baseline="auto",
    bands=None,
    zero_phase=True,
    filter_order=FILTER_ORDER,
) -> Part:
    """Band features (n_windows, n_channels, n_bands) of `kind` ("de", "bp", "psd_de");
    baseline "auto" subtracts the baseline's features when the recording has a baseline;
    zero_phase=False filters causally, as a live stream does; filter_order: Butterworth order
    of the band-passes (both DE only)."""
    mode = baseline_mode(recording, baseline, "subtract")
    starts, stops = window_bounds(recording.n_times, recording.sfreq, window, stride)
    X = recording_features(recording, kind, window, stride, bands, mode, zero_phase, filter_order)
    return Part(X, starts, stops)


def raw_part(recording: Recording, window=1.0, stride=None, baseline="auto") -> Part:
    """Raw windows (n_windows, n_channels, n_window_samples); baseline "auto" z-scores each
    channel by the trial's baseline recording when there is one."""
    mode = baseline_mode(recording, baseline, "zscore")
    if mode not in ("none", "zscore"):
        raise ValueError(f"raw windows take baseline 'none', 'zscore' or 'auto', got {mode!r}")
    data = recording.data
    if mode == "zscore":
        data = zscore_by_baseline(data, recording.baseline)
    starts, stops = window_bounds(recording.n_times, recording.sfreq, window, stride)
    return Part(raw_windows(data, recording.sfreq, window, stride), starts, stops)
