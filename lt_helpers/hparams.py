"""Training hyperparameters: one dataclass, checked before a run starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .errors import LTError


@dataclass
class Hyper:
    """Training hyperparameters of one run."""

    iterations: int = 6000
    batch_size: int = 60
    optimizer: str = "adam"  # 'adam' or 'sgd'
    lr: float = 1.2e-3
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0
    eval_every: int = 100
    # Test accuracy every ``test_every`` iterations (a multiple of eval_every; 0: at every
    # evaluation), and always at the end and at the early-stopping iteration, exactly as an
    # evaluation every eval_every would give it (the weights there are kept until the end).
    # Validation is evaluated every eval_every regardless: it chooses the early stop.
    test_every: int = 0
    warmup: int = 0  # iterations of linear learning-rate warmup from 0
    lr_drops: list[int] = field(default_factory=list)  # iterations at which lr is divided by 10
    # Mixed precision: 'auto' is bf16 autocast on a GPU that supports it (fp16 with loss
    # scaling on older GPUs) and fp32 on the CPU; 'bf16' on a CPU with AVX512-BF16 is
    # faster but rounds differently.
    precision: str = "auto"
    dropout: float = 0.0  # on the fully connected hidden layers
    augment: bool = False  # random 4-position pad-and-crop (+ horizontal flips for images)

    def check(self) -> "Hyper":
        """Raise a clear LTError for a value out of range; return ``self``."""
        for name in ("iterations", "batch_size", "eval_every"):
            if int(getattr(self, name)) < 1:
                raise LTError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if int(self.test_every) < 0 or int(self.test_every) % int(self.eval_every):
            raise LTError(f"test_every must be 0 (test at every evaluation) or a multiple of eval_every "
                          f"({self.eval_every}), got {self.test_every}")
        if self.optimizer not in ("adam", "sgd"):
            raise LTError(f"unknown optimizer {self.optimizer!r}; use 'adam' or 'sgd'")
        if not 0.0 <= self.dropout < 1.0:
            raise LTError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise LTError(f"unknown precision {self.precision!r}; use 'auto', 'fp32', 'bf16' or 'fp16'")
        if not self.lr > 0:
            raise LTError(f"learning rate must be positive, got {self.lr}")
        return self

    def to_dict(self) -> dict:
        """The hyperparameters as a plain dict (as ``results.json`` stores them)."""
        return asdict(self)
