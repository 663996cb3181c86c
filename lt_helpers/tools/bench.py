"""The speed benchmark behind ``make bench``: one table, measured side by side in one run.

Columns, per workload (LeNet-300-100 on MNIST-shaped data and the MNIST-1D MLP, batch 60;
with ``--conv``, the default on a GPU, also Conv-2 on CIFAR-shaped data):

* ``reference``: a loop written the way common implementations are: a torchvision-style
  ``Dataset`` that converts every example (through PIL for images), a ``DataLoader``,
  ``nn.Linear`` layers, Adam, and the masks re-applied to the weights after every step.
* ``plain``: :func:`lt_helpers.plain.train_masked`, the book's plain PyTorch loop (``torch.nn``,
  ``torch.nn.utils.prune``, ``torch.optim.Adam``, batches indexed from the tensors), one
  network on torch's default threads: beside ``K=1`` and ``K=8``, what the fast layer buys.
* ``lt_helpers K=1``: :func:`lt_helpers.train.train` with one network.
* ``lt_helpers K=8`` / ``K=32``: the same with 8 or 32 networks trained as one batched model.
* Conv-2 has K=1, K=8 and ``K=8 NCHW`` rows (the images' default layout: what channels-last buys);
  ``--conv`` adds Conv-2/4/6 on 28x28 grey images beside their floor (:func:`conv_rows`).

``ms/step`` is wall time per training step *per network* (evaluation excluded), a batched
step of K networks counting K; ``vs reference`` and ``vs K=1`` are throughput ratios; ``spread``
is how much slower the slowest repetition was than the best: the machine's noise during the run.
``--bf16`` adds a row for batched training with bf16 autocast on the CPU (AVX512-BF16).
A Fashion-MNIST section (where Debian's ``dataset-fashion-mnist`` or torchvision's files are
on disk; ``--skip-fashion`` leaves it out) times what a full run on real images does: 10
networks of LeNet-300-100 (784-300-100-10), evaluation *included* (validation every 100
iterations on 5,000 images), once with the test set (10,000 images) at every evaluation
and once every 1,000 iterations as the ``paper`` preset does (``Hyper.test_every``: the same
reported numbers). Beside each: its arithmetic's floor, the multiply-adds of the training
steps and evaluations divided by this machine's measured matrix-multiply peak (a large
single-threaded fp32 product, times the cores the groups use), and the share of that
peak the run reaches.
A last line times chapter 3's full MNIST-1D experiment (``paper`` preset), unless ``--skip-chapter``.

Each measurement is repeated (``--repeats``, interleaved across methods) and the best
time is kept, so noise from a shared machine does not favour one method.

Run: ``python -m lt_helpers.tools.bench [--device cuda] [--steps 300] [--repeats 3] [--bf16]
[--conv] [--precision fp32|bf16] [--skip-chapter]``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from .. import iterative, masks, models, plain, presets
from ..data import Data, DatasetUnavailable, load, normalize
from ..hparams import Hyper
from ..device import resolve_device
from ..train import GROUPS, train
from .reference import reference_step_ms, sync


def random_tickets(model: str, input_shape, copies: int, rates: dict) -> tuple[list[dict], list]:
    """``copies`` networks to time: initial weights (seeds 0, 1, ...) and random masks pruned
    at ``rates`` (per kind of layer, e.g. ``{"fc": 0.5, "output": 0.25}``)."""
    net = models.build(model, input_shape)
    layer_rates = masks.layer_rates(net, rates)
    ms = [masks.prune(masks.random_scores(ones := masks.Mask.ones_like(net), k), ones, layer_rates) for k in range(copies)]
    inits = [models.build(model, input_shape, seeds=[k]).get_copy(0) for k in range(copies)]
    return inits, ms


def lt_step_ms(data: Data, copies: int, steps: int, precision: str = "auto", model: str = "lenet_300_100",
               base: int = 20, channels_last: bool = True) -> float:
    """ms per training step per network of lt_helpers.train with ``copies`` networks: the
    difference of a run of ``steps + base`` steps and one of ``base`` steps, so set-up and
    the two evaluations cancel."""
    inits, ms = random_tickets(model, data.input_shape, copies, {"fc": 0.5, "conv": 0.5, "output": 0.25})
    run = lambda iterations: train(model, data, inits, ms, Hyper(iterations=iterations, eval_every=10 * iterations,
                                                                 precision=precision),
                                   seeds=list(range(copies)), progress=False, channels_last=channels_last)
    return _step_ms(run, data.device, steps, base) / copies


def plain_step_ms(data: Data, steps: int, base: int = 20) -> float:
    """ms per training step of :func:`lt_helpers.plain.train_masked` (one LeNet), taken as
    :func:`lt_step_ms` takes it."""
    inits, ms = random_tickets("lenet_300_100", data.input_shape, 1, {"fc": 0.5, "output": 0.25})
    run = lambda iterations: plain.train_masked(data, inits[0], ms[0],
                                                Hyper(iterations=iterations, eval_every=10 * iterations), seed=0)
    return _step_ms(run, data.device, steps, base)


def _step_ms(run, device, steps: int, base: int) -> float:
    """ms per step of ``run(iterations)``: the difference of a run of ``steps + base`` steps and one
    of ``base`` steps (after a warm-up), so set-up and the two evaluations cancel."""
    def timed(iterations):
        sync(device)
        t = time.perf_counter()
        run(iterations)
        sync(device)
        return time.perf_counter() - t

    timed(min(10, base))  # warm-up
    return 1e3 * (timed(steps + base) - timed(base)) / steps


def matmul_peak_gflops(device, size: int = 1024, repeats: int = 5) -> float:
    """The fp32 rate of a large matrix product on ``device`` (single-threaded on a CPU):
    the best of ``repeats``, in GFLOP/s (2 flops per multiply-add)."""
    a, b = (torch.randn(size, size, device=device) for _ in range(2))
    before = torch.get_num_threads()
    if torch.device(device).type == "cpu":
        torch.set_num_threads(1)
    try:
        best = float("inf")
        for _ in range(repeats + 1):  # the first warms up
            sync(device)
            t = time.perf_counter()
            a @ b
            sync(device)
            best = min(best, time.perf_counter() - t)
    finally:
        torch.set_num_threads(before)
    return 2 * size ** 3 / best / 1e9


def lenet_flops_per_step(data: Data, hp: Hyper) -> float:
    """Floating-point operations per network-step of LeNet-300-100 on ``data``, its
    evaluations included: a training step is the forward product and two backward ones
    (the first layer's input gradient is not needed), 2 flops per multiply-add; every
    ``eval_every`` steps a forward pass over the validation set, every ``test_every`` one
    over the test set."""
    sizes = [(int(np.prod(data.input_shape)), 300), (300, 100), (100, 10)]
    macs = sum(i * o for i, o in sizes)
    backward = 2 * macs - sizes[0][0] * sizes[0][1]
    train_flops = 2 * hp.batch_size * (macs + backward)
    test_every = hp.test_every or hp.eval_every
    eval_flops = 2 * macs * (len(data.y_val) / hp.eval_every + len(data.y_test) / test_every)
    return train_flops + eval_flops


def fashion_rows(device, iterations: int, repeats: int, copies: int = 10) -> list[str]:
    """The Fashion-MNIST section: ms per network-step with evaluation, against its floor."""
    try:
        data = load("fashion_mnist", device=device, download=False)
    except DatasetUnavailable as err:
        return [f"Fashion-MNIST: skipped ({err})"]
    inits, ms = random_tickets("lenet_300_100", data.input_shape, copies, {"fc": 0.5, "output": 0.25})
    paper = presets.get("lenet_300_100", "fashion_mnist", "paper").hp
    settings = {"test every 100 (full evaluation)": replace(paper, iterations=iterations, test_every=0),
                f"test every {paper.test_every:,} (paper preset)": replace(paper, iterations=iterations)}
    times = {name: [] for name in settings}
    for _ in range(repeats):  # interleaved, best kept
        for name, hp in settings.items():
            sync(device)
            t = time.perf_counter()
            train("lenet_300_100", data, inits, ms, hp, seeds=list(range(copies)), progress=False)
            sync(device)
            times[name].append(time.perf_counter() - t)
    cores = min(copies, GROUPS) if torch.device(device).type == "cpu" else 1
    peak = matmul_peak_gflops(device) * cores
    lines = [f"\nLeNet-300-100 on Fashion-MNIST, {copies} networks in {cores} group(s), {iterations:,} iterations, "
             f"validation (5,000) every 100, evaluation included; floor: the arithmetic at {peak:,.0f} GFLOP/s "
             f"(a 1024x1024 fp32 product's rate x {cores} core(s))",
             f"{'evaluation':36s} {'ms/step':>9s} {'floor ms':>9s} {'of peak':>8s} {'vs full':>8s} {'spread':>7s}"]
    full = min(times[next(iter(settings))])
    for name, hp in settings.items():
        best = min(times[name])
        step_ms = 1e3 * best / (copies * iterations)
        floor_ms = 1e3 * lenet_flops_per_step(data, hp) / (peak * 1e9)
        lines.append(f"{name:36s} {step_ms:9.3f} {floor_ms:9.3f} {floor_ms / step_ms:8.0%} {full / best:7.2f}x "
                     f"{max(times[name]) / best - 1:7.0%}")
    return lines


def conv_rows(device, repeats: int, copies: int = 4, steps: int = 12, images: int = 1000) -> list[str]:
    """Conv-2/4/6 at the paper's widths on 28x28 grey images, ``copies`` networks in their groups: ms
    per network-step, evaluation included at a full run's schedule (5,000 images every 100 steps, the
    10,000 test images every 1,000), from a timed step and a timed evaluation, beside the floor (the
    FLOPs torch's FlopCounterMode counts, at this machine's measured matmul rate) and its share."""
    from torch.utils.flop_counter import FlopCounterMode

    from ..train import evaluate

    _, _, grey = _mnist_shaped(max(images, 2000), device)
    cpu = torch.device(device).type == "cpu"
    cores = min(copies, GROUPS) if cpu else 1
    peak, per_step = matmul_peak_gflops(device) * cores, 5000 / 100 + 10000 / 1000  # images evaluated per step
    lines = [f"\nConv-2/4/6 on 28x28 grey images, {copies} networks in {cores} group(s), evaluation included "
             f"(5,000 every 100 steps, 10,000 every 1,000); floor at {peak:,.0f} GFLOP/s",
             f"{'model':8s} {'step ms':>8s} {'eval ms':>8s} {'ms/step':>9s} {'floor ms':>9s} {'of peak':>8s} {'spread':>7s}"]
    for model in ("conv2", "conv4", "conv6"):
        group = models.build(model, grey.input_shape, copies=copies // cores).to(device)  # one group's networks
        x, y = grey.x_train[:60].expand(group.copies, 60, *grey.input_shape), grey.y_train[:60].repeat(group.copies)
        with FlopCounterMode(display=False) as counted:
            nn.functional.cross_entropy(group(x).flatten(0, 1), y).backward()
        with FlopCounterMode(display=False) as forward, torch.no_grad():
            group(x)
        flops = (counted.get_total_flops() + forward.get_total_flops() / 60 * per_step) / group.copies
        totals = []
        for _ in range(repeats):
            step, before = lt_step_ms(grey, copies, steps, model=model, base=2), torch.get_num_threads()
            torch.set_num_threads(1 if cpu else before)  # as in a group's process
            sync(device)
            t = time.perf_counter()
            evaluate(group, grey.x_test[:images], grey.y_test[:images])  # the groups evaluate side by side
            sync(device)
            torch.set_num_threads(before)
            eval_ms = 1e3 * (time.perf_counter() - t) / images / copies * per_step  # per network-step
            totals.append((step + eval_ms, step, eval_ms))
        total, step, eval_ms = min(totals)
        floor_ms = 1e3 * flops / (peak * 1e9)
        lines.append(f"{model:8s} {step:8.1f} {eval_ms:8.1f} {total:9.1f} {floor_ms:9.1f} {floor_ms / total:8.0%} "
                     f"{max(t[0] for t in totals) / total - 1:7.0%}")
    return lines


def _mnist_shaped(n: int, device) -> tuple[np.ndarray, np.ndarray, Data]:
    """Random 28x28 uint8 images and labels: MNIST's shapes and formats, no download."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    xt = normalize(torch.from_numpy(x).float().unsqueeze(1) / 255, "mnist")
    yt = torch.from_numpy(y).long()
    return x, y, Data("mnist", xt, yt, xt[:500], yt[:500], xt[:1000], yt[:1000]).to(device)


def _cifar_shaped(n: int, device) -> tuple[np.ndarray, np.ndarray, Data]:
    """Random 32x32 colour uint8 images and labels: CIFAR-10's shapes and formats."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    xt = normalize(torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255, "cifar10").contiguous()
    yt = torch.from_numpy(y).long()
    return x, y, Data("cifar10", xt, yt, xt[:120], yt[:120], xt[:120], yt[:120]).to(device)


def main(argv=None) -> int:
    """Print the benchmark table (``make bench``); return the exit status."""
    p = argparse.ArgumentParser(prog="python -m lt_helpers.tools.bench", description=__doc__.split("\n")[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--steps", type=int, default=300,
                   help="timed steps per measurement (at least 20; for K > 1 a quarter, at least 50; "
                        "for Conv-2 a thirtieth, at least 2)")
    p.add_argument("--repeats", type=int, default=3, help="interleaved repetitions; the best is reported")
    p.add_argument("--bf16", action="store_true", help="on a CPU, also time batched training in bf16")
    p.add_argument("--conv", action="store_true",
                   help="also time Conv-2 on CIFAR-shaped data (always on a GPU) and Conv-2/4/6 on 28x28 grey images "
                        "with evaluation, beside their floor (on a 2-core CPU about 10 minutes more)")
    p.add_argument("--precision", default="auto", help="arithmetic for the chapter 3 timing")
    p.add_argument("--skip-chapter", action="store_true", help="skip timing chapter 3's full experiment")
    p.add_argument("--skip-fashion", action="store_true", help="skip the Fashion-MNIST section")
    p.add_argument("--fashion-iterations", type=int, default=1000,
                   help="iterations of each Fashion-MNIST measurement (a multiple of 1,000 keeps its test points)")
    args = p.parse_args(argv)
    for name in ("steps", "repeats", "fashion_iterations"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    device = resolve_device(args.device)
    print(f"device: {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads\n")

    x, y, mnist_like = _mnist_shaped(10_000, device)
    m1d = load("mnist1d", device=device)
    x1d = m1d.x_train.squeeze(1).cpu().numpy()
    y1d = m1d.y_train.cpu().numpy()
    # name, raw examples, labels, images?, tensors, model, lt_helpers batch sizes, steps of K=1 / of K>1
    batched_steps = max(50, args.steps // 4)  # a batched step does K networks' work; fewer drown in set-up noise
    mlp = ((1, 8, 32), max(20, args.steps), batched_steps)
    workloads = [("LeNet-300-100, MNIST-shaped", x, y, True, mnist_like, "lenet_300_100", *mlp),
                 ("MLP 40-300-100-10, MNIST-1D", x1d, y1d, False, m1d, "lenet_300_100", *mlp)]
    if args.conv or device.type == "cuda":
        xc, yc, cifar_like = _cifar_shaped(2_000, device)
        conv_steps = max(2, args.steps // 30)  # a Conv-2 step costs ~100x an MLP step on a CPU
        workloads.append(("Conv-2, CIFAR-shaped", xc, yc, True, cifar_like, "conv2", (1, 8), conv_steps, conv_steps))
    print(f"best of {args.repeats} interleaved repetitions\n")
    print(f"{'workload':30s} {'method':22s} {'ms/step':>9s} {'vs reference':>13s} {'vs K=1':>8s} {'spread':>7s}")
    for name, xs, ys, images, data, model, ks, k1_steps, k_steps in workloads:
        conv = model == "conv2"
        base = 2 if conv else 20  # the short run subtracted from each timing
        methods = {"reference": lambda: reference_step_ms(xs, ys, images, k1_steps, device, model)}
        if not conv:
            methods["plain"] = lambda: plain_step_ms(data, k1_steps, base)
        for k in ks:
            methods[f"lt_helpers K={k}"] = lambda k=k: lt_step_ms(data, k, k1_steps if k == 1 else k_steps,
                                                                  model=model, base=base)
        if conv:  # what the channels-last layout buys
            methods[f"lt_helpers K={ks[-1]} NCHW"] = lambda: lt_step_ms(data, ks[-1], k_steps, model=model, base=base,
                                                                       channels_last=False)
        elif device.type == "cpu" and args.bf16:  # opt-in mixed precision on a CPU with AVX512-BF16
            methods["lt_helpers K=32 bf16"] = lambda: lt_step_ms(data, 32, k_steps, "bf16")
        # Interleave the methods and keep each one's best time: a shared machine's noise
        # (other tenants, frequency changes) then hits all methods alike.
        times = {m: [] for m in methods}
        for _ in range(args.repeats):
            for m, f in methods.items():
                times[m].append(f())
        best = {m: min(t) for m, t in times.items()}
        for m, ms in best.items():
            print(f"{name:30s} {m:22s} {ms:9.3f} {best['reference'] / ms:12.2f}x "
                  f"{best['lt_helpers K=1'] / ms:7.2f}x {max(times[m]) / ms - 1:7.0%}", flush=True)
    if args.conv:
        for line in conv_rows(device, args.repeats, steps=max(2, args.steps // 25), images=min(1000, 2 * args.steps)):
            print(line, flush=True)
    if not args.skip_fashion:
        for line in fashion_rows(device, args.fashion_iterations, args.repeats):
            print(line, flush=True)
    if not args.skip_chapter:
        t = time.perf_counter()
        iterative.run_imp("lenet_300_100", "mnist1d", "paper", trials=5, controls=("random_reinit",),
                    data=m1d, progress=False, hyper={"precision": args.precision})
        paper = presets.get("lenet_300_100", "mnist1d", "paper")
        print(f"\nchapter 3, full MNIST-1D experiment (paper preset: 5 trials, ticket + random reinit, "
              f"{paper.rounds} levels x {paper.hp.iterations:,} iterations, precision {args.precision}): "
              f"{time.perf_counter() - t:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
