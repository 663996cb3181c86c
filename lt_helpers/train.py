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
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch.optim.adam import adam
from tqdm.auto import tqdm

from . import parallel
from .data import Data
from .errors import LTError
from .masks import Mask
from .models import build


@dataclass
class Hyper:
    """Training hyperparameters of one run."""

    iterations: int = 6000
    batch_size: int = 60
    optimizer: str = "adam"  # 'adam' or 'sgd'
    lr: float = 1.2e-3
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0
    eval_every: int = 100
    warmup: int = 0  # iterations of linear learning-rate warmup from 0
    lr_drops: list[int] = field(default_factory=list)  # iterations at which lr is divided by 10
    # Mixed precision: 'auto' is bf16 autocast on a GPU that supports it (fp16 with loss
    # scaling on older GPUs) and fp32 on the CPU; 'bf16' on a CPU with AVX512-BF16 is
    # faster but rounds differently.
    precision: str = "auto"
    dropout: float = 0.0  # on the fully connected hidden layers
    augment: bool = False  # random 4-position pad-and-crop (+ horizontal flips for images)

    def check(self) -> "Hyper":
        for name in ("iterations", "batch_size", "eval_every"):
            if int(getattr(self, name)) < 1:
                raise LTError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.optimizer not in ("adam", "sgd"):
            raise LTError(f"unknown optimizer {self.optimizer!r}; use 'adam' or 'sgd'")
        if not 0.0 <= self.dropout < 1.0:
            raise LTError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise LTError(f"unknown precision {self.precision!r}; use 'auto', 'fp32', 'bf16' or 'fp16'")
        if not self.lr > 0:
            raise LTError(f"learning rate must be positive, got {self.lr}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Run:
    """What one training run produced."""

    weights: dict[str, torch.Tensor]  # final weights (CPU), as Network.get_copy returns
    curve: dict[str, list]  # iteration, val_loss, val_acc, test_acc (one entry per evaluation)
    early_stop_iteration: int
    early_stop_test_acc: float
    final_test_acc: float
    snapshot: dict[str, torch.Tensor] | None = None  # weights at iteration `snapshot_at`


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """'auto' (or None): CUDA when available, else Apple's MPS, else the CPU. The
    environment is not read here: ``LT_DEVICE`` is read at the edges (``book.setup``, the
    command line), so an explicit ``device`` always wins."""
    device = device or "auto"
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise LTError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda'") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise LTError("device 'cuda' was asked for but no GPU is available; use device='auto' or 'cpu'")
    if dev.type == "mps" and not _mps_available():
        raise LTError("device 'mps' was asked for but Apple's MPS is not available; use device='auto' or 'cpu'")
    return dev


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def progress_enabled(progress: bool | None) -> bool:
    """Progress bars: on in a terminal, off when output is a file or ``LT_PROGRESS=0``."""
    if progress is not None:
        return progress
    if os.environ.get("LT_PROGRESS") is not None:
        return os.environ["LT_PROGRESS"] not in ("0", "", "false", "no")
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def train(model_name: str, data: Data, inits: list[dict], masks: list[Mask], hp: Hyper,
          seeds: list[int], *, batched: bool = True, snapshot_at: int | None = None,
          progress: bool | None = None, desc: str = "training", threads: int | None = None) -> list[Run]:
    """Train one network per entry of ``inits``/``masks``/``seeds``; see the module doc.

    On the CPU, batched networks are split into one group per CPU thread (``threads``,
    default ``torch.get_num_threads()``); each group is one batched model trained in its
    own process (see :mod:`lt_helpers.parallel`) with single-threaded kernels. Small matrix
    products parallelize poorly inside one kernel and well across groups (1.4-1.7x on 2 cores).
    """
    if not (len(inits) == len(masks) == len(seeds)):
        raise LTError(f"inits, masks and seeds must have one entry per run: got "
                      f"{len(inits)}, {len(masks)}, {len(seeds)}")
    if not batched and len(inits) > 1:
        return [r for i in range(len(inits)) for r in
                train(model_name, data, inits[i:i + 1], masks[i:i + 1], hp, seeds[i:i + 1],
                      snapshot_at=snapshot_at, progress=progress, desc=desc)]
    hp.check()
    K = len(inits)
    n_groups = min(K, threads or torch.get_num_threads()) if data.device.type == "cpu" else 1
    groups = [list(range(g * K // n_groups, (g + 1) * K // n_groups)) for g in range(n_groups)]
    bar = tqdm(total=hp.iterations, desc=desc, disable=not progress_enabled(progress), leave=False)
    pick = lambda items, idx: [items[i] for i in idx]
    report = lambda it: bar.update(it - bar.n)
    # Each group seeds torch's global generator (dropout draws from it) from its runs' seeds;
    # the caller gets its own generator state back.
    with torch.random.fork_rng(devices=[torch.cuda.current_device()] if data.device.type == "cuda" else []):
        if n_groups == 1:
            runs = _train_batch(model_name, data, inits, masks, hp, seeds, snapshot_at, report)
        else:
            jobs = [functools.partial(_train_batch, model_name, data, pick(inits, idx), pick(masks, idx), hp,
                                      pick(seeds, idx), snapshot_at) for idx in groups]
            runs = [None] * K
            for idx, out in zip(groups, parallel.run_jobs(jobs, report)):
                for i, r in zip(idx, out):
                    runs[i] = r
    bar.close()
    return runs


def _train_batch(model_name, data, inits, masks, hp, seeds, snapshot_at, report) -> list[Run]:
    """Train the networks as copies of one batched model (the loop itself); ``report(it)``,
    if given, is called at every evaluation."""
    K, device = len(inits), data.device
    if device.type == "cpu":
        # Flush denormal floats to zero in this thread: SGD with momentum and weight decay
        # leaves tiny values whose arithmetic is ~100x slower on x86 (measured: a 1-D ResNet-20
        # with warmup, 1.4 s per step instead of 0.1 s); zero is as good an answer for them.
        torch.set_flush_denormal(True)
    torch.manual_seed(int(seeds[0]))  # dropout's masks come from the global generator
    model = build(model_name, data.input_shape, data.num_classes, copies=K, dropout=hp.dropout).to(device)
    params = dict(model.named_parameters())
    checked = [m.check(model) for m in masks]
    stacked = {name: torch.stack([m[name] for m in checked]).to(device, torch.float32) for name in model.prunable}
    with torch.no_grad():
        for k, w in enumerate(inits):
            model.set_copy(k, w)
        for name, m in stacked.items():
            params[name].mul_(m)
    pruned, keep = [params[name] for name in stacked], list(stacked.values())
    model.train()
    half = _half_dtype(hp.precision, device)
    amp = torch.autocast(device.type, dtype=half or torch.float32, enabled=half is not None)
    scaler = torch.amp.GradScaler(device.type) if half == torch.float16 else None  # fp16 needs loss scaling

    opt = _optimizer(list(model.parameters()), hp, device, scaled=scaler is not None)
    scheduled = bool(hp.warmup or hp.lr_drops)  # a constant learning rate needs no per-step Python
    evals = list(range(0, hp.iterations + 1, hp.eval_every))
    if evals[-1] != hp.iterations:
        evals.append(hp.iterations)
    eval_at = {it: e for e, it in enumerate(evals)}
    record = torch.zeros(3, K, len(evals), device=device)  # val loss, val acc, test acc
    x_eval, y_eval, n_val = torch.cat([data.x_val, data.x_test]), torch.cat([data.y_val, data.y_test]), len(data.y_val)
    batches = _Batches(len(data.y_train), hp.batch_size, seeds, device,
                       augment_dims=len(data.input_shape) - 1 if hp.augment else 0)
    snapshot = None

    for it in range(hp.iterations + 1):
        if it == snapshot_at:
            snapshot = [model.get_copy(k) for k in range(K)]
        if it in eval_at:
            e = eval_at[it]
            with amp:  # validation and test in one pass
                loss, correct = _evaluate(model, x_eval, y_eval)
            record[0, :, e] = loss[:, :n_val].mean(1)
            record[1, :, e] = correct[:, :n_val].mean(1)
            record[2, :, e] = correct[:, n_val:].mean(1)
            if report is not None:
                report(it)
        if it == hp.iterations:
            break
        idx, shift, flip = batches.next()  # [K, batch] (and each example's augmentation)
        rows = idx.flatten()  # index_select is several times faster than x_train[idx] on a CPU
        x = data.x_train.index_select(0, rows).view(*idx.shape, *data.input_shape)
        if shift is not None:
            x = augment(x.flatten(0, 1), shift.flatten(0, 1), None if flip is None else flip.flatten()).view_as(x)
        with amp:
            out = model(x)
            # Sum of per-copy mean losses: each copy's gradient is its own.
            loss = _loss_sum(out, data.y_train.index_select(0, rows)) / hp.batch_size
        opt.zero_grad()
        (scaler.scale(loss) if scaler else loss).backward()
        for p, m in zip(pruned, keep):
            p.grad.mul_(m)  # pruned weights get no gradient
        if scheduled:
            opt.param_groups[0]["lr"] = hp.lr * _lr_factor(it, hp)
        if scaler:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()

    # float32 values as the shortest decimals that round-trip (0.634, not 0.6340000033378601)
    val_loss, val_acc, test_acc = [[[float(str(v)) for v in row] for row in m] for m in record.cpu().numpy()]
    runs = []
    for k in range(K):
        best = min(range(len(evals)), key=lambda e: (val_loss[k][e], e))
        runs.append(Run(
            weights=model.get_copy(k),
            curve={"iteration": evals, "val_loss": val_loss[k], "val_acc": val_acc[k], "test_acc": test_acc[k]},
            early_stop_iteration=evals[best], early_stop_test_acc=test_acc[k][best],
            final_test_acc=test_acc[k][-1], snapshot=snapshot[k] if snapshot else None))
    return runs


def _loss_sum(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over copies and examples; ``out`` is ``[K, batch, classes]``,
    ``y`` the ``K * batch`` labels. Where an output layer computed ``[K, classes, batch]``
    (``models._FewOutputs``, from 4 copies up) the log-softmax runs over that contiguous
    layout: forward and backward at 16 copies, 97 us against 269 us with classes last.
    Otherwise classes last is kept: at one copy it is the faster of the two (a training step
    13 us faster than with classes in the middle). ``_evaluate`` always puts the classes in
    the middle: over thousands of examples that is ~10x faster even at one copy."""
    if out.stride(-1) == 1:
        return F.cross_entropy(out.flatten(0, 1), y, reduction="sum")
    return F.cross_entropy(out.transpose(1, 2), y.view(out.shape[:2]), reduction="sum")


class _Batches:
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

    def next(self):
        """``(index [runs, batch], shift [runs, batch, dims] or None, flip [runs, batch] or None)``."""
        if self.step == self.per_epoch:
            K, shape = len(self.gens), (len(self.gens), self.per_epoch, self.b)
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


@torch.inference_mode()
def _evaluate(model, x: torch.Tensor, y: torch.Tensor, chunk: int | None = None):
    """Per-example loss and correctness ``[copies, examples]`` of every copy on (x, y),
    without leaving the device. On a CPU the examples go in chunks of about 4,000 / copies,
    so that a chunk's activations stay in cache (measured for the MNIST-1D MLP: 1.4x
    faster at 5 copies, 1.9x at 16, than chunks of 2,000)."""
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


def _half_dtype(precision: str, device: torch.device):
    """The autocast dtype for ``precision`` on ``device``, or None for plain fp32."""
    if precision == "auto":
        if device.type != "cuda":
            return None
        # bf16 where the GPU computes it (Ampere and later); fp16 with loss scaling on older
        # ones (Colab's T4), where torch would only emulate bf16, slowly.
        return torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)


def _optimizer(params: list, hp: Hyper, device, scaled: bool = False):
    """The run's optimizer, with torch's fused kernels on a CPU or GPU. Its learning rate is
    ``param_groups[0]["lr"]``. ``scaled``: the loop scales its fp16 loss with a GradScaler,
    which needs a ``torch.optim`` optimizer."""
    fused = device.type in ("cpu", "cuda")
    if hp.optimizer == "adam" and not scaled:
        return _Adam(params, hp.lr, hp.weight_decay, fused)
    if hp.optimizer == "adam":
        return torch.optim.Adam(params, lr=hp.lr, weight_decay=hp.weight_decay, fused=fused or None)
    return torch.optim.SGD(params, lr=hp.lr, momentum=hp.momentum, weight_decay=hp.weight_decay, fused=fused or None)


class _Adam:
    """Adam, computed by the function that ``torch.optim.Adam.step()`` calls
    (``torch.optim.adam.adam``, with the same state and defaults, fused or not), so the
    update is the same bit for bit; what it leaves out is the optimizer class's per-step
    bookkeeping (hooks, profiler ranges, regrouping the tensors). Measured side by side on a
    2-core CPU, a training step of 5 MNIST-1D networks took 6-12% less time, ~2% at 16."""

    def __init__(self, params: list, lr: float, weight_decay: float, fused: bool):
        self.params, self.weight_decay, self.fused = params, weight_decay, fused
        self.param_groups = [{"lr": lr}]
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        self.steps = [torch.zeros((), device=p.device if fused else "cpu") for p in params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()  # as torch.optim's step: the update is not part of the graph
    def step(self) -> None:
        adam(self.params, [p.grad for p in self.params], self.exp_avg, self.exp_avg_sq, [], self.steps,
             fused=self.fused or None, amsgrad=False, beta1=0.9, beta2=0.999, lr=self.param_groups[0]["lr"],
             weight_decay=self.weight_decay, eps=1e-8, maximize=False)


def _lr_factor(it: int, hp: Hyper) -> float:
    """Linear warmup, then divide by 10 at each of ``lr_drops``."""
    warm = min(1.0, (it + 1) / hp.warmup) if hp.warmup else 1.0
    return warm * 0.1 ** sum(it >= d for d in hp.lr_drops)


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
    return _evaluate(model, data.x_test, data.y_test)[1].mean(1).tolist()
