"""The recent samples of a stream (`RingBuffer`) within a fixed byte budget, and the bounds a
stream's declaration is checked against before anything is allocated for it; windows cut from
a stream are `features.streaming.Windower`'s.

Stream indices count samples from the first one the source delivered.
"""

from __future__ import annotations

import numpy as np

from ..datasets._checks import MAX_RATE
from . import LiveError

#: most bytes one ring buffer holds (ours): 2 s of 1024 channels at 4096 Hz
BUFFER_BYTES = 64 * 2**20
#: most channels a stream may declare (as many as a checkpoint's model may take)
CHANNEL_LIMIT = 1024
#: highest rate (Hz) a stream may declare (as for a dataset file or a checkpoint)
RATE_LIMIT = MAX_RATE
#: seconds of every stream a live buffer must be able to hold
LEAST_SECONDS = 2.0


def check_declared(what: str, n_channels: int, sfreq: float) -> None:
    """Refuse, in one LiveError line naming the field and the limit, a stream (`what`, e.g.
    "LSL stream 'x'") that declares more than `CHANNEL_LIMIT` channels, a rate above
    `RATE_LIMIT`, or `LEAST_SECONDS` of samples that do not fit `BUFFER_BYTES`."""
    if not 0 < n_channels <= CHANNEL_LIMIT:
        raise LiveError(
            f"{what}: field channel_count: declares {n_channels:,} channels; the limit is "
            f"{CHANNEL_LIMIT:,}"
        )
    if not 0 < sfreq <= RATE_LIMIT:
        raise LiveError(
            f"{what}: field nominal_srate: declares {sfreq:,.10g} Hz; the limit is "
            f"{RATE_LIMIT:,.0f} Hz"
        )
    capacity(what, n_channels, sfreq, LEAST_SECONDS, int(LEAST_SECONDS * sfreq))


def capacity(what: str, n_channels: int, sfreq: float, seconds: float, least: int = 0) -> int:
    """Samples a ring buffer of `seconds` of a stream holds: seconds x sfreq + 1, at least
    `least`, cut to `BUFFER_BYTES`; LiveError naming the stream and the budget when `least`
    samples do not fit."""
    fits = BUFFER_BYTES // (8 * max(n_channels, 1))
    if least > fits:
        raise LiveError(
            f"{what}: {least:,} samples of {n_channels:,} channels at {sfreq:,.10g} Hz need "
            f"{8 * least * n_channels / 2**20:,.0f} MiB; a live buffer holds at most "
            f"{BUFFER_BYTES // 2**20} MiB (fields channel_count and nominal_srate)"
        )
    return min(max(int(seconds * sfreq) + 1, least), fits)


class RingBuffer:
    """The last `capacity` samples of (n_channels, ...) float64 data, addressed by stream
    index; at most `BUFFER_BYTES`.

    `push` appends; `window(stop, size)` returns samples [stop - size, stop) when they are
    still held (a view when they do not wrap around, valid until the next push); `latest(n)`
    the newest n. Not thread-safe: readers in another thread copy
    `latest` and may see a chunk half written (the web view draws them, nothing computes on
    them).
    """

    def __init__(self, n_channels: int, capacity: int):
        if 8 * n_channels * capacity > BUFFER_BYTES:
            raise ValueError(
                f"a ring buffer of {n_channels} x {capacity} samples exceeds "
                f"{BUFFER_BYTES // 2**20} MiB (`capacity` gives what fits)"
            )
        self.data = np.zeros((n_channels, capacity))
        self.capacity = capacity
        self.total = 0  # samples pushed so far

    def push(self, x: np.ndarray) -> None:
        """Append (n_channels, n) samples; more than `capacity` keeps the newest."""
        n = x.shape[1]
        if n > self.capacity:
            self.total += n - self.capacity
            x, n = x[:, n - self.capacity :], self.capacity
        at = self.total % self.capacity
        first = min(n, self.capacity - at)  # up to the end of the array, the rest from its start
        self.data[:, at : at + first] = x[:, :first]
        self.data[:, : n - first] = x[:, first:]
        self.total += n

    def window(self, stop: int, size: int) -> np.ndarray:
        """(n_channels, size) samples [stop - size, stop) of the stream."""
        if stop > self.total or stop - size < self.total - self.capacity or size > stop:
            raise IndexError(
                f"samples {stop - size}-{stop} are not held (held: "
                f"{max(0, self.total - self.capacity)}-{self.total})"
            )
        start = (stop - size) % self.capacity
        if start + size <= self.capacity:
            return self.data[:, start : start + size]
        return np.concatenate(
            [self.data[:, start:], self.data[:, : start + size - self.capacity]], 1
        )

    def latest(self, n: int) -> np.ndarray:
        """The newest min(n, held) samples, oldest first."""
        n = min(n, self.total, self.capacity)
        return self.window(self.total, n)
