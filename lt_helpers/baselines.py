"""Published baselines: what a dense network trained here is held against.

The paper's own numbers live in :mod:`lt_helpers.paper`; these are other people's, for the
same data sets and the same kind of network, each with where it was published. A dense
network that falls far below its data set's baseline is undertrained, and then nothing pruned
from it says much.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import LTError
from .models import NAMES


@dataclass(frozen=True)
class Baseline:
    """A data set's published test accuracy (%) for one kind of network, a range where several
    runs were reported, and where it was published."""

    low: float
    high: float
    source: str
    text: str
    tested: bool = True  # False: results submitted to a table whose maintainers have not checked them


PUBLISHED_MLP = {
    "mnist1d": Baseline(64.6, 65.1, "MNIST-1D's repository (greydanus/mnist1d, its notebooks)",
                        "reports 64.6–65.1% for its MLP (40-100-100-10 with a residual layer, 15,210 parameters; "
                        "final test accuracy after 6,000 steps of Adam, one run per notebook; its paper's table: "
                        "68%)"),
    "fashion_mnist": Baseline(84.0, 87.1, "the data set's authors (Xiao, Rasul and Vollgraf 2017, Table 3)",
                              "report 84.0–87.1% for scikit-learn's MLPClassifier (one or two hidden layers of 10 or "
                              "100 units, ReLU or tanh; each a mean of 5 runs; the best, 100 ReLU units: 87.1%)"),
}


# Conv-2 (two 3×3 convolutions, max pooling, three fully connected layers) against networks of
# the same shape; the paper's CIFAR-10 is not offline here, Fashion-MNIST is
PUBLISHED_CNN = {
    "fashion_mnist": Baseline(87.6, 93.2, "the data set's repository (zalandoresearch/fashion-mnist, the "
                              "benchmark table of its README)",
                              "lists 87.6–93.2% for networks of two convolutional layers with max pooling trained "
                              "without augmentation (six submitted results its maintainers say they have not tested: "
                              "Keras 87.6%, PyTorch with ELU 90.3%, TensorFlow over 300 epochs 91.6%, 113K parameters "
                              "92.2%, under 100K parameters 92.5%, three fully connected layers and 1.8M parameters "
                              "93.2%)", tested=False),
}

# the baselines by network: the paper's LeNet is an MLP, its Conv-2 a two-layer CNN
PUBLISHED = {"lenet_300_100": PUBLISHED_MLP, "conv2": PUBLISHED_CNN}
KIND = {"lenet_300_100": "MLPs", "conv2": "two-convolution networks"}  # what each table holds, in words


def published(model: str, dataset: str) -> Baseline:
    """The published baseline a dense ``model`` trained on ``dataset`` is held against."""
    found = PUBLISHED.get(model, {}).get(dataset)
    if found is None:
        known = ", ".join(f"{m} on {d}" for m, by in PUBLISHED.items() for d in by)
        raise LTError(f"no published baseline for {model} on {dataset}: there are {known} "
                      "(add one to lt_helpers.baselines, with where it was published)")
    return found


def _dense(run):
    """``run``'s network in words, its dense networks' test accuracies (%) at early stopping and at
    the end of training, and the published baseline they are held against."""
    dense, model = run.frame().query("round == 0"), run.config["model"]
    network = "LeNet" if model == "lenet_300_100" else NAMES[model]
    return (network, 100 * dense.early_stop_test_acc, 100 * dense.final_test_acc,
            published(model, run.config["dataset"]))


def dense_against_published(name: str, run) -> str:
    """A bullet for the evidence: ``run``'s dense networks (its round 0) beside the published
    baseline for its network and data set, both at the end of training (what the baselines
    report)."""
    network, stop, end, base = _dense(run)
    what = "range" if base.low != base.high else "number"
    side = (f"every trial is above that {what}" if end.min() > base.high else
            f"every trial is below that {what}: by those standards this dense network is undertrained, so read "
            "its tickets' gains against it, not against the best published accuracy" if end.max() < base.low else
            f"every trial lies within that {what}" if base.low <= end.min() and end.max() <= base.high else
            f"the trials overlap that {what}")
    return (f"* **{name}**: the dense {network} of the full run reaches {end.mean():.1f}% test accuracy at the end "
            f"of training (trials {end.min():.1f}–{end.max():.1f}%; {stop.mean():.1f}% at early stopping); "
            f"{base.source} {base.text}: {side}.")


def in_brief(run) -> str:
    """One sentence for a chapter's main text: ``run``'s dense network at the end of training
    beside the published range for its kind (:func:`dense_against_published` says more)."""
    network, _, end, base = _dense(run)
    untested = "" if base.tested else " (results submitted to the data set's benchmark table, untested by its maintainers)"
    return (f"The dense {network} reaches {end.mean():.1f}% test accuracy at the end of training (trials "
            f"{end.min():.1f}–{end.max():.1f}%); published {KIND[run.config['model']]} on this data set reach "
            f"{base.low:.1f}–{base.high:.1f}%{untested}: the check that the dense network, from which every ticket "
            "is pruned, is trained about as well as others train it.")
