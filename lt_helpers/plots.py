"""The book's standard figures, in one seaborn theme with a colour-blind-safe palette.

Axes of "percent of weights remaining" are logarithmic and run from 100% down, as in
the paper; every line is a mean over trials with a band from the lowest to the highest
trial (the paper's convention), and the legend says how many trials stand behind it.
Points where a trial was still improving when training stopped (its minimum validation
loss at the last evaluation, ``early_stop_at_end``) are drawn hollow: their
early-stopping iteration is a lower bound.
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FixedLocator, NullLocator

_PALETTE = sns.color_palette("colorblind")
COLORS = {"ticket": _PALETTE[0], "random_reinit": _PALETTE[1], "oneshot": _PALETTE[2],
          "fine_tune": _PALETTE[0], "random_init": _PALETTE[1], "no_retrain": _PALETTE[7],
          "dense": (0.2, 0.2, 0.2), "random_prune": _PALETTE[2], "shuffle": _PALETTE[4],
          "sign_reinit": _PALETTE[9], "rewind": _PALETTE[8], "continued": _PALETTE[3],
          "snip": _PALETTE[5], "signed_constant": _PALETTE[6]}
LABELS = {"ticket": "winning ticket (iterative)", "random_reinit": "random reinit",
          "oneshot": "winning ticket (one-shot)", "fine_tune": "pruned + fine-tuned",
          "random_init": "pruned + retrained from random init", "no_retrain": "pruned, not retrained",
          "dense": "dense network", "random_prune": "random pruning", "shuffle": "shuffled init",
          "sign_reinit": "sign-preserving reinit", "rewind": "ticket rewound to θk",
          "continued": "ticket found by training on (no reset)", "snip": "SNIP (pruned at initialization)",
          "signed_constant": "ticket mask on signed constants"}
METRICS = {"early_stop_iteration": "early-stopping iteration",
           "early_stop_test_acc": "test accuracy at early stopping (%)",
           "final_test_acc": "test accuracy at end of training (%)",
           "val_loss": "validation loss", "test_acc": "test accuracy (%)",
           "distance_from_start": "mean |w_final − w_start| of kept weights"}


def set_style() -> None:
    """Apply the book's seaborn theme and figure defaults to matplotlib."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update({"figure.figsize": (6.4, 4.0), "figure.dpi": 100, "axes.titlesize": "medium"})


def percent_axis(ax, values) -> None:
    """Log-scaled percent-remaining x axis running from 100% down to the smallest value."""
    ax.set_xscale("log")
    levels = sorted({round(float(v), 1) for v in values}, reverse=True)
    step = -(-len(levels) // 8)  # at most 8 labelled ticks, at the measured levels
    ticks = levels[::step] + ([levels[-1]] if (len(levels) - 1) % step else [])
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_xlim(max(levels) * 1.08, min(levels) / 1.08)
    ax.set_xlabel("percent of weights remaining (%)")


def _scaled(metric, values):
    return np.asarray(values, dtype=float) * (100.0 if metric.endswith("acc") else 1.0)


def versus_remaining(frame, metric: str, ax=None, conditions=None, title=None):
    """Mean and min–max band of ``metric`` over trials against percent of weights
    remaining, one line per condition; on early-stopping metrics, hollow markers where some
    trial's minimum validation loss was its last evaluation (``early_stop_at_end``).
    ``frame`` is ``Results.frame()``, or several of them concatenated with their own
    condition names (e.g. ``"dropout 0.5"``); a condition without its own round 0 starts
    from the shared dense network."""
    ax = ax or plt.gca()
    conditions = conditions or [c for c in COLORS if c in set(frame["condition"])]
    dense = frame[frame["round"] == 0]
    spare = itertools.cycle([c for c in sns.color_palette("dark") if c not in COLORS.values()])
    capped_any = False
    for cond in conditions:
        part = frame[frame["condition"] == cond]
        if not (part["round"] == 0).any() and len(dense):
            part = pd.concat([dense.assign(condition=cond), part])
        g = part.groupby("round")
        pct = g["percent_remaining"].mean().to_numpy()
        mean = _scaled(metric, g[metric].mean())
        lo, hi = _scaled(metric, g[metric].min()), _scaled(metric, g[metric].max())
        n = int(g["trial"].nunique().min())
        color = COLORS.get(cond) or next(spare)
        ax.plot(pct, mean, "o-", ms=3, color=color, label=f"{LABELS.get(cond, cond)} (n={n})")
        ax.fill_between(pct, lo, hi, color=color, alpha=0.2, lw=0)
        if "early_stop_at_end" in part and metric.startswith("early_stop"):
            capped = g["early_stop_at_end"].any().to_numpy(dtype=bool)
            ax.plot(pct[capped], mean[capped], "o", ms=7, mfc="white", mec=color, mew=1.5, zorder=3)
            capped_any = capped_any or capped.any()
    if capped_any:
        ax.plot([], [], "o", ms=7, mfc="white", mec="0.3", mew=1.5,
                label="hollow: a trial still improving at the end (early stop is a lower bound)")
    percent_axis(ax, frame["percent_remaining"])
    ax.set_ylabel(METRICS.get(metric, metric))
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", title="mean over trials; band: min to max", title_fontsize="small")
    return ax


def learning_curves(curves, metric: str = "test_acc", ax=None, title=None, labels=None):
    """Mean and min–max band over trials of a curve against training iterations, one line per
    (condition, percent remaining): colour by condition, line style by sparsity.
    ``curves`` is ``Results.curves()`` or a subset; ``labels`` renames conditions."""
    ax = ax or plt.gca()
    labels = {**LABELS, **(labels or {})}
    levels = sorted(curves.percent_remaining.unique(), reverse=True)
    styles = ["-", "--", ":", "-."]
    for (cond, pct), part in curves.groupby(["condition", "percent_remaining"], sort=False):
        dense = pct > 99.99
        g = part.groupby("iteration")[metric]
        it = np.asarray(list(g.groups))
        mean, lo, hi = _scaled(metric, g.mean()), _scaled(metric, g.min()), _scaled(metric, g.max())
        color = COLORS["dense" if dense else cond]
        name = labels["dense"] if dense else f"{labels.get(cond, cond)}, {pct:.1f}%"
        ax.plot(it, mean, "-" if dense else styles[levels.index(pct) % len(styles)], color=color,
                label=f"{name} (n={part['trial'].nunique()})")
        ax.fill_between(it, lo, hi, color=color, alpha=0.15, lw=0)
    ax.set_xlabel("training iteration")
    ax.set_ylabel(METRICS[metric])
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", title="mean over trials; band: min to max", title_fontsize="small")
    return ax


def init_histogram(theta0, mask, ax=None, title=None):
    """Histogram of one layer's initial weights, split into kept and pruned by ``mask``."""
    if ax is None:
        _, ax = plt.subplots()
    w, m = theta0.flatten().numpy(), mask.flatten().numpy()
    bins = np.linspace(w.min(), w.max(), 60)
    ax.hist(w[m], bins=bins, color=COLORS["ticket"], alpha=0.7, label=f"kept ({m.mean():.1%})")
    ax.hist(w[~m], bins=bins, color=COLORS["random_reinit"], alpha=0.5, label="pruned")
    ax.set_xlabel("initial weight value (θ0)")
    ax.set_ylabel("number of weights")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def init_vs_final(theta0, final, mask, ax=None, title=None, max_points: int = 4000):
    """Scatter of one layer's initial against trained weights, kept and pruned coloured."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    w0, w1, m = theta0.flatten().numpy(), final.flatten().numpy(), mask.flatten().numpy()
    pick = np.random.default_rng(0).permutation(len(w0))[:max_points]  # a fixed sample keeps it readable
    for keep, cond, label in ((False, "random_reinit", "pruned"), (True, "ticket", "kept")):
        sel = pick[m[pick] == keep]
        ax.scatter(w0[sel], w1[sel], s=4, alpha=0.5, color=COLORS[cond], label=f"{label} ({(m == keep).mean():.0%})")
    lim = float(np.abs(np.concatenate([w0, w1])).max())
    ax.plot([-lim, lim], [-lim, lim], color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("initial weight (θ0)")
    ax.set_ylabel("trained weight (dense network)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", markerscale=3)
    return ax
