"""The paper's conv nets on Fashion-MNIST at the paper's length, as far as a time budget allows
(#41, its GPU part): ``python -m lt_helpers.tools.gpuconv --out DIR [--budget S] [--tiny]``.

Conv-2, Conv-4 and Conv-6 with the ``paper`` preset (Adam; 20,000, 25,000 and 30,000
iterations; the paper's per-round rates, 18 levels), tickets and random reinitializations at
every level, 5 trials, on 28×28 grey images. The three train side by side, each in its own
process on the one device (they share it: each one's time is not its time alone), each a
resumable run (``imp --out``) under ``--work``. When all are done or ``--budget`` seconds have
passed, they are stopped; a round in progress is lost, rounds finished are whole. ``DIR`` then
holds each run's finished rounds, ``<model>-fashion_mnist-gpu.json.gz`` (its ``results.json``,
what ``full_runs.write_full_run`` takes), and ``summary.json``: the device, the budget, and per
network the rounds finished, their levels, and the run's wall time.

A later lease cannot go on from these rounds: a run resumes from its ``state.pt`` too (the
masks and dense weights, about 130 MB for Conv-2), which a lease's 16 MiB files cannot bring
back. Each call starts over; the budget decides how far it gets, and the summary says.

``--tiny``: the ``smoke`` preset, 2 levels, 1 trial, 10 iterations: the same command checked
on a CPU in seconds (the test suite runs it on small Fashion-MNIST files it writes).

On a lent GPU machine (``/work/.library/device/README.md``): carry Debian's four Fashion-MNIST
files in an ignored folder and the ``fastjsonschema`` wheel (the machine has the rest), point
``LT_DEBIAN_FASHION_MNIST`` at the files, and give ``--budget`` about two minutes less than
the call's ``timeout_s``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import torch

MODELS = ("conv2", "conv4", "conv6")


def _command(model: str, out: Path, tiny: bool, device: str) -> list[str]:
    preset = (["--preset", "smoke", "--rounds", "2", "--trials", "1", "--iterations", "10", "--groups", "1"] if tiny
              else ["--preset", "paper"])
    return [sys.executable, "-m", "lt_helpers", "imp", "--model", model, "--dataset", "fashion_mnist", *preset,
            "--controls", "random_reinit", "--device", device, "--out", str(out)]


def _stop(procs: dict[str, subprocess.Popen]) -> None:
    """SIGTERM every run still training (its process group: the run and its workers)."""
    for p in procs.values():
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def run(out: Path, work: Path, budget: float, tiny: bool = False, device: str = "auto") -> dict:
    """Train the three runs side by side for at most ``budget`` seconds; write and return the summary."""
    out.mkdir(parents=True, exist_ok=True)
    folders = {m: work / f"{m}-fashion_mnist" for m in MODELS}
    for model, folder in folders.items():  # each call starts over (see the module's docstring)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (out / f"{model}-fashion_mnist-gpu.json.gz").unlink(missing_ok=True)
    start = time.time()
    procs = {m: subprocess.Popen(_command(m, folders[m], tiny, device), start_new_session=True,
                                 stdout=open(work / f"{m}.log", "w"), stderr=subprocess.STDOUT) for m in MODELS}
    while time.time() - start < budget and any(p.poll() is None for p in procs.values()):
        time.sleep(1)
    stopped = [m for m, p in procs.items() if p.poll() is None]
    _stop(procs)
    summary = dict(date=date.today().isoformat(), device=_device_name(device), torch=torch.__version__,
                   budget_s=budget, elapsed_s=round(time.time() - start, 1), tiny=tiny, networks={})
    for model, folder in folders.items():
        found = folder / "results.json"
        entry = dict(stopped_at_budget=model in stopped, returncode=procs[model].returncode, rounds_finished=0)
        if found.exists():
            res = json.loads(found.read_text())
            rounds = sorted({r["round"] for r in res["runs"]})
            entry.update(rounds_finished=len(rounds), iterations=res["config"]["hyper"]["iterations"],
                         percent_remaining=[round(min(r["percent_remaining"] for r in res["runs"] if r["round"] == k),
                                                  2) for k in rounds],
                         wall_time_s=res["config"]["provenance"]["wall_time_s"])
            (out / f"{model}-fashion_mnist-gpu.json.gz").write_bytes(gzip.compress(found.read_bytes()))
        if entry["returncode"] not in (0, -signal.SIGTERM) or not found.exists():  # failed: say why
            entry["log_tail"] = (work / f"{model}.log").read_text()[-2000:]
        summary["networks"][model] = entry
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def _device_name(device: str) -> str:
    """The GPU's name where the runs used one, else 'cpu'."""
    if device in ("auto", "cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return "cpu"


def main(argv=None) -> None:
    """The command line: train, write ``--out``, and say per network how far it got."""
    ap = argparse.ArgumentParser(prog="python -m lt_helpers.tools.gpuconv", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="where the finished rounds and summary.json go")
    ap.add_argument("--work", type=Path, default=Path("/tmp/lt-gpuconv"),
                    help="the runs' own folders, emptied first (their state.pt and checkpoints are large: kept "
                         "out of --out)")
    ap.add_argument("--budget", type=float, default=420.0, help="seconds of training before the runs are stopped")
    ap.add_argument("--device", default="auto", help="auto, cuda or cpu")
    ap.add_argument("--tiny", action="store_true", help="the smoke preset: checks the command on a CPU")
    args = ap.parse_args(argv)
    if args.budget <= 0:
        ap.error(f"--budget must be a number of seconds above 0, got {args.budget}")
    summary = run(args.out, args.work, args.budget, args.tiny, args.device)
    for model, entry in summary["networks"].items():
        print(f"{model}: {entry['rounds_finished']} rounds finished"
              + (f", down to {entry['percent_remaining'][-1]}%" if entry["rounds_finished"] else "")
              + (" (stopped at the budget)" if entry["stopped_at_budget"] else "")
              + (f"; it failed:\n{entry['log_tail']}" if "log_tail" in entry else ""))
    if shutil.which("nvidia-smi"):
        subprocess.run(["nvidia-smi", "--query-gpu=name,memory.used,memory.total", "--format=csv"], check=False)


if __name__ == "__main__":
    main()
