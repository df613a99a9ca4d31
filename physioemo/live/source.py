"""One interface for everything the live pipeline reads from: BrainFlow boards (a headset, the
synthetic board, BrainFlow's playback of a recorded file), Lab Streaming Layer streams, or a
lab's own device.

A source describes its streams before it starts: `streams` lists every `Stream` it has (EEG,
ECG, EDA, PPG, temperature, respiration, acceleration, each at its own rate and in its own
unit), the main one first, which `ch_names`, `ch_types` and `sfreq` describe too. It then hands
over whatever arrived since the last `read` as a `Chunk`: the main stream's samples, and the
other streams' in `Chunk.others`, all stamped on one clock (`time.time()`'s). Anything with
these attributes and methods works (a source without `streams` has one stream, its main one);
`SOURCES` lists the built-in ones (the CLI's ``--source``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Protocol

import numpy as np

from . import LiveError

#: modality -> the unit of its samples in a `Chunk` (voltages in uV; BrainFlow's units)
UNITS = {
    "eeg": "uV",
    "ecg": "uV",
    "eda": "uS",
    "ppg": "a.u.",
    "temp": "degC",
    "resp": "a.u.",
    "acc": "g",
}


@dataclass(frozen=True)
class Stream:
    """One stream of a source: one modality at its own rate.

    name: unique within the source (the modality's name, e.g. "eeg", "eda", "ppg"); kind: the
    modality (a key of `UNITS`, or another MNE channel type); ch_names: its channels; sfreq:
    its rate in Hz; unit: of its samples.
    """

    name: str
    kind: str
    ch_names: tuple[str, ...]
    sfreq: float
    unit: str

    def describe(self) -> str:
        """e.g. "ppg 2 ch 25 Hz (a.u.)"."""
        return f"{self.name} {len(self.ch_names)} ch {self.sfreq:g} Hz ({self.unit})"


@dataclass
class Chunk:
    """The samples a source delivered in one read.

    data: (n_channels, n) float64, voltages in microvolts, other channels in their own units.
    timestamps: (n,) unix seconds (`time.time()`'s clock) at which each sample was acquired,
        as well as the source knows.
    dropped: samples the source knows it lost before this chunk (0 when it cannot tell).
    native: the source's own block for `record.Recorder` (e.g. BrainFlow's full board array,
        so the recording replays through BrainFlow); None: record `data` and `timestamps`.
    others: the samples of the source's other streams in this read, by stream name (each a
        Chunk of that stream).
    """

    data: np.ndarray
    timestamps: np.ndarray
    dropped: int = 0
    native: np.ndarray | None = None
    others: dict[str, Chunk] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.data.shape[1]


class Source(Protocol):
    """What the live stream needs from a source.

    Attributes:
        name: one line for the view and summary, e.g. "Synthetic board (16 EEG channels, 250 Hz)".
        streams: every `Stream`, the main one (`Chunk.data`) first; optional (default: the main
            stream alone, see `streams_of`).
        ch_names, ch_types: the rows of `Chunk.data`; types as MNE names them ("eeg", "ecg", ...).
        sfreq: nominal sampling rate in Hz of the main stream.
        n_samples: samples of the main stream a finite source (a file) will deliver in all; None
            for a live one. The stream stops when they are in, or when a finite source falls
            silent.
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


def streams_of(source) -> list[Stream]:
    """The source's `streams`; a source without them has one, its main stream (named after
    its first channel type)."""
    streams = getattr(source, "streams", None)
    if streams:
        return list(streams)
    kind = source.ch_types[0] if source.ch_types else "eeg"
    unit = UNITS.get(kind, "a.u.")
    return [Stream(kind, kind, tuple(source.ch_names), float(source.sfreq), unit)]


def parts(chunk: Chunk, main: str) -> dict[str, Chunk]:
    """Every stream's part of a read, by name: the main stream (`main`) and `chunk.others`."""
    return {main: chunk, **chunk.others}


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
