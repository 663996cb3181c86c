"""``make book`` executes a chapter only when its results could have changed: its code,
lt_helpers, the LT_* settings or torch (lt_helpers.tools.build with jupyter-cache)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lt_helpers.tools import build

ROOT = Path(__file__).resolve().parents[1]


def test_the_key_follows_the_package_and_the_settings(tmp_path):
    package = tmp_path / "lt_helpers"
    shutil.copytree(build.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    env = {"LT_PRESET": "smoke"}
    first = build.key(package, env)
    assert build.key(package, dict(env)) == first  # nothing changed: same key
    (package / "README.txt").write_text("not code")
    assert build.key(package, env) == first  # neither code nor data
    masks = package / "masks.py"
    masks.write_text(masks.read_text() + "\n# an edit\n")
    edited = build.key(package, env)
    assert edited != first
    assert build.key(package, {"LT_PRESET": "quick"}) != edited
    assert build.key(package, {**env, "LT_DATASET": "mnist"}) != edited
    (package / "full_runs" / "new.json.gz").write_bytes(b"\x1f\x8b")
    assert build.key(package, env) != edited  # a shipped full run is data the chapters draw


def test_a_new_key_empties_the_cache(tmp_path):
    cache, said = tmp_path / ".jupyter_cache", []
    assert build.prepare(cache, "a", said.append) and not said  # nothing to empty yet
    (cache / "executed.ipynb").write_text("{}")
    assert not build.prepare(cache, "a", said.append)  # same key: kept
    assert (cache / "executed.ipynb").exists()
    assert build.prepare(cache, "b", said.append)
    assert not (cache / "executed.ipynb").exists() and "every chapter runs again" in said[0]


def test_make_book_builds_with_the_cache():
    config = (ROOT / "_config.yml").read_text()
    assert re.search(r"^\s*execute_notebooks:\s*cache\b", config, re.M)
    dry = subprocess.run(["make", "-n", "book"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "-m lt_helpers.tools.build" in dry


def _tiny_book(folder: Path) -> Path:
    """A one-chapter book whose chapter counts its executions in runs.txt."""
    folder.mkdir()
    (folder / "_config.yml").write_text(
        "title: tiny\nexecute:\n  execute_notebooks: cache\nonly_build_toc_files: true\n")
    (folder / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    cells = [{"cell_type": "markdown", "id": "m1", "metadata": {}, "source": "# Tiny\n\nFirst prose."},
             {"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": None, "outputs": [],
              "source": "with open('runs.txt', 'a') as f:\n    f.write('ran\\n')\nprint('hello')"}]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                      "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    (folder / "intro.ipynb").write_text(json.dumps(nb))
    return folder


@pytest.mark.slow
def test_a_rebuild_executes_only_what_changed(tmp_path):
    book = _tiny_book(tmp_path / "book")
    env = {k: v for k, v in os.environ.items() if k not in build.ENVIRONMENT}

    def make(**extra):
        res = subprocess.run([sys.executable, "-m", "lt_helpers.tools.build", str(book)], capture_output=True,
                             text=True, env={**env, **extra})
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        assert "hello" in (book / "_build" / "html" / "intro.html").read_text()  # outputs in the page
        return res.stdout, (book / "runs.txt").read_text().count("ran")

    out, runs = make()
    assert runs == 1 and "executed 1 chapter(s) in this build: intro" in out
    out, runs = make()
    assert runs == 1 and "executed 0 chapter(s)" in out and "from the cache" in out
    nb = json.loads((book / "intro.ipynb").read_text())
    nb["cells"][0]["source"] = "# Tiny\n\nProse, edited."
    (book / "intro.ipynb").write_text(json.dumps(nb))
    out, runs = make()
    assert runs == 1 and "executed 0 chapter(s)" in out  # a prose edit runs nothing
    assert "Prose, edited." in (book / "_build" / "html" / "intro.html").read_text()
    out, runs = make(LT_PRESET="quick")  # a setting the cache cannot see: the key changes
    assert runs == 2 and "every chapter runs again" in out and "executed 1 chapter(s)" in out
    nb["cells"][1]["source"] += "\nprint('more')"
    (book / "intro.ipynb").write_text(json.dumps(nb))
    out, runs = make(LT_PRESET="quick")  # a code edit runs that chapter
    assert runs == 3 and "executed 1 chapter(s)" in out
    assert "from the cache" not in out  # the chapter's older outputs, still in the cache, were not used
