"""EEGNet (Lawhern et al., J. Neural Eng. 2018), the compact CNN used as a baseline on raw
windows (EEGNet-8,2 as in the HiSTN authors' baseline, papers.md 1.8).

Input (batch, n_chans, n_times) -> logits (batch, n_outputs).
Block 1: Conv2d(1 -> F1, (1, kernel_length), same, no bias), BN, depthwise Conv2d (n_chans, 1)
with D filters per temporal filter (max-norm 1), BN, ELU, average pool (1, 4), dropout.
Block 2: separable conv (depthwise (1, 16) then pointwise to F2), BN, ELU, average pool (1, 8),
dropout. Classifier: flatten, Linear (max-norm 0.25).

Ours: kernel_length = sfreq / 2 samples (64 at 128 Hz, EEGNet's paper value) unless given,
dropout 0.5, Keras BatchNorm settings. n_times must be at least 32.
"""

from __future__ import annotations

import torch
from torch import nn

from ._layers import KERAS_BN, MaxNormMixin
from .base import SignatureMixin


class EEGNet(MaxNormMixin, SignatureMixin, nn.Module):
    """EEGNet-F1,D (module docstring).

    Signature (`models.base`): needs n_chans, n_outputs and n_times (it sizes the classifier;
    give it or window_seconds with sfreq); sfreq sets the default kernel length.
    Options: f1 (8), depth (D, 2), f2 (16), kernel_length (sfreq / 2), dropout (0.5).
    """

    #: (lowest, highest) of each size option a checkpoint may ask for (`training.checkpoint`);
    #: n_times is bounded here too, as the classifier grows with f2 x n_times x n_outputs
    SIZE_LIMITS = {
        "f1": (1, 64),
        "depth": (1, 8),
        "f2": (1, 64),
        "kernel_length": (1, 4096),
        "n_times": (32, 16384),
    }

    def __init__(
        self,
        *,
        f1: int = 8,
        depth: int = 2,
        f2: int = 16,
        kernel_length: int | None = None,
        dropout: float = 0.5,
        **signature,
    ):
        super().__init__(**signature)
        n_chans, n_outputs, n_times, sfreq = self.n_chans, self.n_outputs, self.n_times, self.sfreq
        if n_times is None or n_times < 32:
            raise ValueError(f"EEGNet needs n_times >= 32 samples, got {n_times}")
        length = kernel_length or (int(round(sfreq / 2)) if sfreq else 64)
        self.block1 = nn.Sequential(
            nn.ZeroPad2d(((length - 1) // 2, length // 2, 0, 0)),
            nn.Conv2d(1, f1, (1, length), bias=False),
            nn.BatchNorm2d(f1, **KERAS_BN),
            nn.Conv2d(f1, f1 * depth, (n_chans, 1), groups=f1, bias=False),
            nn.BatchNorm2d(f1 * depth, **KERAS_BN),
            nn.ELU(),
            nn.AvgPool2d((1, 4)),
            nn.Dropout(dropout),
        )
        self.block2 = nn.Sequential(
            nn.ZeroPad2d((7, 8, 0, 0)),
            nn.Conv2d(f1 * depth, f1 * depth, (1, 16), groups=f1 * depth, bias=False),
            nn.Conv2d(f1 * depth, f2, 1, bias=False),
            nn.BatchNorm2d(f2, **KERAS_BN),
            nn.ELU(),
            nn.AvgPool2d((1, 8)),
            nn.Dropout(dropout),
        )
        self.classifier = nn.Linear(f2 * (n_times // 4 // 8), n_outputs)
        self.max_norms = [("block1.3.weight", 1.0, (1, 2, 3)), ("classifier.weight", 0.25, (1,))]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1] != self.n_chans:
            raise ValueError(
                f"EEGNet expects (batch, {self.n_chans}, n_times), got {tuple(x.shape)}"
            )
        return self.classifier(self.block2(self.block1(x[:, None])).flatten(1))
