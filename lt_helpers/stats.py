"""Comparisons worded from the numbers, with the uncertainty that decides them.

A chapter never types "faster", "more accurate" or "supports": it asks :func:`compare`,
which pairs two conditions trial by trial (the same trial shares its seed, data order and
initialization, so the difference within a trial is the measurement), and words the mean
difference with its 95% confidence interval (Student's t over the n paired differences).
Where the interval covers zero, the sentence says there is no clear difference; where every
trial gave the same difference, the exact sign test decides.

What the interval covers: trial-to-trial (seed-to-seed) variation of networks evaluated on
one fixed test set, not the sampling error of that test set (:func:`examples` says how many
test examples a difference is). Scanned over many levels, per-level decisions are corrected
for their number with Benjamini–Hochberg (:func:`corrected`): of the levels called clear, at
most 5% are expected to be false calls. The quantiles, the sign test and the correction are
scipy.stats's.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _scipy

ALPHA = 0.05  # two-sided: 95% intervals


def t975(df: int) -> float:
    """The 97.5th percentile of Student's t with ``df`` degrees of freedom (scipy.stats.t)."""
    if df < 1:
        raise ValueError("a confidence interval needs at least two paired values")
    return float(_scipy.t.ppf(1 - ALPHA / 2, df))


def sign_test(k: int, n: int) -> float:
    """The exact two-sided sign (binomial) test's p-value: ``k`` of ``n`` paired trials went one
    way, none tied (scipy.stats.binomtest)."""
    return float(_scipy.binomtest(k, n, 0.5).pvalue) if n else 1.0


@dataclass(frozen=True)
class Paired:
    """The mean of ``a - b`` over ``n`` paired trials and its 95% interval (nan for n < 2), the
    standard deviation ``sd`` of the differences and the two-sided p-value ``p`` of the paired
    t test. Where every trial gave the same difference the t interval has zero width and says
    nothing; ``sign_p`` then holds the exact two-sided sign test's p-value instead. So it does
    where ``censored`` values (``inf``: a network that never reached a target, e.g. the dense
    network's accuracy) make a mean meaningless: then only the order within each trial is known
    (never reached is later than reached; both never, a tie), ``diff`` is how many untied trials
    went up minus how many went down, and the sign test over the untied trials decides."""

    diff: float
    low: float
    high: float
    n: int
    sign_p: float | None = None
    sd: float = math.nan
    p: float = math.nan
    censored: int = 0

    @property
    def clear(self) -> bool:
        """True when the data decide the direction: the interval excludes zero or, for
        identical differences, the sign test gives p < 0.05 (at least 6 trials)."""
        if self.sign_p is not None:
            return self.diff != 0 and self.sign_p < ALPHA
        return self.n >= 2 and (self.low > 0 or self.high < 0)

    @property
    def above(self) -> bool:
        """Clearly above zero: ``a`` is clearly larger than ``b``."""
        return self.clear and self.diff > 0

    @property
    def below(self) -> bool:
        """Clearly below zero: ``a`` is clearly smaller than ``b``."""
        return self.clear and self.diff < 0

    @property
    def p_value(self) -> float:
        """The two-sided p-value that decides :attr:`clear` (the sign test's where it decides)."""
        return self.sign_p if self.sign_p is not None else self.p

    def trials_to_decide(self, *bounds: float) -> int | None:
        """Roughly how many trials would decide, were the mean and spread to stay as they are:
        the fewest n at which a 95% interval around the same mean drops one of ``bounds`` (the
        ones it now covers: zero, the paper's effect, a margin's nearer edge; the farther goes
        first). A rough guide, not a power calculation: a new run's mean and spread move, so at
        that n a run decides about as often as not. None where the spread is unknown or the
        mean sits on every bound; 10,001 for "more than 10,000"."""
        if self.n < 2 or not bounds:
            return None
        if self.sign_p is not None:  # identical or censored: 6 trials all one way give p = 0.031
            return max(6, self.n + 1)
        far = max(abs(self.diff - b) for b in bounds)
        if far <= 0 or not self.sd > 0:
            return None
        for n in range(self.n + 1, 10_001):
            if t975(n - 1) * self.sd / math.sqrt(n) < far:
                return n
        return 10_001


def paired(a, b) -> Paired:
    """Pair ``a[i]`` with ``b[i]`` (one value per trial) and return the :class:`Paired` summary."""
    with np.errstate(invalid="ignore"):  # inf - inf: both censored, a tie (nan)
        d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.ndim != 1 or len(d) == 0:
        raise ValueError(f"need one value per trial on each side, got shapes {np.shape(a)} and {np.shape(b)}")
    if np.isinf(d).any() or np.isinf(np.asarray(a, dtype=float)).any():  # censored: the order decides
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        up, down = int((d > 0).sum()), int((d < 0).sum())
        never = int(np.isinf(a).sum() + np.isinf(b).sum())
        # diff: which way the untied trials went, up minus down (a median can be 0 with a clear majority)
        return Paired(float(up - down), math.nan, math.nan, len(d), sign_p=sign_test(max(up, down), up + down),
                      censored=never)
    mean = float(d.mean())
    if len(d) < 2:
        return Paired(mean, math.nan, math.nan, 1)
    if np.ptp(d) <= 1e-9 * max(1.0, float(np.abs(d).max())):  # equal up to float noise: a zero-width interval,
        # so the exact sign test decides (n equal signs)
        return Paired(mean, mean, mean, len(d), sign_p=1.0 if mean == 0 else sign_test(len(d), len(d)), sd=0.0)
    sd = float(d.std(ddof=1))
    half = t975(len(d) - 1) * sd / math.sqrt(len(d))
    p = float(2 * _scipy.t.sf(abs(mean) / (sd / math.sqrt(len(d))), len(d) - 1))
    return Paired(mean, mean - half, mean + half, len(d), sd=sd, p=p)


def corrected(pvalues) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (scipy.stats.false_discovery_control) for a family
    of tests, e.g. one claim at every level of a run: calling clear each test whose adjusted p
    is under 0.05 keeps the expected share of false calls among them under 5%. Nan stays nan."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = _scipy.false_discovery_control(p[ok], method="bh")
    return out


def examples(diff_points: float, test_size: int) -> str:
    """A difference in accuracy points as test examples: ``"about 6 of 1,000 test examples"``."""
    return f"about {abs(diff_points) * test_size / 100:,.0f} of {test_size:,} test examples"


def signed(x: float, digits: int) -> str:
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
    p, f = paired(a, b), functools.partial(signed, digits=digits)
    if p.censored:
        said = _order(a, b, p)
        return f"{more if p.diff > 0 else less} ({said})" if p.clear else f"no clear difference ({said})"
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
    p, f = paired(a, b), functools.partial(signed, digits=digits)
    if p.censored:
        return _order(a, b, p)
    if p.n < 2:
        return f"{f(p.diff)} {unit} (one trial)"
    if p.sign_p is not None:
        return f"{f(p.diff)} {unit} (the same in all {p.n} trials, sign test p = {p.sign_p:.3g})"
    return f"{f(p.diff)} {unit} (95% CI {f(p.low)} to {f(p.high)}, n={p.n})"



def times(a, b) -> str:
    """``a ÷ b`` paired by trial, as a ratio: the geometric mean of the per-trial ratios with its
    95% interval (the paired interval of ``log a - log b``, taken back), for quantities that
    multiply, such as a speed-up: ``"1.62× (geometric mean, 95% CI 1.31× to 2.01×, n=5)"``: the
    geometric mean of the trials' ratios, not the ratio of the means (what a paper's 2.51× may
    be), which can differ. Positive values only."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not ((a > 0).all() and (b > 0).all()):
        raise ValueError(f"a ratio needs positive values, got {a.tolist()} and {b.tolist()}")
    p = paired(np.log(a), np.log(b))
    if p.n < 2:
        return f"{math.exp(p.diff):.2f}× (one trial)"
    if p.sign_p is not None:
        return f"{math.exp(p.diff):.2f}× (the same in all {p.n} trials)"
    return f"{math.exp(p.diff):.2f}× (geometric mean, 95% CI {math.exp(p.low):.2f}× to {math.exp(p.high):.2f}×, n={p.n})"

def _order(a, b, p: Paired) -> str:
    """Censored pairs in words: which side came first in how many trials, how many never got there."""
    with np.errstate(invalid="ignore"):
        d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    lower, higher, tied = int((d < 0).sum()), int((d > 0).sum()), int(np.isnan(d).sum() + (d == 0).sum())
    ties = f", {tied} tied or neither reached" if tied else ""
    return (f"the first lower in {lower} of {p.n} trials, higher in {higher}{ties}; {p.censored} network"
            f"{'s' if p.censored != 1 else ''} never reached the target (counted as such, not as a number): "
            f"exact sign test p = {p.sign_p:.2g}")
