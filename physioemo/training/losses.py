"""Losses: ordinal Gaussian label smoothing (HiSTN), uniform label smoothing (RBTransformer)
and the multi-task PINN loss. Objectives wrap them for the Trainer."""

from __future__ import annotations

import torch
from torch import nn


def ordinal_targets(y: torch.Tensor, n_classes: int, sigma: float = 0.5) -> torch.Tensor:
    """HiSTN's soft labels: q_k(y) = exp(-(k - y)^2 / (2 sigma^2)), normalised over k.

    y: (batch,) integer classes 0..n_classes-1. Returns (batch, n_classes).
    """
    k = torch.arange(n_classes, dtype=torch.float32, device=y.device)
    logits = -((k[None, :] - y[:, None].float()) ** 2) / (2 * sigma**2)
    return torch.softmax(logits, dim=-1)


def soft_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Cross-entropy against target distributions (batch, K); `weight` (K,) weighs each
    sample by its true class (argmax of its target), normalised like PyTorch's weighted CE."""
    per_sample = -(targets * torch.log_softmax(logits, dim=-1)).sum(dim=-1)
    if weight is None:
        return per_sample.mean()
    sample_weight = weight[targets.argmax(dim=-1)]
    return (per_sample * sample_weight).sum() / sample_weight.sum()


class ClassificationObjective:
    """Cross-entropy on logits of model(x).

    smoothing: None (one-hot), "ordinal" (HiSTN's Gaussian targets, sigma `sigma`) or a float
        (uniform label smoothing, e.g. RBTransformer's 0.12). Training batches only: validation
        always uses one-hot targets, as in both papers.
    class_weight: (K,) tensor or None; the Trainer sets it when its config asks for one.
    """

    needs_grad_in_eval = False

    def __init__(self, n_classes: int, smoothing: str | float | None = None, sigma: float = 0.5):
        self.n_classes, self.smoothing, self.sigma = n_classes, smoothing, sigma
        self.class_weight: torch.Tensor | None = None

    def __call__(self, model: nn.Module, batch: dict, train: bool) -> tuple[torch.Tensor, dict]:
        logits = model(batch["x"])
        y = batch["y"]
        weight = None if self.class_weight is None else self.class_weight.to(logits.device)
        if train and self.smoothing == "ordinal":
            loss = soft_cross_entropy(
                logits, ordinal_targets(y, self.n_classes, self.sigma), weight
            )
        else:
            epsilon = float(self.smoothing) if train and self.smoothing else 0.0
            loss = nn.functional.cross_entropy(logits, y, weight=weight, label_smoothing=epsilon)
        correct = (logits.argmax(dim=-1) == y).float().mean()
        return loss, {"loss": loss.item(), "accuracy": correct.item()}


def pinn_loss(
    model,
    batch: dict,
    lambda_c: float = 1.0,
    lambda_p: float = 0.1,
    n_collocation: int = 256,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict]:
    """L = MSE(EDA^, EDA) + lambda_c CE(p, y) + lambda_p mean((r / gamma)^2).

    batch: "x" (B, F), "t" (B,), "eda" (B,), "y" (B,), optional "s" (B, S).
    The residual is evaluated at the batch points plus `n_collocation` collocation points:
    random rows of the batch's inputs at uniform random times within the batch's time range
    (ours). Dividing r by gamma removes the ODE's scale freedom (see `models.pinn`).
    Weights lambda_c = 1, lambda_p = 0.1 are ours (papers.md 2.4).
    """
    x, t, s = batch["x"], batch["t"], batch.get("s")
    if n_collocation:
        rows = torch.randint(len(x), (n_collocation,), generator=generator).to(x.device)
        low, high = t.min(), t.max()
        times = torch.rand(n_collocation, generator=generator).to(x.device) * (high - low) + low
        x_all, t_all = torch.cat([x, x[rows]]), torch.cat([t, times])
        s_all = None if s is None else torch.cat([s, s[rows]])
    else:
        x_all, t_all, s_all = x, t, s
    residual, eda, logits = model.residual(x_all, t_all, s_all)
    eda, logits = eda[: len(x)], logits[: len(x)]
    data = nn.functional.mse_loss(eda, batch["eda"])
    classification = nn.functional.cross_entropy(logits, batch["y"])
    physics = ((residual / model.gamma) ** 2).mean()
    loss = data + lambda_c * classification + lambda_p * physics
    return loss, {
        "loss": loss.item(),
        "eda_mse": data.item(),
        "cross_entropy": classification.item(),
        "residual": physics.item(),
        "accuracy": (logits.argmax(dim=-1) == batch["y"]).float().mean().item(),
    }


class PINNObjective:
    """`pinn_loss` for the Trainer (validation needs autograd w.r.t. t, hence grad in eval)."""

    needs_grad_in_eval = True

    def __init__(self, lambda_c: float = 1.0, lambda_p: float = 0.1, n_collocation: int = 256):
        self.lambda_c, self.lambda_p, self.n_collocation = lambda_c, lambda_p, n_collocation
        self.class_weight = None  # the EDA regression is not class-weighted

    def __call__(self, model, batch: dict, train: bool) -> tuple[torch.Tensor, dict]:
        return pinn_loss(
            model, batch, self.lambda_c, self.lambda_p, self.n_collocation if train else 0
        )
