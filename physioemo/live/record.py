"""Recording a live stream: BrainFlow's own file format as it comes, a BDF+ on close.

The BrainFlow file (one tab-separated line per sample, every row of the board array, written
by `DataFilter.write_file`) is appended every `flush_seconds` and on close, so a stream that
ends by Ctrl-C or an error keeps every sample it polled. It replays through BrainFlow's
playback board. On close the EEG rows are also written as BDF+ (24-bit) beside it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from . import LiveError
from .board import brainflow


def write_bdf(path, data, ch_names, sfreq, start=None, equipment="") -> Path:
    """Write (n_channels, n_times) uV as BDF+ through `physioemo.io.edf.export`: 24-bit, each
    channel's physical range from its own data (no sample clipped), the whole recording
    annotated as one trial (pyedflib pads the last one-second record; the annotation marks where
    the recording ends). Non-finite samples are written as 0."""
    from ..io.edf import export
    from ..recording import Recording

    data = np.nan_to_num(np.asarray(data, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    meta = {"equipment": equipment, **({"start": start} if start is not None else {})}
    recording = Recording(data, sfreq, ch_names, subject="live", trial=1, meta=meta)
    return export([recording], path, format="bdf")


class Recorder:
    """Appends polled chunks (num_rows, n) to a BrainFlow file; BDF of the EEG rows on close.

    path: the BrainFlow file (e.g. ``session.csv``); the BDF goes to the same name with
    ``.bdf``. board: supplies eeg_rows, ch_names, sfreq, timestamp_row and name.
    """

    def __init__(self, path, board, flush_seconds=0.1):
        self.path = Path(path)
        if self.path.suffix.lower() in (".bdf", ".edf"):
            raise LiveError(
                f"--record {self.path}: give the BrainFlow file's name (e.g. session.csv); "
                "the BDF is written beside it"
            )
        self.bdf_path = self.path.with_suffix(".bdf")
        self.board = board
        self.flush_samples = max(1, int(flush_seconds * board.sfreq))
        self.samples = 0  # written to the file
        self._pending = []
        self._mode = "w"
        self.closed = False

    def append(self, chunk: np.ndarray) -> None:
        self._pending.append(chunk)
        if sum(c.shape[1] for c in self._pending) >= self.flush_samples:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        data = np.concatenate(self._pending, axis=1)
        brainflow()[1].DataFilter.write_file(np.ascontiguousarray(data), str(self.path), self._mode)
        self._mode = "a"
        self.samples += data.shape[1]
        self._pending = []

    def close(self) -> Path | None:
        """Flush, then write the BDF from the BrainFlow file; returns the BDF's path."""
        if self.closed:
            return None
        self.closed = True
        self.flush()
        if not self.samples:
            return None
        board = self.board
        data = brainflow()[1].DataFilter.read_file(str(self.path))
        start = dt.datetime.fromtimestamp(data[board.timestamp_row, 0]).replace(microsecond=0)
        return write_bdf(
            self.bdf_path, data[board.eeg_rows], board.ch_names, board.sfreq, start, board.name
        )
