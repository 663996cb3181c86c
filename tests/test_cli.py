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


def test_help_documents_every_option():
    out = cli("imp", "--help").stdout
    for option in ("--model", "--dataset", "--preset", "--rounds", "--trials", "--controls", "--out",
                   "--data-root", "--device", "--seed"):
        assert option in out


@pytest.mark.parametrize("args, message", [
    (["--model", "alexnet"], "unknown model 'alexnet'"),
    (["--dataset", "svhn"], "unknown dataset 'svhn'"),
    (["--preset", "fast"], "unknown preset 'fast'"),
    (["--rounds", "0"], "rounds must be at least 1"),
    (["--dataset", "mnist", "--data-root", "{tmp}"], "mnist1d"),
])
def test_bad_input_gives_one_clear_line(tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path / "empty")) for a in args]
    res = cli("imp", "--out", str(tmp_path / "out"), "--iterations", "10", *args)
    assert res.returncode == 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_models_command_lists_weight_counts():
    out = cli("models").stdout
    assert "lenet_300_100" in out and "266,200" in out and "43,000" in out
