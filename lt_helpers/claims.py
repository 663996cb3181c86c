"""The paper's claims tested on runs: verdicts, claims tables, and the claims themselves.

A chapter never types "reproduced" or "supports": :func:`verdict` decides it from the paired
comparison (:mod:`lt_helpers.stats`, whose :func:`compare` and :func:`brief` word the numbers
and are re-exported here), says "not testable" where the run cannot tell, and the functions
below test the paper's claims on a run's records: one level (:func:`row`), every level
(:func:`scan`), the paper's LeNet claims (:func:`lenet_rows`), chapter 6's controls
(:func:`control_rows`), several runs side by side (:func:`side_by_side`, :func:`disagreements`).
"""

from __future__ import annotations

import numpy as np

from .results import val_acc_at_stop

from .stats import Paired, _signed, brief, compare, compare_times, paired, t975  # noqa: F401 (claims' API too)

def verdict(a, b, claimed: str, at_end=None, margin: float | None = None) -> str:
    """The verdict on a claim of the paper that ``a`` is ``'higher'`` (or ``'lower'``) than
    ``b``, tested on this run's values paired by trial: ``'reproduced'`` when the 95%
    interval of ``a - b`` lies on the claimed side of zero, ``'not reproduced: the
    opposite'`` when it lies on the other, ``'not reproduced: no clear difference'`` when
    it covers zero, and ``'not testable: one trial'``. For a claim that the two do *not*
    differ (``'same'``) an interval over zero is ``'consistent: no clear difference'`` (not
    proof of equality: a wide interval is consistent with a lot) and one that excludes
    zero ``'not reproduced: a clear difference'``. For a claim that ``a`` is *at least* ``b``
    (no loss, e.g. "the same accuracy, 9× smaller": ``'at least'``) an interval wholly below
    zero is ``'not reproduced: lower'``, one over zero ``'consistent: no clear difference'``
    and one above zero ``'reproduced: higher'``.

    ``at_end``: for each side, one flag per trial, set where that network was still improving
    at its last evaluation (``early_stop_at_end``). Where most networks of either side were,
    their early stops and accuracies are what the training length left, not what the networks
    reach, and the verdict is ``'not testable: …'`` with the count: a longer run decides.

    ``margin``, for ``'same'`` and ``'at least'``: how far apart two results may be and still
    count as alike (e.g. 1 point). Then an interval inside ``±margin`` (for ``'at least'``:
    above ``−margin``) is ``'reproduced: within …'``, one wholly beyond the margin is not
    reproduced, and one that reaches across the margin cannot show the two alike nor apart by
    more than it, however it is centred, even clear of zero: ``'not testable: …'`` (more trials
    decide)."""
    if claimed not in ("higher", "lower", "same", "at least"):
        raise ValueError(f"claimed must be 'higher', 'lower', 'same' or 'at least', got {claimed!r}")
    lost = int(np.isnan(np.asarray(a, dtype=float)).sum() + np.isnan(np.asarray(b, dtype=float)).sum())
    if lost:
        return f"not testable: {lost} network(s) diverged (their loss became NaN), so there is nothing to compare"
    p = paired(a, b)
    if p.n < 2:
        return "not testable: one trial"
    for side, flags in zip(("first", "second"), at_end or ()):
        flags = np.asarray(flags, dtype=bool)
        if flags.sum() * 2 > len(flags):
            return (f"not testable: {int(flags.sum())} of {len(flags)} networks on the {side} side were still improving "
                    "at their end (a longer run decides)")
    if claimed in ("same", "at least") and margin is not None:  # equivalence: the interval against ±margin
        if claimed == "at least" and p.above:
            return "reproduced: higher"
        if p.low >= -margin and (claimed == "at least" or p.high <= margin):
            return f"reproduced: within {'±' if claimed == 'same' else '−'}{margin:g} (95% interval)"
        if p.high < -margin or (claimed == "same" and p.low > margin):  # wholly beyond the margin
            return "not reproduced: a clear difference" if claimed == "same" else "not reproduced: lower"
        bound = f"below −{margin:g}, so it cannot show the first no worse" if claimed == "at least" else \
            f"beyond ±{margin:g}, so it cannot show the two alike"
        return (f"not testable: the 95% interval ({_signed(p.low, 1)} to {_signed(p.high, 1)}) reaches {bound} "
                "(more trials decide)")
    if claimed == "same":
        return "not reproduced: a clear difference" if p.clear else "consistent: no clear difference"
    if claimed == "at least":
        return ("reproduced: higher" if p.diff > 0 else "not reproduced: lower") if p.clear else \
            "consistent: no clear difference"
    if not p.clear:
        return "not reproduced: no clear difference"
    return "reproduced" if (p.diff > 0) == (claimed == "higher") else "not reproduced: the opposite"


def table(rows: list[dict]):
    """The paper's claims beside this run's numbers, as a table that shows every word
    (a pandas Styler): each row a dict with ``claim``, ``paper``, ``this run`` and ``verdict``."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["claim", "paper", "this run", "verdict"])
    return frame.style.hide(axis="index").set_properties(**{"text-align": "left", "vertical-align": "top"})


# --- the paper's LeNet claims, tested on a full run ------------------------------------------

STOP, ACC, FINAL = "early_stop_iteration", "early_stop_test_acc", "final_test_acc"
MATCH = "match_iteration"  # the hypothesis's own criterion, computed from the curves (see match_iterations)


def match_iterations(run, rnd: int, condition: str) -> tuple[np.ndarray, int]:
    """The hypothesis's own speed criterion, per trial: the first evaluation at which the
    ``condition`` network of round ``rnd`` reaches the validation accuracy that the same
    trial's dense network had at its early stop ("matches the dense network's accuracy in at
    most as many iterations"). Validation, not test: the test set chooses nothing, and the
    early stop it is held to was chosen on validation too. A network that never reaches it
    gets the iteration after its last evaluation, a lower bound; the second value counts them.
    The early-stopping iteration, the paper's proxy for the same thing, can disagree with it."""
    curves = {(r["trial"], r["round"], r["condition"]): r for r in run.runs}
    trials = sorted(t for (t, r, c) in curves if r == rnd and c == condition)
    if not trials:
        raise ValueError(f"no {condition!r} networks at round {rnd} in this run")
    values, never = [], 0
    for t in trials:
        dense = curves.get((t, 0, "ticket")) or curves[(t, 0, "dense")]  # run_imp's records, or a chapter's own
        if curves[(t, rnd, condition)].get("diverged") or dense.get("diverged"):
            values.append(float("nan"))  # no accuracy to reach, or none reached: nothing to compare
            continue
        target = val_acc_at_stop(dense)
        curve = curves[(t, rnd, condition)]["curve"]
        reached = [i for i, a in zip(curve["iteration"], curve["val_acc"]) if a is not None and a >= target]
        if reached:
            values.append(reached[0])
        else:
            never += 1
            step = curve["iteration"][-1] - curve["iteration"][-2] if len(curve["iteration"]) > 1 else 1
            values.append(curve["iteration"][-1] + step)
    return np.array(values, dtype=float), never


def paired_row(claim: str, paper: str, where: str, a, b, claimed: str, unit="points", digits=1, at_end=None,
               margin: float | None = None) -> dict:
    """A row of :func:`table` from paired samples ``a`` and ``b`` (one value per trial): the
    claim, what the paper says, this run's difference with its interval (after ``where``, e.g.
    ``'at 21.1%: '``) and the :func:`verdict` (``at_end``, ``margin`` as it takes them)."""
    return {"claim": claim, "paper": paper, "this run": where + brief(a, b, unit, digits),
            "verdict": verdict(a, b, claimed, at_end, margin)}


def row(run, text: str, paper: str, level: int, a, b, claimed: str, unit="points", digits=1,
        margin: float | None = None, b_run=None) -> dict:
    """One claim tested on ``run`` (an :class:`lt_helpers.iterative.Results`) at round ``level``, as
    a row of :func:`table`: ``a`` and ``b`` are ``(record key, condition)``, the condition
    ``'dense'`` meaning round 0's network; paired by trial. ``b_run``: take ``b`` from this other
    run of the same trials (e.g. the dense network of another learning rate, from the same θ0).
    The row also holds ``capped``: how many of the networks compared were still improving at
    their last evaluation, of how many."""
    frame, other = run.frame(), b_run or run
    (key_a, cond_a), (key_b, cond_b) = a, b
    round_b, cond_b = (0, "ticket") if cond_b == "dense" else (level, cond_b)  # the dense network: round 0
    pct = frame[frame["round"] == level].percent_remaining.mean()
    if key_a == MATCH:  # the criterion: capped are the networks that never reached the dense accuracy
        (values_a, never_a), (values_b, never_b) = match_iterations(run, level, cond_a), match_iterations(other, round_b, cond_b)
        capped = (never_a + never_b, len(values_a) + len(values_b))
        at_end = None  # never reaching the dense accuracy is a finding, not a run cut short
    else:
        values_a, values_b = run.per_trial(level, cond_a, key_a), other.per_trial(round_b, cond_b, key_b)
        at_end = (run.per_trial(level, cond_a, "early_stop_at_end"), other.per_trial(round_b, cond_b, "early_stop_at_end"))
        capped = (int(sum(x.sum() for x in at_end)), len(values_a) + len(values_b))
    return {**paired_row(text, paper, f"at {pct:.1f}%: ", values_a, values_b, claimed, unit, digits, at_end, margin),
            "capped": capped}


def lenet_rows(run) -> list[dict]:
    """The paper's claims about LeNet (Section 2, Figures 3-5), each tested on ``run`` (an
    :class:`lt_helpers.iterative.Results` with tickets, ``random_reinit`` and ``oneshot``
    networks) at the level nearest the one the paper names, paired by trial. Each row:
    ``claim``, ``paper``, ``this run`` (the level and the paired difference), ``verdict``,
    and ``capped``, how many of the networks compared were still improving at their last
    evaluation, of how many (their early stop is then a bound, not a measurement)."""
    rows = []
    claim = lambda *args: rows.append(row(run, *args))
    for p in (51.3, 21.1):
        claim("tickets match the dense network's accuracy in fewer iterations (the hypothesis's own criterion: "
              "first evaluation reaching the dense network's validation accuracy at its early stop)",
              f"yes at {p}%, measured there by the early stop (next row)", run.level_nearest(p),
              (MATCH, "ticket"), (MATCH, "dense"), "lower", "iterations", 0)
        claim("tickets reach minimum validation loss sooner than the dense network (the paper's proxy)",
              f"yes, at {p}%" + (" (38% sooner)" if p == 21.1 else ""), run.level_nearest(p),
              (STOP, "ticket"), (STOP, "dense"), "lower", "iterations", 0)
    for key, when in ((ACC, "at early stop"), (FINAL, "at the end of training")):
        claim(f"tickets are more accurate than the dense network ({when})",
              "more than +0.3 points at 13.5%" if key == ACC else
              "not reported (the same claim, tested at the end of training)",
              run.level_nearest(13.5), (key, "ticket"), (key, "dense"), "higher")
    level = run.level_nearest(21.1)
    claim("tickets match the dense network's accuracy sooner than their random reinitializations (the criterion)",
          "yes at 21%, measured there by the early stop (next row)", level, (MATCH, "ticket"), (MATCH, "random_reinit"),
          "lower", "iterations", 0)
    claim("tickets reach minimum validation loss sooner than their random reinitializations", "2.51× sooner at 21%",
          level, (STOP, "ticket"), (STOP, "random_reinit"), "lower", "iterations", 0)
    claim("tickets are more accurate than their random reinitializations", "about +0.5 points at 21%",
          level, (ACC, "ticket"), (ACC, "random_reinit"), "higher")
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
              f"higher for 95.0% ≥ Pm ≥ 5.17% (tested at the level nearest {p}%)", run.level_nearest(p),
              (ACC, "oneshot"), (ACC, "dense"), "higher")
    claim("tickets return to the dense network's accuracy near 3.6% (the same to within 1 point)",
          "yes: no longer above it there", run.level_nearest(3.6), (ACC, "ticket"), (ACC, "dense"), "same", "points",
          1, 1.0)
    claim("random reinitializations are less accurate than the dense network from 21.1% on", "yes (Figure 3)",
          run.level_nearest(21.1), (ACC, "random_reinit"), (ACC, "dense"), "lower")
    return rows


def scan(run, a, b) -> dict[str, list[int]]:
    """A claim tested at every pruned level of ``run`` instead of one chosen level: ``a`` and
    ``b`` as for :func:`row` (``(key, condition)``, ``'dense'`` for round 0's network). Returns
    the rounds where ``a`` is clearly above ``b`` (``'above'``), clearly below (``'below'``),
    and where the run cannot tell (``'unclear'``), each paired by trial."""
    (key_a, cond_a), (key_b, cond_b) = a, b
    out = {"above": [], "below": [], "unclear": []}
    has = lambda cond: {r["round"] for r in run.runs if r["condition"] == cond and r["round"] > 0}
    for level in sorted(has(cond_a) & (has(cond_a) if cond_b == "dense" else has(cond_b))):  # where both trained
        round_b, cond = (0, "ticket") if cond_b == "dense" else (level, cond_b)
        if key_a == MATCH:
            p = paired(match_iterations(run, level, cond_a)[0], match_iterations(run, round_b, cond)[0])
        else:
            p = paired(run.per_trial(level, cond_a, key_a), run.per_trial(round_b, cond, key_b))
        out["above" if p.above else "below" if p.below else "unclear"].append(level)
    return out


def stretches(run, rounds: list[int]) -> str:
    """Rounds worded as runs of consecutive levels by their percent of weights remaining:
    ``'from 32.9% to 5.6% and at 3.6%'`` (``'at no level'`` for none)."""
    if not rounds:
        return "at no level"
    frame = run.frame()
    pct = lambda r: frame[frame["round"] == r].percent_remaining.mean()
    groups: list[list[int]] = []
    for r in sorted(rounds):
        if groups and r == groups[-1][-1] + 1:
            groups[-1].append(r)
        else:
            groups.append([r])
    words = [f"from {pct(g[0]):.1f}% to {pct(g[-1]):.1f}%" if len(g) > 1 else f"at {pct(g[0]):.1f}%" for g in groups]
    return " and ".join(filter(None, [", ".join(words[:-1]), words[-1]]))


def control_levels(run, percents=(7.0, 0.0)) -> list[int]:
    """The rounds of ``run`` that trained chapter 6's controls nearest each of ``percents``
    (0: the sparsest such round), without repeats: a run may train them at a few levels only."""
    f = run.frame()
    f = f[f.condition == "random_reinit"]
    if f.empty:
        raise ValueError("this run trained no random reinitializations: it is not a run of chapter 6's controls")
    return list(dict.fromkeys(int(f.loc[(f.percent_remaining - p).abs().idxmin(), "round"]) for p in percents))


def control_rows(run, percents=(7.0, 0.0)) -> list[dict]:
    """The paper's claims about initialization, and Zhou et al.'s about signs, tested on
    ``run`` (tickets with ``random_reinit``, ``random_prune`` and ``sign_reinit``) at each
    level of :func:`control_levels`, paired by trial; rows as :func:`lenet_rows` gives them."""
    rows = []
    for level in control_levels(run, percents):
        claim = lambda *args: rows.append(row(run, *args[:2], level, *args[2:]))
        claim("tickets reach minimum validation loss sooner than their random reinitializations",
              "yes (reinitialized tickets learn slower)", (STOP, "ticket"), (STOP, "random_reinit"), "lower",
              "iterations", 0)
        claim("tickets are more accurate than their random reinitializations",
              "yes: random reinitializations end less accurate", (ACC, "ticket"), (ACC, "random_reinit"), "higher")
        claim("for LeNet, reinitialized tickets are more accurate than randomly pruned networks", "yes (Appendix E)",
              (ACC, "random_reinit"), (ACC, "random_prune"), "higher")
        claim("the ticket's signs with new magnitudes are as accurate as the ticket",
              "yes: the signs are enough (Zhou et al.)", (ACC, "sign_reinit"), (ACC, "ticket"), "same")
        signs, reinit = run.per_trial(level, "sign_reinit", ACC), run.per_trial(level, "random_reinit", ACC)
        if rows[-1]["verdict"].startswith("consistent") and not paired(signs, reinit).clear:
            rows[-1]["verdict"] = ("not testable: the sign-kept networks are indistinguishable from the ticket and "
                                   f"from plain reinitializations alike ({brief(signs, reinit)} against those)")
    return rows


def side_by_side(tables: dict[str, list[dict]]):
    """The same claims tested on several runs (e.g. ``{"MNIST-1D": rows, "Fashion-MNIST":
    rows}``, each from the same function such as :func:`lenet_rows`), one row per claim: the
    claim, the paper's number, then each run's number and verdict side by side (a pandas
    Styler that shows every word)."""
    import pandas as pd

    names = list(tables)
    lengths = {len(rows) for rows in tables.values()}
    if len(lengths) != 1:
        raise ValueError(f"every run must test the same claims; got {dict((n, len(r)) for n, r in tables.items())}")
    out = []
    for row_set in zip(*tables.values()):
        first = row_set[0]
        if any((r["claim"], r["paper"]) != (first["claim"], first["paper"]) for r in row_set):
            raise ValueError(f"the runs' claims are not in the same order at {first['claim']!r}")
        out.append({"claim": first["claim"], "paper": first["paper"],
                    **{f"{name}: {col}": r[col] for name, r in zip(names, row_set) for col in ("this run", "verdict")}})
    frame = pd.DataFrame(out)
    return frame.style.hide(axis="index").set_properties(**{"text-align": "left", "vertical-align": "top"})


def _outcome(v: str) -> str:
    """A verdict reduced to what it says: 'reproduced', 'opposite', 'no clear difference',
    'consistent' or 'not testable'."""
    if v.startswith("reproduced"):
        return "reproduced"
    if v.startswith("not testable"):
        return "not testable"
    if v.startswith("consistent"):
        return "consistent"
    said = v.split(": ")[-1]  # 'the opposite', 'lower', 'a clear difference' (against 'same'), 'no clear difference'
    return "opposite" if said in ("the opposite", "lower", "a clear difference") else "no clear difference"


def _described(outcome: str) -> str:
    return {"reproduced": "reproduces it", "opposite": "clearly contradicts it",
            "no clear difference": "cannot decide it: its interval covers zero",
            "consistent": "is consistent with it", "not testable": "cannot test it"}[outcome]


def disagreements(tables: dict[str, list[dict]], reference: str | None = None) -> list[str]:
    """One generated sentence for every claim whose verdicts differ between the runs of
    ``tables`` (as for :func:`side_by_side`): what each run shows, and what the runs
    themselves point to. Where networks compared were still improving at their end, their
    early stops are lower bounds and a longer run has to decide. Otherwise, with
    ``reference`` (the run nearest the paper's setting: the positive control), the sentence
    says whether the paper's result holds there and not on the other run (consistent with
    that run's data set or scale being the cause, which the runs cannot separate from their
    other differences) or the reverse."""
    names, sentences = list(tables), []
    for row_set in zip(*tables.values()):
        outcomes = [_outcome(r["verdict"]) for r in row_set]
        if len(set(outcomes)) == 1:
            continue
        claim, paper = row_set[0]["claim"], row_set[0]["paper"]
        said = "; ".join(f"{n} {_described(o)} ({r['this run']})" for n, o, r in zip(names, outcomes, row_set))
        capped = [(n, r["capped"]) for n, r in zip(names, row_set) if r["capped"][0]]
        held = {n for n, o in zip(names, outcomes) if o == "reproduced"}
        others = [n for n in names if n != reference]
        if capped:
            why = " and ".join(f"on {n} {k} of the {m} networks compared were still improving at their last "
                               "evaluation" for n, (k, m) in capped)
            pointer = (f"{why}, so there the comparison rests partly on early stops that are only lower bounds: a "
                       "longer run would tell whether the data set or the training length decides it")
        elif reference in held:
            whose = "that run's" if len(others) == 1 else "those runs'"
            pointer = (f"the paper's result holds on {reference} and not on {' or '.join(others)}: consistent with "
                       f"{whose} data set or scale being the cause, which these runs cannot separate from their "
                       "other differences")
        elif held:
            missing = [n for n in names if n not in held]
            pointer = f"the paper's result holds on {', '.join(sorted(held))} but not on {' or '.join(missing)}"
        else:
            pointer = "neither run reproduces the paper's result"
        sentences.append(f"**{claim}** — the paper: {paper} — {said}. {pointer[0].upper()}{pointer[1:]}.")
    return sentences


def capped_anywhere(tables: dict[str, list[dict]]) -> int:
    """How many networks compared in ``tables`` were still improving at their end."""
    return sum(r["capped"][0] for rows in tables.values() for r in rows)
