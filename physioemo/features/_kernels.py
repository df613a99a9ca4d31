"""Numba kernels: an SOS filter bank fused with windowed variance, and band-power helpers.

Compiled on first call (``cache=True`` keeps the machine code on disk), never at import: this
module is imported only inside the functions that need it.

Conventions shared by the kernels:

* ``x`` is (n_signals, n_channels, n_times), float32 or float64; the filter kernels compute in
  float64, the band-power kernels in the dtype of ``x``.
* ``sos`` is (n_bands, n_sections, 6) with ``a0 == 1``; ``zi`` is (n_bands, n_sections, 2), the
  steady-state initial conditions of `scipy.signal.sosfilt_zi` for a unit step.
* Windows are given through *points*: the sorted sample positions where windows start or stop
  (0..n_times). The kernels keep running sums of y and y**2 at those points only, and a window's
  sums are the difference of two of them, so no band-passed signal is kept in full.
* The inner loops run over channels (contiguous in the scratch layout), so LLVM vectorises them.
* Threads only where they pay: the filter kernels (DE) run their (signal, band) tasks on every
  core (`prange`); the band-power kernels run on one thread, as does their FFT: memory-bound,
  they burned 15-50 % more CPU on two threads and were no faster (`benchmarks/features.py`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_BLOCK = 64  # samples transposed at a time, so the channel loops read contiguous memory
#: fused multiply-add only, no reassociation: results stay within rounding of SciPy's
_FAST = {"contract"}


@njit(cache=True, inline="always", fastmath=_FAST)
def _transpose(signal, start, stop, out):
    """out[t - start, c] = signal[c, t] for start <= t < stop."""
    for t in range(start, stop):
        for c in range(signal.shape[0]):
            out[t - start, c] = signal[c, t]


@njit(cache=True, inline="always", fastmath=_FAST)
def _sos_step(row, sos, z0, z1):
    """Filter one sample of every channel through all sections, in place.

    row: (n_channels,) input, overwritten by the output; z0, z1: (n_sections, n_channels)
    state, updated as `scipy.signal.sosfilt` does (transposed direct form II).
    """
    for s in range(sos.shape[0]):
        b0, b1, b2, a1, a2 = sos[s, 0], sos[s, 1], sos[s, 2], sos[s, 4], sos[s, 5]
        state0, state1 = z0[s], z1[s]  # 1-d views, which LLVM vectorises over channels
        for c in range(row.shape[0]):
            v = row[c]
            y = b0 * v + state0[c]
            state0[c] = b1 * v - a1 * y + state1[c]
            state1[c] = b2 * v - a2 * y
            row[c] = y


@njit(cache=True, inline="always")
def _odd_extended(signal, pad, t, row):
    """row[c] = sample t of signal[c] extended by `pad` samples of odd symmetry at each end
    (scipy.signal's odd_ext); signal: (n_channels, n_times)."""
    n_times = signal.shape[1]
    i = t - pad
    if i < 0:
        for c in range(row.shape[0]):
            row[c] = 2.0 * signal[c, 0] - signal[c, -i]
    elif i < n_times:
        for c in range(row.shape[0]):
            row[c] = signal[c, i]
    else:
        for c in range(row.shape[0]):
            row[c] = 2.0 * signal[c, n_times - 1] - signal[c, 2 * n_times - 2 - i]


@njit(cache=True, inline="always")
def _steady_state(zi, first, z):
    """z[k, s, c] = zi[s, k] * first[c]: sosfilt_zi scaled to each channel's first sample."""
    for k in range(2):
        for s in range(zi.shape[0]):
            for c in range(first.shape[0]):
                z[k, s, c] = zi[s, k] * first[c]


@njit(cache=True, inline="always", fastmath=_FAST)
def _accumulate(row, acc, acc2):
    """acc[c] += row[c] and acc2[c] += row[c] ** 2: the running sums of y and y**2."""
    for c in range(row.shape[0]):
        acc[c] += row[c]
        acc2[c] += row[c] * row[c]


@njit(cache=True, inline="always")
def _keep_sums(p, acc, acc2, sums, squares):
    """sums[p], squares[p] = acc, acc2 when the sample position is a point (p >= 0)."""
    if p >= 0:
        sums[p, :] = acc
        squares[p, :] = acc2


@njit(cache=True, inline="always", fastmath=_FAST)
def _window_variance(sums, squares, upper, lower, size, out_n, band, out):
    """out[w, c, band] = variance of window w, whose sums are sums[upper[w]] - sums[lower[w]]."""
    for w in range(upper.shape[0]):
        for c in range(sums.shape[1]):
            total = sums[upper[w], c] - sums[lower[w], c]
            power = squares[upper[w], c] - squares[lower[w], c]
            mean = total / size
            out[out_n, w, c, band] = power / size - mean * mean


@njit(cache=True, parallel=True, fastmath=_FAST)
def zero_phase_variance(x, sos, zi, pads, point_index, n_points, start_point, stop_point, size):
    """Windowed variance of ``sosfiltfilt(sos[b], x)`` (odd padding of ``pads[b]`` samples).

    point_index: (n_times + 1,) index of each sample position among the n_points points, -1
    elsewhere. start_point, stop_point: (n_windows,) point indices of each window's start and
    stop; size: samples per window.
    Returns (n_signals, n_windows, n_channels, n_bands) float64.
    """
    n_signals, n_channels, n_times = x.shape
    n_bands, n_sections = sos.shape[0], sos.shape[1]
    out = np.empty((n_signals, start_point.shape[0], n_channels, n_bands))
    for task in prange(n_signals * n_bands):
        n, b = task // n_bands, task % n_bands
        pad = pads[b]
        length = n_times + 2 * pad
        buf = np.empty((length, n_channels))
        for t in range(length):
            _odd_extended(x[n], pad, t, buf[t])
        z = np.empty((2, n_sections, n_channels))
        _steady_state(zi[b], buf[0], z)
        for t in range(length):
            _sos_step(buf[t], sos[b], z[0], z[1])
        row = np.empty(n_channels)
        _steady_state(zi[b], buf[length - 1], z)
        sums = np.zeros((n_points, n_channels))
        squares = np.zeros((n_points, n_channels))
        acc = np.zeros(n_channels)
        acc2 = np.zeros(n_channels)
        for t in range(length - 1, -1, -1):  # the backward output is summed, never stored
            row[:] = buf[t]
            _sos_step(row, sos[b], z[0], z[1])
            i = t - pad
            if 0 <= i < n_times:
                _accumulate(row, acc, acc2)
                _keep_sums(point_index[i], acc, acc2, sums, squares)
        # suffix sums: a window [start, stop) holds suffix[start] - suffix[stop]
        _window_variance(sums, squares, start_point, stop_point, size, n, b, out)
    return out


@njit(cache=True, parallel=True, fastmath=_FAST)
def causal_variance(x, sos, point_index, n_points, start_point, stop_point, size):
    """Windowed variance of ``sosfilt(sos[b], x)`` from zero initial state.

    Arguments as in `zero_phase_variance`; returns (n_signals, n_windows, n_channels, n_bands).
    """
    n_signals, n_channels, n_times = x.shape
    n_bands, n_sections = sos.shape[0], sos.shape[1]
    out = np.empty((n_signals, start_point.shape[0], n_channels, n_bands))
    for task in prange(n_signals * n_bands):
        n, b = task // n_bands, task % n_bands
        z = np.zeros((2, n_sections, n_channels))
        block = np.empty((_BLOCK, n_channels))
        sums = np.zeros((n_points, n_channels))
        squares = np.zeros((n_points, n_channels))
        acc = np.zeros(n_channels)
        acc2 = np.zeros(n_channels)
        for t0 in range(0, n_times, _BLOCK):
            stop = min(t0 + _BLOCK, n_times)
            _transpose(x[n], t0, stop, block)
            for t in range(t0, stop):
                _keep_sums(point_index[t], acc, acc2, sums, squares)
                row = block[t - t0]
                _sos_step(row, sos[b], z[0], z[1])
                _accumulate(row, acc, acc2)
        _keep_sums(point_index[n_times], acc, acc2, sums, squares)
        # prefix sums: a window [start, stop) holds prefix[stop] - prefix[start]
        _window_variance(sums, squares, stop_point, start_point, size, n, b, out)
    return out


@njit(cache=True, fastmath=_FAST)
def causal_filter_chunk(x, sos, z):
    """Filter a chunk through every band, carrying the state ``z`` in place.

    x: (n_channels, n_times); sos: (n_bands, n_sections, 6);
    z: (n_bands, 2, n_sections, n_channels) float64 state (zeros at the start of a stream).
    Returns (n_bands, n_channels, n_times) float64, equal to one-shot `scipy.signal.sosfilt`
    over the concatenated chunks.
    """
    n_channels, n_times = x.shape
    out = np.empty((sos.shape[0], n_channels, n_times))
    row = np.empty(n_channels)
    for b in range(sos.shape[0]):
        for t in range(n_times):
            for c in range(n_channels):
                row[c] = x[c, t]
            _sos_step(row, sos[b], z[b, 0], z[b, 1])
            for c in range(n_channels):
                out[b, c, t] = row[c]
    return out


@njit(cache=True, fastmath={"contract", "reassoc"})
def tapered_segments(x, offsets, taper):
    """Segments detrended (mean removed) and tapered, ready for an FFT.

    x: (n_signals, n_channels, n_times); offsets: (n_segments,) start samples;
    taper: (n,) in the dtype of x. Returns (n_signals, n_channels, n_segments, n), dtype of x.
    """
    n_signals, n_channels = x.shape[0], x.shape[1]
    n = taper.shape[0]
    out = np.empty((n_signals, n_channels, offsets.shape[0], n), dtype=x.dtype)
    for task in range(n_signals * n_channels):
        i, c = task // n_channels, task % n_channels
        for k in range(offsets.shape[0]):
            segment = x[i, c, offsets[k] : offsets[k] + n]
            mean = 0.0
            for t in range(n):
                mean += segment[t]
            mean /= n
            for t in range(n):
                out[i, c, k, t] = (segment[t] - mean) * taper[t]
    return out


@njit(cache=True)
def add_band_power(spectra, matrix, bins, weight, out, first):
    """out[first + i, w, c, b] += weight * mean over window w's segments of the band power.

    spectra: (n, n_channels, n_windows * n_segments, n_freqs) complex rfft of the segments of
    n signals, window-major; matrix: (n_used, n_bands) weights of the |X|**2 of the bins
    ``bins`` (n_used,); out: (n_signals, n_windows, n_channels, n_bands) float64.
    """
    n, n_channels = spectra.shape[0], spectra.shape[1]
    n_windows, n_bands = out.shape[1], out.shape[3]
    per_window = spectra.shape[2] // n_windows
    scale = weight / per_window
    for task in range(n * n_channels):
        i, c = task // n_channels, task % n_channels
        for w in range(n_windows):
            for k in range(w * per_window, (w + 1) * per_window):
                for j in range(bins.shape[0]):
                    v = spectra[i, c, k, bins[j]]
                    power = scale * (v.real * v.real + v.imag * v.imag)
                    for b in range(n_bands):
                        out[first + i, w, c, b] += matrix[j, b] * power
