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
import json
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, NullLocator

from . import controls

_PALETTE = sns.color_palette("colorblind")
# each control's colour and label live with it (lt_helpers.controls); these are the chapters' own conditions
COLORS = {**controls.COLORS, "fine_tune": _PALETTE[0], "random_init": _PALETTE[1], "no_retrain": _PALETTE[7],
          "dense": (0.2, 0.2, 0.2), "rewind": _PALETTE[8], "continued": _PALETTE[3], "signed_constant": _PALETTE[6]}
LABELS = {**controls.LABELS, "fine_tune": "pruned + fine-tuned", "random_init": "pruned + retrained from random init",
          "no_retrain": "pruned, not retrained", "dense": "dense network", "rewind": "ticket rewound to θk",
          "continued": "ticket found by training on (no reset)", "signed_constant": "ticket mask on signed constants"}
METRICS = {"early_stop_iteration": "early-stopping iteration",
           "early_stop_test_acc": "test acc. at early stop (%)",
           "final_test_acc": "test acc. at the end (%)",
           "val_loss": "validation loss", "test_acc": "test accuracy (%)",
           "distance_from_start": "mean |w_final − w_start| of kept weights"}


# Where the book shows a figure: its output column is 688 CSS px wide on a 1280-px-wide screen
# (sphinx-book-theme, measured in Chromium), and a wider figure is shrunk to fit. The page's
# small print (the author and copyright lines, code) is 14 px: no text in a figure may be
# smaller than that once the page has shrunk it.
CONTENT_PX = 688
SMALL_PRINT_PX = 14.0
DPI = 100
_SMALLEST_PT = 12 * 0.833  # seaborn's "notebook" font size, as a legend's "small"
BAND = "mean over trials; band: min to max"  # the legend title of every figure with bands


def set_style() -> None:
    """Apply the book's seaborn theme and figure defaults to matplotlib: opaque white figures
    (they read in the book's dark mode too), retina PNGs in Jupyter, Colab and the book, and
    text sized for the page by :func:`fit_text` on every new figure."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update({"figure.figsize": (6.4, 4.0), "figure.dpi": DPI, "axes.titlesize": "medium",
                         "figure.facecolor": "white", "savefig.facecolor": "white", "figure.constrained_layout.use": True,
                         "figure.hooks": ["lt_helpers.plots:fit_text"]})
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:  # a notebook's kernel: twice the pixels for hi-DPI screens
        set_matplotlib_formats("retina")


def page_scale(width_in: float) -> float:
    """How much the book's page shrinks a figure ``width_in`` inches wide (1: shown at its size)."""
    return min(1.0, CONTENT_PX / (width_in * DPI))


def fit_text(fig) -> None:
    """A ``figure.hooks`` entry, run by pyplot on every new figure before anything is drawn on
    it: size the fonts so that the smallest text (a legend in ``"small"``) is the page's small
    print after the page has shrunk the figure to its content width. ``LT_FIGURE_LOG`` names a
    file where every drawn figure appends its smallest text in page pixels (the tests read it)."""
    # 10% to spare: the saved figure's tight box is often a little wider than the figure
    smallest_pt = 1.1 * SMALL_PRINT_PX * 72 / (DPI * page_scale(fig.get_figwidth()))
    sns.set_context("notebook", font_scale=smallest_pt / _SMALLEST_PT)
    if os.environ.get("LT_FIGURE_LOG"):
        fig.canvas.mpl_connect("draw_event", _log_text_size)


def smallest_text_px(fig) -> float:
    """The smallest text of a drawn ``fig`` in CSS pixels as the book shows it: its tight
    bounding box (as Jupyter saves it) shrunk to the content width."""
    renderer = fig.canvas.get_renderer()
    width = fig.get_tightbbox(renderer).width  # inches
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes) * DPI / 72 * page_scale(width)


def _log_text_size(event) -> None:
    fig = event.canvas.figure
    titles = [ax.get_title() or ax.get_ylabel() for ax in fig.axes]
    with open(os.environ["LT_FIGURE_LOG"], "a") as f:
        f.write(json.dumps({"smallest_px": round(smallest_text_px(fig), 2), "width_in": fig.get_figwidth(),
                            "axes": titles}) + "\n")


def panels(n: int, ncols: int = 2, panel=(5.2, 4.6), **kwargs):
    """A figure of ``n`` panels, at most ``ncols`` across: the page is about 7 inches wide,
    and text stays readable with two panels side by side. Returns ``(fig, axes)`` with
    ``axes`` a flat list of ``n``; a spare cell of the grid is left empty for
    :func:`shared_legend`. ``kwargs`` go to ``plt.subplots`` (e.g. ``sharey=True``)."""
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols, panel[1] * nrows), squeeze=False, **kwargs)
    axes = list(grid.flat)
    for spare in axes[n:]:
        spare.axis("off")
    return fig, axes[:n]


def shared_legend(fig, axes, title=BAND) -> None:
    """One legend for panels that draw the same lines: in the grid's spare cell when there is
    one, else under the figure; each panel's own legend is removed. Lines are gathered from
    every panel, once per label."""
    entries = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
        if ax.get_legend():
            ax.get_legend().remove()
    spare = [ax for ax in fig.axes if ax not in axes and not ax.axison]
    if spare:
        spare[0].legend(entries.values(), entries.keys(), loc="center", title=title, fontsize="small",
                        title_fontsize="small", frameon=False)
    else:  # as many columns as fit in the figure's width
        renderer = fig.canvas.get_renderer()
        for ncols in range(min(3, len(entries)), 0, -1):
            legend = fig.legend(entries.values(), entries.keys(), loc="outside lower center", ncols=ncols,
                                title=title, fontsize="small", title_fontsize="small", frameon=False)
            box = legend.get_window_extent(renderer)
            if ncols == 1 or box.width <= 0.95 * fig.bbox.width:
                break
            legend.remove()
        fig.set_figheight(fig.get_figheight() + box.height / fig.dpi)  # the legend's room, not the panels'


def percent_axis(ax, values) -> None:
    """Log-scaled percent-remaining x axis running from 100% down to the smallest value, with
    at most six labels at measured levels, none closer than a factor 1.4 to the next (levels
    of different runs that differ by a rounding, e.g. 61.6 and 61.7, count as one)."""
    ax.set_xscale("log")
    levels = []
    for v in sorted({round(float(v), 1) for v in values}, reverse=True):
        if not levels or levels[-1] / v > 1.03:
            levels.append(v)
    step = -(-len(levels) // 5)
    ticks = levels[:1]  # the densest and the sparsest level are always labelled; between them,
    for t in levels[step:-1:step]:  # every step-th level not within a factor 1.4 of a neighbour
        if ticks[-1] / t >= 1.4 and t / levels[-1] >= 1.4:
            ticks.append(t)
    ticks += levels[-1:] if len(levels) > 1 else []
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_xlim(max(levels) * 1.08, min(levels) / 1.08)
    ax.set_xlabel("weights remaining (%)")


def plain_log_axis(axis) -> None:
    """A log axis labelled in plain numbers (20, 50, 100) instead of powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,g}"))
    axis.set_minor_formatter(NullFormatter())


def _scaled(metric, values):
    return np.asarray(values, dtype=float) * (100.0 if metric.endswith("acc") else 1.0)


def versus_remaining(frame, metric: str, ax=None, conditions=None, title=None):
    """Mean and min–max band of ``metric`` over trials against percent of weights
    remaining, one line per condition; on early-stopping metrics, hollow markers where some
    trial's minimum validation loss was its last evaluation (``early_stop_at_end``).
    ``frame`` is ``Results.frame()``, or several of them concatenated with their own
    condition names (e.g. ``"dropout 0.5"``); a condition without its own round 0 starts
    from the shared dense network, unless it was trained at some levels only (``--control-rounds``):
    then it is drawn at those levels alone, markers with their min–max bars (several such
    conditions side by side, a few percent apart, joined by a faint dotted guide), not from the
    dense network through levels it never trained at."""
    ax = ax or plt.gca()
    conditions = conditions or [c for c in COLORS if c in set(frame["condition"])]
    dense = frame[frame["round"] == 0]
    spare = itertools.cycle([c for c in sns.color_palette("dark") if c not in COLORS.values()])
    capped_any = False
    rounds = lambda c: set(frame.loc[frame["condition"] == c, "round"])
    sparse = [c for c in conditions if 0 not in rounds(c) and rounds(c) != set(frame["round"]) - {0}]  # some levels
    for cond in conditions:
        part = frame[frame["condition"] == cond]
        some = cond in sparse
        if not (part["round"] == 0).any() and len(dense) and not some:
            part = pd.concat([dense.assign(condition=cond), part])
        g = part.groupby("round")
        pct = g["percent_remaining"].mean().to_numpy()
        mean = _scaled(metric, g[metric].mean())
        lo, hi = _scaled(metric, g[metric].min()), _scaled(metric, g[metric].max())
        n = int(g["trial"].nunique().min())
        color = COLORS.get(cond) or next(spare)
        label = f"{LABELS.get(cond, cond)} (n={n})" + (", at some levels" if some else "")
        if some:  # side by side at each level (a few percent apart on the log axis), a dotted guide between
            pct = pct * 1.04 ** (sparse.index(cond) - (len(sparse) - 1) / 2)  # inside the axis margin (1.08)
            ax.plot(pct, mean, ":", lw=1, color=color, alpha=0.6)
            ax.errorbar(pct, mean, yerr=[mean - lo, hi - mean], fmt="o", ms=4, capsize=3, color=color, label=label)
        else:
            ax.plot(pct, mean, "o-", ms=3, color=color, label=label)
            ax.fill_between(pct, lo, hi, color=color, alpha=0.2, lw=0)
        if "early_stop_at_end" in part and metric.startswith("early_stop"):
            capped = g["early_stop_at_end"].any().to_numpy(dtype=bool)
            ax.plot(pct[capped], mean[capped], "o", ms=7, mfc="white", mec=color, mew=1.5, zorder=3)
            capped_any = capped_any or capped.any()
    handles, labels = ax.get_legend_handles_labels()  # matplotlib lists lines before errorbars: conditions first
    if capped_any:
        handles += ax.plot([], [], "o", ms=7, mfc="white", mec="0.3", mew=1.5)
        labels.append("hollow: still improving at the end")
    percent_axis(ax, frame["percent_remaining"])
    ax.set_ylabel(METRICS.get(metric, metric))
    if title:
        ax.set_title(title)
    ax.legend(handles, labels, fontsize="small", title=BAND, title_fontsize="small")
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
        # only where every network was evaluated: runs that test less often (hp.test_every)
        # have their test accuracy at a coarser grid, plus their own early-stopping iteration
        every = g.count() == part["trial"].nunique()
        it = np.asarray(every.index[every])
        mean, lo, hi = (_scaled(metric, f()[every]) for f in (g.mean, g.min, g.max))
        color = COLORS["dense" if dense else cond]
        name = labels["dense"] if dense else f"{labels.get(cond, cond)}, {pct:.1f}%"
        ax.plot(it, mean, "-" if dense else styles[levels.index(pct) % len(styles)], color=color,
                label=f"{name} (n={part['trial'].nunique()})")
        ax.fill_between(it, lo, hi, color=color, alpha=0.15, lw=0)
    ax.set_xlabel("training iteration")
    ax.set_ylabel(METRICS[metric])
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", title=BAND, title_fontsize="small")
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
