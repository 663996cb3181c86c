"""A ticket as a small, fast network: what its sparsity buys in memory and time.

A ticket is a dense network with most weights held at zero. Three things can turn that
into savings, and chapter 7 measures each:

* **Dead units** (:func:`dead_units`, :func:`compact`). A hidden unit whose incoming
  weights are all pruned computes a constant, ``relu(bias)``; one whose outgoing weights
  are all pruned affects nothing. Both can be removed, the constant folded into the next
  layer's bias, leaving a *smaller dense* network with the same outputs. Removing whole
  units is structured sparsity: the smaller matrices run as fast as any dense ones.
* **Storage** (:func:`storage`): the kept weights in a sparse format (COO, CSR, or a
  bitmask plus the kept values), each also compressed with zlib, against the dense float32
  matrices.
* **Latency** (:func:`latency`, :func:`forward_dense`, :func:`forward_csr`): the same
  forward pass as dense matrix products, as ``torch.sparse`` CSR products, and through the
  compacted network, timed side by side.

Everything here works on one fully connected network (LeNet-300-100, or any
``lenet_300_100`` built by :func:`lt_helpers.models.build`), given as the weights of one
copy (``Network.get_copy`` or ``Run.weights``) and its :class:`~lt_helpers.masks.Mask`.
"""

from __future__ import annotations

import statistics
import time
import warnings
import zlib

import numpy as np
import torch

from .errors import LTError
from .masks import Mask


def _layers(weights: dict, mask: Mask) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """``[(weight [fan_in, fan_out], bias [fan_out], mask), ...]`` of an MLP, input to output."""
    names = [n for n in mask if n.endswith(".weight")]
    if not names or any(weights[n].dim() != 2 for n in names):
        raise LTError("sparse works on fully connected networks (lenet_300_100): every pruned tensor must be a "
                      f"[fan_in, fan_out] matrix, got {[tuple(weights[n].shape) for n in names]}")
    return [(weights[n].float(), weights[n[:-len("weight")] + "bias"].float().reshape(-1), mask[n].bool())
            for n in names]


def alive(mask: Mask) -> list[torch.Tensor]:
    """For the input and each hidden layer, which units the network still needs (boolean
    vectors; the outputs are always kept). A unit is removed when it has no remaining input
    (a hidden unit: it is then a constant) or no remaining output, following the chain:
    a unit fed only by removed constants has no input either, and a unit that feeds only
    removed units has no output."""
    ms = [m.bool() for n, m in mask.items() if n.endswith(".weight")]
    keep = [torch.ones(ms[0].shape[0], dtype=torch.bool)] + [torch.ones(m.shape[1], dtype=torch.bool) for m in ms]
    for i, m in enumerate(ms[:-1]):  # forward: hidden units of layer i + 1 with no input from a live unit
        keep[i + 1] &= m[keep[i]].any(0)
    for i in range(len(ms) - 1, -1, -1):  # backward: units with no output to a live unit
        keep[i] &= ms[i][:, keep[i + 1]].any(1)
    return keep[:-1]


def dead_units(mask: Mask) -> dict[str, int]:
    """How many units :func:`compact` removes: ``{'input': n, 'hidden 1': n, ...}``."""
    keep = alive(mask)
    return {("input" if i == 0 else f"hidden {i}"): int((~k).sum()) for i, k in enumerate(keep)}


class Compact(torch.nn.Module):
    """The smaller dense network :func:`compact` returns: dense layers ``layers``
    (``[(weight [fan_in, fan_out], bias)]``) with ReLU between them."""

    def __init__(self, layers: list[tuple[torch.Tensor, torch.Tensor]]):
        super().__init__()
        self.layers = layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [batch, inputs] -> [batch, outputs]
        return forward_dense(self.layers, x.flatten(1))

    def sizes(self) -> list[int]:
        """Units per layer, inputs first: e.g. ``[40, 300, 100, 10]`` when nothing was removed."""
        return [self.layers[0][0].shape[0]] + [w.shape[1] for w, _ in self.layers]

    def weights(self) -> int:
        """Entries in its weight matrices (all of them dense now)."""
        return sum(w.numel() for w, _ in self.layers)


def compact(weights: dict, mask: Mask) -> Compact:
    """The ticket as a smaller dense network with the same outputs: remove the hidden units
    :func:`alive` marks dead, add each constant unit's contribution, ``relu(bias) *
    outgoing weights``, to the next layer's bias, and keep pruned weights between live
    units as zeros. Every input keeps its row (an unused one as zeros): selecting the used
    inputs would cost a gather on every call, more than the rows it saves."""
    layers, keep = _layers(weights, mask), alive(mask)
    keep[0] = torch.ones_like(keep[0])
    out, carry = [], None  # carry: the constant that removed units of the previous layer add to this one
    for i, (w, b, m) in enumerate(layers):
        w = w * m
        b = b if carry is None else b + carry
        last = i == len(layers) - 1
        cols = torch.ones(w.shape[1], dtype=torch.bool) if last else keep[i + 1]
        if not last:  # a removed unit with no input outputs relu(bias) whatever the input: fold it forward
            constant = torch.relu(b) * (~cols)
            carry = constant @ (layers[i + 1][0] * layers[i + 1][2])
        out.append((w[keep[i]][:, cols].contiguous(), b[cols].contiguous()))
    return Compact(out)


def forward_dense(layers, x: torch.Tensor) -> torch.Tensor:
    """An MLP's forward pass with dense matrices ``[(weight [fan_in, fan_out], bias), ...]``."""
    for i, (w, b) in enumerate(layers):
        x = torch.addmm(b, x, w)
        if i < len(layers) - 1:
            x = torch.relu(x)
    return x


def masked_layers(weights: dict, mask: Mask) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The ticket's layers as dense matrices with the pruned weights at zero."""
    return [((w * m).contiguous(), b) for w, b, m in _layers(weights, mask)]


def _csr(dense: torch.Tensor) -> torch.Tensor:
    """``dense`` as a ``torch.sparse_csr`` tensor, without torch's "CSR support is in beta" warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return dense.to_sparse_csr()


def csr_layers(weights: dict, mask: Mask) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The ticket's layers as ``torch.sparse_csr`` matrices, stored ``[fan_out, fan_in]``
    (a row per output unit, its kept inputs as columns) for :func:`forward_csr`."""
    return [(_csr((w * m).t().contiguous()), b.reshape(-1, 1)) for w, b, m in _layers(weights, mask)]


def forward_csr(layers, x: torch.Tensor) -> torch.Tensor:
    """The forward pass with sparse CSR weights (:func:`csr_layers`): ``W @ xᵀ`` per layer."""
    h = x.t()
    for i, (w, b) in enumerate(layers):
        h = torch.addmm(b, w, h)
        if i < len(layers) - 1:
            h = torch.relu(h)
    return h.t()


def _compressed(arrays) -> int:
    return len(zlib.compress(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays), 6))


def storage(weights: dict, mask: Mask) -> dict[str, dict[str, int]]:
    """Bytes to store the ticket's weight matrices (biases, a few hundred values, aside),
    per format: ``{format: {'raw': bytes, 'zlib': bytes}}``. Formats: the dense float32
    matrices (pruned weights stored as zeros); COO (two int64 indices and a float32 value
    per kept weight, ``torch.sparse_coo``'s layout); CSR with int64 and with int32 indices
    (a column index and a value per kept weight, a row pointer per row); a bitmask (one bit
    per weight) plus the kept values in order. ``zlib``: the same bytes compressed at zlib's
    default level 6 (level 9 saves about 5% more here and takes ten times as long)."""
    arrays = {"dense float32": [], "COO (int64)": [], "CSR (int64)": [], "CSR (int32)": [],
              "bitmask + values": []}
    for w, _, m in _layers(weights, mask):
        dense = (w * m).numpy().astype(np.float32)
        arrays["dense float32"].append(dense)
        coo = torch.from_numpy(dense).to_sparse_coo().coalesce()
        arrays["COO (int64)"] += [coo.indices().numpy(), coo.values().numpy()]
        csr = _csr(torch.from_numpy(dense))
        for bits, kind in ((64, "CSR (int64)"), (32, "CSR (int32)")):
            arrays[kind] += [csr.crow_indices().numpy().astype(f"int{bits}"),
                             csr.col_indices().numpy().astype(f"int{bits}"), csr.values().numpy()]
        arrays["bitmask + values"] += [np.packbits(m.numpy().ravel()), dense[m.numpy()]]
    return {kind: {"raw": sum(a.nbytes for a in parts), "zlib": _compressed(parts)} for kind, parts in arrays.items()}


def timings(fns: dict, *args, blocks: int = 7, calls: int = 10, warmup: int = 3) -> dict[str, np.ndarray]:
    """Time several ways of doing the same thing side by side: ``{name: per-block median
    seconds}``. Each of ``blocks`` blocks times every function (``calls`` calls, median),
    in an order that rotates from block to block, so a slow moment of the machine lands on
    all of them; the blocks pair the functions for :func:`lt_helpers.stats.compare_times`."""
    if blocks < 2:
        raise LTError(f"blocks must be at least 2 (the blocks give the interval), got {blocks}")
    names = list(fns)
    for name in names:
        latency(fns[name], *args, repeats=1, warmup=warmup)
    out = {name: [] for name in names}
    for b in range(blocks):
        for name in names[b % len(names):] + names[:b % len(names)]:
            out[name].append(latency(fns[name], *args, repeats=calls, warmup=0))
    return {name: np.array(t) for name, t in out.items()}


def latency(fn, *args, repeats: int = 30, warmup: int = 3) -> float:
    """Median wall time of ``fn(*args)`` in seconds over ``repeats`` calls (after ``warmup``
    calls), without gradients."""
    if repeats < 1:
        raise LTError(f"repeats must be at least 1, got {repeats}")
    times = []
    with torch.no_grad():
        for i in range(warmup + repeats):
            start = time.perf_counter()
            fn(*args)
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return statistics.median(times)
