"""Lab Streaming Layer streams as a live source, through `mne-lsl` (its wheel carries liblsl;
``pip install physioemo[lsl]``).

A source is one stream or several (``--stream wesad-ppg,wesad-eda,...``: a wearable's
outlets, each at its own rate, as `playback.LSLPlayer` plays a recording's streams). A stream
is found by name, type and/or source id; its channel names, types and units come from its
description (the XML that `mne_lsl.player.PlayerLSL`, OpenBCI's GUI or a lab's own outlet
fills in). Voltages are converted to microvolts by the channel's unit; a stream without units
is taken as microvolts (LSL's convention for EEG). Timestamps are LSL's, corrected for the
sender's clock (``clocksync``) and moved to `time.time()`'s clock. LSL numbers no packets, so
lost samples are found from the timestamps alone: a step longer than 1.5 sample periods counts
the samples that would fill it (ours; a sender with jittery timestamps over-counts).

A stream's declared rate and channel count are checked (`buffer.check_declared`) before any
inlet is opened, and liblsl's queue and each read are sized to `buffer.BUFFER_BYTES`: a stream
that declares 10 MHz is refused in one line instead of growing the process by gigabytes.
"""

from __future__ import annotations

import os
import time
from functools import cache
from pathlib import Path

import numpy as np

from ..errors import clean
from . import BoardError, LiveError
from .buffer import BUFFER_BYTES, check_declared
from .source import UNITS, Chunk, Stream

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
#: bytes liblsl holds per sample besides its values (our estimate of its sample header)
SAMPLE_OVERHEAD = 64
#: liblsl's default queue (s), kept when it fits `BUFFER_BYTES`
MAX_BUFFERED = 360


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


#: LSL channel types (and stream types) -> our modality (`source.UNITS`); others as they are
KINDS = {
    "gsr": "eda",
    "eda": "eda",
    "bvp": "ppg",
    "ppg": "ppg",
    "temperature": "temp",
    "temp": "temp",
    "accelerometer": "acc",
    "acc": "acc",
    "resp": "resp",
    "respiration": "resp",
}


class LSLInlet:
    """One LSL stream: found by name, type and/or source id, its channels from its
    description, samples pulled in uV (voltages) or their own units, on `time.time()`'s clock.

    Args: name, stype, source_id (at least one), timeout (s to wait for the stream), ch_names
    (names that replace the stream's own, same count).
    Attributes: info, sfreq, ch_names, ch_types (lower case), kind (the modality: "eeg" when
    any channel is EEG, else the one type of its channels or the stream's type, `KINDS`),
    unit (of non-voltage streams: the first channel's, else `source.UNITS`').
    """

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
        what = f"LSL stream {clean(self.info.name, 40)!r}"
        if self.sfreq <= 0:
            raise LiveError(f"{what} has no regular rate")
        check_declared(what, self.info.n_channels, self.sfreq)
        per_second = self.sfreq * (8 * self.info.n_channels + SAMPLE_OVERHEAD)
        self._buffered = int(min(MAX_BUFFERED, max(1, BUFFER_BYTES // per_second)))
        self._pull = int(min(1_000_000, BUFFER_BYTES // (8 * self.info.n_channels)))
        self._inlet = None
        self._scale = None
        self._last_stamp = None
        self._offset = 0.0
        self.ch_names, self.ch_types, units = self._channels(ch_names)
        self.kind = self._kind()
        voltage = self.kind in VOLTAGE_TYPES
        self.unit = "uV" if voltage else _unit(units[0], self.kind)

    def _channels(self, ch_names) -> tuple[list[str], list[str], list]:
        """Names, types and units from the stream's description (opened briefly)."""
        lsl = _lsl()
        inlet = lsl.StreamInlet(self.info, max_buffered=self._buffered)
        inlet.open_stream(timeout=5.0)
        described = inlet.get_sinfo()
        inlet.close_stream()
        n = described.n_channels
        names = described.get_channel_names() or [f"ch{i + 1}" for i in range(n)]
        if ch_names is not None:
            if len(ch_names) != n:
                raise LiveError(f"ch_names has {len(ch_names)} names for {n} LSL channels")
            names = list(ch_names)
        types = described.get_channel_types() or [None] * n
        types = [(t or "eeg").lower() for t in types]
        units = described.get_channel_units() or [None] * n
        triples = zip(units, types, names, strict=True)
        self._scale = np.array([_scale(unit, kind, name) for unit, kind, name in triples])
        return [str(n) for n in names], types, units

    def _kind(self) -> str:
        if "eeg" in self.ch_types:
            return "eeg"
        kinds = {KINDS.get(t, t) for t in self.ch_types}
        if len(kinds) == 1 and kinds != {"misc"}:
            return kinds.pop()
        stype = (self.info.stype or "misc").lower()
        return KINDS.get(stype, stype)

    def start(self) -> None:
        lsl = _lsl()
        try:
            self._inlet = lsl.StreamInlet(
                self.info, max_buffered=self._buffered, processing_flags=["clocksync"]
            )
            self._inlet.open_stream(timeout=5.0)
        except Exception as error:  # liblsl reports a lost stream as RuntimeError/TimeoutError
            self.stop()
            raise BoardError(f"cannot open LSL stream {self.info.name!r}: {error}") from error
        self._offset = time.time() - lsl.local_clock()

    def read(self) -> Chunk:
        values, stamps = self._inlet.pull_chunk(timeout=0.0, max_samples=self._pull)
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


class LSLSource:
    """One or several LSL streams (outlets) as a `source.Source`, each a `source.Stream` at
    its own rate, all on `time.time()`'s clock; the main stream is the EEG one, else the
    first named.

    Args:
        name: the stream's name, or several separated by commas ("wesad-ppg,wesad-eda");
            stype, source_id: what a single stream must match (with or without a name).
        timeout: seconds to wait for each stream. ch_names: names replacing the main
            stream's own (same count).
    """

    drop_detection = "timestamps only (steps over 1.5 sample periods)"
    native_layout = None
    n_samples = None

    @classmethod
    def from_options(cls, options, ch_names=None) -> LSLSource:
        """The streams the live command's options name (`source.open_source`)."""
        return cls(options.stream, stype=options.stream_type, ch_names=ch_names)

    def __init__(self, name=None, stype=None, source_id=None, timeout=5.0, ch_names=None):
        names = [n.strip() for n in name.split(",") if n.strip()] if name else [None]
        inlets = [LSLInlet(n, stype, source_id, timeout) for n in names]
        main = next((i for i, inlet in enumerate(inlets) if inlet.kind == "eeg"), 0)
        inlets.insert(0, inlets.pop(main))
        if ch_names is not None:
            inlets[0] = LSLInlet(names[main], stype, source_id, timeout, ch_names)
        self.inlets = inlets
        first = inlets[0]
        self.info, self.sfreq = first.info, first.sfreq
        self.ch_names, self.ch_types = first.ch_names, first.ch_types
        taken: dict[str, int] = {}
        self.streams = []
        for inlet in inlets:
            taken[inlet.kind] = taken.get(inlet.kind, 0) + 1
            label = inlet.kind if taken[inlet.kind] == 1 else f"{inlet.kind}{taken[inlet.kind]}"
            self.streams.append(
                Stream(label, inlet.kind, tuple(inlet.ch_names), inlet.sfreq, inlet.unit)
            )

    @property
    def device(self) -> str:
        """Short name of the sender, for recordings' equipment field."""
        return f"LSL {self.info.name}"

    @property
    def name(self) -> str:
        main = f"LSL stream {self.info.name!r} ({len(self.ch_names)} channels, {self.sfreq:g} Hz)"
        others = ", ".join(f"{i.info.name!r} {i.sfreq:g} Hz" for i in self.inlets[1:])
        return f"{main} with {others}" if others else main

    def __repr__(self) -> str:
        return self.name

    def start(self) -> None:
        for inlet in self.inlets:
            inlet.start()

    def read(self) -> Chunk:
        chunks = [inlet.read() for inlet in self.inlets]
        main = chunks[0]
        main.others = {s.name: c for s, c in zip(self.streams[1:], chunks[1:], strict=True)}
        return main

    def stop(self) -> None:
        for inlet in self.inlets:
            inlet.stop()


def _unit(unit, kind: str) -> str:
    """A non-voltage stream's unit: its description's, else its modality's (`UNITS`)."""
    text = str(unit).strip() if unit is not None else ""
    return {"microsiemens": "uS", "celsius": "degC"}.get(text.lower(), text) or UNITS.get(
        kind, "a.u."
    )


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
