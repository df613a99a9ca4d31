"""HiSTN's forward pass as physioemo computed it before the speed-up of issue 25: the reference
that `benchmarks/training.py histn` times the package's HiSTN against and that
`tests/test_models.py` holds it exact to. It reads the parameters of a `models.histn.HiSTN`,
so both run with the same weights (and, in training mode, draw the same dropout masks).

Differences from the package's forward: a grouped convolution with each electrode's 64-tap
kernel (not banded matrix products), the node level region by region, the region fusions
region by region, and `avg_pool1d`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional


def features(model, x: torch.Tensor) -> torch.Tensor:
    """The temporal part: (B, C, T) -> (B, C, T') in region order."""
    x = functional.pad(x[:, model.order, :], model.padding)
    x = functional.conv1d(x, model.electrode_kernels(), groups=x.shape[1])
    x = functional.elu(model.bn_spatial(x))
    x = functional.elu(model.bn_temporal(model.temporal(x)))
    return model.dropout(functional.avg_pool1d(x, 2))


def node_level(node, x: torch.Tensor) -> torch.Tensor:
    """Per region: Chebyshev filter, depthwise then pointwise convolution."""
    parts = x.split(node.sizes, dim=1)
    return torch.cat(
        [
            pointwise(depthwise(graph.operator().T @ part))
            for part, graph, depthwise, pointwise in zip(
                parts, node.graphs, node.depthwise, node.pointwise, strict=True
            )
        ],
        dim=1,
    )


def region_fusion(fusion, x: torch.Tensor) -> torch.Tensor:
    """Per region: softmax(Dense(time-mean)) weighted average of its electrodes."""
    outputs = []
    for part, score in zip(x.split(fusion.sizes, dim=1), fusion.scores, strict=True):
        weights = torch.softmax(score(part.mean(dim=-1)), dim=-1)
        outputs.append((part * weights[:, :, None]).sum(dim=1))
    return torch.stack(outputs, dim=1)


def forward(model, x: torch.Tensor) -> torch.Tensor:
    """Logits (B, n_outputs) of `model` (a HiSTN) for x (B, C, T), computed the old way."""
    x = features(model, x)
    x_agg = functional.elu(model.bn_node(node_level(model.node, x)))
    x_out = x + x_agg
    x_region = region_fusion(model.fusion_a, x)
    x_region_latter = region_fusion(model.fusion_b, x_agg)
    x_region_out = model.region_graph(x_region) + x_region_latter
    x_global = model.collapse_a(x_region) + model.collapse_b(x_region_latter)
    joined = torch.cat([x_out, x_region_out, x_global], dim=1).mean(dim=-1)
    return model.head(model.dropout(joined))


class Reference(nn.Module):
    """A HiSTN module whose forward is the reference `forward` (same parameters, same
    `apply_constraints`), for timing the old implementation in a training loop."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return forward(self.model, x)

    def apply_constraints(self) -> None:
        self.model.apply_constraints()
