"""Checks every loader makes on what it read; the decisions are listed in docs/refusals.md.

Refusals raise `DatasetFormatError` naming the file and the key, field or channel: what would
make features or labels wrong without a word (complex samples, ratings off their scale or
between its points, duplicate channel names, a rate that is not a positive number, a trial
with no samples or longer than any recording could be). Warnings (`DataQualityWarning`,
through `warnings`, once per file) name the file, channels and trials, and leave the data as
read: flat, railed or duplicated channels happen in real recordings, and the user decides
whether to drop them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import DataQualityWarning, DatasetFormatError, clean

#: a channel is railed when this fraction of its samples (and at least `RAIL_SAMPLES`) sit at
#: its minimum or its maximum value: a clipped amplifier, not a signal
RAIL_FRACTION, RAIL_SAMPLES = 0.05, 10
#: longest recording a trial may be (s); anything longer is damage, e.g. a compressed MAT
#: field that inflates to gigabytes (DREAMER's longest clip is 393 s, WESAD's sessions < 2 h)
MAX_SECONDS = 6 * 3600.0
#: highest sampling rate a file may state (Hz)
MAX_RATE = 100_000.0


def listing(values: Iterable, limit: int = 10) -> str:
    """`values` read from a file as a short, sanitised, comma-separated list."""
    values = list(values)
    shown = ", ".join(clean(value, 40) for value in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "") or "none"


def real(values: np.ndarray, where: str) -> np.ndarray:
    """`values` as real numbers: complex ones are refused unless every imaginary part is 0."""
    if not np.iscomplexobj(values):
        return values
    if np.any(values.imag):
        raise DatasetFormatError(f"{where} holds complex values; expected real samples")
    return values.real


def rate(value: float, where: str) -> float:
    """A sampling rate: a finite number in (0, MAX_RATE] Hz."""
    if not (math.isfinite(value) and 0 < value <= MAX_RATE):
        raise DatasetFormatError(f"{where}: sampling rate {value!r} is not in (0, {MAX_RATE:g}] Hz")
    return value


def channel_names(names: Sequence[str], where: str) -> list[str]:
    """Channel names read from a file: refused when one is empty or two are the same
    (compared case-insensitively, as montages match them)."""
    spellings: dict[str, list[str]] = {}
    for name in names:
        spellings.setdefault(name.lower(), []).append(name)
    repeated = [same[0] for same in spellings.values() if len(same) > 1]
    if repeated or "" in spellings:
        problem = f"repeated: {listing(repeated)}" if repeated else "one is empty"
        raise DatasetFormatError(f"{where}: channel names must be distinct ({problem})")
    return list(names)


def ratings(values, where: str, low: float, high: float, whole: bool = False) -> np.ndarray:
    """Ratings on the scale low..high, refused when NaN, outside it, or (with `whole`) between
    its points (DREAMER's 2.5 would otherwise be truncated to 2)."""
    values = np.asarray(values, dtype=float)
    missing = np.flatnonzero(np.isnan(values))
    if missing.size:
        raise DatasetFormatError(f"{where}: rating(s) {listing(missing + 1)} are missing (NaN)")
    outside = (values < low) | (values > high)
    if outside.any():
        raise DatasetFormatError(
            f"{where}: ratings span {values.min():g}..{values.max():g}, outside {low:g}..{high:g}"
        )
    if whole and not np.all(values == np.round(values)):
        between = values[values != np.round(values)]
        raise DatasetFormatError(
            f"{where}: ratings must be whole points of {low:g}..{high:g}, got {listing(between)}"
        )
    return values


def length(n_samples: int, sfreq: float, where: str) -> int:
    """A trial's sample count: refused when 0 or longer than `MAX_SECONDS`."""
    if n_samples == 0:
        raise DatasetFormatError(f"{where}: the trial holds no samples")
    if n_samples > MAX_SECONDS * sfreq:
        raise DatasetFormatError(
            f"{where}: {n_samples:,} samples at {sfreq:g} Hz ({n_samples / sfreq:,.0f} s), "
            f"longer than any recording ({MAX_SECONDS:,.0f} s)"
        )
    return n_samples


def warn_channels(trials: Iterable[tuple[object, np.ndarray]], ch_names, where: str) -> None:
    """Warn once per kind about flat, railed and duplicated channels among `trials`, pairs of
    (trial label, (n_channels, n_times) data) of one file (`where`)."""
    found: dict[str, dict[str, list]] = {"flat": {}, "railed": {}, "duplicated": {}}
    n_trials = 0
    for label, data in trials:
        n_trials += 1
        for kind, channels in _channel_problems(np.asarray(data), ch_names).items():
            for channel in channels:
                found[kind].setdefault(channel, []).append(label)
    for kind, channels in found.items():
        by_trials: dict[tuple, list[str]] = {}  # channels sharing their trials go together
        for name, labels in channels.items():
            by_trials.setdefault(tuple(labels), []).append(name)
        if by_trials:
            cells = "; ".join(
                f"{listing(names)} ({_trials(list(labels), n_trials)})"
                for labels, names in by_trials.items()
            )
            warnings.warn(f"{where}: {kind} channel(s): {cells}", DataQualityWarning, stacklevel=3)


def _channel_problems(data: np.ndarray, ch_names) -> dict[str, list[str]]:
    """Channels of one trial that are flat (one value), railed, or copies of another."""
    if data.size == 0:
        return {}
    low, high = data.min(axis=1), data.max(axis=1)
    flat = low == high
    at_edge = np.maximum((data == low[:, None]).sum(axis=1), (data == high[:, None]).sum(axis=1))
    railed = ~flat & (at_edge >= max(RAIL_FRACTION * data.shape[1], RAIL_SAMPLES))
    first_of: dict[bytes, int] = {}
    duplicated = []
    for i in np.flatnonzero(~flat):
        first = first_of.setdefault(data[i].tobytes(), i)
        if first != i:
            duplicated.append(f"{ch_names[i]} (= {ch_names[first]})")
    return {
        "flat": [ch_names[i] for i in np.flatnonzero(flat)],
        "railed": [ch_names[i] for i in np.flatnonzero(railed)],
        "duplicated": duplicated,
    }


def _trials(labels: list, n_trials: int) -> str:
    if len(labels) == n_trials and n_trials > 1:
        return f"all {n_trials} trials"
    return ("trial " if len(labels) == 1 else "trials ") + listing(labels, 5)
