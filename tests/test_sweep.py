"""Sweeps on a local Ray instance with 2 CPUs."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

pytest.importorskip("ray")
ENV = {**os.environ, "LT_PROGRESS": "0", "LT_DEVICE": "cpu"}


def test_grid_is_the_product():
    from lt_helpers.tools.sweep import grid, task_name

    specs = grid(["lenet_300_100"], ["mnist1d", "mnist"], ["smoke"], [0, 1], ["random_reinit"])
    assert len(specs) == 4
    assert task_name(specs[0]) == "lenet_300_100-mnist1d-smoke-seed0-random_reinit"


@pytest.mark.slow
def test_sweep_on_local_ray_resumes_each_task(tmp_path):
    from lt_helpers.iterative import run_imp

    out = tmp_path / "sweep"
    # A task that was interrupted after its first round: the sweep must resume it, not redo it.
    partial = run_imp("lenet_300_100", "mnist1d", "smoke", seed=1, rounds=1, trials=1, controls=("random_reinit",),
                      out=out / "lenet_300_100-mnist1d-smoke-seed1-random_reinit", hyper={"iterations": 40})
    res = subprocess.run([sys.executable, "-m", "lt_helpers", "sweep", "--presets", "smoke", "--seeds", "0", "1",
                          "--conditions", "random_reinit", "--rounds", "2", "--trials", "1", "--iterations", "40",
                          "--num-cpus", "2", "--out", str(out)], capture_output=True, text=True, env=ENV, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    table = pd.read_csv(out / "sweep.csv")
    assert set(table.seed) == {0, 1}
    assert set(table.condition) == {"ticket", "random_reinit"} and set(table["round"]) == {0, 1}
    resumed = json.loads((out / "lenet_300_100-mnist1d-smoke-seed1-random_reinit" / "results.json").read_text())
    assert resumed["runs"][:len(partial.runs)] == json.loads(json.dumps(partial.runs))
    assert "tasks" in res.stdout


def test_sweep_rejects_unknown_names(tmp_path):
    res = subprocess.run([sys.executable, "-m", "lt_helpers", "sweep", "--models", "gpt", "--out", str(tmp_path)],
                         capture_output=True, text=True, env=ENV)
    assert res.returncode == 2 and "unknown model 'gpt'" in res.stderr and "Traceback" not in res.stderr


def test_the_grid_is_checked_whole_before_ray_starts(tmp_path):
    """A bad value for every task (rounds 0) is one line before Ray starts, not remote
    tracebacks retried three times; duplicate seeds are one task, not two writers of one folder."""
    from lt_helpers.tools.sweep import grid

    assert len(grid(["lenet_300_100"], ["mnist1d"], ["smoke"], [0, 0, 1], ["ticket", "ticket"])) == 2
    res = subprocess.run([sys.executable, "-m", "lt_helpers", "sweep", "--rounds", "0", "--out", str(tmp_path / "s")],
                         capture_output=True, text=True, env=ENV)
    assert res.returncode == 2 and "rounds must be at least 1" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and not (tmp_path / "s").exists()


def test_a_task_failing_on_its_input_is_reported_not_retried(tmp_path):
    from lt_helpers.tools import sweep

    from lt_helpers.experiment import Experiment

    task = Experiment.of("lenet_300_100", "mnist", "smoke", controls=(), hyper={"iterations": 10})
    failed = sweep.run_task(task, str(tmp_path), {"data_root": str(tmp_path / "empty")})
    assert failed[0]["error"].startswith("lenet_300_100-mnist-smoke-seed0-ticket: ")
