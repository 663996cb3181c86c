"""make bench's table: every row present, ratios computed from the printed times."""

import re

import pytest
import torch

from lt_helpers.tools import bench

ROW = re.compile(r"^(?P<workload>.+?)\s{2,}(?P<method>reference|plain|lt_helpers K=\d+(?: bf16| NCHW)?)\s+(?P<ms>[\d.]+)\s+"
                 r"(?P<vs_ref>[\d.]+)x\s+(?P<vs_k1>[\d.]+)x\s+(?P<spread>\d+)%$")


def _check_ratios(rows, workload):
    mine = {r["method"]: r for r in rows if r["workload"] == workload}
    ref, k1 = float(mine["reference"]["ms"]), float(mine["lt_helpers K=1"]["ms"])
    for r in mine.values():
        ms = float(r["ms"])
        assert ms > 0
        # ratios are throughput ratios of the printed (rounded) times
        assert float(r["vs_ref"]) == pytest.approx(ref / ms, rel=0.01, abs=0.01)
        assert float(r["vs_k1"]) == pytest.approx(k1 / ms, rel=0.01, abs=0.01)


def _rows(out):
    return [m.groupdict() for line in out.splitlines() if (m := ROW.match(line))]


def test_bench_table(capsys):
    assert bench.main(["--device", "cpu", "--steps", "40", "--repeats", "2", "--skip-chapter", "--skip-fashion"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    methods = ["reference", "plain", "lt_helpers K=1", "lt_helpers K=8", "lt_helpers K=32"]
    assert [r["method"] for r in rows] == methods * 2, out
    for workload in ("LeNet-300-100, MNIST-shaped", "MLP 40-300-100-10, MNIST-1D"):
        _check_ratios(rows, workload)
    assert "Conv-2" not in out  # only with --conv on a CPU
    assert "chapter 3" not in out  # --skip-chapter


def test_bench_conv_rows(capsys):
    """``--conv``: Conv-2 on CIFAR-shaped images, with and without channels-last, whose
    reference loop trains a real torch.nn Conv-2 on PIL-converted colour images."""
    # --steps 90: Conv-2 times 3 steps, enough that set-up noise cannot make a time negative
    assert bench.main(["--device", "cpu", "--steps", "90", "--repeats", "1", "--skip-chapter", "--skip-fashion", "--conv"]) == 0
    out = capsys.readouterr().out
    rows = [r for r in _rows(out) if r["workload"] == "Conv-2, CIFAR-shaped"]
    assert [r["method"] for r in rows] == ["reference", "lt_helpers K=1", "lt_helpers K=8", "lt_helpers K=8 NCHW"]
    _check_ratios(rows, "Conv-2, CIFAR-shaped")
    # #41: the conv nets on 28x28 grey images, evaluation included, beside their FLOP floor
    grey = out[out.index("Conv-2/4/6 on 28x28 grey images"):].splitlines()
    table = {line.split()[0]: [float(v.rstrip("%")) for v in line.split()[1:]] for line in grey[2:5]}
    assert list(table) == ["conv2", "conv4", "conv6"]
    for model, (step, evaluate, total, floor, share, _) in table.items():
        assert step > 0 and evaluate > 0 and total == pytest.approx(step + evaluate, abs=0.11), model
        assert floor > 0 and share == pytest.approx(100 * floor / total, abs=1), model  # (3 timed steps: noisy)
    assert table["conv2"][3] < table["conv4"][3] < table["conv6"][3]  # more arithmetic, a higher floor


@pytest.mark.parametrize("flag", ["--steps", "--repeats"])
def test_bench_rejects_nonpositive_counts(flag, capsys):
    with pytest.raises(SystemExit):
        bench.main([flag, "0", "--skip-chapter"])
    assert f"{flag} must be at least 1" in capsys.readouterr().err


def test_the_gpu_report_runs_every_row_on_a_cpu_with_tiny(tmp_path):
    """#19's command, prepared before a GPU is lent: --tiny runs every row in seconds and
    writes the JSON and the Markdown table the appendix will include."""
    import json
    import os
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "lt_helpers.tools.gpureport", "--tiny", "--device", "cpu", "--out",
                          str(tmp_path)], capture_output=True, text=True, env={**os.environ, "LT_PROGRESS": "0"})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    report = json.loads((tmp_path / "cpu-tiny.json").read_text())
    methods = {(r["workload"].split(",")[0], r["method"], r["precision"]) for r in report["steps"]}
    for k in (1, 8, 32):
        for precision in ("fp32", "bf16"):
            assert ("LeNet-300-100", f"lt_helpers K={k}", precision) in methods
    assert ("Conv-2", "lt_helpers K=8 NCHW", "fp32") in methods and ("Conv-2", "reference", "fp32") in methods
    assert all(isinstance(r["ms_per_step"], float) and isinstance(r["vs_reference"], float) for r in report["steps"])
    names = [e["name"] for e in report["experiments"]]
    assert len(names) == 3 and names[0].startswith("chapter 3")
    for level in report["experiments"][1:]:  # one level timed, the full figure projected from it
        assert level["networks"] == 10 and level["levels"] > 1
        assert level["projected_s"] == pytest.approx(level["wall_s"] * level["levels"], abs=0.1 * level["levels"])
    table = (tmp_path / "cpu-tiny.md").read_text()
    assert "--tiny" in table and table.count("\n|") >= len(report["steps"]) + len(names) + 4


def test_lenet_flops_count_training_and_both_evaluations():
    from lt_helpers.data import Data
    from lt_helpers.hparams import Hyper

    x = lambda n: torch.zeros(1, 1, 28, 28).expand(n, -1, -1, -1)
    y = lambda n: torch.zeros(n, dtype=torch.long)
    data = Data("fashion_mnist", x(4), y(4), x(5000), y(5000), x(10000), y(10000))
    macs = 784 * 300 + 300 * 100 + 100 * 10  # 266,200
    train = 2 * 60 * (macs + 2 * macs - 784 * 300)  # forward, and backward without the input's gradient
    every = bench.lenet_flops_per_step(data, Hyper(eval_every=100))
    assert every == train + 2 * macs * (5000 + 10000) / 100
    assert bench.lenet_flops_per_step(data, Hyper(eval_every=100, test_every=1000)) == \
        train + 2 * macs * (5000 / 100 + 10000 / 1000)


FASHION_ROW = re.compile(r"^(?P<name>test every [\d,]+ \(.+?\))\s+(?P<ms>[\d.]+)\s+(?P<floor>[\d.]+)\s+(?P<share>\d+)%\s+"
                         r"(?P<vs_full>[\d.]+)x\s+(?P<spread>\d+)%$")


def test_bench_times_fashion_mnist_with_its_evaluations(fashion_root, monkeypatch, capsys):
    monkeypatch.setenv("LT_DATA", str(fashion_root))
    lines = bench.fashion_rows("cpu", iterations=60, repeats=1, copies=4)
    rows = [m.groupdict() for line in lines if (m := FASHION_ROW.match(line))]
    assert [r["name"] for r in rows] == ["test every 100 (full evaluation)", "test every 1,000 (paper preset)"], lines
    assert rows[0]["vs_full"] == "1.00"
    for r in rows:
        share = float(r["floor"]) / float(r["ms"])  # the share of peak is the floor over the time
        assert float(r["share"]) == pytest.approx(100 * share, abs=1)
    assert "4 networks in 2 group(s)" in lines[0]


def test_bench_says_when_fashion_mnist_is_missing(tmp_path, monkeypatch):
    from lt_helpers import data

    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "none")
    monkeypatch.setenv("LT_DATA", str(tmp_path))
    lines = bench.fashion_rows("cpu", iterations=10, repeats=1)
    assert lines[0].startswith("Fashion-MNIST: skipped") and "apt-get install dataset-fashion-mnist" in lines[0]


def test_the_gpu_conv_command_trains_and_stops_at_its_budget(fashion_root, tmp_path):
    """#41's GPU part, prepared before a GPU is lent: Conv-2/4/6 on Fashion-MNIST side by side,
    stopped at the budget with their finished rounds kept and said; each call starts over."""
    import gzip
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "LT_PROGRESS": "0", "LT_DATA": str(fashion_root),
           "LT_DEBIAN_FASHION_MNIST": str(tmp_path / "no-debian")}
    call = lambda out, work, budget, *more: subprocess.run(
        [sys.executable, "-m", "lt_helpers.tools.gpuconv", "--tiny", "--device", "cpu", "--out", str(tmp_path / out),
         "--work", str(tmp_path / work), "--budget", str(budget), *more], capture_output=True, text=True, env=env)
    summary = lambda out: json.loads((tmp_path / out / "summary.json").read_text())
    cut = call("cut", "cut-work", 0.5)  # stopped before a round can finish: nothing saved, said so
    assert cut.returncode == 0, cut.stderr[-3000:]
    assert all(e["stopped_at_budget"] and e["rounds_finished"] == 0 for e in summary("cut")["networks"].values())
    done = call("done", "work", 600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "conv6: 2 rounds finished, down to" in done.stdout
    first = summary("done")
    for model in ("conv2", "conv4", "conv6"):
        entry = first["networks"][model]
        assert entry["rounds_finished"] == 2 and entry["returncode"] == 0 and not entry["stopped_at_budget"]
        assert entry["percent_remaining"][0] == 100.0 > entry["percent_remaining"][1]
        saved = json.loads(gzip.decompress((tmp_path / "done" / f"{model}-fashion_mnist-gpu.json.gz").read_bytes()))
        assert {r["round"] for r in saved["runs"]} == {0, 1} and saved["config"]["model"] == model
    again = call("done", "work", 0.5)  # a second call starts over in its --work and --out
    assert again.returncode == 0 and all(e["rounds_finished"] == 0 for e in summary("done")["networks"].values())
    assert not list((tmp_path / "done").glob("*.json.gz"))  # none left from the first
    bad = call("bad", "w", 0)
    assert bad.returncode == 2 and "--budget must be a number of seconds above 0" in bad.stderr
