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

from .errors import LTError, check_choice
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
# The paper's convolutional settings (shared/PAPER.md): Conv-2/4/6 with Adam, batch 60;
# ResNet-20 and VGG-19 with SGD, momentum 0.9, weight decay 1e-4 and steps of the learning rate.
_SGD = dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=1e-4, augment=True)
_PAPER_CONV = {
    "conv2": Hyper(iterations=20000, lr=2e-4),
    "conv4": Hyper(iterations=25000, lr=3e-4),
    "conv6": Hyper(iterations=30000, lr=3e-4),
    "resnet20": Hyper(iterations=30000, batch_size=128, lr_drops=[20000, 25000], **_SGD),
    "vgg19": Hyper(iterations=112480, batch_size=64, lr_drops=[56240, 84360], **_SGD),
}
_QUICK = {"cifar10": dict(iterations=3000, rounds=8), "mnist": dict(iterations=3000, rounds=8),
          "mnist1d": dict(iterations=1500, rounds=6)}
for _name, _hp in _PAPER_CONV.items():
    _short = dict(optimizer=_hp.optimizer, lr=_hp.lr, momentum=_hp.momentum, weight_decay=_hp.weight_decay,
                  batch_size=_hp.batch_size, augment=_hp.augment)
    for _data in _QUICK:  # the paper ran these on CIFAR-10; MNIST and MNIST-1D for chapter 6's grid
        _TABLE[(_name, _data, "smoke")] = dict(hp=Hyper(iterations=40, eval_every=20, **_short), rounds=2, trials=1)
        _TABLE[(_name, _data, "paper")] = dict(hp=deepcopy(_hp), rounds=18 if _name != "vgg19" else 20, trials=5)
        # quick: minutes on a Colab GPU for CIFAR-10, on a laptop CPU for MNIST-1D's 1-D
        # versions. Each round prunes twice the paper's fraction, so 6-8 rounds reach the
        # sparsities where tickets and reinitializations part (the paper needs 15-20), and
        # the learning-rate steps (if any) keep their relative places.
        its, quick = _QUICK[_data]["iterations"], dict(_short)
        if _data == "mnist1d" and _hp.optimizer == "adam":
            quick["lr"] = 1e-3  # 1,500 iterations at the paper's 2e-4/3e-4 leave Conv-2 under-trained
        if _data == "mnist1d" and _hp.optimizer == "sgd":
            its, quick["batch_size"] = 1000, 64  # the 1-D ResNet-20 reaches ~98% in 1,000 steps of 64
        quick.update(iterations=its, lr_drops=[round(its * d / _hp.iterations) for d in _hp.lr_drops])
        _TABLE[(_name, _data, "quick")] = dict(hp=Hyper(**quick), rounds=_QUICK[_data]["rounds"], trials=2,
                                              rate_scale=2)

_CONV_RATES = {"conv": 0.1, "fc": 0.2, "output": 0.1}
_GLOBAL_RATES = {"conv": 0.2, "downsample": 0.0, "output": 0.0}  # the paper: conv 20% global, fc 0%
_RATES = {"lenet_300_100": LENET_RATES, "conv2": _CONV_RATES, "conv4": _CONV_RATES,
          "conv6": {"conv": 0.15, "fc": 0.2, "output": 0.1}, "resnet20": _GLOBAL_RATES, "vgg19": _GLOBAL_RATES}
_SCOPE = {"resnet20": "global", "vgg19": "global"}  # all others prune each layer separately


def get(model: str, dataset: str, preset: str) -> dict:
    """``{'hp': Hyper, 'rounds': int, 'trials': int, 'rates': {kind: fraction}, 'scope': str}``.

    ``rates`` is the fraction of each layer kind's remaining weights pruned per round:
    the paper's for ``paper`` and ``smoke``, twice that for the conv nets' ``quick``.
    """
    from .data import DATASETS
    from .models import MODELS

    check_choice("model", model, MODELS)
    check_choice("dataset", dataset, DATASETS)
    check_choice("preset", preset, PRESETS)
    key = (model, dataset, preset)
    if key not in _TABLE:
        have = sorted({(m, d) for m, d, _ in _TABLE})
        raise LTError(f"no preset for model {model!r} on dataset {dataset!r}; available: "
                      + ", ".join(f"{m} on {d}" for m, d in have))
    out = deepcopy(_TABLE[key])
    scale = out.pop("rate_scale", 1)
    out.update(rates={kind: scale * p for kind, p in _RATES[model].items()}, scope=_SCOPE.get(model, "layer"))
    return out


def percent_remaining(sizes: dict[str, int], rates: dict[str, float], rounds: int) -> float:
    """Expected percent of weights left after ``rounds`` of layer-wise pruning (before
    rounding to whole weights): e.g. LeNet after 7 rounds keeps 21.1%."""
    kept = sum(n * (1 - rates[name]) ** rounds for name, n in sizes.items())
    return 100.0 * kept / sum(sizes.values())
