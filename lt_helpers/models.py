"""Models, each built as ``copies`` independent networks that train in one step.

Finding a ticket means training the same architecture many times (trials, controls),
so every layer here holds ``copies`` independent sets of weights, stacked along a
leading dimension: a ``Linear`` with ``copies=8`` has a weight of shape
``[8, fan_out, fan_in]`` and maps inputs ``[8, batch, fan_in]`` to ``[8, batch, fan_out]``
with one batched matrix multiply. With ``copies=1`` it is an ordinary network.
Copies never mix: the loss is a sum of per-copy losses, so each copy's gradient, and
each copy's Adam or SGD update (elementwise), is exactly what it would be alone.

A model also says which of its tensors are prunable and of what kind
(``'fc'``, ``'conv'`` or ``'output'``), so presets can give per-kind pruning rates.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from .errors import LTError


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
        return torch.baddbmm(self.bias, x, self.weight)

    def fans(self) -> tuple[int, int]:
        return self.weight.shape[1], self.weight.shape[2]


class Network(nn.Module):
    """Base class: ``copies`` networks, their prunable tensors and their output layer."""

    copies: int
    prunable: dict[str, str]  # parameter name -> kind ('fc', 'conv', 'output')

    def reset_parameters(self, seeds: list[int]) -> None:
        """Gaussian Glorot (Xavier normal) weights and zero biases, as in the paper.
        Copy ``k`` draws from its own generator seeded with ``seeds[k]``, so a copy's
        initial weights depend only on its seed, never on how many copies train beside it."""
        if len(seeds) != self.copies:
            raise LTError(f"need one seed per copy: got {len(seeds)} seeds for {self.copies} copies")
        with torch.no_grad():
            for k, seed in enumerate(seeds):
                gen = torch.Generator().manual_seed(int(seed))
                for module in self.modules():
                    if hasattr(module, "fans"):
                        fan_in, fan_out = module.fans()
                        std = math.sqrt(2.0 / (fan_in + fan_out))
                        w = torch.randn(module.weight.shape[1:], generator=gen) * std
                        module.weight[k].copy_(w)
                        module.bias[k].zero_()

    def get_copy(self, k: int) -> dict[str, torch.Tensor]:
        """Copy ``k``'s parameters and buffers, as CPU tensors without the copies dimension."""
        state = self.state_dict()
        return {name: t[k].detach().cpu().clone() for name, t in state.items()}

    def set_copy(self, k: int, weights: dict[str, torch.Tensor]) -> None:
        """Load one network's weights (as from :meth:`get_copy`) into copy ``k``."""
        state = self.state_dict()
        missing = set(state) - set(weights)
        if missing:
            raise LTError(f"weights lack {sorted(missing)} for {type(self).__name__}")
        with torch.no_grad():
            for name, t in state.items():
                if tuple(weights[name].shape) != tuple(t.shape[1:]):
                    raise LTError(f"weights[{name!r}] has shape {tuple(weights[name].shape)}, "
                                  f"the model expects {tuple(t.shape[1:])}")
                t[k].copy_(weights[name])

    @property
    def output(self) -> str:
        """Name of the output layer's weight."""
        return next(n for n, kind in self.prunable.items() if kind == "output")


class LeNet(Network):
    """LeNet-300-100: fully connected 300-100-10 on a flattened input of any size."""

    def __init__(self, input_shape: tuple[int, ...], num_classes: int = 10, copies: int = 1,
                 hidden: tuple[int, ...] = (300, 100)):
        super().__init__()
        self.copies = copies
        sizes = [math.prod(input_shape), *hidden, num_classes]
        self.layers = nn.ModuleList(Linear(a, b, copies) for a, b in zip(sizes[:-1], sizes[1:]))
        last = len(self.layers) - 1
        self.prunable = {f"layers.{i}.weight": "output" if i == last else "fc"
                         for i in range(len(self.layers))}

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [copies, batch, *input_shape]
        x = x.flatten(2)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


MODELS: dict[str, Callable[..., Network]] = {
    "lenet_300_100": LeNet,
}


def build(name: str, input_shape, num_classes: int = 10, copies: int = 1,
          seeds: list[int] | None = None) -> Network:
    """Build ``copies`` networks of architecture ``name`` for inputs of ``input_shape``
    (one example's shape, e.g. ``(1, 28, 28)`` or ``(1, 40)``), initialized from ``seeds``."""
    if name not in MODELS:
        raise LTError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if copies < 1:
        raise LTError(f"copies must be at least 1, got {copies}")
    model = MODELS[name](tuple(input_shape), num_classes=num_classes, copies=copies)
    model.reset_parameters(list(seeds) if seeds is not None else list(range(copies)))
    return model


def count_weights(model: Network) -> dict[str, int]:
    """Prunable weights per layer for one copy."""
    params = dict(model.named_parameters())
    return {name: params[name][0].numel() for name in model.prunable}
