"""The papers' own feature recipes (papers.md), registered in `recipes.RECIPES`:

* ``rbtransformer-bde``: RBTransformer's band differential entropy tokens, its way.
* ``histn-raw``: HiSTN's raw windows of the last 60 s of each trial.
* ``peripheral-self-report``: the peripheral features plus PANAS and SAM self-reports, the
  PINN paper's inputs; the self-reports are flagged as label proxies.
"""

from __future__ import annotations

import numpy as np

from ..recording import Recording, WindowSet
from ..windows import Part, raw_windows, window_bounds, window_samples
from .extraction import baseline_mode, zscore_by_baseline
from .peripheral_windows import FEATURE_NAMES, finish_peripheral, peripheral_part

#: RBTransformer's bands in its code (TorchEEG's defaults; the paper text says 8-13, 13-30,
#: 30-45 Hz), Hz
RBT_BANDS = {"theta": (4.0, 8.0), "alpha": (8.0, 14.0), "beta": (14.0, 31.0), "gamma": (31.0, 49.0)}
#: RBTransformer's windows, in samples at any rate: 512 long, every 117
RBT_WINDOW, RBT_STRIDE = 512, 117
#: order of RBTransformer's Butterworth band-passes, applied causally (`scipy.signal.lfilter`)
RBT_ORDER = 5

#: the self-report inputs of `peripheral-self-report`, in column order after the features
SELF_REPORTS = ("panas_positive", "panas_negative", "sam_valence", "sam_arousal")
#: the standard PANAS scales, as far as WESAD's items have them ("Upset" is not asked; ours)
PANAS_POSITIVE = (
    "Active",
    "Interested",
    "Inspired",
    "Strong",
    "Excited",
    "Proud",
    "Enthusiastic",
    "Alert",
    "Determined",
    "Attentive",
)
PANAS_NEGATIVE = (
    "Distressed",
    "Guilty",
    "Scared",
    "Hostile",
    "Irritable",
    "Ashamed",
    "Nervous",
    "Jittery",
    "Afraid",
)


# ----------------------------------------------------------------------------- RBTransformer


def bde_tokens(windows: np.ndarray, sfreq: float, bands=None, order: int = RBT_ORDER):
    """RBTransformer's tokens of windows (n, n_channels, n_samples) -> (n, n_channels, n_bands).

    Per window (papers.md RBTransformer 1): z-score with one mean and std over the whole window
    (std 0 -> 1), band-pass each channel with a Butterworth of `order` designed at `sfreq`
    (``butter(order, [low, high] / nyquist, "band")``) applied by `scipy.signal.lfilter`
    (causal, zero initial state, the transient included), then DE = 0.5 * log2(2 pi e var).
    """
    from scipy import signal

    windows = np.asarray(windows, dtype=np.float64)
    mean = windows.mean(axis=(-2, -1), keepdims=True)
    std = windows.std(axis=(-2, -1), keepdims=True)
    scaled = (windows - mean) / np.where(std > 0, std, 1.0)
    nyquist = sfreq / 2
    tokens = []
    for low, high in (bands or RBT_BANDS).values():
        b, a = signal.butter(order, [low / nyquist, high / nyquist], "band")
        variance = signal.lfilter(b, a, scaled, axis=-1).var(axis=-1)
        tokens.append(0.5 * np.log2(2 * np.pi * np.e * np.maximum(variance, 1e-30)))
    return np.stack(tokens, axis=-1)


def averaged_baseline(baseline: np.ndarray, size: int) -> np.ndarray:
    """(n_channels, n_times) -> (n_channels, size): the mean of its whole `size`-sample pieces
    (RBTransformer's "averaged baseline window"; a remainder shorter than `size` is left out)."""
    pieces = baseline.shape[-1] // size
    if not pieces:
        raise ValueError(f"the baseline has {baseline.shape[-1]} samples, fewer than {size}")
    return baseline[:, : pieces * size].reshape(baseline.shape[0], pieces, size).mean(axis=1)


def rbtransformer_bde(
    recording: Recording, window=None, stride=None, baseline="auto", filter_sfreq=None
):
    """RBTransformer's BDE tokens (n_windows, n_channels, 4) of one recording.

    window, stride: seconds; None is the paper's 512 and 117 samples at any rate. Windows
    start at the first sample and must fit in the trial. baseline "auto" (or "subtract")
    subtracts the tokens of the averaged 1-s baseline waveform when the recording has a
    baseline ("none": never). filter_sfreq: the rate the band-passes are designed for, None the
    recording's; the authors' code designs them for 128 Hz on every dataset, so 128 reproduces
    its SEED tokens (whose real bands are then 1.5625x the nominal ones).
    """
    rate = float(filter_sfreq or recording.sfreq)
    size = RBT_WINDOW if window is None else window_samples(window, recording.sfreq)
    step = RBT_STRIDE if stride is None else window_samples(stride, recording.sfreq, "stride")
    if size > recording.n_times:
        raise ValueError(f"window of {size} samples is longer than the trial ({recording.n_times})")
    starts = np.arange(0, recording.n_times - size + 1, step)
    pieces = raw_windows(
        recording.data, recording.sfreq, size / recording.sfreq, step / recording.sfreq
    )
    tokens = bde_tokens(pieces, rate)
    mode = baseline_mode(recording, baseline, "subtract")
    if mode not in ("none", "subtract"):
        raise ValueError(
            f"rbtransformer-bde takes baseline 'auto', 'subtract' or 'none', got {mode!r}"
        )
    if mode == "subtract":
        if recording.baseline is None:
            raise ValueError("baseline='subtract' needs a baseline recording")
        rest = averaged_baseline(recording.baseline, int(round(rate)))
        tokens = tokens - bde_tokens(rest[None], rate)[0]
    return Part(tokens, starts, starts + size)


# ----------------------------------------------------------------------------- HiSTN


def middle(baseline: np.ndarray, size: int) -> np.ndarray:
    """The middle `size` samples of (n_channels, n_times) (all of it when shorter)."""
    n = baseline.shape[-1]
    if n <= size:
        return baseline
    first = n // 2 - size // 2
    return baseline[:, first : first + size]


def histn_raw(recording: Recording, seconds=60.0, window=1.0, stride=0.125, baseline_seconds=10.0):
    """HiSTN's inputs (n_windows, n_channels, n_window_samples) of one recording.

    As the authors' preprocessing (papers.md HiSTN 1.2): keep the last `seconds` of the trial,
    z-score each channel with the mean and std of the middle `baseline_seconds` of the trial's
    baseline recording (skipped when there is none), divide each channel by its max |x| over
    the kept part; then 1-s windows. The paper draws 1-s crops at any sample; the stride of
    1/8 s is ours (dense enough for random crops, 8x fewer windows than every sample).
    """
    keep = window_samples(seconds, recording.sfreq, "seconds")
    if keep > recording.n_times:
        raise ValueError(
            f"the trial lasts {recording.duration:g} s, less than the last {seconds:g} s "
            "histn-raw keeps (set seconds=)"
        )
    part = recording.data[:, -keep:].astype(np.float64)
    if recording.baseline is not None:
        rest = middle(recording.baseline, window_samples(baseline_seconds, recording.sfreq))
        part = zscore_by_baseline(part, rest)
    peak = np.abs(part).max(axis=-1, keepdims=True)
    part = part / np.where(peak > 0, peak, 1.0)
    starts, stops = window_bounds(keep, recording.sfreq, window, stride)
    offset = recording.n_times - keep
    return Part(raw_windows(part, recording.sfreq, window, stride), starts + offset, stops + offset)


def finish_histn_raw(windows: WindowSet, **_) -> WindowSet:
    """Record that each trial's max |x| scaling saw all of the trial's windows."""
    windows.info["fitted_on_all_windows"] = {
        "max |x| scaling per channel over the trial's last 60 s (histn-raw)": "trial"
    }
    return windows


# ----------------------------------------------------------------------------- the PINN's inputs


def self_reports(recording: Recording) -> list[float]:
    """PANAS positive and negative affect (mean of the answered items), SAM valence and arousal
    of one WESAD condition segment (`SELF_REPORTS` order)."""
    panas = recording.meta["panas"]
    return [
        float(np.nanmean([panas[item] for item in PANAS_POSITIVE])),
        float(np.nanmean([panas[item] for item in PANAS_NEGATIVE])),
        float(recording.ratings["valence"]),
        float(recording.ratings["arousal"]),
    ]


def peripheral_self_report(recording: Recording, window=60.0, stride=5.0, heart="chest_ecg"):
    """The `peripheral` recipe's windows with the segment's `self_reports` appended to every
    window's features: (n_windows, n_features + 4)."""
    part = peripheral_part(recording, window, stride, heart)
    reports = np.tile(self_reports(recording), (len(part.X), 1))
    return Part(np.hstack([part.X, reports]), part.starts, part.stops, part.extra)


def finish_self_report(windows: WindowSet, **parameters) -> WindowSet:
    """`finish_peripheral`, then name the inputs and flag the self-reports: they are
    constant within a subject and condition, so they nearly encode the condition label."""
    kept = finish_peripheral(windows, **parameters)
    kept.info["feature_names"] = [*FEATURE_NAMES, *SELF_REPORTS]
    kept.info["label_proxies"] = list(SELF_REPORTS)
    return kept
