"""One interface for everything the live pipeline reads from: BrainFlow boards (a headset, the
synthetic board, BrainFlow's playback of a recorded file), Lab Streaming Layer streams, or a
lab's own device.

A source describes its channels before it starts (`ch_names`, `ch_types` in MNE's names,
`sfreq`), then hands over whatever arrived since the last `read` as a `Chunk`. Anything with
these attributes and methods works; `SOURCES` lists the built-in ones (the CLI's ``--source``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Protocol

import numpy as np

from . import LiveError


@dataclass
class Chunk:
    """The samples a source delivered in one read.

    data: (n_channels, n) float64, voltages in microvolts, other channels in their own units.
    timestamps: (n,) unix seconds (`time.time()`'s clock) at which each sample was acquired,
        as well as the source knows.
    dropped: samples the source knows it lost before this chunk (0 when it cannot tell).
    native: the source's own block for `record.Recorder` (e.g. BrainFlow's full board array,
        so the recording replays through BrainFlow); None: record `data` and `timestamps`.
    """

    data: np.ndarray
    timestamps: np.ndarray
    dropped: int = 0
    native: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.data.shape[1]


class Source(Protocol):
    """What the live stream needs from a source.

    Attributes:
        name: one line for the view and summary, e.g. "Synthetic board (16 EEG channels, 250 Hz)".
        ch_names, ch_types: the rows of `Chunk.data`; types as MNE names them ("eeg", "ecg", ...).
        sfreq: nominal sampling rate in Hz.
        n_samples: samples a finite source (a file) will deliver in all; None for a live one.
            The stream stops when they are in, or when a finite source falls silent.
        drop_detection: how `Chunk.dropped` is found, for the summary.
        native_layout: (data rows, timestamp row) of `Chunk.native`, or None without it.
    """

    name: str
    ch_names: list[str]
    ch_types: list[str]
    sfreq: float
    n_samples: int | None
    drop_detection: str
    native_layout: tuple[list[int], int] | None

    def start(self) -> None:
        """Connect and start streaming; raise `live.BoardError` with what to check."""

    def read(self) -> Chunk:
        """Everything that arrived since the last read (possibly nothing), without blocking."""

    def stop(self) -> None:
        """Stop streaming and release the device; safe to call twice or after a failure."""


#: Built-in sources: name -> (module, class, what it reads). Each class builds itself from the
#: live command's options: ``from_options(options, ch_names)``.
SOURCES = {
    "brainflow": ("physioemo.live.board", "Board", "a BrainFlow board or playback (--board)"),
    "lsl": ("physioemo.live.lsl", "LSLSource", "a Lab Streaming Layer stream (--stream)"),
}


def open_source(options) -> Source:
    """The source `options.source` names (not yet streaming), built from the live command's
    options (`live.app.LiveOptions`); "channels" renames its channels."""
    if options.source not in SOURCES:
        raise LiveError(f"unknown source {options.source!r}; available: {', '.join(SOURCES)}")
    module, name, _ = SOURCES[options.source]
    names = options.channels.replace(",", " ").split() if options.channels else None
    return getattr(import_module(module), name).from_options(options, names)
