"""The paper's claims about LeNet-300-100 on MNIST (Section 2, Figures 3 and 4) and about what a
ticket keeps of its initialization (Appendix E; Zhou et al. 2019 on signs), with the paper's
numbers, tested on a run: each claim at the level nearest the one the paper names, paired by
trial, as a row of a claims table (:func:`lt_helpers.claims.row`)."""

from __future__ import annotations

import numpy as np

from .. import lesson, verdicts
from ..claims import ACC, FINAL, MATCH, STOP, paper_points, row
from ..stats import brief, paired, signed
from ..verdicts import outcome

__all__ = ["rows", "control_levels", "control_rows", "HEADLINES", "headlines", "story"]


def rows(run, replicate=None) -> list[dict]:
    """The paper's claims about LeNet (Section 2, Figures 3 and 4), each tested on ``run`` (an
    :class:`lt_helpers.iterative.Results` with tickets, ``random_reinit`` and ``oneshot``
    networks) at the level nearest the one the paper names, paired by trial. Each row:
    ``claim``, ``paper``, ``this run`` (the level and the paired difference), ``verdict``,
    and ``capped``, how many of the networks compared were still improving at their last
    evaluation, of how many (their early stop is then a bound, not a measurement); with a
    ``replicate`` run of the same trials, its number and verdict where it has the networks
    (see :func:`row`). Where the paper reports a size, the verdict holds the run to it: a
    speed-up as a ratio (on the log scale, free of the run's scale), accuracy in MNIST's points
    on MNIST only (:func:`lt_helpers.claims.paper_points`; elsewhere, their direction)."""
    rows = []
    claim = lambda *args, **kw: rows.append(row(run, *args, replicate=replicate, **kw))
    data = run.config.get("dataset") if isinstance(run.config, dict) else None
    for p in (51.3, 21.1):
        level = run.level_nearest(p)
        claim("tickets match the dense network's accuracy in fewer iterations (the hypothesis's own criterion: "
              "first evaluation reaching the dense network's validation accuracy at its early stop)",
              f"yes at {p}%, measured there by the early stop (next row)", level,
              (MATCH, "ticket"), (MATCH, "dense"), "lower", "iterations", 0)
        claim("tickets reach minimum validation loss sooner than the dense network (the paper's proxy)",
              f"yes, at {p}%" + (" (38% sooner)" if p == 21.1 else ""), level,
              (STOP, "ticket"), (STOP, "dense"), "lower", "iterations", 0,
              speedup=(1 / (1 - 0.38), "38% sooner (1.61×)", "dense ÷ ticket") if p == 21.1 else None)
    for key, when in ((ACC, "at early stop"), (FINAL, "at the end of training")):
        claim(f"tickets are more accurate than the dense network ({when})",
              "more than +0.3 points at 13.5%" if key == ACC else
              "not reported (the same claim, tested at the end of training)",
              run.level_nearest(13.5), (key, "ticket"), (key, "dense"), "higher",
              effect=paper_points(0.3, "lenet_300_100", data) if key == ACC else None)
    level = run.level_nearest(21.1)
    claim("tickets match the dense network's accuracy sooner than their random reinitializations (the criterion)",
          "yes at 21%, measured there by the early stop (next row)", level, (MATCH, "ticket"), (MATCH, "random_reinit"),
          "lower", "iterations", 0)
    claim("tickets reach minimum validation loss sooner than their random reinitializations", "2.51× sooner at 21%",
          level, (STOP, "ticket"), (STOP, "random_reinit"), "lower", "iterations", 0,
          speedup=(2.51, "2.51× sooner", "reinit ÷ ticket"))
    claim("tickets are more accurate than their random reinitializations", "about +0.5 points at 21%",
          level, (ACC, "ticket"), (ACC, "random_reinit"), "higher", effect=paper_points(0.5, "lenet_300_100", data))
    for p in (67.5, 51.3, 21.1, 17.6):  # the paper's range, tested at both ends and within
        claim("one-shot tickets reach minimum validation loss sooner than the dense network",
              f"yes, from 67.5% to 17.6% (tested at the level nearest {p}%)", run.level_nearest(p),
              (STOP, "oneshot"), (STOP, "dense"), "lower", "iterations", 0)
    for p in (7.0, 3.6):
        claim("iterative pruning finds smaller tickets: iterative tickets are more accurate than one-shot ones",
              f"yes (tested at the level nearest {p}%)", run.level_nearest(p), (ACC, "ticket"), (ACC, "oneshot"),
              "higher")
    for p in (51.3, 21.1, 5.17):  # Figure 4's range, tested at both ends and within
        claim("one-shot tickets are more accurate than the dense network",
              f"higher from 95.0% down to 5.17% of the weights (tested at the level nearest {p}%)",
              run.level_nearest(p),
              (ACC, "oneshot"), (ACC, "dense"), "higher")
    claim("tickets return to the dense network's accuracy near 3.6% (the same, to within the dense networks' "
          "trial-to-trial spread)", "yes: no longer above it there", run.level_nearest(3.6), (ACC, "ticket"),
          (ACC, "dense"), "same", "points", 1)
    claim("random reinitializations are less accurate than the dense network from 21.1% on", "yes (Figure 3)",
          run.level_nearest(21.1), (ACC, "random_reinit"), (ACC, "dense"), "lower")
    return rows


def control_levels(run, percents=(7.0, 0.0)) -> list[int]:
    """The rounds of ``run`` that trained chapter 6's controls nearest each of ``percents``
    (0: the sparsest such round), without repeats: a run may train them at a few levels only."""
    f = run.frame()
    f = f[f.condition == "random_reinit"]
    if f.empty:
        raise ValueError("this run trained no random reinitializations: it is not a run of chapter 6's controls")
    return list(dict.fromkeys(int(f.loc[(f.percent_remaining - p).abs().idxmin(), "round"]) for p in percents))


def control_rows(run, percents=(7.0, 0.0), replicate=None) -> list[dict]:
    """The paper's claims about initialization, and Zhou et al.'s about signs, tested on
    ``run`` (tickets with ``random_reinit``, ``random_prune`` and ``sign_reinit``) at each
    level of :func:`control_levels`, paired by trial; rows as :func:`rows` gives them
    (with a ``replicate``, its verdicts where it trained the same networks)."""
    rows = []
    for level in control_levels(run, percents):
        claim = lambda *args: rows.append(row(run, *args[:2], level, *args[2:], replicate=replicate))
        claim("tickets reach minimum validation loss sooner than their random reinitializations",
              "yes (reinitialized tickets learn slower)", (STOP, "ticket"), (STOP, "random_reinit"), "lower",
              "iterations", 0)
        claim("tickets are more accurate than their random reinitializations",
              "yes: random reinitializations end less accurate", (ACC, "ticket"), (ACC, "random_reinit"), "higher")
        claim("for LeNet, reinitialized tickets are more accurate than randomly pruned networks", "yes (Appendix E)",
              (ACC, "random_reinit"), (ACC, "random_prune"), "higher")
        claim("the ticket's signs with new magnitudes are as accurate as the ticket (the same, to within the dense "
              "networks' trial-to-trial spread)", "yes: the signs are enough (Zhou et al.)", (ACC, "sign_reinit"),
              (ACC, "ticket"), "same")
        signs, reinit = run.per_trial(level, "sign_reinit", ACC), run.per_trial(level, "random_reinit", ACC)
        ticket = run.per_trial(level, "ticket", ACC)
        lead = float(np.mean(ticket - reinit))
        if paired(ticket, reinit).above:  # the effect size that matters: how much of a clear lead the signs keep
            rows[-1]["this run"] += (f"; keeps {100 * float(np.mean(signs - reinit)) / lead:.0f}% of the ticket's "
                                     f"{signed(lead, 1)}-point lead over reinitialization")
        if outcome(rows[-1]["verdict"]) in ("reproduced", "inconclusive") and not paired(signs, reinit).clear:
            rows[-1]["verdict"] = ("not testable: the sign-kept networks are indistinguishable from the ticket and "
                                   f"from plain reinitializations alike ({brief(signs, reinit)} against those)")
    return rows


# The LeNet claims a reader should take away (of rows' twenty): claim text, a word in the
# paper's text that picks the level, and how the summary says it
HEADLINES = [
    ("tickets match the dense network's accuracy in fewer iterations", "21.1%",
     "reach the dense network's accuracy sooner than it does at 21%"),
    ("tickets are more accurate than the dense network (at early stop)", "",
     "are more accurate than the dense network at 13.5%"),
    ("tickets return to the dense network's accuracy near 3.6%", "", "are back to the dense level near 3.6%"),
    ("tickets reach minimum validation loss sooner than their random reinitializations", "",
     "stop sooner than their random reinitializations at 21%"),
    ("tickets are more accurate than their random reinitializations", "",
     "are more accurate than their random reinitializations at 21%"),
]


def _headline_rows(rows: list[dict]) -> list[tuple[str, str]]:
    out = []
    for start, level, said in HEADLINES:
        row = next((r for r in rows if r["claim"].startswith(start) and level in r["paper"]), None)
        if row is None:
            raise ValueError(f"no claim {start!r} in these rows: HEADLINES and rows disagree")
        out.append((said, verdicts.outcome(row["verdict"])))
    return out


def headlines(rows: list[dict]) -> str:
    """The headline LeNet claims on one run in words, grouped by verdict (for a summary): 'tickets
    reach …, are … (*reproduced*); are back … (*inconclusive*).'"""
    said = _headline_rows(rows)
    groups = [(w, [s for s, v in said if v == w]) for w in verdicts.WORDS]
    return "tickets " + "; ".join(f"{', '.join(phrases)} (*{w}*)" for w, phrases in groups if phrases) + "."


def story(tables: dict[str, list[dict]]) -> str:
    """What the full runs show, in words: per data set, how the paper's LeNet tests come out and
    its headline claims with their verdicts (the intervals: in the chapter's evidence)."""
    out = []
    for name, rows in tables.items():
        words = [verdicts.outcome(r["verdict"]) for r in rows]
        counts = ", ".join(f"{words.count(w)} {w}" for w in verdicts.WORDS if words.count(w))
        said = headlines(rows)
        out.append(f"**{name}**: of the paper's {len(rows)} tests, {counts}. " + said[0].upper() + said[1:])
    return "\n\n".join(out) + "\n\n" + lesson.LEGEND
