"""scikit-learn transformers over epochs (n_epochs, n_channels, n_times) -> flat features.

Each epoch is one window: ``make_pipeline(DifferentialEntropy(sfreq=128), StandardScaler(),
SVC())`` fits on raw epochs. Constructors only store their arguments (clone-safe).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .spectral import FILTER_ORDER, band_power, check_signal, differential_entropy, psd_de


class _EpochFeature(TransformerMixin, BaseEstimator):
    """Stateless base: `transform` computes the features of each whole epoch."""

    def fit(self, X, y=None):
        self._epochs(X)
        return self

    def _epochs(self, X) -> np.ndarray:
        X = check_signal(X, "X")
        if X.ndim != 3:
            raise ValueError(f"X must have shape (n_epochs, n_channels, n_times), got {X.shape}")
        return X

    def transform(self, X) -> np.ndarray:
        """(n_epochs, n_channels, n_times) -> (n_epochs, n_channels * n_bands)."""
        X = self._epochs(X)
        features = self._features(X, window=X.shape[-1] / self.sfreq)
        return features.reshape(len(X), -1)

    def __sklearn_is_fitted__(self) -> bool:
        return True


class DifferentialEntropy(_EpochFeature):
    """DE per channel and band of each epoch (see `differential_entropy`)."""

    def __init__(
        self, sfreq=128.0, bands=None, zero_phase=True, log_base=np.e, filter_order=FILTER_ORDER
    ):
        self.sfreq = sfreq
        self.bands = bands
        self.zero_phase = zero_phase
        self.log_base = log_base
        self.filter_order = filter_order

    def _features(self, X, window):
        return differential_entropy(
            X,
            self.sfreq,
            self.bands,
            window,
            zero_phase=self.zero_phase,
            log_base=self.log_base,
            filter_order=self.filter_order,
        )


class BandPower(_EpochFeature):
    """Mean PSD per channel and band of each epoch (see `band_power`); log10 when log=True."""

    def __init__(self, sfreq=128.0, bands=None, method="welch", relative=False, log=False):
        self.sfreq = sfreq
        self.bands = bands
        self.method = method
        self.relative = relative
        self.log = log

    def _features(self, X, window):
        power = band_power(
            X, self.sfreq, self.bands, window, method=self.method, relative=self.relative
        )
        return np.log10(power) if self.log else power


class PsdDifferentialEntropy(_EpochFeature):
    """DE from the spectrum per channel and band of each epoch (see `psd_de`)."""

    def __init__(self, sfreq=128.0, bands=None, method="fft", log_base=np.e):
        self.sfreq = sfreq
        self.bands = bands
        self.method = method
        self.log_base = log_base

    def _features(self, X, window):
        return psd_de(X, self.sfreq, self.bands, window, method=self.method, log_base=self.log_base)
