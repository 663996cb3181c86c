"""A table of bad inputs across the command line and the API: each gives one clear message
that names the fix (the CLI: exit status 2, no traceback) and loses nothing already written."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from lt_helpers import data, iterative, masks, models, results, train
from lt_helpers.errors import LTError

ENV = {**os.environ, "LT_PROGRESS": "0", "LT_DEVICE": ""}
BASE = ["imp", "--preset", "smoke", "--rounds", "2", "--trials", "1", "--iterations", "30"]

CLI_CASES = [  # (extra arguments, what the message must say)
    (["--model", "alexnet"], "unknown model 'alexnet'; choose one of lenet_300_100"),
    (["--dataset", "svhn"], "unknown dataset 'svhn'; choose one of mnist1d, fashion_mnist, mnist, cifar10"),
    (["--preset", "fast"], "unknown preset 'fast'; choose one of smoke, quick, paper"),
    (["--rounds", "0"], "rounds must be at least 1"),
    (["--trials", "-1"], "trials must be at least 1"),
    (["--controls", "magic"], "unknown control(s) ['magic']; choose from random_reinit, oneshot, random_prune"),
    (["--iterations", "0"], "iterations must be a positive integer"),
    (["--device", "tpu"], "unknown device 'tpu': use 'auto', 'cpu' or 'cuda'"),
    (["--dataset", "mnist", "--data-root", "{empty}", "--out", "{fresh}"], "use dataset='mnist1d'"),
    (["--data-root", "{file}"], "is a file, not a folder"),
    (["--out", "{file}/sub"], "cannot create output folder"),
    (["--seed", "7"], "belongs to a different experiment (seed: 0 there, 7 now)"),
    (["--out", "{corrupt}"], "is not a valid results file"),
    (["--precision", "int8"], "unknown precision 'int8'; use 'auto'"),
    (["--seed", "abc"], "argument --seed: invalid int value: 'abc'"),
]
if not torch.cuda.is_available():
    CLI_CASES.append((["--device", "cuda"], "no GPU is available; use device='auto' or 'cpu'"))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A folder holding a finished smoke run (seed 0)."""
    out = tmp_path_factory.mktemp("finished") / "run"
    res = subprocess.run([sys.executable, "-m", "lt_helpers", *BASE, "--out", str(out)], capture_output=True,
                         text=True, env=ENV)
    assert res.returncode == 0, res.stderr
    return out


@pytest.mark.parametrize("extra, message", CLI_CASES, ids=[" ".join(a) for a, _ in CLI_CASES])
def test_cli_bad_input(extra, message, finished, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "results.json").write_text("{truncated")
    fill = {"{empty}": str(tmp_path / "empty"), "{file}": str(tmp_path / "file"), "{corrupt}": str(tmp_path / "corrupt"),
            "{fresh}": str(tmp_path / "fresh")}
    extra = [fill.get(a, a.replace("{file}", str(tmp_path / "file"))) for a in extra]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    res = subprocess.run([sys.executable, "-m", "lt_helpers", *BASE, "--out", str(out), *extra],
                         capture_output=True, text=True, env=ENV)
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    assert len([l for l in res.stderr.splitlines() if l.startswith("error") or ": error:" in l]) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing already written was lost
    assert (tmp_path / "corrupt" / "results.json").read_text() == "{truncated"  # left untouched


@pytest.fixture(scope="module")
def net():
    return models.build("lenet_300_100", (1, 40))


def _api_cases(net, mnist1d, tmp_path):
    ones = masks.Mask.ones_like(net)
    w = net.get_copy(0)
    return [
        (lambda: masks.Mask({**ones, "layers.0.weight": torch.ones(3, 3)}).check(net), "has shape (3, 3)"),
        (lambda: masks.magnitude_prune(w, ones, {"layers.0.weight": 1.0}), "it must be in [0, 1)"),
        (lambda: masks.magnitude_prune(w, ones, {"layers.9.weight": 0.2}), "rates name layers the mask does not have"),
        (lambda: masks.layer_rates(net, {"fc": 0.2}), "no pruning rate for layer kind(s) ['output']"),
        (lambda: models.build("lenet_300_100", (1, 40), copies=0), "copies must be at least 1"),
        (lambda: net.set_copy(0, models.build("lenet_300_100", (1, 28, 28)).get_copy(0)), "the model expects"),
        (lambda: train.Hyper(lr=-1.0).check(), "learning rate must be a finite positive number"),
        (lambda: train.Hyper(precision="fp8").check(), "unknown precision 'fp8'"),
        (lambda: train.train("lenet_300_100", mnist1d, [w], [ones], train.Hyper(batch_size=99_999), seeds=[0]),
         "larger than the training set"),
        (lambda: train.train("lenet_300_100", mnist1d, [w, w], [ones], train.Hyper(), seeds=[0]),
         "one entry per run"),
        (lambda: results.load_results(tmp_path / "nowhere"), "no results file"),
        (lambda: iterative.run_imp(dataset="mnist", preset="smoke", data=mnist1d), "data holds 'mnist1d'"),
        (lambda: data.load("mnist1d", data_root=tmp_path / "file"), "is a file, not a folder"),
    ]


def test_api_bad_input_table(net, mnist1d, tmp_path):
    (tmp_path / "file").write_text("x")
    cases = _api_cases(net, mnist1d, tmp_path)
    assert len(cases) + len(CLI_CASES) >= 20
    for call, message in cases:
        with pytest.raises(LTError) as err:
            call()
        assert message in str(err.value), (message, str(err.value))


def test_a_full_disk_is_one_clear_error_and_leaves_the_old_file(tmp_path):
    import errno

    from lt_helpers.files import atomic_write

    target = tmp_path / "results.json"
    target.write_text('{"old": true}')

    def disk_full(tmp):
        tmp.write_text('{"half')
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(LTError, match="no space left on the device writing .*results.json: free space and rerun"):
        atomic_write(target, disk_full)
    assert target.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]  # no temporary file left behind


def test_two_writers_of_one_file_never_leave_it_invalid(tmp_path):
    """Each writer has its own temporary file, so whichever rename comes last, the file is
    one writer's whole JSON. With one shared temporary name (before), a slowed writer could
    rename the other's half-written file into place."""
    import json
    import threading
    import time

    from lt_helpers.files import atomic_write

    target, seen, errors, stop = tmp_path / "results.json", [], [], threading.Event()

    def writer(tag):
        try:
            write_all(tag)
        except Exception as err:  # a thread's exception would not fail the test by itself
            errors.append(repr(err))

    def write_all(tag):
        for i in range(30):
            def slow(tmp):
                with open(tmp, "w") as f:
                    f.write('{"writer": "%s", "i": %d, "pad": "' % (tag, i))
                    f.flush()
                    time.sleep(0.002)
                    f.write("x" * 5000 + '"}')
            atomic_write(target, slow)

    def reader():
        while not stop.is_set():
            try:
                seen.append(json.loads(target.read_text())["writer"])
            except FileNotFoundError:
                pass
            except ValueError:
                errors.append("an invalid results.json was seen")

    threads = [threading.Thread(target=writer, args=(t,)) for t in "ab"]
    watch = threading.Thread(target=reader)
    watch.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watch.join()
    assert not errors, errors[:3]
    assert json.loads(target.read_text())["i"] == 29 and seen
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("params, env, message", [
    (["-p", "trials", "-1"], {}, "the parameter trials must be a positive whole number or None"),
    ([], {"LT_TRIALS": "abc"}, "LT_TRIALS must be a positive whole number, got 'abc'"),
    (["-p", "seed", "-3"], {}, "the parameter seed must be a non-negative whole number"),
])
def test_a_wrong_chapter_parameter_is_one_line_where_it_was_set(tmp_path, params, env, message):
    """Papermill (or a reader editing the parameters cell): the chapter stops at its setup cell,
    and what the notebook shows there is the package's one line, not a traceback through it."""
    from pathlib import Path

    chapter = Path(__file__).parents[1] / "chapters" / "02_lottery_ticket.ipynb"
    res = subprocess.run([sys.executable, "-m", "papermill", str(chapter), str(tmp_path / "out.ipynb"), *params],
                         capture_output=True, text=True, env={**os.environ, "LT_PRESET": "smoke", "LT_PROGRESS": "0",
                                                              "LT_STATIC": "1", **env})
    assert res.returncode != 0
    nb = json.loads((tmp_path / "out.ipynb").read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "LTError"
    assert errors[0]["traceback"] == [f"LTError: {errors[0]['evalue']}"] and message in errors[0]["evalue"]


def test_a_cut_mnist1d_cache_is_made_again(tmp_path):
    first = data.load("mnist1d", data_root=tmp_path)
    cache = tmp_path / "mnist1d" / "mnist1d_seed42.pkl"
    cache.write_bytes(cache.read_bytes()[:1000])
    again = data.load("mnist1d", data_root=tmp_path)
    assert torch.equal(first.x_train, again.x_train) and len(cache.read_bytes()) > 1000


BAD_VALUES = {  # for every hyperparameter, values of the wrong type or out of range
    "iterations": [0, -1, 1.5, "100", True, None],
    "batch_size": [0, -60, 60.0, "60", None],
    "eval_every": [0, -1, 2.5, None],
    "test_every": [-100, 50, 1.5],  # 50: not a multiple of eval_every (100)
    "warmup": [-5, 1.5, "10"],
    "optimizer": ["adamw", "", None, 3],
    "lr": [0, -1e-3, float("inf"), float("nan"), "0.1", None, True],
    "momentum": [-1, 1.0, 2, float("nan"), "0.9"],
    "weight_decay": [-1, float("inf"), float("nan"), "0"],
    "lr_drops": ["abc", [-1], [1.5], 5],
    "precision": ["fp64", "", None],
    "dropout": [-0.1, 1.0, float("nan"), "0.5"],
    "augment": ["yes", 1, None],
}


@pytest.mark.parametrize("field, value", [(f, v) for f, vs in BAD_VALUES.items() for v in vs],
                         ids=[f"{f}={v!r}" for f, vs in BAD_VALUES.items() for v in vs])
def test_every_bad_hyperparameter_is_one_clear_line_and_writes_nothing(field, value, mnist1d, tmp_path):
    """Generated bad values for every field of Hyper through run_imp: an LTError naming the
    field, raised before anything is trained or written."""
    with pytest.raises(LTError, match=field.replace("lr", "(learning rate|lr)") if field == "lr" else field):
        iterative.run_imp("lenet_300_100", "mnist1d", "smoke", data=mnist1d, out=tmp_path / "out",
                    hyper={"iterations": 100, "eval_every": 100, field: value})
    assert not (tmp_path / "out").exists()


CLI_BAD_VALUES = {  # every Hyper field is an option: values as a user would type them
    "iterations": ["0", "-3", "1.5", "x"],
    "batch_size": ["0", "x"],
    "optimizer": ["adamw"],
    "lr": ["0", "-1e-3", "inf", "nan", "x"],
    "momentum": ["-1", "1.0", "nan"],
    "weight_decay": ["-1", "inf"],
    "eval_every": ["0", "2.5"],
    "test_every": ["-100", "30"],  # 30: not a multiple of the smoke preset's eval_every (25)
    "warmup": ["-5", "1.5"],
    "lr_drops": ["-1", "x"],
    "precision": ["fp64"],
    "dropout": ["-0.1", "1", "nan"],
}


def test_every_hyperparameter_is_an_option():
    from dataclasses import fields

    from lt_helpers.tools.cli import _parser
    from lt_helpers.hparams import Hyper

    options = _parser()._subparsers._group_actions[0].choices["imp"]._option_string_actions
    assert {f"--{f.name.replace('_', '-')}" for f in fields(Hyper)} <= set(options)
    assert set(CLI_BAD_VALUES) | {"augment"} == {f.name for f in fields(Hyper)}


@pytest.mark.parametrize("field, value", [(f, v) for f, vs in CLI_BAD_VALUES.items() for v in vs],
                         ids=[f"{f}={v}" for f, vs in CLI_BAD_VALUES.items() for v in vs])
def test_every_bad_hyperparameter_on_the_command_line_is_one_line_exit_2(field, value, tmp_path, capsys):
    """The same through the command line: exit status 2, one line naming the option or field,
    no traceback, and no output folder created (nothing is loaded before the values are checked)."""
    from lt_helpers.tools.cli import main

    out = tmp_path / "out"
    try:
        status = main(["imp", "--preset", "smoke", "--out", str(out), f"--{field.replace('_', '-')}", value])
    except SystemExit as stop:
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert field in err or field.replace("_", "-") in err or (field == "lr" and "learning rate" in err), err
    assert not out.exists()


def test_a_flag_given_a_value_is_one_line(tmp_path, capsys):
    from lt_helpers.tools.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["imp", "--out", str(tmp_path / "out"), "--augment", "yes"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and "unrecognized arguments: yes" in err
