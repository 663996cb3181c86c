"""Optimizers and schedules for the training loop: Adam or SGD with torch's fused kernels,
a learning rate with warmup and steps, and the autocast precision for a device."""

from __future__ import annotations

import torch

from .fast.adam import Adam
from .hparams import Hyper


def half_dtype(precision: str, device: torch.device):
    """The autocast dtype for ``precision`` on ``device``, or None for plain fp32."""
    if precision == "auto":
        if device.type != "cuda":
            return None
        # bf16 where the GPU computes it (Ampere and later); fp16 with loss scaling on older
        # ones (Colab's T4), where torch would only emulate bf16, slowly.
        return torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)


def make_optimizer(params: list, hp: Hyper, device, scaled: bool = False):
    """The run's optimizer, with torch's fused kernels on a CPU or GPU. Its learning rate is
    ``param_groups[0]["lr"]``. ``scaled``: the loop scales its fp16 loss with a GradScaler,
    which needs a ``torch.optim`` optimizer."""
    fused = device.type in ("cpu", "cuda")
    if hp.optimizer == "adam" and not scaled:
        return Adam(params, hp.lr, hp.weight_decay, fused)
    if hp.optimizer == "adam":
        return torch.optim.Adam(params, lr=hp.lr, weight_decay=hp.weight_decay, fused=fused or None)
    return torch.optim.SGD(params, lr=hp.lr, momentum=hp.momentum, weight_decay=hp.weight_decay, fused=fused or None)


def lr_factor(it: int, hp: Hyper) -> float:
    """Linear warmup, then divide by 10 at each of ``lr_drops``."""
    warm = min(1.0, (it + 1) / hp.warmup) if hp.warmup else 1.0
    return warm * 0.1 ** sum(it >= d for d in hp.lr_drops)
