"""Smoothing of feature sequences over windows, and baseline correction.

Feature sequences are (n_windows, ...) with time (windows) on axis 0, as one trial's output of
`differential_entropy` (n_windows, n_channels, n_bands).
"""

from __future__ import annotations

import numpy as np

BASELINE_CORRECTIONS = ("subtract", "divide")


def _sequence(features, name="features") -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim < 1 or len(features) < 1:
        raise ValueError(f"{name} must have shape (n_windows, ...), got {features.shape}")
    if not np.isfinite(features).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return features


def lds_smooth(
    features, transition_var=1e-4, observation_var=1.0, initial_var=0.01, initial_mean=None
) -> np.ndarray:
    """Linear-dynamical-system smoothing (Kalman filter + Rauch-Tung-Striebel smoother).

    Each feature follows a random walk x[t] = x[t-1] + w, w ~ N(0, transition_var), observed as
    y[t] = x[t] + v, v ~ N(0, observation_var); the prior of x[0] is N(initial_mean,
    initial_var), initial_mean defaulting to the sequence mean. The defaults are the values of
    the LDS script circulated with SEED as we read it (Q = 1e-4, R = 1, V0 = 0.01, mean prior).
    features: (n_windows, ...). Returns the smoothed means, same shape.
    """
    y = _sequence(features)
    n = len(y)
    predicted_var, filtered_var = np.empty(n), np.empty(n)
    filtered = np.empty_like(y)
    mean = y.mean(axis=0) if initial_mean is None else np.broadcast_to(initial_mean, y.shape[1:])
    prior_var = initial_var
    for t in range(n):
        predicted_var[t] = prior_var
        gain = prior_var / (prior_var + observation_var)
        mean = mean + gain * (y[t] - mean)
        filtered[t], filtered_var[t] = mean, (1 - gain) * prior_var
        prior_var = filtered_var[t] + transition_var
    smoothed = filtered.copy()
    for t in range(n - 2, -1, -1):
        back_gain = filtered_var[t] / predicted_var[t + 1]
        smoothed[t] = filtered[t] + back_gain * (smoothed[t + 1] - filtered[t])
    return smoothed


def moving_average(features, size=5) -> np.ndarray:
    """Centred moving average over `size` windows (odd); near the ends the mean of those
    available (ours: no padding values are invented). features: (n_windows, ...)."""
    y = _sequence(features)
    if size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd number of windows, got {size}")
    half = size // 2
    cumulative = np.concatenate([np.zeros((1, *y.shape[1:])), np.cumsum(y, axis=0)])
    index = np.arange(len(y))
    low, high = np.maximum(index - half, 0), np.minimum(index + half + 1, len(y))
    counts = (high - low).reshape(-1, *[1] * (y.ndim - 1))
    return (cumulative[high] - cumulative[low]) / counts


def baseline_correct(features, baseline, mode="subtract") -> np.ndarray:
    """Features corrected by the mean of the baseline's features over its windows.

    features: (n_windows, ...); baseline: (n_baseline_windows, ...) of the same feature layout.
    mode "subtract": features - mean (for log-scale features such as DE);
    "divide": features / mean (for power, gives relative change).
    """
    if mode not in BASELINE_CORRECTIONS:
        raise ValueError(f"mode must be one of {BASELINE_CORRECTIONS}, got {mode!r}")
    features, baseline = _sequence(features), _sequence(baseline, "baseline")
    if features.shape[1:] != baseline.shape[1:]:
        raise ValueError(
            f"baseline windows {baseline.shape[1:]} do not match features {features.shape[1:]}"
        )
    reference = baseline.mean(axis=0)
    if mode == "subtract":
        return features - reference
    if (reference == 0).any():
        raise ValueError("baseline mean is zero for some feature; cannot divide")
    return features / reference
