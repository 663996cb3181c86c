"""The paper's networks (LeNet-300-100, Conv-2/4/6, VGG-19, ResNet-20), each built as
``copies`` independent networks that train in one step.

Finding a ticket means training the same architecture many times (trials, controls), so
the networks are built from the batched layers of :mod:`lt_helpers.fast.layers`: a layer
with ``copies=8`` holds 8 independent sets of weights (a weight of shape
``[8, fan_in, fan_out]``) and computes them in one product. With ``copies=1`` a model is an
ordinary network; :mod:`lt_helpers.plain` writes LeNet in plain ``torch.nn`` beside it.

A model also says which of its tensors are prunable and of what kind
(``'fc'``, ``'conv'`` or ``'output'``), so presets can give per-kind pruning rates.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .errors import LTError, check_choice
from .fast.layers import BatchNorm, Conv, Linear, global_average, per_copy, side_by_side


class Network(nn.Module):
    """Base class: ``copies`` networks, their prunable tensors and their output layer."""

    copies: int
    prunable: dict[str, str]  # parameter name -> kind ('fc', 'conv', 'output')
    channels_last: bool = True  # 2-D convolutions see channels-last activations (set by build)

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
                        std = math.sqrt(2.0 / sum(module.fans()))
                        module.weight[k].copy_(torch.randn(module.weight.shape[1:], generator=gen) * std)
                        if module.bias is not None:
                            module.bias[k].zero_()

    def get_copy(self, k: int) -> dict[str, torch.Tensor]:
        """Copy ``k``'s parameters and buffers, as CPU tensors without the copies dimension."""
        return {name: t[k].detach().cpu().clone() for name, t in self.state_dict().items()}

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
                 hidden: tuple[int, ...] = (300, 100), dropout: float = 0.0):
        super().__init__()
        self.copies, self.dropout = copies, dropout
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
                x = F.dropout(torch.relu_(x), self.dropout, self.training)  # in place: saves a pass over memory
        return x


class ConvNet(Network):
    """Conv-2/4/6 (the paper's architecture table): ``blocks`` blocks of two 3x3
    convolutions (64, then 128, then 256 channels), each block followed by 2x max-pooling,
    then fully connected 256-256-10 with optional dropout. 1-D or 2-D, by the input's shape;
    ``width`` scales every layer (see :data:`WIDTH_1D`)."""

    def __init__(self, input_shape, num_classes: int = 10, copies: int = 1, blocks: int = 2,
                 dropout: float = 0.0, width: float = 1.0):
        super().__init__()
        self.copies, self.dropout = copies, dropout
        dim, channels = len(input_shape) - 1, input_shape[0]
        convs = []
        for c in (scaled(c, width) for c in (64, 128, 256)[:blocks]):
            convs += [Conv(dim, channels, c, copies), Conv(dim, c, c, copies)]
            channels = c
        self.convs = nn.ModuleList(convs)
        flat = channels * math.prod(s // 2 ** blocks for s in input_shape[1:])
        sizes = [flat, scaled(256, width), scaled(256, width), num_classes]
        self.fcs = nn.ModuleList(Linear(a, b, copies) for a, b in zip(sizes[:-1], sizes[1:]))
        self.pool = {1: F.max_pool1d, 2: F.max_pool2d}[dim]
        self.prunable = {**{f"convs.{i}.weight": "conv" for i in range(len(convs))},
                         **{f"fcs.{i}.weight": "output" if i == 2 else "fc" for i in range(3)}}

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [copies, batch, C, *spatial]
        h = side_by_side(x, self.channels_last)
        for i, conv in enumerate(self.convs):
            h = torch.relu_(conv(h))
            if i % 2 == 1:
                h = self.pool(h, 2)
        h = per_copy(h, self.copies)
        for i, fc in enumerate(self.fcs):
            h = fc(h)
            if i < len(self.fcs) - 1:
                h = F.dropout(torch.relu_(h), self.dropout, self.training)
        return h


class VGG(Network):
    """VGG-19 for CIFAR-sized inputs: 3x3 convolutions with batch norm (64x2, pool, 128x2,
    pool, 256x4, pool, 512x4, pool, 512x4), global average pooling, one output layer."""

    PLAN = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512)

    def __init__(self, input_shape, num_classes: int = 10, copies: int = 1, dropout: float = 0.0,
                 width: float = 1.0):
        super().__init__()
        self.copies = copies
        dim, channels, layers = len(input_shape) - 1, input_shape[0], []
        for item in self.PLAN:
            if item == "M":
                layers.append(nn.MaxPool1d(2) if dim == 1 else nn.MaxPool2d(2))
            else:
                c = scaled(item, width)
                layers += [Conv(dim, channels, c, copies, bias=False), BatchNorm(c, copies), nn.ReLU(inplace=True)]
                channels = c
        self.features = nn.Sequential(*layers)
        self.output_layer = Linear(channels, num_classes, copies)
        self.prunable = {**{f"features.{i}.weight": "conv" for i, m in enumerate(layers) if isinstance(m, Conv)},
                         "output_layer.weight": "output"}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(side_by_side(x, self.channels_last))
        return self.output_layer(per_copy(global_average(h), self.copies))


class ResidualBlock(nn.Module):
    def __init__(self, dim: int, c_in: int, c_out: int, copies: int, stride: int):
        super().__init__()
        self.conv1 = Conv(dim, c_in, c_out, copies, stride=stride, bias=False)
        self.bn1 = BatchNorm(c_out, copies)
        self.conv2 = Conv(dim, c_out, c_out, copies, bias=False)
        self.bn2 = BatchNorm(c_out, copies)
        self.shortcut = None
        if stride != 1 or c_in != c_out:  # 1x1 downsampling convolution (not pruned in the paper)
            self.shortcut = nn.Sequential(Conv(dim, c_in, c_out, copies, kernel=1, stride=stride, bias=False),
                                          BatchNorm(c_out, copies))

    def forward(self, h):
        out = self.bn2(self.conv2(torch.relu_(self.bn1(self.conv1(h)))))
        return torch.relu_(out + (self.shortcut(h) if self.shortcut is not None else h))


class ResNet(Network):
    """The CIFAR ResNet-20 the paper calls "Resnet-18": a 3x3 convolution with 16
    channels, three stages of three residual blocks (16, 32, 64 channels; the last two
    stages halve the resolution), global average pooling, one output layer."""

    def __init__(self, input_shape, num_classes: int = 10, copies: int = 1, dropout: float = 0.0,
                 width: float = 1.0):
        super().__init__()
        self.copies = copies
        dim, channels = len(input_shape) - 1, scaled(16, width)
        self.stem = nn.Sequential(Conv(dim, input_shape[0], channels, copies, bias=False),
                                  BatchNorm(channels, copies), nn.ReLU(inplace=True))
        blocks = []
        for stage, c in enumerate(scaled(c, width) for c in (16, 32, 64)):
            for b in range(3):
                blocks.append(ResidualBlock(dim, channels, c, copies, stride=2 if stage > 0 and b == 0 else 1))
                channels = c
        self.blocks = nn.Sequential(*blocks)
        self.output_layer = Linear(channels, num_classes, copies)
        self.prunable = {}
        for name, module in self.named_modules():
            if isinstance(module, Conv):
                self.prunable[f"{name}.weight"] = "downsample" if ".shortcut." in name else "conv"
        self.prunable["output_layer.weight"] = "output"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(side_by_side(x, self.channels_last)))
        return self.output_layer(per_copy(global_average(h), self.copies))


MODELS: dict[str, Callable[..., Network]] = {
    "lenet_300_100": LeNet,
    "conv2": functools.partial(ConvNet, blocks=1),
    "conv4": functools.partial(ConvNet, blocks=2),
    "conv6": functools.partial(ConvNet, blocks=3),
    "vgg19": VGG,
    "resnet20": ResNet,
}

# How the book names each network
NAMES = {"lenet_300_100": "LeNet-300-100", "conv2": "Conv-2", "conv4": "Conv-4", "conv6": "Conv-6",
         "vgg19": "VGG-19", "resnet20": "ResNet-20"}


# 1-D versions (MNIST-1D's 40-sample signals) are narrower than the paper's CIFAR-10 ones, for
# time on a CPU (chapter 4's cost at both widths: results/speed-notes.md), at some cost in accuracy.
WIDTH_1D = {"conv2": 0.25, "conv4": 0.25, "conv6": 0.25, "vgg19": 0.125, "resnet20": 0.5}


def scaled(channels: int, width: float) -> int:
    """``channels`` times ``width``, rounded, at least 1."""
    return max(1, round(channels * width))


def build(name: str, input_shape, num_classes: int = 10, copies: int = 1,
          seeds: list[int] | None = None, channels_last: bool = True, **options) -> Network:
    """Build and return ``copies`` networks of architecture ``name`` for inputs of
    ``input_shape`` (one example's shape, e.g. ``(1, 28, 28)``, ``(3, 32, 32)`` or
    ``(1, 40)``), initialized from ``seeds``. ``channels_last=False`` gives 2-D convolutions
    the default memory layout; ``options`` go to the model (e.g. ``dropout=0.5``, or
    ``width=1.0`` for a 1-D network at the paper's width instead of :data:`WIDTH_1D`)."""
    check_choice("model", name, MODELS)
    if copies < 1:
        raise LTError(f"copies must be at least 1, got {copies}")
    if len(input_shape) == 2 and name in WIDTH_1D:
        options.setdefault("width", WIDTH_1D[name])
    model = MODELS[name](tuple(input_shape), num_classes=num_classes, copies=copies, **options)
    model.channels_last = channels_last
    model.reset_parameters(list(seeds) if seeds is not None else list(range(copies)))
    return model


def count_weights(model: Network) -> dict[str, int]:
    """Prunable weights per layer for one copy."""
    return {name: p[0].numel() for name, p in model.named_parameters() if name in model.prunable}
