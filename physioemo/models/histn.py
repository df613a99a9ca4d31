"""HiSTN: hierarchical spatial-temporal graph network (Kuang, Song, Michoski, arXiv 2408.15255).

Rebuilt layer by layer from the authors' Keras ``HST_model`` (papers.md 1.3). Input: raw
windows (batch, n_chans, n_times), e.g. DREAMER's 1-s windows (14 x 128 at 128 Hz); output:
class logits (batch, n_outputs) -- the paper's 5 ordinal classes, trained with the ordinal
Gaussian targets of `physioemo.training.losses`.

1. Temporal filter bank: Conv2D(8, (64, 1), same, no bias) shared by all electrodes.
2. Per-electrode depthwise (1, 8) mix of the 8 filtered copies (max-norm 1), BN, ELU;
   per-electrode depthwise (5, 1) 'valid' temporal conv (max-norm 1), BN, ELU;
   average pool 2, dropout -> X (batch, T', C).
3. Node level: per region, Chebyshev filter X_r P_r (K = 2 hops) then SeparableConv1D
   (n_r filters, kernel 5, pointwise max-norm 1); concatenate, BN, ELU = X_agg;
   X_out = X + X_agg.
4. Region level: data-dependent weighted average of each region's electrodes (softmax of a
   Dense on the time-pooled channels) applied to X (fusion a) and to X_agg (fusion b);
   X_R_out = Cheb_ring(fusion_a(X)) + fusion_b(X_agg).
5. Global level: softmax-weighted collapse of the regions, X_G_out = collapse_a(fusion_a(X))
   + collapse_b(fusion_b(X_agg)).
6. Concatenate [X_out | X_R_out | X_G_out] (C + R + 1 channels), average over time,
   dropout, Dense(n_outputs).

With DREAMER settings: 1,181 trainable parameters, 1,265 with the BatchNorm statistics.

Chebyshev filter (the paper's formula): L = D - A (``torch_geometric.utils.get_laplacian``),
L~ = 2 L / lambda_max - I, T_0 = I, T_1 = L~, T_k = 2 L~ T_(k-1) - T_(k-2), P = sum theta_k T_k,
Y = X P. A graph without edges (one-electrode region) has L = 0, so L~ = -I (ours).

Ours where the paper is silent: weights initialised Glorot-uniform with zero biases (Keras
defaults), Chebyshev thetas uniform(-1, 1) (Keras' Glorot for a length-3 vector), the temporal
kernel scaled with the sampling rate (sfreq / 2 samples, 64 at 128 Hz) for other headsets.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._layers import KERAS_BN, MaxNormMixin
from .base import SignatureMixin
from .hierarchy import Hierarchy, dreamer_hierarchy, hierarchy_from_montage


def chebyshev_basis(edge_index: np.ndarray, n_nodes: int, hops: int) -> torch.Tensor:
    """(hops + 1, n_nodes, n_nodes) Chebyshev polynomials T_k of the scaled Laplacian."""
    from torch_geometric.utils import get_laplacian, to_dense_adj

    edges = torch.as_tensor(edge_index, dtype=torch.long)
    index, weight = get_laplacian(edges, num_nodes=n_nodes)
    laplacian = to_dense_adj(index, edge_attr=weight, max_num_nodes=n_nodes)[0]
    lambda_max = torch.linalg.eigvalsh(laplacian).abs().max()
    identity = torch.eye(n_nodes)
    scaled = 2 * laplacian / lambda_max - identity if lambda_max > 0 else -identity
    basis = [identity, scaled]
    while len(basis) <= hops:
        basis.append(2 * scaled @ basis[-1] - basis[-2])
    return torch.stack(basis[: hops + 1])


class ChebyshevFilter(nn.Module):
    """The paper's Y = X P, P = sum_k theta_k T_k(L~), on channel-first x (..., n_nodes, T)."""

    def __init__(self, edge_index: np.ndarray, n_nodes: int, hops: int = 2):
        super().__init__()
        self.register_buffer("basis", chebyshev_basis(edge_index, n_nodes, hops), persistent=False)
        self.theta = nn.Parameter(torch.empty(hops + 1).uniform_(-1.0, 1.0))

    def operator(self) -> torch.Tensor:
        """(n_nodes, n_nodes) P = sum_k theta_k T_k."""
        return torch.einsum("k,kij->ij", self.theta, self.basis)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.operator().T @ x


class RegionFusion(nn.Module):
    """(B, C, T) -> (B, R, T): per region, softmax(Dense(time-mean of its channels)) weights
    average its electrodes.

    All regions at once: the regions' Dense layers as one block-diagonal (C, C) matrix, the
    softmax taken within each region (scores minus their region's maximum, exponentials
    summed per region through the (C, R) membership matrix), and the weighted averages as
    one batched product; the same arithmetic as a loop over the regions, in a few operations.
    """

    def __init__(self, sizes: list[int]):
        super().__init__()
        self.sizes = list(sizes)
        self.scores = nn.ModuleList(nn.Linear(n, n) for n in sizes)
        region = torch.repeat_interleave(torch.arange(len(sizes)), torch.as_tensor(sizes))
        self.register_buffer("region", region, persistent=False)  # (C,) region of a channel
        member = nn.functional.one_hot(region, len(sizes)).float()
        self.register_buffer("member", member, persistent=False)  # (C, R)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = torch.block_diag(*(score.weight for score in self.scores))
        bias = torch.cat([score.bias for score in self.scores])
        scores = nn.functional.linear(x.mean(dim=-1), weight, bias)  # (B, C)
        index = self.region.expand_as(scores)
        peak = torch.full((len(x), len(self.sizes)), -torch.inf, device=x.device)
        peak = peak.scatter_reduce(1, index, scores.detach(), "amax")  # softmax is shift-free
        exp = torch.exp(scores - peak.gather(1, index))
        weights = exp / (exp @ self.member).gather(1, index)  # (B, C), summing to 1 per region
        return torch.bmm((weights[:, :, None] * self.member).transpose(1, 2), x)


class RegionCollapse(nn.Module):
    """(B, R, T) -> (B, 1, T): softmax(Dense(time-mean)) weighted sum of the regions."""

    def __init__(self, n_regions: int):
        super().__init__()
        self.score = nn.Linear(n_regions, n_regions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.score(x.mean(dim=-1)), dim=-1)
        return (x * weights[:, :, None]).sum(dim=1, keepdim=True)


class NodeLevel(nn.Module):
    """Per region: Chebyshev filter then SeparableConv1D (n_r filters, kernel 5, 'same')."""

    def __init__(self, hierarchy: Hierarchy, hops: int, kernel: int = 5):
        super().__init__()
        self.sizes = hierarchy.sizes
        self.graphs = nn.ModuleList(
            ChebyshevFilter(hierarchy.region_edge_index(r), n, hops)
            for r, n in zip(hierarchy.regions, self.sizes, strict=True)
        )
        self.depthwise = nn.ModuleList(
            nn.Conv1d(n, n, kernel, padding="same", groups=n, bias=False) for n in self.sizes
        )
        self.pointwise = nn.ModuleList(nn.Conv1d(n, n, 1, bias=False) for n in self.sizes)

    def kernel(self) -> torch.Tensor:
        """(C, C, kernel): the regions' graph, depthwise and pointwise operators as the one
        convolution they compose to, K[o, i, k] = sum_c pointwise[o, c] depthwise[c, k]
        graph[i, c], with the graph and pointwise operators block-diagonal over the regions."""
        graph = torch.block_diag(*(g.operator() for g in self.graphs))
        depthwise = torch.cat([conv.weight[:, 0, :] for conv in self.depthwise])  # (C, kernel)
        pointwise = torch.block_diag(*(conv.weight[:, :, 0] for conv in self.pointwise))
        return torch.einsum("oc,ck,ic->oik", pointwise, depthwise, graph)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) with regions contiguous along C -> (B, C, T): every region's Chebyshev
        filter, depthwise and pointwise convolutions as one (C, C, kernel) convolution (the
        three are linear and bias-free; `kernel`), one operation instead of three per region."""
        return nn.functional.conv1d(x, self.kernel(), padding="same")


class HiSTN(MaxNormMixin, SignatureMixin, nn.Module):
    """HiSTN (module docstring has the layers).

    Signature (`models.base`): needs n_chans and n_outputs (5 classes in the paper); sfreq
    sets the temporal kernel to sfreq / 2 samples (64 at DREAMER's 128 Hz); ch_names (10-20)
    place the electrodes, DREAMER's 14 by default when n_chans is 14. n_times is not needed
    by the layers.
    Options: regions (region map in ring order, name -> channel names; default the paper's
    for DREAMER, our five-region split for other montages, `hierarchy.hierarchy_from_montage`),
    n_filters (temporal filters, 8), filter_length (sfreq / 2), hops (Chebyshev order K, 2),
    dropout (0.5, the paper's subject-dependent scripts; 0.2 in its subject-independent ones).
    Input (batch, n_chans, n_times) -> logits (batch, n_outputs).

    Internally tensors stay channel-first, (batch, channels, time), the transpose of the
    paper's Keras layout with the same arithmetic; it avoids copies on CPU. The arithmetic is
    grouped for speed, the same up to float rounding (`tests/test_models.py` holds it to the
    layer-by-layer computation): the filter bank and each electrode's mix as one kernel per
    electrode, applied as banded matrix products where gradients follow (`banded_correlation`)
    and as a grouped convolution where none do (predicting, live); each region's graph,
    depthwise and pointwise operators as one convolution (`NodeLevel.kernel`); the region
    fusions without a loop over regions.
    """

    #: (lowest, highest) of each size option a checkpoint may ask for (`training.checkpoint`)
    SIZE_LIMITS = {"n_filters": (1, 64), "filter_length": (1, 4096), "hops": (1, 10)}

    def __init__(
        self,
        *,
        regions: dict[str, list[str]] | None = None,
        n_filters: int = 8,
        filter_length: int | None = None,
        hops: int = 2,
        dropout: float = 0.5,
        **signature,
    ):
        super().__init__(**signature)
        n_chans, n_outputs, sfreq = self.n_chans, self.n_outputs, self.sfreq
        self.hierarchy = _hierarchy(n_chans, self.ch_names, regions)
        order = torch.as_tensor(self.hierarchy.order, dtype=torch.long)
        self.register_buffer("order", order, persistent=False)
        self.in_order = bool((order == torch.arange(n_chans)).all())  # no gather needed
        length = filter_length or (int(round(sfreq / 2)) if sfreq else 64)
        self.padding = ((length - 1) // 2, length // 2)  # Keras 'same': the extra zero after
        c, sizes = n_chans, self.hierarchy.sizes
        self.filter_bank = nn.Conv1d(1, n_filters, length, bias=False)
        self.spatial = nn.Parameter(torch.empty(c, n_filters))  # depthwise (1, n_filters)
        self.bn_spatial = nn.BatchNorm1d(c, **KERAS_BN)
        self.temporal = nn.Conv1d(c, c, 5, groups=c, bias=False)  # depthwise (5, 1), 'valid'
        self.bn_temporal = nn.BatchNorm1d(c, **KERAS_BN)
        self.dropout = nn.Dropout(dropout)
        self.node = NodeLevel(self.hierarchy, hops)
        self.bn_node = nn.BatchNorm1d(c, **KERAS_BN)
        self.fusion_a, self.fusion_b = RegionFusion(sizes), RegionFusion(sizes)
        self.region_graph = ChebyshevFilter(self.hierarchy.ring_edge_index(), len(sizes), hops)
        self.collapse_a, self.collapse_b = RegionCollapse(len(sizes)), RegionCollapse(len(sizes))
        self.head = nn.Linear(c + len(sizes) + 1, n_outputs)
        self.max_norms = [("spatial", 1.0, ()), ("temporal.weight", 1.0, (1, 2))] + [
            (f"node.pointwise.{i}.weight", 1.0, ()) for i in range(len(sizes))
        ]
        self._keras_init()

    def _keras_init(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv1d | nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        bound = (6 / (2 * self.spatial.shape[1])) ** 0.5  # Keras Glorot of a (1, F, C, 1) kernel
        nn.init.uniform_(self.spatial, -bound, bound)

    def electrode_kernels(self) -> torch.Tensor:
        """(C, 1, L): each electrode's mix of the shared filter bank as one temporal kernel.

        The bank and the per-electrode (1, F) mix are both linear and bias-free, so applying
        their product once per electrode equals filtering F times then mixing, at 1/F the cost.
        """
        return (self.spatial @ self.filter_bank.weight[:, 0, :]).unsqueeze(1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Temporal part: (B, C, T) -> (B, C, T') with channels in region order."""
        x = x if self.in_order else x[:, self.order, :]
        kernels = self.electrode_kernels()[:, 0]
        if kernels.requires_grad:  # gradients follow: fast weight gradients
            x = banded_correlation(x, kernels, self.padding)
        else:  # no backward pass follows: the convolution itself, no band matrices to build
            x = nn.functional.conv1d(
                nn.functional.pad(x, self.padding), kernels[:, None], groups=len(kernels)
            )
        x = nn.functional.elu(self.bn_spatial(x))
        x = nn.functional.elu(self.bn_temporal(self.temporal(x)))  # (B, C, T - 4)
        half = x.shape[-1] // 2  # average pooling by 2 as the mean of sample pairs
        return self.dropout(x[..., : 2 * half].unflatten(-1, (half, 2)).mean(dim=-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1] != len(self.hierarchy.ch_names):
            raise ValueError(
                f"HiSTN expects (batch, {len(self.hierarchy.ch_names)}, n_times), "
                f"got {tuple(x.shape)}"
            )
        x = self.features(x)
        x_agg = nn.functional.elu(self.bn_node(self.node(x)))
        x_out = x + x_agg
        x_region = self.fusion_a(x)
        x_region_latter = self.fusion_b(x_agg)
        x_region_out = self.region_graph(x_region) + x_region_latter
        x_global = self.collapse_a(x_region) + self.collapse_b(x_region_latter)
        joined = torch.cat([x_out, x_region_out, x_global], dim=1).mean(dim=-1)
        return self.head(self.dropout(joined))


def _hierarchy(n_chans, ch_names, regions) -> Hierarchy:
    if ch_names is None:
        if n_chans != 14 or regions is not None:
            raise ValueError("HiSTN needs ch_names for any montage other than DREAMER's 14")
        return dreamer_hierarchy()
    return hierarchy_from_montage(ch_names, regions)


#: output samples per band matrix of `banded_correlation` (longer windows go in blocks)
BAND_BLOCK = 256


def banded_correlation(x: torch.Tensor, kernels: torch.Tensor, padding) -> torch.Tensor:
    """Each channel of x (B, C, T) cross-correlated with its own kernel (C, L), zero-padded by
    padding = (left, right) with left + right = L - 1: (B, C, T), what
    ``conv1d(pad(x, padding), kernels[:, None], groups=C)`` computes.

    As batched matrix products over the channels against banded (Toeplitz) matrices built from
    the kernels, band[c, s, t] = kernels[c, s - t + left], which one GEMM per channel runs
    near the core's peak; a grouped convolution with a long kernel spends most of its backward
    pass in slow weight-gradient loops (`benchmarks/training.py histn`). A window of up to
    `BAND_BLOCK` samples is one band without the padding's zero rows; longer ones go in blocks
    of `BAND_BLOCK` output samples over the padded signal.
    """
    n_batch, n_chans, n_times = x.shape
    left = padding[0]
    channels_first = x.transpose(0, 1)  # (C, B, T)
    if n_times <= BAND_BLOCK:
        return torch.bmm(channels_first, _band(kernels, n_times, n_times, left)).transpose(0, 1)
    blocks = -(-n_times // BAND_BLOCK)
    rows = BAND_BLOCK + kernels.shape[1] - 1
    padded = nn.functional.pad(channels_first, (left, blocks * BAND_BLOCK + rows - n_times))
    pieces = padded.unfold(-1, rows, BAND_BLOCK)[:, :, :blocks]  # (C, B, blocks, rows)
    band = _band(kernels, rows, BAND_BLOCK, 0)
    out = torch.bmm(pieces.reshape(n_chans, -1, rows), band)  # (C, B * blocks, BAND_BLOCK)
    return out.reshape(n_chans, n_batch, -1)[..., :n_times].transpose(0, 1)


def _band(kernels: torch.Tensor, n_rows: int, n_columns: int, offset: int) -> torch.Tensor:
    """(C, n_rows, n_columns) band[c, s, t] = kernels[c, s - t + offset] (0 off the band)."""
    lag = (
        torch.arange(n_rows, device=kernels.device)[:, None]
        - torch.arange(n_columns, device=kernels.device)[None, :]
        + offset
    )
    inside = (lag >= 0) & (lag < kernels.shape[1])
    return kernels[:, lag.clamp(0, kernels.shape[1] - 1)] * inside
