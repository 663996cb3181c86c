"""The paper's claims about Conv-2, Conv-4 and Conv-6 on CIFAR-10 (Section 3, Figure 5), with
its numbers, tested on a run, and said in words."""

from __future__ import annotations

from .. import claims, lesson, stats, verdicts
from ..models import NAMES

__all__ = ["BEST", "rows", "tally", "said", "story"]

# Conv-2/4/6 on CIFAR-10, their best levels: (speed-up, at %), (accuracy gain in points, at %)
BEST = {"conv2": ((3.5, 8.8), (3.4, 4.6)), "conv4": ((3.5, 9.2), (3.5, 11.1)), "conv6": ((2.5, 15.1), (3.3, 26.4))}


def _ends(res, rnd: int, cond: str):
    """Per trial: still improving at its last evaluation (its early stop is then a bound)."""
    return res.per_trial(rnd, cond, "early_stop_at_end")


def rows(res, model: str) -> list[dict]:
    """The paper's claims about Conv-2/4/6 (Section 3, Figure 5) tested on ``res``, a run with
    tickets and ``random_reinit`` networks, paired by trial: tickets sooner than the dense network
    at the level nearest the paper's best speed-up (a ratio, tested on the log scale: the paired
    interval of log ticket − log dense, held to the paper's ratio as its effect), more
    accurate at the level nearest its best gain (at early stop, and at the end of training; held
    to the paper's +points only on CIFAR-10, whose points they are), and more accurate than their
    reinitializations at the sparsest level (which must have them). Each row also holds
    ``level`` (the percent of weights it was tested at) and ``capped`` (how many of the networks
    compared were still improving at their end, of how many)."""
    (speed, speed_at), (gain, gain_at) = BEST[model]
    name, means = NAMES[model], res.means()
    last = max(r["round"] for r in res.runs if r["condition"] == "random_reinit")
    if last != max(r["round"] for r in res.runs):
        raise ValueError(f"the sparsest level of this run has no random reinitializations (they stop at round {last}): "
                         "the claim about the sparsest level cannot be tested on it")
    dense_stop = res.per_trial(0, "ticket", "early_stop_iteration")
    s, g = res.level_nearest(speed_at), res.level_nearest(gain_at)
    pct = lambda rnd: float(means.loc[(rnd, "ticket")].percent_remaining)
    stop_s = res.per_trial(s, "ticket", "early_stop_iteration")
    ends_s, ends_0 = _ends(res, s, "ticket"), _ends(res, 0, "ticket")
    speed_row = claims.paired_row(f"{name}: tickets reach minimum validation loss sooner than the dense network",
                                  f"{speed}× sooner at {speed_at}%", f"at {pct(s):.1f}%: ", stop_s, dense_stop,
                                  "lower", at_end=(ends_s, ends_0), speedup=(speed, f"{speed}×", "dense ÷ ticket"),
                                  names=("tickets", "dense networks"))
    rows = [dict(speed_row, level=pct(s), capped=claims.still_improving(ends_s, ends_0))]
    for key, when in (("early_stop_test_acc", "at early stop"), ("final_test_acc", "at the end of training")):
        acc_g, dense_k = res.per_trial(g, "ticket", key), res.per_trial(0, "ticket", key)
        ends_g = _ends(res, g, "ticket")
        rows.append(dict(claim=f"{name}: tickets are more accurate than the dense network ({when})",
                         paper=f"+{gain} points at {gain_at}%" if key == "early_stop_test_acc" else
                         "not reported (the same claim, tested at the end of training)",
                         **{"this run": f"at {pct(g):.1f}%: {stats.brief(acc_g, dense_k)}"},
                         verdict=verdicts.verdict(acc_g, dense_k, "higher", at_end=(ends_g, ends_0), unit="points",
                                                  names=("tickets", "dense networks"),
                                                  effect=claims.paper_points(gain, model, res.config.get("dataset"))
                                                  if key == "early_stop_test_acc" else None),
                         level=pct(g), capped=claims.still_improving(ends_g, ends_0)))
    t_acc = res.per_trial(last, "ticket", "early_stop_test_acc")
    r_acc = res.per_trial(last, "random_reinit", "early_stop_test_acc")
    ends_t, ends_r = _ends(res, last, "ticket"), _ends(res, last, "random_reinit")
    rows.append(dict(claim=f"{name}: at the sparsest level, random reinitializations are less accurate than tickets",
                     paper="reinitialized networks fall behind as pruning proceeds",
                     **{"this run": f"at {pct(last):.1f}%: ticket − reinit {stats.brief(t_acc, r_acc)}"},
                     verdict=verdicts.verdict(t_acc, r_acc, "higher", at_end=(ends_t, ends_r), unit="points",
                                              names=("tickets", "random reinitializations")),
                     level=pct(last), capped=claims.still_improving(ends_t, ends_r)))
    return rows


def tally(rows: list[dict]) -> str:
    """How the tests of ``rows`` came out: '1 reproduced, 2 contradicted, 1 not testable', or
    'all 4 contradicted'."""
    words = [verdicts.outcome(r["verdict"]) for r in rows]
    if len(set(words)) == 1:
        return f"all {len(words)} {words[0]}"
    return ", ".join(f"{words.count(w)} {w}" for w in verdicts.WORDS if words.count(w))


def _word(row: dict) -> str:
    """A row's verdict as the summary says it: its rung, and 'though smaller than the paper's'
    where the run reproduced less than the paper's effect; where the run cannot test the claim,
    why (networks still improving, a diverged one)."""
    rung = verdicts.outcome(row["verdict"])
    return f"*{rung}*" + (", though smaller than the paper's" if row["verdict"].startswith("reproduced, though smaller")
                         else f" — {row['verdict'].split(': ', 1)[1]}" if rung == "not testable" else "")


def _here(row: dict) -> str:
    """This run's number in a row, without its interval: 'dense ÷ ticket 0.80×', '−10.1 points'."""
    return row["this run"].split(": ", 1)[-1].split(" (")[0]


def said(rows: list[dict]) -> str:
    """The paper's three claims in the four tests of :func:`rows` (one network, one run), in
    words: each claim with the paper's number, the level it was tested at, its verdict and this
    run's number beside it."""
    sooner, at_stop, at_end, reinit = rows
    return (f"The paper's claim that tickets reach minimum validation loss sooner than the dense network "
            f"({sooner['paper']}), tested at {sooner['level']:.1f}% of the weights (here {_here(sooner)}): "
            f"{_word(sooner)}. That tickets are more accurate than the dense network ({at_stop['paper']}, at early "
            f"stopping), tested at {at_stop['level']:.1f}% (here {_here(at_stop)} at early stopping, "
            f"{_here(at_end)} at the end of training): {_word(at_stop)} at early stopping, {_word(at_end)} at the end "
            f"of training. That at the sparsest level, {reinit['level']:.1f}%, tickets are more accurate than their "
            f"random reinitializations (the paper: {reinit['paper']}; here {_here(reinit)}): {_word(reinit)}.")


def story(tables: dict[str, list[dict]]) -> str:
    """What the full runs show, in words, one paragraph per run (``tables`` as for
    :func:`lt_helpers.claims.side_by_side`: a run's name -> :func:`rows` on it), then the legend
    of the verdict words (the intervals: in the chapter's evidence)."""
    out = [f"**{name}** ({len(rows_)} tests: {tally(rows_)}). {said(rows_)}" for name, rows_ in tables.items()]
    return "\n\n".join(out) + "\n\n" + lesson.LEGEND
