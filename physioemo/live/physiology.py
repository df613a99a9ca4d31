"""Live features of wearable physiology, alone or fused with EEG, as training computed them.

A checkpoint trained on the "peripheral" recipe in causal mode lists its inputs: feature groups
and the modality of each ([["heart", "ppg"], ["temp", "temp"], ...]). `PeripheralFeaturiser`
finds a source stream of every modality (a missing one is refused in one line naming it) and
runs that modality's kernel on it, at the stream's own rate, with
`features.streaming.PeripheralStream`: on a recorded stream its features equal the recipe's
(``causal=True``) on the same windows. Window k of every stream spans [k * stride,
k * stride + window) s from that stream's first sample; it is complete when every input
stream has it. A window whose features cannot all be computed (too few beats or breaths) is
not predicted (offline such windows are dropped) and counted in `incomplete`.
`FusedFeaturiser` joins window k of the EEG side (`featuriser.Featuriser`, DE with its
baseline) and of the peripheral side, as the "de+peripheral" recipe does offline.
`make_featuriser` picks the featuriser a checkpoint's features need.
"""

from __future__ import annotations

import numpy as np

from ..features import physio
from ..features.peripheral_windows import assemble, feature_names, whole_samples
from ..features.streaming import PeripheralStream, Windower
from ..windows import window_samples
from . import LiveError
from .featuriser import Featuriser, Window


class Described:
    """A channel map's stand-in for featurisers that map no channels: its description."""

    def __init__(self, description: str):
        self.description = description


class PeripheralFeaturiser:
    """Per-window peripheral features of a source's streams (module docstring).

    Args:
        features: the checkpoint's {"inputs": [[group, modality], ...], "window", "stride"
            (s), "segment_seconds" (mean training recording length, for the time input)}.
        streams: the source's `source.Stream`s. duration: seconds of a finite source.
    Attributes: feature_names, incomplete (windows not predicted), latest (of the last
    computed window: {"physiology": {feature: value}, "eda": mean EDA of the window in uS
    when the source streams EDA}).
    """

    size = 0  # EEG samples per window: none
    delay = 0.0
    baseline_seen = 0

    def __init__(self, features: dict, streams, duration: float | None = None):
        self.inputs = [tuple(pair) for pair in features["inputs"]]
        self.feature_names = feature_names(self.inputs)
        self.window = float(features["window"])
        self.stride = float(features.get("stride") or self.window)
        by_kind = {stream.kind: stream for stream in reversed(list(streams))}  # first of each
        self.needed = list(dict.fromkeys(modality for _, modality in self.inputs))
        missing = [modality for modality in self.needed if modality not in by_kind]
        if missing:
            raise LiveError(
                f"the model needs {', '.join(missing)}, which the source does not stream "
                f"(it streams {', '.join(s.name for s in streams)})"
            )
        self.streams = {}
        for modality in self.needed:
            stream = by_kind[modality]
            self.streams[stream.name] = (modality, self._stream(modality, stream))
        eda = by_kind.get("eda")
        self.eda = (eda.name, self._windower(eda)) if eda else None
        self.duration = duration or features.get("segment_seconds")
        self.map = Described(
            "physiology: " + ", ".join(f"{m} from {s}" for s, (m, _) in self.streams.items())
        )
        self.pending: dict[int, dict] = {}
        self.measured: dict[int, float] = {}
        self.incomplete = 0
        self.latest: dict = {}

    def _stream(self, modality: str, stream) -> PeripheralStream:
        for seconds, what in ((self.window, "window"), (self.stride, "stride")):
            try:
                whole_samples(seconds, stream.sfreq, what, stream.name)
            except ValueError as error:
                raise LiveError(f"{error}; choose another --stride") from None
        kernel = physio.kernel(modality)
        if len(stream.ch_names) < kernel.n_channels:
            raise LiveError(
                f"{modality} features need {kernel.n_channels} channels; stream {stream.name} "
                f"has {len(stream.ch_names)}"
            )
        return PeripheralStream(kernel, stream.sfreq, self.window, self.stride)

    def _windower(self, stream) -> tuple[Windower, float]:
        size = window_samples(self.window, stream.sfreq)
        return Windower(size, window_samples(self.stride, stream.sfreq, "stride")), stream.sfreq

    def seconds_to_next(self) -> float:
        """Seconds of signal still to come before the next window is complete."""
        return max(s.windows.missing / s.sfreq for _, s in self.streams.values())

    def feed(self, name: str, x: np.ndarray, bad_of=None) -> list[Window]:
        """New samples (n_channels, n) of source stream `name` -> windows they complete."""
        if self.eda is not None and name == self.eda[0]:
            windower, _ = self.eda[1]
            for stop, segment in windower.push(x[:1]):
                index = (stop - windower.size) // windower.step
                self.measured[index] = float(segment.mean())
        if name not in self.streams:
            return []
        modality, stream = self.streams[name]
        out = []
        x = x[: stream.kernel.n_channels]
        for index, values in stream.push(x):
            found = self.pending.setdefault(index, {})
            found[modality] = dict(zip(stream.kernel.names, values, strict=True))
            if len(found) == len(self.needed):
                stop = index * stream.windows.step + stream.windows.size
                out.append(Window(stop, stream.windows.size, None, name, index))
        return out

    def compute(self, window: Window, bad=frozenset()) -> np.ndarray | None:
        """The features of `window` (n_features,), or None when one is NaN."""
        values = self.pending.pop(window.index)
        x = np.asarray(assemble(self.inputs, values), dtype=np.float64)
        self.latest = {"physiology": dict(zip(self.feature_names, x.tolist(), strict=True))}
        if window.index in self.measured:
            self.latest["eda"] = self.measured.pop(window.index)
        if not np.isfinite(x).all():
            self.incomplete += 1
            return None
        return x

    def time(self, window: Window, segments=None) -> float:
        """The PINN's time input, its window centre's place in its recording as offline: in
        the replayed segment holding it when `segments` (`labels.TrueLabels`) know them (the
        protocol's timing, as an experimenter marks a condition's start), else over the
        source's duration (a finite source) or the mean training recording length, clipped to
        [0, 1] (ours)."""
        centre = window.index * self.stride + self.window / 2
        within = segments.fraction(centre) if segments is not None else None
        if within is not None:
            return float(within)
        return float(np.clip(centre / self.duration, 0.0, 1.0)) if self.duration else 0.5


class FusedFeaturiser:
    """EEG DE and peripheral features of the same windows, joined (module docstring).

    Args: features (the checkpoint's: the DE side's and the peripheral side's), streams,
    model_names (the EEG channels), baseline_seconds (the DE side's, `Featuriser`), duration.
    """

    delay = 0.0

    def __init__(self, features, streams, model_names, baseline_seconds, duration=None):
        eeg = next((s for s in streams if s.kind == "eeg"), None)
        if eeg is None:
            raise LiveError(
                "the model fuses EEG with physiology; the source streams no EEG (it streams "
                f"{', '.join(s.name for s in streams)})"
            )
        self.body = PeripheralFeaturiser(features, streams, duration)
        self.eeg = Featuriser(
            {**features, "kind": "de"},
            eeg.sfreq,
            eeg.ch_names,
            model_names,
            baseline_seconds,
            eeg.name,
        )
        self.map, self.size = self.eeg.map, self.eeg.size
        self.de: dict[int, np.ndarray | None] = {}
        self.ready: set[int] = set()

    @property
    def baseline_seen(self) -> int:
        return self.eeg.baseline_seen

    @property
    def latest(self) -> dict:
        return self.body.latest

    @property
    def used(self):
        """The EEG side's channel map of the last window (`Featuriser.used`)."""
        return self.eeg.used

    def seconds_to_next(self) -> float:
        return max(self.eeg.seconds_to_next(), self.body.seconds_to_next())

    def feed(self, name: str, x: np.ndarray, bad_of=None) -> list[Window]:
        """New samples of stream `name` -> fused windows complete on both sides; the DE of an
        EEG window is computed as it comes, its bad channels from `bad_of(window)`."""
        out = []
        for window in self.eeg.feed(name, x):
            index = (window.stop - window.size) // self.eeg.causal.step
            bad = bad_of(window) if bad_of else frozenset()
            self.de[index] = self.eeg.compute(window, bad)
            if index in self.ready:
                out.append(Window(window.stop, window.size, None, name, index))
        for window in self.body.feed(name, x):
            self.ready.add(window.index)
            if window.index in self.de:
                out.append(window)
        return out

    def compute(self, window: Window, bad=frozenset()) -> np.ndarray | None:
        """DE (flattened) then peripheral features; None in the baseline or when one is NaN."""
        self.ready.discard(window.index)
        de = self.de.pop(window.index)
        body = self.body.compute(window)
        if de is None or body is None:
            return None
        return np.concatenate([np.ravel(de), body])

    def time(self, window: Window, segments=None) -> float:
        return self.body.time(window, segments)


def make_featuriser(features: dict, streams, model_names, baseline_seconds, duration=None):
    """The featuriser of a checkpoint's features: kind "de" or "raw" (`Featuriser`, on the
    first EEG stream), "peripheral" or "de+peripheral" (fused)."""
    kind = features.get("kind", "de")
    if kind == "peripheral":
        return PeripheralFeaturiser(features, streams, duration)
    if kind == "de+peripheral":
        return FusedFeaturiser(features, streams, model_names, baseline_seconds, duration)
    eeg = next((s for s in streams if s.kind == "eeg"), None)
    if eeg is None:
        raise LiveError(
            f"the model reads EEG; the source streams none (it streams "
            f"{', '.join(s.name for s in streams)})"
        )
    return Featuriser(features, eeg.sfreq, eeg.ch_names, model_names, baseline_seconds, eeg.name)
