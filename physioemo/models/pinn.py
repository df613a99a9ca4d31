"""Multi-task physics-informed network for EDA prediction and emotion recognition (after
Mandal, arXiv 2505.18169). Only the paper's abstract is public and no code exists, so
everything below except the overall design (shared model, EDA head, emotion head, learned
decay rate alpha_0, emotion weights beta and time scale gamma, loss = EDA regression +
classification + physics residual) is our proposal (papers.md 2.4).

Inputs per window: features x (batch, n_chans) -- `n_chans` is the number of per-window
features, in the shared model signature's name -- a time input t (batch,) (window centre
within its condition segment, scaled to [0, 1]) and optionally self-reports s
(batch, n_self_report). Self-reports (PANAS, SAM) are off by default: they are constant within
a subject x condition and so nearly encode the label.

Network (ours): z = [x, s, t] -> MLP trunk (3 x 64, SiLU) -> EDA head Linear(64 -> 1) and
emotion head Linear(64 -> K) giving p(t) = softmax. Physics (ours):
    gamma * dEDA/dt = -alpha_0 * EDA + beta . p(t),
alpha_0 = softplus(a) > 0, gamma = softplus(g) > 0, beta in R^K; the residual
r = gamma * dEDA^/dt + alpha_0 * EDA^ - beta . p with dEDA^/dt from autograd w.r.t. t.

Identifiability: the ODE is unchanged when alpha_0, gamma and beta are all multiplied by one
factor, so the data fix only alpha_0 / gamma (the decay rate per unit of t) and beta / gamma.
`physioemo.training.losses.pinn_loss` therefore divides the residual by gamma, which removes
the trivial minimum alpha_0 = gamma = beta = 0 of the raw squared residual (ours).
"""

from __future__ import annotations

import torch
from torch import nn

from .base import SignatureMixin


class MultiTaskPINN(SignatureMixin, nn.Module):
    """Shared trunk with an EDA head and an emotion head, plus the ODE's parameters.

    Signature (`models.base`): needs n_chans (the number of per-window input features) and
    n_outputs (emotion classes K).
    Options: n_self_report (width of the optional self-report vector; 0 = not used, the
    default), width and depth of the trunk (64, 3), detach_p (use p(t) without gradient in
    the residual).
    forward(x, t, s=None) -> (eda (batch,), logits (batch, K)).
    """

    #: (lowest, highest) of each size option a checkpoint may ask for (`training.checkpoint`)
    SIZE_LIMITS = {"n_self_report": (0, 64), "width": (1, 1024), "depth": (1, 16)}

    def __init__(
        self,
        *,
        n_self_report: int = 0,
        width: int = 64,
        depth: int = 3,
        detach_p: bool = False,
        **signature,
    ):
        super().__init__(**signature)
        n_chans, n_outputs = self.n_chans, self.n_outputs
        self.n_self_report, self.detach_p = n_self_report, detach_p
        layers, size = [], n_chans + n_self_report + 1
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.SiLU()]
            size = width
        self.trunk = nn.Sequential(*layers)
        self.eda_head = nn.Linear(width, 1)
        self.emotion_head = nn.Linear(width, n_outputs)
        inverse_softplus_one = float(torch.log(torch.expm1(torch.tensor(1.0))))
        self.raw_alpha = nn.Parameter(torch.tensor(inverse_softplus_one))
        self.raw_gamma = nn.Parameter(torch.tensor(inverse_softplus_one))
        self.beta = nn.Parameter(torch.zeros(n_outputs))

    @property
    def alpha0(self) -> torch.Tensor:
        return nn.functional.softplus(self.raw_alpha)

    @property
    def gamma(self) -> torch.Tensor:
        return nn.functional.softplus(self.raw_gamma)

    def physics(self) -> dict[str, float | list[float]]:
        """The learned alpha_0, gamma, beta, and the identifiable alpha_0 / gamma."""
        return {
            "alpha0": self.alpha0.item(),
            "gamma": self.gamma.item(),
            "beta": self.beta.detach().cpu().tolist(),
            "alpha0_over_gamma": (self.alpha0 / self.gamma).item(),
        }

    def forward(self, x: torch.Tensor, t: torch.Tensor, s: torch.Tensor | None = None):
        if x.ndim != 2 or x.shape[1] != self.n_chans:
            raise ValueError(
                f"PINN expects x of shape (batch, {self.n_chans}), got {tuple(x.shape)}"
            )
        if (s is None) != (self.n_self_report == 0):
            raise ValueError(
                f"this PINN was built with n_self_report={self.n_self_report}; "
                + ("pass s" if s is None else "do not pass s")
            )
        parts = [x] + ([s] if s is not None else []) + [t.reshape(-1, 1)]
        hidden = self.trunk(torch.cat(parts, dim=1))
        return self.eda_head(hidden).squeeze(-1), self.emotion_head(hidden)

    def residual(self, x: torch.Tensor, t: torch.Tensor, s: torch.Tensor | None = None):
        """ODE residual r (batch,) at times t, with dEDA/dt by autograd; also (eda, logits)."""
        t = t.detach().clone().requires_grad_(True)
        eda, logits = self(x, t, s)
        (slope,) = torch.autograd.grad(eda.sum(), t, create_graph=True)
        p = torch.softmax(logits, dim=-1)
        if self.detach_p:
            p = p.detach()
        drive = p @ self.beta
        return self.gamma * slope + self.alpha0 * eda - drive, eda, logits
