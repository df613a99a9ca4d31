"""Peripheral-physiology features per window: EDA, heart (ECG/BVP), respiration, temperature,
acceleration (WESAD, DEAP's peripheral channels).

Every function takes one signal of the whole recording, its rate in Hz and window/stride in
seconds (the windows of `window_bounds`, as for the EEG features), and returns a dict of
(n_windows,) float arrays. Detection runs on the whole recording, so windows never cut a
filter transient or a beat. The processing choices are ours (SciPy only; NeuroKit2 would pull
pandas and matplotlib into the dependencies for steps that are a few lines of SciPy here) and
are stated in each docstring.
"""

from __future__ import annotations

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


def _filtered(x, sfreq, low=None, high=None, order=2) -> np.ndarray:
    """Zero-phase Butterworth low-, high- or band-pass (edges in Hz; None leaves one open)."""
    from scipy import signal

    if low and high:
        sos = signal.butter(order, [low, high], "bandpass", fs=sfreq, output="sos")
    elif high:
        sos = signal.butter(order, high, "lowpass", fs=sfreq, output="sos")
    else:
        sos = signal.butter(order, low, "highpass", fs=sfreq, output="sos")
    return signal.sosfiltfilt(sos, x)


def _per_window(n_times, sfreq, window, stride):
    starts, stops = window_bounds(n_times, sfreq, window, stride)
    return list(zip(starts, stops, strict=True))


def eda_features(eda, sfreq, window=60.0, stride=None, min_amplitude=0.05) -> dict:
    """Skin conductance (uS): tonic level, phasic activity and skin-conductance responses.

    Tonic = 0.05 Hz low-pass (2nd-order Butterworth, zero-phase) of the signal low-passed at
    5 Hz; phasic = the rest. An SCR is a phasic peak with prominence >= `min_amplitude` uS (the
    common 0.05 uS criterion; smaller bumps are mostly ripple of the tonic split) and
    at least 1 s from the previous one; its amplitude is that prominence.
    Returns tonic_mean, phasic_mean, scr_count (per window), scr_amplitude (mean, 0 if none).
    """
    from scipy import signal

    eda = _one_signal(eda, "eda", sfreq)
    clean = _filtered(eda, sfreq, high=min(5.0, 0.45 * sfreq))
    tonic = _filtered(clean, sfreq, high=0.05)
    phasic = clean - tonic
    peaks, props = signal.find_peaks(phasic, prominence=min_amplitude, distance=max(1, sfreq))
    out = {k: [] for k in ("tonic_mean", "phasic_mean", "scr_count", "scr_amplitude")}
    for start, stop in _per_window(eda.size, sfreq, window, stride):
        inside = (peaks >= start) & (peaks < stop)
        out["tonic_mean"].append(tonic[start:stop].mean())
        out["phasic_mean"].append(phasic[start:stop].mean())
        out["scr_count"].append(inside.sum())
        out["scr_amplitude"].append(props["prominences"][inside].mean() if inside.any() else 0.0)
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def beats(x, sfreq, kind="ecg") -> np.ndarray:
    """Sample indices of heart beats: ECG R peaks or BVP systolic peaks.

    ECG: 5-20 Hz band-pass, peaks of the rectified signal above 40 % of its 99th percentile.
    BVP: 0.5-8 Hz band-pass, peaks with prominence above 30 % of the 99th-percentile
    amplitude. Both at least 0.33 s apart (heart rates up to 180 bpm).
    """
    from scipy import signal

    x = _one_signal(x, kind, sfreq)
    if kind == "ecg":
        rectified = np.abs(_filtered(x, sfreq, 5.0, min(20.0, 0.45 * sfreq)))
        options = {"height": 0.4 * np.percentile(rectified, 99)}
    elif kind == "bvp":
        rectified = _filtered(x, sfreq, 0.5, min(8.0, 0.45 * sfreq))
        options = {"prominence": 0.3 * np.percentile(np.abs(rectified), 99)}
    else:
        raise ValueError(f"kind must be 'ecg' or 'bvp', got {kind!r}")
    peaks, _ = signal.find_peaks(rectified, distance=max(1, int(0.33 * sfreq)), **options)
    return peaks


def heart_features(x, sfreq, kind="ecg", window=60.0, stride=None) -> dict:
    """Heart rate and variability from ECG or BVP, per window.

    Uses the inter-beat intervals (IBI, s) whose closing beat lies in the window:
    hr_mean = 60 / mean IBI (bpm), sdnn = std of IBI (ms, ddof=1), rmssd = RMS of successive
    IBI differences (ms), lf_hf = LF (0.04-0.15 Hz) / HF (0.15-0.4 Hz) power of the IBI series
    resampled at 4 Hz (Welch, Hann segments of the whole window); NaN where the window holds
    fewer than 3 intervals, and lf_hf NaN for windows shorter than 25 s (one LF cycle).
    """
    peaks = beats(x, sfreq, kind)
    times = peaks / sfreq
    ibi, closing = np.diff(times), times[1:]
    out = {k: [] for k in ("hr_mean", "sdnn", "rmssd", "lf_hf")}
    for start, stop in _per_window(len(x), sfreq, window, stride):
        inside = (closing >= start / sfreq) & (closing < stop / sfreq)
        intervals = ibi[inside]
        if intervals.size < 3:
            for key in out:
                out[key].append(np.nan)
            continue
        out["hr_mean"].append(60.0 / intervals.mean())
        out["sdnn"].append(1000 * intervals.std(ddof=1))
        out["rmssd"].append(1000 * np.sqrt(np.mean(np.diff(intervals) ** 2)))
        long_enough = (stop - start) / sfreq >= 25.0
        out["lf_hf"].append(_lf_hf(closing[inside], intervals) if long_enough else np.nan)
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


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


def respiration_rate(resp, sfreq, window=60.0, stride=None) -> dict:
    """Breaths per minute: 60 / mean interval between inhalation peaks in the window.

    The signal is band-passed at 0.1-0.7 Hz (6-42 breaths/min); peaks at least 1.4 s apart with
    prominence above 30 % of the filtered signal's standard deviation. NaN with < 2 peaks.
    """
    from scipy import signal

    resp = _one_signal(resp, "resp", sfreq)
    filtered = _filtered(resp, sfreq, 0.1, 0.7)
    peaks, _ = signal.find_peaks(
        filtered, distance=max(1, int(1.4 * sfreq)), prominence=0.3 * filtered.std()
    )
    rates = []
    for start, stop in _per_window(resp.size, sfreq, window, stride):
        inside = peaks[(peaks >= start) & (peaks < stop)]
        rates.append(60.0 * sfreq / np.diff(inside).mean() if inside.size >= 2 else np.nan)
    return {"resp_rate": np.asarray(rates)}


def temperature_features(temp, sfreq, window=60.0, stride=None) -> dict:
    """Skin temperature per window: mean and least-squares slope (unit per second)."""
    temp = _one_signal(temp, "temp", sfreq)
    means, slopes = [], []
    for start, stop in _per_window(temp.size, sfreq, window, stride):
        part = temp[start:stop]
        seconds = np.arange(part.size) / sfreq
        means.append(part.mean())
        slopes.append(np.polyfit(seconds, part, 1)[0] if part.size > 1 else 0.0)
    return {"temp_mean": np.asarray(means), "temp_slope": np.asarray(slopes)}


def acc_features(acc, sfreq, window=60.0, stride=None) -> dict:
    """Acceleration (3, n_times): mean and standard deviation of the magnitude per window."""
    acc = np.asarray(acc, dtype=np.float64)
    if acc.ndim != 2 or acc.shape[0] != 3:
        raise ValueError(f"acc must have shape (3, n_times), got {acc.shape}")
    magnitude = _one_signal(np.sqrt((acc**2).sum(axis=0)), "acc", sfreq)
    windows = [magnitude[a:b] for a, b in _per_window(magnitude.size, sfreq, window, stride)]
    return {
        "acc_mean": np.array([w.mean() for w in windows]),
        "acc_std": np.array([w.std() for w in windows]),
    }
