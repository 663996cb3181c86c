"""The paper's claims about VGG-19 and ResNet-20 on CIFAR-10 (Section 4, Figures 7-9), with its
numbers, tested on the full runs the book ships: global against layer-wise pruning, and the
ticket against its reinitialization at each learning-rate setting."""

from __future__ import annotations

from .. import claims, stats, verdicts
from ..models import NAMES

__all__ = ["RUNS", "near_end", "scope_row", "SHORT_CLAIMED", "short_lr_rows", "LONG_SAID", "long_rows", "rows",
           "ACC", "REINIT", "DENSE"]

# VGG-19 and ResNet-20 (Section 4, Figures 7-9): global against layer-wise pruning, and the ticket
# against its reinitialization at the paper's learning rates (chapter 5 tests them on these runs)
RUNS = {
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
                                                                near_end(scopes["layer"], last, "ticket")),
                                         unit="points", names=("global-pruning tickets", "layer-wise tickets")))


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
                                                margin=claims.margin_of(res), unit="points",  # at most: dense spread
                                                names=("tickets", "random reinitializations"))))
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


def rows(model: str) -> list[dict]:
    """Every claims row chapter 5 tests about ``model`` (vgg19, resnet20) on the shipped full runs."""
    from ..full_runs import full_run

    runs = {part: {k: full_run(n) for k, n in names.items()} for part, names in RUNS[model].items()}
    rows = [scope_row(NAMES[model], runs["scope"])]
    if "short" in runs:
        rows += short_lr_rows(runs["short"])[0]
    return rows + long_rows(NAMES[model], runs["long"], LONG_SAID[model])[0]
