"""What every chapter does first: read its parameters, let the environment override them,
pick the dataset and the device, and say what it chose.

``LT_PRESET``, ``LT_DATASET``, ``LT_DEVICE`` and ``LT_TRIALS`` override a chapter's
parameters cell, so the test suite can run every chapter with ``LT_PRESET=smoke`` and a
reader can run the book on another dataset without editing it. They are read here and
nowhere deeper: the :class:`Chapter` that :func:`setup` returns carries the settings
(device included) into every run the chapter starts through :meth:`Chapter.run_imp`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import torch

from . import __version__, data, presets
from .errors import LTError
from .plots import set_style
from .device import provenance, resolve_device


@dataclass
class Chapter:
    preset: str
    dataset: str
    trials: int
    seed: int
    device: torch.device
    model: str
    data: data.Data
    settings: presets.Preset  # the preset's hp, rounds, trials, rates, scope
    started: float = field(default_factory=time.time)  # when setup() ran: results record the wall time since

    @property
    def hp(self):
        return self.settings.hp

    @property
    def dataset_name(self) -> str:
        """The data set's name as prose writes it: 'MNIST-1D', 'Fashion-MNIST', 'MNIST', 'CIFAR-10'."""
        return data.NAMES[self.dataset]

    def run_imp(self, model: str | None = None, **overrides):
        """:func:`lt_helpers.iterative.run_imp` with this chapter's dataset, preset, trials, seed,
        data and device; ``overrides`` replace any of them (or pass other arguments, e.g.
        ``controls``, ``rounds``, ``hyper``). A different ``dataset`` loads its own data."""
        from .iterative import run_imp

        settings = dict(dataset=self.dataset, preset=self.preset, trials=self.trials, seed=self.seed,
                        device=self.device, data=self.data)
        if overrides.get("dataset", self.dataset) != self.dataset and "data" not in overrides:
            settings["data"] = None
        settings.update(overrides)
        return run_imp(model or self.model, **settings)

    def describe(self) -> str:
        """One line: the dataset, preset, training length, trials and device."""
        names = {**data.NAMES, "mnist1d": "MNIST-1D (the offline stand-in)", "fashion_mnist": "Fashion-MNIST (real images)"}
        return (f"{names[self.dataset]} with preset '{self.preset}': {self.hp.iterations:,} iterations "
                f"per network at batch {self.hp.batch_size}, {self.trials} trial(s), on {self.device}")


def setup(preset="quick", dataset="auto", trials=None, seed=0, device="auto",
          model="lenet_300_100", data_root=None) -> Chapter:
    """Resolve a chapter's parameters (environment first), load its data, print a summary.
    Every parameter is checked here, before anything trains: a wrong one is one line that
    says what to set (in Jupyter too, see :func:`short_errors`)."""
    short_errors()
    preset = os.environ.get("LT_PRESET") or preset
    dataset = os.environ.get("LT_DATASET") or dataset
    if os.environ.get("LT_TRIALS"):
        if not os.environ["LT_TRIALS"].strip().isdigit() or int(os.environ["LT_TRIALS"]) < 1:
            raise LTError(f"LT_TRIALS must be a positive whole number, got {os.environ['LT_TRIALS']!r}")
        trials = int(os.environ["LT_TRIALS"])
    for name, value, low in (("trials", trials, 1), ("seed", seed, 0)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
            raise LTError(f"the parameter {name} must be {'a positive' if low else 'a non-negative'} whole number"
                          f"{' or None (the preset' + chr(39) + 's)' if name == 'trials' else ''}, got {value!r}")
    dev = resolve_device(os.environ.get("LT_DEVICE") or device)
    dataset = data.resolve(dataset, model, data_root=data_root, device=dev)
    settings = presets.get(model, dataset, preset)
    trials = trials or settings.trials
    d = data.load(dataset, data_root=data_root, device=dev)
    set_style()
    torch.manual_seed(seed)
    ch = Chapter(preset, dataset, int(trials), int(seed), dev, model, d, settings)
    print(f"lt_helpers {__version__}, torch {torch.__version__}; {ch.describe()}")
    return ch


def short_errors() -> None:
    """In IPython and Jupyter, show the package's own errors (an :class:`LTError` is bad input,
    with a message that says what to do) as that one line instead of a traceback through the
    package; the cell still fails, so papermill and nbval stop there as before."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def one_line(shell, etype, value, tb, tb_offset=None):
        stb = [f"{etype.__name__}: {value}"]
        shell._showtraceback(etype, value, stb)  # what IPython shows for any error, with this one line as its text
        return stb

    shell.set_custom_exc((LTError,), one_line)


def save_results(out_dir, ch: Chapter, runs: list[dict], **extra) -> None:
    """Write a chapter's records to ``out_dir/results.json`` (atomically), when a folder is
    given: headless runs (``make results``) collect every chapter's numbers this way."""
    if not out_dir:
        return
    from pathlib import Path

    from .store import write_results

    config = dict(model=ch.model, dataset=ch.dataset, preset=ch.preset, trials=ch.trials, seed=ch.seed,
                  hyper=ch.hp.to_dict(), device=str(ch.device), version=__version__,
                  provenance={**provenance(ch.device), "wall_time_s": round(time.time() - ch.started, 1)}, **extra)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    write_results(Path(out_dir) / "results.json", config, runs, kind="chapter")
