"""One subject of a dataset as a BrainFlow playback recording, with its true labels beside it:
``physioemo playback``, then ``physioemo live --board playback --file S2.csv``.

The subject's recordings (WESAD's condition segments, DREAMER's or DEAP's trials) are laid
end to end and written in the layout of a BrainFlow board (`board`, default EmotiBit: the
accelerometer on its default preset at 25 Hz, PPG on the auxiliary one at 25 Hz, EDA and skin
temperature on the ancillary one at 15 Hz), each modality on the rows BrainFlow's descriptors
give it, resampled to its preset's rate (`scipy.signal.resample_poly`), one file per preset
(`board.preset_file`) with timestamps at the nominal rates, package counters and an empty
marker row. Modalities the board has no rows for are left out (BrainFlow has no respiration
type); rows the recording has nothing for stay zero; a single-channel stream (WESAD's BVP)
fills every row of a multi-row one (EmotiBit's three PPG wavelengths). EEG goes to the board's
EEG rows, when the recording has no more channels than the board has rows. A sidecar
(`labels.read_sidecar`) names the board, the EEG rows and the segments with their ratings,
so the live view shows the true label of every stimulus or condition (`labels.TrueLabels`).
`LSLPlayer` plays the same recordings as LSL outlets instead, one per modality at its own rate
(WESAD's chest ECG and respiration at 700 Hz too: LSL has no fixed layout).
"""

from __future__ import annotations

import json
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..features.peripheral_windows import find_stream
from ..recording import Signal
from . import LiveError
from .board import board_descriptor, brainflow, preset_file, resolve_board_id
from .labels import SIDECAR_FORMAT, sidecar_path
from .layout import board_layout


def resample(x: np.ndarray, rate_in: float, rate_out: float) -> np.ndarray:
    """(n_channels, n) at rate_in -> at rate_out (polyphase, ratio limited to /1000)."""
    from scipy.signal import resample_poly

    if rate_in == rate_out:
        return np.asarray(x, dtype=np.float64)
    ratio = Fraction(rate_out / rate_in).limit_denominator(1000)
    return resample_poly(x, ratio.numerator, ratio.denominator, axis=-1)


def write_playback(
    recordings, out, board="emotibit", eeg=False, dataset="", start=1.7e9, speed=1.0
):
    """Write `recordings` (one subject's, in time order) as BrainFlow files of `board`'s
    layout and their sidecar; returns the main file's path (`out`).

    eeg: whether the recordings' `data` is EEG (else only their peripheral streams go in).
    dataset: its name, for the sidecar (the live view names the classes with it). start: unix
    time of the first sample. speed: the timestamps run this many times faster than the
    recording, so BrainFlow replays it that much faster (the sidecar says so, and the live
    source keeps the true rates). LiveError when the board can carry none of the recordings'
    streams or has too few EEG rows.
    """
    out = Path(out)
    board_id = resolve_board_id(board)
    presets_of = brainflow()[0].BoardShim.get_board_presets(board_id)
    descriptors = {int(p): board_descriptor(board_id, board, int(p)) for p in presets_of}
    presets, streams, _ = board_layout(descriptors, device=str(board))
    signals = _signals(recordings, streams, eeg)
    if not signals:
        raise LiveError(
            f"board {board} has rows for none of the streams of these recordings "
            f"({', '.join(s.name for s in streams)})"
        )
    seconds = sum(r.duration for r in recordings)
    for preset in presets:
        if not set(preset.rows) & set(signals):
            continue
        _write_preset(preset, descriptors[preset.preset], signals, seconds, out, start, speed)
    names = None
    if "eeg" in signals:
        eeg_rows = next(p.rows["eeg"] for p in presets if "eeg" in p.rows)
        given = list(recordings[0].ch_names)
        names = given + [f"EEG{i + 1}" for i in range(len(given), len(eeg_rows))]
    sidecar = {
        "format": SIDECAR_FORMAT,
        "dataset": dataset,
        "subject": str(recordings[0].subject),
        "master_board": brainflow()[0].BoardIds(board_id).name,
        "eeg_names": names,
        "speed": speed,
        "segments": _segments(recordings),
    }
    sidecar_path(out).write_text(json.dumps(sidecar, indent=1) + "\n", encoding="utf-8")
    return out


def _signals(recordings, streams, eeg: bool) -> dict[str, tuple[np.ndarray, float]]:
    """modality -> (n_channels, n) of the recordings end to end and their rate, for the
    modalities the board has rows for."""
    found = {}
    for stream in streams:
        if stream.kind == "eeg":
            parts = [(r.data, r.sfreq) for r in recordings] if eeg else []
            if parts and len(recordings[0].data) > len(stream.ch_names):
                raise LiveError(
                    f"the recordings have {len(recordings[0].data)} EEG channels; the board "
                    f"has {len(stream.ch_names)} EEG rows"
                )
        else:
            signals = [find_stream(r, stream.kind) for r in recordings]
            parts = [(s.data, s.sfreq) if s is not None else None for s in signals]
        if parts and all(part is not None for part in parts):
            rate = parts[0][1]
            found[stream.kind] = (np.concatenate([data for data, _ in parts], axis=1), rate)
    return found


def _write_preset(preset, descr, signals: dict, seconds: float, out: Path, start, speed) -> None:
    """One preset's BrainFlow file: its rows filled from `signals`, timestamps, counter."""
    n = int(round(seconds * preset.sfreq))
    rows = np.zeros((int(descr["num_rows"]), n))
    for kind, picks in preset.rows.items():
        if kind not in signals:
            continue
        data, rate = signals[kind]
        values = resample(data, rate, preset.sfreq)[:, :n]
        if len(values) == 1:
            values = np.repeat(values, len(picks), axis=0)
        rows[picks[: len(values)], : values.shape[1]] = values[: len(picks)]
    rows[preset.timestamp_row] = start + np.arange(n) / (preset.sfreq * speed)
    if preset.package_row is not None:
        rows[preset.package_row] = np.arange(n) % 256
    brainflow()[1].DataFilter.write_file(rows, str(preset_file(out, preset.preset)), "w")


def _segments(recordings) -> list[dict]:
    """Each recording's span (s from the start of the file), trial, ratings and label."""
    segments, at = [], 0.0
    for recording in recordings:
        ratings = {k: (None if np.isnan(v) else float(v)) for k, v in recording.ratings.items()}
        label = recording.meta.get("condition") or ", ".join(
            f"{k} {v:g}" for k, v in ratings.items() if v is not None
        )
        segments.append(
            {
                "start": round(at, 6),
                "stop": round(at + recording.duration, 6),
                "trial": int(recording.trial),
                "label": f"trial {recording.trial}: {label}",
                "ratings": ratings,
            }
        )
        at += recording.duration
    return segments


def subject_recordings(dataset: str, subject=None, root=None, synthetic=None):
    """(recordings in time order, subject, whether their `data` is EEG) of one subject of
    `dataset` (files at `root`, else the built-in synthetic data sized by `synthetic`:
    subjects, seconds, seed); its first subject by default."""
    from ..datasets import card, load
    from ..experiment.plan import synthetic_root
    from ..experiment.spec import Experiment

    if root is None:
        sizes = Experiment(datasets=[dataset], synthetic=synthetic or {}).synthetic_for(dataset)
        root = synthetic_root(dataset, **sizes)
    loaded = load(dataset, root)
    subject = subject or loaded.subjects[0]
    if subject not in loaded.subjects:
        raise ValueError(
            f"--subject {subject}: {dataset} has subjects {', '.join(loaded.subjects[:20])}"
        )
    recordings = list(loaded.subject(subject))  # in the loader's (time) order
    return recordings, subject, "eeg" in card(dataset).modalities


def playback_of(
    dataset: str, out, subject=None, board="emotibit", root=None, synthetic=None, speed=1.0
):
    """`write_playback` of one subject (`subject_recordings`); returns (main file, its
    sidecar's path, the subject)."""
    recordings, subject, eeg = subject_recordings(dataset, subject, root, synthetic)
    path = write_playback(recordings, out, board, eeg, dataset, speed=speed)
    return path, sidecar_path(path), subject


#: units of a stream as its LSL description names them
LSL_UNITS = {"uV": "microvolts", "mV": "millivolts", "V": "volts", "uS": "microsiemens"}


class LSLPlayer:
    """A subject's recordings end to end as LSL outlets, one per modality at its own rate,
    named ``<name>-<modality>`` (``physioemo live --source lsl --stream`` with `stream`).

    Args: recordings (one subject's, in time order), name, eeg (whether `data` is EEG), speed
    (samples are pushed, and stamped, this many times faster than real time; the outlets
    declare the true rates), chunk (s of signal per push).
    `open()` creates the outlets, `play()` pushes in a background thread until the end (or
    `stop()`); `done` is set at the end.
    """

    def __init__(self, recordings, name="physioemo", eeg=False, speed=1.0, chunk=0.1):
        import threading

        self.name, self.speed, self.chunk = name, float(speed), float(chunk)
        self.signals = {}
        kinds = ("eeg",) if eeg else ()
        for kind in (*kinds, "ecg", "ppg", "eda", "resp", "temp", "acc"):
            found = [_as_signal(r, kind) for r in recordings]
            if all(s is not None for s in found):
                data = np.concatenate([s.data for s in found], axis=1)
                self.signals[kind] = (found[0], data)
        self.outlets = {}
        self.done = threading.Event()
        self._thread = None

    @property
    def stream(self) -> str:
        """The value of ``--stream`` that reads every outlet."""
        return ",".join(f"{self.name}-{kind}" for kind in self.signals)

    def open(self) -> None:
        from .lsl import _lsl

        lsl = _lsl()
        for kind, (signal, data) in self.signals.items():
            outlet = f"{self.name}-{kind}"
            info = lsl.StreamInfo(outlet, kind.upper(), len(data), signal.sfreq, "float64", outlet)
            info.set_channel_names(list(signal.ch_names))
            info.set_channel_types([kind] * len(data))
            info.set_channel_units([LSL_UNITS.get(signal.unit, signal.unit)] * len(data))
            self.outlets[kind] = lsl.StreamOutlet(info, chunk_size=1)

    def play(self) -> None:
        import threading

        self._thread = threading.Thread(target=self._push, daemon=True)
        self._thread.start()

    def _push(self) -> None:
        from .lsl import _lsl

        clock = _lsl().local_clock
        start, sent = clock(), dict.fromkeys(self.signals, 0)
        seconds = max(d.shape[1] / s.sfreq for s, d in self.signals.values())
        at = 0.0
        while at < seconds and not self.done.is_set():
            at = min(at + self.chunk, seconds)
            for kind, (signal, data) in self.signals.items():
                stop = min(int(round(at * signal.sfreq)), data.shape[1])
                if stop > sent[kind]:
                    stamps = start + np.arange(sent[kind], stop) / (signal.sfreq * self.speed)
                    piece = np.ascontiguousarray(data[:, sent[kind] : stop].T)
                    if len(piece) == 1:
                        self.outlets[kind].push_sample(piece[0], stamps[0])
                    else:
                        self.outlets[kind].push_chunk(piece, stamps)
                    sent[kind] = stop
            time.sleep(max(0.0, start + at / self.speed - clock()))
        self.done.set()

    def stop(self) -> None:
        self.done.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.outlets.clear()


def _as_signal(recording, kind: str):
    """The recording's stream of `kind` (its EEG `data` for "eeg")."""
    if kind != "eeg":
        return find_stream(recording, kind)
    return Signal(recording.data, recording.sfreq, recording.ch_names, recording.unit, "eeg")
