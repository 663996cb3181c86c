"""Published baselines: what a dense network trained here is held against.

The paper's own numbers live in :mod:`lt_helpers.paper`; these are other people's, for the
same data sets, each with where it was published. A dense network that falls far below its
data set's baseline is undertrained, and then nothing pruned from it says much.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Baseline:
    """A data set's published MLP test accuracy (%), a range where several runs were
    reported, and where it was published: what a dense LeNet trained here is held against."""

    low: float
    high: float
    source: str
    text: str


PUBLISHED_MLP = {
    "mnist1d": Baseline(64.6, 65.1, "MNIST-1D's repository (greydanus/mnist1d, its notebooks)",
                        "reports 64.6–65.1% for its MLP (40-100-100-10 with a residual layer, 15,210 parameters; "
                        "final test accuracy after 6,000 steps of Adam, one run per notebook; its paper's table: "
                        "68%)"),
    "fashion_mnist": Baseline(84.0, 87.1, "the data set's authors (Xiao, Rasul and Vollgraf 2017, Table 3)",
                              "report 84.0–87.1% for scikit-learn's MLPClassifier (one or two hidden layers of 10 or "
                              "100 units, ReLU or tanh; each a mean of 5 runs; the best, 100 ReLU units: 87.1%)"),
}


def dense_against_published(name: str, run) -> str:
    """A bullet for the evidence: ``run``'s dense networks (its round 0) beside their data set's
    published MLP baseline, both at the end of training (what the baselines report)."""
    dense = run.frame().query("round == 0")
    stop, end = 100 * dense.early_stop_test_acc, 100 * dense.final_test_acc
    base = PUBLISHED_MLP[run.config["dataset"]]
    what = "range" if base.low != base.high else "number"
    side = (f"every trial is above that {what}" if end.min() > base.high else
            f"every trial is below that {what}" if end.max() < base.low else f"the trials overlap that {what}")
    return (f"* **{name}**: the dense LeNet of the full run reaches {end.mean():.1f}% test accuracy at the end of "
            f"training (trials {end.min():.1f}–{end.max():.1f}%; {stop.mean():.1f}% at early stopping); "
            f"{base.source} {base.text}: {side}.")
