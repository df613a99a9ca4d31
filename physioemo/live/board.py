"""Any BrainFlow board by name or id as a live source: every stream it has (EEG, ECG, EDA,
PPG, temperature, acceleration) on every preset, rows, names and rates from BrainFlow itself.

Boards are named like their headsets (`BOARD_NAMES`, among them Muse with its PPG preset) and
wearables (`WEARABLE_NAMES`: EmotiBit, Galea, Shimmer3), by any `BoardIds` member name
(``cyton_wifi``, ``CYTON_WIFI_BOARD``) or by BrainFlow's integer id. Everything about a board's
layout (rows of each type, electrode names, sampling rates, timestamp and package-counter rows,
of each preset) is asked from BrainFlow's board descriptors (`layout`), never from tables of
ours. BrainFlow's own logging is
switched off; its errors come back as one `BoardError` line with BrainFlow's reason and what
to check.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from functools import cache
from itertools import islice
from pathlib import Path

import numpy as np

from . import BoardError
from .labels import read_sidecar
from .layout import PRESET_NAMES, DropCounter, Preset, board_layout
from .source import Chunk

#: Short names of common headsets -> BrainFlow `BoardIds` member.
BOARD_NAMES = {
    "synthetic": "SYNTHETIC_BOARD",
    "cyton": "CYTON_BOARD",
    "cyton-daisy": "CYTON_DAISY_BOARD",
    "ganglion": "GANGLION_BOARD",
    "muse-2": "MUSE_2_BOARD",
    "muse-s": "MUSE_S_BOARD",
    "unicorn": "UNICORN_BOARD",
    "brainbit": "BRAINBIT_BOARD",
    "crown": "CROWN_BOARD",
    "playback": "PLAYBACK_FILE_BOARD",
}
#: Short names of wearables that stream physiology (EDA, PPG, temperature, motion) without
#: EEG or beside it -> BrainFlow `BoardIds` member.
WEARABLE_NAMES = {
    "emotibit": "EMOTIBIT_BOARD",
    "galea": "GALEA_BOARD",
    "shimmer3": "SHIMMER3_BOARD",
}

#: What to check, by the name of BrainFlow's exit code.
HINTS = {
    "INVALID_ARGUMENTS_ERROR": "the connection parameters: serial boards need --serial-port "
    "(e.g. /dev/ttyUSB0 or COM3), playback needs --file and --master-board",
    "UNABLE_TO_OPEN_PORT_ERROR": "that the dongle is plugged in or the headset switched on and "
    "paired, that --serial-port / --mac-address / --ip-address is right, and that you may open "
    "it (Linux: membership of the dialout group; Bluetooth switched on)",
    "SER_PORT_ERROR": "the serial port (--serial-port) and your permission to open it "
    "(Linux: the dialout group)",
    "PORT_ALREADY_OPEN_ERROR": "that no other program (OpenBCI GUI, another session) holds "
    "the board",
    "ANOTHER_BOARD_IS_CREATED_ERROR": "that no other session holds the board",
    "BOARD_NOT_READY_ERROR": "that the board is on and charged; switch it off and on again",
    "SYNC_TIMEOUT_ERROR": "that the headset is on, in range and paired",
    "UNSUPPORTED_BOARD_ERROR": "that your BrainFlow version supports this board",
}
GENERAL_HINT = "that the board is on, connected or paired, and the connection parameters"
#: BrainFlowInputParams field of each preset's playback file
PLAYBACK_FIELDS = {0: "file", 1: "file_aux", 2: "file_anc"}


@cache
def brainflow():
    """The brainflow modules, imported quietly, with the board and data loggers switched off."""
    with warnings.catch_warnings():
        # brainflow's native libraries load on first use, through deprecated pkg_resources
        warnings.simplefilter("ignore")
        from brainflow import board_shim, data_filter, exit_codes

        board_shim.BoardShim.disable_board_logger()
        data_filter.DataFilter.disable_data_logger()
    return board_shim, data_filter, exit_codes


def resolve_board_id(board: str | int) -> int:
    """BrainFlow's integer id of a board given by short name, `BoardIds` member name or id."""
    ids = brainflow()[0].BoardIds
    if isinstance(board, int) or str(board).lstrip("-").isdigit():
        value = int(board)
        if value not in {member.value for member in ids}:
            raise BoardError(f"BrainFlow has no board with id {value}")
        return value
    key = str(board).strip()
    names = {**BOARD_NAMES, **WEARABLE_NAMES}
    member = names.get(key.lower(), key.upper().replace("-", "_"))
    for candidate in (member, f"{member}_BOARD"):
        if candidate in ids.__members__:
            return ids[candidate].value
    raise BoardError(
        f"unknown board {board!r}; use one of {', '.join({**BOARD_NAMES, **WEARABLE_NAMES})}, "
        "a BrainFlow BoardIds name or an integer id"
    )


def board_hint(error) -> str:
    """BrainFlow's reason for `error` (a BrainFlowError) plus what to check."""
    codes = brainflow()[2].BrainFlowExitCodes
    try:
        name = codes(error.exit_code).name
    except (AttributeError, ValueError):
        name = ""
    return f"{error}; check {HINTS.get(name, GENERAL_HINT)}"


def board_descriptor(board_id: int, board, preset: int = 0) -> dict:
    """BrainFlow's descriptor of a preset of board `board_id` (rows, names, rate); `board` as
    the user named it, for the error."""
    board_shim, _, exit_codes = brainflow()
    try:
        return board_shim.BoardShim.get_board_descr(board_id, preset)
    except exit_codes.BrainFlowError as error:
        raise BoardError(f"no layout for board {board!r}: {board_hint(error)}") from error


def file_rate(path: Path, timestamp_row: int, nominal: float, n_lines: int = 2000) -> float:
    """Sampling rate (Hz) of a BrainFlow file from its timestamp column.

    Our choice: the nominal rate of the recording board is kept unless the median timestamp
    step of the first `n_lines` samples says otherwise by more than 5 %; then that rate,
    rounded to a whole Hz, is used (BrainFlow's playback paces samples by these timestamps).
    BoardError naming the file and line when a line is not a sample (garbage, another format).
    """
    stamps = []
    with open(path, "rb") as f:
        for number, line in enumerate(islice(f, n_lines), start=1):
            try:
                stamps.append(float(line.split(b"\t")[timestamp_row]))
            except (ValueError, IndexError):
                raise BoardError(
                    f"{path}: line {number} is not a BrainFlow sample (tab-separated numbers, "
                    f"the timestamp in column {timestamp_row + 1}); is it a BrainFlow recording?"
                ) from None
    steps = np.diff(stamps)
    if steps.size == 0 or np.median(steps) <= 0:
        return nominal
    measured = 1.0 / float(np.median(steps))
    return nominal if abs(measured - nominal) <= 0.05 * nominal else float(round(measured))


class Board:
    """One BrainFlow board as a live `source.Source`: its streams from BrainFlow's descriptors
    of every preset (`layout.board_layout`), a session to read, and lost samples found from
    each preset's package counter and timestamps (`layout.DropCounter`).

    Args:
        board: short name (`BOARD_NAMES`, `WEARABLE_NAMES`), `BoardIds` member name or id.
        serial_port, mac_address, ip_address, timeout: BrainFlow connection parameters.
        file, master_board: playback only: a BrainFlow file and the board that recorded it;
            the board's other presets play from ``<stem>-aux<suffix>`` and
            ``<stem>-anc<suffix>`` beside it when they exist (`preset_file`). A sidecar
            written by ``physioemo playback`` (`labels.read_sidecar`, kept as `sidecar`)
            gives the master board, the EEG names unless they are given, and the speed.
        sfreq: override of the main stream's rate in Hz (default: the descriptor's; for
            playback, the file's timestamps, see `file_rate`).
        speed: playback: how many times faster than real time the file's timestamps run
            (the rates are the descriptors' all the same; for tests).
        ch_names: electrode names of the EEG rows when the cap differs from BrainFlow's
            names or BrainFlow has none (default: BrainFlow's, else EEG1, EEG2, ...).
        buffer_seconds: size of BrainFlow's ring buffer; falling further behind loses samples.

    Attributes: board_id, device (BrainFlow's name of the board), name (one line), streams
    (`source.Stream`, the main one first: the EEG, else the first one found), presets
    (`layout.Preset` of those that hold a stream), sfreq (Hz), eeg_rows (the main stream's
    rows in its preset's board array), ch_names (its channel names), ch_types, num_rows,
    timestamp_row, package_row (None when the preset has no package counter) of the main
    stream's preset, n_samples (playback: the main file's samples), totals (playback: samples
    of each stream), native_layout (eeg_rows, timestamp_row), counter_regular (of the main
    preset's counter, see `layout.DropCounter`).
    """

    @classmethod
    def from_options(cls, options, ch_names=None) -> Board:
        """The board the live command's options name (`source.open_source`)."""
        return cls(
            options.board,
            serial_port=options.serial_port,
            mac_address=options.mac_address,
            ip_address=options.ip_address,
            file=options.file,
            master_board=options.master_board,
            ch_names=ch_names,
        )

    def __init__(
        self,
        board: str | int = "synthetic",
        *,
        serial_port=None,
        mac_address=None,
        ip_address=None,
        timeout=None,
        file=None,
        master_board=None,
        sfreq=None,
        speed=1.0,
        ch_names=None,
        buffer_seconds=60.0,
    ):
        board_shim = brainflow()[0]
        self.board_id = resolve_board_id(board)
        self.playback = self.board_id == board_shim.BoardIds.PLAYBACK_FILE_BOARD.value
        self.file = Path(file) if file else None
        self.sidecar = read_sidecar(self.file) if self.playback and self.file else None
        if self.sidecar is not None:  # what `physioemo playback` wrote beside the file
            master_board = master_board or self.sidecar["master_board"]
            speed = self.sidecar.get("speed", speed)
            if ch_names is None and self.sidecar.get("eeg_names"):
                ch_names = self.sidecar["eeg_names"]
        layout_id = self._recording_board(master_board) if self.playback else self.board_id
        descriptors = self._descriptors(layout_id, board)
        self.device = descriptors[min(descriptors)].get("name", str(board))
        self.presets, self.streams, self.main = board_layout(descriptors, ch_names, self.device)
        self._rates(sfreq, speed)
        main = self._preset_of(self.main)
        self.eeg_rows = main.rows[self.main]
        self.ch_names = list(self.streams[0].ch_names)
        self.ch_types = [self.streams[0].kind] * len(self.ch_names)
        self.sfreq = self.streams[0].sfreq
        self.num_rows, self.timestamp_row = main.num_rows, main.timestamp_row
        self.package_row = main.package_row
        self.native_layout = (self.eeg_rows, self.timestamp_row)
        self.totals = self._totals() if self.playback else None
        self.n_samples = self.totals[self.main] if self.playback else None
        self.buffer_size = int(buffer_seconds * max(p.sfreq for p in self.presets))
        self.params = self._params(layout_id, serial_port, mac_address, ip_address, timeout)
        self._shim = None
        self._counters = {p.preset: DropCounter(p, self.buffer_size) for p in self.presets}

    def _recording_board(self, master_board) -> int:
        """Playback: the id of the board that recorded `file`, whose layout the file has."""
        if self.file is None or master_board is None:
            raise BoardError(
                "the playback board needs --file (a BrainFlow recording) and "
                "--master-board (the board that recorded it)"
            )
        if not self.file.is_file():
            raise FileNotFoundError(f"{self.file}: no such BrainFlow recording")
        return resolve_board_id(master_board)

    def _descriptors(self, layout_id: int, board) -> dict[int, dict]:
        """BrainFlow's descriptor of each preset of board `layout_id` (playback: of those
        whose file exists)."""
        presets = sorted(int(p) for p in brainflow()[0].BoardShim.get_board_presets(layout_id))
        if self.playback:
            presets = [p for p in presets if preset_file(self.file, p).is_file()]
        return {p: board_descriptor(layout_id, board, p) for p in presets}

    def _rates(self, sfreq, speed: float) -> None:
        """Each preset's rate: `sfreq` for the main one if given, else the descriptor's, or
        for playback the file's timestamps (`file_rate`, slowed down by `speed`)."""
        for preset in self.presets:
            if self.playback:
                path = preset_file(self.file, preset.preset)
                measured = file_rate(path, preset.timestamp_row, preset.sfreq * speed)
                preset.sfreq = measured / speed
            if sfreq and self.main in preset.rows:
                preset.sfreq = float(sfreq)
        rate = {name: p.sfreq for p in self.presets for name in p.rows}
        self.streams = [replace(s, sfreq=rate[s.name]) for s in self.streams]

    def _preset_of(self, stream: str) -> Preset:
        return next(p for p in self.presets if stream in p.rows)

    def _totals(self) -> dict[str, int]:
        """Playback: samples of each stream (the lines of its preset's file)."""
        lines = {p.preset: count_lines(preset_file(self.file, p.preset)) for p in self.presets}
        return {name: lines[p.preset] for p in self.presets for name in p.rows}

    def _params(self, layout_id, serial_port, mac_address, ip_address, timeout):
        params = brainflow()[0].BrainFlowInputParams()
        files = {}
        if self.playback:
            files = {
                PLAYBACK_FIELDS[p.preset]: str(preset_file(self.file, p.preset))
                for p in self.presets
            }
        for key, value in {
            "serial_port": serial_port,
            "mac_address": mac_address,
            "ip_address": ip_address,
            "timeout": timeout,
            "master_board": layout_id if self.playback else None,
            **files,
        }.items():
            if value is not None:
                setattr(params, key, value)
        return params

    @property
    def counter_regular(self) -> bool | None:
        return self._counters[self._preset_of(self.main).preset].counter_regular

    @property
    def name(self) -> str:
        """e.g. "Synthetic (16 EEG channels, 250 Hz)" (its other streams are in `streams`),
        "Emotibit (acc 25 Hz, ppg 25 Hz, eda 15 Hz, temp 15 Hz)"."""
        source = f" replaying {self.file.name}" if self.playback else ""
        if self.streams[0].kind == "eeg":
            return f"{self.device}{source} ({len(self.ch_names)} EEG channels, {self.sfreq:g} Hz)"
        rates = ", ".join(f"{s.name} {s.sfreq:g} Hz" for s in self.streams)
        return f"{self.device}{source} ({rates})"

    def __repr__(self) -> str:
        return self.name

    @property
    def drop_detection(self) -> str:
        if self.counter_regular:
            return "package counter and timestamps"
        return "timestamps (across reconnects and buffer overflows) only"

    def start(self) -> None:
        """Prepare the session and start streaming; BoardError with a hint when that fails."""
        board_shim, _, exit_codes = brainflow()
        self._shim = board_shim.BoardShim(self.board_id, self.params)
        try:
            self._shim.prepare_session()
            self._shim.start_stream(self.buffer_size)
        except exit_codes.BrainFlowError as error:
            self.stop()
            raise BoardError(f"cannot open board {self.device}: {board_hint(error)}") from error
        for counter in self._counters.values():
            counter.restart()

    def read(self) -> Chunk:
        """All samples since the last read (removed from BrainFlow's buffers): the main
        stream's rows in its unit, their timestamps, the samples lost before them and the
        whole board array of its preset; the other streams in `Chunk.others`."""
        chunks = {}
        for preset in self.presets:
            rows = self._shim.get_board_data(preset=preset.preset)
            dropped = self._counters[preset.preset].count(rows)
            stamps = rows[preset.timestamp_row]
            for name, picks in preset.rows.items():
                chunks[name] = Chunk(rows[picks], stamps, dropped, rows)
                dropped = 0  # counted once per preset
        main = chunks.pop(self.main)
        main.others = chunks
        return main

    def stop(self) -> None:
        """Stop streaming and release the session; safe to call twice or after a failure."""
        shim, self._shim = self._shim, None
        if shim is None:
            return
        error_type = brainflow()[2].BrainFlowError
        try:
            if shim.is_prepared():
                shim.release_session()  # stops the stream too
        except error_type:
            pass

    def __enter__(self) -> Board:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def preset_file(path: Path, preset: int) -> Path:
    """The playback file of a preset beside the main one: ``s01.csv``, ``s01-aux.csv``,
    ``s01-anc.csv`` (ours)."""
    if preset == 0:
        return path
    return path.with_name(f"{path.stem}-{PRESET_NAMES[preset]}{path.suffix}")


def count_lines(path: Path) -> int:
    """Non-empty lines of a text file (the samples of a BrainFlow file)."""
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())
