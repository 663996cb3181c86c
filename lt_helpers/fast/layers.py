"""Batched layers: ``copies`` independent networks computed as one.

Finding a ticket means training the same architecture many times (trials, controls), so
every layer here holds ``copies`` independent sets of weights, stacked along a leading
dimension: a :class:`Linear` with ``copies=8`` has a weight of shape ``[8, fan_in, fan_out]``
and maps inputs ``[8, batch, fan_in]`` to ``[8, batch, fan_out]`` with one batched matrix
multiply; a :class:`Conv` runs its copies as one grouped convolution. With ``copies=1`` each
is an ordinary layer. Copies never mix: the loss is a sum of per-copy losses, so each copy's
gradient, and each copy's Adam or SGD update (elementwise), is exactly what it would be alone.
:mod:`lt_helpers.models` builds the paper's architectures from these layers.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Linear", "Conv", "BatchNorm", "side_by_side", "per_copy", "global_average", "FEW_OUTPUTS"]


class Linear(nn.Module):
    """``copies`` independent fully connected layers.

    The weight is stored as ``[copies, fan_in, fan_out]`` (input index first, as in
    JAX), so ``x @ weight`` needs no transpose and its gradient no copy.
    """

    def __init__(self, fan_in: int, fan_out: int, copies: int = 1):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(copies, fan_in, fan_out))
        self.bias = nn.Parameter(torch.zeros(copies, 1, fan_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [copies, batch, fan_in]
        if self.weight.shape[2] <= FEW_OUTPUTS and x.shape[0] >= 4 and x.device.type == "cpu":
            return _FewOutputs.apply(x, self.weight, self.bias)
        return torch.baddbmm(self.bias, x, self.weight)

    def fans(self) -> tuple[int, int]:
        """``(fan_in, fan_out)`` of one copy, for Glorot initialization."""
        return self.weight.shape[1], self.weight.shape[2]


FEW_OUTPUTS = 16  # fp32 values in one 512-bit vector register


class _FewOutputs(torch.autograd.Function):
    """``x @ weight + bias`` for a layer with few outputs (an output layer), on a CPU.

    A CPU matrix product vectorizes across its result's columns; 10 columns fill less than
    one vector register, so the transposed product is the faster one. The forward pass
    computes it and returns a transposed view ``[copies, batch, outputs]``
    (``train._loss_sum`` reads its contiguous transpose), and the weight's gradient is
    computed transposed too. It pays from a few copies up and costs a little at one, so
    ``Linear`` uses it from 4 copies up (the measurements: ``results/speed-notes.md``).
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return torch.baddbmm(bias.transpose(1, 2), weight.transpose(1, 2), x.transpose(1, 2)).transpose(1, 2)

    @staticmethod
    def backward(ctx, grad):  # grad: [copies, batch, outputs]
        x, weight = (t.to(grad.dtype) for t in ctx.saved_tensors)  # under autocast grad may be bf16
        grad_x = torch.bmm(grad, weight.transpose(1, 2)) if ctx.needs_input_grad[0] else None
        grad_weight = torch.bmm(grad.transpose(1, 2), x).transpose(1, 2)
        return grad_x, grad_weight, grad.sum(1, keepdim=True)


class Conv(nn.Module):
    """``copies`` independent convolutions over 1-D (``dim=1``) or 2-D (``dim=2``) inputs,
    run as one grouped convolution. Between convolutions, activations of all copies are
    kept side by side as channels: ``[batch, copies * channels, *spatial]``."""

    def __init__(self, dim: int, c_in: int, c_out: int, copies: int = 1, kernel: int = 3, stride: int = 1,
                 bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(copies, c_out, c_in, *[kernel] * dim))
        self.bias = nn.Parameter(torch.zeros(copies, c_out)) if bias else None
        self.conv = {1: F.conv1d, 2: F.conv2d}[dim]
        self.copies, self.stride, self.padding = copies, stride, kernel // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [batch, copies * c_in, *spatial]
        bias = self.bias.flatten() if self.bias is not None else None
        return self.conv(x, self.weight.flatten(0, 1), bias, stride=self.stride, padding=self.padding,
                         groups=self.copies)

    def fans(self) -> tuple[int, int]:
        """``(fan_in, fan_out)`` of one copy, for Glorot initialization."""
        c_out, c_in, *kernel = self.weight.shape[1:]
        return c_in * math.prod(kernel), c_out * math.prod(kernel)


class BatchNorm(nn.Module):
    """Batch normalization with ``copies`` independent sets of statistics and parameters."""

    def __init__(self, channels: int, copies: int = 1):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(copies, channels))
        self.bias = nn.Parameter(torch.zeros(copies, channels))
        self.register_buffer("running_mean", torch.zeros(copies, channels))
        self.register_buffer("running_var", torch.ones(copies, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [batch, copies * channels, *spatial]
        return F.batch_norm(x, self.running_mean.view(-1), self.running_var.view(-1), self.weight.flatten(),
                            self.bias.flatten(), self.training, 0.1, 1e-5)


def side_by_side(x: torch.Tensor, channels_last: bool = True) -> torch.Tensor:
    """``[copies, batch, C, *spatial]`` -> ``[batch, copies * C, *spatial]`` (for convolutions).

    2-D images come out channels-last ([batch, H, W, channels] in memory) unless
    ``channels_last=False``, in one copy: convolutions on a CPU run faster so (``make bench
    --conv`` measures both layouts; ``results/speed-notes.md``), and a GPU's mixed-precision
    convolutions want it too."""
    if x.dim() == 5 and channels_last:
        K, B, C, H, W = x.shape
        return x.permute(1, 3, 4, 0, 2).reshape(B, H, W, K * C).permute(0, 3, 1, 2).contiguous(
            memory_format=torch.channels_last)  # with one channel per copy the reshape can be a plain view
    return x.transpose(0, 1).flatten(1, 2)


def global_average(h: torch.Tensor) -> torch.Tensor:
    """``[batch, channels, *spatial]`` -> ``[batch, channels]``, in any memory layout."""
    return h.mean(tuple(range(2, h.dim())))


def per_copy(h: torch.Tensor, copies: int) -> torch.Tensor:
    """``[batch, copies * C, *spatial]`` -> ``[copies, batch, C * prod(spatial)]`` (for Linear)."""
    return h.reshape(h.shape[0], copies, -1).transpose(0, 1)
