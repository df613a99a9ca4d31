"""Features of windows: spectral (DE, band power), asymmetry, smoothing, peripheral physiology.

Arrays are (..., n_channels, n_times) in, (..., n_windows, n_channels, n_bands) out. The heavy
lifting runs in Numba kernels compiled on first use (`_kernels`), not at import.
"""

from .asymmetry import (
    SEED_CHANNELS,
    asm,
    dasm,
    dcau,
    frontal_posterior_pairs,
    mirror_pairs,
    rasm,
)
from .smoothing import baseline_correct, lds_smooth, moving_average
from .spectral import (
    BANDS,
    band_power,
    bandpass_sos,
    de_from_variance,
    differential_entropy,
    psd_de,
    window_bounds,
)
from .streaming import CausalFilterBank

#: kind name -> feature function(x, sfreq, bands=..., window=..., stride=...)
FEATURES = {"de": differential_entropy, "bp": band_power, "psd_de": psd_de}

__all__ = [
    "BANDS",
    "FEATURES",
    "SEED_CHANNELS",
    "CausalFilterBank",
    "asm",
    "band_power",
    "bandpass_sos",
    "baseline_correct",
    "dasm",
    "dcau",
    "de_from_variance",
    "differential_entropy",
    "frontal_posterior_pairs",
    "lds_smooth",
    "mirror_pairs",
    "moving_average",
    "psd_de",
    "rasm",
    "window_bounds",
]
