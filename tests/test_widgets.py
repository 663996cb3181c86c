"""Explorers: ipywidgets in a live notebook, a figure in a static build."""


def test_explorers_draw_a_figure_when_static(mnist1d, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lt_helpers import iterative, widgets

    monkeypatch.setenv("LT_STATIC", "1")
    res = iterative.run_imp("lenet_300_100", "mnist1d", "smoke", rounds=2, trials=1, data=mnist1d,
                      hyper={"iterations": 20, "eval_every": 10})
    for explorer in (widgets.survivors_explorer, widgets.init_vs_final_explorer):
        plt.close("all")
        monkeypatch.setattr(plt, "show", lambda: None)
        assert explorer(res) is None  # static: no widget, a figure instead
        assert plt.get_fignums(), explorer.__name__
    monkeypatch.setenv("LT_STATIC", "0")
    assert widgets.survivors_explorer(res) is not None  # live: an ipywidgets interact
