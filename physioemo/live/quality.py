"""Signal quality of a live stream: non-finite samples held out, bad channels flagged."""

from __future__ import annotations

import numpy as np

#: A channel beyond this magnitude (uV) is railed: no scalp EEG reaches 0.1 V (ours).
RAIL_UV = 1e5


class Sanitiser:
    """Replaces non-finite samples by the channel's last finite one (they would poison the
    filter state for good) and remembers where they were, for `channel_quality`."""

    def __init__(self, n_channels: int):
        self.held = np.zeros(n_channels)  # last finite sample per channel
        self.last_bad = np.full(n_channels, -1)  # stream index of the last non-finite sample

    def clean(self, x: np.ndarray, first: int) -> np.ndarray:
        """(n_channels, n) samples whose first is stream sample `first`, made finite."""
        bad = ~np.isfinite(x)
        if bad.any():
            rows, cols = np.nonzero(bad)
            np.maximum.at(self.last_bad, rows, first + cols)
            padded = np.concatenate([self.held[:, None], x], axis=1)
            ok = np.concatenate([np.ones((len(x), 1), bool), ~bad], axis=1)
            source = np.maximum.accumulate(np.where(ok, np.arange(ok.shape[1]), 0), axis=1)
            x = np.take_along_axis(padded, source, axis=1)[:, 1:]
        if x.shape[1]:
            self.held = x[:, -1].copy()
        return x

    def had_bad(self, start: int) -> np.ndarray:
        """Per channel, whether a non-finite sample came at or after stream index `start`."""
        return self.last_bad >= start


def channel_quality(raw: np.ndarray, had_nan: np.ndarray, rail_uv: float = RAIL_UV) -> list[str]:
    """Per channel of a (n_channels, n) window: "nan", "railed" (|x| >= rail_uv or flat), "ok"."""
    railed = (np.abs(raw).max(axis=-1) >= rail_uv) | (np.ptp(raw, axis=-1) == 0)
    return ["nan" if n else "railed" if r else "ok" for n, r in zip(had_nan, railed, strict=True)]
