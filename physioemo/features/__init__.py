"""Features of windows: differential entropy and band power (see `spectral`)."""

from .spectral import BANDS, band_power, differential_entropy, window_bounds

#: kind name -> feature function(x, sfreq, bands=..., window=..., stride=...)
FEATURES = {"de": differential_entropy, "bp": band_power}

__all__ = ["BANDS", "FEATURES", "band_power", "differential_entropy", "window_bounds"]
