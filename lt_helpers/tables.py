"""Tables for reading: a run's means over trials with words for column names and conditions by
their labels (:func:`readable`), and a long table folded behind a click (:func:`folded`). The
figures' counterpart, beside :mod:`lt_helpers.plots`."""

from __future__ import annotations

from .plots import LABELS

MEASURES = {"early_stop_iteration": ("early-stopping iteration", "{:,.0f}"),
            "early_stop_test_acc": ("test accuracy at early stop (%)", "{:.1f}"),
            "final_test_acc": ("test accuracy at the end (%)", "{:.1f}")}


def readable(frame, rounds=None, by=(), measures=("early_stop_iteration", "early_stop_test_acc")):
    """Means over trials for reading (a pandas Styler), a row per level and network: weights
    remaining in % with one decimal, accuracies in %, iterations whole, columns named in
    words, conditions by their labels (round 0: the dense network). ``frame`` is
    ``Results.frame()`` (or several concatenated); ``rounds`` picks the levels the text
    discusses (default: all); ``by`` adds grouping columns, e.g. ``("model",)``."""
    g = frame.groupby([*by, "round", "condition"])
    t = g[["percent_remaining", *measures]].mean().assign(trials=g["trial"].nunique()).reset_index()
    if rounds is not None:
        t = t[t["round"].isin(list(rounds))]
    for m in measures:
        t[m] *= 100 if m.endswith("_acc") else 1
    t["condition"] = [LABELS["dense"] if r == 0 else LABELS.get(c, c) for r, c in zip(t["round"], t["condition"])]
    t = t.sort_values([*by, "percent_remaining", "condition"], ascending=[True] * len(by) + [False, True])
    names = {"percent_remaining": "weights remaining (%)", "condition": "network", **{m: MEASURES[m][0] for m in measures}}
    t = t[[*by, "percent_remaining", "condition", *measures, "trials"]].rename(columns=names)
    formats = {"weights remaining (%)": "{:.1f}", **{MEASURES[m][0]: MEASURES[m][1] for m in measures}}
    return t.style.format(formats).hide(axis="index")


def folded(table, summary: str):
    """``table`` (a DataFrame or Styler) in a collapsed block that opens with a click, in
    Jupyter, Colab and the book alike (HTML ``<details>``)."""
    from IPython.display import HTML

    return HTML(f"<details><summary>{summary}</summary>\n\n{table.to_html()}\n\n</details>")
