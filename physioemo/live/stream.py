"""The live loop: read a source, keep its recent samples, cut windows, predict, report.

`LiveStream` wires the parts together: a `source.Source` (BrainFlow, LSL, a lab's own) with
one or more streams (EEG, ECG, EDA, PPG, temperature, respiration, acceleration, each at its
own rate), a `buffer.RingBuffer` of the recent samples of each stream (quality checks of the
main stream, the views' traces), a featuriser (`physiology.make_featuriser`: causal EEG
features as offline with resampling, channel mapping and baseline; peripheral features; both
fused), a `predictor.Predictor`, optional true labels of a replayed recording
(`labels.TrueLabels`), and optional views and a `record.Recorder` fed every chunk before it is
processed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import clean
from . import BoardError
from .buffer import RingBuffer, capacity, check_declared
from .featuriser import Featuriser
from .physiology import make_featuriser
from .quality import RAIL_UV, Sanitiser, channel_quality
from .source import parts, streams_of

#: most samples per second of a trace in `WindowResult.traces` (views draw, nothing computes)
TRACE_RATE = 50.0
#: seconds of signal one predicted class may last before the stream warns that the model may
#: not respond to this source (ours)
STUCK_SECONDS = 60.0


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
    features: np.ndarray  # what the model saw: (n_model_channels, n_bands), raw samples, or
    # a feature vector (peripheral, fused)
    #: the true label of the replayed stimulus or condition at `time` (None: not known)
    true_label: str | None = None
    #: the PINN's EDA: "predicted" (on its training target's per-subject [0, 1] scale),
    #: "measured" (the window's mean EDA, uS), "measured_scaled" (min-max over the windows
    #: so far); None for other models
    eda: dict | None = None
    #: peripheral inputs by feature name (e.g. {"hr_mean": 72.1}); None for EEG models
    physiology: dict | None = None
    #: the newest samples of every non-EEG stream, for views: name -> {"kind", "unit",
    #: "ch_names", "sfreq" (of the samples given), "t" (s, of the last sample from the
    #: stream's start), "samples" (n_channels, n)}, at most `TRACE_RATE` per second
    traces: dict | None = None
    #: loud warnings in force at this window, by kind: "interpolated" (most model channels are
    #: interpolated, `interpolation_warning`), "stuck" (one class for `STUCK_SECONDS`)
    warnings: dict = field(default_factory=dict)

    def to_json(self, labels, ch_names) -> dict:
        """One JSON line: time, probabilities by label, prediction, latency, bad channels,
        and when known the true label, the EDA (predicted and measured) and the peripheral
        inputs."""
        line = {
            "time": round(self.time, 6),
            "timestamp": self.timestamp,
            "probabilities": {k: float(p) for k, p in zip(labels, self.probabilities, strict=True)},
            "prediction": self.label,
            "latency_ms": round(self.latency_ms, 3),
            "bad_channels": {
                name: q for name, q in zip(ch_names, self.quality, strict=True) if q != "ok"
            },
        }
        for key in ("true_label", "eda", "physiology", "warnings"):
            if getattr(self, key):
                line[key] = getattr(self, key)
        return line


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
    labelled: int = 0  # windows whose true label is one of the model's classes
    agreed: int = 0  # of those, predicted right


class LiveStream:
    """Read a source, compute causal features, predict; see the module docstring.

    Args:
        source: a `source.Source`.
        predictor: a `predictor.Predictor`; its `features` fix kind, window, stride, bands,
            rate (EEG) or inputs (peripheral).
        recorder: optional `record.Recorder` fed every chunk before processing.
        labels: optional `labels.TrueLabels` of a replayed recording (`WindowResult.true_label`).
        poll_interval: s between reads near a window's end; poll_margin: s before the expected
            end of a window when fine polling starts (reads in between are sparse).
        stall_timeout: s without samples before reconnecting (a finite source has ended).
        backoff: waits (s) before the successive reconnect attempts.
        baseline_seconds: see `Featuriser`. history_seconds: samples kept for the views.

    Attributes: streams (the source's `source.Stream`s, the main one first), buffers (stream
    name -> `RingBuffer` of its recent samples, each within `buffer.BUFFER_BYTES`; `buffer` is
    the main stream's), featuriser, warned (every loud warning of the run so far, by kind: its
    latest text).
    """

    def __init__(
        self,
        source,
        predictor,
        recorder=None,
        labels=None,
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
        self.labels = labels
        self.poll_interval, self.poll_margin = poll_interval, poll_margin
        self.stall_timeout, self.backoff = stall_timeout, backoff
        self.rail_uv, self.clock = rail_uv, clock
        self.streams = streams_of(source)
        for stream in self.streams:
            check_declared(f"stream {clean(stream.name, 40)!r}", len(stream.ch_names), stream.sfreq)
        self.main = self.streams[0]
        self.featuriser = self._featuriser(baseline_seconds)
        self.buffers, self.sanitisers = {}, {}
        for stream in self.streams:
            least = 2 * self.featuriser.size if stream is self.main else 0
            size = capacity(
                f"stream {clean(stream.name, 40)!r}",
                len(stream.ch_names),
                stream.sfreq,
                max(history_seconds, 2),
                max(least, int(stream.sfreq) + 1),
            )
            self.buffers[stream.name] = RingBuffer(len(stream.ch_names), size)
            self.sanitisers[stream.name] = Sanitiser(len(stream.ch_names))
        self.buffer, self.sanitiser = self.buffers[self.main.name], self.sanitisers[self.main.name]
        self.seen = dict.fromkeys(self.buffers, 0)  # samples of each stream so far
        self.counts = Counters(bad_windows=dict.fromkeys(source.ch_names, 0))
        self.started = self.stopped = None
        self._stop_requested = False
        self._eda_range = (np.inf, -np.inf)
        self.warned: dict[str, str] = {}
        self._run: list | None = None  # [class, since (s), lowest, highest probability]

    def _featuriser(self, baseline_seconds):
        n, sfreq = self.source.n_samples, self.main.sfreq
        return make_featuriser(
            self.predictor.features,
            self.streams,
            self.predictor.ch_names,
            baseline_seconds,
            n / sfreq if n else None,
        )

    @property
    def map(self):
        """The source -> model channel map in use when no channel is bad."""
        return self.featuriser.map

    def _warm_up(self) -> None:
        """Features and model once on silence before streaming, so first-call costs (lazy
        imports, JIT compilation, torch's first pass) do not land on the first live windows
        (EEG models; peripheral windows come seconds apart)."""
        if not isinstance(self.featuriser, Featuriser):
            return
        featuriser = self._featuriser(0.0)
        n = 2 * featuriser.size + int(np.ceil(featuriser.delay * self.main.sfreq))
        for window in featuriser.push(np.zeros((len(self.main.ch_names), n)))[:1]:
            self.predictor.predict_proba(featuriser.compute(window))

    # ------------------------------------------------------------------ loop
    def run(self, duration=None, on_window=None, on_read=None) -> dict:
        """Stream until `duration` s, the end of a finite source, Ctrl-C or an error.

        on_window(result) is called for every prediction, on_read(stream) after every read
        that brought samples (e.g. for the views). The source is stopped and the recording
        closed however the loop ends. Returns `summary()`.
        """
        finite = self.source.n_samples is not None
        self._warm_up()
        self.source.start()
        self.started = last_data = self.clock()
        try:
            while True:
                chunk = self.source.read()
                now, cpu = self.clock(), time.thread_time()
                if chunk.n or any(part.n for part in chunk.others.values()):
                    last_data = now
                    self._ingest(chunk, (now, cpu), on_window)
                    if on_read is not None:
                        on_read(self)
                elif now - last_data > self.stall_timeout:
                    if finite:
                        break  # a finite source that falls silent has ended
                    self._reconnect()
                    last_data = self.clock()
                if finite and self._complete():
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

    def _complete(self) -> bool:
        """A finite source delivered all its samples (of every stream it counts)."""
        totals = getattr(self.source, "totals", None) or {self.main.name: self.source.n_samples}
        return all(self.seen.get(name, 0) >= total for name, total in totals.items())

    def stop(self) -> None:
        """Ask `run` (in another thread) to end after the read in progress."""
        self._stop_requested = True

    def _pause(self) -> float:
        """Seconds to sleep before the next read: until `poll_margin` before the next window
        should be complete, then every `poll_interval` (at most 0.1 s, for the stall check)."""
        ahead = self.featuriser.seconds_to_next() - 1 / self.main.sfreq - self.poll_margin
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
        """Record, clean and buffer every stream's part of a read, then predict every window
        it completes (in pieces that fit the ring buffers, so each EEG window's raw samples
        are still held)."""
        if self.recorder is not None:
            self.recorder.append(chunk)
        for name, part in parts(chunk, self.main.name).items():
            if name not in self.buffers:
                continue
            self.counts.dropped += part.dropped
            piece = self.buffers[name].capacity
            if name == self.main.name:
                piece -= self.featuriser.size
            for start in range(0, part.n, piece):
                first = self.seen[name]
                x = self.sanitisers[name].clean(part.data[:, start : start + piece], first)
                self.seen[name] += x.shape[1]
                self.counts.samples = self.seen[self.main.name]
                self.buffers[name].push(x)
                for window in self.featuriser.feed(name, x, self._bad):
                    stamp = float(part.timestamps[start + window.stop - 1 - first])
                    result = self._predict(window, stamp, polled)
                    if result is not None and on_window is not None:
                        on_window(result)

    def _quality(self, window) -> tuple[list[str], np.ndarray]:
        """Quality and RMS of the main stream's channels: over an EEG window's raw samples,
        else over the main stream's newest second."""
        name = self.main.name
        if window.segment is not None:  # an EEG window, still held (`_ingest`'s pieces)
            stop, size = window.stop, window.size
        else:
            stop = self.seen[name]
            size = min(stop, int(self.main.sfreq))
        if not size:
            return ["ok"] * len(self.main.ch_names), np.zeros(len(self.main.ch_names))
        raw = self.buffer.window(stop, size)
        had_nan = self.sanitiser.had_bad(stop - size)
        return channel_quality(raw, had_nan, self.rail_uv), raw.std(axis=-1)

    def _bad(self, window) -> frozenset:
        """Indices of the bad channels of an EEG window (for interpolation)."""
        quality, _ = self._quality(window)
        return frozenset(i for i, q in enumerate(quality) if q != "ok")

    def _predict(self, window, stamp, polled) -> WindowResult | None:
        quality, rms = self._quality(window)
        bad = frozenset(i for i, q in enumerate(quality) if q != "ok")
        x = self.featuriser.compute(window, bad)
        if x is None:
            return None  # a baseline window, or peripheral features that could not be had
        eda = None
        if getattr(self.predictor, "time_input", False):
            t = self.featuriser.time(window, self.labels)
            probabilities, predicted = self.predictor.predict_with_eda(x, t)
            eda = self._eda(predicted)
        else:
            probabilities = self.predictor.predict_proba(x)
        done, cpu = self.clock(), time.thread_time()
        label = self.predictor.labels[int(np.argmax(probabilities))]
        counts = self.counts
        counts.windows += 1
        counts.predictions[label] = counts.predictions.get(label, 0) + 1
        for i in bad:
            counts.bad_windows[self.source.ch_names[i]] += 1
        rate = next(s.sfreq for s in self.streams if s.name == window.stream)
        seconds = window.stop / rate
        latest = getattr(self.featuriser, "latest", {})
        result = WindowResult(
            index=counts.windows - 1,
            time=seconds,
            timestamp=stamp,
            probabilities=probabilities,
            label=label,
            latency_ms=(done - stamp) * 1e3,
            compute_ms=(done - polled[0]) * 1e3,
            quality=quality,
            rms=rms,
            features=x,
            true_label=self.labels.at(seconds) if self.labels is not None else None,
            eda=eda,
            physiology=latest.get("physiology"),
            traces=self.traces(),
            warnings=self._warnings(label, float(np.max(probabilities)), seconds),
        )
        if result.true_label in self.predictor.labels:
            counts.labelled += 1
            counts.agreed += result.true_label == label
        counts.latency_ms.append(result.latency_ms)
        counts.compute_ms.append(result.compute_ms)
        counts.cpu_ms.append((cpu - polled[1]) * 1e3)
        return result

    def _eda(self, predicted: float) -> dict:
        """The PINN's EDA beside the measured one (`WindowResult.eda`)."""
        measured = getattr(self.featuriser, "latest", {}).get("eda")
        eda = {"predicted": round(float(predicted), 6)}
        if measured is not None:
            low, high = self._eda_range
            low, high = min(low, measured), max(high, measured)
            self._eda_range = (low, high)
            scaled = (measured - low) / (high - low) if high > low else 0.0
            eda.update(measured=round(measured, 6), measured_scaled=round(scaled, 6))
        return eda

    def _warnings(self, label: str, p: float, seconds: float) -> dict:
        """The loud warnings in force at a window of class `label` (probability `p`) ending at
        `seconds` (`WindowResult.warnings`); remembered in `warned`."""
        found = {}
        text = interpolation_warning(getattr(self.featuriser, "used", self.map))
        if text:
            found["interpolated"] = text
        run = self._run
        if run is None or run[0] != label:
            self._run = run = [label, seconds, p, p]
        run[2], run[3] = min(run[2], p), max(run[3], p)
        if seconds - run[1] >= STUCK_SECONDS:
            found["stuck"] = (
                f"the prediction has been {clean(label, 60)!r} for {seconds - run[1]:.0f} s of "
                f"signal (probability {run[2]:.1%}-{run[3]:.1%}): the model may not respond "
                "to this source"
            )
        self.warned.update(found)
        return found

    def traces(self) -> dict | None:
        """The newest `history_seconds` of every non-EEG stream, thinned to `TRACE_RATE`
        (`WindowResult.traces`; views may call it from their own thread)."""
        traces = {}
        for stream in self.streams:
            if stream.kind == "eeg":
                continue
            step = max(1, int(np.ceil(stream.sfreq / TRACE_RATE)))
            buffer = self.buffers[stream.name]
            newest = buffer.latest(buffer.capacity)
            samples = newest[:, (newest.shape[1] - 1) % step :: step]
            traces[stream.name] = {
                "kind": stream.kind,
                "unit": stream.unit,
                "ch_names": list(stream.ch_names),
                "sfreq": stream.sfreq / step,
                "t": self.seen[stream.name] / stream.sfreq,
                "samples": samples.copy(),
            }
        return traces or None

    # ------------------------------------------------------------------ report
    def _agreement(self) -> dict:
        """With true labels: of the windows whose true label is a model class, how many and
        the share predicted right."""
        counts = self.counts
        if self.labels is None:
            return {}
        share = round(counts.agreed / counts.labelled, 4) if counts.labelled else None
        return {"true_label_windows": counts.labelled, "agreement": share}

    def summary(self) -> dict:
        """Counts and latency percentiles of the run so far (JSON-ready)."""
        counts = self.counts
        end = self.stopped or self.clock()
        return {
            "source": self.source.name,
            "model": self.predictor.name,
            "streams": [stream.describe() for stream in self.streams],
            "channel_map": self.map.description,
            "resampling_delay_ms": round(self.featuriser.delay * 1e3, 3),
            "seconds": round(end - self.started, 3) if self.started else 0.0,
            "samples": counts.samples,
            "windows": counts.windows,
            "baseline_windows": self.featuriser.baseline_seen,
            "incomplete_windows": getattr(self.featuriser, "incomplete", 0),
            "dropped_samples": counts.dropped,
            "drop_detection": self.source.drop_detection,
            "reconnects": counts.reconnects,
            "predictions": counts.predictions,
            "bad_channel_windows": {k: v for k, v in counts.bad_windows.items() if v},
            **self._agreement(),
            "warnings": dict(self.warned),
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


def interpolation_warning(channel_map) -> str | None:
    """The loud warning of a channel map that interpolates most of the model's channels (e.g.
    a DREAMER model on BrainFlow's synthetic board: 10 of 14), else None."""
    names = getattr(channel_map, "interpolated", ())
    n = getattr(channel_map, "n_model", 0)
    if not n or 2 * len(names) <= n:
        return None
    return (
        f"{len(names)} of {n} model channels are interpolated from other electrodes "
        f"({clean(' '.join(names), 200)}): most of what the model reads was never recorded"
    )
