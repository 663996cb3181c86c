"""Batches and augmentation on the device: each run's own shuffled order over the training
set, and random pad-and-crop (and flips) without per-example Python.

The training loop indexes each batch straight out of the dataset's tensors (see
:mod:`lt_helpers.data`), so there is no DataLoader: :class:`Batches` hands it the indices.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import LTError


class Batches:
    """Each run's own shuffled order over the training set, one epoch at a time, as a
    ``[runs, batch]`` index tensor on the device (the last partial batch of an epoch is
    dropped). With ``augment``, also each example's random shift (up to 4 positions, as
    4-pixel pad-and-crop) and, for images, horizontal flip, drawn from the run's own
    generator once per epoch."""

    def __init__(self, n: int, batch_size: int, seeds: list[int], device, augment_dims: int = 0):
        if batch_size > n:
            raise LTError(f"batch size {batch_size} is larger than the training set ({n} examples)")
        self.n, self.b, self.device, self.dims = n, batch_size, device, augment_dims
        self.gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.per_epoch = n // batch_size
        self.step = self.per_epoch

    def state_dict(self) -> dict:
        """Where the order stands (what a checkpoint keeps): each run's generator, this epoch's
        order (and augmentation), the step within it."""
        return {"gens": [g.get_state() for g in self.gens], "step": self.step,
                **{k: getattr(self, k, None) for k in ("order", "shift", "flip")}}

    def load_state_dict(self, state: dict) -> None:
        """Go on from what :meth:`state_dict` gave."""
        for g, s in zip(self.gens, state["gens"]):
            g.set_state(s)
        self.step = state["step"]
        for k in ("order", "shift", "flip"):
            if state[k] is not None:
                setattr(self, k, state[k].to(self.device))

    def next(self):
        """``(index [runs, batch], shift [runs, batch, dims] or None, flip [runs, batch] or None)``."""
        if self.step == self.per_epoch:
            shape = (len(self.gens), self.per_epoch, self.b)
            order = torch.stack([torch.randperm(self.n, generator=g) for g in self.gens])
            self.order = order[:, : self.per_epoch * self.b].view(shape).to(self.device)
            if self.dims:
                draw = lambda f: torch.stack([f(g) for g in self.gens]).to(self.device)
                self.shift = draw(lambda g: torch.randint(-PAD, PAD + 1, (*shape[1:], self.dims), generator=g))
                self.flip = draw(lambda g: torch.rand(shape[1:], generator=g) < 0.5) if self.dims == 2 else None
            self.step = 0
        self.step += 1
        i = self.step - 1
        if not self.dims:
            return self.order[:, i], None, None
        return self.order[:, i], self.shift[:, i], None if self.flip is None else self.flip[:, i]


PAD = 4  # pixels (positions) of zero padding for random crops


def augment(x: torch.Tensor, shift: torch.Tensor, flip: torch.Tensor | None) -> torch.Tensor:
    """Pad-and-crop (and flip) a batch on the device, without per-example Python.

    ``x``: ``[N, C, L]`` or ``[N, C, H, W]``; ``shift``: ``[N, dims]`` offsets in
    ``[-PAD, PAD]``; ``flip``: ``[N]`` booleans (images only).
    """
    N, C, *size = x.shape
    padded = F.pad(x, [PAD, PAD] * len(size))
    dev = x.device
    if len(size) == 1:
        cols = torch.arange(size[0], device=dev) + PAD + shift[:, :1]  # [N, L]
        return padded.gather(2, cols[:, None, :].expand(N, C, size[0]))
    rows = torch.arange(size[0], device=dev) + PAD + shift[:, :1]  # [N, H]
    cols = torch.arange(size[1], device=dev) + PAD + shift[:, 1:2]  # [N, W]
    if flip is not None:
        cols = torch.where(flip[:, None], cols.flip(1), cols)  # a mirrored image reads its columns backwards
    n, c = torch.arange(N, device=dev)[:, None, None, None], torch.arange(C, device=dev)[None, :, None, None]
    return padded[n, c, rows[:, None, :, None], cols[:, None, None, :]]
