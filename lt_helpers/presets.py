"""Hyperparameters per (model, dataset, preset).

* ``smoke``: seconds; the test suite runs every chapter with it.
* ``quick``: the default; a few minutes on a laptop CPU for MNIST-1D, on a Colab GPU for
  MNIST.
* ``paper``: the paper's settings (Frankle & Carbin 2019, arXiv:1803.03635v5, its table of
  architectures: LeNet on MNIST uses Adam 1.2e-3, batch 60, 50,000 iterations, evaluation
  every 100). MNIST-1D keeps the optimizer, learning rate, batch size and evaluation interval and
  trains 15,000 iterations; Fashion-MNIST uses the paper's LeNet at its true size for 30,000
  iterations. Each length was chosen by a pilot that trained the slowest networks of the run
  (the sparsest random reinitializations) until they stopped improving:
  ``results/pilots/lenet.md`` gives what they measured. A run whose minimum is its last
  evaluation is marked (``early_stop_at_end``) either way.

:func:`get` returns a :class:`Preset`; the tables below are its data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import LTError, check_choice
from .hparams import Hyper

PRESETS = ("smoke", "quick", "paper")


@dataclass(frozen=True)
class Preset:
    """The settings of one experiment: how each network trains (``hp``), how many pruning
    levels (``rounds``, the dense one included) and independent ``trials``, the fraction
    of each layer kind's remaining weights pruned per round (``rates``) and whether layers
    are pruned on their own or ranked together (``scope``: 'layer' or 'global')."""

    hp: Hyper
    rounds: int
    trials: int
    rates: dict
    scope: str = "layer"


# Per layer kind: fraction of the *remaining* weights pruned each round (the paper's LeNet:
# 20% of each hidden layer, 10% of the output layer; Conv-2/4: conv 10%, fc 20%, output 10%;
# Conv-6 prunes its convolutions at 15%; VGG-19 and ResNet-20 rank all convolutions together
# and prune 20% of them a round, leaving shortcut and output layers whole).
LENET_RATES = {"fc": 0.2, "output": 0.1}
_CONV_RATES = {"conv": 0.1, "fc": 0.2, "output": 0.1}
_GLOBAL_RATES = {"conv": 0.2, "downsample": 0.0, "output": 0.0}
RATES = {"lenet_300_100": LENET_RATES, "conv2": _CONV_RATES, "conv4": _CONV_RATES,
         "conv6": {"conv": 0.15, "fc": 0.2, "output": 0.1}, "resnet20": _GLOBAL_RATES, "vgg19": _GLOBAL_RATES}
SCOPE = {"resnet20": "global", "vgg19": "global"}  # all others prune each layer separately

# LeNet-300-100: (dataset, preset) -> hyperparameters, rounds, trials
_LENET = {
    ("mnist1d", "smoke"): (Hyper(iterations=150, eval_every=25), 3, 2),
    ("mnist1d", "quick"): (Hyper(iterations=1600, eval_every=100), 10, 3),  # twice the dense minimum (~800)
    ("mnist1d", "paper"): (Hyper(iterations=15000, eval_every=100), 16, 5),
    ("fashion_mnist", "smoke"): (Hyper(iterations=100, eval_every=25), 3, 2),
    # quick: past the dense networks' minimum (7,100-7,500 in the pilot); the sparse controls
    # are still improving there, and a chapter says so
    ("fashion_mnist", "quick"): (Hyper(iterations=8000, eval_every=100, test_every=500), 10, 3),
    ("fashion_mnist", "paper"): (Hyper(iterations=30000, eval_every=100, test_every=1000), 16, 5),
    ("mnist", "smoke"): (Hyper(iterations=100, eval_every=25), 3, 2),
    ("mnist", "quick"): (Hyper(iterations=5000, eval_every=100), 10, 3),
    ("mnist", "paper"): (Hyper(iterations=50000, eval_every=100), 19, 5),
}
# The paper's convolutional settings (arXiv:1803.03635v5, its table of architectures): Conv-2/4/6 with Adam, batch 60;
# ResNet-20 and VGG-19 with SGD, momentum 0.9, weight decay 1e-4 and steps of the learning rate.
_SGD = dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=1e-4, augment=True)
PAPER_CONV = {
    "conv2": Hyper(iterations=20000, lr=2e-4),
    "conv4": Hyper(iterations=25000, lr=3e-4),
    "conv6": Hyper(iterations=30000, lr=3e-4),
    "resnet20": Hyper(iterations=30000, batch_size=128, lr_drops=[20000, 25000], **_SGD),
    "vgg19": Hyper(iterations=112480, batch_size=64, lr_drops=[56240, 84360], **_SGD),
}
# quick, per dataset: iterations and rounds (minutes on a Colab GPU for CIFAR-10 and MNIST,
# on a laptop CPU for MNIST-1D's 1-D versions)
_QUICK_CONV = {"cifar10": (3000, 8), "mnist": (3000, 8), "fashion_mnist": (3000, 8), "mnist1d": (1500, 4)}


def get(model: str, dataset: str, preset: str) -> Preset:
    """The :class:`Preset` for ``model`` on ``dataset``: ``smoke`` (seconds, for tests),
    ``quick`` (the default, minutes) or ``paper`` (the paper's settings)."""
    from .data import DATASETS
    from .models import MODELS

    check_choice("model", model, MODELS)
    check_choice("dataset", dataset, DATASETS)
    check_choice("preset", preset, PRESETS)
    if model == "lenet_300_100":
        if (dataset, preset) not in _LENET:
            raise LTError(f"no preset for model {model!r} on dataset {dataset!r}; available: "
                          + ", ".join(sorted({f"{model} on {d}" for d, _ in _LENET})))
        hp, rounds, trials = _LENET[(dataset, preset)]
        return Preset(replace(hp), rounds, trials, dict(LENET_RATES))
    return _conv_preset(model, dataset, preset)


def _conv_preset(model: str, dataset: str, preset: str) -> Preset:
    """The paper ran the convolutional networks on CIFAR-10; MNIST and MNIST-1D serve
    chapter 6's grid and the offline book."""
    paper, rates, scope = PAPER_CONV[model], dict(RATES[model]), SCOPE.get(model, "layer")
    short = dict(optimizer=paper.optimizer, lr=paper.lr, momentum=paper.momentum, weight_decay=paper.weight_decay,
                 batch_size=paper.batch_size, augment=paper.augment)
    if preset == "smoke":
        return Preset(Hyper(iterations=40, eval_every=20, **short), 2, 1, rates, scope)
    # On Fashion-MNIST's 10,000 test images a conv net's evaluation costs as much as its training
    # (make bench --conv): the test set every 1,000 iterations (500 for quick), which reports the
    # same numbers (train.train's test_every), as LeNet's Fashion-MNIST presets do.
    test_every = {"paper": 1000, "quick": 500}.get(preset, 0) if dataset == "fashion_mnist" else 0
    if preset == "paper":
        return Preset(replace(paper, lr_drops=list(paper.lr_drops), test_every=test_every),
                      18 if model != "vgg19" else 20, 5, rates, scope)
    # quick: each round prunes twice the paper's fraction, so 6-8 rounds reach the
    # sparsities where tickets and reinitializations part (the paper needs 15-20), and the
    # learning-rate steps (if any) keep their relative places.
    its, rounds = _QUICK_CONV[dataset]
    trials = 2
    if dataset == "mnist1d" and paper.optimizer == "adam":
        # the narrow 1-D Conv-2 at the paper's 2e-4 (or at 1e-3) is still improving at 1,500;
        # three trials, not two: a paired 95% interval over two trials is 12.7 standard errors wide
        short["lr"], trials = 2e-3, 3
    if dataset == "mnist1d" and paper.optimizer == "sgd":
        its, short["batch_size"] = 320, 64  # a 1-D ResNet-20 step is mostly per-layer overhead on a CPU
    hp = Hyper(iterations=its, lr_drops=[round(its * d / paper.iterations) for d in paper.lr_drops],
               test_every=test_every, **short)
    return Preset(hp, rounds, trials, {kind: 2 * p for kind, p in rates.items()}, scope)


def percent_remaining(sizes: dict[str, int], rates: dict[str, float], rounds: int) -> float:
    """Expected percent of weights left after ``rounds`` of layer-wise pruning (before
    rounding to whole weights): e.g. LeNet after 7 rounds keeps 21.1%."""
    kept = sum(n * (1 - rates[name]) ** rounds for name, n in sizes.items())
    return 100.0 * kept / sum(sizes.values())
