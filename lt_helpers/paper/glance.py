"""The paper's headline results, network by network, beside the book's scoreboard: for each of
the paper's networks and each data set the book trains it on, how its claims fare in the full
runs the book ships, generated from them."""

from __future__ import annotations

import pandas as pd

from .. import claims, lesson, verdicts
from ..models import NAMES
from . import conv, deep, lenet

__all__ = ["AT_A_GLANCE", "SCORED", "scoreboard", "at_a_glance"]

# The paper's headline results, network by network (its architecture table, Sections 2-4).
AT_A_GLANCE = [
    dict(network="LeNet-300-100", data="MNIST", pruning="layer-wise (fc 20%, output 10% a round)",
         training="Adam 1.2e-3, 50K iterations",
         ticket="down to 3.6% (back to dense there)", faster="38% sooner than dense at 21.1% (1.6×); 2.51× sooner "
         "than its reinitialization", accurate="+0.3 points at 13.5%; +0.5 over its reinitialization at 21%",
         chapter="03_iterative_pruning"),
    dict(network="Conv-2", data="CIFAR-10", pruning="layer-wise (conv 10%, fc 20%)", training="Adam 2e-4, 20K",
         ticket="above dense while more than 2% remain", faster="3.5× at 8.8%", accurate="+3.4 points at 4.6%",
         chapter="04_convolutional"),
    dict(network="Conv-4", data="CIFAR-10", pruning="layer-wise (conv 10%, fc 20%)", training="Adam 3e-4, 25K",
         ticket="above dense while more than 2% remain", faster="3.5× at 9.2%", accurate="+3.5 points at 11.1%",
         chapter="04_convolutional"),
    dict(network="Conv-6", data="CIFAR-10", pruning="layer-wise (conv 15%, fc 20%)", training="Adam 3e-4, 30K",
         ticket="above dense while more than 2% remain", faster="2.5× at 15.1%", accurate="+3.3 points at 26.4%",
         chapter="04_convolutional"),
    dict(network="VGG-19", data="CIFAR-10", pruning="global (conv 20%)", training="SGD lr 0.1, 112K; also lr 0.01, and warmup",
         ticket="none at lr 0.1; lr 0.01: within 1 point to 3.5%; warmup: above dense to 1.5%",
         faster="not reported", accurate="with warmup, above dense down to 1.5% (layer-wise: to 6.9%)",
         chapter="05_deep_networks"),
    dict(network="ResNet-20", data="CIFAR-10", pruning="global (conv 20%)", training="SGD lr 0.1, 30K; also lr 0.01, and warmup",
         ticket="none above lr 0.01 without warmup; lr 0.03 with warmup: down to 11.8%", faster="not reported",
         accurate="lr 0.01: 89.5% at 41.7–21.9% (dense: 90.5%); warmup: 90.5% at 27.1%",
         chapter="05_deep_networks"),
]


# the shipped full runs each network's claims are tested on, per data set (full_runs.FULL_RUNS)
# (VGG-19 and ResNet-20: several runs each, deep.RUNS, tested together by deep.rows)
SCORED = {"lenet_300_100": {"MNIST-1D": "lenet_300_100-mnist1d-paper", "Fashion-MNIST": "lenet_300_100-fashion_mnist-paper"},
          "conv2": {"MNIST-1D": "conv2-mnist1d-full"}, "conv4": {"MNIST-1D": "conv4-mnist1d-full"},
          "conv6": {"MNIST-1D": "conv6-mnist1d-full"}, "vgg19": {"MNIST-1D": None}, "resnet20": {"MNIST-1D": None}}


def scoreboard() -> dict[str, dict[str, dict[str, int]]]:
    """For each network the book scores and each data set: how many of its claims each rung of
    the verdict ladder holds, from the shipped full runs (network -> data set -> word -> count)."""
    from ..full_runs import full_run

    out = {}
    for model, runs in SCORED.items():
        out[model] = {}
        for data_set, name in runs.items():
            if model in deep.RUNS:
                rows = deep.rows(model)
            else:
                run = full_run(name)
                rows = lenet.rows(run) if model == "lenet_300_100" else conv.rows(run, model)
            words = [verdicts.outcome(r["verdict"]) for r in rows]
            out[model][data_set] = {w: words.count(w) for w in verdicts.WORDS if words.count(w)}
    return out


def _said(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    return f"{counts.get('reproduced', 0)} of the paper's {total} claims reproduced" + "".join(
        f", {n} {w}" for w, n in counts.items() if w != "reproduced")


def at_a_glance():
    """The paper's results beside the book's scoreboard, as a table (HTML, its cells stacked and
    labelled on a phone) whose last column names the chapter that holds each network's evidence."""
    from ..links import BOOK

    board = scoreboard()
    by_name = {NAMES[m]: m for m in NAMES}
    rows = []
    for r in AT_A_GLANCE:
        model = by_name[r["network"]]
        here = "; ".join(f"{d}: {_said(c)}" for d, c in board[model].items())
        link = f'<a href="{BOOK}/chapters/{r["chapter"]}.html">chapter {int(r["chapter"][:2])}</a>'
        rows.append({"network (data)": f"{r['network']} ({r['data']})", "pruning, training": f"{r['pruning']}; {r['training']}",
                     "smallest winning tickets": r["ticket"], "faster (to minimum validation loss)": r["faster"], "accuracy": r["accurate"],
                     "in this book": f"{here} ({link})"})
    frame = pd.DataFrame(rows)
    return lesson.table(claims.styled(frame, "claims glance"))
