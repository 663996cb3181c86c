"""What every chapter does first: read its parameters, let the environment override them,
pick the dataset and the device, and say what it chose.

``LT_PRESET``, ``LT_DATASET``, ``LT_DEVICE`` and ``LT_TRIALS`` override a chapter's
parameters cell, so the test suite can run every chapter with ``LT_PRESET=smoke`` and a
reader can run the book on another dataset without editing it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from . import __version__, data, presets
from .plots import set_style
from .train import resolve_device


@dataclass
class Chapter:
    preset: str
    dataset: str
    trials: int
    seed: int
    device: torch.device
    model: str
    data: data.Data
    settings: dict  # the preset's hp, rounds, trials, rates

    @property
    def hp(self):
        return self.settings["hp"]

    def describe(self) -> str:
        names = {"mnist1d": "MNIST-1D (the offline stand-in)", "mnist": "MNIST", "cifar10": "CIFAR-10"}
        return (f"{names[self.dataset]} with preset '{self.preset}': {self.hp.iterations:,} iterations "
                f"per network at batch {self.hp.batch_size}, {self.trials} trial(s), on {self.device}")


def setup(preset="quick", dataset="auto", trials=None, seed=0, device="auto",
          model="lenet_300_100", data_root=None) -> Chapter:
    """Resolve a chapter's parameters (environment first), load its data, print a summary."""
    preset = os.environ.get("LT_PRESET") or preset
    dataset = os.environ.get("LT_DATASET") or dataset
    trials = int(os.environ.get("LT_TRIALS") or 0) or trials
    dev = resolve_device(os.environ.get("LT_DEVICE") or device)
    dataset = data.resolve(dataset, model, data_root=data_root)
    settings = presets.get(model, dataset, preset)
    trials = trials or settings["trials"]
    d = data.load(dataset, data_root=data_root, device=dev)
    set_style()
    torch.manual_seed(seed)
    ch = Chapter(preset, dataset, int(trials), int(seed), dev, model, d, settings)
    print(f"lt_helpers {__version__}, torch {torch.__version__}; {ch.describe()}")
    return ch


def glue(name: str, value, display: bool = False) -> None:
    """myst-nb's ``glue`` where it is installed (the book build), else a no-op, so a
    chapter runs the same in Colab. Returns nothing, so a glue call ending a cell adds no
    output to the page."""
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return
    _glue(name, _Text(value) if isinstance(value, str) else value, display=display)


class _Text(str):
    """A string that displays without quotes, so glued words and numbers read as prose."""

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))

    def __repr__(self):
        return str(self)


def save_results(out_dir, ch: Chapter, runs: list[dict], **extra) -> None:
    """Write a chapter's records to ``out_dir/results.json`` (atomically), when a folder is
    given: headless runs (``make results``) collect every chapter's numbers this way."""
    if not out_dir:
        return
    import json
    from pathlib import Path

    from .imp import _atomic_write

    config = dict(model=ch.model, dataset=ch.dataset, preset=ch.preset, trials=ch.trials, seed=ch.seed,
                  hyper=ch.hp.to_dict(), device=str(ch.device), version=__version__, **extra)
    path = Path(out_dir) / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, lambda p: p.write_text(json.dumps({"config": config, "runs": runs}, indent=1)))
