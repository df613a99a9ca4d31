"""The true labels of a replayed recording, shown beside the predictions.

`physioemo playback` (`playback.write_playback`) writes a sidecar ``<file>.json`` beside a
BrainFlow playback file: the board whose layout the file has, the names of its EEG rows, and
its segments (the stimuli or conditions, in seconds from the file's start) with their ratings
and a readable label. `read_sidecar` reads it back checked (nothing in it runs code or can
crash the stream: a malformed sidecar is one `LiveError` line naming the file and key), and
`TrueLabels` gives the true label at any time of the stream: the class the model's own label
scheme gives the segment's ratings (so the track speaks the model's class names), else the
segment's readable label.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from . import LiveError

#: format tag of a sidecar
SIDECAR_FORMAT = "physioemo-playback-1"
#: largest sidecar read (bytes)
MAX_SIDECAR = 1_000_000


def sidecar_path(path) -> Path:
    """The sidecar of a playback file: ``S2.csv`` -> ``S2.json``."""
    return Path(path).with_suffix(".json")


def read_sidecar(path) -> dict | None:
    """The checked sidecar of BrainFlow file `path` (None when there is none): "dataset",
    "subject", "master_board", "eeg_names" (or None), "speed" (how many times faster than the
    recording the timestamps run) and "segments" [{"start", "stop" (s, of the recording),
    "trial", "label", "ratings"}]."""
    where = sidecar_path(path)
    if not where.is_file():
        return None
    if where.stat().st_size > MAX_SIDECAR:
        raise LiveError(f"{where}: larger than {MAX_SIDECAR} bytes; not a physioemo sidecar")
    try:
        content = json.loads(where.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise LiveError(f"{where}: not JSON ({str(error)[:80]})") from None
    if not isinstance(content, dict) or content.get("format") != SIDECAR_FORMAT:
        raise LiveError(f"{where}: key format is not {SIDECAR_FORMAT!r}")
    for key in ("dataset", "subject", "master_board"):
        if not isinstance(content.get(key), str) or len(content[key]) > 100:
            raise LiveError(f"{where}: key {key}: expected a short text")
    if not _number(content.get("speed", 1.0)) or not 0 < content.get("speed", 1.0) <= 1000:
        raise LiveError(f"{where}: key speed: expected a number in (0, 1000]")
    names = content.get("eeg_names")
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) and len(n) <= 40 for n in names)
    ):
        raise LiveError(f"{where}: key eeg_names: expected a list of channel names")
    segments = content.get("segments")
    if not isinstance(segments, list) or not all(isinstance(s, dict) for s in segments):
        raise LiveError(f"{where}: key segments: expected a list of segments")
    for index, segment in enumerate(segments):
        _check_segment(segment, f"{where}: key segments[{index}]")
    return content


def _check_segment(segment: dict, where: str) -> None:
    bounds = [segment.get("start"), segment.get("stop")]
    if not all(_number(b) for b in bounds) or not bounds[0] < bounds[1]:
        raise LiveError(f"{where}: expected numbers start < stop (s)")
    if not isinstance(segment.get("label"), str) or len(segment["label"]) > 200:
        raise LiveError(f"{where}.label: expected a text")
    ratings = segment.get("ratings")
    if not isinstance(ratings, dict) or not all(
        isinstance(k, str) and (_number(v) or v is None) for k, v in ratings.items()
    ):
        raise LiveError(f"{where}.ratings: expected numbers by name")


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class TrueLabels:
    """Labels of the segments of a replayed recording: [(start s, stop s, label)]."""

    def __init__(self, segments: list[tuple[float, float, str]]):
        self.segments = sorted(segments)

    def fraction(self, seconds: float) -> float | None:
        """Where `seconds` lies in the segment [start, stop) holding it, from 0 (its start)
        towards 1 (its end); None outside the segments."""
        for start, stop, _ in self.segments:
            if start <= seconds < stop:
                return (seconds - start) / (stop - start)
        return None

    def at(self, seconds: float) -> str | None:
        """The label of the segment holding the instant just before `seconds` (a window's
        end); None between or after the segments."""
        for start, stop, label in self.segments:
            if start < seconds <= stop:
                return label
        return None

    @classmethod
    def from_sidecar(cls, sidecar: dict, labels: dict, classes: list[str]) -> TrueLabels:
        """The segments labelled with the model's classes when its label scheme (`labels`: a
        checkpoint's "labels") is of the sidecar's dataset; else with their own labels."""
        scheme = _scheme(sidecar, labels)
        segments = []
        for segment in sidecar["segments"]:
            label = segment["label"]
            if scheme is not None:
                ratings = {
                    k: np.array([np.nan if v is None else v]) for k, v in segment["ratings"].items()
                }
                try:
                    kept = bool(scheme.keep(ratings)[0])
                    label = classes[int(scheme(ratings)[0])] if kept else "(not rated)"
                except (KeyError, ValueError, IndexError):
                    label = segment["label"]
            segments.append((float(segment["start"]), float(segment["stop"]), label))
        return cls(segments)


def _scheme(sidecar: dict, labels: dict):
    """The model's label scheme when it is one of the sidecar's dataset, else None."""
    from ..datasets import card

    if labels.get("dataset") != sidecar["dataset"] or not labels.get("scheme"):
        return None
    try:
        known = card(sidecar["dataset"]).labels
        return known.make(labels["scheme"], labels.get("dimension"), labels.get("threshold"))
    except (KeyError, ValueError):
        return None
