"""The paper's results as content, in one place: what Frankle and Carbin report network by
network (ICLR 2019, arXiv:1803.03635v5: Sections 2-4, Figures 3-5 and 7-9, Appendices B-I), the
claims about the convolutional networks tested on a run, and the book's scoreboard: for each of
the paper's networks and each data set the book trains it on, how its claims fare in the full
runs the book ships, generated from them.

The LeNet claims are :func:`lt_helpers.claims.lenet_rows`; the decision rule is
:mod:`lt_helpers.verdicts`.
"""

from __future__ import annotations

import pandas as pd

from . import claims, lesson, stats, verdicts

__all__ = ["AT_A_GLANCE", "NAMES", "CONV_BEST", "conv_rows", "DEEP_RUNS", "near_end", "scope_row", "SHORT_CLAIMED",
           "short_lr_rows", "LONG_SAID", "long_rows", "deep_rows", "SCORED", "scoreboard", "at_a_glance",
           "LENET_HEADLINES", "lenet_headlines", "lenet_story"]

# The paper's headline results, network by network (its architecture table, Sections 2-4).
AT_A_GLANCE = [
    dict(network="LeNet-300-100", data="MNIST", pruning="layer-wise (fc 20%, output 10% a round)",
         training="Adam 1.2e-3, 50K iterations",
         ticket="down to 3.6% (back to dense there)", faster="38% sooner than dense at 21.1%; 2.51× sooner "
         "than its reinitialization", accurate="+0.3 points at 13.5%; +0.5 over its reinitialization at 21%",
         chapter="03_iterative_pruning"),
    dict(network="Conv-2", data="CIFAR-10", pruning="layer-wise (conv 10%, fc 20%)", training="Adam 2e-4, 20K",
         ticket="above dense while more than 2% remain", faster="3.5× at 8.8%", accurate="+3.4 points at 4.6%",
         chapter="04_convolutional"),
    dict(network="Conv-4", data="CIFAR-10", pruning="layer-wise (conv 10%, fc 20%)", training="Adam 3e-4, 25K",
         ticket="above dense while more than 2% remain", faster="3.5× at 9.2%", accurate="+3.5 points at 11.1%",
         chapter="04_convolutional"),
    dict(network="Conv-6", data="CIFAR-10", pruning="layer-wise (conv 15%, fc 20%)", training="Adam 3e-4, 30K",
         ticket="above dense while more than 2% remain", faster="2.5× at 15.1%", accurate="+3.3 points at 26.4%",
         chapter="04_convolutional"),
    dict(network="VGG-19", data="CIFAR-10", pruning="global (conv 20%)", training="SGD lr 0.1, 112K; also lr 0.01, and warmup",
         ticket="none at lr 0.1; lr 0.01: within 1 point to 3.5%; warmup: above dense to 1.5%",
         faster="not reported", accurate="with warmup, above dense down to 1.5% (layer-wise: to 6.9%)",
         chapter="05_deep_networks"),
    dict(network="ResNet-20", data="CIFAR-10", pruning="global (conv 20%)", training="SGD lr 0.1, 30K; also lr 0.01, and warmup",
         ticket="none above lr 0.01 without warmup; lr 0.03 with warmup: down to 11.8%", faster="not reported",
         accurate="lr 0.01: 89.5% at 41.7–21.9% (dense: 90.5%); warmup: 90.5% at 27.1%",
         chapter="05_deep_networks"),
]

# Conv-2/4/6 on CIFAR-10, their best levels: (speed-up, at %), (accuracy gain in points, at %)
CONV_BEST = {"conv2": ((3.5, 8.8), (3.4, 4.6)), "conv4": ((3.5, 9.2), (3.5, 11.1)), "conv6": ((2.5, 15.1), (3.3, 26.4))}
NAMES = {"lenet_300_100": "LeNet-300-100", "conv2": "Conv-2", "conv4": "Conv-4", "conv6": "Conv-6",
         "vgg19": "VGG-19", "resnet20": "ResNet-20"}


def _ends(res, rnd: int, cond: str):
    """Per trial: still improving at its last evaluation (its early stop is then a bound)."""
    return res.per_trial(rnd, cond, "early_stop_at_end")


def conv_rows(res, model: str) -> list[dict]:
    """The paper's claims about Conv-2/4/6 (Section 3, Figure 5) tested on ``res``, a run with
    tickets and ``random_reinit`` networks, paired by trial: tickets sooner than the dense network
    at the level nearest the paper's best speed-up (held to its ratio on this run's scale), more
    accurate at the level nearest its best gain (at early stop, and at the end of training), and
    more accurate than their reinitializations at the sparsest level."""
    (speed, speed_at), (gain, gain_at) = CONV_BEST[model]
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


# VGG-19 and ResNet-20 (Section 4, Figures 7-9): global against layer-wise pruning, and the ticket
# against its reinitialization at the paper's learning rates (chapter 5 tests them on these runs)
DEEP_RUNS = {
    "resnet20": dict(scope={s: f"resnet20-mnist1d-{s}-full" for s in ("global", "layer")},
                     short={"lr 0.1": "resnet20-mnist1d-lr0.1-full", "lr 0.01": "resnet20-mnist1d-lr0.01-full",
                            "lr 0.1, warmup 64": "resnet20-mnist1d-warmup-full"},
                     long={"lr 0.1": "resnet20-mnist1d-lr0.1-long", "lr 0.01": "resnet20-mnist1d-lr0.01-long",
                           "lr 0.03, warmup 4,000": "resnet20-mnist1d-warmup-long"}),
    "vgg19": dict(scope={s: f"vgg19-mnist1d-{s}-full" for s in ("global", "layer")},
                  long={"lr 0.1": "vgg19-mnist1d-lr0.1-long", "lr 0.01": "vgg19-mnist1d-lr0.01-long",
                        "lr 0.1, warmup 533": "vgg19-mnist1d-warmup-long"}),
}


def near_end(res, rnd: int, cond: str):
    """Per trial: still improving when training stopped, its minimum validation loss at the end or one evaluation
    interval before it (at 320 iterations: 300 or 320), where nothing shows that it had finished improving."""
    hp = res.config["hyper"]
    second_last = (hp["iterations"] - 1) // hp["eval_every"] * hp["eval_every"]  # the evaluation before the end
    return res.per_trial(rnd, cond, "early_stop_iteration") >= second_last


def scope_row(network: str, scopes: dict) -> dict:
    """Global against layer-wise pruning (``scopes``: their runs), tickets at the sparsest level, by trial."""
    last = max(r["round"] for r in scopes["global"].runs)
    pct = scopes["global"].means().loc[(last, "ticket")].percent_remaining
    g, lw = scopes["global"].per_trial(last, "ticket"), scopes["layer"].per_trial(last, "ticket")
    paper = "with warmup: global above the dense network down to 1.5%, layer-wise only to 6.9%"  # VGG-19's
    return dict(claim=f"{network}: global pruning keeps sparse tickets more accurate than layer-wise pruning at the same "
                      "sparsity", paper=paper if network == "VGG-19" else f"VGG-19 {paper}",
                **{"this run": f"at {pct:.1f}%: global − layer-wise {stats.brief(g, lw)}"},
                verdict=verdicts.verdict(g, lw, "higher", at_end=(near_end(scopes["global"], last, "ticket"),
                                                                near_end(scopes["layer"], last, "ticket"))))


SHORT_CLAIMED = {"lr 0.1": ("at most", "no tickets: the ticket no better than its reinitialization"),
                 "lr 0.01": ("higher", "tickets: 89.5% test accuracy from 41.7% down to 21.9% of the weights"),
                 "lr 0.1, warmup 64": ("higher", "tickets, at lr 0.03 with 20,000 warmup iterations (90.5% at 27.1%, "
                                                 "winning down to 11.8%)")}


def short_lr_rows(lr_runs: dict) -> tuple[list[dict], dict]:
    """ResNet-20's short runs at three learning-rate settings: the ticket against its reinitialization at the
    sparsest level (rows), and its lead there per trial (setting -> points)."""
    rows, leads = [], {}
    for key, res in lr_runs.items():
        top = max(r["round"] for r in res.runs)
        t, r = res.per_trial(top, "ticket"), res.per_trial(top, "random_reinit")
        leads[key] = t - r
        how, said = SHORT_CLAIMED[key]
        rows.append(dict(claim=f"{key}: ticket against its random reinitialization", paper=said,
                         **{"this run": f"at {res.means().loc[(top, 'ticket')].percent_remaining:.1f}%: ticket − reinit "
                                        f"{stats.brief(t, r)}; dense {res.per_trial(0, 'ticket').mean():.1f}%"},
                         verdict=verdicts.verdict(t, r, how, at_end=(near_end(res, top, "ticket"),
                                                                   near_end(res, top, "random_reinit")),
                                                margin=claims.margin_of(res))))  # "at most": within the dense spread
    return rows, leads


ACC, REINIT, DENSE = (claims.ACC, "ticket"), (claims.ACC, "random_reinit"), (claims.ACC, "dense")
_NO = "the ticket is no more accurate than its random reinitialization"
_MORE = "the ticket is more accurate than its random reinitialization"
# each long run's claims: the claim, what it is tested against, how, the paper's words, and the level
# (`near`: the one nearest the sparsest the paper names; otherwise the sparsest); `dense_of`: another setting's dense
LONG_SAID = {
    "vgg19": {
        "lr 0.1": [dict(claim=_NO, against=REINIT, how="at most", paper="no tickets: the ticket no better than its reinitialization")],
        "lr 0.01": [dict(claim=_MORE, against=REINIT, how="higher", paper="tickets found (lr 0.01, where lr 0.1 finds none)"),
                    dict(claim="tickets are at least as accurate as the dense network", against=DENSE, how="at least",
                         paper="tickets: within 1 point of the dense network down to 3.5%")],
        "lr 0.1, warmup 533": [
            dict(claim=_MORE, against=REINIT, how="higher",
                 paper="tickets found (lr 0.1 with warmup over 10,000 iterations; without warmup none)"),
            dict(claim="tickets are more accurate than the dense network", against=DENSE, how="higher",
                 paper="tickets: above the dense network down to 1.5% (warmup over 10,000 iterations)")]},
    "resnet20": {
        "lr 0.1": [dict(claim=_NO, against=REINIT, how="at most", paper="no tickets above lr 0.01 without warmup")],
        "lr 0.01": [dict(claim=_MORE, against=REINIT, how="higher", near=21.9,
                         paper="tickets from 41.7% down to 21.9% (where lr 0.1 finds none)"),
                    dict(claim="tickets are at least as accurate as the dense network trained at lr 0.1", against=DENSE,
                         dense_of="lr 0.1", how="at least", near=21.9,
                         paper="89.5% from 41.7% down to 21.9% (the dense network, trained at lr 0.1: 90.5%)")],
        "lr 0.03, warmup 4,000": [
            dict(claim=_MORE, against=REINIT, how="higher", near=11.8,
                 paper="tickets down to 11.8% (lr 0.03, 20,000 warmup iterations)"),
            dict(claim="tickets are at least as accurate as the dense network trained at lr 0.1", against=DENSE,
                 dense_of="lr 0.1", how="at least", near=11.8,
                 paper="winning down to 11.8%; 90.5% at 27.1%, the dense network's accuracy at lr 0.1")]},
}


def long_rows(network: str, runs: dict, said: dict) -> tuple[list[dict], str]:
    """The paper's claims about ``network`` tested on its long runs (one per learning-rate setting, the first lr 0.1
    where the paper finds no tickets): a row per claim of ``said[setting]``, then, at the sparsest level all settings
    share, whether the ticket's lead over its reinitialization is smaller at lr 0.1 than with each other setting.
    Also returns the scans behind them in words: every level, corrected for the number of levels."""
    rows, lines, lead = [], [], {}
    for key, res in runs.items():
        top = max(r["round"] for r in res.runs)
        tested = set()
        for c in said[key]:
            level = res.level_nearest(c["near"]) if "near" in c else top
            rows.append(claims.row(res, f"{network}, {key}: {c['claim']}", c["paper"], level, ACC, c["against"],
                                   c["how"], b_run=runs.get(c.get("dense_of"))))
            tested.add(f"{res.frame().query('round == @level').percent_remaining.mean():.1f}%"
                       + (f", the level nearest the paper's {c['near']}%" if "near" in c else ""))
        vs_reinit, vs_dense = claims.scan(res, ACC, REINIT), claims.scan(res, ACC, DENSE)
        lead[key] = {lv: res.per_trial(lv, "ticket") - res.per_trial(lv, "random_reinit") for lv in range(1, top + 1)}
        n, n_end = len(res.frame()), int(res.frame().early_stop_at_end.sum())
        lines.append(f"* **{key}** (dense {res.per_trial(0, 'ticket').mean():.1f}%): against their reinitializations, "
                     f"tickets are {claims.scan_words(res, vs_reinit, 'more accurate', 'less accurate')}; against the "
                     f"dense network, {claims.scan_words(res, vs_dense, 'above', 'below')}. "
                     + (f"{n_end} of {n} networks {'was' if n_end == 1 else 'were'}" if n_end else f"None of the {n} networks was")
                     + f" still improving at {'their' if n_end > 1 else 'its'} last evaluation. The claims table "
                     f"tests this setting at {' and '.join(sorted(tested))}.")
    high, *others = runs  # the paper's contrast, at the levels every setting trained
    common = sorted(set.intersection(*(set(lead[k]) for k in runs)))
    pct = runs[high].frame().query("round == @common[-1]").percent_remaining.mean()
    contrast = []
    for k in others:
        rows.append(claims.paired_row(f"{network}: the ticket's lead over its reinitialization is smaller at {high} "
                                      f"than at {k} (at the sparsest level all settings share)",
                                      f"yes: no lead at {high}, a lead at {k}", f"at {pct:.1f}%: ",
                                      lead[high][common[-1]], lead[k][common[-1]], "lower"))
        s = claims.scan_pairs({lv: (lead[high][lv], lead[k][lv]) for lv in common})
        contrast.append(f"against {k}, {claims.scan_words(runs[high], s, 'larger', 'smaller')}")
    return rows, (f"Scanned over every level of the three {network} runs ({runs[high].config['trials']} trials, each "
                  "ticket paired with its own reinitialization and dense network; each scan corrected for the number of "
                  "levels it tests):\n\n" + "\n".join(lines)
                  + f"\n\nThe ticket's lead over its reinitialization with {high}, paired by trial at each of the "
                  f"{len(common)} levels all three settings trained: " + "; ".join(contrast) + ". "
                  f"The paper's contrast, no lead at {high} and a lead with the others, would show as a clearly smaller "
                  f"lead with {high}; the claims table tests it at the sparsest shared level.")


def deep_rows(model: str) -> list[dict]:
    """Every claims row chapter 5 tests about ``model`` (vgg19, resnet20) on the shipped full runs."""
    from .full_runs import full_run

    runs = {part: {k: full_run(n) for k, n in names.items()} for part, names in DEEP_RUNS[model].items()}
    rows = [scope_row(NAMES[model], runs["scope"])]
    if "short" in runs:
        rows += short_lr_rows(runs["short"])[0]
    return rows + long_rows(NAMES[model], runs["long"], LONG_SAID[model])[0]


# the shipped full runs each network's claims are tested on, per data set (full_runs.FULL_RUNS)
# (VGG-19 and ResNet-20: several runs each, DEEP_RUNS, tested together by deep_rows)
SCORED = {"lenet_300_100": {"MNIST-1D": "lenet_300_100-mnist1d-paper", "Fashion-MNIST": "lenet_300_100-fashion_mnist-paper"},
          "conv2": {"MNIST-1D": "conv2-mnist1d-full"}, "conv4": {"MNIST-1D": "conv4-mnist1d-full"},
          "conv6": {"MNIST-1D": "conv6-mnist1d-full"}, "vgg19": {"MNIST-1D": None}, "resnet20": {"MNIST-1D": None}}


def scoreboard() -> dict[str, dict[str, dict[str, int]]]:
    """For each network the book scores and each data set: how many of its claims each rung of
    the verdict ladder holds, from the shipped full runs (network -> data set -> word -> count)."""
    from .full_runs import full_run

    out = {}
    for model, runs in SCORED.items():
        out[model] = {}
        for data_set, name in runs.items():
            if model in DEEP_RUNS:
                rows = deep_rows(model)
            else:
                run = full_run(name)
                rows = claims.lenet_rows(run) if model == "lenet_300_100" else conv_rows(run, model)
            words = [verdicts.outcome(r["verdict"]) for r in rows]
            out[model][data_set] = {w: words.count(w) for w in verdicts.WORDS if words.count(w)}
    return out


def _said(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    return f"{counts.get('reproduced', 0)} of the paper's {total} claims reproduced" + "".join(
        f", {n} {w}" for w, n in counts.items() if w != "reproduced")


def at_a_glance():
    """The paper's results beside the book's scoreboard, as a table (HTML, its cells stacked and
    labelled on a phone) whose last column names the chapter that holds each network's evidence."""
    from .links import BOOK

    board = scoreboard()
    by_name = {NAMES[m]: m for m in NAMES}
    rows = []
    for r in AT_A_GLANCE:
        model = by_name[r["network"]]
        here = "; ".join(f"{d}: {_said(c)}" for d, c in board[model].items())
        link = f'<a href="{BOOK}/chapters/{r["chapter"]}.html">chapter {int(r["chapter"][:2])}</a>'
        rows.append({"network (data)": f"{r['network']} ({r['data']})", "pruning, training": f"{r['pruning']}; {r['training']}",
                     "smallest winning tickets": r["ticket"], "faster (to minimum validation loss)": r["faster"], "accuracy": r["accurate"],
                     "in this book": f"{here} ({link})"})
    frame = pd.DataFrame(rows)
    return lesson.table(claims.styled(frame, "claims glance"))


# The LeNet claims a reader should take away (of lenet_rows' twenty): claim text, a word in the
# paper's text that picks the level, and how the summary says it
LENET_HEADLINES = [
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
    for start, level, said in LENET_HEADLINES:
        row = next((r for r in rows if r["claim"].startswith(start) and level in r["paper"]), None)
        if row is None:
            raise ValueError(f"no claim {start!r} in these rows: LENET_HEADLINES and claims.lenet_rows disagree")
        out.append((said, verdicts.outcome(row["verdict"])))
    return out


def lenet_headlines(rows: list[dict]) -> str:
    """The headline LeNet claims on one run in words, grouped by verdict (for a summary): 'tickets
    reach …, are … (*reproduced*); are back … (*inconclusive*).'"""
    said = _headline_rows(rows)
    groups = [(w, [s for s, v in said if v == w]) for w in verdicts.WORDS]
    return "tickets " + "; ".join(f"{', '.join(phrases)} (*{w}*)" for w, phrases in groups if phrases) + "."


def lenet_story(tables: dict[str, list[dict]]) -> str:
    """What the full runs show, in words: per data set, how the paper's LeNet tests come out and
    its headline claims with their verdicts (the intervals: in the chapter's evidence)."""
    out = []
    for name, rows in tables.items():
        words = [verdicts.outcome(r["verdict"]) for r in rows]
        counts = ", ".join(f"{words.count(w)} {w}" for w in verdicts.WORDS if words.count(w))
        headlines = lenet_headlines(rows)
        out.append(f"**{name}**: of the paper's {len(rows)} tests, {counts}. " + headlines[0].upper() + headlines[1:])
    return "\n\n".join(out) + "\n\n" + lesson.LEGEND
