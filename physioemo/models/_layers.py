"""Small torch pieces shared by the models: Keras-style max-norm and Keras BatchNorm settings."""

from __future__ import annotations

import torch
from torch import nn

#: Keras BatchNormalization defaults (momentum 0.99, epsilon 1e-3) in PyTorch's convention.
KERAS_BN = {"momentum": 0.01, "eps": 1e-3}


@torch.no_grad()
def max_norm_(weight: torch.Tensor, max_value: float, dims: tuple[int, ...]) -> None:
    """Rescale `weight` in place so its L2 norm over `dims` is at most `max_value`.

    Same formula as Keras' ``MaxNorm``: w * clip(n, 0, max) / (n + 1e-7). Empty `dims` clamps
    each weight on its own (|w| <= max_value), which is what Keras' axis=0 does when that axis
    has length 1.
    """
    norms = (
        torch.linalg.vector_norm(weight, dim=dims or None, keepdim=True) if dims else weight.abs()
    )
    weight.mul_(norms.clamp(max=max_value) / (norms + 1e-7))


class MaxNormMixin:
    """Modules listing ``max_norms = [(parameter name, max, dims), ...]`` get
    `apply_constraints()`, which the Trainer calls after every optimiser step."""

    max_norms: list[tuple[str, float, tuple[int, ...]]] = []

    def apply_constraints(self) -> None:
        parameters = dict(self.named_parameters())
        for name, value, dims in self.max_norms:
            max_norm_(parameters[name], value, dims)


def count_parameters(module: nn.Module) -> dict[str, int]:
    """Trainable parameters, and every number of the state dict (adding e.g. BatchNorm running
    statistics, without its batch counters; fixed graph operators are not saved)."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    total = sum(
        v.numel() for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")
    )
    return {"trainable": trainable, "total": total}


class Standardized(nn.Module):
    """`model` applied to (x - mean) / std; mean and std broadcast against one sample.

    The statistics come from the training data and travel with the checkpoint, so a model
    runs live or offline on unscaled features. `model` stays reachable as `.model`.
    """

    def __init__(self, model: nn.Module, mean, std):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))

    def forward(self, x: torch.Tensor, *args, **kwargs):
        return self.model((x - self.mean) / self.std, *args, **kwargs)

    def apply_constraints(self) -> None:
        if hasattr(self.model, "apply_constraints"):
            self.model.apply_constraints()
