"""Comparisons are worded from paired numbers with a 95% interval, never typed."""

import math

import pytest

from lt_helpers import claims


def test_a_clear_difference_names_its_direction_and_interval():
    text = claims.compare([62, 63, 61, 64, 62], [60, 60.5, 59, 61, 60], "more accurate", "less accurate")
    # differences 2, 2.5, 2, 3, 2: mean 2.3, sd 0.447, t(4) = 2.776 -> 2.3 ± 0.555
    assert text == "more accurate, by 2.3 points (95% CI +1.7 to +2.9, paired over 5 trials)"
    assert claims.compare([1, 2, 3], [3, 4, 5.5], "later", "sooner", "iterations", 0).startswith("sooner, by 2 ")


def test_an_interval_over_zero_says_no_clear_difference():
    text = claims.compare([62, 58, 61], [60, 60.5, 62], "more accurate", "less accurate")
    assert text.startswith("no clear difference (−0.5 points, 95% CI −6.2 to +5.2, paired over 3 trials")


def test_pairs_are_by_trial_not_pooled():
    """The same shift in every trial is clear however large the spread between trials."""
    a = [10.0, 50.0, 90.0]
    assert claims.paired([x + 1 for x in a], a).clear
    assert claims.paired([x + 1 for x in a], a).low == pytest.approx(1.0)


def test_one_trial_concludes_nothing_and_bad_shapes_are_refused():
    assert "single trial" in claims.compare([1.0], [2.0], "a", "b")
    assert math.isnan(claims.paired([1.0], [2.0]).low) and not claims.paired([1.0], [2.0]).clear
    with pytest.raises(ValueError, match="one value per trial"):
        claims.paired([], [])


def test_t_quantiles():
    assert claims.t975(4) == 2.776 and claims.t975(11) == 2.228 and claims.t975(1000) == 1.96


def test_a_verdict_follows_the_interval_and_the_claimed_direction():
    up, down, flat = [2.0, 2.5, 1.8, 2.2, 2.1], [-1.0, -1.2, -0.8, -1.1, -0.9], [0.5, -0.4, 0.2, -0.3, 0.1]
    zero = [0.0] * 5
    assert claims.verdict(up, zero, "higher") == "reproduced"
    assert claims.verdict(up, zero, "lower") == "not reproduced: the opposite"
    assert claims.verdict(down, zero, "lower") == "reproduced"
    assert claims.verdict(flat, zero, "higher") == "not reproduced: no clear difference"
    assert claims.verdict([1.0], [0.0], "higher") == "not testable: one trial"
    assert claims.verdict(flat, zero, "same") == "consistent: no clear difference"
    assert claims.verdict(up, zero, "same") == "not reproduced: a clear difference"
    assert claims.verdict(up, zero, "at least") == "reproduced: higher"
    assert claims.verdict(flat, zero, "at least") == "consistent: no clear difference"
    assert claims.verdict(down, zero, "at least") == "not reproduced: lower"
    with pytest.raises(ValueError, match="higher"):
        claims.verdict(up, zero, "faster")
    assert claims.brief(up, zero) == "+2.1 points (95% CI +1.8 to +2.4, n=5)"
    assert claims.brief(down, zero, "iterations", 0).startswith("−1 iterations (95% CI −1 to −1")


def test_the_claims_table_shows_every_word():
    long = "tickets stay above the dense network while more than 2% of the weights remain " * 2
    html = claims.table([dict(claim=long, paper="2%", **{"this run": "3.1%"}, verdict="reproduced")]).to_html()
    assert long.strip() in html and "reproduced" in html and "this run" in html


def test_times_compare_as_ratios_with_an_interval():
    slow, fast = [2.0, 2.1, 1.9, 2.05, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0]
    assert claims.compare_times(slow, fast).startswith("slower: 2.01× the time (95% CI 1.9")
    assert claims.compare_times(fast, slow).startswith("faster: 0.50× the time")
    noisy = [1.1, 0.9, 1.05, 0.95, 1.0]
    assert claims.compare_times(noisy, fast).startswith("no clear difference: 1.00× the time")
    assert "no interval" in claims.compare_times([2.0], [1.0])


def test_identical_differences_are_worded_without_an_interval():
    assert claims.compare([800, 900, 700], [1300, 1400, 1200], "later", "sooner", "iterations", 0) == \
        "sooner, by 500 iterations in all 3 paired trials"
    assert claims.compare([5.0, 6.0], [5.0, 6.0], "higher", "lower") == "no difference (+0.0 points in all 2 paired trials)"
    assert claims.brief([800, 900], [1300, 1400], "iterations", 0) == "−500 iterations (the same in all 2 trials)"
    assert claims.verdict([800, 900], [1300, 1400], "lower") == "reproduced"
