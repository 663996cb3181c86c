"""What came after the paper: the three follow-ups chapter 8 runs.

* **Linear mode connectivity** (Frankle, Dziugaite, Roy & Carbin 2020): train two copies of
  a network from the same starting weights with different data orders, and evaluate the
  networks on the straight line between the two results (:func:`interpolate`). If the error
  rises in between, the *error barrier* (:func:`barrier`), the two runs ended in different
  basins: training from that start is *unstable* to the noise of SGD. Starting from the
  weights at iteration k of training instead of θ0 ("rewinding") can make it stable.
* **Pruning at initialization**: SNIP (Lee, Ajanthan & Torr 2019) scores each weight at
  θ0, before any training, by ``|∂L/∂w · w|`` on a batch of training data, and keeps the
  highest scores (:func:`snip_mask`).
* **Supermasks** (Zhou, Lan, Liu & Yosinski 2019): a ticket's mask applied to its
  *untrained* θ0, or to signed constants (:func:`signed_constants`), evaluated without any
  training.

They work on LeNet (any model without batch norm), given one network's weights
(``Network.get_copy`` or ``Run.weights``) and its :class:`~lt_helpers.masks.Mask`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .data import Data
from .errors import LTError
from .masks import Mask, keep_like, random_scores
from .models import build
from .train import test_accuracy


def interpolate(model_name: str, data: Data, a: dict, b: dict, mask: Mask | None = None,
                points: int = 11) -> np.ndarray:
    """Test error (%) at ``points`` evenly spaced points of the line ``(1 - α)·a + α·b``,
    α from 0 (``a``) to 1 (``b``), pruned weights (``mask``) at zero throughout."""
    if points < 3:
        raise LTError(f"an interpolation needs at least 3 points (both ends and one between), got {points}")
    if set(a) != set(b):
        raise LTError("the two networks have different tensors: interpolate two copies of one architecture")
    alphas = np.linspace(0.0, 1.0, points)
    line = [{n: (1 - alpha) * a[n] + alpha * b[n] for n in a} for alpha in alphas]
    return 100 * (1 - np.array(test_accuracy(model_name, data, line, [mask] * points if mask is not None else None)))


def barrier(errors) -> float:
    """The error barrier of an interpolation (Frankle et al. 2020): the highest error on the
    line minus the mean of the two ends' errors. Near zero: the two networks are linearly
    connected (training was stable); large: something in between is worse than both."""
    errors = np.asarray(errors, dtype=float)
    return float(errors.max() - (errors[0] + errors[-1]) / 2)


def snip_mask(model_name: str, data: Data, theta0: dict, like: Mask, examples: int = 600, seed: int = 0) -> Mask:
    """SNIP's mask at initialization: score every weight by ``|∂L/∂w · w|`` at ``theta0``, the
    loss summed over ``examples`` training examples drawn with ``seed``, and keep in each
    layer as many of the highest-scoring weights as ``like`` keeps there (so that it is
    compared with another method at the same per-layer sparsity)."""
    net = build(model_name, data.input_shape, data.num_classes).to(data.device)
    net.set_copy(0, theta0)
    pick = torch.randperm(len(data.x_train), generator=torch.Generator().manual_seed(int(seed)))[:examples]
    pick = pick.to(data.device)
    loss = F.cross_entropy(net(data.x_train[pick][None])[0], data.y_train[pick])
    params = dict(net.named_parameters())
    grads = torch.autograd.grad(loss, [params[n] for n in like])
    scores = {n: (g[0] * params[n][0]).detach().abs().cpu() for n, g in zip(like, grads)}
    return keep_like(scores, like)  # masks.prune's one-shot form, scored by saliency


def signed_constants(theta0: dict, mask: Mask) -> dict:
    """θ0 with every prunable weight replaced by the sign of its initial value times its
    layer's initial standard deviation (Zhou et al.'s "signed constant")."""
    return {n: (torch.sign(w) * w.std() if n in mask else w) for n, w in theta0.items()}


def supermasks(run, data: Data, seed: int = 0):
    """Test accuracy (%) of every ticket of the full run ``run`` (with its masks) with no training
    at all: its mask on θ0 (``ticket``), on signed constants (``signed_constant``), and a random
    mask of the same per-layer sparsity on θ0 (``random_prune``); a
    :class:`~lt_helpers.results.Results` with one record per trial, round and condition
    (``untrained_acc``). θ0 is rebuilt from the run's own seed; ``seed`` draws the random masks."""
    from .iterative import initial_weights, seed_for, theta0_seed
    from .results import Results

    cfg, rows, levels = run.config, [], list(range(run.config["rounds"]))
    for t in range(cfg["trials"]):
        start = initial_weights(cfg["model"], data.input_shape, theta0_seed(cfg["seed"], t))
        ticket = [run.masks[(t, r)] for r in levels]
        shuffled = [keep_like(random_scores(m, seed_for(seed, t, r, "supermask")), m) for r, m in zip(levels, ticket)]
        constants = [signed_constants(start, m) for m in ticket]
        for cond, weights, ms in (("ticket", [start] * len(levels), ticket), ("signed_constant", constants, ticket),
                                  ("random_prune", [start] * len(levels), shuffled)):
            for r, m, a in zip(levels, ms, test_accuracy(cfg["model"], data, weights, ms)):
                rows.append(dict(trial=t, round=r, condition=cond, percent_remaining=m.percent_remaining(),
                                 untrained_acc=a))
    return Results({}, rows)
