"""Hyperparameters per (model, dataset, preset).

* ``smoke``: seconds; the test suite runs every chapter with it.
* ``quick``: the default; a few minutes on a laptop CPU for MNIST-1D, on a Colab GPU for
  MNIST.
* ``paper``: the paper's settings (``shared/PAPER.md``: LeNet on MNIST uses Adam 1.2e-3,
  batch 60, 50,000 iterations, evaluation every 100). For MNIST-1D the matching choice
  keeps the optimizer, learning rate, batch size and evaluation interval and trains
  6,000 iterations: MNIST-1D has 3,500 training examples, so that is ~100 epochs, and
  even sparse random reinitializations reach their minimum validation loss well before.
"""

from __future__ import annotations

from copy import deepcopy

from .errors import LTError
from .train import Hyper

PRESETS = ("smoke", "quick", "paper")

# Per layer kind: fraction of the *remaining* weights pruned each round (the paper's LeNet:
# 20% of each hidden layer, 10% of the output layer).
LENET_RATES = {"fc": 0.2, "output": 0.1}

_TABLE = {
    # (model, dataset, preset): hyperparameters, rounds (levels incl. the dense one), trials
    ("lenet_300_100", "mnist1d", "smoke"): dict(hp=Hyper(iterations=150, eval_every=25), rounds=3, trials=2),
    ("lenet_300_100", "mnist1d", "quick"): dict(hp=Hyper(iterations=3000, eval_every=100), rounds=10, trials=3),
    ("lenet_300_100", "mnist1d", "paper"): dict(hp=Hyper(iterations=6000, eval_every=100), rounds=16, trials=5),
    ("lenet_300_100", "mnist", "smoke"): dict(hp=Hyper(iterations=100, eval_every=25), rounds=3, trials=2),
    ("lenet_300_100", "mnist", "quick"): dict(hp=Hyper(iterations=5000, eval_every=100), rounds=10, trials=3),
    ("lenet_300_100", "mnist", "paper"): dict(hp=Hyper(iterations=50000, eval_every=100), rounds=19, trials=5),
}
_RATES = {"lenet_300_100": LENET_RATES}


def get(model: str, dataset: str, preset: str) -> dict:
    """``{'hp': Hyper, 'rounds': int, 'trials': int, 'rates': {kind: fraction}, 'scope': str}``."""
    from .data import DATASETS
    from .models import MODELS

    if model not in MODELS:
        raise LTError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if dataset not in DATASETS:
        raise LTError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    if preset not in PRESETS:
        raise LTError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    key = (model, dataset, preset)
    if key not in _TABLE:
        have = sorted({(m, d) for m, d, _ in _TABLE})
        raise LTError(f"no preset for model {model!r} on dataset {dataset!r}; available: "
                      + ", ".join(f"{m} on {d}" for m, d in have))
    out = deepcopy(_TABLE[key])
    out.update(rates=dict(_RATES[model]), scope="layer")
    return out


def percent_remaining(sizes: dict[str, int], rates: dict[str, float], rounds: int) -> float:
    """Expected percent of weights left after ``rounds`` of layer-wise pruning (before
    rounding to whole weights): e.g. LeNet after 7 rounds keeps 21.1%."""
    kept = sum(n * (1 - rates[name]) ** rounds for name, n in sizes.items())
    return 100.0 * kept / sum(sizes.values())
