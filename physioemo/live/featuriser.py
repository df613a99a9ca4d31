"""From a source's samples to what a model takes, window by window, as training computed it.

The features are the offline ones in causal mode. DE: the same `bandpass_sos` Butterworth
sections, designed for the source's own rate (band variance does not depend on the rate), run as
`scipy.signal.sosfilt` from a zero state at the first sample, their state carried from one read
to the next, and windows cut at the training window/stride from the first sample on; live DE of
a stream therefore equals `differential_entropy(stream, sfreq, bands, window, stride,
zero_phase=False)` to rounding. Raw windows: at the checkpoint's rate; a source at another rate
is resampled with `StreamResampler` (what `scipy.signal.resample_poly` gives offline, about
86 ms late at common rates: `Featuriser.delay`), windows cut on the resampled stream.
The channel map (`channels.map_channels`) is applied after filtering or resampling, which are
linear and per channel, so a map that changes when a channel goes bad needs no restart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..features import BANDS
from ..features.spectral import FILTER_ORDER, de_from_variance
from ..features.streaming import LIVE_BASELINES, CausalFilterBank, StreamResampler, Windower
from ..windows import window_samples
from . import LiveError, MontageError
from .channels import map_channels

#: seconds at the start of a stream whose windows are left out of the baseline reference: the
#: band-pass filters start from rest, and an amplifier's DC offset makes them ring (measured at
#: 250 Hz: 4.7 nats too much DE in the first window at a 4.2 mV offset, 1.8 nats 2 s in at
#: 100 mV, within 0.01 nats from 3 s on; the resampler's start-up lasts about 0.2 s). Ours.
SETTLE_SECONDS = 3.0


class CausalFeatures:
    """Per-window features of a stream as training computes them offline in causal mode.

    kind "de": (n_channels, n_bands) differential entropy in nats per window; "raw":
    (n_channels, n_window_samples) samples. `push` returns (stop, segment) pairs; `compute`
    turns a segment into the features of the mapped channels.
    """

    def __init__(
        self, kind, sfreq, n_channels, window=1.0, stride=None, bands=None, order=FILTER_ORDER
    ):
        if kind not in ("de", "raw"):
            raise LiveError(f"live features are 'de' or 'raw', not {kind!r}")
        self.kind = kind
        self.size = window_samples(window, sfreq)
        self.step = window_samples(stride or window, sfreq, "stride")
        de = kind == "de"
        self.filters = (
            CausalFilterBank(sfreq, n_channels, dict(bands or BANDS), order) if de else None
        )
        self.windows = Windower(self.size, self.step)

    def push(self, x: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """(n_channels, n) new samples -> windows completed by them."""
        return self.windows.push(self.filters.filter(x) if self.filters else x)

    def compute(self, segment: np.ndarray, channel_map=None) -> np.ndarray:
        """Features of the model's channels from a segment of the source's channels."""
        if self.kind == "raw":
            return np.array(channel_map.apply(segment) if channel_map else segment)
        if channel_map is None or channel_map.picks is not None:
            variance = segment.var(axis=-1)  # (n_bands, n_channels); picking commutes with it
            if channel_map is not None:
                variance = variance[:, channel_map.picks]
        else:
            variance = channel_map.apply(segment).var(axis=-1)
        return de_from_variance(variance).T

    def extract(self, x: np.ndarray, chunk: int = 97) -> np.ndarray:
        """Features of a whole (n_channels, n_times) array fed in chunks, (n_windows, ...)."""
        segments = [
            self.compute(segment)
            for start in range(0, x.shape[-1], chunk)
            for _, segment in self.push(x[:, start : start + chunk])
        ]
        return np.stack(segments)


@dataclass
class Window:
    """A window ready for features: `stop` is one past the sample of stream `stream` that
    completed it (that stream's index), `size` how many of its samples it spans, `segment` the
    filtered or resampled samples of the EEG channels (a view, valid until the next push; None
    for peripheral windows), `index` its number, counting from 0 at the stream's start."""

    stop: int
    size: int
    segment: np.ndarray | None
    stream: str = "eeg"
    index: int = -1


class Featuriser:
    """Windows and features for one model from one source.

    Args:
        features: the checkpoint's {"kind": "de" | "raw", "window", "stride", "bands",
            "sfreq", "baseline"} (window and stride in s).
        sfreq, source_names: the source's rate (Hz) and channels.
        model_names: the model's channels (matched and interpolated by `map_channels`).
        baseline_seconds: with a baseline (`LIVE_BASELINES`), the windows that start in the
            first seconds of the stream are the resting baseline and are not predicted;
            "subtract" (DE) subtracts their mean features from every later window, "zscore"
            (raw windows) z-scores every later window per model channel with the mean and
            standard deviation of their samples (ours; offline the trial's own baseline
            recording plays that part). Baseline windows that start in the first
            `SETTLE_SECONDS` are left out of that reference unless there are no others.
    """

    def __init__(
        self,
        features: dict,
        sfreq: float,
        source_names,
        model_names,
        baseline_seconds,
        stream="eeg",
    ):
        self.stream = stream  # the source stream it reads
        kind, baseline = features.get("kind", "de"), features.get("baseline", "none")
        if kind not in LIVE_BASELINES:
            raise LiveError(f"live features are 'de' or 'raw', not {kind!r}")
        if baseline not in LIVE_BASELINES[kind]:
            raise LiveError(
                "live streams take DE models trained with baseline 'none' or 'subtract' and "
                f"raw-window models with 'none' or 'zscore', not a {kind} model with {baseline!r}"
            )
        self.baseline = baseline
        self.source_names, self.model_names = list(source_names), list(model_names)
        self.map = map_channels(self.model_names, self.source_names)
        self.used = self.map  # the map of the last window (bad channels interpolated)
        self._maps = {frozenset(): self.map}
        rate = float(features.get("sfreq") or sfreq) if kind == "raw" else sfreq
        n = len(self.source_names)
        self.resampler = StreamResampler(sfreq, rate, n) if rate != sfreq else None
        self.sfreq, self.rate = sfreq, rate  # the source's and the windows' rates
        window, stride = features.get("window", 1.0), features.get("stride")
        order = features.get("parameters", {}).get("filter_order") or FILTER_ORDER
        self.causal = CausalFeatures(kind, rate, n, window, stride, features.get("bands"), order)
        self.size = window_samples(window, sfreq)  # source samples per window
        step = self.causal.step
        self.baseline_windows = (
            int(np.ceil(baseline_seconds * rate / step)) if baseline != "none" else 0
        )
        settling = int(np.ceil(SETTLE_SECONDS * rate / step))
        self.settling = settling if settling < self.baseline_windows else 0
        self.baseline_seen = 0
        self._baseline_sum = 0.0  # of the features ("subtract") or their moments ("zscore")

    @property
    def delay(self) -> float:
        """Seconds the resampler holds a sample back (0 without one)."""
        return self.resampler.delay if self.resampler else 0.0

    def seconds_to_next(self) -> float:
        """Seconds of source signal still to come before the next window is complete."""
        return self.causal.windows.missing / self.rate + self.delay

    def push(self, x: np.ndarray) -> list[Window]:
        """(n_source_channels, n) new samples -> the windows they complete."""
        if self.resampler is None:
            return [Window(stop, self.size, s, self.stream) for stop, s in self.causal.push(x)]
        return [
            Window(self.resampler.input_index(stop - 1) + 1, self.size, segment, self.stream)
            for stop, segment in self.causal.push(self.resampler.push(x))
        ]

    def feed(self, name: str, x: np.ndarray, bad_of=None) -> list[Window]:
        """New samples of source stream `name` -> the windows they complete (only its own
        stream's make any; `bad_of` is for featurisers that compute as they go)."""
        return self.push(x) if name == self.stream else []

    def compute(self, window: Window, bad=frozenset()) -> np.ndarray | None:
        """The model's input for `window`, the `bad` source channels interpolated when that
        is possible; None while the baseline windows are being collected."""
        self.used = self._map_without(frozenset(bad))
        x = self.causal.compute(window.segment, self.used)
        if self.baseline_seen < self.baseline_windows:
            self.baseline_seen += 1
            if self.baseline_seen > self.settling:
                if self.baseline == "zscore":
                    x = np.stack([x.mean(axis=-1), np.square(x).mean(axis=-1)])
                self._baseline_sum = self._baseline_sum + x
            return None
        if not self.baseline_windows:
            return x
        reference = self._baseline_sum / (self.baseline_windows - self.settling)
        if self.baseline == "subtract":
            return x - reference
        mean, square = reference[..., None]  # "zscore"
        std = np.sqrt(np.maximum(square - mean**2, 0.0))
        return (x - mean) / np.where(std > 0, std, 1.0)

    def _map_without(self, bad: frozenset):
        """The channel map with the `bad` source channels interpolated, or the plain one when
        interpolation is impossible (no positions, too few neighbours left)."""
        if bad not in self._maps:
            try:
                self._maps[bad] = map_channels(self.model_names, self.source_names, bad)
            except MontageError:
                self._maps[bad] = self.map
        return self._maps[bad]
