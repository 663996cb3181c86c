"""Adam without ``torch.optim``'s per-step bookkeeping, the same update bit for bit."""

from __future__ import annotations

import torch
from torch.optim.adam import adam


class Adam:
    """Adam, computed by the function that ``torch.optim.Adam.step()`` calls
    (``torch.optim.adam.adam``, with the same state and defaults, fused or not), so the
    update is the same bit for bit; what it leaves out is the optimizer class's per-step
    bookkeeping (hooks, profiler ranges, regrouping the tensors), which costs a few per cent
    of a small network's step (``results/speed-notes.md``)."""

    def __init__(self, params: list, lr: float, weight_decay: float, fused: bool):
        self.params, self.weight_decay, self.fused = params, weight_decay, fused
        self.param_groups = [{"lr": lr}]
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        self.steps = [torch.zeros((), device=p.device if fused else "cpu") for p in params]

    def zero_grad(self) -> None:
        """Drop the gradients, as ``torch.optim``'s ``zero_grad`` does."""
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict:
        """The moments, the step counts and the learning rate (what a checkpoint keeps)."""
        return {"exp_avg": self.exp_avg, "exp_avg_sq": self.exp_avg_sq, "steps": self.steps,
                "lr": self.param_groups[0]["lr"]}

    def load_state_dict(self, state: dict) -> None:
        """Go on from what :meth:`state_dict` gave."""
        for mine, saved in ((self.exp_avg, state["exp_avg"]), (self.exp_avg_sq, state["exp_avg_sq"]),
                            (self.steps, state["steps"])):
            for t, s in zip(mine, saved):
                t.copy_(s)
        self.param_groups[0]["lr"] = state["lr"]

    @torch.no_grad()  # as torch.optim's step: the update is not part of the graph
    def step(self) -> None:
        """One Adam update of every parameter at ``param_groups[0]['lr']``."""
        adam(self.params, [p.grad for p in self.params], self.exp_avg, self.exp_avg_sq, [], self.steps,
             fused=self.fused or None, amsgrad=False, beta1=0.9, beta2=0.999, lr=self.param_groups[0]["lr"],
             weight_decay=self.weight_decay, eps=1e-8, maximize=False)
