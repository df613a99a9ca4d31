"""EEG and physiology joined per window: the fused recipe "de+peripheral".

Each window's differential entropy per EEG channel and band (`extraction.band_part`, with its
baseline handling) flattened channel by channel, followed by the window's peripheral features
(`peripheral_windows.peripheral_part`: DEAP's GSR, respiration, plethysmograph and
temperature; DREAMER's ECG heart rate and variability), on one grid in seconds: window k spans
[k * stride, k * stride + window) s of the trial in both, so the EEG-only ("de"),
physiology-only ("peripheral") and fused rows of one benchmark with the same window and
stride cover the same windows. ``causal=True`` computes both sides as a live stream does (DE
filtered causally, ``zero_phase=False``; causal peripheral features). The peripheral features
take no baseline (ours: DEAP's 3-s baseline holds too few beats for a heart rate).
"""

from __future__ import annotations

import numpy as np

from ..recording import Recording
from ..windows import Part
from .extraction import band_part
from .peripheral_windows import peripheral_part
from .spectral import BANDS, FILTER_ORDER


def fused_part(
    recording: Recording,
    window=10.0,
    stride=5.0,
    baseline="auto",
    bands=None,
    heart="auto",
    inputs="auto",
    causal=False,
    filter_order=FILTER_ORDER,
) -> Part:
    """(n_windows, n_channels * n_bands + n_peripheral) features of one trial, named
    "<channel> <band>" then the peripheral names; extra "t" as `peripheral_part` gives it
    (no EDA target: no model reads one from fused windows).

    window, stride (s), baseline, bands, filter_order: the DE side's (`band_part`); heart,
    inputs: the peripheral side's. ValueError when the two sides' windows do not start
    together (a stride that is no whole number of samples of the EEG)."""
    eeg = band_part(recording, "de", window, stride, baseline, bands, not causal, filter_order)
    body = peripheral_part(recording, window, stride, heart, inputs, causal)
    n = min(len(eeg.X), len(body.X))
    if not np.array_equal(eeg.starts[:n], body.starts[:n]):
        raise ValueError(
            f"stride {stride} s is not a whole number of samples at {recording.sfreq:g} Hz: the "
            "EEG and peripheral windows would not start together"
        )
    x = np.hstack([eeg.X[:n].reshape(n, -1), body.X[:n]])
    bands = dict(bands or BANDS)
    names = (*(f"{ch} {band}" for ch in recording.ch_names for band in bands), *body.names)
    return Part(x, eeg.starts[:n], eeg.stops[:n], {"t": body.extra["t"][:n]}, names)
