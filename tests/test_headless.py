"""`make results`: every chapter headless with papermill; a failing chapter stops nothing else."""

import json
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT, SMOKE_ENV


def _broken_notebook(path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('preset = "quick"\ndataset = "auto"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell('raise RuntimeError("this chapter is broken")')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_results_runs_every_chapter_and_names_the_failure(tmp_path):
    good = ROOT / "chapters" / "02_lottery_ticket.ipynb"
    broken = _broken_notebook(tmp_path / "00_broken.ipynb")
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "lt_helpers", "results", "--preset", "smoke", "--dataset", "mnist1d",
                          "--out", str(out), str(broken), str(good)], capture_output=True, text=True, env=SMOKE_ENV)
    assert res.returncode == 1
    assert "failed: 00_broken" in res.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["02_lottery_ticket"]["status"] == "ok"
    assert summary["00_broken"]["status"].startswith("failed")
    assert summary["02_lottery_ticket"]["parameters"]["preset"] == "smoke"
    assert (out / "00_broken" / "00_broken.ipynb").exists()  # the failed notebook is kept for inspection
    assert "this chapter is broken" in (out / "00_broken" / "00_broken.ipynb").read_text()
    executed = nbformat.read(out / "02_lottery_ticket" / "02_lottery_ticket.ipynb", as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    saved = json.loads((out / "02_lottery_ticket" / "results.json").read_text())
    assert saved["config"]["preset"] == "smoke" and saved["config"]["dataset"] == "mnist1d"
    assert {r["condition"] for r in saved["runs"]} == {"dense", "ticket", "random_reinit"}
    assert (out / "02_lottery_ticket" / "log.txt").stat().st_size > 0


def test_results_command_rejects_unknown_preset(tmp_path):
    res = subprocess.run([sys.executable, "-m", "lt_helpers", "results", "--preset", "full", "--out", str(tmp_path)],
                         capture_output=True, text=True, env=SMOKE_ENV)
    assert res.returncode == 2 and "unknown preset 'full'" in res.stderr and "Traceback" not in res.stderr
