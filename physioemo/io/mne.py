"""Windowed data as MNE epochs."""

from __future__ import annotations

import numpy as np

from ..recording import UNIT_TO_VOLTS, WindowSet


def to_epochs(windows: WindowSet, labels: np.ndarray | None = None, unit: str = "uV"):
    """Raw windows (`extract_windows(..., kind="raw")`) as an `mne.EpochsArray` in volts.

    windows: X (n_windows, n_channels, n_window_samples) in `unit`; info gives sfreq, ch_names.
    labels: optional (n_windows,) non-negative class labels, the events' codes (event ids
        "0", "1", ...); without them every window is event 1.
    Events sit at i * n_window_samples, as if the windows were laid end to end (MNE needs
    distinct sample numbers); the windows' trial and subject stay in `windows.groups`.
    """
    import mne

    if windows.info.get("kind") != "raw" or windows.X.ndim != 3:
        raise ValueError("to_epochs needs raw windows (n_windows, n_channels, n_times)")
    n_windows, _, n_times = windows.X.shape
    codes = np.ones(n_windows, int) if labels is None else np.asarray(labels, dtype=int)
    if codes.shape != (n_windows,) or codes.min(initial=0) < 0:
        raise ValueError(f"labels must be {n_windows} non-negative integers")
    events = np.column_stack([np.arange(n_windows) * n_times, np.zeros(n_windows, int), codes])
    info = mne.create_info(list(windows.info["ch_names"]), windows.info["sfreq"], "eeg")
    event_id = {str(code): int(code) for code in np.unique(codes)}
    data = windows.X.astype(np.float64) * UNIT_TO_VOLTS[unit]
    return mne.EpochsArray(data, info, events, event_id=event_id, verbose="error")
