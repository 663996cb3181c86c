"""Claims tested on runs: one row of a claims table, a scan over every level, the tables.

A chapter never types "reproduced" or "supports": :func:`lt_helpers.verdicts.verdict` decides it
from the paired comparison (:mod:`lt_helpers.stats`, whose :func:`~lt_helpers.stats.compare` and
:func:`~lt_helpers.stats.brief` word the numbers) on one ladder: reproduced / inconclusive (the run cannot decide) / not reproduced
(any effect is smaller than the paper's) / contradicted / not testable. A chapter calls them
from their own modules (``stats.compare``, ``verdicts.verdict``); this one builds on them.
A claim that two results are the same is judged against a margin on the run's own scale
(:func:`margin_of`). The functions below test the paper's claims on a run's records: one level
(:func:`row`, with a replicate run beside it where one exists), every level corrected for their
number (:func:`scan`, :func:`scan_words`), several runs side by side (:func:`side_by_side`,
:func:`lt_helpers.verdicts.disagreements`).
"""

from __future__ import annotations

import numpy as np

from . import stats
from .data import PAPER_DATASET, TEST_SIZE
from .results import val_acc_at_stop
from .stats import brief, paired
from .verdicts import DECIDED, outcome, verdict

__all__ = ["row", "still_improving", "paired_row", "table", "side_by_side", "styled",
           "scan", "scan_pairs", "scan_words", "stretches", "match_iterations", "margin_of",
           "paper_points", "DECIDED", "STOP", "ACC", "FINAL", "MATCH", "TEST_SIZE"]


def margin_of(run, key: str = "early_stop_test_acc") -> float:
    """How far apart two results may be and still count as the same, on ``run``'s own scale and
    in the compared quantity's unit: the standard deviation over trials of the dense networks'
    ``key`` (round 0; accuracies in points, iterations in iterations), how far one dense network
    trained from another seed typically lands from their mean on this data set (two of them
    differ by √2 times that). Every "the same / within / returns to / at least as / no more
    than" claim uses it; over 5 trials the estimate itself is uncertain (its 95% range: 0.6 to
    2.9 times it), which the tables' explanations say."""
    spread = float(np.std(run.per_trial(0, "ticket", key), ddof=1))
    if not spread >= 0:
        raise ValueError(f"no margin from this run's dense networks ({key}: {spread}); a diverged network?")
    return spread


def paper_points(points: float, model: str, dataset: str | None) -> float | None:
    """The paper's accuracy gain ``points`` as the ``effect`` a verdict holds a run to, where the
    run is on the paper's own data set for ``model`` (MNIST for LeNet, CIFAR-10 for the conv nets:
    :data:`lt_helpers.data.PAPER_DATASET`); elsewhere None, the claim's direction only. A point
    is not the same size on a data set with another ceiling (0.5 of MNIST's ~2% error is a quarter
    of it; of Fashion-MNIST's ~11%, a twentieth). Speed-ups, ratios, carry over (``speedup=``)."""
    return points if dataset == PAPER_DATASET.get(model) else None


def table(rows: list[dict]):
    """The paper's claims beside this run's numbers, as a table that shows every word
    (a pandas Styler): each row a dict with ``claim``, ``paper``, ``this run`` and ``verdict``."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["claim", "paper", "this run", "verdict"])
    return styled(frame, "claims claims4")


# --- what a claim compares: the quantities of a record, and the hypothesis's own criterion ----

STOP, ACC, FINAL = "early_stop_iteration", "early_stop_test_acc", "final_test_acc"
NETWORKS = {"ticket": "tickets", "dense": "dense networks", "random_reinit": "random reinitializations",
            "oneshot": "one-shot tickets", "random_prune": "randomly pruned networks", "shuffle": "shuffled tickets",
            "sign_reinit": "sign-kept reinitializations"}  # a condition's networks, in a verdict's words
MATCH = "match_iteration"  # the hypothesis's own criterion, computed from the curves (see match_iterations)


def match_iterations(run, rnd: int, condition: str) -> tuple[np.ndarray, int]:
    """The hypothesis's own speed criterion, per trial: the first evaluation at which the
    ``condition`` network of round ``rnd`` reaches the validation accuracy that the same
    trial's dense network had at its early stop ("matches the dense network's accuracy in at
    most as many iterations"). Validation, not test: the test set chooses nothing, and the
    early stop it is held to was chosen on validation too. A network that never reaches it
    gets ``inf`` (censored: it is later than any network that reached it, and the comparison in
    :mod:`lt_helpers.stats` counts it as such, not as a number); the second value counts them.
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
            values.append(float("inf"))
    return np.array(values, dtype=float), never


def paired_row(claim: str, paper: str, where: str, a, b, claimed: str, unit="points", digits=1, at_end=None,
               margin: float | None = None, effect: float | None = None, test_size: int | None = None,
               speedup: tuple[float, str, str] | None = None, names: tuple[str, str] | None = None) -> dict:
    """A row of :func:`table` from paired samples ``a`` and ``b`` (one value per trial): the
    claim, what the paper says, this run's difference with its interval (after ``where``, e.g.
    ``'at 21.1%: '``) and the :func:`verdict` (``at_end``, ``margin``, ``effect`` as it takes
    them, and ``names``, the two sides' networks in words). ``test_size``: for accuracy points
    on a small test set (MNIST-1D's 1,000), the difference is also said in test examples.

    ``speedup``: for a claim that ``a`` comes sooner than ``b`` (iterations) by a factor the
    paper gives: that factor, its words and what ``b ÷ a`` is called, e.g. ``(2.51, "2.51×
    sooner", "reinit ÷ ticket")``. The row then says ``b ÷ a`` (:func:`stats.times`: over 1,
    ``a`` is sooner) and the verdict holds ``log a − log b`` to ``−log factor``: the paper's size,
    free of the run's scale."""
    if speedup:
        if claimed not in ("higher", "lower"):
            raise ValueError(f"a speed-up is a claim of direction ('higher' or 'lower'), not {claimed!r}: its margin "
                             "would be in iterations and the test on the log scale")
        factor, words, called = speedup
        if not (np.all(np.asarray(a) > 0) and np.all(np.asarray(b) > 0)):  # lowest at iteration 0: no ratio
            return {"claim": claim, "paper": paper, "this run": f"{where}{called}: a network never improved",
                    "verdict": "not testable: a network's validation loss was lowest at iteration 0 (it never improved)"}
        return {"claim": claim, "paper": paper, "this run": f"{where}{called} {stats.times(b, a)}",
                "verdict": verdict(np.log(a), np.log(b), claimed, at_end, margin, -float(np.log(factor)),
                                   f"the paper's {words}", "log iterations", names)}
    said, p = brief(a, b, unit, digits), paired(a, b)
    if test_size and test_size <= 2000 and unit == "points" and not p.censored:
        said += f"; {stats.examples(p.diff, test_size)}"
    return {"claim": claim, "paper": paper, "this run": where + said,
            "verdict": verdict(a, b, claimed, at_end, margin, effect, unit=unit, names=names)}


def _where(level: int, condition: str) -> tuple[int, str]:
    """The round and record condition of ``condition`` at ``level``: ``'dense'`` is round 0's ticket."""
    return (0, "ticket") if condition == "dense" else (level, condition)


def _values(run, level: int, condition: str, key: str):
    """One value per trial for a row or a scan: ``key`` of ``condition`` at round ``level``
    (``'dense'``: round 0's network), or the criterion's iterations (``inf``: never reached)."""
    rnd, cond = _where(level, condition)
    return match_iterations(run, rnd, cond)[0] if key == MATCH else run.per_trial(rnd, cond, key)


def still_improving(*ends) -> tuple[int, int]:
    """A claims row's ``capped``: of the networks compared (``ends``, one flag per trial per side,
    ``early_stop_at_end``), how many were still improving at their last evaluation, of how many."""
    return int(sum(e.sum() for e in ends)), int(sum(len(e) for e in ends))


def row(run, text: str, paper: str, level: int, a, b, claimed: str, unit="points", digits=1,
        margin: float | None = None, b_run=None, effect: float | None = None, replicate=None,
        speedup: tuple[float, str, str] | None = None) -> dict:
    """One claim tested on ``run`` (an :class:`lt_helpers.iterative.Results`) at round ``level``, as
    a row of :func:`table`: ``a`` and ``b`` are ``(record key, condition)``, the condition
    ``'dense'`` meaning round 0's network; paired by trial. ``b_run``: take ``b`` from this other
    run of the same trials (e.g. the dense network of another learning rate, from the same θ0).
    A claim of sameness (``'same'``, ``'at least'``, ``'at most'``) takes its margin from
    the :func:`margin_of` the run ``b`` comes from unless given; ``effect``: the paper's ``a - b``.
    The row also holds ``capped``: how many of the networks compared were still improving at
    their last evaluation, of how many, and ``never``: for the criterion, how many never reached
    the target (censored: compared by their order).

    ``replicate``: a second run of the same trials (another run that re-trained the same
    tickets); where it has both conditions at ``level``, the row shows its number and verdict
    too (``replicate``) and ``robust`` says whether the two verdicts agree.

    ``speedup``: for a claim the paper sizes as a speed-up, as :func:`paired_row` takes it."""
    other = b_run or run
    (key_a, cond_a), (key_b, cond_b) = a, b
    if claimed in ("same", "at least", "at most") and margin is None:
        margin = round(margin_of(other, STOP if key_b == MATCH else key_b), 2)
    frame = run.frame()
    pct = frame[frame["round"] == level].percent_remaining.mean()
    values_a, values_b = _values(run, level, cond_a, key_a), _values(other, level, cond_b, key_b)
    never = int(np.isinf(values_a).sum() + np.isinf(values_b).sum()) if key_a == MATCH else 0
    if key_a == MATCH:  # never reaching the dense accuracy is a finding (censored), not a run cut short
        capped, at_end = (0, len(values_a) + len(values_b)), None
    else:
        at_end = (run.per_trial(level, cond_a, "early_stop_at_end"),
                  other.per_trial(*_where(level, cond_b), "early_stop_at_end"))
        capped = still_improving(*at_end)
    size = TEST_SIZE.get(run.config.get("dataset")) if isinstance(run.config, dict) else None
    names = tuple(NETWORKS.get(c, f"{c} networks") for c in (cond_a, cond_b))
    out = {**paired_row(text, paper, f"at {pct:.1f}%: ", values_a, values_b, claimed, unit, digits, at_end,
                        margin, effect, size, speedup, names), "capped": capped, "never": never}
    if replicate is not None and b_run is None and _has(replicate, level, cond_a) and _has(replicate, level, cond_b):
        again = row(replicate, text, paper, level, a, b, claimed, unit, digits, margin, effect=effect, speedup=speedup)
        out["replicate"] = {**{k: again[k] for k in ("verdict", "capped")}, "this run": again["this run"].split("; about")[0]}
        out["agree"] = outcome(again["verdict"]) == outcome(out["verdict"])
        out["robust"] = out["agree"] and outcome(out["verdict"]) in DECIDED  # undecided twice is not robust
    return out


def _has(run, level: int, condition: str) -> bool:
    rnd, cond = _where(level, condition)
    return any(r["round"] == rnd and r["condition"] == cond for r in run.runs)


def scan(run, a, b) -> dict[str, list[int]]:
    """A claim tested at every pruned level of ``run`` instead of one chosen level: ``a`` and
    ``b`` as for :func:`row` (``(key, condition)``, ``'dense'`` for round 0's network), paired by
    trial. Returns the rounds where ``a`` is clearly above ``b`` (``'above'``), clearly below
    (``'below'``) and where the run cannot tell (``'unclear'``) *after* correcting for the
    number of levels tested (Benjamini–Hochberg, :func:`lt_helpers.stats.corrected`), and
    ``'above uncorrected'`` / ``'below uncorrected'``: each level's own 95% decision, for the
    marks in a figure; a sentence quotes the corrected ones."""
    (key_a, cond_a), (key_b, cond_b) = a, b
    has = lambda cond: {r["round"] for r in run.runs if r["condition"] == cond and r["round"] > 0}
    levels = sorted(set.intersection(*(has(c) for c in (cond_a, cond_b) if c != "dense")))  # where both trained
    return scan_pairs({level: (_values(run, level, cond_a, key_a), _values(run, level, cond_b, key_b))
                       for level in levels})


def scan_pairs(pairs: dict) -> dict[str, list]:
    """:func:`scan`'s decision for any family of paired samples, ``{level: (a, b)}``: which levels
    are clearly above, below or unclear after the Benjamini–Hochberg correction, and the
    uncorrected calls (``'above uncorrected'``, ``'below uncorrected'``); ``'one way'``: levels
    where networks that never reached a target left only the order, every trial went the same
    way, and there were too few trials for the sign test to decide."""
    out = {"above": [], "below": [], "unclear": [], "above uncorrected": [], "below uncorrected": [], "one way": []}
    tests = {level: paired(a, b) for level, (a, b) in pairs.items()}
    adjusted = stats.corrected([p.p_value if p.n >= 2 else np.nan for p in tests.values()])
    for (level, p), q in zip(tests.items(), adjusted):
        side = "above" if p.diff > 0 else "below"
        if p.clear:
            out[f"{side} uncorrected"].append(level)
        out[side if p.clear and q < stats.ALPHA else "unclear"].append(level)
        if p.sign_p is not None and not p.clear and abs(p.diff) == p.n:  # censored, every trial one way
            out["one way"].append(level)
    return out


def stretches(run, rounds: list[int]) -> str:
    """Rounds worded as runs of consecutive levels by their percent of weights remaining:
    ``'from 32.9% to 5.6% and at 3.6%'`` (``'at none of the levels'`` for none)."""
    if not rounds:
        return "at none of the levels"
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


def scan_words(run, scanned: dict, above: str, below: str) -> str:
    """A corrected :func:`scan` in words, leaving out what is empty: ``'clearly more accurate from
    33.4% to 21.6%'``, ``'… and clearly less accurate at 3.9%'``, or ``'neither clearly more accurate
    nor clearly less accurate at any level'``."""
    said = [f"clearly {word} {stretches(run, scanned[side])}" for side, word in (("above", above), ("below", below))
            if scanned[side]]
    said = " and ".join(said) if said else f"neither clearly {above} nor clearly {below} at any level"
    if scanned.get("one way"):
        said += (f" (every trial one way but too few trials for the sign test, where some networks never reached "
                 f"the target: {stretches(run, scanned['one way'])})")
    return said


def side_by_side(tables: dict[str, list[dict]]):
    """The same claims tested on several runs (e.g. ``{"MNIST-1D": rows, "Fashion-MNIST":
    rows}``, each from the same function such as :func:`lt_helpers.paper.lenet.rows`), one row per claim: the
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
    return styled(pd.DataFrame(out), "claims claims-wide" if len(names) > 1 else "claims")  # 6+ columns: stacked


def styled(frame, classes: str):
    """A claims table as the book shows it: every word, top-aligned; on a phone its cells stack
    (the book's CSS reads the table's classes; ``claims-wide``: stacked at every width)."""
    return (frame.style.hide(axis="index").set_properties(**{"text-align": "left", "vertical-align": "top"})
            .set_table_attributes(f'class="{classes}"'))


