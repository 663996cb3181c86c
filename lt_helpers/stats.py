"""Comparisons worded from the numbers, with the uncertainty that decides them.

A chapter never types "faster", "more accurate" or "supports": it asks :func:`compare`,
which pairs two conditions trial by trial (the same trial shares its seed, data order and
initialization, so the difference within a trial is the measurement), and words the mean
difference with its 95% confidence interval (Student's t over the n paired differences).
Where the interval covers zero, the sentence says there is no clear difference; where every
trial gave the same difference, the exact sign test decides.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

# Student's t, 97.5th percentile, by degrees of freedom (a two-sided 95% interval)
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t975(df: int) -> float:
    """The 97.5th percentile of Student's t with ``df`` degrees of freedom (the table's
    nearest smaller entry above 10, which makes the interval slightly wider, never narrower)."""
    if df < 1:
        raise ValueError("a confidence interval needs at least two paired values")
    if df > max(_T975):
        return 1.960
    return _T975[max(k for k in _T975 if k <= df)]


@dataclass(frozen=True)
class Paired:
    """The mean of ``a - b`` over ``n`` paired trials and its 95% interval (nan for n < 2).
    Where every trial gave the same difference the t interval has zero width and says
    nothing; ``sign_p`` then holds the exact two-sided sign test's p-value instead."""

    diff: float
    low: float
    high: float
    n: int
    sign_p: float | None = None

    @property
    def clear(self) -> bool:
        """True when the data decide the direction: the interval excludes zero or, for
        identical differences, the sign test gives p < 0.05 (at least 6 trials)."""
        if self.sign_p is not None:
            return self.diff != 0 and self.sign_p < 0.05
        return self.n >= 2 and (self.low > 0 or self.high < 0)

    @property
    def above(self) -> bool:
        """Clearly above zero: ``a`` is clearly larger than ``b``."""
        return self.clear and self.diff > 0

    @property
    def below(self) -> bool:
        """Clearly below zero: ``a`` is clearly smaller than ``b``."""
        return self.clear and self.diff < 0


def paired(a, b) -> Paired:
    """Pair ``a[i]`` with ``b[i]`` (one value per trial) and return the :class:`Paired` summary."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.ndim != 1 or len(d) == 0:
        raise ValueError(f"need one value per trial on each side, got shapes {np.shape(a)} and {np.shape(b)}")
    mean = float(d.mean())
    if len(d) < 2:
        return Paired(mean, math.nan, math.nan, 1)
    if np.ptp(d) <= 1e-9 * max(1.0, float(np.abs(d).max())):  # equal up to float noise: a zero-width interval,
        # so the exact sign test decides (n equal signs: p = 2 / 2^n)
        return Paired(mean, mean, mean, len(d), sign_p=1.0 if mean == 0 else min(1.0, 2.0 * 0.5 ** len(d)))
    half = t975(len(d) - 1) * float(d.std(ddof=1)) / math.sqrt(len(d))
    return Paired(mean, mean - half, mean + half, len(d))


def _signed(x: float, digits: int) -> str:
    """``x`` with its sign and a typographic minus: ``+2.1``, ``−0.4``; a value that would
    round to zero without being zero gets up to two more digits (``+0.03``, not ``+0.0``);
    float noise (under 1e-9, e.g. a mean of differences that cancel) is zero."""
    x = 0.0 if abs(x) < 1e-9 else x
    for extra in range(3):
        if round(x, digits + extra) != 0 or x == 0:
            break
    return f"{x:+.{digits + extra}f}".replace("-", "−")


def compare(a, b, more: str, less: str, unit: str = "points", digits: int = 1) -> str:
    """A sentence fragment for ``a`` against ``b`` (paired by trial): e.g. ``"more accurate,
    by 2.1 points (95% CI 0.8 to 3.4, paired over 5 trials)"``, or ``"no clear difference
    (+0.3 points, 95% CI -0.9 to 1.5, paired over 5 trials)"``; with one trial, the
    difference and "a single trial: no interval"."""
    p, f = paired(a, b), functools.partial(_signed, digits=digits)
    if p.n < 2:
        return f"a difference of {f(p.diff)} {unit} (a single trial: no interval, so nothing to conclude)"
    if p.sign_p is not None:  # every trial gave the same difference: an interval of zero width says nothing
        if p.diff == 0:
            return f"no difference ({f(0.0)} {unit} in all {p.n} paired trials)"
        same = f"{f(p.diff)} {unit} in all {p.n} paired trials, sign test p = {p.sign_p:.3g}"
        return f"{more if p.diff > 0 else less}, by {abs(p.diff):.{digits}f} {unit} ({same})" if p.clear else \
            f"no clear difference ({same}: too few trials to decide)"
    ci = f"95% CI {f(p.low)} to {f(p.high)}, paired over {p.n} trials"
    if not p.clear:
        return f"no clear difference ({f(p.diff)} {unit}, {ci})"
    word = more if p.diff > 0 else less
    return f"{word}, by {abs(p.diff):.{digits}f} {unit} ({ci})"


def compare_times(a, b, pairs: str = "interleaved blocks") -> str:
    """Times ``a`` against times ``b``, paired (e.g. the blocks of
    :func:`lt_helpers.sparse.timings`): the ratio of ``a`` to ``b`` with its 95% interval,
    from the mean and interval of the paired log-ratios: ``"slower: 2.10× the time (95% CI
    1.93× to 2.29×, 7 interleaved blocks)"``, ``"faster: 0.45× the time (…)"``, or ``"no
    clear difference: 1.02× the time (…)"``."""
    p = paired(np.log(np.asarray(a, dtype=float)), np.log(np.asarray(b, dtype=float)))
    if p.n < 2:
        return f"{math.exp(p.diff):.2f}× the time (a single measurement: no interval)"
    low, high = math.exp(p.low), math.exp(p.high)
    ratio = f"{math.exp(p.diff):.2f}× the time (95% CI {low:.2f}× to {high:.2f}×, {p.n} {pairs})"
    return f"{('slower' if p.diff > 0 else 'faster') if p.clear else 'no clear difference'}: {ratio}"


def brief(a, b, unit: str = "points", digits: int = 1) -> str:
    """``a - b`` paired by trial, in a few characters: ``"+2.1 points (95% CI +0.8 to +3.4, n=5)"``."""
    p, f = paired(a, b), functools.partial(_signed, digits=digits)
    if p.n < 2:
        return f"{f(p.diff)} {unit} (one trial)"
    if p.sign_p is not None:
        return f"{f(p.diff)} {unit} (the same in all {p.n} trials, sign test p = {p.sign_p:.3g})"
    return f"{f(p.diff)} {unit} (95% CI {f(p.low)} to {f(p.high)}, n={p.n})"
