"""Comparisons are worded from paired numbers with a 95% interval, never typed."""

import math

import numpy as np

import pytest

from lt_helpers import claims, lesson, paper, stats, verdicts
from lt_helpers.errors import LTError
from lt_helpers.full_runs import FULL_RUNS, full_run


def test_a_clear_difference_names_its_direction_and_interval():
    text = stats.compare([62, 63, 61, 64, 62], [60, 60.5, 59, 61, 60], "more accurate", "less accurate")
    # differences 2, 2.5, 2, 3, 2: mean 2.3, sd 0.447, t(4) = 2.776 -> 2.3 ± 0.555
    assert text == "more accurate, by 2.3 points (95% CI +1.7 to +2.9, paired over 5 trials)"
    assert stats.compare([1, 2, 3], [3, 4, 5.5], "later", "sooner", "iterations", 0).startswith("sooner, by 2 ")


def test_an_interval_over_zero_says_no_clear_difference():
    text = stats.compare([62, 58, 61], [60, 60.5, 62], "more accurate", "less accurate")
    assert text.startswith("no clear difference (−0.5 points, 95% CI −6.2 to +5.2, paired over 3 trials")


def test_pairs_are_by_trial_not_pooled():
    """A nearly constant shift in every trial is clear however large the spread between trials."""
    a = [10.0, 50.0, 90.0]
    shifted = [x + d for x, d in zip(a, (1.0, 1.1, 0.9))]
    assert stats.paired(shifted, a).clear and stats.paired(shifted, a).low > 0.5
    six = [10.0, 50.0, 90.0, 20.0, 70.0, 40.0]
    assert stats.paired([x + 1 for x in six], six).clear  # identical shifts: the sign test decides


def test_one_trial_concludes_nothing_and_bad_shapes_are_refused():
    assert "single trial" in stats.compare([1.0], [2.0], "a", "b")
    assert math.isnan(stats.paired([1.0], [2.0]).low) and not stats.paired([1.0], [2.0]).clear
    with pytest.raises(ValueError, match="one value per trial"):
        stats.paired([], [])


def test_t_quantiles_come_from_scipy_and_leave_the_shipped_numbers_as_they_were():
    from scipy import stats as sp

    assert stats.t975(4) == pytest.approx(2.776, abs=5e-4) and stats.t975(11) == sp.t.ppf(0.975, 11)
    assert stats.t975(1000) == pytest.approx(1.962, abs=1e-3)
    # two numbers a statistician recomputed from the shipped runs with the old table (n = 5: t(4) = 2.776)
    fashion = full_run("lenet_300_100-fashion_mnist-paper")
    level = fashion.level_nearest(3.6)
    assert stats.brief(fashion.per_trial(level, "ticket", claims.ACC), fashion.per_trial(0, "ticket", claims.ACC)) == \
        "+0.1 points (95% CI −0.2 to +0.5, n=5)"
    resnet = full_run("resnet20-mnist1d-lr0.1-long")
    assert stats.brief(resnet.per_trial(resnet.level_nearest(8.6), "ticket", claims.ACC),
                        resnet.per_trial(resnet.level_nearest(8.6), "random_reinit", claims.ACC)) == \
        "+0.6 points (95% CI +0.3 to +0.8, n=5)"


def test_a_verdict_follows_the_interval_and_the_claimed_direction():
    up, down, flat = [2.0, 2.5, 1.8, 2.2, 2.1], [-1.0, -1.2, -0.8, -1.1, -0.9], [0.5, -0.4, 0.2, -0.3, 0.1]
    zero = [0.0] * 5
    assert verdicts.verdict(up, zero, "higher") == "reproduced"
    assert verdicts.verdict(up, zero, "lower") == "contradicted: clearly the opposite"
    assert verdicts.verdict(down, zero, "lower") == "reproduced"
    assert verdicts.verdict(flat, zero, "higher").startswith("inconclusive: the interval covers zero (")
    assert verdicts.verdict([1.0], [0.0], "higher") == "not testable: one trial"
    assert verdicts.verdict(flat, zero, "same", margin=1.0) == "reproduced: within ±1"
    assert verdicts.verdict(up, zero, "same", margin=1.0) == "contradicted: higher by more than the ±1 margin"
    assert verdicts.verdict(up, zero, "at least", margin=1.0) == "reproduced: higher"
    assert verdicts.verdict(flat, zero, "at least", margin=1.0) == "reproduced: within −1"
    assert verdicts.verdict(down, zero, "at least", margin=0.5) == "contradicted: lower by more than the −0.5 margin"
    assert verdicts.verdict(down, zero, "at most", margin=0.5) == "reproduced: lower"
    assert verdicts.verdict(up, zero, "at most", margin=0.5) == "contradicted: higher by more than the +0.5 margin"
    with pytest.raises(ValueError, match="higher"):
        verdicts.verdict(up, zero, "faster")
    assert stats.brief(up, zero) == "+2.1 points (95% CI +1.8 to +2.4, n=5)"
    assert stats.brief(down, zero, "iterations", 0).startswith("−1 iterations (95% CI −1 to −1")


def test_the_claims_table_shows_every_word():
    long = "tickets stay above the dense network while more than 2% of the weights remain " * 2
    html = claims.table([dict(claim=long, paper="2%", **{"this run": "3.1%"}, verdict="reproduced")]).to_html()
    assert long.strip() in html and "reproduced" in html and "this run" in html


def test_times_compare_as_ratios_with_an_interval():
    slow, fast = [2.0, 2.1, 1.9, 2.05, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0]
    assert stats.compare_times(slow, fast).startswith("slower: 2.01× the time (95% CI 1.9")
    assert stats.compare_times(fast, slow).startswith("faster: 0.50× the time")
    noisy = [1.1, 0.9, 1.05, 0.95, 1.0]
    assert stats.compare_times(noisy, fast).startswith("no clear difference: 1.00× the time")
    assert "no interval" in stats.compare_times([2.0], [1.0])


def test_a_bound_near_zero_is_not_printed_as_zero():
    near = [0.04, 0.96, 0.27, 0.73, 0.5]  # mean 0.5, lower bound 0.049: "+0.0" would read as zero
    assert stats.brief(near, [0.0] * 5) == "+0.5 points (95% CI +0.05 to +1.0, n=5)"
    assert stats.signed(0.0, 1) == "+0.0" and stats.signed(-0.004, 1) == "−0.004"
    assert stats.signed(2.842170943040401e-15, 1) == "+0.0"  # differences that cancel, up to float noise


def test_identical_differences_are_decided_by_the_exact_sign_test():
    """Three identical paired differences give a t interval of zero width, which used to count
    as clear; the sign test says p = 0.25: not clear below 6 trials (2 / 2^6 = 0.031)."""
    assert stats.compare([800, 900, 700], [1300, 1400, 1200], "later", "sooner", "iterations", 0) == \
        "no clear difference (−500 iterations in all 3 paired trials, sign test p = 0.25: too few trials to decide)"
    assert stats.compare([5.0, 6.0], [5.0, 6.0], "higher", "lower") == "no difference (+0.0 points in all 2 paired trials)"
    assert stats.brief([800, 900], [1300, 1400], "iterations", 0) == \
        "−500 iterations (the same in all 2 trials, sign test p = 0.5)"
    assert verdicts.verdict([800, 900, 700], [1300, 1400, 1200], "lower").startswith(
        "inconclusive: the same difference in all 3 trials, too few for the sign test")
    six = list(range(6))
    assert stats.paired([x - 500 for x in six], six).sign_p == pytest.approx(0.03125)
    assert verdicts.verdict([x - 500 for x in six], six, "lower") == "reproduced"
    assert stats.compare([x + 2 for x in six], six, "higher", "lower").startswith("higher, by 2.0 points (")
    assert verdicts.verdict([1.0] * 6, [1.0] * 6, "same", margin=0.5) == "reproduced: within ±0.5"


def _curve(stop, acc, iterations, rise=1.0):
    """Validation accuracy rising in a straight line to ``acc`` at ``rise`` × ``stop``, flat after."""
    its = sorted(set(range(0, iterations + 1, 100)) | {int(stop)})
    return {"iteration": its, "val_acc": [acc * min(1.0, i / (rise * stop)) for i in its]}


def _fabricated_run(ticket_stop_shift=-500.0, capped_reinit=False, capped_tickets=False, iterations=15000,
                    ticket_rise=1.0):
    """A full run's records made up so that every claim's answer is known: tickets stop
    ``ticket_stop_shift`` iterations from the dense network at every level, reinitializations
    1,000 later than tickets and 2 points less accurate, one-shot tickets 1 point less accurate.
    Validation accuracy rises in a straight line to each network's accuracy at its early stop
    (for pruned tickets, at ``ticket_rise`` of it: below 1, they match sooner than they stop)."""
    from lt_helpers.iterative import Results

    runs, noise = [], [3.0, -2.0, 1.0, -1.0, 0.5]
    for rnd in range(16):
        pct = 100 * 0.8 ** rnd
        for t in range(5):
            dense_stop, acc = 3000 + 10 * noise[t], 0.80 + noise[t] / 1000
            conds = {"ticket": (dense_stop + (ticket_stop_shift if rnd else 0) + 7 * noise[(t + rnd) % 5],
                                acc + (0.01 if rnd else 0) + noise[(t + 2) % 5] / 2000)}
            if rnd:
                conds["random_reinit"] = (conds["ticket"][0] + 1000 + 9 * noise[(t + 1) % 5], conds["ticket"][1] - 0.02)
                conds["oneshot"] = (dense_stop + 400 + 11 * noise[(t + 3) % 5], conds["ticket"][1] - 0.01)
            for cond, (stop, a) in conds.items():
                at_end = (capped_reinit and cond == "random_reinit") or (capped_tickets and cond == "ticket" and rnd > 0)
                stop = iterations if at_end and cond != "ticket" else int(round(stop))
                rise = ticket_rise if (cond == "ticket" and rnd) else 1.0
                runs.append(dict(trial=t, round=rnd, condition=cond, percent_remaining=pct,
                                 early_stop_iteration=stop, early_stop_test_acc=a,
                                 final_test_acc=a - 0.001, early_stop_at_end=at_end,
                                 curve=_curve(stop, a - (0.05 if cond == "random_reinit" else 0), iterations, rise)))
    return Results({"hyper": {"iterations": iterations}}, runs)


def test_lenet_claims_are_tested_on_any_run_with_known_answers():
    rows = paper.lenet.rows(_fabricated_run())
    by = {(r["claim"], r["paper"]): r for r in rows}
    assert len(rows) == 20 and len(by) == 20
    sooner = by[("tickets reach minimum validation loss sooner than the dense network (the paper's proxy)",
                 "yes, at 21.1% (38% sooner)")]
    # 500 of 3,000 iterations sooner (dense ÷ ticket about 1.2): reproduced, short of the paper's 38% (1.61)
    assert sooner["verdict"] == "reproduced, though smaller than the paper's 38% sooner (1.61×)"
    assert sooner["this run"].startswith("at 21.0%: dense ÷ ticket 1.2")
    assert sooner["capped"] == (0, 10)
    reinit = by[("tickets reach minimum validation loss sooner than their random reinitializations", "2.51× sooner at 21%")]
    assert reinit["verdict"] == "reproduced, though smaller than the paper's 2.51× sooner"  # 1,000 of ~3,500 sooner
    assert reinit["this run"].startswith("at 21.0%: reinit ÷ ticket 1.4")  # not the paper's 2.51
    oneshot = [r for r in rows if r["claim"].startswith("one-shot tickets reach")]
    assert [r["verdict"] for r in oneshot] == ["contradicted: clearly the opposite"] * 4  # one-shot stops 400 later
    slower = paper.lenet.rows(_fabricated_run(ticket_stop_shift=+500))
    assert slower[3]["verdict"] == "contradicted: clearly the opposite"


def test_the_criterion_is_measured_where_the_proxy_says_otherwise():
    """Tickets that stop 500 iterations later than the dense network but reach its accuracy in
    half their time: the early stop (the paper's proxy) says slower, the hypothesis's criterion
    (first evaluation at the dense network's validation accuracy) says sooner."""
    run = _fabricated_run(ticket_stop_shift=+500, ticket_rise=0.5)
    rows = paper.lenet.rows(run)
    find = lambda start, paper: next(r for r in rows if r["claim"].startswith(start) and r["paper"].startswith(paper))
    criterion = find("tickets match the dense network's accuracy in fewer", "yes at 21.1")
    proxy = find("tickets reach minimum validation loss sooner than the dense", "yes, at 21.1")
    assert criterion["verdict"] == "reproduced" and proxy["verdict"] == "contradicted: clearly the opposite"
    level = run.level_nearest(21.1)
    ticket, never = claims.match_iterations(run, level, "ticket")
    dense, _ = claims.match_iterations(run, 0, "ticket")
    assert never == 0 and (ticket < dense).all()
    reinit, never = claims.match_iterations(run, level, "random_reinit")  # 5 points short: never reaches it
    assert never == 5 and np.isinf(reinit).all()  # censored, not imputed
    vs_reinit = find("tickets match the dense network's accuracy sooner than their random", "yes at 21%")
    assert vs_reinit["never"] == 5 and vs_reinit["capped"] == (0, 10)  # never reaching it is not "still improving"
    # five tickets sooner than five networks that never got there: the order is known, the sizes are not, and the
    # sign test over 5 trials (p = 0.0625) cannot decide
    assert vs_reinit["verdict"].startswith("inconclusive: 5 network(s) never reached the target")
    assert "the first lower in 5 of 5 trials" in vs_reinit["this run"] and "never reached" in vs_reinit["this run"]


def test_side_by_side_puts_each_runs_verdict_beside_the_others():
    a, b = paper.lenet.rows(_fabricated_run()), paper.lenet.rows(_fabricated_run(ticket_stop_shift=+500))
    html = claims.side_by_side({"MNIST-1D": a, "Fashion-MNIST": b}).to_html()
    for column in ("MNIST-1D: this run", "MNIST-1D: verdict", "Fashion-MNIST: this run", "Fashion-MNIST: verdict"):
        assert column in html
    with pytest.raises(ValueError, match="same claims"):
        claims.side_by_side({"a": a, "b": b[:-1]})
    with pytest.raises(ValueError, match="same order"):
        claims.side_by_side({"a": a, "b": b[::-1]})


def test_disagreements_say_which_way_and_what_the_runs_point_to():
    same = paper.lenet.rows(_fabricated_run())
    assert verdicts.disagreements({"A": same, "B": same}) == []
    slower = paper.lenet.rows(_fabricated_run(ticket_stop_shift=+500))
    said = verdicts.disagreements({"A": same, "B": slower}, reference="A")
    assert said and all("A reproduces it" in s and "B clearly contradicts it" in s for s in said)
    assert "holds on A and not on B, and both runs decide: consistent with that run's data set" in said[0]
    said = verdicts.disagreements({"A": same, "B": slower}, reference="B")
    assert "holds on A but not on B" in said[0]
    assert "holds on A but not on B" in verdicts.disagreements({"A": same, "B": slower})[0]  # no reference named
    assert verdicts.capped_anywhere({"A": same}) == 0  # the reinitializations never reach the dense accuracy: censored,
    assert sum(r["never"] for r in same) == 5  # counted apart from networks still improving at their end
    capped = paper.lenet.rows(_fabricated_run(capped_reinit=True))
    rows = [r for r in capped if "random reinitializations" in r["claim"]]
    assert rows[0]["never"] == 5  # the criterion: the reinitializations never reach the dense accuracy
    proxy = [r for r in rows if "minimum validation loss" in r["claim"]][0]
    assert proxy["capped"] == (5, 10)
    assert proxy["verdict"] == ("not testable: 5 of the 5 random reinitializations were still improving at their end "
                                "(a longer run decides)")
    said = verdicts.disagreements({"A": same, "B": capped})
    assert said and all("B cannot test it" in s and "a longer run" in s for s in said)
    assert verdicts.capped_anywhere({"B": capped}) > 0
    capped_slower = paper.lenet.rows(_fabricated_run(ticket_stop_shift=+500, capped_tickets=True))
    said = verdicts.disagreements({"A": same, "B": capped_slower})
    assert said and all("B 5 of the 10 networks compared were still improving" in s and "a longer run" in s
                        for s in said if "than the dense network" in s)


def _controls_run(at_rounds=(3, 7, 12, 15), sign_gap=0.0, sign_noise=0.001):
    """Made-up records of chapter 6's controls, trained at ``at_rounds`` only: reinitializations
    1,000 iterations later and 2 points below the ticket, random pruning 1 point below the
    reinitialization, the sign-kept control ``sign_gap`` from the ticket."""
    from lt_helpers.iterative import Results

    runs, noise = [], [3.0, -2.0, 1.0, -1.0, 0.5]
    for rnd in range(16):
        for t in range(5):
            stop, acc = 3000 + 10 * noise[t], 0.80 + noise[(t + rnd) % 5] / 1000
            conds = {"ticket": (stop, acc)}
            if rnd in at_rounds:
                conds.update(random_reinit=(stop + 1000 + 9 * noise[(t + 1) % 5], acc - 0.02 + noise[(t + 4) % 5] / 1000),
                             random_prune=(stop + 900, acc - 0.03 + noise[(t + 2) % 5] / 1000),
                             sign_reinit=(stop, acc + sign_gap + noise[(t + 3) % 5] * sign_noise))
            runs += [dict(trial=t, round=rnd, condition=c, percent_remaining=100 * 0.8 ** rnd, early_stop_iteration=s,
                          early_stop_test_acc=a, final_test_acc=a, early_stop_at_end=False)
                     for c, (s, a) in conds.items()]
    return Results({}, runs)


def test_control_claims_are_tested_where_the_run_trained_its_controls():
    run = _controls_run()
    assert run.level_nearest(7.0) == 12 and paper.lenet.control_levels(run) == [12, 15]
    assert paper.lenet.control_levels(_controls_run(at_rounds=(3, 10))) == [10]  # nearest 7% and sparsest: one level
    rows = paper.lenet.control_rows(_controls_run(sign_noise=0.0001))
    assert len(rows) == 8 and [r["this run"][:8] for r in rows[::4]] == ["at 6.9%:", "at 3.5%:"]
    by = {r["claim"]: r["verdict"] for r in rows[:4]}
    assert by["tickets reach minimum validation loss sooner than their random reinitializations"] == "reproduced"
    assert by["tickets are more accurate than their random reinitializations"] == "reproduced"
    assert by["for LeNet, reinitialized tickets are more accurate than randomly pruned networks"] == "reproduced"
    signs = rows[3]
    assert signs["claim"].startswith("the ticket's signs with new magnitudes are as accurate as the ticket")
    assert signs["verdict"].startswith("reproduced: within ±")
    assert "keeps 100% of the ticket's +2.0-point lead over reinitialization" in signs["this run"]  # the effect size
    tied = paper.lenet.control_rows(_controls_run(sign_gap=-0.01, sign_noise=0.01))  # between the two, and noisy
    assert tied[3]["verdict"].startswith("not testable: the sign-kept networks are indistinguishable")
    worse = paper.lenet.control_rows(_controls_run(sign_gap=-0.05))
    assert worse[3]["verdict"].startswith("contradicted: lower by more than the ±")
    with pytest.raises(ValueError, match="no random reinitializations"):
        paper.lenet.control_levels(_controls_run(at_rounds=()))


def test_above_and_below_follow_clear():
    assert stats.paired([2.0, 3.0, 2.5], [0.0, 0.0, 0.0]).above
    assert stats.paired([-2.0, -3.0, -2.5], [0.0, 0.0, 0.0]).below
    assert not stats.paired([1.0, 1.0, 1.0], [0.0, 0.0, 0.0]).above  # identical, 3 trials: sign test p = 0.25


def test_a_claim_is_not_testable_where_most_networks_were_still_improving():
    a, b = [10.0, 11.0, 12.0, 13.0], [1.0, 2.0, 2.5, 3.0]
    assert verdicts.verdict(a, b, "higher") == "reproduced"
    assert verdicts.verdict(a, b, "higher", at_end=([0, 0, 0, 0], [1, 1, 0, 0])).startswith(
        "reproduced (2 of the 4 networks they are compared with were still improving")  # half: still testable
    assert verdicts.verdict(a, b, "higher", at_end=([1, 1, 1, 0], [0, 0, 0, 0])).startswith(
        "not testable: 3 of the 4 networks the claim is about were still improving")



def test_networks_still_improving_that_favour_a_verdict_say_how_much_would_change_it():
    """A network still improving at its end has a lower bound for a value: a verdict it favours
    says how much higher the value would have to be to change it (the tipping point), and is not
    testable where that is within the trials' own spread; a verdict it weakens stands as it is."""
    none, first_two = [0] * 5, [1, 1, 0, 0, 0]
    dense = np.array([400.0] * 5)
    ticket = np.array([330.0, 340.0, 380.0, 385.0, 375.0])  # tickets stop sooner: trials 0 and 1 most
    assert verdicts.verdict(ticket, dense, "lower") == "reproduced"
    names = ("tickets", "dense networks")
    stands = verdicts.verdict(ticket, dense, "lower", at_end=(first_two, none), unit="iterations", names=names)
    assert stands == ("reproduced (2 of the 5 tickets were still improving when training stopped; stopping more than "
                      "62 iterations later each would change this, against a trial-to-trial spread of 25 iterations)")
    tip = 62.0  # checked: raised by a little more than that, the claim is no longer reproduced
    assert verdicts.verdict(ticket + [tip + 1, tip + 1, 0, 0, 0], dense, "lower") != "reproduced"
    assert verdicts.verdict(ticket + [tip - 2, tip - 2, 0, 0, 0], dense, "lower") == "reproduced"
    # dense networks still improving: their stops would be later still, which only strengthens "sooner"
    assert verdicts.verdict(ticket, dense, "lower", at_end=(none, first_two)) == "reproduced"
    # within the tickets' own spread (a standard deviation of 8.7 iterations here): not testable
    close = ticket + [58.0, 58.0, 0, 0, 0]
    held = verdicts.verdict(close, dense, "lower", at_end=(first_two, none), unit="iterations", names=names)
    assert held == ("not testable: 2 of the 5 tickets were still improving when training stopped, and stopping more "
                    "than 4 iterations later each, within the trials' own spread (9 iterations), would change it (as "
                    "it stands: reproduced); a longer run decides")
    assert verdicts.outcome(held) == "not testable"
    # on the log scale (a speed-up), said as a factor
    assert "stopping more than 1.19× later each" in verdicts.verdict(np.log(ticket), np.log(dense), "lower",
                                                                    at_end=(first_two, none), unit="log iterations")
    jitter = np.array([1.10, 0.97, 1.04, 1.01, 0.99])  # no clear speed-up either way
    assert verdicts.verdict(np.log(ticket), np.log(ticket * jitter), "lower", effect=-np.log(3.5), unit="log iterations",
                            effect_said="the paper's 3.5×").endswith("(the interval excludes it; it includes 1×: "
                                                                    "no speed-up)")
    # the other way: "more accurate" clearly contradicted, a ticket still improving (it could gain)
    acc_t, acc_d = np.array([88.0, 88.5, 88.6, 88.4, 88.7]), np.array([89.0, 89.0, 89.2, 88.9, 89.3])
    assert verdicts.verdict(acc_t, acc_d, "higher", at_end=([1, 0, 0, 0, 0], none), unit="points", names=names) == (
        "contradicted: clearly the opposite (one of the 5 tickets was still improving when training stopped; more "
        "than 1.2 further points for it alone would change this, against a trial-to-trial spread of 0.27 points)")
    # censored values (inf: never reached) have no tipping point; the verdict goes by the order within trials
    never = verdicts.verdict([100.0, 110.0, 120.0, 130.0, 140.0, 150.0], [np.inf] * 6, "lower",
                             at_end=([1, 0, 0, 0, 0, 0], [0] * 6), unit="iterations")
    assert never == "reproduced"
    # undecided: more trials may decide it, and so may more training
    assert verdicts.verdict([1.0, -0.5, 2.0, 0.3, 0.1], [0.0] * 5, "higher", at_end=([1, 0, 0, 0, 0], none)).endswith(
        "would decide; 1 network compared was still improving at the end, so a longer run may too)")
    # "though smaller than the paper's" rests on the other side: dropped where a shift within the spread moves it
    gains = np.array([0.6, 0.7, 1.0, 2.6, 1.4])
    assert verdicts.verdict(gains, [0.0] * 5, "higher", effect=3.0) == "reproduced, though smaller than the paper's +3.0"
    assert verdicts.verdict(gains, [0.0] * 5, "higher", effect=3.0, at_end=([0, 0, 0, 1, 0], none), unit="points") == (
        "reproduced (whether by less than the paper's +3.0, a longer run decides: one of the 5 networks the claim is "
        "about was still improving when training stopped, and more than 0.78 further points for it alone would "
        "change that)")

def test_a_claim_is_scanned_over_every_level():
    run = _fabricated_run(ticket_stop_shift=-500)
    speed = claims.scan(run, (claims.STOP, "ticket"), (claims.STOP, "dense"))
    # at rounds 5, 10 and 15 the made-up noise cancels: five identical differences, sign test p = 0.0625
    assert {k: speed[k] for k in ("above", "below", "unclear")} == \
        {"above": [], "below": [r for r in range(1, 16) if r % 5], "unclear": [5, 10, 15]}
    assert claims.scan(run, (claims.STOP, "dense"), (claims.STOP, "ticket"))["above"] == speed["below"]  # either side
    assert claims.scan(run, (claims.STOP, "ticket"), (claims.STOP, "random_reinit"))["below"] == list(range(1, 16))
    assert claims.scan(run, (claims.MATCH, "ticket"), (claims.MATCH, "dense"))["below"]  # the criterion scans too
    assert claims.stretches(run, [1, 2, 3, 7]) == "from 80.0% to 51.2% and at 21.0%"
    assert claims.stretches(run, []) == "at none of the levels"
    assert claims.stretches(run, [1, 3, 5, 6]) == "at 80.0%, at 51.2% and from 32.8% to 26.2%"


def test_an_interval_wider_than_the_margin_cannot_show_two_results_alike():
    a, b = [70.0, 82.0], [76.0, 76.5]  # n = 2: an interval over zero, but dozens of points wide
    with pytest.raises(ValueError, match="needs a margin"):
        verdicts.verdict(a, b, "at least")  # without one, the verdict would track precision, not size
    assert verdicts.verdict(a, b, "at least", margin=1.0).startswith("inconclusive: the interval reaches beyond the −1 "
                                                                   "margin (")
    assert verdicts.verdict(a, b, "same", margin=1.0).startswith("inconclusive: the interval reaches beyond the ±1")
    close = [76.1, 76.4, 76.2, 76.3, 76.2], [76.0, 76.5, 76.3, 76.2, 76.3]
    assert verdicts.verdict(*close, "same", margin=1.0) == "reproduced: within ±1"
    assert verdicts.verdict([76.0, 76.1, 76.2], [75.7, 75.75, 75.9], "at least", margin=1.0) == "reproduced: higher"
    assert verdicts.verdict([75.8, 75.6, 75.9, 75.8, 75.7], [76.0] * 5, "at least", margin=1.0) == \
        "not reproduced: clearly lower, though by less than the −1 margin"  # clearly apart: never 'the same'
    assert verdicts.verdict([70.0, 71.0, 70.5], [76.0, 76.1, 75.9], "same", margin=1.0) == \
        "contradicted: lower by more than the ±1 margin"
    across = [75.3, 75.1, 74.5, 74.6, 74.6], [76.0, 75.7, 75.6, 75.5, 75.6]  # clearly lower: −0.7, 95% CI −1.2 to −0.2
    assert stats.paired(*across).below and stats.paired(*across).low < -1 < stats.paired(*across).high
    assert verdicts.verdict(*across, "at least", margin=1.0) == \
        "not reproduced: clearly lower, perhaps by more than the −1 margin"
    assert verdicts.verdict(*across, "at most", margin=1.0) == "reproduced: lower"


def test_the_ladder_separates_no_evidence_from_evidence_against():
    """An interval over zero that also covers the paper's effect cannot decide (inconclusive, with
    how many trials would); one that excludes the paper's effect but not zero is evidence that any
    effect is smaller (not reproduced); clearly the other way is contradicted."""
    zero = [0.0] * 5
    covers_both = [0.6, -0.2, 0.5, -0.1, 0.3]  # +0.22, 95% CI about −0.2 to +0.6: covers 0 and the paper's +0.5
    said = verdicts.verdict(covers_both, zero, "higher", effect=0.5)
    assert said.startswith("inconclusive: the interval covers zero and the paper's +0.5 (at this mean and spread, "
                           "about ")
    n = stats.paired(covers_both, zero).trials_to_decide(0.0, 0.5)
    assert n and n > 5 and f"about {n} trials would decide" in said
    small = [0.1, -0.1, 0.05, -0.05, 0.0]  # 0.0, 95% CI about −0.12 to +0.12: excludes +0.5, not zero
    assert verdicts.verdict(small, zero, "higher", effect=0.5) == \
        "not reproduced: smaller than the paper's +0.5 (the interval excludes it, not zero)"
    assert verdicts.verdict(small, zero, "higher").startswith("inconclusive")  # no reported size: cannot say smaller
    assert verdicts.verdict([-x - 1 for x in small], zero, "higher", effect=0.5) == "contradicted: clearly the opposite"
    with pytest.raises(ValueError, match="other way"):
        verdicts.verdict(small, zero, "higher", effect=-0.5)
    for word in ("reproduced", "inconclusive", "not reproduced", "contradicted", "not testable"):
        assert word in verdicts.WORDS


@pytest.mark.parametrize("name,pairs", [
    ("lenet_300_100-fashion_mnist-paper", [("ticket", "dense")]),
    ("lenet_300_100-mnist1d-paper", [("ticket", "dense")]),
    ("lenet_300_100-fashion_mnist-paper-controls", [("sign_reinit", "ticket"), ("ticket", "dense")]),
    ("lenet_300_100-mnist1d-paper-controls", [("sign_reinit", "ticket")]),
    ("resnet20-mnist1d-lr0.1-long", [("ticket", "random_reinit"), ("ticket", "dense")]),
    ("vgg19-mnist1d-lr0.1-long", [("ticket", "dense")])])
def test_no_equivalence_claim_is_reproduced_where_the_run_shows_the_two_apart(name, pairs):
    """Every kind of sameness claim, with its margin from the run's own scale, at every level of a
    shipped run: never 'reproduced' where the same run shows the two clearly apart on the side the
    claim rules out (the old ±1 margin was: five Fashion-MNIST levels with tickets clearly above)."""
    run = full_run(name)
    tested = 0
    for a, b in pairs:
        levels = sorted({r["round"] for r in run.runs if r["condition"] == a and r["round"] > 0})
        for level in levels:
            if b != "dense" and not any(r["round"] == level and r["condition"] == b for r in run.runs):
                continue
            p = stats.paired(run.per_trial(level, a, claims.ACC),
                              run.per_trial(0, "ticket", claims.ACC) if b == "dense" else run.per_trial(level, b, claims.ACC))
            for kind, denied in (("same", p.clear), ("at least", p.below), ("at most", p.above)):
                r = claims.row(run, "x", "y", level, (claims.ACC, a), (claims.ACC, b), kind)
                assert not (denied and verdicts.outcome(r["verdict"]) == "reproduced"), (level, kind, r)
                tested += 1
    assert tested >= 15


def test_a_scan_corrects_for_the_number_of_levels():
    """A level clear only on its own (p just under 0.05) among many flat ones is not a finding once
    the scan corrects for the number of levels (Benjamini–Hochberg); its uncorrected mark stays."""
    from lt_helpers.iterative import Results

    noise = [0.3, -0.2, 0.1, -0.25, 0.05]
    runs = []
    for rnd in range(12):
        for t in range(5):
            shift = {3: 0.02 + noise[t] / 20, 8: 0.5 + noise[t] / 100}.get(rnd, noise[(t + rnd) % 5] / 10)
            for cond, acc in (("ticket", 0.8 + (shift if rnd else 0)), ("random_reinit", 0.8)):
                if rnd or cond == "ticket":
                    runs.append(dict(trial=t, round=rnd, condition=cond, percent_remaining=100 * 0.8 ** rnd,
                                     early_stop_iteration=100, early_stop_test_acc=acc, final_test_acc=acc,
                                     early_stop_at_end=False))
    scan = claims.scan(Results({}, runs), (claims.ACC, "ticket"), (claims.ACC, "random_reinit"))
    assert scan["above uncorrected"] == [3, 8]
    assert stats.paired(*(Results({}, runs).per_trial(3, c, claims.ACC) for c in ("ticket", "random_reinit"))).p > 0.004
    assert scan["above"] == [8] and 3 in scan["unclear"]
    assert claims.stats.corrected([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.0533, 0.0533, 0.5], abs=1e-3)
    assert claims.scan_words(Results({}, runs), scan, "above", "below") == "clearly above at 16.8%"
    assert claims.scan_words(Results({}, runs), {"above": [], "below": []}, "sooner", "later") == \
        "neither clearly sooner nor clearly later at any level"


def test_a_replicate_is_shown_and_a_verdict_is_robust_only_where_both_agree():
    run, again = _fabricated_run(), _fabricated_run(ticket_stop_shift=+500)  # the replicate: tickets slower
    rows = paper.lenet.rows(run, replicate=again)
    proxy = next(r for r in rows if r["paper"] == "yes, at 21.1% (38% sooner)")
    assert proxy["robust"] is False and verdicts.outcome(proxy["replicate"]["verdict"]) == "contradicted"
    acc = next(r for r in rows if r["claim"] == "tickets are more accurate than the dense network (at early stop)")
    assert acc["agree"] is True and acc["robust"] is False  # inconclusive twice (identical differences): not robust
    reinit = next(r for r in rows if r["claim"] == "tickets reach minimum validation loss sooner than their random "
                                                    "reinitializations")
    assert reinit["robust"] is True and verdicts.outcome(reinit["verdict"]) == "reproduced"
    shown = {r["claim"] + r["paper"]: r for r in verdicts.replicated(rows)}
    assert shown[proxy["claim"] + proxy["paper"]]["verdict"].endswith("(not robust: the replicate says "
                                                                      "contradicted: clearly the opposite)")
    assert "; replicate " in shown[proxy["claim"] + proxy["paper"]]["this run"]
    assert shown[acc["claim"] + acc["paper"]]["verdict"].endswith("(the replicate agrees, and neither decides)")
    assert shown[reinit["claim"] + reinit["paper"]]["verdict"].endswith("(robust to re-training: the replicate agrees)")
    oneshot = next(r for r in rows if r["claim"].startswith("one-shot"))
    no_oneshot = Results_without(again, "oneshot")
    assert "replicate" not in paper.lenet.rows(run, replicate=no_oneshot)[rows.index(oneshot)]  # no networks: no claim


def Results_without(run, condition):
    from lt_helpers.iterative import Results

    return Results(run.config, [r for r in run.runs if r["condition"] != condition])


def test_the_shipped_lenet_runs_are_replicates_of_each_other():
    """The controls runs re-train the same trials' tickets from the same θ0 (so chapters show both):
    their dense networks are the same networks, record for record."""
    for data in ("mnist1d", "fashion_mnist"):
        a, b = full_run(f"lenet_300_100-{data}-paper"), full_run(f"lenet_300_100-{data}-paper-controls")
        assert list(a.per_trial(0, "ticket", claims.ACC)) == list(b.per_trial(0, "ticket", claims.ACC))
        row = next(r for r in paper.lenet.rows(a, replicate=b) if "near 3.6%" in r["claim"])
        assert "replicate" in row and "robust" in row


def test_a_difference_on_a_small_test_set_is_said_in_test_examples():
    from lt_helpers.data import TEST_SIZE

    assert claims.stats.examples(0.6, 1000) == "about 6 of 1,000 test examples"
    resnet = full_run("resnet20-mnist1d-lr0.1-long")
    r = claims.row(resnet, "x", "y", resnet.level_nearest(8.6), (claims.ACC, "ticket"), (claims.ACC, "random_reinit"),
                   "higher")
    assert r["this run"].endswith("; about 6 of 1,000 test examples")
    fashion = full_run("lenet_300_100-fashion_mnist-paper")
    assert "test examples" not in claims.row(fashion, "x", "y", 3, (claims.ACC, "ticket"), (claims.ACC, "dense"),
                                             "higher")["this run"]  # 10,000: the interval is the story
    assert TEST_SIZE["mnist1d"] == 1000 and TEST_SIZE["fashion_mnist"] == 10000


def test_float_noise_does_not_make_identical_differences_clear():
    a, b = [97.12, 98.12, 96.12], [97.11, 98.11, 96.11]  # 0.01 points in every trial, up to float rounding
    p = stats.paired(a, b)
    assert p.sign_p == pytest.approx(0.25) and not p.clear


def test_a_scan_skips_levels_where_the_control_did_not_train():
    run = _controls_run()
    assert claims.scan(run, (claims.ACC, "ticket"), (claims.ACC, "random_reinit"))["above"] == [3, 7, 12, 15]


def test_every_verdict_is_read_as_its_rung_of_the_ladder():
    assert verdicts.outcome("not reproduced: clearly lower, though by less than the ±1 margin") == "not reproduced"
    assert verdicts.outcome("not reproduced: smaller than the paper's +0.5 (the interval excludes it, not zero)") == \
        "not reproduced"
    assert verdicts.outcome("contradicted: clearly the opposite") == "contradicted"
    assert verdicts.outcome("inconclusive: the interval covers zero (about 9 trials would decide)") == "inconclusive"
    assert verdicts.outcome("reproduced: within ±1") == "reproduced"
    assert verdicts.outcome("not testable: 3 of 5 networks on the first side were still improving") == "not testable"
    with pytest.raises(ValueError, match="not a verdict"):
        verdicts.outcome("consistent: no clear difference")


def test_an_inconclusive_run_is_no_disagreement_between_data_sets():
    """'Holds on A, inconclusive on B' where B cannot decide: the sentence must not explain it by
    B's data set (the old wording said 'holds on X but not on Y')."""
    rows = lambda verdict: [{"claim": "c", "paper": "p", "this run": "x", "verdict": verdict, "capped": (0, 10)}]
    said = verdicts.disagreements({"A": rows("reproduced"), "B": rows("inconclusive: the interval covers zero")},
                                reference="A")
    assert "holds on A; inconclusive on B: where a run cannot decide there is no disagreement" in said[0]
    assert "data set or scale" not in said[0]
    said = verdicts.disagreements({"A": rows("reproduced"), "B": rows("contradicted: clearly the opposite")},
                                reference="A")
    assert "both runs decide: consistent with that run's data set or scale being the cause" in said[0]


def test_the_best_level_is_chosen_on_validation_not_test():
    """Round 1 has the best test accuracy, round 2 the best validation accuracy: best_level
    must pick round 2 (the test set chooses nothing), and the dense round is never a choice."""
    from lt_helpers.iterative import Results

    runs = []
    for t in range(3):
        for rnd, (val, test) in enumerate([(0.99, 0.99), (0.80, 0.95), (0.90, 0.85), (0.85, 0.80)]):
            runs.append(dict(trial=t, round=rnd, condition="ticket", percent_remaining=100 * 0.8 ** rnd,
                             early_stop_iteration=200, early_stop_test_acc=test, final_test_acc=test,
                             curve={"iteration": [0, 100, 200, 300], "val_acc": [0.1, 0.5, val, val - 0.01]}))
    res = Results({}, runs)
    assert res.best_level() == 2
    assert res.frame().groupby("round").early_stop_test_acc.mean().drop(0).idxmax() == 1  # what test would choose
    assert res.per_trial(2, "ticket", "early_stop_val_acc") == pytest.approx([90.0] * 3)


def test_the_reference_condition_is_chosen_on_validation_not_test():
    """Chapter 6 compares every control with the best condition at a level: the ticket is best on
    test data, the sign control on validation data, and validation must choose."""
    from lt_helpers.iterative import Results

    runs = [dict(trial=t, round=1, condition=c, percent_remaining=80.0, early_stop_iteration=200,
                 early_stop_test_acc=test, final_test_acc=test,
                 curve={"iteration": [0, 100, 200, 300], "val_acc": [0.1, 0.5, val, val - 0.01]})
            for t in range(3) for c, val, test in (("ticket", 0.80, 0.95), ("sign_reinit", 0.90, 0.85),
                                                   ("random_reinit", 0.70, 0.75))]
    res = Results({}, runs)
    assert res.best_condition(1) == "sign_reinit"
    assert res.frame().groupby("condition").early_stop_test_acc.mean().idxmax() == "ticket"  # what test would choose


def test_the_glossary_says_which_tickets_the_two_lenet_runs_share_bit_for_bit():
    """The glossary's batching entry names the trials in which the two MNIST-1D LeNet full runs
    (identical but for the controls trained beside the tickets) agree bit for bit: checked here."""
    from pathlib import Path

    a, b = full_run("lenet_300_100-mnist1d-paper"), full_run("lenet_300_100-mnist1d-paper-controls")
    tickets = lambda run: {(r["trial"], r["round"]): r["curve"] for r in run.runs if r["condition"] == "ticket"}
    ta, tb = tickets(a), tickets(b)
    parted = {k for k in ta if ta[k] != tb[k]}
    assert {t for t, _ in parted} == {2} and min(r for _, r in parted) == 1
    assert parted == {(2, r) for r in range(1, 16)}
    glossary = (Path(__file__).parents[1] / "chapters" / "glossary.md").read_text()
    assert "agree bit for bit in trials 0, 1, 3 and 4 but part in trial 2 from its first pruned round" in glossary


def test_a_paired_row_is_the_claim_its_interval_and_its_verdict():
    a, b = [62, 63, 61, 64, 62], [60, 60.5, 59, 61, 60]
    r = claims.paired_row("tickets are more accurate", "+1 point", "at 21.1%: ", a, b, "higher")
    assert r == {"claim": "tickets are more accurate", "paper": "+1 point",
                 "this run": "at 21.1%: " + stats.brief(a, b), "verdict": verdicts.verdict(a, b, "higher")}
    assert r["verdict"].startswith("reproduced")
    assert claims.paired_row("x", "y", "", a, b, "lower", "iterations", 0)["verdict"].startswith("contradicted")


def test_the_glossary_names_every_full_runs_schedule():
    """"Full run" means a different schedule per chapter: the glossary's entry names each shipped
    run's training length, as its recorded command gives it, beside its network."""
    import re
    from pathlib import Path

    from lt_helpers.tools import cli

    glossary = (Path(__file__).parents[1] / "chapters" / "glossary.md").read_text()
    entry = re.search(r"^full run\n(.*?)\n\n", glossary, re.S | re.M).group(1)
    shown = {"lenet_300_100": "LeNet-300-100", "conv2": "Conv-2", "conv4": "Conv-2/4", "conv6": "Conv-2/4/6",
             "resnet20": "ResNet-20", "vgg19": "VGG-19"}
    for name, command in FULL_RUNS.items():
        experiment = cli.experiment_of(command.split()[3:])
        assert shown[experiment.model] in entry, name
        assert re.search(rf"(?<![\d,]){int(experiment.hyper.iterations):,}(?![\d,])", entry), name


@pytest.mark.parametrize("name", [n for n in FULL_RUNS if n.endswith("-long") and n.startswith(("vgg19", "resnet20"))])
def test_the_deep_networks_long_runs_are_trained_to_the_end(name):
    """The long VGG-19 and ResNet-20 runs exist to test the paper where the short ones could not:
    at every level and condition most of their networks had finished improving (their minimum
    validation loss before the last evaluation), so no row on them is "not testable" for length."""
    frame = full_run(name).frame()
    still = frame.groupby(["round", "condition"]).early_stop_at_end.mean()
    assert (still < 0.5).all(), still[still >= 0.5]


def test_a_row_can_take_its_comparison_from_another_run_of_the_same_trials():
    """b_run: tickets of one run against the dense networks of another (chapter 5 measures ResNet-20's
    tickets against the dense network trained at lr 0.1, as the paper does)."""
    from lt_helpers.iterative import Results

    run = _fabricated_run()
    better = Results(run.config, [{**r, "early_stop_test_acc": r["early_stop_test_acc"] + 0.05 + 0.002 * r["trial"]}
                                  for r in run.runs])  # its networks 5.0 to 5.8 points more accurate
    own = claims.row(run, "x", "y", 5, (claims.ACC, "ticket"), (claims.ACC, "dense"), "higher")
    other = claims.row(run, "x", "y", 5, (claims.ACC, "ticket"), (claims.ACC, "dense"), "higher", b_run=better)
    assert own["this run"].startswith("at 32.8%: +1.0 points (the same in all 5 trials")
    assert other["verdict"] == "contradicted: clearly the opposite" and other["this run"].startswith("at 32.8%: −4.4 points")
    assert other["capped"] == (0, 10)


def test_a_statisticians_edge_cases():
    """What an independent review of the ladder found, each pinned: a margin in the compared
    quantity's unit, a NaN margin refused, identical differences never decided below 6 trials
    whatever the claim, a censored majority read from its counts, the trials estimate measured to
    the margin's nearer edge, a share of a lead only where there is a clear lead."""
    import math

    run = _fabricated_run()
    stop_margin = claims.margin_of(run, claims.STOP)
    r = claims.row(run, "x", "y", 4, (claims.STOP, "ticket"), (claims.STOP, "dense"), "same", "iterations", 0)
    assert f"{round(stop_margin, 2):.2g}" in r["verdict"] and stop_margin > 10  # iterations, not accuracy points
    with pytest.raises(ValueError, match="margin must be a number"):
        verdicts.verdict([1.0, 2.0, 3.0], [1.0, 2.5, 2.0], "same", margin=float("nan"))
    assert verdicts.verdict([2.0] * 5, [0.0] * 5, "same", margin=0.5).startswith("inconclusive: the same difference")
    assert verdicts.verdict([-100.0] * 5, [0.0] * 5, "lower").startswith("inconclusive: the same difference")
    inf = math.inf  # 6 trials later, 7 ties (neither reached): the majority decides, not a median of 0
    assert verdicts.verdict([1] * 7 + [inf] * 6, [1] * 7 + [5] * 6, "higher") == "reproduced"
    near = stats.paired([0.9, -0.7, 0.8, -0.6, 0.1], [0.0] * 5)
    assert near.trials_to_decide(0.0, 0.37) == 33  # to the nearer edge, +0.37, not the far one
    assert "about 33 trials" in verdicts.verdict([0.9, -0.7, 0.8, -0.6, 0.1], [0.0] * 5, "same", margin=0.37)
    unclear_lead = paper.lenet.control_rows(_controls_run(sign_noise=0.0001))  # a lead of 2 points: shared
    assert "keeps" in unclear_lead[3]["this run"]
    no_lead = Results_without(_controls_run(), "none")
    flat = type(no_lead)({}, [{**x, "early_stop_test_acc": x["early_stop_test_acc"] + (0.02 if x["condition"] ==
                               "random_reinit" else 0.0)} for x in no_lead.runs])  # reinit level with the ticket
    assert all("keeps" not in r["this run"] for r in paper.lenet.control_rows(flat))


def test_disagreeing_replicates_stop_a_data_set_explanation():
    row = lambda verdict, agree=True: {"claim": "c", "paper": "p", "this run": "x", "verdict": verdict,
                                       "capped": (0, 10), "agree": agree, "robust": agree,
                                       "replicate": {"verdict": "contradicted: clearly the opposite"}}
    said = verdicts.disagreements({"A": [row("reproduced", agree=False)], "B": [row("contradicted: clearly the opposite")]},
                                reference="A")
    assert "the replicates do not agree" in said[0].lower() and "data set or scale being the cause" not in said[0]


def test_the_scoreboard_counts_each_full_runs_verdicts_and_links_each_network_to_its_chapter():
    """The paper at a glance (chapter 2): the book's column is generated from the shipped runs,
    with the same verdicts as the chapters' claims tables."""
    from lt_helpers import models, paper, verdicts

    board = paper.glance.scoreboard()
    for data_set, name in paper.glance.SCORED["lenet_300_100"].items():
        words = [verdicts.outcome(r["verdict"]) for r in paper.lenet.rows(full_run(name))]
        assert board["lenet_300_100"][data_set] == {w: words.count(w) for w in verdicts.WORDS if words.count(w)}
    for model in ("conv2", "conv4", "conv6"):
        rows = paper.conv.rows(full_run(f"{model}-mnist1d-full"), model)
        assert sum(board[model]["MNIST-1D"].values()) == len(rows) == 4
    # VGG-19 and ResNet-20: every row of chapter 5's claims table about the network, from its several runs
    for model, n in (("vgg19", 8), ("resnet20", 11)):
        words = [verdicts.outcome(r["verdict"]) for r in paper.deep.rows(model)]
        assert len(words) == n and board[model]["MNIST-1D"] == {w: words.count(w) for w in verdicts.WORDS if words.count(w)}
    assert set(board) == {m for m, name in models.NAMES.items() if name in {r["network"] for r in paper.glance.AT_A_GLANCE}}
    shown = paper.glance.at_a_glance().data
    for r in paper.glance.AT_A_GLANCE:
        assert r["network"] in shown and f'/chapters/{r["chapter"]}.html">chapter {int(r["chapter"][:2])}</a>' in shown
    counts = board["lenet_300_100"]["Fashion-MNIST"]
    assert f"Fashion-MNIST: {counts.get('reproduced', 0)} of the paper's {sum(counts.values())} claims reproduced" in shown
    assert shown.count("claims reproduced") == 7  # LeNet on two data sets, and each of the five others on one


def test_the_lenet_story_says_each_runs_headlines_in_words():
    from lt_helpers import paper

    rows = {"Fashion-MNIST": paper.lenet.rows(full_run("lenet_300_100-fashion_mnist-paper"))}
    story = paper.lenet.story(rows)
    assert story.startswith("**Fashion-MNIST**: of the paper's 20 tests, ") and "95%" not in story
    first = story.split("\n\n")[0]
    assert all(said in first for *_, said in paper.lenet.HEADLINES) and "(*reproduced*)" in first
    with pytest.raises(ValueError, match="HEADLINES and rows disagree"):  # never dropped silently
        paper.lenet.headlines([dict(r, claim="renamed") for r in rows["Fashion-MNIST"]])


def test_chapter_5_tests_the_papers_deep_network_claims_through_paper_py_rows_equal():
    """Chapter 5's claims table is built by lt_helpers.paper (the scoreboard's source), not inline: the chapter's
    rows about each network are paper.deep.rows' rows, in the chapter's order."""
    import json

    from lt_helpers import paper

    from pathlib import Path

    cells = json.loads((Path(__file__).parents[1] / "chapters" / "05_deep_networks.ipynb").read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "verdicts.verdict(" not in code and "claims.row(" not in code and "def long_claims" not in code
    for call in ('paper.deep.scope_row("ResNet-20"', 'paper.deep.short_lr_rows(lr_runs)', 'paper.deep.scope_row("VGG-19"',
                 'paper.deep.long_rows("VGG-19"', 'paper.deep.long_rows("ResNet-20"'):
        assert call in code
    runs = {part: {k: full_run(n) for k, n in names.items()} for part, names in paper.deep.RUNS["resnet20"].items()}
    short, leads = paper.deep.short_lr_rows(runs["short"])
    assert [r["claim"] for r in paper.deep.rows("resnet20")[1:4]] == [r["claim"] for r in short]
    assert set(leads) == set(paper.deep.SHORT_CLAIMED) and all(len(v) == runs["short"]["lr 0.1"].config["trials"]
                                                          for v in leads.values())


def test_the_conv_story_says_each_claim_its_level_and_verdict_in_the_rows_order():
    from lt_helpers import paper

    rows = paper.conv.rows(full_run("conv2-mnist1d-full"), "conv2")
    story = paper.conv.story({"Conv-2 on MNIST-1D": rows})
    first = story.split("\n\n")[0]
    assert first.startswith("**Conv-2 on MNIST-1D** (4 tests: ") and "95%" not in first
    words = [verdicts.outcome(r["verdict"]) for r in rows]
    claims_said = ("tested at {}% of the weights (here dense ÷ ticket", "): *{}*. That tickets", "tested at {}% (here",
                   "*{}* at early stopping, *{}* at the end of training", "random reinitializations (the paper: ")
    levels = [r["this run"].split("at ", 1)[1].split("%")[0] for r in rows]
    assert [f"{r['level']:.1f}" for r in rows] == levels
    assert claims_said[0].format(levels[0]) in first and claims_said[1].format(words[0]) in first
    assert claims_said[2].format(levels[1]) in first and claims_said[3].format(*words[1:3]) in first
    assert claims_said[4] in first
    assert first.split("(4 tests: ")[1].split("). ", 1)[1].startswith(
        "The paper's claim that tickets reach minimum validation loss sooner than the dense network (3.5× sooner at "
        "8.8%)") and "(+3.4 points at 4.6%, at early stopping)" in first and f"sparsest level, {levels[3]}%" in first
    assert "(here dense ÷ ticket " in first and "95%" not in first  # this run's number, its interval in the evidence
    mixed = [rows[0], dict(rows[1], verdict="reproduced"), *rows[2:]]  # each verdict goes with its own claim
    assert "*reproduced* at early stopping" in paper.conv.said(mixed)
    smaller = [dict(rows[0], verdict="reproduced, though smaller than the paper's 3.5×"), *rows[1:]]
    assert "): *reproduced*, though smaller than the paper's. That" in paper.conv.said(smaller)
    capped = [*rows[:3], dict(rows[3], verdict="not testable: 3 of the 5 random reinitializations were still improving "
                                               "at their end (a longer run decides)")]
    assert "*not testable* — 3 of the 5 random reinitializations were still improving" in paper.conv.said(capped)
    assert story.endswith(lesson.LEGEND)
    assert paper.conv.tally([dict(r, verdict="contradicted: clearly the opposite") for r in rows]) == "all 4 contradicted"


def test_conv_claims_say_how_many_networks_were_still_improving_so_runs_can_be_compared():
    """verdicts.disagreements reads each row's ``capped``: two conv runs whose verdicts differ are
    compared in words (without it, any difference raised a KeyError)."""
    from lt_helpers import paper

    run = full_run("conv2-mnist1d-full")
    rows = paper.conv.rows(run, "conv2")
    last = max(r["round"] for r in run.runs)
    still = int(run.per_trial(last, "ticket", "early_stop_at_end").sum()
                + run.per_trial(last, "random_reinit", "early_stop_at_end").sum())
    assert rows[3]["capped"] == (still, 10) and all(r["capped"][1] == 10 for r in rows)
    other = [dict(r, verdict="reproduced") for r in rows]
    said = verdicts.disagreements({"A": rows, "B": other}, reference="B")
    assert len(said) == sum(verdicts.outcome(r["verdict"]) != "reproduced" for r in rows)
    assert rows[0]["verdict"].startswith("not reproduced: smaller than the paper's 3.5× (the interval excludes it")


def test_the_speed_claim_is_a_ratio_tested_on_the_log_scale(monkeypatch):
    """The paper's 3.5× is a ratio: the row says dense ÷ ticket as a geometric mean with its
    interval, and the verdict holds log ticket − log dense against −log 3.5, so the same run
    at twice the iterations gets the same verdict."""
    from lt_helpers import paper
    from lt_helpers.results import Results

    assert stats.times([400.0, 800.0], [100.0, 200.0]) == "4.00× (the same in all 2 trials)"
    assert stats.times([300.0, 500.0, 400.0], [100.0, 200.0, 100.0]).startswith(
        "3.11× (geometric mean, 95% CI 1.")  # the ratio of the means is 3.0
    with pytest.raises(ValueError, match="a speed-up is a claim of direction"):
        claims.paired_row("x", "y", "", [1.0, 2.0], [2.0, 3.0], "same", margin=1.0, speedup=(2.0, "2×", "b ÷ a"))
    with pytest.raises(ValueError, match="a ratio needs positive values"):
        stats.times([0.0, 1.0], [1.0, 1.0])
    run = full_run("conv2-mnist1d-full")
    seen = []
    real = verdicts.verdict
    monkeypatch.setattr(claims, "verdict", lambda *a, **k: seen.append(a) or real(*a, **k))
    first = paper.conv.rows(run, "conv2")[0]
    ticket, dense, claimed, at_end, margin, effect, effect_said, unit, names = seen[0]
    s = run.level_nearest(8.8)
    assert np.allclose(ticket, np.log(run.per_trial(s, "ticket", "early_stop_iteration")))
    assert np.allclose(dense, np.log(run.per_trial(0, "ticket", "early_stop_iteration")))
    assert claimed == "lower" and np.isclose(effect, -np.log(3.5)) and effect_said == "the paper's 3.5×"
    assert unit == "log iterations"  # a tipping point is said as a factor
    ratio = stats.times(run.per_trial(0, "ticket", "early_stop_iteration"), run.per_trial(s, "ticket", "early_stop_iteration"))
    assert first["this run"] == f"at {first['level']:.1f}%: dense ÷ ticket {ratio}"
    doubled = Results(run.config, [{**r, "early_stop_iteration": 2 * r["early_stop_iteration"]} for r in run.runs])
    assert paper.conv.rows(doubled, "conv2")[0]["verdict"] == first["verdict"]  # scale-free
    stalled = Results(run.config, [{**r, "early_stop_iteration": 0} if r["round"] == s and r["trial"] == 0 else r
                                   for r in run.runs])
    assert paper.conv.rows(stalled, "conv2")[0]["verdict"].startswith("not testable: a network's validation loss")



def test_the_papers_accuracy_points_hold_a_run_only_on_the_papers_own_data_set(monkeypatch):
    """+0.3 and +0.5 points are MNIST's (LeNet), +3.4 CIFAR-10's (Conv-2): on another data set a
    point is another share of the error, so the accuracy claims keep their direction only."""
    from lt_helpers import paper
    from lt_helpers.results import Results

    assert claims.paper_points(0.5, "lenet_300_100", "mnist") == 0.5
    assert claims.paper_points(0.5, "lenet_300_100", "fashion_mnist") is None
    assert claims.paper_points(3.4, "conv2", "cifar10") == 3.4 and claims.paper_points(3.4, "conv2", "mnist") is None
    fashion = full_run("lenet_300_100-fashion_mnist-paper")
    by = lambda run: {r["claim"]: r["verdict"] for r in paper.lenet.rows(run)}
    here, as_mnist = by(fashion), by(Results({**fashion.config, "dataset": "mnist"}, fashion.runs))
    reinit = "tickets are more accurate than their random reinitializations"
    assert "+0.5" not in here[reinit] and "the paper's +0.5" in as_mnist[reinit]  # inconclusive both: +0.2 (−0.2, +0.7)
    assert verdicts.outcome(here[reinit]) == verdicts.outcome(as_mnist[reinit]) == "inconclusive"

def test_a_dense_network_is_held_against_the_baseline_of_its_own_kind():
    """LeNet against published MLPs, Conv-2 against published two-convolution CNNs; a network or data
    set without one is a clear error that says which there are."""
    from lt_helpers import baselines
    from lt_helpers.results import Results

    lenet = full_run("lenet_300_100-fashion_mnist-paper")
    said = baselines.dense_against_published("Fashion-MNIST", lenet)
    assert "dense LeNet" in said and "MLPClassifier" in said and "every trial is above that range" in said
    conv = Results({**lenet.config, "model": "conv2"}, lenet.runs)  # the same numbers, read as a Conv-2 run
    said = baselines.dense_against_published("Fashion-MNIST", conv)
    assert "dense Conv-2" in said and "87.6–93.2%" in said and "every trial lies within that range" in said
    low = full_run("lenet_300_100-mnist1d-paper")  # about 60%: read as a Conv-2 on Fashion-MNIST, far below
    said = baselines.dense_against_published("X", Results({**low.config, "model": "conv2", "dataset": "fashion_mnist"},
                                                          low.runs))
    assert "every trial is below that range: by those standards this dense network is undertrained" in said
    assert baselines.in_brief(conv).startswith("The dense Conv-2 reaches 88.8% test accuracy at the end of training")
    assert ("published two-convolution networks on this data set reach 87.6–93.2% (results submitted to the data "
            "set's benchmark table, untested by its maintainers): the check") in baselines.in_brief(conv)
    assert "published MLPs on this data set reach 84.0–87.1%: the check that the dense" in baselines.in_brief(lenet)
    assert baselines.published("conv2", "fashion_mnist").source.startswith("the data set's repository")
    with pytest.raises(LTError, match="no published baseline for conv4 on fashion_mnist: there are .*conv2 on "
                                      "fashion_mnist"):
        baselines.published("conv4", "fashion_mnist")


def test_conv_accuracy_claims_use_the_papers_points_only_on_cifar10_and_the_sparsest_level_needs_reinits(monkeypatch):
    """The paper's +3.4 points are CIFAR-10's: on another data set (another ceiling) the accuracy
    claims are held to their direction only, while the speed claim keeps the paper's ratio; a run
    whose sparsest level lacks reinitializations cannot test the claim about that level."""
    from lt_helpers import paper
    from lt_helpers.results import Results

    run = full_run("conv2-mnist1d-full")
    effects = []
    real = verdicts.verdict
    spy = lambda *a, **k: effects.append(k.get("effect", a[5] if len(a) > 5 else None)) or real(*a, **k)
    monkeypatch.setattr(verdicts, "verdict", spy)
    monkeypatch.setattr(claims, "verdict", spy)  # the speed row's, through claims.paired_row
    paper.conv.rows(run, "conv2")
    assert effects[0] < 0 and effects[1:] == [None, None, None]
    effects.clear()
    paper.conv.rows(Results({**run.config, "dataset": "cifar10"}, run.runs), "conv2")
    assert effects[1:] == [3.4, None, None]
    last = max(r["round"] for r in run.runs)
    short = Results(run.config, [r for r in run.runs if not (r["round"] == last and r["condition"] == "random_reinit")])
    with pytest.raises(ValueError, match="sparsest level of this run has no random reinitializations"):
        paper.conv.rows(short, "conv2")



def test_agreement_counts_only_decided_verdicts_as_the_same():
    """Two runs that both cannot decide a claim do not agree on it; one that cannot decide and one
    that does leave nothing to explain; two that decide differently are the case to attribute."""
    row = lambda v: {"verdict": v, "claim": "c", "paper": "p", "this run": "x", "capped": (0, 10)}
    a = [row("reproduced"), row("not testable: 3 of 5 still improving"), row("inconclusive: covers both"),
         row("contradicted: clearly the opposite")]
    b = [row("reproduced"), row("inconclusive: covers both"), row("reproduced"), row("reproduced")]
    said = verdicts.agreement({"A": a, "B": b}, ["speed", "gain", "end", "reinit"])
    assert said == ("Both runs give the same verdict on speed (*reproduced*); neither "
                    "decides gain; only one decides end, so there is no disagreement to explain; they decide reinit "
                    "differently, and the evidence says whether the data set can be the reason.")
    assert "same verdict" not in verdicts.agreement({"A": a[1:2], "B": a[1:2]}, ["gain"])
