"""The window rule: every window of physioemo, offline and live, is cut by these functions.

Windows are given in seconds and rounded to samples once (`window_samples`); a signal holds the
windows that fit entirely inside it (`window_bounds`). A feature recipe returns one `Part` per
recording: its windows and where each one starts and stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class SignalTooShort(ValueError):
    """A signal holds fewer samples than one window."""


def window_samples(seconds: float, sfreq: float, name: str = "window") -> int:
    """Seconds to samples, rounded: the rule every window of physioemo follows."""
    n = int(round(seconds * sfreq))
    if n < 1:
        raise ValueError(f"{name} of {seconds} s is shorter than one sample at {sfreq} Hz")
    return n


def window_bounds(n_times: int, sfreq: float, window: float, stride: float | None = None):
    """Start and stop samples of the windows that fit entirely in `n_times` samples.

    window, stride: seconds (stride defaults to `window`, i.e. no overlap).
    Returns (starts, stops), two int arrays of length n_windows.
    """
    size = window_samples(window, sfreq, "window")
    step = window_samples(stride or window, sfreq, "stride")
    if size > n_times:
        raise SignalTooShort(
            f"window of {window} s ({size} samples) is longer than the signal ({n_times} samples)"
        )
    starts = np.arange(0, n_times - size + 1, step)
    return starts, starts + size


def raw_windows(data: np.ndarray, sfreq: float, window=1.0, stride=None) -> np.ndarray:
    """(n_channels, n_times) cut into windows: (n_windows, n_channels, n_window_samples)."""
    starts, stops = window_bounds(data.shape[-1], sfreq, window, stride)
    views = np.lib.stride_tricks.sliding_window_view(data, stops[0] - starts[0], axis=-1)
    return np.moveaxis(views[:, starts], 1, 0).copy()


@dataclass
class Part:
    """One recording's windows: X (n_windows, ...), starts/stops (n_windows,) in samples of the
    recording's `data`, extra per-window arrays, and names of X's last axis when its values
    are named features (e.g. "hr_mean")."""

    X: np.ndarray
    starts: np.ndarray
    stops: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    names: tuple[str, ...] | None = None
