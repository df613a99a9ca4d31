"""The recent samples of a stream (`RingBuffer`); windows cut from a stream are
`features.streaming.Windower`'s.

Stream indices count samples from the first one the source delivered.
"""

from __future__ import annotations

import numpy as np


class RingBuffer:
    """The last `capacity` samples of (n_channels, ...) data, addressed by stream index.

    `push` appends; `window(stop, size)` returns samples [stop - size, stop) when they are
    still held (a view when they do not wrap around, valid until the next push); `latest(n)`
    the newest n. Not thread-safe: readers in another thread copy
    `latest` and may see a chunk half written (the web view draws them, nothing computes on
    them).
    """

    def __init__(self, n_channels: int, capacity: int):
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
