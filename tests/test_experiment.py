"""One frozen Experiment: what run_imp runs, results.json stores, a resume compares field by
field, the sweep expands and the command line's options are generated from."""

import dataclasses

import pytest

from lt_helpers import iterative
from lt_helpers.errors import LTError
from lt_helpers.experiment import Experiment
from lt_helpers.full_runs import FULL_RUNS, full_run
from lt_helpers.results import ResultsError


def test_of_resolves_the_preset_and_the_overrides():
    e = Experiment.of("lenet_300_100", "mnist1d", "paper", trials=2, hyper={"lr": 0.01}, controls=["oneshot"])
    assert (e.rounds, e.trials, e.controls, e.scope) == (16, 2, ("oneshot",), "layer")
    assert e.hyper.lr == 0.01 and e.hyper.iterations == 15000 and e.rates == {"fc": 0.2, "output": 0.1}
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.rounds = 3


@pytest.mark.parametrize("name", list(FULL_RUNS))
def test_every_shipped_full_run_reads_as_an_experiment_and_writes_back_the_same(name):
    from lt_helpers.hparams import Hyper

    config = full_run(name).config
    again = Experiment.from_config(config).config()
    added = set(again["hyper"]) - set(config["hyper"])  # hyperparameters made after the run: their defaults
    assert all(again["hyper"][k] == getattr(Hyper(), k) for k in added), added
    again["hyper"] = {k: v for k, v in again["hyper"].items() if k not in added}
    assert again == {k: config[k] for k in again}, name
    assert Experiment.from_config(config).differences(Experiment.from_config(config)) == []


@pytest.mark.parametrize("kwargs, message", [
    (dict(rounds=0), "rounds must be at least 1"),
    (dict(trials=2.5), "trials must be an integer"),
    (dict(seed=-1), "seed must be a non-negative integer"),
    (dict(groups=0), "groups must be at least 1"),
    (dict(controls=["magic"]), "unknown control"),
    (dict(controls="oneshot"), "controls must be a list of names"),
    (dict(scope="row"), "unknown pruning scope 'row'"),
    (dict(rewind=10**9), "rewind must be an iteration"),
    (dict(control_rounds=[0]), "control_rounds must name rounds from 1"),
    (dict(controls=(), control_rounds=[1]), "no controls were asked for"),
    (dict(hyper={"lr": -1}), "learning rate must be a finite positive number"),
    (dict(hyper={"nonsense": 1}), "unknown hyperparameter"),
])
def test_every_field_is_checked_with_a_message_that_names_it(kwargs, message):
    with pytest.raises(LTError, match=message):
        Experiment.of("lenet_300_100", "mnist1d", "smoke", **kwargs)


def test_differences_name_the_field_and_the_hyperparameter():
    a = Experiment.of("lenet_300_100", "mnist1d", "smoke", hyper={"lr": 0.01}, seed=1)
    b = Experiment.of("lenet_300_100", "mnist1d", "smoke", rounds=3, seed=2)
    assert a.differences(b) == ["seed: 2 there, 1 now", "hyper.lr: 0.0012 there, 0.01 now"]
    assert Experiment.of("lenet_300_100", "mnist1d", "smoke", rounds=5, seed=2).differences(b) == []  # more rounds


def test_a_resume_with_another_hyperparameter_names_it(tmp_path, mnist1d):
    out = tmp_path / "run"
    iterative.run_imp("lenet_300_100", "mnist1d", "smoke", rounds=1, trials=1, controls=(), data=mnist1d, out=out,
                      hyper={"iterations": 30})
    with pytest.raises(ResultsError, match=r"hyper\.iterations: 30 there, 40 now"):
        iterative.run_imp("lenet_300_100", "mnist1d", "smoke", rounds=2, trials=1, controls=(), data=mnist1d,
                          out=out, hyper={"iterations": 40})


def test_the_command_line_options_are_the_fields():
    from lt_helpers.tools.cli import _parser

    imp = _parser()._subparsers._group_actions[0].choices["imp"]
    actions = {a.dest: a for a in imp._actions}
    for f in dataclasses.fields(Experiment):
        if "cli" in f.metadata:
            assert actions[f.name].help == f.metadata["help"], f.name
    assert "rates" in actions and actions["rates"].help.startswith(dataclasses.fields(Experiment)[9].metadata["help"])


def test_the_sweep_expands_a_grid_into_checked_experiments():
    from lt_helpers.tools.sweep import grid

    exps = grid(["lenet_300_100"], ["mnist1d"], ["smoke"], [0, 1], ["ticket", "oneshot"], rounds=2)
    assert all(isinstance(e, Experiment) and e.rounds == 2 for e in exps) and len(exps) == 4
    assert {e.condition for e in exps} == {"ticket", "oneshot"}
    with pytest.raises(LTError, match="rounds must be at least 1"):
        grid(["lenet_300_100"], ["mnist1d"], ["smoke"], [0], ["ticket"], rounds=0)
