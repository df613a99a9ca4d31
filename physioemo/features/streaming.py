"""Causal filtering in chunks for live use, identical to offline causal features.

A `CausalFilterBank` carries the SOS state of every band across chunks, so filtering a stream
chunk by chunk gives the same samples as one `scipy.signal.sosfilt` call over the whole stream
(from zero initial state), and the windowed variance of its output gives the same DE as
``differential_entropy(x, sfreq, zero_phase=False)`` on the recorded stream.
"""

from __future__ import annotations

import numpy as np

from .spectral import check_bands, check_signal, filter_bank


class CausalFilterBank:
    """Band-pass filter bank (`bandpass_sos` per band) with state kept between chunks.

    Args:
        sfreq: Hz. n_channels: channels of every chunk. bands: {name: (low, high)} Hz.
    Use `filter(chunk)` with chunks (n_channels, n_samples) in stream order; `reset()` starts
    a new stream.
    """

    def __init__(self, sfreq: float, n_channels: int, bands=None):
        self.sfreq = float(sfreq)
        self.n_channels = int(n_channels)
        self.bands = check_bands(bands, self.sfreq)
        self.sos, _ = filter_bank(self.sfreq, self.bands)
        self.reset()

    def reset(self) -> None:
        """Zero the filter state, as at the start of a stream."""
        n_bands, n_sections = self.sos.shape[:2]
        self.state = np.zeros((n_bands, 2, n_sections, self.n_channels))

    def filter(self, chunk) -> np.ndarray:
        """(n_channels, n_samples) -> band-passed (n_bands, n_channels, n_samples) float64."""
        from . import _kernels

        chunk = check_signal(chunk, "chunk")
        if chunk.ndim != 2 or chunk.shape[0] != self.n_channels:
            raise ValueError(
                f"chunk must have shape ({self.n_channels}, n_samples), got {chunk.shape}"
            )
        return _kernels.causal_filter_chunk(np.ascontiguousarray(chunk), self.sos, self.state)
