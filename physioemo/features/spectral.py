"""Spectral features per window: differential entropy (DE), band power and DE from the PSD.

Arrays are (..., n_channels, n_times); outputs are (..., n_windows, n_channels, n_bands).
Filtering happens once per whole trial (an SOS Butterworth band-pass per band, see
`bandpass_sos`), and windows are cut afterwards, so no window carries a filter start-up
transient of its own. The filtering runs in the Numba kernels of `_kernels`, fused with the
windowed variance, so the band-passed signals are never stored in full.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..windows import window_bounds

#: Default bands (Hz), lower edge inclusive, upper exclusive.
BANDS = {"theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0), "gamma": (30.0, 45.0)}
#: Butterworth order of each band-pass (ours; the SOS form keeps it stable at low bands). SEED's
#: published features and LibEER use 3 (`filter_order=3` of `differential_entropy` and the "de"
#: recipe); TorchEEG uses 5.
FILTER_ORDER = 4
#: Spectral estimators of `band_power`.
METHODS = ("welch", "fft", "multitaper")
#: Samples of a `band_power` block (bounds the temporary spectra to some 100 MB).
_BLOCK_SAMPLES = 1 << 23


@lru_cache(maxsize=64)
def bandpass_sos(sfreq: float, low: float, high: float, order: int = FILTER_ORDER) -> np.ndarray:
    """Second-order sections (n_sections, 6) of a Butterworth band-pass [low, high) Hz."""
    from scipy import signal

    nyquist = sfreq / 2
    if not 0 < low < high:
        raise ValueError(f"band ({low}, {high}) Hz must satisfy 0 < low < high")
    if high >= nyquist:
        raise ValueError(f"band ({low}, {high}) Hz reaches the Nyquist frequency {nyquist} Hz")
    return signal.butter(order, [low, high], btype="bandpass", fs=sfreq, output="sos")


def sosfiltfilt_padlen(sos: np.ndarray) -> int:
    """Samples of odd padding `scipy.signal.sosfiltfilt` adds at each end by default."""
    n_taps = 2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum())
    return 3 * int(n_taps)


def check_signal(x, name: str = "x") -> np.ndarray:
    """`x` as an array of shape (..., n_channels, n_times) holding only finite samples."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape (..., n_channels, n_times), got {x.shape}")
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN or infinite samples (first at index {where})"
        )
    return x


def check_bands(bands, sfreq: float) -> dict:
    """`bands` ({name: (low, high)} Hz, default `BANDS`) checked against the Nyquist frequency."""
    bands = BANDS if bands is None else dict(bands)
    if not bands:
        raise ValueError("bands is empty")
    for name, (low, high) in bands.items():
        if not 0 <= low < high:
            raise ValueError(f"bands[{name!r}] = ({low}, {high}) Hz must satisfy 0 <= low < high")
        if high > sfreq / 2:
            raise ValueError(
                f"bands[{name!r}] = ({low}, {high}) Hz lies above the Nyquist frequency "
                f"{sfreq / 2} Hz of sfreq={sfreq}"
            )
    return bands


def filter_bank(
    sfreq: float, bands: dict, order: int = FILTER_ORDER
) -> tuple[np.ndarray, np.ndarray]:
    """(sos, zi): (n_bands, n_sections, 6) Butterworth band-passes of `order` (`bandpass_sos`)
    and their `sosfilt_zi` (.., 2)."""
    from scipy import signal

    order = check_order(order)
    sos = np.stack(
        [bandpass_sos(float(sfreq), float(lo), float(hi), order) for lo, hi in bands.values()]
    )
    zi = np.stack([signal.sosfilt_zi(s) for s in sos])
    return sos, zi


def check_order(order) -> int:
    """`order` as the Butterworth order of a band-pass: an integer from 1 to 10."""
    if isinstance(order, (int, np.integer)) and not isinstance(order, bool) and 1 <= order <= 10:
        return int(order)
    raise ValueError(f"filter_order must be an integer from 1 to 10, got {order!r}")


def _window_points(n_times: int, starts: np.ndarray, stops: np.ndarray):
    """Kernel arguments describing the windows: point_index, n_points, start/stop points."""
    points = np.union1d(starts, stops)
    point_index = np.full(n_times + 1, -1, dtype=np.int64)
    point_index[points] = np.arange(points.size)
    return point_index, points.size, point_index[starts], point_index[stops]


def _as_signals(x: np.ndarray) -> np.ndarray:
    """(..., n_channels, n_times) -> contiguous (n_signals, n_channels, n_times)."""
    return np.ascontiguousarray(x.reshape(-1, *x.shape[-2:]))


def windowed_band_variance(
    x, sfreq, bands=None, window=1.0, stride=None, zero_phase=True, filter_order=FILTER_ORDER
):
    """Variance of each band-passed window: (..., n_windows, n_channels, n_bands) float64.

    zero_phase=True equals `scipy.signal.sosfiltfilt` (default odd padding) on the whole
    signal, False equals `scipy.signal.sosfilt` from zero initial state; both with
    `bandpass_sos` of `filter_order`, followed by the population variance (ddof=0) of each
    window.
    """
    from . import _kernels

    x = check_signal(x)
    sfreq = float(sfreq)
    bands = check_bands(bands, sfreq)
    n_times = x.shape[-1]
    starts, stops = window_bounds(n_times, sfreq, window, stride)
    size = int(stops[0] - starts[0])
    lowest = min((low for low, _ in bands.values() if low > 0), default=None)
    if lowest is not None and size < sfreq / lowest:
        raise ValueError(
            f"a window of {size} samples is shorter than one cycle of the lowest band edge "
            f"({lowest:g} Hz: {math.ceil(sfreq / lowest)} samples at {sfreq:g} Hz); its variance "
            "would not measure the band; lengthen the window"
        )
    sos, zi = filter_bank(sfreq, bands, filter_order)
    signals = _as_signals(x)
    points = _window_points(n_times, starts, stops)
    if zero_phase:
        pads = np.array([sosfiltfilt_padlen(s) for s in sos])
        if n_times <= pads.max():
            raise ValueError(
                f"x has {n_times} samples; zero-phase filtering needs more than {pads.max()} "
                f"(the padding of sosfiltfilt); use zero_phase=False or a longer signal"
            )
        var = _kernels.zero_phase_variance(signals, sos, zi, pads, *points, size)
    else:
        var = _kernels.causal_variance(signals, sos, *points, size)
    return var.reshape(*x.shape[:-2], *var.shape[1:])


def de_from_variance(variance, log_base=np.e) -> np.ndarray:
    """Gaussian differential entropy 0.5 * log(2 pi e variance), in units of `log_base`."""
    entropy = 0.5 * np.log(2 * np.pi * np.e * np.maximum(variance, 1e-30))
    return entropy if log_base == np.e else entropy / np.log(log_base)


def differential_entropy(
    x,
    sfreq,
    bands=None,
    window=1.0,
    stride=None,
    zero_phase=True,
    log_base=np.e,
    filter_order=FILTER_ORDER,
) -> np.ndarray:
    """DE = 0.5 * log(2 pi e var) of each band-passed window (Gaussian assumption).

    Args:
        x: (..., n_channels, n_times), any float dtype (computed in float64).
        sfreq: Hz. bands: {name: (low, high)} in Hz, default `BANDS`.
        window, stride: seconds (stride defaults to window).
        zero_phase: forward-backward filtering of the whole signal (`scipy.signal.sosfiltfilt`
            with its default padding) when True; causal filtering from zero initial state
            (`scipy.signal.sosfilt`, what a live stream can compute) when False.
        log_base: e (nats, the default) or e.g. 2 (bits, TorchEEG's convention).
        filter_order: Butterworth order of each band-pass (`FILTER_ORDER`, 4; SEED and LibEER
            use 3); zero-phase filtering applies it twice (the magnitude response squared).
    Returns:
        (..., n_windows, n_channels, n_bands) float64.
    """
    variance = windowed_band_variance(x, sfreq, bands, window, stride, zero_phase, filter_order)
    return de_from_variance(variance, log_base)


@lru_cache(maxsize=32)
def _tapers(method: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(tapers (n_tapers, n), weights (n_tapers,) summing to 1) of a spectral method."""
    from scipy import signal

    if method == "multitaper":
        # as MNE's psd_array_multitaper(adaptive=False, low_bias=True): periodic DPSS with
        # NW=4, tapers with concentration > 0.9, eigenspectra weighted by concentration
        tapers, ratios = signal.windows.dpss(n, 4.0, Kmax=8, sym=False, return_ratios=True)
        keep = ratios > 0.9
        return tapers[keep], ratios[keep] / ratios[keep].sum()
    return signal.get_window("hann", n)[None], np.ones(1)


def _band_matrix(freqs, bands: dict, n: int, sfreq: float, tapers) -> np.ndarray:
    """(n_freqs, n_bands) weights turning |rfft|**2 into the mean one-sided PSD of each band.

    Density scaling as `scipy.signal.welch`: 1 / (sfreq * sum(taper**2)), doubled except at
    DC and (for even n) Nyquist; a bin f belongs to the band [low, high) when low <= f < high.
    """
    scale = np.full(freqs.size, 2.0 / (sfreq * (tapers[0] ** 2).sum()))
    scale[0] /= 2
    if n % 2 == 0:
        scale[-1] /= 2
    matrix = np.zeros((freqs.size, len(bands)))
    for j, (name, (low, high)) in enumerate(bands.items()):
        in_band = (freqs >= low) & (freqs < high)
        if not in_band.any():
            raise ValueError(
                f"bands[{name!r}] = ({low}, {high}) Hz holds no frequency bin at a resolution of "
                f"{sfreq / n:g} Hz; lengthen the window"
            )
        matrix[in_band, j] = scale[in_band] / in_band.sum()
    return matrix


def band_power(
    x, sfreq, bands=None, window=1.0, stride=None, method="welch", relative=False
) -> np.ndarray:
    """Mean power spectral density (unit^2/Hz) in each band, per window.

    method:
        "welch": `scipy.signal.welch` of each window: Hann segments of min(window, 1 s),
            50 % overlap, constant detrend, density scaling, mean over segments.
        "fft": one Hann periodogram of the whole window (welch with one segment).
        "multitaper": DPSS tapers over the whole window (NW=4, concentration > 0.9),
            concentration-weighted mean of the eigenspectra, the window's mean removed; equal
            to MNE's psd_array_multitaper(adaptive=False, normalization="full").
    A frequency bin f counts for band [low, high) when low <= f < high; relative=True divides
    by the total over the bands. float32 input is transformed in float32.
    Returns (..., n_windows, n_channels, n_bands), float64.
    """
    import scipy.fft

    from . import _kernels

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    x = check_signal(x)
    sfreq = float(sfreq)
    bands = check_bands(bands, sfreq)
    n_channels, n_times = x.shape[-2:]
    starts, stops = window_bounds(n_times, sfreq, window, stride)
    size = int(stops[0] - starts[0])
    n = min(size, int(round(sfreq))) if method == "welch" else size
    step = n - n // 2
    offsets = (starts[:, None] + step * np.arange((size - n) // step + 1)).ravel()
    tapers, weights = _tapers(method, n)
    matrix = _band_matrix(np.fft.rfftfreq(n, 1 / sfreq), bands, n, sfreq, tapers)
    bins = np.flatnonzero(matrix.any(axis=1))
    signals = _as_signals(x)
    out = np.zeros((len(signals), len(starts), n_channels, len(bands)))
    block = max(1, _BLOCK_SAMPLES // (n_channels * len(offsets) * n))
    for first in range(0, len(signals), block):
        part = signals[first : first + block]
        for taper, weight in zip(tapers.astype(x.dtype), weights, strict=True):
            segments = _kernels.tapered_segments(part, offsets, taper)
            spectra = scipy.fft.rfft(segments, axis=-1, workers=1, overwrite_x=True)  # see _kernels
            _kernels.add_band_power(spectra, matrix[bins], bins, weight, out, first)
    if relative:
        out /= out.sum(axis=-1, keepdims=True)
    return out.reshape(*x.shape[:-2], *out.shape[1:])


def psd_de(
    x, sfreq, bands=None, window=1.0, stride=None, method="fft", log_base=np.e
) -> np.ndarray:
    """DE estimated from the spectrum, the SEED route: 0.5 * log(2 pi e * P * width).

    P is the band's mean PSD from `band_power` (unit^2/Hz) and width = high - low (Hz), so
    P * width is the band's variance and, for a Gaussian band-limited signal, the result
    estimates the same quantity as `differential_entropy`. (SEED's own files store
    log(mean |FFT|^2) up to a constant; the offset is a convention, this scale is ours.)
    Returns (..., n_windows, n_channels, n_bands).
    """
    bands = check_bands(bands, float(sfreq))
    power = band_power(x, sfreq, bands, window, stride, method=method)
    widths = np.array([high - low for low, high in bands.values()])
    return de_from_variance(power * widths, log_base)
