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
from .extraction import BAND_FEATURES
from .recipes import extract_windows
from .smoothing import baseline_correct, lds_smooth, moving_average
from .spectral import (
    BANDS,
    band_power,
    bandpass_sos,
    de_from_variance,
    differential_entropy,
    psd_de,
)
from .streaming import CausalFilterBank

__all__ = [
    "BANDS",
    "BAND_FEATURES",
    "SEED_CHANNELS",
    "CausalFilterBank",
    "asm",
    "band_power",
    "bandpass_sos",
    "baseline_correct",
    "dasm",
    "dcau",
    "extract_windows",
    "de_from_variance",
    "differential_entropy",
    "frontal_posterior_pairs",
    "lds_smooth",
    "mirror_pairs",
    "moving_average",
    "psd_de",
    "rasm",
]
