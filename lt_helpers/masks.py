"""Masks and pruning.

A :class:`Mask` maps each prunable tensor's name to a boolean tensor of the same shape
(``True`` = keep). Pruning is a pure function: a score per weight and the current mask in, a
new mask out (:func:`prune`, a fraction of what remains each round; :func:`keep_like`, one
shot to the sizes of another mask). The ways of pruning differ only in their scores:
magnitude pruning scores by ``|w|`` (:func:`magnitude_prune`), random pruning by noise
(:func:`random_scores`), SNIP by ``|gradient × w|``. Counts are exact: pruning 20% of a layer
with 1,000 remaining weights removes exactly the 200 of lowest score (ties broken by
position, deterministically). A new way of scoring is a function that returns scores; a
control that uses it is one entry in :mod:`lt_helpers.controls`.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from .errors import LTError, check_choice

SCOPES = ("layer", "global")


class Mask(dict):
    """``{name: bool tensor}`` for the prunable tensors of one network."""

    @classmethod
    def ones_like(cls, model) -> "Mask":
        """Keep everything: the mask of the dense network (for one copy of ``model``)."""
        params = dict(model.named_parameters())
        return cls({name: torch.ones(params[name].shape[1:], dtype=torch.bool) for name in model.prunable})

    def check(self, model) -> "Mask":
        """Raise a clear error unless this mask fits ``model``: same prunable names, same
        shapes (of one copy), 0/1 values. Returns the mask as booleans."""
        params = dict(model.named_parameters())
        expected, got = set(model.prunable), set(self)
        if expected != got:
            raise LTError(f"mask does not fit {type(model).__name__}: missing {sorted(expected - got)}, "
                          f"unexpected {sorted(got - expected)}. Build masks with Mask.ones_like(model) "
                          "or from pruning this model's weights.")
        out = Mask()
        for name, m in self.items():
            shape = tuple(params[name].shape[1:])
            if tuple(m.shape) != shape:
                raise LTError(f"mask[{name!r}] has shape {tuple(m.shape)} but the layer's weight is {shape}")
            if m.dtype != torch.bool and not torch.all((m == 0) | (m == 1)):
                raise LTError(f"mask[{name!r}] holds values other than 0 and 1")
            out[name] = m.bool().cpu()
        return out

    def density(self) -> dict[str, float]:
        """Fraction of weights kept, per layer."""
        return {name: m.float().mean().item() for name, m in self.items()}

    def kept(self) -> int:
        """How many weights the mask keeps, over all layers."""
        return sum(int(m.sum()) for m in self.values())

    def size(self) -> int:
        """How many prunable weights there are, over all layers."""
        return sum(m.numel() for m in self.values())

    def percent_remaining(self) -> float:
        """Percent of prunable weights kept, over all layers."""
        return 100.0 * self.kept() / self.size()


def _check_fraction(name: str, p: float) -> None:
    if not 0.0 <= float(p) < 1.0:
        raise LTError(f"pruning fraction for {name!r} is {p}; it must be in [0, 1) "
                      "(0.2 prunes 20% of the remaining weights)")


def layer_rates(model, rates_by_kind: dict[str, float]) -> dict[str, float]:
    """Per-layer pruning fractions from per-kind ones, e.g. ``{'fc': 0.2, 'output': 0.1}``."""
    missing = set(model.prunable.values()) - set(rates_by_kind)
    if missing:
        raise LTError(f"no pruning rate for layer kind(s) {sorted(missing)}; give rates for "
                      f"{sorted(set(model.prunable.values()))}")
    for kind in set(model.prunable.values()):
        _check_fraction(kind, rates_by_kind[kind])
    return {name: float(rates_by_kind[kind]) for name, kind in model.prunable.items()}


def drop_smallest(scores: torch.Tensor, keep: torch.Tensor, n_drop: int) -> torch.Tensor:
    """Mark the ``n_drop`` smallest ``scores`` among kept entries as pruned."""
    flat_keep = keep.flatten().clone()
    if n_drop > 0:
        s = scores.flatten().float().masked_fill(~flat_keep, float("inf"))
        order = torch.argsort(s, stable=True)
        flat_keep[order[:n_drop]] = False
    return flat_keep.view_as(keep)


def n_drop(rate: float, remaining: int) -> int:
    """How many of ``remaining`` weights one round at ``rate`` removes: the count every pruning
    rule uses (and a restored run's masks are checked against)."""
    return round(rate * remaining)


def prune(scores: dict[str, torch.Tensor], mask: Mask, rates: dict[str, float], scope: str = "layer") -> Mask:
    """From scores to a mask, round by round: remove the fraction ``rates[name]`` of the *remaining*
    weights with the lowest ``scores`` (non-negative, one per weight). Magnitude pruning scores
    by ``|w|`` (:func:`magnitude_prune`), random pruning by noise (:func:`random_scores`), SNIP by
    ``|gradient × w|`` (:func:`lt_helpers.beyond.snip_mask`).

    ``scope='layer'`` prunes each layer on its own (the paper's LeNet and Conv nets).
    ``scope='global'`` ranks all prunable weights together and removes one fraction
    (``rates`` must then give the same rate to every layer it prunes; layers with rate 0
    are left out of the ranking), as the paper does for VGG-19 and ResNet.
    """
    for name, p in rates.items():
        _check_fraction(name, p)
    unknown = set(rates) - set(mask)
    if unknown:
        raise LTError(f"rates name layers the mask does not have: {sorted(unknown)}")
    new = Mask({name: m.clone() for name, m in mask.items()})
    if scope == "layer":
        for name, p in rates.items():
            keep = mask[name].bool()
            new[name] = drop_smallest(scores[name], keep, n_drop(p, int(keep.sum())))
        return new
    check_choice("pruning scope", scope, SCOPES)
    names = [n for n, p in rates.items() if p > 0]
    if len({rates[n] for n in names}) > 1:
        raise LTError("global pruning uses one rate for all pruned layers; got "
                      f"{ {n: rates[n] for n in names} }")
    if not names:
        return new
    keep = torch.cat([mask[n].bool().flatten() for n in names])
    flat = drop_smallest(torch.cat([scores[n].flatten() for n in names]), keep,
                         n_drop(rates[names[0]], int(keep.sum())))
    for n, part in zip(names, torch.split(flat, [mask[n].numel() for n in names])):
        new[n] = part.view_as(mask[n])
    return new


def magnitude_prune(weights: dict[str, torch.Tensor], mask: Mask, rates: dict[str, float],
                    scope: str = "layer") -> Mask:
    """Prune by magnitude: remove the fraction ``rates[name]`` of the remaining weights with the
    smallest ``|w|`` (:func:`prune` scored by magnitude), layer by layer or globally."""
    return prune({n: w.detach().abs().cpu() for n, w in weights.items() if n in mask}, mask, rates, scope)


def random_scores(mask: Mask, seed: int) -> dict[str, torch.Tensor]:
    """Uniform noise, one score per weight of ``mask``, drawn from ``seed``: pruning by these
    scores picks positions at random (the random-pruning control)."""
    gen = torch.Generator().manual_seed(int(seed))
    return {n: torch.rand(m.shape, generator=gen) for n, m in mask.items()}


def keep_like(scores: dict[str, torch.Tensor], like: Mask) -> Mask:
    """One shot: keep, in each layer, the highest-scored weights, as many as ``like`` keeps there."""
    out = Mask()
    for name, m in like.items():
        everything = torch.ones_like(m, dtype=torch.bool)
        out[name] = drop_smallest(scores[name], everything, m.numel() - int(m.sum()))
    return out


def prune_to_density(weights: dict[str, torch.Tensor], like: Mask) -> Mask:
    """One-shot magnitude pruning: keep, in each layer, the largest-``|w|`` weights, as many as
    ``like`` keeps in that layer (:func:`keep_like` scored by magnitude). Used to compare one-shot
    with iterative pruning at equal sparsity."""
    return keep_like({n: weights[n].detach().abs().cpu() for n in like}, like)


def to_bits(masks: dict, prefix: str = "") -> dict[str, np.ndarray]:
    """Masks ``{(trial, round): Mask}`` as arrays for an ``.npz``: one bit per weight
    (numpy.packbits) under ``'<prefix><trial>/<round>/<layer>'``, and every mask's shape as JSON
    under ``'<prefix>shapes'``. Eight times smaller than booleans, and what ships with a full run."""
    arrays, shapes = {}, {}
    for (t, r), mask in masks.items():
        for layer, m in mask.items():
            arrays[f"{prefix}{t}/{r}/{layer}"] = np.packbits(m.numpy().astype(bool).ravel())
            shapes[f"{t}/{r}/{layer}"] = list(m.shape)
    return {f"{prefix}shapes": np.array(json.dumps(shapes)), **arrays}


def from_bits(arrays, prefix: str = "") -> dict:
    """The masks :func:`to_bits` wrote into ``arrays`` (an opened ``.npz``), as ``{(trial, round): Mask}``."""
    masks: dict = {}
    for key, shape in json.loads(str(arrays[f"{prefix}shapes"])).items():
        t, r, layer = key.split("/", 2)
        bits = np.unpackbits(arrays[prefix + key], count=int(np.prod(shape))).astype(bool).reshape(shape)
        masks.setdefault((int(t), int(r)), Mask())[layer] = torch.from_numpy(bits)
    return masks
