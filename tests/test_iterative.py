import json

import pytest
import torch

from lt_helpers import iterative
from lt_helpers.controls import IMP
from lt_helpers.errors import ResultsError
from lt_helpers.results import load_results
from lt_helpers.errors import LTError

SMOKE = dict(model="lenet_300_100", dataset="mnist1d", preset="smoke", hyper={"iterations": 60, "eval_every": 20})
REQUIRED = {"trial", "round", "condition", "percent_remaining", "layer_density", "early_stop_iteration",
            "early_stop_test_acc", "final_test_acc", "curve"}


def _run(mnist1d, **kw):
    return iterative.run_imp(**{**SMOKE, **kw}, data=mnist1d)


def test_results_json_contract(mnist1d, tmp_path):
    res = _run(mnist1d, rounds=3, trials=2, controls=("random_reinit", "oneshot"), out=tmp_path)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["config"]["model"] == "lenet_300_100" and saved["config"]["version"]
    assert saved["config"]["hyper"]["iterations"] == 60
    assert len(saved["runs"]) == 2 * (1 + 2 * 3)  # round 0: ticket; rounds 1-2: ticket + 2 controls
    for r in saved["runs"]:
        assert REQUIRED <= set(r)
        assert r["distance_from_start"] > 0  # the kept weights moved
        assert set(r["curve"]) >= {"iteration", "val_loss", "test_acc"}
    tickets = [r for r in saved["runs"] if r["condition"] == "ticket" and r["trial"] == 0]
    assert [round(r["percent_remaining"], 2) for r in tickets] == [100.0, 80.23, 64.4]
    assert tickets[2]["layer_density"]["layers.0.weight"] == pytest.approx(0.64, abs=1e-3)
    assert tickets[2]["layer_density"]["layers.2.weight"] == pytest.approx(0.81, abs=1e-3)
    assert res.frame().shape[0] == len(saved["runs"])


def test_controls_share_the_tickets_sparsity(mnist1d):
    res = _run(mnist1d, rounds=3, trials=1, controls=("random_reinit", "oneshot"))
    by = {(r["round"], r["condition"]): r for r in res.runs}
    for rnd in (1, 2):
        t, rr, os_ = by[(rnd, "ticket")], by[(rnd, "random_reinit")], by[(rnd, "oneshot")]
        assert rr["layer_density"] == t["layer_density"] == os_["layer_density"]
        assert rr["curve"]["val_loss"][0] != t["curve"]["val_loss"][0]  # a different init


def test_resume_equals_uninterrupted(mnist1d, tmp_path):
    whole = _run(mnist1d, rounds=3, trials=2, out=tmp_path / "whole")
    _run(mnist1d, rounds=2, trials=2, out=tmp_path / "parts")
    resumed = _run(mnist1d, rounds=3, trials=2, out=tmp_path / "parts")  # extends to round 2
    strip = lambda runs: [{k: v for k, v in r.items()} for r in runs]
    assert strip(resumed.runs) == strip(whole.runs)
    for key, m in whole.masks.items():
        assert all(torch.equal(m[n], resumed.masks[key][n]) for n in m)


def test_crash_mid_run_loses_nothing_finished(mnist1d, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = iterative.train

    def crashing(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return real(*a, **k)

    monkeypatch.setattr(iterative, "train", crashing)
    with pytest.raises(RuntimeError):
        _run(mnist1d, rounds=4, trials=1, out=tmp_path)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert {r["round"] for r in saved["runs"]} == {0, 1}
    monkeypatch.setattr(iterative, "train", real)
    calls["n"] = 0
    seen = []
    monkeypatch.setattr(iterative, "train", lambda *a, **k: seen.append(1) or real(*a, **k))
    finished = _run(mnist1d, rounds=4, trials=1, out=tmp_path)
    assert len(seen) == 2  # only rounds 2 and 3 were trained again
    assert {r["round"] for r in finished.runs} == {0, 1, 2, 3}
    assert finished.runs[:len(saved["runs"])] == saved["runs"]


def test_corrupt_results_are_reported_and_left_alone(mnist1d, tmp_path):
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(ResultsError, match="not a valid results file"):
        _run(mnist1d, rounds=2, trials=1, out=tmp_path)
    assert (tmp_path / "results.json").read_text() == "{not json"


def test_a_gap_in_the_records_is_refused_not_resumed_around(mnist1d, tmp_path):
    """A record deleted from the middle of a finished run used to be skipped for good: resume
    looked only at the highest round. Now every network of every saved round must be there once."""
    _run(mnist1d, rounds=3, trials=2, out=tmp_path)
    saved = json.loads((tmp_path / "results.json").read_text())
    for change, message in ((lambda runs: runs.pop(3), "round 1 lacks 1 record"),
                            (lambda runs: runs.append(dict(runs[0])), "round 0 holds 1 record"),
                            (lambda runs: runs[4].update(condition="shuffle"), "round 1 lacks 1 record.*trial 1 ticket")):
        broken = json.loads(json.dumps(saved))
        change(broken["runs"])
        (tmp_path / "results.json").write_text(json.dumps(broken))
        before = (tmp_path / "results.json").read_text()
        with pytest.raises(ResultsError, match=f"is incomplete: {message}"):
            _run(mnist1d, rounds=4, trials=2, out=tmp_path)
        assert (tmp_path / "results.json").read_text() == before


def test_a_damaged_state_file_is_one_clear_error(mnist1d, tmp_path):
    _run(mnist1d, rounds=2, trials=1, out=tmp_path)
    state = tmp_path / "state.pt"
    state.write_bytes(state.read_bytes()[:200])
    with pytest.raises(ResultsError, match="state.pt is damaged or not lt_helpers' state"):
        _run(mnist1d, rounds=3, trials=1, out=tmp_path)
    assert len(state.read_bytes()) == 200


def test_nothing_is_written_when_the_data_cannot_load(tmp_path):
    with pytest.raises(LTError):
        iterative.run_imp("lenet_300_100", "mnist", "smoke", out=tmp_path / "out", data_root=tmp_path / "empty",
                    hyper={"iterations": 10})
    assert not (tmp_path / "out").exists()


def test_a_second_writer_on_one_folder_is_refused_and_a_killed_one_leaves_no_lock(mnist1d, tmp_path):
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); "
        "time.sleep(60)"), str(tmp_path / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ResultsError, match="another process is writing"):
            _run(mnist1d, rounds=2, trials=1, out=tmp_path)
        assert not (tmp_path / "results.json").exists()
    finally:
        holder.kill()
        holder.wait()
    _run(mnist1d, rounds=2, trials=1, out=tmp_path)  # the killed holder's lock went with it
    assert (tmp_path / "results.json").exists()


def test_a_state_file_not_ours_is_not_replaced(mnist1d, tmp_path):
    (tmp_path / "state.pt").write_bytes(b"someone else's checkpoint")
    with pytest.raises(ResultsError, match="state.pt was not written by lt_helpers"):
        _run(mnist1d, rounds=2, trials=1, out=tmp_path)
    assert (tmp_path / "state.pt").read_bytes() == b"someone else's checkpoint"


def test_results_from_another_experiment_are_refused(mnist1d, tmp_path):
    _run(mnist1d, rounds=2, trials=1, out=tmp_path)
    before = (tmp_path / "results.json").read_text()
    with pytest.raises(ResultsError, match="different experiment.*seed"):
        _run(mnist1d, rounds=2, trials=1, seed=7, out=tmp_path)
    assert (tmp_path / "results.json").read_text() == before


def _agreement(m1, m2):
    return sum(int((m1[n] == m2[n]).sum()) for n in m1) / sum(m.numel() for m in m1.values())


def test_batched_and_one_at_a_time_find_the_same_tickets(mnist1d):
    """Same seeds, same tickets. Not bit for bit: a copy's elements sit at other offsets
    in a batched tensor, so vectorized kernels round a few of them differently, and Adam
    can turn that into a flipped near-tie at the pruning threshold. A batching bug that
    mixed copies would change a fifth of the mask or more."""
    a = _run(mnist1d, rounds=3, trials=2)
    b = _run(mnist1d, rounds=3, trials=2, batched=False)
    for key in a.masks:
        assert _agreement(a.masks[key], b.masks[key]) > 0.98, key
    for x, y in zip(a.runs, b.runs):
        assert x["percent_remaining"] == y["percent_remaining"]
        assert x["curve"]["val_loss"] == pytest.approx(y["curve"]["val_loss"], abs=0.02)
    trial0 = [k for k in a.masks if k[0] == 0]  # the first copy shares its offsets with a lone network
    assert all(_agreement(a.masks[k], b.masks[k]) == 1.0 for k in trial0)


def test_max_copies_splits_without_changing_results(mnist1d):
    a = _run(mnist1d, rounds=2, trials=3)
    b = _run(mnist1d, rounds=2, trials=3, max_copies=2)
    for key in a.masks:
        assert _agreement(a.masks[key], b.masks[key]) > 0.98, key
    for x, y in zip(a.runs, b.runs):
        assert x["curve"]["val_loss"] == pytest.approx(y["curve"]["val_loss"], abs=0.02)


@pytest.mark.parametrize("kw, message", [
    (dict(rounds=0), "rounds must be at least 1"),
    (dict(trials=0), "trials must be at least 1"),
    (dict(trials=-2), "trials must be at least 1"),
    (dict(controls=("magic",)), "unknown control"),
    (dict(preset="huge"), "unknown preset"),
    (dict(model="vgg99"), "unknown model 'vgg99'; choose one of lenet_300_100"),
    (dict(max_copies=0), "max_copies"),
    (dict(hyper={"iterations": 0}), "iterations must be a positive"),
    # values that used to train nonsense and save it as a result, or fail far from their cause
    (dict(hyper={"warmup": -5}), "warmup must be a non-negative integer, got -5"),
    (dict(hyper={"lr": float("inf")}), "learning rate must be a finite positive number"),
    (dict(hyper={"lr": float("nan")}), "learning rate must be a finite positive number"),
    (dict(hyper={"iterations": 1.5}), "iterations must be a positive integer, got 1.5"),
    (dict(hyper={"weight_decay": -1}), "weight_decay must be a number finite and non-negative"),
    (dict(hyper={"optimizer": "sgd", "momentum": -1}), r"momentum must be a number in \[0, 1\)"),
    (dict(hyper={"batch_size": 1e9}), "batch_size must be a positive integer"),
    (dict(hyper={"lr_drops": "abc"}), "lr_drops must be a list of iterations"),
    (dict(hyper={"learning_rate": 0.1}), "unknown hyperparameter\\(s\\) 'learning_rate'; choose from iterations"),
    (dict(hyper=[("lr", 0.1)]), "hyper must be a dict"),
    (dict(rounds=2.5), "rounds must be an integer, got 2.5"),
    (dict(trials="3"), "trials must be an integer"),
    (dict(controls="random_reinit"), "controls must be a list of names, such as \\['random_reinit'\\]"),
    (dict(rewind=1.5), "rewind must be an iteration"),
])
def test_bad_input(mnist1d, kw, message):
    with pytest.raises(LTError, match=message):
        _run(mnist1d, **kw)


def test_unwritable_output_folder(mnist1d, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LTError, match="cannot create output folder"):
        _run(mnist1d, rounds=1, trials=1, out=blocker / "sub")


def test_load_results_roundtrip(mnist1d, tmp_path):
    res = _run(mnist1d, rounds=2, trials=1, out=tmp_path)
    back = load_results(tmp_path)
    assert back.runs == json.loads(json.dumps(res.runs))
    assert set(back.masks) == set(res.masks)


def test_rewinding_resets_to_the_dense_weights_at_iteration_k(mnist1d, tmp_path):
    from lt_helpers import train

    res = _run(mnist1d, rounds=2, trials=2, rewind=20, out=tmp_path)
    assert set(res.rewound) == {0, 1}
    for t in (0, 1):
        rewound = res.rewound[t]
        assert not torch.equal(rewound["layers.0.weight"], res.theta0[t]["layers.0.weight"])  # it trained 20 steps
        ticket = next(r for r in res.runs if r["round"] == 1 and r["condition"] == "ticket" and r["trial"] == t)
        start = train.test_accuracy("lenet_300_100", mnist1d, [rewound], [res.masks[(t, 1)]])[0]
        assert ticket["curve"]["test_acc"][0] == pytest.approx(start, abs=2e-3)  # round 1 starts from m ⊙ θ_20
    again = _run(mnist1d, rounds=3, trials=2, rewind=20, out=tmp_path)  # resumes with the rewound weights
    whole = _run(mnist1d, rounds=3, trials=2, rewind=20)
    assert again.runs == whole.runs
    with pytest.raises(LTError, match="rewind must be an iteration"):
        _run(mnist1d, rewind=10_000)


def _ticket_setup():
    from lt_helpers import masks, models

    net = models.build("lenet_300_100", (1, 40))
    theta0 = models.build("lenet_300_100", (1, 40), seeds=[1]).get_copy(0)
    fresh = models.build("lenet_300_100", (1, 40), seeds=[2]).get_copy(0)
    rates = masks.layer_rates(net, {"fc": 0.7, "output": 0.3})
    mask = masks.magnitude_prune(theta0, masks.Mask.ones_like(net), rates)
    return theta0, fresh, mask


def _make(condition, theta0, mask, fresh, seed):
    """A control's starting weights and mask, from its registry entry (lt_helpers.controls)."""
    from lt_helpers.controls import REGISTRY, Start

    return REGISTRY[condition].make(Start(weights=theta0, mask=mask, dense=None, fresh=lambda: fresh, seed=seed))


def test_random_prune_keeps_per_layer_densities_exactly():
    theta0, fresh, mask = _ticket_setup()
    w, m = _make("random_prune", theta0, mask, fresh, seed=3)
    assert {n: int(v.sum()) for n, v in m.items()} == {n: int(v.sum()) for n, v in mask.items()}
    assert not torch.equal(m["layers.0.weight"], mask["layers.0.weight"])  # other positions
    assert torch.equal(w["layers.0.weight"], theta0["layers.0.weight"])  # the ticket's initial values


def test_shuffle_keeps_each_layers_multiset_of_values():
    theta0, fresh, mask = _ticket_setup()
    w, m = _make("shuffle", theta0, mask, fresh, seed=3)
    assert m is mask
    for name, keep in mask.items():
        assert torch.equal(torch.sort(w[name][keep]).values, torch.sort(theta0[name][keep]).values)
        assert not torch.equal(w[name][keep], theta0[name][keep])


def test_sign_reinit_keeps_signs_and_mask_with_new_magnitudes():
    theta0, fresh, mask = _ticket_setup()
    w, m = _make("sign_reinit", theta0, mask, fresh, seed=3)
    assert m is mask
    for name, keep in mask.items():
        assert torch.equal(torch.sign(w[name][keep]), torch.sign(theta0[name][keep]))
        assert torch.equal(w[name].abs(), fresh[name].abs())


def test_all_controls_run_at_the_tickets_sparsity(mnist1d):
    res = _run(mnist1d, rounds=2, trials=1, controls=IMP)
    level = {r["condition"]: r["percent_remaining"] for r in res.runs if r["round"] == 1}
    assert set(level) == {"ticket", *IMP}
    assert len(set(level.values())) == 1


def test_control_rounds_train_the_controls_only_where_asked(mnist1d, tmp_path):
    """The ticket trains at every level (each mask comes from the one before), the controls only
    at control_rounds; the tickets are those of a run with controls everywhere, and a resumption
    that asks for other rounds is refused."""
    some = _run(mnist1d, rounds=4, trials=2, controls=("random_reinit",), control_rounds=[3, 2], out=tmp_path)
    every = _run(mnist1d, rounds=4, trials=2, controls=("random_reinit",))
    where = lambda res, c: sorted({r["round"] for r in res.runs if r["condition"] == c})
    assert where(some, "ticket") == [0, 1, 2, 3] and where(some, "random_reinit") == [2, 3]
    assert where(every, "random_reinit") == [1, 2, 3]
    assert some.config["control_rounds"] == [2, 3] and "control_rounds" not in every.config
    for key in every.masks:
        assert _agreement(every.masks[key], some.masks[key]) > 0.98, key
    reinit = lambda res: [r["percent_remaining"] for r in res.runs if r["condition"] == "random_reinit"]
    assert reinit(some) == reinit(every)[2:]  # same levels, same trials
    with pytest.raises(ResultsError, match="control_rounds"):
        _run(mnist1d, rounds=4, trials=2, controls=("random_reinit",), control_rounds=[1], out=tmp_path)


@pytest.mark.parametrize("kw, message", [
    (dict(rounds=3, control_rounds=[0]), "control_rounds must name rounds from 1 to 2"),
    (dict(rounds=3, control_rounds=[3]), "control_rounds must name rounds from 1 to 2"),
    (dict(rounds=3, control_rounds=[]), "control_rounds must name rounds"),
    (dict(rounds=3, controls=(), control_rounds=[1]), "no controls were asked for"),
])
def test_control_rounds_bad_input(mnist1d, kw, message):
    with pytest.raises(LTError, match=message):
        _run(mnist1d, **kw)


def test_records_say_when_the_minimum_was_the_last_evaluation(tmp_path, mnist1d):
    """early_stop_at_end marks runs still improving when training stopped; the format requires
    it (lt_helpers.schema), so a file whose records lack it is refused in one line."""
    res = iterative.run_imp("lenet_300_100", "mnist1d", "smoke", rounds=2, trials=2, controls=("random_reinit",),
                      data=mnist1d, hyper={"iterations": 30, "eval_every": 10}, out=tmp_path)
    for r in res.runs:
        assert r["early_stop_at_end"] == (r["early_stop_iteration"] == r["curve"]["iteration"][-1])
    assert any(r["early_stop_at_end"] for r in res.runs)  # 30 iterations: someone is still improving
    raw = json.loads((tmp_path / "results.json").read_text())
    for r in raw["runs"]:
        del r["early_stop_at_end"]
    (tmp_path / "results.json").write_text(json.dumps(raw))
    with pytest.raises(ResultsError, match=r"record 0 \(trial 0, round 0, ticket\): lacks the field\(s\) "
                                                     "early_stop_at_end"):
        load_results(tmp_path)


def test_a_diverged_network_is_recorded_as_such_in_strict_json(mnist1d, tmp_path):
    """SGD at a learning rate of a million: the loss becomes NaN. results.json stays strict JSON
    (null, never NaN), the record says diverged, and no figure or verdict uses its numbers."""
    from lt_helpers import verdicts

    res = _run(mnist1d, rounds=2, trials=2, out=tmp_path, hyper={"optimizer": "sgd", "lr": 1e6, "iterations": 60,
                                                                 "eval_every": 20})
    text = (tmp_path / "results.json").read_text()
    saved = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in results.json"))
    assert all(r["diverged"] for r in saved["runs"]) and None in saved["runs"][0]["curve"]["val_loss"]
    frame = res.frame()
    assert frame.diverged.all() and frame.early_stop_test_acc.isna().all()
    t, d = res.per_trial(1, "ticket"), res.per_trial(0, "ticket")
    assert verdicts.verdict(t, d, "higher").startswith("not testable: 4 network(s) diverged")
    healthy = _run(mnist1d, rounds=2, trials=1)
    assert "diverged" not in healthy.runs[0] and "diverged" not in healthy.frame()


def test_a_killed_writers_temporary_files_are_cleared_on_resume(mnist1d, tmp_path):
    _run(mnist1d, rounds=2, trials=1, out=tmp_path)
    stale = tmp_path / ".state.pt.k1ll3d.tmp"
    stale.write_bytes(b"x" * 1000)  # what a SIGKILL mid-write leaves: each writer's own temporary name
    _run(mnist1d, rounds=3, trials=1, out=tmp_path)
    assert not stale.exists() and not list(tmp_path.glob(".*.tmp"))


def _chapter_cell(stem: str, tag: str) -> str:
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "chapters" / f"{stem}.ipynb").read_text())
    return next("".join(c["source"]) for c in nb["cells"] if tag in c["metadata"].get("tags", []))


@pytest.mark.parametrize("controls", [("random_reinit", "oneshot"), ()])
def test_chapter_3s_loop_written_out_is_run_imp_record_for_record(mnist1d, controls):
    """Chapter 3 writes IMP out in a cell a reader edits (tagged ``imp-loop``); with the chapter's
    settings its records are run_imp's, bit for bit, and so are its masks: the loop the chapter
    shows is the loop the package runs."""
    from lt_helpers import book, masks, models, train
    from lt_helpers.results import Results

    ch = book.setup("smoke", "mnist1d", 2, 0, "cpu")
    ns = dict(ch=ch, seed=0, net=models.build(ch.model, ch.data.input_shape), iterative=iterative, masks=masks,
              train=train, Results=Results)
    exec(_chapter_cell("03_iterative_pruning", "imp-loop"), ns)
    mine = ns["imp"](3, 2, controls)
    theirs = iterative.run_imp(ch.model, "mnist1d", "smoke", rounds=3, trials=2, controls=controls, data=ch.data,
                               device="cpu")
    assert len(mine.runs) == len(theirs.runs) == 2 * (1 + 2 * (1 + len(controls)))
    assert mine.runs == theirs.runs
    assert all(torch.equal(mine.masks[k][n], theirs.masks[k][n]) for k in theirs.masks for n in theirs.masks[k])


def test_every_control_lives_in_one_registry_entry_that_the_run_the_cli_and_the_plots_read(mnist1d, monkeypatch):
    """One home per control: a name, a line saying what it keeps, a label and a colour, and how it
    starts. A new entry (here: the ticket's mask on its initial values negated) is trained by
    run_round beside the ticket, at its sparsity."""
    from lt_helpers import controls, experiment, plots

    for name, c in controls.REGISTRY.items():
        assert c.description and c.label and c.color.startswith("#"), name
        assert plots.COLORS[name] == c.color and plots.LABELS[name] == c.label
    assert experiment.CONTROLS == controls.IMP == tuple(n for n, c in controls.REGISTRY.items() if n != "ticket" and c.make)
    assert len({c.color for c in controls.REGISTRY.values()}) == len(controls.REGISTRY)  # one colour each
    negated = controls.Control("negated", "the ticket's mask on -θ0", "negated θ0", "#000000",
                               lambda s: ({n: -w for n, w in s.weights.items()}, s.mask))
    monkeypatch.setitem(controls.REGISTRY, "negated", negated)
    monkeypatch.setattr(experiment, "CONTROLS", (*controls.IMP, "negated"))
    res = _run(mnist1d, rounds=2, trials=1, controls=("negated",))
    at = {r["condition"]: r for r in res.runs if r["round"] == 1}
    assert set(at) == {"ticket", "negated"} and at["negated"]["percent_remaining"] == at["ticket"]["percent_remaining"]
    assert at["negated"]["curve"] != at["ticket"]["curve"]
