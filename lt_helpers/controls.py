"""What a winning ticket is compared with: the controls, one entry each in :data:`REGISTRY`.

A control keeps some of what a ticket is (its mask's positions, their count per layer, the
initial values, their signs) and replaces the rest; training it beside the ticket at the same
sparsity asks which part matters. Each :class:`Control` has a name (what ``results.json`` and
the command line call it), a one-line description, its label and colour in the figures, and
``make``, which gives its starting weights and mask from a :class:`Start`.
:func:`lt_helpers.iterative.run_round` trains every control of :data:`IMP` that an experiment
asks for; chapter 8's pruning-at-initialization methods are listed for their labels and colours
(their masks need data: :func:`lt_helpers.beyond.snip_mask`).

To add a control: one entry here (its ``make``, and a colour no other control has), and a test
of what it keeps; the command line, the results format and the figures read this registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .masks import Mask, keep_like, prune_to_density, random_scores

__all__ = ["Start", "Control", "REGISTRY", "IMP", "FROM_DENSE", "COLORS", "LABELS"]


@dataclass(frozen=True)
class Start:
    """What a control of one ticket (one trial, one round) is made from."""

    weights: dict  # what the ticket is reset to: θ0, or the dense weights at the rewinding iteration
    mask: Mask  # the ticket's mask at this round
    dense: dict  # the trial's trained dense weights (round 0), for one-shot pruning
    fresh: Callable[[], dict]  # a new random initialization of the same network (its own seed)
    seed: int  # the control's own seed, for random positions and permutations


@dataclass(frozen=True)
class Control:
    """One way to start a network at a ticket's sparsity."""

    name: str
    description: str
    label: str
    color: str
    make: Callable[[Start], tuple[dict, Mask]] | None  # None: not made from a ticket (chapter 8's SNIP)


def _ticket(s: Start):
    return s.weights, s.mask


def _random_reinit(s: Start):
    return s.fresh(), s.mask


def _oneshot(s: Start):
    return s.weights, prune_to_density(s.dense, s.mask)


def _random_prune(s: Start):
    return dict(s.weights), keep_like(random_scores(s.mask, s.seed), s.mask)


def _shuffle(s: Start):
    gen, weights = torch.Generator().manual_seed(int(s.seed)), dict(s.weights)
    for name, m in s.mask.items():
        w = s.weights[name].clone()
        kept = w[m]
        w[m] = kept[torch.randperm(len(kept), generator=gen)]
        weights[name] = w
    return weights, s.mask


def _sign_reinit(s: Start):
    fresh, weights = s.fresh(), dict(s.weights)
    for name in s.mask:
        weights[name] = fresh[name].abs() * torch.where(s.weights[name] < 0, -1.0, 1.0)
    return weights, s.mask


# the colour-blind palette of seaborn ("colorblind"), by index; each control its own colour (a test). The chapters'
# own conditions (lt_helpers.plots) reuse some, never in the same figure as the control
_PALETTE = ["#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4", "#949494", "#ece133",
            "#56b4e9"]

REGISTRY = {c.name: c for c in (
    Control("ticket", "the ticket itself: its mask on its initial weights θ0 (or the rewound ones)",
            "winning ticket (iterative)", _PALETTE[0], _ticket),
    Control("random_reinit", "the ticket's mask on freshly drawn initial weights: does θ0 matter?",
            "random reinit", _PALETTE[1], _random_reinit),
    Control("oneshot", "the dense network's trained weights pruned at once to the ticket's per-layer sizes, "
            "reset to θ0: does pruning need to be iterative?", "winning ticket (one-shot)", _PALETTE[2], _oneshot),
    Control("random_prune", "θ0 under a random mask with the ticket's per-layer sizes: do the positions matter?",
            "random pruning", _PALETTE[3], _random_prune),
    Control("shuffle", "the ticket's mask, its surviving initial values shuffled within each layer: do the values "
            "belong where they are?", "shuffled init", _PALETTE[4], _shuffle),
    Control("sign_reinit", "the ticket's mask and signs with freshly drawn magnitudes: are the signs enough?",
            "sign-preserving reinit", _PALETTE[9], _sign_reinit),
    Control("snip", "a mask chosen at θ0 from one batch of gradients, |gradient × weight| (chapter 8)",
            "SNIP (pruned at initialization)", _PALETTE[5], None),
)}
IMP = tuple(n for n, c in REGISTRY.items() if n != "ticket" and c.make is not None)  # what run_round trains
FROM_DENSE = ("oneshot",)  # the controls made from the trained dense weights: a run with none needs not keep them
COLORS = {n: c.color for n, c in REGISTRY.items()}
LABELS = {n: c.label for n, c in REGISTRY.items()}
