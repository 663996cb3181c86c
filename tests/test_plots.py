import pandas as pd
import pytest

from lt_helpers import plots


def _frame(cond, acc, with_dense=True):
    rows = [dict(trial=t, round=r, condition=cond, percent_remaining=100 * 0.8 ** r, early_stop_test_acc=acc + r / 100)
            for t in range(2) for r in range(0 if with_dense else 1, 3)]
    return pd.DataFrame(rows)


def test_versus_remaining_draws_named_conditions_from_their_own_dense_runs():
    import matplotlib

    matplotlib.use("Agg")
    both = pd.concat([_frame("no dropout", 0.5), _frame("dropout 0.5", 0.7)])
    ax = plots.versus_remaining(both, "early_stop_test_acc", conditions=["no dropout", "dropout 0.5"])
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"no dropout (n=2)", "dropout 0.5 (n=2)"}
    assert list(lines["dropout 0.5 (n=2)"].get_ydata()) == pytest.approx([70, 71, 72])  # its own round 0
    assert lines["no dropout (n=2)"].get_color() != lines["dropout 0.5 (n=2)"].get_color()


def test_controls_start_from_the_shared_dense_network():
    import matplotlib

    matplotlib.use("Agg")
    frame = pd.concat([_frame("ticket", 0.5), _frame("random_reinit", 0.3, with_dense=False)])
    ax = plots.versus_remaining(frame, "early_stop_test_acc")
    reinit = [line for line in ax.get_lines() if line.get_label().startswith("random reinit")][0]
    assert list(reinit.get_ydata()) == pytest.approx([50, 31, 32])


def test_a_control_trained_at_some_levels_is_drawn_there_alone():
    """Reinitializations trained at one level of three (--control-rounds): a line from the dense
    network through the untrained levels would show values no network had."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    ticket = pd.concat([_frame("ticket", 0.5), _frame("ticket", 0.5).assign(round=3, percent_remaining=51.2)])
    reinit = _frame("random_reinit", 0.3, with_dense=False).query("round == 2")
    _, ax = plt.subplots()
    plots.versus_remaining(pd.concat([ticket, reinit]), "early_stop_test_acc", ax)
    bars = [c for c in ax.containers if c.get_label().startswith("random reinit")]
    assert len(bars) == 1 and bars[0].get_label() == "random reinit (n=2), at some levels"
    assert list(bars[0].lines[0].get_xdata()) == pytest.approx([64.0])  # its level alone, not 100%
    assert not [line for line in ax.get_lines() if line.get_label().startswith("random reinit")]
    assert not [line for line in ax.get_lines() if 100.0 in list(line.get_xdata()) and line.get_linestyle() == ":"]


def test_the_legend_lists_every_condition_before_the_hollow_marker():
    """matplotlib puts errorbars (a control at some levels) after every line, the hollow
    marker's key included: the key goes last, after the networks it describes."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    ticket = _frame("ticket", 0.5).assign(early_stop_iteration=100, early_stop_at_end=True)
    reinit = _frame("random_reinit", 0.3, with_dense=False).query("round == 2").assign(
        early_stop_iteration=200, early_stop_at_end=False)
    _, ax = plt.subplots()
    plots.versus_remaining(pd.concat([ticket, reinit]), "early_stop_iteration", ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["winning ticket (iterative) (n=2)", "random reinit (n=2), at some levels",
                      "hollow: still improving at the end"]


def test_bands_run_from_the_lowest_to_the_highest_trial_and_capped_points_are_hollow():
    """The paper's convention: mean line, band min to max over trials. A level where some
    trial's minimum validation loss was its last evaluation gets a hollow marker."""
    import matplotlib

    matplotlib.use("Agg")
    rows = [dict(trial=t, round=r, condition="ticket", percent_remaining=100 * 0.8 ** r,
                 early_stop_iteration=[100, 400, 900][t] * (r + 1), early_stop_at_end=(r == 2 and t == 2))
            for t in range(3) for r in range(3)]
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()  # a fresh figure: other tests drew on the current one
    plots.versus_remaining(pd.DataFrame(rows), "early_stop_iteration", ax)
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(100) and band[:, 1].max() == pytest.approx(2700)  # not mean ± sd
    hollow = [line for line in ax.get_lines() if line.get_markerfacecolor() == "white" and len(line.get_xdata())]
    assert len(hollow) == 1 and list(hollow[0].get_xdata()) == pytest.approx([64.0])
    assert any("still improving" in t.get_text() for t in ax.get_legend().get_texts())
    assert "min to max" in ax.get_legend().get_title().get_text()
    _, ax = plt.subplots()  # a metric that is not the early stop's: no hollow markers, no such legend line
    plots.versus_remaining(pd.DataFrame(rows).assign(final_test_acc=0.5), "final_test_acc", ax)
    assert not [line for line in ax.get_lines() if line.get_markerfacecolor() == "white" and len(line.get_xdata())]
    assert not any("still improving" in t.get_text() for t in ax.get_legend().get_texts())


def _figure_like_chapter_4(width, height, nrows, ncols):
    """What chapter 4 drew before: a grid of standard panels at a fixed size."""
    import matplotlib.pyplot as plt

    frame = pd.concat([_frame("ticket", 0.5), _frame("random_reinit", 0.3, with_dense=False)])
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    for ax in axes.flat:
        plots.versus_remaining(frame, "early_stop_test_acc", ax, title="Conv-2 on mnist1d: accuracy")
    fig.canvas.draw()
    return fig


@pytest.mark.parametrize("size", [(6.4, 4, 1, 1), (8, 4.5, 1, 1), (12, 4.2, 1, 2), (10.4, 8.4, 2, 2)])
def test_text_in_every_figure_reads_at_the_pages_small_print(size):
    """However wide a figure is drawn, the page shrinks it to its content width: fit_text (a
    figure hook that set_style installs) sizes its text so that the smallest reads at least at
    the page's small print there; without the hook a wide figure's text shrinks below it."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    with matplotlib.rc_context():
        plots.set_style()
        fig = _figure_like_chapter_4(*size)
        assert plots.smallest_text_px(fig) >= plots.SMALL_PRINT_PX
        plt.close(fig)
        plt.rcParams["figure.hooks"] = []  # as before the hook
        plots.sns.set_context("notebook")
        fig = _figure_like_chapter_4(*size)
        if size[0] * plots.DPI > 1.2 * plots.CONTENT_PX:
            assert plots.smallest_text_px(fig) < plots.SMALL_PRINT_PX
        plt.close(fig)


def test_chapter_4s_old_grid_measures_a_few_pixels():
    """The issue's example, as the measure sees it: 2×3 panels at 15.6 inches, shrunk to the page."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    with matplotlib.rc_context():
        plots.set_style()
        plt.rcParams["figure.hooks"] = []
        plots.sns.set_context("notebook")
        fig = _figure_like_chapter_4(15.6, 8, 2, 3)
        assert plots.smallest_text_px(fig) < 7
        plt.close(fig)


def test_panels_go_two_across_with_one_shared_legend_in_the_spare_cell_or_below():
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    frame = pd.concat([_frame("ticket", 0.5), _frame("random_reinit", 0.3, with_dense=False)])
    with matplotlib.rc_context():
        plots.set_style()
        for n, spare in ((3, True), (2, False)):
            fig, axes = plots.panels(n)
            assert len(axes) == n and fig.get_figwidth() == pytest.approx(2 * 5.2)
            for ax in axes:
                plots.versus_remaining(frame, "early_stop_test_acc", ax)
            plots.shared_legend(fig, axes)
            assert all(ax.get_legend() is None for ax in axes)
            legends = [ax.get_legend() for ax in fig.axes if ax not in axes] if spare else fig.legends
            assert len(legends) == 1 and legends[0] is not None
            assert [t.get_text() for t in legends[0].get_texts()] == ["winning ticket (iterative) (n=2)",
                                                                       "random reinit (n=2)"]
            fig.canvas.draw()
            assert plots.smallest_text_px(fig) >= plots.SMALL_PRINT_PX
            plt.close(fig)


def test_figures_are_opaque_retina_pngs_in_a_notebook():
    """Hi-DPI: a notebook shows twice the pixels at the figure's size; opaque white, so the
    figure reads in the book's dark mode too."""
    import base64
    import io

    import matplotlib
    import matplotlib.pyplot as plt
    import numpy as np
    from IPython.core.interactiveshell import InteractiveShell
    from PIL import Image

    matplotlib.use("Agg")
    shell = InteractiveShell.instance()
    try:
        with matplotlib.rc_context():
            plots.set_style()
            formatter = shell.display_formatter.formatters["image/png"]
            fig, ax = plt.subplots()
            ax.plot([0, 1], [0, 1])
            data, meta = formatter(fig)  # what Jupyter, Colab and the book's build receive
            data = base64.b64decode(data) if isinstance(data, str) else data
            image = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
            assert image.shape[1] == pytest.approx(2 * meta["width"], abs=2)  # retina: 2 px per page px
            assert image[..., 3].min() == 255  # no transparent pixel
            plt.close(fig)
    finally:
        InteractiveShell.clear_instance()


def test_percent_axis_labels_never_collide():
    """Ticks at measured levels, at most six, none within a factor 1.4 of the next; levels of
    two runs that differ by a rounding count as one; the sparsest level is always labelled."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    for values in ([100, 80, 64, 51.2, 41, 32.8, 26.2, 21, 17.4, 14], [100, 61.6, 61.7, 38, 23.3],
                   [100 * 0.8 ** k for k in range(17)], [100, 8.9, 6.4]):
        fig, ax = plt.subplots()
        plots.percent_axis(ax, values)
        ticks = list(ax.get_xticks())
        assert len(ticks) <= 6 and ticks[-1] == round(min(values), 1)
        assert all(a / b >= 1.4 for a, b in zip(ticks, ticks[1:])), ticks
        plt.close(fig)
