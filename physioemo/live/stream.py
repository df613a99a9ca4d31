"""The live loop: read a source, keep its recent samples, cut windows, predict, report.

`LiveStream` wires the parts together: a `source.Source` (BrainFlow, LSL, a lab's own), a
`buffer.RingBuffer` of the recent samples (quality checks, the views' traces), a
`featuriser.Featuriser` (causal features as offline, resampling, channel mapping, baseline), a
`predictor.Predictor`, and optional views and a `record.Recorder` fed every chunk before it is
processed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import BoardError
from .buffer import RingBuffer
from .featuriser import Featuriser
from .quality import RAIL_UV, Sanitiser, channel_quality


@dataclass
class WindowResult:
    """One prediction. time: s from the first sample to the window's end; timestamp: unix s
    of the source sample that completed the window; latency_ms: from that sample being
    available to the prediction; compute_ms: from the read that brought it to the prediction
    (wall clock; the summary's cpu_ms is the same span in thread CPU time)."""

    index: int
    time: float
    timestamp: float
    probabilities: np.ndarray
    label: str
    latency_ms: float
    compute_ms: float
    quality: list[str]
    rms: np.ndarray  # (n_source_channels,) of the raw window, in the source's units
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
    dropped: int = 0
    reconnects: int = 0
    latency_ms: list = field(default_factory=list)
    compute_ms: list = field(default_factory=list)
    cpu_ms: list = field(default_factory=list)
    predictions: dict = field(default_factory=dict)
    bad_windows: dict = field(default_factory=dict)


class LiveStream:
    """Read a source, compute causal features, predict; see the module docstring.

    Args:
        source: a `source.Source`.
        predictor: a `predictor.Predictor`; its `features` fix kind, window, stride, bands, rate.
        recorder: optional `record.Recorder` fed every chunk before processing.
        poll_interval: s between reads near a window's end; poll_margin: s before the expected
            end of a window when fine polling starts (reads in between are sparse).
        stall_timeout: s without samples before reconnecting (a finite source has ended).
        backoff: waits (s) before the successive reconnect attempts.
        baseline_seconds: see `Featuriser`. history_seconds: samples kept for the views.
    """

    def __init__(
        self,
        source,
        predictor,
        recorder=None,
        poll_interval=0.001,
        poll_margin=0.005,
        stall_timeout=1.0,
        backoff=(0.5, 1.0, 2.0, 4.0, 8.0),
        rail_uv=RAIL_UV,
        baseline_seconds=10.0,
        history_seconds=10.0,
        clock=time.time,
    ):
        self.source, self.predictor, self.recorder = source, predictor, recorder
        self.poll_interval, self.poll_margin = poll_interval, poll_margin
        self.stall_timeout, self.backoff = stall_timeout, backoff
        self.rail_uv, self.clock = rail_uv, clock
        self.featuriser = self._featuriser(baseline_seconds)
        n = len(source.ch_names)
        capacity = int(max(history_seconds, 2) * source.sfreq) + 1
        self.buffer = RingBuffer(n, max(capacity, 2 * self.featuriser.size))
        self.sanitiser = Sanitiser(n)
        self.counts = Counters(bad_windows=dict.fromkeys(source.ch_names, 0))
        self.started = self.stopped = None
        self._stop_requested = False

    def _featuriser(self, baseline_seconds) -> Featuriser:
        source = self.source
        return Featuriser(
            self.predictor.features,
            source.sfreq,
            source.ch_names,
            self.predictor.ch_names,
            baseline_seconds,
        )

    @property
    def map(self):
        """The source -> model channel map in use when no channel is bad."""
        return self.featuriser.map

    def _warm_up(self) -> None:
        """Features and model once on silence before streaming, so first-call costs (lazy
        imports, JIT compilation, torch's first pass) do not land on the first live windows."""
        featuriser = self._featuriser(0.0)
        n = 2 * featuriser.size + int(np.ceil(featuriser.delay * self.source.sfreq))
        for window in featuriser.push(np.zeros((len(self.source.ch_names), n)))[:1]:
            self.predictor.predict_proba(featuriser.compute(window))

    # ------------------------------------------------------------------ loop
    def run(self, duration=None, on_window=None, on_read=None) -> dict:
        """Stream until `duration` s, the end of a finite source, Ctrl-C or an error.

        on_window(result) is called for every prediction, on_read(stream) after every read
        that brought samples (e.g. for the views). The source is stopped and the recording
        closed however the loop ends. Returns `summary()`.
        """
        expected = self.source.n_samples
        self._warm_up()
        self.source.start()
        self.started = last_data = self.clock()
        try:
            while True:
                chunk = self.source.read()
                now, cpu = self.clock(), time.thread_time()
                if chunk.n:
                    last_data = now
                    self._ingest(chunk, (now, cpu), on_window)
                    if on_read is not None:
                        on_read(self)
                elif now - last_data > self.stall_timeout:
                    if expected is not None:
                        break  # a finite source that falls silent has ended
                    self._reconnect()
                    last_data = self.clock()
                if expected is not None and self.counts.samples >= expected:
                    break
                if duration is not None and now - self.started >= duration:
                    break
                if self._stop_requested:
                    break
                time.sleep(self._pause())
        finally:
            self.source.stop()
            self.stopped = self.clock()
            if self.recorder is not None:
                self.recorder.close()
        return self.summary()

    def stop(self) -> None:
        """Ask `run` (in another thread) to end after the read in progress."""
        self._stop_requested = True

    def _pause(self) -> float:
        """Seconds to sleep before the next read: until `poll_margin` before the next window
        should be complete, then every `poll_interval` (at most 0.1 s, for the stall check)."""
        ahead = self.featuriser.seconds_to_next() - 1 / self.source.sfreq - self.poll_margin
        return min(max(ahead, self.poll_interval), 0.1)

    def _reconnect(self) -> None:
        error = None
        for delay in self.backoff:
            self.source.stop()
            time.sleep(delay)
            try:
                self.source.start()
            except BoardError as failure:
                error = failure
                continue
            self.counts.reconnects += 1
            return
        raise BoardError(
            f"the stream stalled (no samples for {self.stall_timeout} s) and "
            f"{len(self.backoff)} reconnects failed: {error}"
        )

    # ------------------------------------------------------------------ one read
    def _ingest(self, chunk, polled: tuple, on_window) -> None:
        """Record, clean and buffer a chunk, then predict every window it completes (in
        pieces that fit the ring buffer, so each window's raw samples are still held)."""
        if self.recorder is not None:
            self.recorder.append(chunk)
        self.counts.dropped += chunk.dropped
        piece = self.buffer.capacity - self.featuriser.size
        for start in range(0, chunk.n, piece):
            first = self.counts.samples
            x = self.sanitiser.clean(chunk.data[:, start : start + piece], first)
            self.counts.samples += x.shape[1]
            self.buffer.push(x)
            for window in self.featuriser.push(x):
                stamp = float(chunk.timestamps[start + window.stop - 1 - first])
                result = self._predict(window, stamp, polled)
                if result is not None and on_window is not None:
                    on_window(result)

    def _predict(self, window, stamp, polled) -> WindowResult | None:
        raw = self.buffer.window(window.stop, window.size)
        had_nan = self.sanitiser.had_bad(window.stop - window.size)
        quality = channel_quality(raw, had_nan, self.rail_uv)
        bad = frozenset(i for i, q in enumerate(quality) if q != "ok")
        x = self.featuriser.compute(window, bad)
        if x is None:
            return None  # a baseline window
        probabilities = self.predictor.predict_proba(x)
        done, cpu = self.clock(), time.thread_time()
        label = self.predictor.labels[int(np.argmax(probabilities))]
        counts = self.counts
        counts.windows += 1
        counts.predictions[label] = counts.predictions.get(label, 0) + 1
        for i in bad:
            counts.bad_windows[self.source.ch_names[i]] += 1
        result = WindowResult(
            index=counts.windows - 1,
            time=window.stop / self.source.sfreq,
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
        end = self.stopped or self.clock()
        return {
            "source": self.source.name,
            "model": self.predictor.name,
            "channel_map": self.map.description,
            "resampling_delay_ms": round(self.featuriser.delay * 1e3, 3),
            "seconds": round(end - self.started, 3) if self.started else 0.0,
            "samples": counts.samples,
            "windows": counts.windows,
            "baseline_windows": self.featuriser.baseline_seen,
            "dropped_samples": counts.dropped,
            "drop_detection": self.source.drop_detection,
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
