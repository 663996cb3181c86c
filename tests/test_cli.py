import json
import os
import subprocess
import sys

import pytest

ENV = {**os.environ, "LT_PROGRESS": "0"}


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "lt_helpers", *args], capture_output=True, text=True, env=ENV, **kw)


def test_imp_command_writes_and_resumes(tmp_path):
    args = ["imp", "--model", "lenet_300_100", "--dataset", "mnist1d", "--preset", "smoke", "--rounds", "2",
            "--trials", "1", "--controls", "random_reinit", "--iterations", "40", "--out", str(tmp_path)]
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    saved = json.loads((tmp_path / "results.json").read_text())
    assert {r["condition"] for r in saved["runs"]} == {"ticket", "random_reinit"}
    again = cli(*args)  # everything is done: nothing retrained, same file
    assert again.returncode == 0
    assert json.loads((tmp_path / "results.json").read_text()) == saved


def test_training_and_pruning_options_reach_the_run(tmp_path):
    res = cli("imp", "--model", "resnet20", "--preset", "smoke", "--rounds", "2", "--trials", "1", "--controls", "none",
              "--iterations", "20", "--lr", "0.03", "--warmup", "10", "--scope", "layer", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    config = json.loads((tmp_path / "results.json").read_text())["config"]
    assert (config["hyper"]["lr"], config["hyper"]["warmup"], config["scope"]) == (0.03, 10, "layer")
    res = cli("imp", "--preset", "smoke", "--rounds", "3", "--trials", "1", "--controls", "shuffle", "--iterations",
              "20", "--control-rounds", "2", "--out", str(tmp_path / "some"))
    assert res.returncode == 0, res.stderr
    saved = json.loads((tmp_path / "some" / "results.json").read_text())
    assert saved["config"]["control_rounds"] == [2]
    assert [(r["round"], r["condition"]) for r in saved["runs"]] == [
        (0, "ticket"), (1, "ticket"), (2, "ticket"), (2, "shuffle")]
    density = json.loads((tmp_path / "results.json").read_text())["runs"][-1]["layer_density"]
    assert density["stem.0.weight"] == pytest.approx(0.8, abs=0.03)  # layer-wise: the small first layer pruned too


def test_same_seed_same_results_on_one_core_or_two(tmp_path):
    """Which networks share a batched group depends on the experiment, not the machine:
    OMP_NUM_THREADS=1 and 2 write the same records, bit for bit (timings aside)."""
    args = ["imp", "--model", "lenet_300_100", "--dataset", "mnist1d", "--preset", "smoke", "--rounds", "3",
            "--trials", "3", "--controls", "random_reinit", "shuffle", "--iterations", "60"]
    saved = {}
    for threads in (1, 2):
        env = {**ENV, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        res = subprocess.run([sys.executable, "-m", "lt_helpers", *args, "--out", str(tmp_path / str(threads))],
                             capture_output=True, text=True, env=env)
        assert res.returncode == 0, res.stderr
        saved[threads] = json.loads((tmp_path / str(threads) / "results.json").read_text())
        assert saved[threads]["config"].pop("provenance")["cpu_threads"] == threads
    assert saved[1]["config"] == saved[2]["config"] and saved[1]["config"]["groups"] == 2
    assert saved[1]["runs"] == saved[2]["runs"]
    res = cli(*args, "--groups", "0", "--out", str(tmp_path / "bad"))
    assert res.returncode == 2 and "groups must be at least 1" in res.stderr


def test_help_documents_every_option():
    out = cli("imp", "--help").stdout
    for option in ("--model", "--dataset", "--preset", "--rounds", "--trials", "--controls", "--out",
                   "--data-root", "--device", "--seed", "--lr", "--warmup", "--dropout", "--scope", "--rewind",
                   "--groups", "--control-rounds"):
        assert option in out


@pytest.mark.parametrize("args, message", [
    (["--model", "alexnet"], "unknown model 'alexnet'"),
    (["--dataset", "svhn"], "unknown dataset 'svhn'"),
    (["--preset", "fast"], "unknown preset 'fast'"),
    (["--rounds", "0"], "rounds must be at least 1"),
    (["--warmup", "-5"], "warmup must be a non-negative integer, got -5"),
    (["--lr", "inf"], "learning rate must be a finite positive number, got inf"),
    (["--control-rounds", "0"], "control_rounds must name rounds from 1"),
    (["--dataset", "mnist", "--data-root", "{tmp}"], "mnist1d"),
])
def test_bad_input_gives_one_clear_line(tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path / "empty")) for a in args]
    res = cli("imp", "--out", str(tmp_path / "out"), "--iterations", "10", *args)
    assert res.returncode == 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()  # nothing written before the inputs are checked


def test_models_command_lists_weight_counts():
    out = cli("models").stdout
    assert "lenet_300_100" in out and "266,200" in out and "43,000" in out


def test_sigkill_then_rerun_equals_an_uninterrupted_run(tmp_path):
    """Kill a real CLI run (SIGKILL, no clean-up) after its first finished round; the rerun
    recomputes nothing finished and ends with the same results.json as a run never killed."""
    import signal
    import time

    def args(out):
        return [sys.executable, "-m", "lt_helpers", "imp", "--preset", "smoke", "--rounds", "4", "--trials", "2",
                "--iterations", "300", "--controls", "random_reinit", "--device", "cpu", "--out", str(out)]

    killed = tmp_path / "killed"
    proc = subprocess.Popen(args(killed), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (killed / "results.json").exists():
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed; make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = json.loads((killed / "results.json").read_text())
    done = {r["round"] for r in partial["runs"]}
    assert 0 in done and 3 not in done
    resumed = subprocess.run(args(killed), env=ENV, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    clean = subprocess.run(args(tmp_path / "clean"), env=ENV, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    a = json.loads((killed / "results.json").read_text())
    b = json.loads((tmp_path / "clean" / "results.json").read_text())
    for run in (a, b):  # where and how long it ran differ; nothing else may
        run["config"].pop("provenance")
    assert a == b  # same seeds, CPU: bitwise-identical masks and curves
    assert a["runs"][:len(partial["runs"])] == partial["runs"]  # finished rounds kept as they were
