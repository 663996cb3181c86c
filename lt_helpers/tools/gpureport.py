"""The paper's scale on one device, measured: ``make gpu-report``.

``python -m lt_helpers.tools.gpureport [--tiny] [--out results/gpu]`` measures, side by side in
one run, and writes ``<out>/<device-name>.json`` and ``<out>/<device-name>.md`` (a table the
appendix can include):

* **steps**: ms per training step *per network* for LeNet-300-100 on MNIST-shaped data, the
  MNIST-1D MLP and Conv-2 on CIFAR-shaped images: the plain ``torch.nn`` + ``DataLoader``
  reference of :mod:`lt_helpers.tools.bench`, lt_helpers with 1, 8 and 32 networks batched, in
  fp32 (TF32 matrix units allowed on a GPU) and bf16 autocast, Conv-2 channels-last and not;
  with each row's peak GPU memory.
* **experiments**: chapter 3's full MNIST-1D experiment (the ``paper`` preset, tickets and
  random reinitializations, 5 trials), its wall time; one level of the paper-scale LeNet
  experiment on MNIST-shaped data and one of Conv-2 on CIFAR-shaped data at the ``paper``
  preset (10 networks: 5 trials × ticket and reinit), each with the projected time of its
  full figure (levels × the level's time: the levels run one after the other).

``--tiny`` runs every row with a few steps, small data and 8×8 images (about a minute on a
2-core CPU): the test suite runs it, so the command is known to work before a GPU is lent.
Its numbers measure nothing (a step time can even come out negative: it is the difference
of two short runs, and noise wins).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

from .. import __version__, iterative, presets
from .bench import lt_step_ms, random_tickets
from .reference import reference_step_ms
from ..data import Data, load, normalize
from ..hparams import Hyper
from ..device import resolve_device
from ..train import train


def _random_data(name: str, shape: tuple[int, ...], sizes: tuple[int, int, int], device) -> tuple:
    """Random uint8 images in the dataset's shape, formats and split sizes (no download):
    the raw arrays for the reference loop and normalized tensors for lt_helpers."""
    rng = np.random.default_rng(0)
    n = sum(sizes)
    raw = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    x = torch.from_numpy(raw).float() / 255
    x = normalize(x.unsqueeze(1) if len(shape) == 2 else x.permute(0, 3, 1, 2), name).contiguous()
    y = torch.from_numpy(labels).long()
    a, b = sizes[0], sizes[0] + sizes[1]
    data = Data(name, x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:]).to(device)
    return raw[:a], labels[:a], data


def _measured(device, fn):
    """``fn()`` and the peak GPU memory it allocated in MiB (None off a GPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    value = fn()
    peak = torch.cuda.max_memory_allocated() / 2 ** 20 if device.type == "cuda" else None
    return value, peak


def _level_s(model: str, data: Data, hp: Hyper, networks: int = 10) -> float:
    """Wall time of one level: ``networks`` masked networks trained together for ``hp``."""
    inits, ms = random_tickets(model, data.input_shape, networks, {"fc": 0.2, "conv": 0.1, "output": 0.1})
    t = time.perf_counter()
    train(model, data, inits, ms, hp, seeds=list(range(networks)), progress=False)
    if data.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def step_rows(device, tiny: bool) -> list[dict]:
    """Per-network step times (ms) and peak memory, every workload and method."""
    steps = 4 if tiny else 300
    mnist = _random_data("mnist", (28, 28), (600, 100, 100) if tiny else (10_000, 500, 1000), device)
    cifar = _random_data("cifar10", (8, 8, 3) if tiny else (32, 32, 3), (120, 60, 60) if tiny else (2_000, 120, 120),
                         device)
    m1d = load("mnist1d", device=device)
    mlp = (m1d.x_train.squeeze(1).cpu().numpy(), m1d.y_train.cpu().numpy(), m1d)
    rows = []
    for workload, (raw, labels, data), model, images in (
            ("LeNet-300-100, MNIST-shaped", mnist, "lenet_300_100", True),
            ("MLP 40-300-100-10, MNIST-1D", mlp, "lenet_300_100", False),
            ("Conv-2, CIFAR-shaped", cifar, "conv2", True)):
        conv = model == "conv2"
        n = max(2, steps // 10) if conv else steps
        base = 2 if tiny or conv else 20  # the short run subtracted from each timing (tiny: noise may win)
        methods = {("reference", "fp32"): lambda: reference_step_ms(raw, labels, images, n, device, model)}
        for k in ((1, 8) if conv else (1, 8, 32)):
            for precision in ("fp32", "bf16"):
                methods[(f"lt_helpers K={k}", precision)] = (
                    lambda k=k, p=precision: lt_step_ms(data, k, n, p, model=model, base=base))
        if conv:
            methods[("lt_helpers K=8 NCHW", "fp32")] = lambda: lt_step_ms(data, 8, n, "fp32", model=model, base=base,
                                                                         channels_last=False)
        ref = None
        for (method, precision), fn in methods.items():
            ms, peak = _measured(device, fn)
            ref = ref or ms
            rows.append(dict(workload=workload, method=method, precision=precision, ms_per_step=round(ms, 4),
                             vs_reference=round(ref / ms, 2), peak_mib=None if peak is None else round(peak, 1)))
            print(f"{workload:30s} {method:20s} {precision:5s} {ms:9.3f} ms {ref / ms:7.2f}x", flush=True)
    return rows


def experiment_rows(device, tiny: bool) -> list[dict]:
    """Chapter 3's full MNIST-1D experiment, and one level of LeNet on MNIST and of Conv-2 on
    CIFAR-10 at the paper preset, each projected to its full figure."""
    rows = []
    preset, trials = ("smoke", 2) if tiny else ("paper", 5)
    m1d = load("mnist1d", device=device)
    ch3 = presets.get("lenet_300_100", "mnist1d", preset)
    t = time.perf_counter()
    _, peak = _measured(device, lambda: iterative.run_imp("lenet_300_100", "mnist1d", preset, trials=trials, data=m1d,
                                                    controls=("random_reinit",), device=device, progress=False))
    rows.append(dict(name=f"chapter 3 full experiment (MNIST-1D, preset {preset})", networks=2 * trials,
                     iterations=ch3.hp.iterations, levels=ch3.rounds, wall_s=round(time.perf_counter() - t, 1),
                     projected_s=None, peak_mib=peak and round(peak, 1)))
    for model, name, shape, sizes in (("lenet_300_100", "mnist", (28, 28), (55_000, 5_000, 10_000)),
                                      ("conv2", "cifar10", (32, 32, 3), (45_000, 5_000, 10_000))):
        paper = presets.get(model, name, "paper")
        hp = Hyper(**{**paper.hp.to_dict(), "iterations": 20, "eval_every": 10}) if tiny else paper.hp
        shape = shape if not tiny or len(shape) == 2 else (8, 8, 3)  # tiny: small images, the same code
        _, _, data = _random_data(name, shape, (600, 100, 100) if tiny else sizes, device)
        wall, peak = _measured(device, lambda: _level_s(model, data, hp))
        rows.append(dict(name=f"one level of {model} on {name}-shaped data (paper preset)", networks=10,
                         iterations=hp.iterations, levels=paper.rounds, wall_s=round(wall, 1),
                         projected_s=round(wall * paper.rounds, 1), peak_mib=peak and round(peak, 1)))
        print(f"{rows[-1]['name']}: {wall:.1f} s; the full figure ({paper.rounds} levels): {wall * paper.rounds:.0f} s")
    return rows


def markdown(report: dict) -> str:
    """The report as two Markdown tables, device, date and command first."""
    fmt = lambda v, f: "–" if v is None else format(v, f)
    lines = [f"**{report['device']}**, {report['date']}, torch {report['torch']}, lt_helpers {report['version']}: "
             f"`{report['command']}`" + (" (**--tiny**: a check that the command works, not a measurement)"
                                         if report["tiny"] else ""), "",
             "| workload | method | precision | ms/step per network | vs reference | peak GPU MiB |",
             "| --- | --- | --- | ---: | ---: | ---: |"]
    lines += [f"| {r['workload']} | {r['method']} | {r['precision']} | {r['ms_per_step']:.3f} | "
              f"{r['vs_reference']:.2f}× | {fmt(r['peak_mib'], '.0f')} |" for r in report["steps"]]
    lines += ["", "| experiment | networks × iterations | levels | wall time (s) | full figure, projected (s) | "
                  "peak GPU MiB |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['name']} | {r['networks']} × {r['iterations']:,} | {r['levels']} | {r['wall_s']:.1f} | "
              f"{fmt(r['projected_s'], ',.0f')} | {fmt(r['peak_mib'], '.0f')} |" for r in report["experiments"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """Run the report, write its JSON and Markdown, return the exit status."""
    p = argparse.ArgumentParser(prog="python -m lt_helpers.tools.gpureport", description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--tiny", action="store_true", help="a few steps of every row: checks the command, on a CPU too")
    p.add_argument("--out", default="results/gpu", help="folder for <device-name>.json and .md")
    args = p.parse_args(argv)
    device = resolve_device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True  # fp32 rows: TF32 units
        name = torch.cuda.get_device_name(device)
    else:
        name = "cpu"
    print(f"{name}, torch {torch.__version__}{', tiny' if args.tiny else ''}", flush=True)
    started = time.perf_counter()
    report = dict(device=name, date=date.today().isoformat(), torch=torch.__version__, version=__version__,
                  tiny=args.tiny, command="python -m lt_helpers.tools.gpureport" + (" --tiny" if args.tiny else ""),
                  steps=step_rows(device, args.tiny), experiments=experiment_rows(device, args.tiny))
    report["wall_s"] = round(time.perf_counter() - started, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-").lower() + ("-tiny" if args.tiny else "")
    (out / f"{stem}.json").write_text(json.dumps(report, indent=1))
    (out / f"{stem}.md").write_text(markdown(report))
    print(f"wrote {out / stem}.json and .md in {report['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
