"""Spectral features per window: differential entropy (DE) and band power.

Arrays are (..., n_channels, n_times); outputs are (..., n_windows, n_channels, n_bands).
Filtering happens once per whole trial (zero-phase SOS Butterworth band-pass), and windows are
cut afterwards, so no window carries a filter start-up transient of its own.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal

#: Default bands (Hz), lower edge inclusive, upper exclusive.
BANDS = {"theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0), "gamma": (30.0, 45.0)}
#: Butterworth order of each band-pass (ours; the SOS form keeps it stable at low bands).
FILTER_ORDER = 4


def window_bounds(n_times: int, sfreq: float, window: float, stride: float | None = None):
    """Start and stop samples of the windows that fit entirely in `n_times` samples.

    window, stride: seconds (stride defaults to `window`, i.e. no overlap).
    Returns (starts, stops), two int arrays of length n_windows.
    """
    size, step = _samples(window, sfreq, "window"), _samples(stride or window, sfreq, "stride")
    if size > n_times:
        raise ValueError(
            f"window of {window} s ({size} samples) is longer than the signal ({n_times} samples)"
        )
    starts = np.arange(0, n_times - size + 1, step)
    return starts, starts + size


def _samples(seconds: float, sfreq: float, name: str) -> int:
    n = int(round(seconds * sfreq))
    if n < 1:
        raise ValueError(f"{name} of {seconds} s is shorter than one sample at {sfreq} Hz")
    return n


@lru_cache(maxsize=64)
def bandpass_sos(sfreq: float, low: float, high: float, order: int = FILTER_ORDER) -> np.ndarray:
    """Second-order sections of a Butterworth band-pass [low, high) Hz."""
    nyquist = sfreq / 2
    if not 0 < low < high:
        raise ValueError(f"band ({low}, {high}) Hz must satisfy 0 < low < high")
    if high >= nyquist:
        raise ValueError(f"band ({low}, {high}) Hz reaches the Nyquist frequency {nyquist} Hz")
    return signal.butter(order, [low, high], btype="bandpass", fs=sfreq, output="sos")


def _check(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"expected (..., n_channels, n_times), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("input holds NaN or infinite samples")
    return x


def _windowed_variance(x: np.ndarray, starts: np.ndarray, size: int) -> np.ndarray:
    """Variance of each window: (..., n_channels, n_times) -> (..., n_windows, n_channels)."""
    views = np.lib.stride_tricks.sliding_window_view(x, size, axis=-1)[..., starts, :]
    return np.moveaxis(views.var(axis=-1), -1, -2)


def differential_entropy(
    x, sfreq, bands=None, window=1.0, stride=None, zero_phase=True, log_base=np.e
) -> np.ndarray:
    """DE = 0.5 * log(2 pi e var) of each band-passed window (Gaussian assumption).

    Args:
        x: (..., n_channels, n_times).
        sfreq: Hz. bands: {name: (low, high)} in Hz, default `BANDS`.
        window, stride: seconds. zero_phase: forward-backward filtering (sosfiltfilt with its
            default padding) when True, causal (sosfilt) when False.
        log_base: e (nats, the default) or e.g. 2 (bits, TorchEEG's convention).
    Returns:
        (..., n_windows, n_channels, n_bands) float64.
    """
    x = _check(x)
    bands = BANDS if bands is None else bands
    starts, stops = window_bounds(x.shape[-1], sfreq, window, stride)
    size = int(stops[0] - starts[0])
    apply = signal.sosfiltfilt if zero_phase else signal.sosfilt
    out = []
    for low, high in bands.values():
        filtered = apply(bandpass_sos(float(sfreq), float(low), float(high)), x, axis=-1)
        var = _windowed_variance(filtered, starts, size)
        out.append(0.5 * np.log(2 * np.pi * np.e * np.maximum(var, 1e-30)) / np.log(log_base))
    return np.stack(out, axis=-1)


def band_power(x, sfreq, bands=None, window=1.0, stride=None, relative=False) -> np.ndarray:
    """Mean Welch power spectral density (unit^2/Hz) in each band, per window.

    Each window's PSD comes from `scipy.signal.welch` with Hann segments of at most 1 s
    (50 % overlap); a frequency bin f counts for band [low, high) when low <= f < high.
    relative=True divides by the total power over all bands.
    Returns (..., n_windows, n_channels, n_bands).
    """
    x = _check(x)
    bands = BANDS if bands is None else bands
    starts, stops = window_bounds(x.shape[-1], sfreq, window, stride)
    size = int(stops[0] - starts[0])
    views = np.lib.stride_tricks.sliding_window_view(x, size, axis=-1)[..., starts, :]
    freqs, psd = signal.welch(views, fs=sfreq, nperseg=min(size, int(round(sfreq))), axis=-1)
    powers = []
    for low, high in bands.values():
        if high > sfreq / 2:
            raise ValueError(
                f"band ({low}, {high}) Hz lies above the Nyquist frequency {sfreq / 2} Hz"
            )
        in_band = (freqs >= low) & (freqs < high)
        if not in_band.any():
            raise ValueError(
                f"band ({low}, {high}) Hz holds no frequency bin at this window length"
            )
        powers.append(psd[..., in_band].mean(axis=-1))
    power = np.moveaxis(np.stack(powers, axis=-1), -2, -3)  # (..., windows, channels, bands)
    if relative:
        power = power / power.sum(axis=-1, keepdims=True)
    return power
