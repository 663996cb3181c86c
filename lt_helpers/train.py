"""The masked training loop, for one network or many at once.

``train(model_name, data, inits, masks, hp, seeds)`` trains ``len(inits)`` networks of
one architecture, each from its own initial weights, under its own mask, seeing batches
in its own seeded order. By default they train together as the copies of one batched
model (see :mod:`lt_helpers.models`); ``batched=False`` trains them one after another.
Both give the same results (same seeds, same masks, same curves within float rounding).

Pruned weights stay exactly zero for the whole run: they start at zero and their
gradients are zeroed before every optimizer step, so Adam's moment estimates for them
stay zero and no update can revive them. Every unpruned weight, of either sign, trains.

Every ``eval_every`` iterations the loop records validation loss and accuracy and test
accuracy. The run always trains its full length; the **early-stopping iteration** is the
one of minimum validation loss, and the accuracy reported for it is the test accuracy
there (the paper's protocol: the test set never chooses anything).

With ``hp.test_every`` larger than ``eval_every`` the test set is evaluated less often
(on Fashion-MNIST it is two thirds of every evaluation): at every ``test_every``, at the
end, and at the early-stopping iteration, whose weights the loop keeps while validation
improves and evaluates at the end. The numbers are those an evaluation at every
``eval_every`` gives, bit for bit; the test curve just has fewer points (``None`` in
``curve['test_acc']`` where the test set was not evaluated).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import checkpoint
from .batches import Batches, augment
from .data import Data
from .errors import LTError
from .fast import pool
from .hparams import Hyper
from .masks import Mask
from .models import build
from .optim import half_dtype, lr_factor, make_optimizer

__all__ = ["train", "masked_step", "Run", "evaluate", "test_accuracy", "progress_enabled", "GROUPS", "MAX_COPIES"]

# Batched networks are split into this many groups on a CPU, one process each, whatever the
# machine: two fill a 2-core machine (the book's build machine, Colab's CPU); a run that asks
# for more keeps more cores busy and records the number, so a rerun groups (and rounds) alike.
GROUPS = 2
MAX_COPIES = 32  # how many networks of a round train at once by default (iterative.run): in practice, all


@dataclass
class Run:
    """What one training run produced."""

    weights: dict[str, torch.Tensor]  # final weights (CPU), as Network.get_copy returns
    curve: dict[str, list]  # iteration, val_loss, val_acc, test_acc (one entry per evaluation)
    early_stop_iteration: int
    early_stop_test_acc: float
    final_test_acc: float
    snapshot: dict[str, torch.Tensor] | None = None  # weights at iteration `snapshot_at`


def progress_enabled(progress: bool | None) -> bool:
    """Progress bars: on in a terminal, off when output is a file or ``LT_PROGRESS=0``."""
    if progress is not None:
        return progress
    if os.environ.get("LT_PROGRESS") is not None:
        return os.environ["LT_PROGRESS"] not in ("0", "", "false", "no")
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def train(model_name: str, data: Data, inits: list[dict], masks: list[Mask], hp: Hyper,
          seeds: list[int], *, batched: bool = True, snapshot_at: int | None = None,
          progress: bool | None = None, desc: str = "training", groups: int = GROUPS,
          channels_last: bool = True, checkpoint: Path | None = None) -> list[Run]:
    """Train one network per entry of ``inits``/``masks``/``seeds``; see the module doc.

    On the CPU, batched networks are split into ``groups`` groups; each group is one
    batched model trained in its own process (see :mod:`lt_helpers.fast.pool`) with
    single-threaded kernels. Small matrix products parallelize poorly inside one kernel and
    well across groups (``results/speed-notes.md``; ``make bench`` measures it). Which networks share a group (and so how
    their floats round) depends on ``groups`` and the runs only, never on the machine's
    cores: the same seeds give the same results anywhere. On a GPU all train as one group.
    With a ``checkpoint`` folder, each group saves its progress there as it trains and goes on
    from it when called again with the same arguments (:mod:`lt_helpers.checkpoint`).
    """
    if not (len(inits) == len(masks) == len(seeds)):
        raise LTError(f"inits, masks and seeds must have one entry per run: got "
                      f"{len(inits)}, {len(masks)}, {len(seeds)}")
    if not batched and len(inits) > 1:
        return [r for i in range(len(inits)) for r in
                train(model_name, data, inits[i:i + 1], masks[i:i + 1], hp, seeds[i:i + 1],
                      snapshot_at=snapshot_at, progress=progress, desc=desc, groups=groups,
                      channels_last=channels_last, checkpoint=checkpoint and checkpoint / f"network{i}")]
    hp.check()
    K = len(inits)
    if groups < 1:
        raise LTError(f"groups must be at least 1, got {groups}")
    cpu = data.device.type == "cpu"
    n_groups = min(K, groups) if cpu else 1
    parts = [list(range(g * K // n_groups, (g + 1) * K // n_groups)) for g in range(n_groups)]
    bar = tqdm(total=hp.iterations, desc=desc, disable=not progress_enabled(progress), leave=False)
    pick = lambda items, idx: [items[i] for i in idx]
    report = lambda it: bar.update(it - bar.n)
    saves = [checkpoint / f"group{g}.pt" if checkpoint else None for g in range(n_groups)]
    # Each group seeds torch's global generator (dropout draws from it) from its runs' seeds;
    # the caller gets its own generator state back.
    with torch.random.fork_rng(devices=[torch.cuda.current_device()] if data.device.type == "cuda" else []):
        if n_groups == 1:
            before = torch.get_num_threads()
            if cpu:  # one thread, as in a group's process: a kernel's threads change its rounding
                torch.set_num_threads(1)
            try:
                runs = _train_batch(model_name, data, inits, masks, hp, seeds, snapshot_at, channels_last, report,
                                    saves[0])
            finally:
                torch.set_num_threads(before)
        else:
            jobs = [functools.partial(_train_batch, model_name, data, pick(inits, idx), pick(masks, idx), hp,
                                      pick(seeds, idx), snapshot_at, channels_last, save=saves[g])
                    for g, idx in enumerate(parts)]
            runs = [None] * K
            for idx, out in zip(parts, pool.run_jobs(jobs, report)):
                for i, r in zip(idx, out):
                    runs[i] = r
    bar.close()
    return runs


def masked_step(model, opt, x, y, masked, batch_size: int, amp, scaler=None, lr: float | None = None):
    """One training step of masked networks: forward, loss, backward, zero the gradients of the
    pruned weights, step. ``masked`` pairs each prunable weight with its mask (1: kept). With
    their gradients zeroed, pruned weights, which start at zero, get no update: they stay zero."""
    with amp:  # mixed precision on a GPU; a no-op on the CPU
        loss = _loss_sum(model(x), y) / batch_size  # sum of per-copy mean losses: each copy's gradient is its own
    opt.zero_grad()
    (scaler.scale(loss) if scaler else loss).backward()
    for weight, mask in masked:
        weight.grad.mul_(mask)  # the pruned weights get no gradient
    if lr is not None:  # a scheduled learning rate (warmup, drops)
        opt.param_groups[0]["lr"] = lr
    if scaler is None:
        opt.step()
    else:  # fp16: the loss was scaled up against underflow
        scaler.step(opt)
        scaler.update()
    return loss


def _train_batch(model_name, data, inits, masks, hp, seeds, snapshot_at, channels_last, report,
                 save: Path | None = None) -> list[Run]:
    """Train the networks as copies of one batched model (the loop itself); ``report(it)``,
    if given, is called at every evaluation; ``save``: this group's checkpoint file."""
    K, device = len(inits), data.device
    if device.type == "cpu":
        # Flush denormal floats to zero in this thread: SGD with momentum and weight decay
        # leaves tiny values whose arithmetic is far slower on x86 (results/speed-notes.md); zero
        # is as good an answer for them.
        torch.set_flush_denormal(True)
    torch.manual_seed(int(seeds[0]))  # dropout's masks come from the global generator
    model = build(model_name, data.input_shape, data.num_classes, copies=K, dropout=hp.dropout,
                  channels_last=channels_last).to(device)
    params = dict(model.named_parameters())
    checked = [m.check(model) for m in masks]
    stacked = {name: torch.stack([m[name] for m in checked]).to(device, torch.float32) for name in model.prunable}
    with torch.no_grad():
        for k, w in enumerate(inits):
            model.set_copy(k, w)
        for name, m in stacked.items():
            params[name].mul_(m)
    masked = [(params[name], m) for name, m in stacked.items()]  # each prunable weight with its mask
    model.train()
    half = half_dtype(hp.precision, device)
    amp = torch.autocast(device.type, dtype=half or torch.float32, enabled=half is not None)
    scaler = torch.amp.GradScaler(device.type) if half == torch.float16 else None  # fp16 needs loss scaling

    opt = make_optimizer(list(model.parameters()), hp, device, scaled=scaler is not None)
    scheduled = bool(hp.warmup or hp.lr_drops)  # a constant learning rate needs no per-step Python
    evals = list(range(0, hp.iterations + 1, hp.eval_every))
    if evals[-1] != hp.iterations:
        evals.append(hp.iterations)
    eval_at = {it: e for e, it in enumerate(evals)}
    record = torch.zeros(3, K, len(evals), device=device)  # val loss, val acc, test acc
    test_every = hp.test_every or hp.eval_every
    tested = [it % test_every == 0 or it == hp.iterations for it in evals]
    record[2, :, torch.tensor([e for e, t in enumerate(tested) if not t], dtype=torch.long)] = float("nan")
    best = _BestWeights(model, K)
    batches = Batches(len(data.y_train), hp.batch_size, seeds, device,
                       augment_dims=len(data.input_shape) - 1 if hp.augment else 0)
    snapshot, start = None, 0
    if save is not None:
        ident = checkpoint.identity(model_name, hp, seeds, inits, masks, snapshot_at=snapshot_at,
                                    channels_last=channels_last)
        saved, last_save = checkpoint.read(save, ident), time.monotonic()
        clock = last_save - (saved or {}).get("seconds", 0.0)  # the round's time, from before a stop too
        if saved is not None:
            start, snapshot = _restore(saved, model, opt, scaler, batches, best, record), saved["snapshot"]

    for it in range(start, hp.iterations + 1):
        if save is not None and it > start and it in eval_at and time.monotonic() - last_save >= checkpoint.EVERY_S:
            checkpoint.write(save, ident, it, _state(model, opt, scaler, batches, best, record, snapshot),
                             time.monotonic() - clock)
            last_save = time.monotonic()
        if it == snapshot_at:
            snapshot = [model.get_copy(k) for k in range(K)]
        if it in eval_at:
            e = eval_at[it]
            with amp:
                loss, correct = evaluate(model, data.x_val, data.y_val)
                record[0, :, e], record[1, :, e] = loss.mean(1), correct.mean(1)
                if tested[e]:
                    record[2, :, e] = evaluate(model, data.x_test, data.y_test)[1].mean(1)
            best.update(record[0, :, e], e, keep=not tested[e])
            if report is not None:
                report(it)
        if it == hp.iterations:
            break
        idx, shift, flip = batches.next()  # [K, batch] (and each example's augmentation)
        rows = idx.flatten()  # index_select is several times faster than x_train[idx] on a CPU
        x = data.x_train.index_select(0, rows).view(*idx.shape, *data.input_shape)
        if shift is not None:
            x = augment(x.flatten(0, 1), shift.flatten(0, 1), None if flip is None else flip.flatten()).view_as(x)
        masked_step(model, opt, x, data.y_train.index_select(0, rows), masked, hp.batch_size, amp, scaler,
                    hp.lr * lr_factor(it, hp) if scheduled else None)

    final = [model.get_copy(k) for k in range(K)]
    losses = record[0].cpu().tolist()
    stops = [min(range(len(evals)), key=lambda e: (losses[k][e], e)) for k in range(K)]
    untested = [k for k in range(K) if not tested[stops[k]]]
    if untested:
        with amp:
            accuracy = best.test_accuracy(data, stops, untested)
        for k in untested:
            record[2, k, stops[k]] = accuracy[k]
    # float32 values as the shortest decimals that round-trip (0.634, not 0.6340000033378601)
    val_loss, val_acc, test_acc = [[[float(str(v)) for v in row] for row in m] for m in record.cpu().numpy()]
    test_acc = [[None if v != v else v for v in row] for row in test_acc]  # NaN: not evaluated
    return [Run(weights=final[k],
                curve={"iteration": evals, "val_loss": val_loss[k], "val_acc": val_acc[k], "test_acc": test_acc[k]},
                early_stop_iteration=evals[stops[k]], early_stop_test_acc=test_acc[k][stops[k]],
                final_test_acc=test_acc[k][-1], snapshot=snapshot[k] if snapshot else None) for k in range(K)]


def _state(model, opt, scaler, batches, best, record, snapshot) -> dict:
    """What the loop needs to go on (a checkpoint): every object's state, the records so far."""
    return dict(model=model.state_dict(), opt=opt.state_dict(), scaler=scaler and scaler.state_dict(),
                batches=batches.state_dict(), best=best.state_dict(), record=record, snapshot=snapshot,
                rng=torch.get_rng_state(), cuda_rng=torch.cuda.get_rng_state() if record.is_cuda else None)


def _restore(saved: dict, model, opt, scaler, batches, best, record) -> int:
    """Put a checkpoint's state back into the loop's objects; returns the iteration to go on from."""
    model.load_state_dict(saved["model"])
    opt.load_state_dict(saved["opt"])
    if scaler is not None:
        scaler.load_state_dict(saved["scaler"])
    batches.load_state_dict(saved["batches"])
    best.load_state_dict(saved["best"])
    record.copy_(saved["record"])
    torch.set_rng_state(saved["rng"])
    if saved["cuda_rng"] is not None:
        torch.cuda.set_rng_state(saved["cuda_rng"])
    return int(saved["iteration"])


class _BestWeights:
    """Each copy's weights at its lowest validation loss so far (the earliest, on ties: the
    early-stopping rule), kept on the device so that the test accuracy there can be
    evaluated once at the end instead of at every evaluation."""

    def __init__(self, model, copies: int):
        self.model, self.loss, self.at = model, [float("inf")] * copies, [0] * copies
        self.state = {}  # copy -> its state_dict slice at self.at[copy]

    def state_dict(self) -> dict:
        """The lowest losses so far, where, and the weights kept (what a checkpoint keeps)."""
        return {"loss": self.loss, "at": self.at, "state": {str(k): v for k, v in self.state.items()}}

    def load_state_dict(self, saved: dict) -> None:
        """Go on from what :meth:`state_dict` gave."""
        self.loss, self.at = list(saved["loss"]), list(saved["at"])
        self.state = {int(k): v for k, v in saved["state"].items()}

    def update(self, val_loss: torch.Tensor, e: int, keep: bool) -> None:
        """Evaluation ``e`` gave ``val_loss`` per copy; ``keep``: copy the weights of those
        at a new minimum (not needed where the test set was evaluated at ``e`` anyway)."""
        for k, v in enumerate(val_loss.tolist()):
            if v < self.loss[k]:  # as min() compares: strictly lower, NaN never
                self.loss[k], self.at[k] = v, e
                if keep:
                    self.state[k] = {n: t[k].clone() for n, t in self.model.state_dict().items()}
                else:
                    self.state.pop(k, None)

    def test_accuracy(self, data: Data, stops: list[int], copies: list[int]) -> torch.Tensor:
        """Test accuracy of every copy, ``copies`` with the weights they had at evaluation
        ``stops[k]`` (the others as they are now: not to be used). The model's weights are
        restored afterwards."""
        now = self.model.state_dict()
        current = {n: t.clone() for n, t in now.items()}
        with torch.no_grad():
            for k in copies:
                if k not in self.state or self.at[k] != stops[k]:
                    raise RuntimeError(f"copy {k}: weights at evaluation {stops[k]} were not kept")
                for n, t in self.state[k].items():
                    now[n][k].copy_(t)
            accuracy = evaluate(self.model, data.x_test, data.y_test)[1].mean(1)
            for n, t in current.items():
                now[n].copy_(t)
        return accuracy


def _loss_sum(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over copies and examples; ``out`` is ``[K, batch, classes]``,
    ``y`` the ``K * batch`` labels. Where an output layer computed ``[K, classes, batch]``
    (``fast.layers._FewOutputs``, from 4 copies up) the log-softmax runs over that contiguous
    layout, the faster one there; otherwise classes last is kept, the faster at one copy.
    ``evaluate`` always puts the classes in the middle, faster over thousands of examples
    even at one copy (the measurements: ``results/speed-notes.md``)."""
    if out.stride(-1) == 1:
        return F.cross_entropy(out.flatten(0, 1), y, reduction="sum")
    return F.cross_entropy(out.transpose(1, 2), y.view(out.shape[:2]), reduction="sum")


@torch.inference_mode()
def evaluate(model, x: torch.Tensor, y: torch.Tensor, chunk: int | None = None):
    """Per-example loss and correctness ``[copies, examples]`` of every copy on (x, y),
    without leaving the device. On a CPU the examples go in chunks of about 4,000 / copies,
    so that a chunk's activations stay in cache (faster than fixed chunks of 2,000:
    ``results/speed-notes.md``)."""
    model.eval()
    K, losses, correct = model.copies, [], []
    chunk = chunk or (max(100, 4000 // K) if x.device.type == "cpu" else 2000)
    for start in range(0, len(y), chunk):
        xb, yb = x[start:start + chunk], y[start:start + chunk]
        out = model(xb.expand(K, *xb.shape))  # [K, n, classes]
        losses.append(F.cross_entropy(out.transpose(1, 2), yb.expand(K, -1), reduction="none"))
        correct.append((out.argmax(-1) == yb).float())
    model.train()
    return torch.cat(losses, 1), torch.cat(correct, 1)


def test_accuracy(model_name: str, data: Data, weights: list[dict], masks: list[Mask] | None = None) -> list[float]:
    """Test accuracy of networks given as weight dicts (optionally multiplied by masks),
    evaluated together as copies of one batched model."""
    model = build(model_name, data.input_shape, data.num_classes, copies=len(weights)).to(data.device)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for k, w in enumerate(weights):
            model.set_copy(k, w)
            for name, m in (masks[k].check(model) if masks else {}).items():
                params[name][k].mul_(m.to(data.device))
    return evaluate(model, data.x_test, data.y_test)[1].mean(1).tolist()
