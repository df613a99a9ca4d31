"""Any BrainFlow board by name or id as a live source, its EEG rows, names and rate from
BrainFlow itself.

Boards are named like their headsets (`BOARD_NAMES`), by any `BoardIds` member name
(``cyton_wifi``, ``CYTON_WIFI_BOARD``) or by BrainFlow's integer id. Everything about a board's
layout (EEG rows, electrode names, sampling rate, timestamp and package-counter rows) is asked
from BrainFlow's board descriptors, never from tables of ours. BrainFlow's own logging is
switched off; its errors come back as one `BoardError` line with BrainFlow's reason and what
to check.
"""

from __future__ import annotations

import warnings
from functools import cache
from itertools import islice
from pathlib import Path

import numpy as np

from . import BoardError
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
#: Package counters of BrainFlow boards wrap at 256.
COUNTER_MODULUS = 256


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
    member = BOARD_NAMES.get(key.lower(), key.upper().replace("-", "_"))
    for candidate in (member, f"{member}_BOARD"):
        if candidate in ids.__members__:
            return ids[candidate].value
    raise BoardError(
        f"unknown board {board!r}; use one of {', '.join(BOARD_NAMES)}, "
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


def board_descriptor(board_id: int, board) -> dict:
    """BrainFlow's descriptor of board `board_id` (rows, names, rate); `board` as the user
    named it, for the error."""
    board_shim, _, exit_codes = brainflow()
    try:
        return board_shim.BoardShim.get_board_descr(board_id)
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
    """One BrainFlow board as a live `source.Source`: its layout from BrainFlow's descriptors,
    a session to read, and lost samples found from its package counter and timestamps.

    Args:
        board: short name (`BOARD_NAMES`), `BoardIds` member name or integer id.
        serial_port, mac_address, ip_address, timeout: BrainFlow connection parameters.
        file, master_board: playback only: a BrainFlow file and the board that recorded it.
        sfreq: override of the rate in Hz (default: the descriptor's; for playback, the
            file's timestamps, see `file_rate`).
        ch_names: electrode names of the EEG rows when the cap differs from BrainFlow's
            names or BrainFlow has none (default: BrainFlow's, else EEG1, EEG2, ...).
        buffer_seconds: size of BrainFlow's ring buffer; falling further behind loses samples.

    Attributes: board_id, device (BrainFlow's name of the board), name (one line), sfreq (Hz),
    eeg_rows (row indices in the board array), ch_names (electrode names, or EEG1.. when
    BrainFlow names none), ch_types (all "eeg"), num_rows, timestamp_row, package_row (None
    when the board has no package counter), n_samples (playback: the file's samples),
    native_layout (eeg_rows, timestamp_row), counter_regular (whether the package counter was
    seen stepping by one; None until 32 steps were seen).
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
        ch_names=None,
        buffer_seconds=60.0,
    ):
        board_shim = brainflow()[0]
        self.board_id = resolve_board_id(board)
        self.playback = self.board_id == board_shim.BoardIds.PLAYBACK_FILE_BOARD.value
        self.file = Path(file) if file else None
        layout_id = self._recording_board(master_board) if self.playback else self.board_id
        descr = board_descriptor(layout_id, board)
        self.device = descr.get("name", str(board))
        self._take_layout(descr, layout_id, ch_names)
        nominal = float(descr["sampling_rate"])
        if sfreq:
            self.sfreq = float(sfreq)
        elif self.playback:
            self.sfreq = file_rate(self.file, self.timestamp_row, nominal)
        else:
            self.sfreq = nominal
        self.n_samples = count_lines(self.file) if self.playback else None
        self.buffer_size = int(buffer_seconds * self.sfreq)
        self.params = board_shim.BrainFlowInputParams()
        for key, value in {
            "serial_port": serial_port,
            "mac_address": mac_address,
            "ip_address": ip_address,
            "timeout": timeout,
            "file": str(self.file) if self.playback else None,
            "master_board": layout_id if self.playback else None,
        }.items():
            if value is not None:
                setattr(self.params, key, value)
        self._shim = None
        self.counter_regular = None
        self._first_steps = []
        self._last_counter = self._last_stamp = None
        self._resumed = False

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

    def _take_layout(self, descr: dict, layout_id: int, ch_names) -> None:
        """The rows of BrainFlow's descriptor `descr` of board `layout_id`; the EEG rows' names
        from `ch_names`, else BrainFlow's, else EEG1, EEG2, ..."""
        self.eeg_rows = list(descr.get("eeg_channels", []))
        if not self.eeg_rows:
            raise BoardError(f"board {self.device} ({layout_id}) streams no EEG")
        names = descr.get("eeg_names", "")
        self.ch_names = (
            list(ch_names)
            if ch_names is not None
            else names.split(",")
            if names
            else [f"EEG{i + 1}" for i in range(len(self.eeg_rows))]
        )
        if len(self.ch_names) != len(self.eeg_rows):
            raise BoardError(
                f"ch_names has {len(self.ch_names)} names for the {len(self.eeg_rows)} EEG rows "
                f"of board {self.device}"
            )
        self.ch_types = ["eeg"] * len(self.ch_names)
        self.num_rows = int(descr["num_rows"])
        self.timestamp_row = int(descr["timestamp_channel"])
        self.package_row = descr.get("package_num_channel")
        self.native_layout = (self.eeg_rows, self.timestamp_row)

    @property
    def name(self) -> str:
        source = f" replaying {self.file.name}" if self.playback else ""
        return f"{self.device}{source} ({len(self.ch_names)} EEG channels, {self.sfreq:g} Hz)"

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
        self._resumed = self._last_stamp is not None

    def read(self) -> Chunk:
        """All samples since the last read (removed from BrainFlow's buffer): the EEG rows in
        uV, their timestamps, the samples lost before them, and the whole board array."""
        rows = self._shim.get_board_data()
        return Chunk(rows[self.eeg_rows], rows[self.timestamp_row], self._dropped(rows), rows)

    def _dropped(self, rows: np.ndarray) -> int:
        """Samples missing before `rows`: from the package counter when it steps by one
        (mod 256), and from the timestamps across a restart or a full BrainFlow buffer."""
        if not rows.shape[1]:
            return 0
        dropped = 0
        stamps = rows[self.timestamp_row]
        gap_by_time = self._resumed or rows.shape[1] >= self.buffer_size
        if gap_by_time and self._last_stamp is not None:
            dropped += max(0, round((stamps[0] - self._last_stamp) * self.sfreq) - 1)
        if self.package_row is not None:
            counter = rows[self.package_row]
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
        self._resumed = False
        return int(dropped)

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


def count_lines(path: Path) -> int:
    """Non-empty lines of a text file (the samples of a BrainFlow file)."""
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())
