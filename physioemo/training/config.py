"""`TrainConfig`: how the `Trainer` trains, checked when it is made."""

from __future__ import annotations

from dataclasses import dataclass, field

from .device import PRECISIONS


@dataclass
class TrainConfig:
    """How to train (`trainer`'s module docstring for the behaviour).

    epochs: epochs to run (fewer when patience stops early). batch_size from epoch 0;
    batch_schedule: {epoch: batch size from that epoch} (RBTransformer: {150: 64}).
    steps_per_epoch: None (one pass over the training rows), an int, "crops" (HiSTN
    subject-dependent: crop start positions of the training trials / batch size) or "segments"
    (non-overlapping windows the trials hold / batch size: a pass over 1-s segments however
    densely the windows are strided). sampling: "shuffle" or "balanced".
    lr, optimizer ("adam" | "adamw"), weight_decay; lr_schedule: {epoch: lr from that epoch}
    (HiSTN: {30: 5e-4}); cosine: cosine annealing over `epochs` to `eta_min`, per epoch.
    keep: "best" (lowest validation loss when the validation rows can choose) or "last".
    patience: with usable validation, stop after this many epochs without a lower validation
    loss (None: never). class_weight: None, "balanced" or "max". smote: SMOTE-oversample the
    training rows (imbalanced-learn). freeze: names of submodules not trained (e.g.
    "filter_bank"). refresh_batchnorm / refresh_rows: BatchNorm re-estimation.
    validation_rows: score at most this many validation rows per epoch, a random subset drawn
    once per fit (None: all; quick presets, ours).
    seed. threads: torch CPU threads during the fit; 1 by default (ours) because the summation
    order of some backward reductions depends on the thread count, so results would too
    (docs/training.md); parallelise across folds instead. None leaves torch's setting.
    device: "cpu", "cuda", "cuda:N", or None / "auto" = CUDA when available.
    precision: "fp32", or "bf16" / "fp16" autocast of the forward passes (fp16: CUDA only,
    with a gradient scaler).
    checkpoint: file the fit's state goes to every `checkpoint_every` epochs, at its end and
    on SIGINT/SIGTERM, and resumes from (`resume`); None: no checkpoint.
    progress: tqdm bar over epochs.
    """

    epochs: int = 50
    batch_size: int = 256
    batch_schedule: dict[int, int] = field(default_factory=dict)
    steps_per_epoch: int | str | None = None
    sampling: str = "shuffle"
    lr: float = 1e-3
    lr_schedule: dict[int, float] = field(default_factory=dict)
    optimizer: str = "adam"
    weight_decay: float = 0.0
    cosine: bool = False
    eta_min: float = 1e-6
    keep: str = "best"
    patience: int | None = None
    class_weight: str | None = None
    smote: bool = False
    freeze: tuple[str, ...] = ()
    refresh_batchnorm: bool = True
    refresh_rows: int = 2048
    validation_rows: int | None = None
    seed: int = 0
    threads: int | None = 1
    device: str | None = None
    precision: str = "fp32"
    checkpoint: str | None = None
    checkpoint_every: int = 1
    progress: bool = False

    def __post_init__(self):
        choices = {
            "sampling": ("shuffle", "balanced"),
            "keep": ("best", "last"),
            "class_weight": (None, "balanced", "max"),
            "optimizer": ("adam", "adamw"),
            "precision": PRECISIONS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not (isinstance(self.checkpoint_every, int) and self.checkpoint_every > 0):
            raise ValueError(f"checkpoint_every must be > 0, got {self.checkpoint_every!r}")
        steps = self.steps_per_epoch
        named = steps in (None, "crops", "segments")
        if not (named or (isinstance(steps, int) and steps > 0)):
            raise ValueError(
                f"steps_per_epoch must be None, 'crops', 'segments' or > 0, got {steps!r}"
            )
