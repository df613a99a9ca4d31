"""Buffers of a stream: the recent samples of every channel, and windows cut from a stream.

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
