"""The paper's claims about Conv-2, Conv-4 and Conv-6 on CIFAR-10 (Section 3, Figure 5), with
its numbers, tested on a run."""

from __future__ import annotations

from .. import lesson, stats, verdicts
from ..models import NAMES

__all__ = ["BEST", "rows", "said", "story"]

# Conv-2/4/6 on CIFAR-10, their best levels: (speed-up, at %), (accuracy gain in points, at %)
BEST = {"conv2": ((3.5, 8.8), (3.4, 4.6)), "conv4": ((3.5, 9.2), (3.5, 11.1)), "conv6": ((2.5, 15.1), (3.3, 26.4))}


def _ends(res, rnd: int, cond: str):
    """Per trial: still improving at its last evaluation (its early stop is then a bound)."""
    return res.per_trial(rnd, cond, "early_stop_at_end")


def rows(res, model: str) -> list[dict]:
    """The paper's claims about Conv-2/4/6 (Section 3, Figure 5) tested on ``res``, a run with
    tickets and ``random_reinit`` networks, paired by trial: tickets sooner than the dense network
    at the level nearest the paper's best speed-up (held to its ratio on this run's scale), more
    accurate at the level nearest its best gain (at early stop, and at the end of training), and
    more accurate than their reinitializations at the sparsest level."""
    (speed, speed_at), (gain, gain_at) = BEST[model]
    name, means = NAMES[model], res.means()
    last = max(r["round"] for r in res.runs if r["condition"] == "random_reinit")
    dense_stop = res.per_trial(0, "ticket", "early_stop_iteration")
    s, g = res.level_nearest(speed_at), res.level_nearest(gain_at)
    pct = lambda rnd: means.loc[(rnd, "ticket")].percent_remaining
    stop_s = res.per_trial(s, "ticket", "early_stop_iteration")
    capped = bool(_ends(res, s, "ticket").any())
    rows = [dict(claim=f"{name}: tickets reach minimum validation loss sooner than the dense network",
                 paper=f"{speed}× sooner at {speed_at}%",
                 **{"this run": f"dense ÷ ticket {dense_stop.mean() / stop_s.mean():.2f}× at {pct(s):.1f}% (above 1: "
                                f"the ticket is sooner) ({'at most, some tickets still improving; ' if capped else ''}"
                                f"difference {stats.brief(stop_s, dense_stop, 'iterations', 0)})"},
                 verdict=verdicts.verdict(stop_s, dense_stop, "lower", at_end=(_ends(res, s, "ticket"), _ends(res, 0, "ticket")),
                                        effect=-(1 - 1 / speed) * dense_stop.mean()))]  # the paper's ratio, here
    for key, when in (("early_stop_test_acc", "at early stop"), ("final_test_acc", "at the end of training")):
        acc_g, dense_k = res.per_trial(g, "ticket", key), res.per_trial(0, "ticket", key)
        rows.append(dict(claim=f"{name}: tickets are more accurate than the dense network ({when})",
                         paper=f"+{gain} points at {gain_at}%" if key == "early_stop_test_acc" else
                         "not reported (the same claim, tested at the end of training)",
                         **{"this run": f"at {pct(g):.1f}%: {stats.brief(acc_g, dense_k)}"},
                         verdict=verdicts.verdict(acc_g, dense_k, "higher",
                                                at_end=(_ends(res, g, "ticket"), _ends(res, 0, "ticket")),
                                                effect=gain if key == "early_stop_test_acc" else None)))
    t_acc = res.per_trial(last, "ticket", "early_stop_test_acc")
    r_acc = res.per_trial(last, "random_reinit", "early_stop_test_acc")
    rows.append(dict(claim=f"{name}: at the sparsest level, random reinitializations are less accurate than tickets",
                     paper="reinitialized networks fall behind as pruning proceeds",
                     **{"this run": f"at {pct(last):.1f}%: ticket − reinit {stats.brief(t_acc, r_acc)}"},
                     verdict=verdicts.verdict(t_acc, r_acc, "higher",
                                            at_end=(_ends(res, last, "ticket"), _ends(res, last, "random_reinit")))))
    return rows


def _level(row: dict) -> str:
    """The level a row of :func:`rows` was tested at, as its 'this run' cell writes it ('8.1%')."""
    return row["this run"].split("at ", 1)[1].split("%")[0] + "%"


def said(rows: list[dict]) -> str:
    """The four claims of :func:`rows` (one network, one run) in words, each with the level it was
    tested at and its verdict: 'that tickets reach … sooner than the dense network at 8.1%
    (*reproduced*); …'."""
    sooner, at_stop, at_end, reinit = rows
    word = lambda r: f"*{verdicts.outcome(r['verdict'])}*"
    return (f"that tickets reach minimum validation loss sooner than the dense network at {_level(sooner)} "
            f"({word(sooner)}); that they are more accurate than it at {_level(at_stop)}, at early stopping "
            f"({word(at_stop)}) and at the end of training ({word(at_end)}); that at the sparsest level, "
            f"{_level(reinit)}, random reinitializations are less accurate than tickets ({word(reinit)})")


def story(tables: dict[str, list[dict]]) -> str:
    """What the full runs of one network show, in words, one paragraph per data set (``tables``
    as for :func:`lt_helpers.claims.side_by_side`: a data set's name -> :func:`rows` on its run),
    and the legend of the verdict words (the intervals: in the chapter's evidence)."""
    out = []
    for name, rows_ in tables.items():
        words = [verdicts.outcome(r["verdict"]) for r in rows_]
        counts = ", ".join(f"{words.count(w)} {w}" for w in verdicts.WORDS if words.count(w))
        out.append(f"**{name}**: of the paper's {len(rows_)} tests, {counts}. Claim by claim: " + said(rows_) + ".")
    return "\n\n".join(out) + "\n\n" + lesson.LEGEND
