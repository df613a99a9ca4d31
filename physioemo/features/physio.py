"""Peripheral-physiology features per window: EDA, heart (ECG/BVP), respiration, temperature,
acceleration (WESAD, DEAP's and DREAMER's peripheral channels, live wearables).

Every modality is one `Kernel` in three steps: ``condition`` filters the signal into derived
rows (EDA: tonic and phasic; ECG: the rectified QRS band; ...), ``find`` detects events (SCRs,
beats, breaths) on a stretch of them, and ``values`` turns one window of derived rows and its
events into that window's features. `window_values` runs a kernel over a whole recording in
one of two modes:

* zero-phase (``causal=False``, the default): Butterworth filters run forward and backward
  (`scipy.signal.sosfiltfilt`) over the whole recording and events are detected on the whole
  of it (thresholds from the whole recording), so windows never cut a transient or a beat;
* causal (``causal=True``): the same filters run forward only (`scipy.signal.sosfilt`), each
  starting at the steady state of the signal's first sample, and events are detected within
  each window from its own samples. A window's features then depend only on samples up to its
  end, and `features.streaming.PeripheralStream` computes them on a stream, chunk by chunk,
  to rounding the same (`CausalFilters` carries the filter state between chunks).

The processing choices are ours (SciPy only; NeuroKit2 would pull pandas and matplotlib into the
dependencies for steps that are a few lines of SciPy here) and are stated in each docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..windows import window_bounds


def _one_signal(x, name: str, sfreq: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{name} must be one signal of shape (n_times,), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} holds {int((~np.isfinite(x)).sum())} NaN or infinite samples")
    if sfreq <= 0:
        raise ValueError(f"sfreq must be positive, got {sfreq}")
    return x


def butterworth(sfreq, low=None, high=None, order=2) -> np.ndarray:
    """Second-order sections of a Butterworth low-, high- or band-pass (edges in Hz; None
    leaves one open)."""
    from scipy import signal

    if low and high:
        return signal.butter(order, [low, high], "bandpass", fs=sfreq, output="sos")
    if high:
        return signal.butter(order, high, "lowpass", fs=sfreq, output="sos")
    return signal.butter(order, low, "highpass", fs=sfreq, output="sos")


class ZeroPhase:
    """Filters of one signal at `sfreq` Hz, forward and backward (`scipy.signal.sosfiltfilt`)."""

    def __init__(self, sfreq: float):
        self.sfreq = sfreq

    def __call__(self, x, low=None, high=None, order=2) -> np.ndarray:
        from scipy import signal

        return signal.sosfiltfilt(butterworth(self.sfreq, low, high, order), x)


class CausalFilters:
    """Filters of one signal at `sfreq` Hz, forward only, with the state of each distinct
    filter (edges, order) carried from one call to the next: calling it on consecutive chunks
    of a signal gives the samples one call on the whole signal gives. Each filter starts at the
    steady state of its first input sample (`scipy.signal.sosfilt_zi`; ours: a step from zero
    to a skin conductance of some uS would ring for tens of seconds)."""

    def __init__(self, sfreq: float):
        self.sfreq = sfreq
        self.state: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, x, low=None, high=None, order=2) -> np.ndarray:
        from scipy import signal

        key = (low, high, order)
        if x.size == 0:
            return np.asarray(x, dtype=np.float64)
        if key not in self.state:
            sos = butterworth(self.sfreq, low, high, order)
            self.state[key] = (sos, signal.sosfilt_zi(sos) * x[0])
        sos, zi = self.state[key]
        y, zi = signal.sosfilt(sos, x, zi=zi)
        self.state[key] = (sos, zi)
        return y


Filter = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Kernel:
    """One modality's features.

    names: the features `values` gives, in order. condition(x (n_channels, n), sfreq, filt)
    -> derived rows (n_derived, n), filtering through `filt` (`ZeroPhase` or `CausalFilters`).
    find(derived, sfreq) -> (event sample indices, event sizes), or None for kernels without
    events. lead: events before a window that its features still use (heart: the beat that
    opens the window's first interval). values(segment (n_derived, m), sfreq, events) -> one
    float per name, events in the segment's sample indices.
    """

    modality: str
    names: tuple[str, ...]
    n_channels: int
    condition: Callable[[np.ndarray, float, Filter], np.ndarray]
    values: Callable[[np.ndarray, float, tuple | None], tuple]
    find: Callable[[np.ndarray, float], tuple] | None = None
    lead: int = 0


# ----------------------------------------------------------------------------- EDA
def _eda_condition(x, sfreq, filt):
    clean = filt(x[0], high=min(5.0, 0.45 * sfreq))
    tonic = filt(clean, high=0.05)
    return np.stack([tonic, clean - tonic])


def _eda_values(segment, sfreq, events):
    _, sizes = events
    amplitude = float(sizes.mean()) if sizes.size else 0.0
    return segment[0].mean(), segment[1].mean(), float(sizes.size), amplitude


def eda_kernel(min_amplitude=0.05) -> Kernel:
    """Skin conductance (uS): tonic level, phasic activity and skin-conductance responses.

    Tonic = 0.05 Hz low-pass (2nd-order Butterworth) of the signal low-passed at 5 Hz; phasic =
    the rest. An SCR is a phasic peak with prominence >= `min_amplitude` uS (the common 0.05 uS
    criterion; smaller bumps are mostly ripple of the tonic split) and at least 1 s from the
    previous one; its amplitude is that prominence. Gives tonic_mean, phasic_mean, scr_count
    (per window), scr_amplitude (mean, 0 if none).
    """

    def find(derived, sfreq):
        from scipy import signal

        peaks, props = signal.find_peaks(
            derived[1], prominence=min_amplitude, distance=max(1, sfreq)
        )
        return peaks, props["prominences"]

    names = ("tonic_mean", "phasic_mean", "scr_count", "scr_amplitude")
    return Kernel("eda", names, 1, _eda_condition, _eda_values, find)


# ----------------------------------------------------------------------------- heart
def _ecg_condition(x, sfreq, filt):
    return np.abs(filt(x[0], 5.0, min(20.0, 0.45 * sfreq)))[None]


def _bvp_condition(x, sfreq, filt):
    return filt(x[0], 0.5, min(8.0, 0.45 * sfreq))[None]


def _ecg_find(derived, sfreq):
    from scipy import signal

    rectified = derived[0]
    height = 0.4 * np.percentile(rectified, 99) if rectified.size else 0.0
    peaks, _ = signal.find_peaks(rectified, distance=max(1, int(0.33 * sfreq)), height=height)
    return peaks, rectified[peaks]


def _bvp_find(derived, sfreq):
    from scipy import signal

    filtered = derived[0]
    prominence = 0.3 * np.percentile(np.abs(filtered), 99) if filtered.size else 0.0
    peaks, _ = signal.find_peaks(
        filtered, distance=max(1, int(0.33 * sfreq)), prominence=prominence
    )
    return peaks, filtered[peaks]


def _heart_values(segment, sfreq, events):
    """Intervals (IBI, s) whose closing beat lies in the window (`heart_kernel`)."""
    times = events[0] / sfreq
    ibi, closing = np.diff(times), times[1:]
    intervals = ibi[closing >= 0]
    if intervals.size < 3:
        return (np.nan,) * 4
    long_enough = segment.shape[1] / sfreq >= 25.0
    return (
        60.0 / intervals.mean(),
        1000 * intervals.std(ddof=1),
        1000 * np.sqrt(np.mean(np.diff(intervals) ** 2)),
        _lf_hf(closing[closing >= 0], intervals) if long_enough else np.nan,
    )


def heart_kernel(kind="ecg") -> Kernel:
    """Heart rate and variability from ECG or BVP (PPG).

    Beats: ECG: 5-20 Hz band-pass, peaks of the rectified signal above 40 % of its 99th
    percentile. BVP: 0.5-8 Hz band-pass, peaks with prominence above 30 % of the
    99th-percentile amplitude. Both at least 0.33 s apart (heart rates up to 180 bpm).
    Per window, from the inter-beat intervals (IBI, s) whose closing beat lies in the window:
    hr_mean = 60 / mean IBI (bpm), sdnn = std of IBI (ms, ddof=1), rmssd = RMS of successive
    IBI differences (ms), lf_hf = LF (0.04-0.15 Hz) / HF (0.15-0.4 Hz) power of the IBI series
    resampled at 4 Hz (Welch, Hann segments of the whole window); NaN where the window holds
    fewer than 3 intervals, and lf_hf NaN for windows shorter than 25 s (one LF cycle).
    """
    if kind == "ecg":
        condition, find = _ecg_condition, _ecg_find
    elif kind == "bvp":
        condition, find = _bvp_condition, _bvp_find
    else:
        raise ValueError(f"kind must be 'ecg' or 'bvp', got {kind!r}")
    names = ("hr_mean", "sdnn", "rmssd", "lf_hf")
    modality = "ecg" if kind == "ecg" else "ppg"
    return Kernel(modality, names, 1, condition, _heart_values, find, lead=1)


def _lf_hf(times, intervals, rate=4.0) -> float:
    from scipy import signal

    grid = np.arange(times[0], times[-1], 1 / rate)
    if grid.size < 16:
        return np.nan
    series = np.interp(grid, times, intervals)
    freqs, psd = signal.welch(series - series.mean(), fs=rate, nperseg=grid.size)
    lf = psd[(freqs >= 0.04) & (freqs < 0.15)].sum()
    hf = psd[(freqs >= 0.15) & (freqs < 0.4)].sum()
    return lf / hf if hf > 0 else np.nan


# ----------------------------------------------------------------------------- others
def _resp_find(derived, sfreq):
    from scipy import signal

    filtered = derived[0]
    peaks, _ = signal.find_peaks(
        filtered, distance=max(1, int(1.4 * sfreq)), prominence=0.3 * filtered.std()
    )
    return peaks, filtered[peaks]


def _resp_values(segment, sfreq, events):
    peaks = events[0]
    return (60.0 * sfreq / np.diff(peaks).mean() if peaks.size >= 2 else np.nan,)


#: Breaths per minute: 60 / mean interval between inhalation peaks in the window. The signal
#: is band-passed at 0.1-0.7 Hz (6-42 breaths/min); peaks at least 1.4 s apart with prominence
#: above 30 % of the filtered signal's standard deviation. NaN with < 2 peaks.
RESP = Kernel(
    "resp",
    ("resp_rate",),
    1,
    lambda x, sfreq, filt: filt(x[0], 0.1, 0.7)[None],
    _resp_values,
    _resp_find,
)


def _slope(part, sfreq) -> float:
    if part.size < 2:
        return 0.0
    return float(np.polyfit(np.arange(part.size) / sfreq, part, 1)[0])


#: Skin temperature per window: mean and least-squares slope (unit per second); no filter.
TEMP = Kernel(
    "temp",
    ("temp_mean", "temp_slope"),
    1,
    lambda x, sfreq, filt: np.asarray(x[:1], dtype=np.float64),
    lambda segment, sfreq, events: (segment[0].mean(), _slope(segment[0], sfreq)),
)

#: Acceleration (3, n_times): mean and standard deviation of the magnitude per window.
ACC = Kernel(
    "acc",
    ("acc_mean", "acc_std"),
    3,
    lambda x, sfreq, filt: np.sqrt((np.asarray(x, dtype=np.float64) ** 2).sum(axis=0))[None],
    lambda segment, sfreq, events: (segment[0].mean(), segment[0].std()),
)


def kernel(modality: str) -> Kernel:
    """The kernel of a modality: "ecg", "ppg", "eda", "resp", "temp" or "acc"."""
    kernels = {
        "ecg": lambda: heart_kernel("ecg"),
        "ppg": lambda: heart_kernel("bvp"),
        "eda": eda_kernel,
        "resp": lambda: RESP,
        "temp": lambda: TEMP,
        "acc": lambda: ACC,
    }
    if modality not in kernels:
        raise ValueError(f"no peripheral features of {modality!r}; modalities: {list(kernels)}")
    return kernels[modality]()


# ----------------------------------------------------------------------------- windows
def segment_values(kernel: Kernel, segment: np.ndarray, sfreq: float) -> tuple:
    """Causal features of one window of derived rows, events found in the window itself."""
    events = kernel.find(segment, sfreq) if kernel.find else None
    return kernel.values(segment, sfreq, events)


def window_values(kernel: Kernel, x, sfreq, window=60.0, stride=None, causal=False) -> dict:
    """`kernel`'s features of every window (`window_bounds`) of x (n_channels, n_times) at
    sfreq Hz, zero-phase or causal (module docstring): {name: (n_windows,) float64}."""
    starts, stops = window_bounds(x.shape[-1], sfreq, window, stride)
    filt = CausalFilters(sfreq) if causal else ZeroPhase(sfreq)
    derived = kernel.condition(x, sfreq, filt)
    if causal:
        rows = [
            segment_values(kernel, derived[:, a:b], sfreq)
            for a, b in zip(starts, stops, strict=True)
        ]
    else:
        peaks, sizes = kernel.find(derived, sfreq) if kernel.find else (None, None)
        rows = []
        for a, b in zip(starts, stops, strict=True):
            events = None
            if peaks is not None:
                first = max(0, int(np.searchsorted(peaks, a)) - kernel.lead)
                last = int(np.searchsorted(peaks, b))
                events = (peaks[first:last] - a, sizes[first:last])
            rows.append(kernel.values(derived[:, a:b], sfreq, events))
    table = np.asarray(rows, dtype=np.float64).reshape(len(starts), len(kernel.names))
    return dict(zip(kernel.names, table.T, strict=True))


def eda_features(eda, sfreq, window=60.0, stride=None, min_amplitude=0.05, causal=False):
    """`eda_kernel` features of one EDA signal (n_times,) in uS, per window."""
    eda = _one_signal(eda, "eda", sfreq)
    return window_values(eda_kernel(min_amplitude), eda[None], sfreq, window, stride, causal)


def beats(x, sfreq, kind="ecg") -> np.ndarray:
    """Sample indices of heart beats (ECG R peaks or BVP systolic peaks) of a whole signal,
    filtered zero-phase (`heart_kernel`)."""
    heart = heart_kernel(kind)
    x = _one_signal(x, kind, sfreq)
    return heart.find(heart.condition(x[None], sfreq, ZeroPhase(sfreq)), sfreq)[0]


def heart_features(x, sfreq, kind="ecg", window=60.0, stride=None, causal=False) -> dict:
    """`heart_kernel` features of one ECG or BVP signal (n_times,), per window."""
    heart = heart_kernel(kind)
    x = _one_signal(x, kind, sfreq)
    return window_values(heart, x[None], sfreq, window, stride, causal)


def respiration_rate(resp, sfreq, window=60.0, stride=None, causal=False) -> dict:
    """`RESP` features (resp_rate, breaths/min) of one respiration signal, per window."""
    resp = _one_signal(resp, "resp", sfreq)
    return window_values(RESP, resp[None], sfreq, window, stride, causal)


def temperature_features(temp, sfreq, window=60.0, stride=None, causal=False) -> dict:
    """`TEMP` features (temp_mean, temp_slope) of one temperature signal, per window."""
    temp = _one_signal(temp, "temp", sfreq)
    return window_values(TEMP, temp[None], sfreq, window, stride, causal)


def acc_features(acc, sfreq, window=60.0, stride=None, causal=False) -> dict:
    """`ACC` features (acc_mean, acc_std) of acceleration (3, n_times), per window."""
    acc = np.asarray(acc, dtype=np.float64)
    if acc.ndim != 2 or acc.shape[0] != 3:
        raise ValueError(f"acc must have shape (3, n_times), got {acc.shape}")
    _one_signal(np.sqrt((acc**2).sum(axis=0)), "acc", sfreq)
    return window_values(ACC, acc, sfreq, window, stride, causal)
