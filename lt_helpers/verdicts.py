"""The verdict ladder: what a run says of one of the paper's claims, in one word from the paired
95% interval (:func:`verdict`), and what the verdicts of several runs say together
(:func:`agreement`, :func:`disagreements`, :func:`replicated`). :mod:`lt_helpers.claims` builds the rows that
carry them; its users call these through it.

The ladder (:data:`WORDS`): *reproduced* (the interval on the claim's side; for a claim that two
results are the same, inside the margin and not clearly apart) / *inconclusive* (it covers zero
and what the claim needs: the run cannot decide) / *not reproduced* (it excludes the paper's
effect, not zero: any effect is smaller; or two results the claim calls alike clearly apart) /
*contradicted* (clearly the opposite) / *not testable* (the run cannot tell).
"""

from __future__ import annotations

import numpy as np

from .stats import Paired, signed, paired

CLAIMED = ("higher", "lower", "same", "at least", "at most")
WORDS = ("reproduced", "inconclusive", "not reproduced", "contradicted", "not testable")  # the verdict ladder


def _decide(p: Paired, *bounds: float) -> str:
    """'about N trials would decide' (see :meth:`Paired.trials_to_decide`)."""
    n = p.trials_to_decide(*bounds)
    if n is None:
        return "more trials would not move it off the edge"
    return f"at this mean and spread, about {n} trials would decide" if n <= 100 else \
        "at this mean and spread, over 100 trials would decide"


def verdict(a, b, claimed: str, at_end=None, margin: float | None = None, effect: float | None = None,
            effect_said: str | None = None, unit: str | None = None, names: tuple[str, str] | None = None) -> str:
    """The verdict on a claim of the paper about ``a`` against ``b``, tested on this run's values
    paired by trial, on one ladder (:data:`WORDS`):

    * ``reproduced``: the 95% interval of ``a - b`` lies on the claim's side (for a claim that
      the two are the same, inside ``±margin`` and not clearly apart);
    * ``inconclusive``: the interval covers zero *and* what the claim needs (the paper's
      ``effect``, or beyond the margin): the run cannot decide; it says roughly how many trials
      would;
    * ``not reproduced``: the interval excludes the paper's ``effect`` but not zero (any effect
      is smaller than the paper's), or, for a claim of sameness, the two are clearly apart by less
      than the margin;
    * ``contradicted``: clearly the opposite (beyond the margin, for a claim of sameness);
    * ``not testable``: one trial, a diverged network, most networks of a side still improving
      at their end (``at_end``: one flag per trial per side), or a few, where a gain within the
      trials' own spread would change the verdict (:func:`_held_back`).

    ``claimed``: ``'higher'`` or ``'lower'`` (a direction; ``effect`` the paper's reported
    ``a - b``, where it gives one), ``'same'`` (within ``±margin``), ``'at least'`` (no lower
    than ``b - margin``) or ``'at most'`` (no higher than ``b + margin``). The last three need
    ``margin`` (:func:`margin_of`: the comparison's own scale), the same rule for every such claim.
    Where every trial gave the same difference, the exact sign test decides the direction.
    ``effect_said``: the paper's effect in the paper's own words where it reported it on another
    scale (``"the paper's 3.5×"``, where ``a`` and ``b`` are logarithms). ``unit``: what ``a`` and
    ``b`` count (``'points'``, ``'iterations'``, ``'log iterations'``: a ratio, whose "no
    difference" is 1×), and ``names``, the networks of each side in words (``("tickets",
    "random reinitializations")``), for the words about networks still improving."""
    if claimed not in CLAIMED:
        raise ValueError(f"claimed must be one of {', '.join(map(repr, CLAIMED))}, got {claimed!r}")
    if claimed in ("same", "at least", "at most") and margin is None:
        raise ValueError(f"a claim {claimed!r} needs a margin (claims.margin_of(run): the dense networks' "
                         "trial-to-trial spread), or it would tell precision, not the size of a difference")
    if effect is not None and claimed in ("higher", "lower") and (effect > 0) != (claimed == "higher"):
        raise ValueError(f"the paper's effect {effect:+g} points the other way from the claim {claimed!r}")
    lost = int(np.isnan(np.asarray(a, dtype=float)).sum() + np.isnan(np.asarray(b, dtype=float)).sum())
    if lost:
        return f"not testable: {lost} network(s) diverged (their loss became NaN), so there is nothing to compare"
    p = paired(a, b)
    if p.n < 2:
        return "not testable: one trial"
    identical = f"inconclusive: the same difference in all {p.n} trials, too few for the sign test (6 decide)"
    papers = None if effect is None else effect_said or f"the paper's {signed(effect, 0 if abs(effect) >= 10 else 1)}"
    names = names or ("networks the claim is about", "networks they are compared with")
    for name, flags in zip(names, at_end or ()):
        flags = np.asarray(flags, dtype=bool)
        if flags.sum() * 2 > len(flags):
            return (f"not testable: {int(flags.sum())} of the {len(flags)} {name} were still improving "
                    "at their end (a longer run decides)")
    zero = "1× (no speed-up)" if unit == "log iterations" else "zero"  # a ratio's "no difference"
    ladder = lambda a_, b_: _ladder(paired(a_, b_), claimed, margin, effect, papers, identical, zero)
    return _held_back(ladder, np.asarray(a, float), np.asarray(b, float), p, claimed, at_end, unit, names)


def _ladder(p: Paired, claimed: str, margin, effect, papers, identical, zero: str = "zero") -> str:
    """The rung of :func:`verdict` from the paired summary ``p``, as recorded."""
    if claimed in ("higher", "lower"):
        up = claimed == "higher"
        if p.clear and (p.diff > 0) != up:
            return "contradicted: clearly the opposite"
        if p.clear:
            short = effect is not None and not p.censored and (p.high < effect if up else p.low > effect)
            return f"reproduced, though smaller than {papers}" if short else "reproduced"
        if p.censored:
            return (f"inconclusive: {p.censored} network(s) never reached the target, so only the order within each "
                    f"trial counts, and the sign test over {p.n} trials cannot decide (p = {p.sign_p:.2g}; 6 trials "
                    "all one way would)")
        if p.sign_p is not None:
            return identical
        if effect is not None and (p.high < effect if up else p.low > effect):
            return (f"not reproduced: smaller than {papers} (the interval excludes it, not zero)" if zero == "zero" else
                    f"not reproduced: smaller than {papers} (the interval excludes it; it includes 1×: no speed-up)")
        said = f"{zero} and {papers}" if effect is not None else zero
        return f"inconclusive: the interval covers {said} ({_decide(p, 0.0, *(() if effect is None else (effect,)))})"
    if not margin >= 0:
        raise ValueError(f"the margin must be a number at least 0, got {margin!r} (a diverged dense network?)")
    if p.sign_p is not None and p.diff != 0 and not p.clear:  # identical differences, too few for the sign test
        return identical
    m = f"{'±' if claimed == 'same' else '−' if claimed == 'at least' else '+'}{margin:.2g}"
    low_bad, high_bad = claimed in ("same", "at least"), claimed in ("same", "at most")  # the sides the claim denies
    if (low_bad and p.high < -margin) or (high_bad and p.low > margin):
        return f"contradicted: {'lower' if p.diff < 0 else 'higher'} by more than the {m} margin"
    if (low_bad and p.below) or (high_bad and p.above):
        within = (p.low >= -margin) and (p.high <= margin)
        return (f"not reproduced: clearly {'lower' if p.diff < 0 else 'higher'}, "
                + (f"though by less than the {m} margin" if within else f"perhaps by more than the {m} margin"))
    if claimed == "at least" and p.above:
        return "reproduced: higher"
    if claimed == "at most" and p.below:
        return "reproduced: lower"
    if (not low_bad or p.low >= -margin) and (not high_bad or p.high <= margin):
        return f"reproduced: within {m}"
    edge = -margin if claimed == "at least" or (claimed == "same" and p.diff < 0) else margin  # the nearer edge
    return f"inconclusive: the interval reaches beyond the {m} margin ({_decide(p, 0.0, edge)})"



def _leans(v: str, p: Paired, claimed: str) -> tuple[str, ...]:
    """Which way a decided verdict ``v`` needs the true difference ``a - b`` to lie: ``'above'``
    (it rests on the interval's low end, or on trials that went up) and/or ``'below'``."""
    rung = outcome(v)
    if rung not in DECIDED:
        return ()
    if claimed in ("higher", "lower"):
        toward, away = ("above", "below") if claimed == "higher" else ("below", "above")
        # reproduced: on the claim's side; contradicted or short of the paper's effect: the other way
        return (toward,) if rung == "reproduced" else (away,)
    if v.startswith("reproduced: within"):
        return {"same": ("above", "below"), "at least": ("above",), "at most": ("below",)}[claimed]
    return ("above",) if p.diff > 0 else ("below",)


def _held_back(ladder, a: np.ndarray, b: np.ndarray, p: Paired, claimed: str, at_end, unit: str | None,
               names: tuple[str, str]) -> str:
    """The verdict ``ladder(a, b)`` gives, held against the networks still improving at their end.
    Such a network's early stop is a lower bound (its minimum validation loss lies at or after
    its last evaluation), and its accuracy there one that more training would most likely
    raise: its true value is the recorded one or higher, with no bound above. So a network of
    ``a`` still improving pushes ``a - b`` down, one of ``b`` pushes it up; a verdict on the other
    side only gets stronger. For a verdict that needs the difference on the side they push
    toward, the tipping point (:func:`_tipping`): how much higher their values would have to be
    to change it. Where that is within the trial-to-trial spread of their side's values (its
    standard deviation), a shift as small as one seed's luck would change it: not testable.
    Beyond it, the verdict stands and says how much would change it. "Though smaller than the
    paper's" is held the same way, and dropped where it does not stand."""
    v = recorded = ladder(a, b)
    if not at_end:
        return v
    flags = [np.asarray(f, dtype=bool) for f in at_end]
    still = int(sum(f.sum() for f in flags))
    if still and outcome(v) == "inconclusive":  # more trials, or more training: either may decide it
        return (f"{v[:-1]}; {still} network{'s' if still > 1 else ''} compared {'were' if still > 1 else 'was'} "
                "still improving at the end, so a longer run may too)" if v.endswith(")") else v)
    pushing = {"below": 0, "above": 1}  # a verdict needing the difference low is pushed by a's, high by b's
    checks = [(lean, lambda w: outcome(w) == outcome(recorded)) for lean in _leans(recorded, p, claimed)]
    smaller = recorded.startswith("reproduced, though smaller than")
    if smaller:  # the qualifier needs the difference short of the paper's: pushed by the other side
        checks.append(("below" if claimed == "higher" else "above", lambda w: w.startswith("reproduced, though smaller")))
    for n_check, (lean, holds) in enumerate(checks):
        side = pushing[lean]
        capped = flags[side]
        k = int(capped.sum())
        if not k:
            continue
        raised = lambda d: ladder(a + d * capped, b) if side == 0 else ladder(a, b + d * capped)
        values = (a, b)[side]
        spread = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        with np.errstate(invalid="ignore"):  # the search starts at the scale of the values or their differences
            scale = np.nanmax([spread, float(np.nanstd(a - b)), float(np.abs(np.nanmean(a - b))), 1e-9])
        tip = _tipping(raised, holds, float(scale))
        if tip is None:
            continue
        those = (f"{'one' if k == 1 else k} of the {len(capped)} {names[side]} {'was' if k == 1 else 'were'} still "
                 f"improving when training stopped")
        more, own = _amount(tip, unit, k), _amount(spread, unit, 2, bare=True)
        qualifier = smaller and n_check == len(checks) - 1
        if tip <= spread:
            if qualifier:  # only "though smaller than the paper's" fails: drop it
                return (f"reproduced{v[len(recorded):]} (whether by less than {recorded.split('smaller than ', 1)[1]}, "
                        f"a longer run decides: {those}, and {more} would change that)")
            return (f"not testable: {those}, and {more}, within the trials' own spread ({own}), would change it (as "
                    f"it stands: {recorded}); a longer run decides")
        if not qualifier:
            v = f"{v} ({those}; {more} would change this, against a trial-to-trial spread of {own})"
    return v


def _tipping(raised, holds, scale: float) -> float | None:
    """The least ``d`` at which ``raised(d)`` (the verdict with the still-improving networks'
    values raised by ``d``) no longer ``holds``, to 1%; None if it holds up to a million
    times ``scale``."""
    if not np.isfinite(scale):  # censored values (never reached: inf) have no tipping point
        return None
    hi = scale
    while holds(raised(hi)):
        hi *= 2
        if hi > 1e6 * scale:
            return None
    lo = 0.0
    while hi - lo > 0.01 * hi:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if holds(raised(mid)) else (lo, mid)
    return hi


def _amount(d: float, unit: str | None, k: int, bare: bool = False) -> str:
    """``d`` more, in the values' own unit: 'more than 12 further points for it alone',
    'stopping more than 62 iterations later each', 'stopping more than 1.19× later'; with
    ``bare``, the amount alone ('12 points')."""
    each = "" if bare else (" for it alone" if k == 1 else " each")
    if unit == "log iterations":
        return f"{np.exp(d):.2f}×" if bare else f"stopping more than {np.exp(d):.2f}× later{each}"
    if unit == "iterations":
        return f"{d:,.0f} iterations" if bare else f"stopping more than {d:,.0f} iterations later{each}"
    if unit == "points":
        return f"{d:.2g} points" if bare else f"more than {d:.2g} further points{each}"
    return f"{d:.3g}" if bare else f"more than {d:.3g} higher{each}"

def outcome(v: str) -> str:
    """A verdict reduced to its rung of the ladder (:data:`WORDS`): 'reproduced',
    'inconclusive', 'not reproduced', 'contradicted' or 'not testable'."""
    for word in ("not reproduced", "not testable", "reproduced", "inconclusive", "contradicted"):
        if v.startswith(word):
            return word
    raise ValueError(f"not a verdict: {v!r}")


DECIDED = ("reproduced", "not reproduced", "contradicted")  # the rungs on which a run has decided


def _described(rung: str) -> str:
    return {"reproduced": "reproduces it", "contradicted": "clearly contradicts it",
            "not reproduced": "does not reproduce it",
            "inconclusive": "cannot decide it",
            "not testable": "cannot test it"}[rung]


def disagreements(tables: dict[str, list[dict]], reference: str | None = None) -> list[str]:
    """One generated sentence for every claim whose verdicts differ between the runs of
    ``tables`` (as for :func:`side_by_side`): what each run shows, and what the runs themselves
    point to. Where networks compared were still improving at their end, their early stops are
    lower bounds and a longer run has to decide. Where a run is inconclusive or cannot test the
    claim, the sentence says so ("holds on X, inconclusive on Y"): that is no disagreement
    between data sets. Only where every run decides, and the paper's result holds on
    ``reference`` (the run nearest the paper's setting: the positive control) and not on the
    others, does it point to those runs' data set or scale (which the runs cannot separate from
    their other differences)."""
    names, sentences = list(tables), []
    for row_set in zip(*tables.values()):
        rungs = [outcome(r["verdict"]) for r in row_set]
        if len(set(rungs)) == 1:
            continue
        claim, paper = row_set[0]["claim"], row_set[0]["paper"]
        again = lambda r: ("" if r.get("agree", True) else
                           f"; its replicate says {outcome(r['replicate']['verdict'])}, so neither verdict is robust")
        shaky = any(not r.get("agree", True) for r in row_set)
        said = "; ".join(f"{n} {_described(o)} ({r['this run']}{again(r)})" for n, o, r in zip(names, rungs, row_set))
        capped = [(n, r["capped"]) for n, r, o in zip(names, row_set, rungs) if r["capped"][0] and o != "reproduced"]
        held = [n for n, o in zip(names, rungs) if o == "reproduced"]
        undecided = [(n, o) for n, o in zip(names, rungs) if o not in DECIDED]
        others = [n for n in names if n != reference]
        if capped and any(o == "not testable" for o in rungs):
            why = " and ".join(f"on {n} {k} of the {m} networks compared were still improving at their last "
                               "evaluation" for n, (k, m) in capped)
            pointer = (f"{why}, so there the comparison rests partly on early stops that are only lower bounds: a "
                       "longer run would tell whether the data set or the training length decides it")
        elif undecided:
            parts = ([f"the paper's result holds on {' and '.join(held)}"] if held else []) + \
                [f"{o} on {n}" for n, o in zip(names, rungs) if o != "reproduced"]
            pointer = "; ".join(parts) + ": where a run cannot decide there is no disagreement between the data sets to explain"
        elif shaky:
            pointer = "the replicates do not agree, so these runs cannot say whether the data set decides it"
        elif reference in held:
            whose = "that run's" if len(others) == 1 else "those runs'"
            pointer = (f"the paper's result holds on {reference} and not on {' or '.join(others)}, and both runs "
                       f"decide: consistent with {whose} data set or scale being the cause, which these runs cannot "
                       "separate from their other differences")
        elif held:
            missing = [n for n in names if n not in held]
            pointer = f"the paper's result holds on {' and '.join(held)} but not on {' or '.join(missing)}"
        else:
            pointer = "neither run reproduces the paper's result"
        sentences.append(f"**{claim}** — the paper: {paper} — {said}. {pointer[0].upper()}{pointer[1:]}.")
    return sentences


def agreement(tables: dict[str, list[dict]], tests: list[str]) -> str:
    """One sentence: how the verdicts of the runs in ``tables`` (as for :func:`disagreements`)
    compare, test by test (``tests``: each row's short name, in the rows' order): the same
    verdict, decided; decided by neither run; decided by some only (no disagreement to explain);
    decided differently (the case :func:`disagreements` attributes). A test that both runs cannot
    decide is no agreement, and is not counted as one."""
    groups: dict[str, list[str]] = {"same": [], "neither": [], "some": [], "differ": []}
    for name, row_set in zip(tests, zip(*tables.values())):
        rungs = [outcome(r["verdict"]) for r in row_set]
        decided = [o in DECIDED for o in rungs]
        kind = ("same" if len(set(rungs)) == 1 and all(decided) else "neither" if not any(decided) else
                "some" if not all(decided) else "differ")
        groups[kind].append(f"{name} (*{rungs[0]}*)" if kind == "same" else name)
    both = "both runs" if len(tables) == 2 else "every run"
    said = {"same": lambda t: f"{both} give the same verdict on {t}",
            "neither": lambda t: f"neither decides {t}" if len(tables) == 2 else f"no run decides {t}",
            "some": lambda t: f"only one decides {t}, so there is no disagreement to explain",
            "differ": lambda t: f"they decide {t} differently, and the evidence says whether the data set can be "
                                "the reason"}
    joined = "; ".join(said[k](_listed(v)) for k, v in groups.items() if v)
    return f"{joined[0].upper()}{joined[1:]}."


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def replicated(rows: list[dict]) -> list[dict]:
    """Rows whose ``replicate`` (see :func:`row`) is folded into their cells, for a table: the
    number gains the replicate's, the verdict says whether the replicate agrees ("robust") or
    not. Rows without a replicate are unchanged."""
    out = []
    for r in rows:
        if "replicate" not in r:
            out.append(r)
            continue
        again = r["replicate"]
        agree = ("robust to re-training: the replicate agrees" if r["robust"] else
                 "the replicate agrees, and neither decides" if r["agree"] else
                 f"not robust: the replicate says {again['verdict']}")
        out.append({**r, "this run": f"{r['this run']}; replicate {again['this run'].split(': ', 1)[-1]}",
                    "verdict": f"{r['verdict']} ({agree})"})
    return out


def capped_anywhere(tables: dict[str, list[dict]]) -> int:
    """How many networks compared in ``tables`` were still improving at their end."""
    return sum(r["capped"][0] for rows in tables.values() for r in rows)
