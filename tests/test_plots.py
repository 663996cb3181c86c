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
