"""Recording a live stream: BrainFlow's file format as it comes, a BDF+ on close.

The file (one tab-separated line per sample, written by BrainFlow's `DataFilter.write_file`)
is appended every `flush_seconds` and on close, so a stream that ends by Ctrl-C, SIGTERM or an
error keeps every sample it read. For a BrainFlow source it holds every row of the board
array and replays through BrainFlow's playback board; for other sources its rows are the
channels, then the timestamps. On close the channels are also written as BDF+ (24-bit) beside
it. An existing recording is never overwritten: the next free name is taken (``s01-2.csv``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from . import LiveError
from .board import brainflow

#: Units of the typed channels a source delivers (`source.Chunk`: voltages in uV).
VOLTAGE_UNITS = {"ecg": "uV", "emg": "uV", "eog": "uV"}


def free_path(path: Path) -> Path:
    """`path`, or ``<stem>-2<suffix>``, ``-3`` ... : the first name that neither exists nor
    has a BDF beside it, created empty here (so the name is ours and writable).

    Raises LiveError in one line when the folder is missing or not writable.
    """
    for number in range(1, 10_000):
        candidate = path if number == 1 else path.with_name(f"{path.stem}-{number}{path.suffix}")
        if candidate.with_suffix(".bdf").exists():
            continue
        try:
            with open(candidate, "x"):
                return candidate
        except FileExistsError:
            continue
        except OSError as error:
            raise LiveError(f"--record {path}: cannot write there ({error.strerror})") from None
    raise LiveError(f"--record {path}: 9,999 recordings of that name exist already")


def reserve(path) -> Path:
    """The name a recording asked for as `path` will have (`free_path`), created empty."""
    path = Path(path)
    if path.suffix.lower() in (".bdf", ".edf"):
        raise LiveError(
            f"--record {path}: give the BrainFlow file's name (e.g. session.csv); "
            "the BDF is written beside it"
        )
    return free_path(path)


def write_bdf(path, data, ch_names, sfreq, start=None, equipment="", ch_types=None) -> Path:
    """Write (n_channels, n_times) samples as BDF+ through `physioemo.io.edf.export`: 24-bit,
    each channel's physical range from its own data (no sample clipped), the whole recording
    annotated as one trial (pyedflib pads the last one-second record; the annotation marks where
    the recording ends). Channels whose `ch_types` entry is not "eeg" are written as typed
    signals (e.g. "ECG ECG1"). Voltages in uV; non-finite samples are written as 0."""
    from ..io.edf import export
    from ..recording import Recording, Signal

    data = np.nan_to_num(np.asarray(data, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    ch_types = list(ch_types or ["eeg"] * len(ch_names))
    eeg = [i for i, t in enumerate(ch_types) if t == "eeg"]
    extra = {
        f"{t}_{i}": Signal(data[[i]], sfreq, [ch_names[i]], VOLTAGE_UNITS.get(t, "a.u."), t)
        for i, t in enumerate(ch_types)
        if t != "eeg"
    }
    meta = {"equipment": equipment, **({"start": start} if start is not None else {})}
    names = [ch_names[i] for i in eeg]
    recording = Recording(data[eeg], sfreq, names, "live", trial=1, extra=extra, meta=meta)
    return export([recording], path, format="bdf")


class Recorder:
    """Appends read chunks to a BrainFlow-format file; BDF of the channels on close.

    path: the file's name (e.g. ``session.csv``), made free by `reserve` unless `reserved`
    (it was reserved already); `path` is the name actually used, the BDF goes to the same
    name with ``.bdf``. source: a `source.Source` (name, ch_names, ch_types, sfreq,
    native_layout).
    """

    def __init__(self, path, source, flush_seconds=0.1, reserved=False):
        self.path = Path(path) if reserved else reserve(path)
        self.bdf_path = self.path.with_suffix(".bdf")
        self.source = source
        self.flush_samples = max(1, int(flush_seconds * source.sfreq))
        self.samples = 0  # written to the file
        self._pending = []
        self.closed = False

    def append(self, chunk) -> None:
        block = chunk.native
        if block is None:
            block = np.vstack([chunk.data, chunk.timestamps])
        self._pending.append(block)
        if sum(b.shape[1] for b in self._pending) >= self.flush_samples:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        data = np.ascontiguousarray(np.concatenate(self._pending, axis=1))
        brainflow()[1].DataFilter.write_file(data, str(self.path), "a")
        self._pending = []
        self.samples += data.shape[1]

    def layout(self) -> tuple[list[int], int]:
        """(channel rows, timestamp row) of the file."""
        n = len(self.source.ch_names)
        return self.source.native_layout or (list(range(n)), n)

    def close(self) -> Path | None:
        """Flush, then write the BDF from the file; returns the BDF's path (None, and no
        files left, when nothing was recorded)."""
        if self.closed:
            return None
        self.closed = True
        self.flush()
        if not self.samples:
            self.path.unlink(missing_ok=True)
            return None
        source = self.source
        rows, timestamp_row = self.layout()
        data = brainflow()[1].DataFilter.read_file(str(self.path))
        start = dt.datetime.fromtimestamp(data[timestamp_row, 0]).replace(microsecond=0)
        return write_bdf(
            self.bdf_path,
            data[rows],
            source.ch_names,
            source.sfreq,
            start,
            getattr(source, "device", source.name),
            source.ch_types,
        )
