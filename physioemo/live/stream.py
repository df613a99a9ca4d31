"""From polled board samples to predictions: causal features with carried filter state.

The features are the offline ones in causal mode: for DE, the same `bandpass_sos` Butterworth
sections run as `scipy.signal.sosfilt` from a zero state at the first sample, their state
carried from one poll to the next, and windows cut at the training window/stride from the first
sample on. Live features of a stream therefore equal
`differential_entropy(whole_stream, sfreq, bands, window, stride, zero_phase=False)` to
rounding. The channel map (see `montage`) is applied to the filtered band signals; filtering is
linear and per channel, so this equals filtering the mapped channels, and a map that changes
when a channel goes bad needs no filter restart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..features import BANDS
from ..features.spectral import de_from_variance, window_samples
from ..features.streaming import CausalFilterBank
from . import BoardError, LiveError, MontageError
from .montage import map_channels

#: A channel beyond this magnitude (uV) is railed: no scalp EEG reaches 0.1 V (ours).
RAIL_UV = 1e5
#: Package counters of BrainFlow boards wrap at 256.
COUNTER_MODULUS = 256


class Windower:
    """Windows of `size` samples every `step` samples of a stream, starting at sample 0.

    `push` returns (stop, window) pairs, stop being one past the window's last sample counted
    from the start of the stream; windows are views valid until the next push.
    """

    def __init__(self, size: int, step: int):
        self.size, self.step = size, step
        self.total = 0  # samples pushed so far
        self._buffer = None
        self._lo = self._hi = 0  # kept samples are buffer[..., lo:hi]
        self._first = 0  # stream index of buffer[..., lo]
        self._next = 0  # stream index where the next window starts

    @property
    def missing(self) -> int:
        """Samples still to come before the next window is complete."""
        return self._next + self.size - self.total

    def push(self, y: np.ndarray) -> list[tuple[int, np.ndarray]]:
        n = y.shape[-1]
        self._reserve(y.shape[:-1], n)
        self._buffer[..., self._hi : self._hi + n] = y
        self._hi += n
        self.total += n
        out = []
        while self._next + self.size <= self.total:
            at = self._lo + self._next - self._first
            out.append((self._next + self.size, self._buffer[..., at : at + self.size]))
            self._next += self.step
        done = min(self._next, self.total) - self._first
        self._lo += done
        self._first += done
        return out

    def _reserve(self, lead: tuple, n: int) -> None:
        kept = self._hi - self._lo
        if self._buffer is not None and self._hi + n <= self._buffer.shape[-1]:
            return
        capacity = max(2 * (kept + n), 4 * (self.size + self.step))
        buffer = np.empty((*lead, capacity))
        if self._buffer is not None:
            buffer[..., :kept] = self._buffer[..., self._lo : self._hi]
        self._buffer, self._lo, self._hi = buffer, 0, kept


class CausalFeatures:
    """Per-window features of a stream as training computes them offline in causal mode.

    kind "de": (n_channels, n_bands) differential entropy in nats per window; "raw":
    (n_channels, n_window_samples) samples. `push` returns (stop, segment) pairs; `compute`
    turns a segment into the features of the mapped channels.
    """

    def __init__(self, kind, sfreq, n_channels, window=1.0, stride=None, bands=None):
        if kind not in ("de", "raw"):
            raise LiveError(f"live features are 'de' or 'raw', not {kind!r}")
        self.kind = kind
        self.size = window_samples(window, sfreq)
        self.step = window_samples(stride or window, sfreq, "stride")
        de = kind == "de"
        self.filters = CausalFilterBank(sfreq, n_channels, dict(bands or BANDS)) if de else None
        self.windows = Windower(self.size, self.step)

    def push(self, x: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """(n_channels, n) new samples -> windows completed by them."""
        return self.windows.push(self.filters.filter(x) if self.filters else x)

    def compute(self, segment: np.ndarray, channel_map=None) -> np.ndarray:
        """Features of the model's channels from a segment of the board's channels."""
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


def channel_quality(raw: np.ndarray, had_nan: np.ndarray, rail_uv: float = RAIL_UV) -> list[str]:
    """Per channel of a (n_channels, n) window: "nan", "railed" (|x| >= rail_uv or flat), "ok"."""
    railed = (np.abs(raw).max(axis=-1) >= rail_uv) | (np.ptp(raw, axis=-1) == 0)
    return ["nan" if n else "railed" if r else "ok" for n, r in zip(had_nan, railed, strict=True)]


@dataclass
class WindowResult:
    """One prediction. time: s from the first sample to the window's end; timestamp: unix s
    of the window's last sample (BrainFlow's); latency_ms: from that sample being available
    to the prediction; compute_ms: from the poll that brought it to the prediction (wall
    clock; the summary's cpu_ms is the same span in thread CPU time)."""

    index: int
    time: float
    timestamp: float
    probabilities: np.ndarray
    label: str
    latency_ms: float
    compute_ms: float
    quality: list[str]
    rms: np.ndarray  # (n_board_channels,) uV of the raw window
    features: np.ndarray  # what the model saw: (n_model_channels, n_bands) or raw samples

    def to_json(self, labels, ch_names) -> dict:
        """One JSON line: time, probabilities by label, prediction, latency, bad channels."""
        return {
            "time": round(self.time, 6),
            "timestamp": self.timestamp,
            "probabilities": {k: float(p) for k, p in zip(labels, self.probabilities, strict=True)},
            "prediction": self.label,
            "latency_ms": round(self.latency_ms, 3),
            "bad_channels": {
                name: q for name, q in zip(ch_names, self.quality, strict=True) if q != "ok"
            },
        }


@dataclass
class Counters:
    samples: int = 0
    windows: int = 0
    baseline_windows: int = 0
    dropped: int = 0
    reconnects: int = 0
    latency_ms: list = field(default_factory=list)
    compute_ms: list = field(default_factory=list)
    cpu_ms: list = field(default_factory=list)
    predictions: dict = field(default_factory=dict)
    bad_windows: dict = field(default_factory=dict)


class LiveStream:
    """Poll a `Board`, cut windows, compute causal features, predict; see the module docstring.

    Args:
        board: a `board.Board` (or anything with its attributes, open/poll/close).
        predictor: a `predictor.Predictor`; its `features` fix kind, window, stride and bands.
        channel_map: board -> model channels (default: `map_channels` of the names).
        recorder: optional `record.Recorder` fed every polled chunk before processing.
        poll_interval: s between polls near a window's end; poll_margin: s before the expected
            end of a window when fine polling starts (polls in between are sparse).
        stall_timeout: s without samples before reconnecting.
        backoff: waits (s) before the successive reconnect attempts.
        baseline_seconds: with features baseline "subtract", the first seconds of the stream
            are the resting baseline whose mean features are subtracted (ours).

    A DE model trained at another rate gets the same bands filtered at the board's rate (band
    variance does not depend on the rate); a raw-window model must match the rate exactly.
    """

    def __init__(
        self,
        board,
        predictor,
        channel_map=None,
        recorder=None,
        poll_interval=0.001,
        poll_margin=0.005,
        stall_timeout=1.0,
        backoff=(0.5, 1.0, 2.0, 4.0, 8.0),
        rail_uv=RAIL_UV,
        baseline_seconds=10.0,
        clock=time.time,
    ):
        spec = predictor.features
        self.board, self.predictor, self.recorder = board, predictor, recorder
        self.poll_interval, self.poll_margin = poll_interval, poll_margin
        self.stall_timeout, self.backoff = stall_timeout, backoff
        self.rail_uv, self.clock = rail_uv, clock
        kind, baseline = spec.get("kind", "de"), spec.get("baseline", "none")
        if baseline not in ("none", "subtract"):
            raise LiveError(
                f"live streams take models trained with baseline 'none' or "
                f"'subtract', not {baseline!r}"
            )
        if kind == "raw" and float(spec.get("sfreq", board.sfreq)) != board.sfreq:
            raise LiveError(
                f"the model takes raw windows at {spec['sfreq']} Hz and the board streams at "
                f"{board.sfreq} Hz; resampling is not supported"
            )
        self.map = channel_map or map_channels(predictor.ch_names, board.ch_names)
        self._maps = {frozenset(): self.map}
        n = len(board.ch_names)
        window, stride = spec.get("window", 1.0), spec.get("stride")
        self.features = CausalFeatures(kind, board.sfreq, n, window, stride, spec.get("bands"))
        self.raw_windows = (
            Windower(self.features.size, self.features.step) if kind == "de" else None
        )
        self.baseline_windows = (
            int(np.ceil(baseline_seconds * board.sfreq / self.features.step))
            if baseline == "subtract"
            else 0
        )
        self._baseline_sum = 0.0
        self.counts = Counters(bad_windows=dict.fromkeys(board.ch_names, 0))
        self.counter_regular = None  # whether the package counter steps by one; None: unknown
        self._first_steps = []
        self._held = np.zeros(n)  # last finite sample per channel
        self._last_nan = np.full(n, -1)  # stream index of the last non-finite sample
        self._last_counter = None
        self._last_stamp = None
        self._resumed = False
        self.started = None

    def _warm_up(self) -> None:
        """Features and model once on silence before streaming, so first-call costs (lazy
        imports, JIT compilation, torch's first pass) do not land on the first live windows."""
        spec, n = self.predictor.features, len(self.board.ch_names)
        features = CausalFeatures(
            self.features.kind,
            self.board.sfreq,
            n,
            spec.get("window", 1.0),
            spec.get("stride"),
            spec.get("bands"),
        )
        for _, segment in features.push(np.zeros((n, features.size))):
            self.predictor.predict_proba(features.compute(segment, self.map))

    # ------------------------------------------------------------------ loop
    def run(self, duration=None, on_window=None) -> dict:
        """Stream until `duration` s, the end of a played-back file, Ctrl-C or an error.

        on_window(result) is called for every prediction. The board is released and the
        recording flushed however the loop ends. Returns `summary()`.
        """
        expected = self.board.file_samples()
        self._warm_up()
        self.board.open()
        self.started = last_data = self.clock()
        try:
            while True:
                chunk = self.board.poll()
                now, cpu = self.clock(), time.thread_time()
                if chunk.shape[1]:
                    last_data = now
                    self._ingest(chunk, (now, cpu), on_window)
                elif now - last_data > self.stall_timeout:
                    if self.board.playback:
                        break  # BrainFlow's playback idles at the end of its file
                    self._reconnect()
                    last_data = self.clock()
                if expected is not None and self.counts.samples >= expected:
                    break
                if duration is not None and now - self.started >= duration:
                    break
                time.sleep(self._pause())
        finally:
            self.board.close()
            self.stopped = self.clock()
            if self.recorder is not None:
                self.recorder.close()
        return self.summary()

    def _pause(self) -> float:
        """Seconds to sleep before the next poll: until `poll_margin` before the next window
        should be complete, then every `poll_interval` (at most 0.1 s, for the stall check)."""
        ahead = (self.features.windows.missing - 1) / self.board.sfreq - self.poll_margin
        return min(max(ahead, self.poll_interval), 0.1)

    def _reconnect(self) -> None:
        error = None
        for delay in self.backoff:
            self.board.close()
            time.sleep(delay)
            try:
                self.board.open()
            except BoardError as failure:
                error = failure
                continue
            self.counts.reconnects += 1
            self._resumed = True
            return
        raise BoardError(
            f"the stream stalled (no samples for {self.stall_timeout} s) and "
            f"{len(self.backoff)} reconnects failed: {error}"
        )

    # ------------------------------------------------------------------ one poll
    def _ingest(self, chunk: np.ndarray, polled: tuple, on_window) -> None:
        if self.recorder is not None:
            self.recorder.append(chunk)
        before = self.counts.samples
        self.counts.samples += chunk.shape[1]
        self._count_drops(chunk)
        eeg = self._sanitise(chunk[self.board.eeg_rows], before)
        stamps = chunk[self.board.timestamp_row]
        segments = self.features.push(eeg)
        raws = self.raw_windows.push(eeg) if self.raw_windows else segments
        for (stop, segment), (_, raw) in zip(segments, raws, strict=True):
            result = self._predict(stop, segment, raw, float(stamps[stop - 1 - before]), polled)
            if result is not None and on_window is not None:
                on_window(result)

    def _sanitise(self, eeg: np.ndarray, before: int) -> np.ndarray:
        """Non-finite samples replaced by the channel's last finite one (they would poison the
        filter state for good); where they were is remembered for the quality flags."""
        bad = ~np.isfinite(eeg)
        if bad.any():
            rows, cols = np.nonzero(bad)
            np.maximum.at(self._last_nan, rows, before + cols)
            padded = np.concatenate([self._held[:, None], eeg], axis=1)
            ok = np.concatenate([np.ones((len(eeg), 1), bool), ~bad], axis=1)
            source = np.maximum.accumulate(np.where(ok, np.arange(ok.shape[1]), 0), axis=1)
            eeg = np.take_along_axis(padded, source, axis=1)[:, 1:]
        self._held = eeg[:, -1].copy()
        return eeg

    def _count_drops(self, chunk: np.ndarray) -> None:
        """Missing samples from the package counter when it steps by one (mod 256), and from
        timestamps across a reconnect or a full BrainFlow buffer."""
        stamps = chunk[self.board.timestamp_row]
        gap_by_time = self._resumed or chunk.shape[1] >= getattr(self.board, "buffer_size", 1e18)
        if gap_by_time and self._last_stamp is not None:
            missing = round((stamps[0] - self._last_stamp) * self.board.sfreq) - 1
            self.counts.dropped += max(0, int(missing))
        row = self.board.package_row
        if row is not None:
            counter = chunk[row]
            if not gap_by_time and self._last_counter is not None:
                counter = np.concatenate([[self._last_counter], counter])
            steps = np.diff(counter) % COUNTER_MODULUS
            if self.counter_regular is None:
                self._first_steps.extend(steps.tolist())
                if len(self._first_steps) >= 32:  # trust a counter seen stepping by one
                    self.counter_regular = set(self._first_steps) == {1}
            if self.counter_regular:
                self.counts.dropped += int(np.maximum(steps - 1, 0).sum())
            self._last_counter = chunk[row, -1]
        self._last_stamp = stamps[-1]
        self._resumed = False

    def _map_without(self, bad: frozenset):
        """The channel map with the `bad` board channels interpolated, or the plain one when
        interpolation is impossible (no positions, too few left)."""
        if bad not in self._maps:
            try:
                self._maps[bad] = map_channels(self.predictor.ch_names, self.board.ch_names, bad)
            except MontageError:
                self._maps[bad] = self.map
        return self._maps[bad]

    def _predict(self, stop, segment, raw, stamp, polled) -> WindowResult | None:
        had_nan = self._last_nan >= stop - self.features.size
        quality = channel_quality(raw, had_nan, self.rail_uv)
        bad = frozenset(i for i, q in enumerate(quality) if q != "ok")
        x = self.features.compute(segment, self._map_without(bad))
        counts = self.counts
        if counts.baseline_windows < self.baseline_windows:
            counts.baseline_windows += 1
            self._baseline_sum = self._baseline_sum + x
            return None
        if self.baseline_windows:
            x = x - self._baseline_sum / self.baseline_windows
        probabilities = self.predictor.predict_proba(x)
        done, cpu = self.clock(), time.thread_time()
        label = self.predictor.labels[int(np.argmax(probabilities))]
        counts.windows += 1
        counts.predictions[label] = counts.predictions.get(label, 0) + 1
        for i in bad:
            counts.bad_windows[self.board.ch_names[i]] += 1
        result = WindowResult(
            index=counts.windows - 1,
            time=stop / self.board.sfreq,
            timestamp=stamp,
            probabilities=probabilities,
            label=label,
            latency_ms=(done - stamp) * 1e3,
            compute_ms=(done - polled[0]) * 1e3,
            quality=quality,
            rms=raw.std(axis=-1),
            features=x,
        )
        counts.latency_ms.append(result.latency_ms)
        counts.compute_ms.append(result.compute_ms)
        counts.cpu_ms.append((cpu - polled[1]) * 1e3)
        return result

    # ------------------------------------------------------------------ report
    def summary(self) -> dict:
        """Counts and latency percentiles of the run so far (JSON-ready)."""
        counts = self.counts
        end = getattr(self, "stopped", None) or self.clock()
        return {
            "board": repr(self.board),
            "model": self.predictor.name,
            "channel_map": self.map.description,
            "seconds": round(end - self.started, 3) if self.started else 0.0,
            "samples": counts.samples,
            "windows": counts.windows,
            "baseline_windows": counts.baseline_windows,
            "dropped_samples": counts.dropped,
            "drop_detection": "package counter and timestamps"
            if self.counter_regular
            else "timestamps (across reconnects and buffer overflows) only",
            "reconnects": counts.reconnects,
            "predictions": counts.predictions,
            "bad_channel_windows": {k: v for k, v in counts.bad_windows.items() if v},
            "latency_ms": percentiles(counts.latency_ms),
            "compute_ms": percentiles(counts.compute_ms),
            "cpu_ms": percentiles(counts.cpu_ms),
        }


def percentiles(values) -> dict | None:
    """p50/p95/p99/max of a list of milliseconds, rounded to microseconds; None when empty."""
    if not values:
        return None
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "p50": round(float(p50), 3),
        "p95": round(float(p95), 3),
        "p99": round(float(p99), 3),
        "max": round(float(np.max(values)), 3),
    }
