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
