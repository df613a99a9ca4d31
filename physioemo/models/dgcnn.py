"""DGCNN: dynamical graph convolutional network (Song et al., IEEE TAC 2018) on DE features.

Input: (batch, n_chans, n_bands) DE features; output: class logits (batch, n_outputs).
The adjacency between electrodes is a learnable matrix W (made symmetric and non-negative by
ReLU((W + W^T) / 2)); a Chebyshev graph convolution (`torch_geometric.nn.ChebConv`, symmetric
normalised Laplacian, `hops` + 1 polynomial terms) maps each electrode's bands to `hidden`
features, then ReLU, flatten, Linear(-> 64), ReLU, dropout, Linear(-> n_outputs).

Ours where the paper leaves room: W starts at 1 + N(0, 0.01) on every electrode pair (a
fully connected graph the training reshapes), hops 2, hidden 32, dropout 0.5.
"""

from __future__ import annotations

import torch
from torch import nn

from .base import SignatureMixin


class DGCNN(SignatureMixin, nn.Module):
    """DGCNN with a learnable adjacency (module docstring).

    Signature (`models.base`): needs n_chans (electrodes) and n_outputs.
    Options: n_bands (features per electrode, 4), hops (2), hidden (32), dropout (0.5).
    Input (batch, n_chans, n_bands) -> logits (batch, n_outputs).
    """

    #: (lowest, highest) of each size option a checkpoint may ask for (`training.checkpoint`)
    SIZE_LIMITS = {"n_bands": (1, 64), "hops": (0, 10), "hidden": (1, 256)}

    def __init__(
        self,
        *,
        n_bands: int = 4,
        hops: int = 2,
        hidden: int = 32,
        dropout: float = 0.5,
        **signature,
    ):
        from torch_geometric.nn import ChebConv

        super().__init__(**signature)
        n_chans, n_outputs = self.n_chans, self.n_outputs
        self.n_bands = n_bands
        self.adjacency = nn.Parameter(1 + 0.01 * torch.randn(n_chans, n_chans))
        pairs = torch.ones(n_chans, n_chans).triu(1).nonzero().T
        self.register_buffer(
            "edge_index", torch.cat([pairs, pairs.flip(0)], dim=1), persistent=False
        )
        self.graph_conv = ChebConv(n_bands, hidden, K=hops + 1)
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(n_chans * hidden, 64),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(64, n_outputs),
        )

    def edge_weight(self) -> torch.Tensor:
        """Weights of `edge_index` from the symmetric, non-negative learned adjacency."""
        symmetric = torch.relu((self.adjacency + self.adjacency.T) / 2)
        return symmetric[self.edge_index[0], self.edge_index[1]]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1:] != (self.n_chans, self.n_bands):
            raise ValueError(
                f"DGCNN expects (batch, {self.n_chans}, {self.n_bands}), got {tuple(x.shape)}"
            )
        batch = x.shape[0]
        offsets = torch.arange(batch, device=x.device).repeat_interleave(self.edge_index.shape[1])
        edge_index = self.edge_index.repeat(1, batch) + offsets * self.n_chans
        nodes = self.graph_conv(
            x.reshape(batch * self.n_chans, self.n_bands),
            edge_index,
            self.edge_weight().repeat(batch),
            batch=torch.arange(batch, device=x.device).repeat_interleave(self.n_chans),
        )
        return self.head(nodes.view(batch, self.n_chans, -1))
