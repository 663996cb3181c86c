"""Training hyperparameters: one dataclass, checked before a run starts."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from numbers import Integral, Real

from .errors import LTError


def _f(default, help: str):
    """A field with its default and the one-line help the command line shows for it."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class Hyper:
    """Training hyperparameters of one run. Each field's help is what ``python -m lt_helpers
    imp --help`` shows for its option (``--batch-size``, ``--lr-drops``, ...)."""

    iterations: int = _f(6000, "training iterations of each network")
    batch_size: int = _f(60, "examples per training step")
    optimizer: str = _f("adam", "'adam' or 'sgd'")
    lr: float = _f(1.2e-3, "learning rate")
    momentum: float = _f(0.9, "SGD momentum (SGD only)")
    weight_decay: float = _f(0.0, "L2 weight decay")
    eval_every: int = _f(100, "evaluate validation loss and accuracy every this many iterations (it chooses "
                              "the early stop)")
    test_every: int = _f(0, "evaluate the test set every this many iterations (a multiple of eval_every; 0: at "
                            "every evaluation), and always at the early stop and the end, exactly as an evaluation "
                            "every eval_every would give it: the reported accuracies are unchanged, the test curve "
                            "has fewer points")
    warmup: int = _f(0, "iterations of linear learning-rate warmup from 0 (chapter 5)")
    lr_drops: list[int] = _f([], "iterations at which the learning rate is divided by 10")
    precision: str = _f("auto", "arithmetic: 'auto' is bf16 autocast on a GPU that supports it (fp16 with "
                                "loss scaling on older GPUs) and fp32 on the CPU; 'bf16' on a CPU with "
                                "AVX512-BF16 is faster but rounds differently")
    dropout: float = _f(0.0, "dropout on the fully connected hidden layers (chapter 4)")
    augment: bool = _f(False, "random 4-position pad-and-crop (+ horizontal flips for images)")

    def check(self) -> "Hyper":
        """Raise a clear LTError for a value of the wrong type or out of range (one line that
        names the field, the value and what it may be); return ``self``. Nothing trains or
        is written with a value that would train nonsense: a negative warmup or an infinite
        learning rate would ascend the loss or fill the records with NaN."""
        for name, low in (("iterations", 1), ("batch_size", 1), ("eval_every", 1), ("test_every", 0),
                          ("warmup", 0)):
            value = getattr(self, name)
            if not _is_int(value) or value < low:
                raise LTError(f"{name} must be {'a positive' if low else 'a non-negative'} integer, got {value!r}")
        if self.test_every % self.eval_every:
            raise LTError(f"test_every must be 0 (test at every evaluation) or a multiple of eval_every "
                          f"({self.eval_every}), got {self.test_every}")
        if self.optimizer not in ("adam", "sgd"):
            raise LTError(f"unknown optimizer {self.optimizer!r}; use 'adam' or 'sgd'")
        if not (_is_real(self.lr) and math.isfinite(self.lr) and self.lr > 0):
            raise LTError(f"learning rate must be a finite positive number, got {self.lr!r}")
        for name, ok, what in (("momentum", lambda v: 0 <= v < 1, "in [0, 1)"),
                               ("weight_decay", lambda v: math.isfinite(v) and v >= 0, "finite and non-negative"),
                               ("dropout", lambda v: 0 <= v < 1, "in [0, 1)")):
            value = getattr(self, name)
            if not (_is_real(value) and ok(value)):
                raise LTError(f"{name} must be a number {what}, got {value!r}")
        if not isinstance(self.lr_drops, (list, tuple)) or not all(_is_int(i) and i >= 0 for i in self.lr_drops):
            raise LTError(f"lr_drops must be a list of iterations (non-negative integers), got {self.lr_drops!r}")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise LTError(f"unknown precision {self.precision!r}; use 'auto', 'fp32', 'bf16' or 'fp16'")
        if not isinstance(self.augment, bool):
            raise LTError(f"augment must be True or False, got {self.augment!r}")
        return self

    @classmethod
    def checked(cls, values: dict) -> "Hyper":
        """``Hyper(**values).check()``, with an unknown name an LTError that lists the known ones."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise LTError(f"unknown hyperparameter(s) {', '.join(map(repr, unknown))}; choose from {', '.join(known)}")
        return cls(**values).check()

    def to_dict(self) -> dict:
        """The hyperparameters as a plain dict (as ``results.json`` stores them)."""
        return asdict(self)


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)
