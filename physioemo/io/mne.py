"""Windowed data as MNE epochs: positions, metadata and named events included."""

from __future__ import annotations

import numpy as np

from ..recording import UNIT_TO_VOLTS, WindowSet


def event_names(scheme) -> list[str]:
    """Event names of a label scheme's classes, ``"<dimension>/<class>"``: "low"/"high" for a
    binary scheme, the scale point ("1" ... "9") for an ordinal one, the class name for a
    categorical one (e.g. "emotion/positive"); MNE selects by either part
    (``epochs["valence"]``, ``epochs["high"]``)."""
    classes = ["low", "high"] if getattr(scheme, "kind", None) == "binary" else scheme.class_names
    return [f"{scheme.dimension}/{name}" for name in classes]


def window_metadata(windows: WindowSet, labels=None, names=None):
    """One row per window (a pandas DataFrame): subject, session, trial, start and stop
    (samples within the trial), tmin (s), every rating, and with `labels` the class code
    ("label") and its event name ("event")."""
    import pandas as pd

    groups = windows.groups
    table = {field: groups[field] for field in ("subject", "session", "trial", "start", "stop")}
    table["tmin"] = groups["start"] / float(windows.info["sfreq"])
    table.update({name: np.asarray(values) for name, values in windows.ratings.items()})
    if labels is not None:
        table["label"] = labels
        table["event"] = [names[code] for code in labels]
    return pd.DataFrame(table)


def to_epochs(windows: WindowSet, labels=None, unit: str = "uV", names=None):
    """Raw windows (`extract_windows(..., kind="raw")`) as an `mne.EpochsArray` in volts.

    windows: X (n_windows, n_channels, n_window_samples) in `unit`; info gives sfreq, ch_names.
    labels: (n_windows,) non-negative class codes, or a label scheme (`physioemo.labels`)
        applied to `windows.ratings`. Without them every window is event 1, "window".
    names: event name per class code (a list, or a dict by code); default `event_names` of a
        scheme, else "class/<code>".
    The epochs carry template positions for the channels that name 10-05 sites (so
    ``epochs.average().plot_topomap()`` works), channel types by name
    (`montage.channel_type`), and `window_metadata` as ``epochs.metadata`` (needs pandas).
    Events sit at i * n_window_samples, as if the windows were laid end to end (MNE needs
    distinct sample numbers); a window's place in its trial is in the metadata.
    """
    import mne

    from ..montage import channel_types, digmontage

    if windows.info.get("kind") != "raw" or windows.X.ndim != 3:
        raise ValueError("to_epochs needs raw windows (n_windows, n_channels, n_times)")
    n_windows, _, n_times = windows.X.shape
    if callable(labels):
        names = names or event_names(labels)
        labels = labels(windows.ratings)
    if labels is None:
        codes, names = np.ones(n_windows, int), {1: "window"}
    else:
        codes = np.asarray(labels, dtype=int)
        if codes.shape != (n_windows,) or codes.min(initial=0) < 0:
            raise ValueError(f"labels must be {n_windows} non-negative integers")
        if not names:
            names = {int(c): f"class/{c}" for c in np.unique(codes)}
        names = names if isinstance(names, dict) else dict(enumerate(names))
        unnamed = sorted(set(np.unique(codes).tolist()) - set(names))
        if unnamed:
            raise ValueError(f"no event name for label(s) {unnamed}")
    events = np.column_stack([np.arange(n_windows) * n_times, np.zeros(n_windows, int), codes])
    ch_names = list(windows.info["ch_names"])
    info = mne.create_info(ch_names, windows.info["sfreq"], channel_types(ch_names))
    event_id = {names[code]: int(code) for code in np.unique(codes)}
    metadata = window_metadata(windows, None if labels is None else codes, names)
    data = windows.X.astype(np.float64) * UNIT_TO_VOLTS[unit]
    epochs = mne.EpochsArray(
        data, info, events, event_id=event_id, metadata=metadata, verbose="error"
    )
    return epochs.set_montage(digmontage(ch_names), on_missing="ignore")
