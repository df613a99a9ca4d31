"""Where and in what precision a fit runs: the torch device of a name, and autocast."""

from __future__ import annotations

import contextlib

PRECISIONS = ("fp32", "bf16", "fp16")


def resolve_device(name: str | None):
    """The torch device a fit runs on: None or "auto" -> CUDA when available, else the CPU;
    "cpu"; "cuda" or "cuda:N". ValueError in one line for CUDA where torch sees no GPU."""
    import torch

    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name}: no CUDA GPU is visible to torch here; use cpu or auto")
    return device


def autocast(precision: str, device):
    """Autocast of forward passes on `device` to bf16 or fp16 (nothing for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    import torch

    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)
