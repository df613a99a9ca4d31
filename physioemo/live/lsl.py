"""Lab Streaming Layer streams as a live source, through `mne-lsl` (its wheel carries liblsl;
``pip install physioemo[lsl]``).

A stream is found by name, type and/or source id; its channel names, types and units come
from its description (the XML that `mne_lsl.player.PlayerLSL`, OpenBCI's GUI or a lab's own
outlet fills in). Voltages are converted to microvolts by the channel's unit; a stream without
units is taken as microvolts (LSL's convention for EEG). Timestamps are LSL's, corrected for
the sender's clock (``clocksync``) and moved to `time.time()`'s clock. LSL numbers no packets,
so lost samples are found from the timestamps alone: a step longer than 1.5 sample periods
counts the samples that would fill it (ours; a sender with jittery timestamps over-counts).
"""

from __future__ import annotations

import os
import time
from functools import cache
from pathlib import Path

import numpy as np

from . import BoardError, LiveError
from .source import Chunk

#: Unit names of voltage channels -> factor to microvolts; mne-lsl writes the power of ten of
#: MNE's unit ("0": volts, "-6": microvolts).
TO_MICROVOLTS = {
    "microvolts": 1.0,
    "microvolt": 1.0,
    "uv": 1.0,
    "µv": 1.0,
    "-6": 1.0,
    "millivolts": 1e3,
    "mv": 1e3,
    "-3": 1e3,
    "volts": 1e6,
    "v": 1e6,
    "0": 1e6,
}
VOLTAGE_TYPES = {"eeg", "ecg", "emg", "eog"}


#: Where liblsl looks for a configuration file (besides $LSLAPICFG).
CONFIG_FILES = ("lsl_api.cfg", "~/lsl_api/lsl_api.cfg", "/etc/lsl_api/lsl_api.cfg")


@cache
def _lsl():
    """mne-lsl's liblsl bindings; without a liblsl configuration of the lab's own, liblsl is
    told to log errors only (its start-up INFO lines would break our one-line messages)."""
    try:
        from mne_lsl import lsl
    except ImportError as error:
        raise LiveError(
            "LSL streams need mne-lsl: pip install 'physioemo[lsl]' (or mne-lsl)"
        ) from error
    configured = os.environ.get("LSLAPICFG") or any(
        Path(name).expanduser().is_file() for name in CONFIG_FILES
    )
    if not configured:
        lsl.set_config_content("[log]\nlevel = -2\n")
    return lsl


class LSLSource:
    """One LSL stream as a `source.Source`.

    Args:
        name, stype, source_id: what the stream must match (at least one); its name is what
            most senders let you set ("obci_eeg1", a player's ``name=``).
        timeout: seconds to wait for the stream to appear.
        ch_names: names that replace the stream's own (same count).
    """

    drop_detection = "timestamps only (steps over 1.5 sample periods)"
    native_layout = None
    n_samples = None

    @classmethod
    def from_options(cls, options, ch_names=None) -> LSLSource:
        """The stream the live command's options name (`source.open_source`)."""
        return cls(options.stream, stype=options.stream_type, ch_names=ch_names)

    def __init__(self, name=None, stype=None, source_id=None, timeout=5.0, ch_names=None):
        lsl = _lsl()
        if name is None and stype is None and source_id is None:
            raise LiveError("an LSL source needs a stream name, type or source id (--stream)")
        wanted = ", ".join(
            f"{key} {value!r}"
            for key, value in (("name", name), ("type", stype), ("source id", source_id))
            if value is not None
        )
        found = lsl.resolve_streams(timeout, name=name, stype=stype, source_id=source_id)
        if not found:
            seen = ", ".join(repr(s.name) for s in lsl.resolve_streams(0.5)) or "none"
            raise BoardError(f"no LSL stream with {wanted} within {timeout:g} s (streams: {seen})")
        self.info = found[0]
        self.sfreq = float(self.info.sfreq)
        if self.sfreq <= 0:
            raise LiveError(f"LSL stream {self.info.name!r} has no regular rate")
        self._inlet = None
        self._described = None  # full description, from the inlet once it is open
        self._scale = None
        self._last_stamp = None
        self._offset = 0.0
        self.ch_names, self.ch_types = self._channels(ch_names)

    def _channels(self, ch_names) -> tuple[list[str], list[str]]:
        """Names and types from the stream's description (opened briefly to read it)."""
        lsl = _lsl()
        inlet = lsl.StreamInlet(self.info)
        inlet.open_stream(timeout=5.0)
        self._described = inlet.get_sinfo()
        inlet.close_stream()
        n = self._described.n_channels
        names = self._described.get_channel_names() or [f"ch{i + 1}" for i in range(n)]
        if ch_names is not None:
            if len(ch_names) != n:
                raise LiveError(f"ch_names has {len(ch_names)} names for {n} LSL channels")
            names = list(ch_names)
        types = self._described.get_channel_types() or [None] * n
        types = [(t or "eeg").lower() for t in types]
        units = self._described.get_channel_units() or [None] * n
        triples = zip(units, types, names, strict=True)
        self._scale = np.array([_scale(unit, kind, name) for unit, kind, name in triples])
        return [str(n) for n in names], types

    @property
    def device(self) -> str:
        """Short name of the sender, for recordings' equipment field."""
        return f"LSL {self.info.name}"

    @property
    def name(self) -> str:
        return f"LSL stream {self.info.name!r} ({len(self.ch_names)} channels, {self.sfreq:g} Hz)"

    def __repr__(self) -> str:
        return self.name

    def start(self) -> None:
        lsl = _lsl()
        try:
            self._inlet = lsl.StreamInlet(self.info, processing_flags=["clocksync"])
            self._inlet.open_stream(timeout=5.0)
        except Exception as error:  # liblsl reports a lost stream as RuntimeError/TimeoutError
            self.stop()
            raise BoardError(f"cannot open LSL stream {self.info.name!r}: {error}") from error
        self._offset = time.time() - lsl.local_clock()

    def read(self) -> Chunk:
        values, stamps = self._inlet.pull_chunk(timeout=0.0, max_samples=1_000_000)
        data = np.asarray(values, dtype=float).reshape(-1, len(self.ch_names)).T
        stamps = np.asarray(stamps, dtype=float) + self._offset
        return Chunk(data * self._scale[:, None], stamps, self._dropped(stamps))

    def _dropped(self, stamps: np.ndarray) -> int:
        if not stamps.size:
            return 0
        if self._last_stamp is not None:
            stamps = np.concatenate([[self._last_stamp], stamps])
        self._last_stamp = stamps[-1]
        steps = np.diff(stamps) * self.sfreq
        return int(np.round(steps[steps > 1.5]).sum() - np.count_nonzero(steps > 1.5))

    def stop(self) -> None:
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            try:
                inlet.close_stream()
            except Exception:  # closing a stream whose sender vanished
                pass


def _scale(unit, ch_type: str, name: str) -> float:
    """Factor from the stream's values to ours: microvolts for voltage channels."""
    if ch_type not in VOLTAGE_TYPES:
        return 1.0
    if unit is None:
        return 1.0
    key = str(unit).strip().lower()
    if key not in TO_MICROVOLTS:
        raise LiveError(f"LSL channel {name!r} ({ch_type}) has unit {unit!r}, not a voltage")
    return TO_MICROVOLTS[key]
