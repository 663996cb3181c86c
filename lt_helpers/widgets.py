"""ipywidgets explorers that degrade to a figure.

In Jupyter or Colab an explorer shows controls and redraws its figure as they change. A
static build (``LT_STATIC=1``, set by ``make book`` and the tests) has no kernel to answer
the controls, so there the explorer draws its default view as an ordinary figure instead:
no page of the book shows an empty widget.
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt


def static() -> bool:
    """Is this a build without a live kernel (or a Python without ipywidgets)?"""
    if os.environ.get("LT_STATIC", "0") not in ("0", "", "false"):
        return True
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return True
    return False


def explore(draw, **controls):
    """``draw(**values)`` under ipywidgets ``controls`` (name -> widget), or, when
    :func:`static`, once with each control's current value."""
    if static():
        draw(**{name: widget.value for name, widget in controls.items()})
        plt.show()
        return None
    from ipywidgets import interact

    def redraw(**values):
        draw(**values)
        plt.show()

    return interact(redraw, **controls)


def _round_and_layer(results, trial: int, middle: bool) -> dict:
    """A round slider (the middle or the last round by default) and a layer menu."""
    import ipywidgets as w

    rounds = sorted(r for t, r in results.masks if t == trial)
    layers = list(results.masks[(trial, 0)])
    return dict(round=w.SelectionSlider(options=rounds, value=rounds[len(rounds) // 2 if middle else -1],
                                        description="round"),
                layer=w.Dropdown(options=layers, value=layers[0], description="layer"))


def survivors_explorer(results, trial: int = 0):
    """Pick a pruning round and a layer; see the initial weights θ0 of that layer split
    into the ones the ticket keeps and the ones pruned so far."""
    from .plots import init_histogram

    return explore(lambda round, layer: init_histogram(results.theta0[trial][layer],
                                                       results.masks[(trial, round)][layer],
                                                       title=f"trial {trial}, round {round}: {layer}"),
                   **_round_and_layer(results, trial, middle=True))


def init_vs_final_explorer(results, trial: int = 0):
    """Pick a round and a layer; see initial against trained (dense) weights, coloured by
    whether that round's ticket keeps them."""
    from .errors import LTError
    from .plots import init_vs_final

    if trial not in results.dense:
        raise LTError(f"this run holds no trained dense weights for trial {trial}: a run carried to this machine "
                      "(python -m lt_helpers pack) leaves them out where no control uses them; explore the run "
                      "where it was made, or train it here")
    return explore(lambda round, layer: init_vs_final(results.theta0[trial][layer], results.dense[trial][layer],
                                                      results.masks[(trial, round)][layer],
                                                      title=f"trial {trial}, round {round}: {layer}"),
                   **_round_and_layer(results, trial, middle=False))
