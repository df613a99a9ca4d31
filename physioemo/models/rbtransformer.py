"""RBTransformer (Kumar, Bhandari, Maragatham, arXiv 2511.13954), as in the authors' code
(papers.md, RBTransformer section 2).

Input: band differential-entropy (BDE) tokens, one per electrode, (batch, n_chans, n_bands)
with 4 bands (theta, alpha, beta, gamma). Output: class logits (batch, n_outputs).

* Linear(n_bands -> 128) projection plus a learnable electrode-identity embedding
  (1, n_chans, 128), initialised N(0, 1), then dropout.
* 4 pre-norm blocks: x + MHSA(LN(x)), x + FFN(LN(x)). MHSA: one bias-free Linear to Q, K, V of
  6 heads x 32, scale 32^-0.5, softmax over electrodes (an electrode x electrode map per head),
  dropout on the attention weights, Linear(192 -> 128) and dropout. FFN: 128 -> 128, GELU,
  dropout, 128 -> 128, dropout.
* Head: mean over electrodes, LayerNorm(128), MLP 128 -> 256 -> 256 -> 128 (GELU, dropout)
  -> n_outputs.

Parameters: 660,480 + 128 n_chans + 129 n_outputs (662,530 for DREAMER binary). Dropout 0.1
everywhere; PyTorch default initialisation. `forward(x, return_attention=True)` also returns
the attention maps for plotting.
"""

from __future__ import annotations

import torch
from torch import nn

from .base import SignatureMixin


class InterCorticalAttention(nn.Module):
    """Multi-head self-attention across electrode tokens; keeps the last attention maps."""

    def __init__(self, dim: int, heads: int, head_dim: int, dropout: float):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        self.qkv = nn.Linear(dim, 3 * heads * head_dim, bias=False)
        self.attention_dropout = nn.Dropout(dropout)
        self.out = nn.Sequential(nn.Linear(heads * head_dim, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, dim) -> output (B, N, dim) and attention (B, heads, N, N)."""
        batch, tokens, _ = x.shape
        q, k, v = (
            self.qkv(x).view(batch, tokens, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        )
        attention = torch.softmax(q @ k.transpose(-2, -1) * self.head_dim**-0.5, dim=-1)
        mixed = self.attention_dropout(attention) @ v  # (B, heads, N, head_dim)
        return self.out(mixed.transpose(1, 2).reshape(batch, tokens, -1)), attention


class Block(nn.Module):
    """Pre-norm transformer block: x + MHSA(LN(x)), then x + FFN(LN(x))."""

    def __init__(self, dim: int, heads: int, head_dim: int, hidden: int, dropout: float):
        super().__init__()
        self.norm_attention = nn.LayerNorm(dim)
        self.attention = InterCorticalAttention(dim, heads, head_dim, dropout)
        self.norm_ffn = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(
            nn.Linear(dim, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, dim),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        update, attention = self.attention(self.norm_attention(x))
        x = x + update
        return x + self.ffn(self.norm_ffn(x)), attention


class RBTransformer(SignatureMixin, nn.Module):
    """RBTransformer on BDE tokens (module docstring has the layers and the paper's sizes).

    Signature (`models.base`): needs n_chans (electrodes = tokens) and n_outputs.
    Options: n_bands (DE bands per token, 4); dim, depth, heads, head_dim, hidden, dropout:
    128, 4, 6, 32, 128, 0.1 (the paper's run).
    Input (batch, n_chans, n_bands) -> logits (batch, n_outputs).
    """

    #: (lowest, highest) of each size option a checkpoint may ask for (`training.checkpoint`);
    #: at all of them together the model has about 51 M parameters
    SIZE_LIMITS = {
        "n_bands": (1, 64),
        "dim": (1, 512),
        "depth": (1, 12),
        "heads": (1, 16),
        "head_dim": (1, 64),
        "hidden": (1, 2048),
    }

    def __init__(
        self,
        *,
        n_bands: int = 4,
        dim: int = 128,
        depth: int = 4,
        heads: int = 6,
        head_dim: int = 32,
        hidden: int = 128,
        dropout: float = 0.1,
        **signature,
    ):
        super().__init__(**signature)
        n_chans, n_outputs = self.n_chans, self.n_outputs
        self.n_bands = n_bands
        self.projection = nn.Linear(n_bands, dim)
        self.electrode_identity = nn.Parameter(torch.randn(1, n_chans, dim))
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            Block(dim, heads, head_dim, hidden, dropout) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(dim)
        layers, width = [], dim
        for size in (256, 256, 128):
            layers += [nn.Linear(width, size), nn.GELU(), nn.Dropout(dropout)]
            width = size
        self.head = nn.Sequential(*layers, nn.Linear(width, n_outputs))

    def forward(self, x: torch.Tensor, return_attention: bool = False):
        """Logits (B, n_outputs); with return_attention also the maps (B, depth, heads, N, N)."""
        if x.ndim != 3 or x.shape[1:] != (self.n_chans, self.n_bands):
            raise ValueError(
                f"RBTransformer expects (batch, {self.n_chans}, {self.n_bands}) DE tokens, "
                f"got {tuple(x.shape)}"
            )
        x = self.dropout(self.projection(x) + self.electrode_identity)
        maps = []
        for block in self.blocks:
            x, attention = block(x)
            maps.append(attention)
        logits = self.head(self.norm(x.mean(dim=1)))
        return (logits, torch.stack(maps, dim=1)) if return_attention else logits
