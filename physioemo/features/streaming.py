"""Causal features in chunks for live use, identical to offline causal features.

A `CausalFilterBank` carries the SOS state of every band across chunks, so filtering a stream
chunk by chunk gives the same samples as one `scipy.signal.sosfilt` call over the whole stream
(from zero initial state), and the windowed variance of its output gives the same DE as
``differential_entropy(x, sfreq, zero_phase=False)`` on the recorded stream. A
`StreamResampler` does the same for `scipy.signal.resample_poly`. A `PeripheralStream` gives
one modality's peripheral features (`physio`) as ``physio.window_values(..., causal=True)``
does for the recorded stream; `Windower` cuts the windows of all of them.
"""

from __future__ import annotations

import numpy as np

from ..windows import window_samples
from .physio import CausalFilters, segment_values
from .spectral import FILTER_ORDER, check_bands, check_signal, filter_bank

#: baseline handling a stream can reproduce, per feature kind (the live `Featuriser`'s)
LIVE_BASELINES = {"de": ("none", "subtract"), "raw": ("none", "zscore")}


class CausalFilterBank:
    """Band-pass filter bank (`bandpass_sos` per band) with state kept between chunks.

    Args:
        sfreq: Hz. n_channels: channels of every chunk. bands: {name: (low, high)} Hz.
        order: Butterworth order of each band-pass (the offline recipe's `filter_order`).
    Use `filter(chunk)` with chunks (n_channels, n_samples) in stream order; `reset()` starts
    a new stream.
    """

    def __init__(self, sfreq: float, n_channels: int, bands=None, order: int = FILTER_ORDER):
        self.sfreq = float(sfreq)
        self.n_channels = int(n_channels)
        self.bands = check_bands(bands, self.sfreq)
        self.sos, _ = filter_bank(self.sfreq, self.bands, order)
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


class StreamResampler:
    """Polyphase resampling of a stream in chunks: sample for sample what
    `scipy.signal.resample_poly` gives for the whole stream, each sample as soon as it is known.

    Args:
        sfreq_in, sfreq_out: Hz; their ratio is taken as up/down in lowest terms (denominator
            at most 1000). n_channels: channels of every chunk.
    The filter is resample_poly's default (FIR by `scipy.signal.firwin`, Kaiser window beta 5,
    half-length 10 * max(up, down) at the upsampled rate, zero phase); like resample_poly, the
    stream is taken as zero before its first sample. Output sample i is the sample at time
    i / sfreq_out; it needs input up to `input_index(i)`, so it arrives about `delay` seconds
    after its own time (the FIR's half length).
    """

    def __init__(self, sfreq_in: float, sfreq_out: float, n_channels: int):
        from fractions import Fraction

        from scipy.signal import firwin

        ratio = Fraction(sfreq_out / sfreq_in).limit_denominator(1000)
        self.up, self.down = ratio.numerator, ratio.denominator
        self.sfreq_out = float(sfreq_out)
        widest = max(self.up, self.down)
        half_len = 10 * widest
        taps = firwin(2 * half_len + 1, 1.0 / widest, window=("kaiser", 5.0)) * self.up
        pre_pad = self.down - half_len % self.down  # centres the outputs, as resample_poly does
        self.skip = (half_len + pre_pad) // self.down  # leading outputs resample_poly drops
        taps = np.concatenate([np.zeros(pre_pad), taps])
        n_taps = -(-len(taps) // self.up)
        padded = np.zeros(n_taps * self.up)
        padded[: len(taps)] = taps
        self.phases = padded.reshape(n_taps, self.up).T  # phases[p, q] = taps[p + q * up]
        self.history = np.zeros((n_channels, n_taps - 1))  # the last inputs, zeros at first
        self.n_in = 0  # input samples pushed
        self.n_out = 0  # outputs computed, the skipped ones included

    @property
    def delay(self) -> float:
        """Seconds between an output sample's time and the input that completes it (about)."""
        return self.skip / self.sfreq_out

    def input_index(self, i: int) -> int:
        """The input sample whose arrival completes output sample `i` (stream indices)."""
        return (i + self.skip) * self.down // self.up

    def push(self, chunk: np.ndarray, block: int = 1024) -> np.ndarray:
        """(n_channels, n) new input -> (n_channels, m) output samples completed by it."""
        chunk = np.asarray(chunk, dtype=float)
        known = np.concatenate([self.history, chunk], axis=1)
        first = self.n_in - self.history.shape[1]  # stream index of known[:, 0]
        self.n_in += chunk.shape[1]
        last = (self.n_in * self.up - 1) // self.down  # the last output the input determines
        outputs = []
        for start in range(self.n_out, last + 1, block):
            m = np.arange(start, min(start + block, last + 1))
            newest = m * self.down // self.up  # the newest input each output uses
            columns = (newest - first)[:, None] - np.arange(self.phases.shape[1])
            taps = self.phases[m * self.down % self.up]  # (n_outputs, n_taps)
            outputs.append(np.einsum("cmk,mk->cm", known[:, columns], taps))
        self.history = known[:, known.shape[1] - self.history.shape[1] :]
        done = np.concatenate(outputs, axis=1) if outputs else np.zeros((len(known), 0))
        kept = done[:, max(0, self.skip - self.n_out) :]
        self.n_out = max(self.n_out, last + 1)
        return kept


class Windower:
    """Windows of `size` samples every `step` samples of a stream, starting at sample 0.

    `push` returns (stop, window) pairs, stop being one past the window's last sample counted
    from the start of the stream; windows are views valid until the next push.
    """

    def __init__(self, size: int, step: int):
        self.size, self.step = size, step
        self.total = 0  # samples pushed so far
        self._buffer = None
        self._lo = self._hi = 0  # kept samples are buffer[..., lo:hi]
        self._first = 0  # stream index of buffer[..., lo]
        self._next = 0  # stream index where the next window starts

    @property
    def missing(self) -> int:
        """Samples still to come before the next window is complete."""
        return self._next + self.size - self.total

    def push(self, y: np.ndarray) -> list[tuple[int, np.ndarray]]:
        n = y.shape[-1]
        self._reserve(y.shape[:-1], n)
        self._buffer[..., self._hi : self._hi + n] = y
        self._hi += n
        self.total += n
        out = []
        while self._next + self.size <= self.total:
            at = self._lo + self._next - self._first
            out.append((self._next + self.size, self._buffer[..., at : at + self.size]))
            self._next += self.step
        done = min(self._next, self.total) - self._first
        self._lo += done
        self._first += done
        return out

    def _reserve(self, lead: tuple, n: int) -> None:
        kept = self._hi - self._lo
        if self._buffer is not None and self._hi + n <= self._buffer.shape[-1]:
            return
        capacity = max(2 * (kept + n), 4 * (self.size + self.step))
        buffer = np.empty((*lead, capacity))
        if self._buffer is not None:
            buffer[..., :kept] = self._buffer[..., self._lo : self._hi]
        self._buffer, self._lo, self._hi = buffer, 0, kept


class PeripheralStream:
    """One modality's features of a stream, window by window, as `physio.window_values(kernel,
    recorded stream, ..., causal=True)` gives them: the kernel's filters run chunk by chunk
    (`physio.CausalFilters` carries their state) and windows of `window` s every `stride` s
    are cut from the stream's first sample on.

    Args:
        kernel: a `physio.Kernel`. sfreq: the stream's rate (Hz). window, stride: seconds.
    `push(x)` takes (kernel.n_channels, n) new samples and returns (index, values) of the
    windows they complete, index counting windows from 0, values one float per kernel name.
    """

    def __init__(self, kernel, sfreq: float, window: float, stride: float | None = None):
        self.kernel, self.sfreq = kernel, float(sfreq)
        self.filters = CausalFilters(self.sfreq)
        size = window_samples(window, self.sfreq)
        self.windows = Windower(size, window_samples(stride or window, self.sfreq, "stride"))
        self.count = 0  # windows completed so far

    def push(self, x: np.ndarray) -> list[tuple[int, tuple]]:
        if x.shape[-1] == 0:
            return []
        out = []
        for _, segment in self.windows.push(self.kernel.condition(x, self.sfreq, self.filters)):
            out.append((self.count, segment_values(self.kernel, segment, self.sfreq)))
            self.count += 1
        return out
