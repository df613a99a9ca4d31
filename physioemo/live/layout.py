"""A BrainFlow board's streams from its descriptors, and the samples it lost.

BrainFlow describes every preset of a board (default, auxiliary, ancillary) on its own
(`BoardShim.get_board_descr(board_id, preset)`): its rows by type, rate, timestamp and
package-counter rows. `board_layout` turns them into `source.Stream`s: EEG, ECG, EDA, PPG,
temperature and acceleration (`DESCRIPTOR_KINDS`), each at its preset's rate. A modality is
taken from the first preset that has it (the synthetic board's auxiliary preset repeats the
EDA, PPG, temperature and accelerometer of its default one), and rows BrainFlow lists as ECG
that are also its EEG rows are EEG (a generic ExG board lists every electrode under each ExG
type). BrainFlow has no respiration type, so no board streams respiration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import BoardError
from .source import UNITS, Stream

#: BrainFlow descriptor key -> the modality of its rows (`source.UNITS`)
DESCRIPTOR_KINDS = {
    "eeg_channels": "eeg",
    "ecg_channels": "ecg",
    "eda_channels": "eda",
    "ppg_channels": "ppg",
    "temperature_channels": "temp",
    "accel_channels": "acc",
}
#: BrainFlow's presets by value, with the name of their playback file's suffix
PRESET_NAMES = {0: "default", 1: "aux", 2: "anc"}
#: Package counters of BrainFlow boards wrap at 256.
COUNTER_MODULUS = 256


@dataclass
class Preset:
    """One preset of a board: its number (BrainFlow's `BrainFlowPresets` value), rate (Hz),
    rows, timestamp and package-counter rows, and which rows hold which stream (by name)."""

    preset: int
    sfreq: float
    num_rows: int
    timestamp_row: int
    package_row: int | None
    rows: dict[str, list[int]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return PRESET_NAMES.get(self.preset, str(self.preset))


def board_layout(descriptors: dict[int, dict], ch_names=None, device="board"):
    """(presets that hold a stream, streams, main stream's name) from BrainFlow's descriptors
    {preset value: descriptor} of one board. The main stream is the EEG, else the first one
    found. ch_names: names of the EEG rows (default: BrainFlow's, else EEG1, EEG2, ...)."""
    presets, streams = [], []
    for value in sorted(descriptors):
        descr = descriptors[value]
        preset = Preset(
            value,
            float(descr["sampling_rate"]),
            int(descr["num_rows"]),
            int(descr["timestamp_channel"]),
            descr.get("package_num_channel"),
        )
        taken = {stream.kind for stream in streams}
        eeg_rows = set(descr.get("eeg_channels", []))
        for key, kind in DESCRIPTOR_KINDS.items():
            rows = list(descr.get(key, []))
            if kind == "ecg":
                rows = [row for row in rows if row not in eeg_rows]
            if not rows or kind in taken:
                continue
            names = _names(kind, rows, descr, ch_names, device)
            streams.append(Stream(kind, kind, tuple(names), preset.sfreq, UNITS[kind]))
            preset.rows[kind] = rows
        if preset.rows:
            presets.append(preset)
    if not streams:
        raise BoardError(f"board {device} streams none of {', '.join(UNITS)}")
    main = "eeg" if any(s.kind == "eeg" for s in streams) else streams[0].name
    streams.sort(key=lambda stream: stream.name != main)
    return presets, streams, main


def _names(kind: str, rows: list[int], descr: dict, ch_names, device: str) -> list[str]:
    """Channel names of a stream's rows: the EEG's from `ch_names`, else BrainFlow's, else
    EEG1, EEG2, ...; others by modality (EDA, PPG1, PPG2, ACC_X, ...)."""
    if kind != "eeg":
        if kind == "acc" and len(rows) == 3:
            return ["ACC_X", "ACC_Y", "ACC_Z"]
        label = kind.upper()
        return [label] if len(rows) == 1 else [f"{label}{i + 1}" for i in range(len(rows))]
    names = descr.get("eeg_names", "")
    names = (
        list(ch_names)
        if ch_names is not None
        else names.split(",")
        if names
        else [f"EEG{i + 1}" for i in range(len(rows))]
    )
    if len(names) != len(rows):
        raise BoardError(
            f"ch_names has {len(names)} names for the {len(rows)} EEG rows of board {device}"
        )
    return names


class DropCounter:
    """Samples one preset lost before each read: from its package counter when it steps by
    one (mod 256), and from the timestamps across a restart (`resumed`) or a full BrainFlow
    buffer (`buffer_size` samples read at once).

    Attributes: counter_regular (whether the counter was seen stepping by one; None until 32
    steps were seen), resumed (set after a reconnect: the next gap in time counts).
    """

    def __init__(self, preset: Preset, buffer_size: int):
        self.preset, self.buffer_size = preset, buffer_size
        self.counter_regular = None
        self.resumed = False
        self._first_steps = []
        self._last_counter = self._last_stamp = None

    def restart(self) -> None:
        """The session was (re)started: a gap in time before the next read counts."""
        self.resumed = self._last_stamp is not None

    def count(self, rows: np.ndarray) -> int:
        """Samples missing before `rows` (the preset's board array of one read)."""
        if not rows.shape[1]:
            return 0
        preset, dropped = self.preset, 0
        stamps = rows[preset.timestamp_row]
        gap_by_time = self.resumed or rows.shape[1] >= self.buffer_size
        if gap_by_time and self._last_stamp is not None:
            dropped += max(0, round((stamps[0] - self._last_stamp) * preset.sfreq) - 1)
        if preset.package_row is not None:
            counter = rows[preset.package_row]
            if not gap_by_time and self._last_counter is not None:
                counter = np.concatenate([[self._last_counter], counter])
            steps = np.diff(counter) % COUNTER_MODULUS
            if self.counter_regular is None:
                self._first_steps.extend(steps.tolist())
                if len(self._first_steps) >= 32:  # trust a counter seen stepping by one
                    self.counter_regular = set(self._first_steps) == {1}
            if self.counter_regular:
                dropped += int(np.maximum(steps - 1, 0).sum())
            self._last_counter = counter[-1]
        self._last_stamp = stamps[-1]
        self.resumed = False
        return int(dropped)
