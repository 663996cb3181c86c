"""The book works where its readers are: Colab, a laptop with internet, plain Jupyter
outside the repository. Numbers are in generated Markdown (no myst role a Colab reader
would see raw), full runs ship inside the package, the install cell pins the book's own
version, and a chapter's settings (device included) reach every run it starts."""

import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import torch

import lt_helpers
from lt_helpers import book, device, full_runs, results
from lt_helpers.errors import LTError
from lt_helpers.experiment import Experiment
from lt_helpers.iterative import run_imp
from lt_helpers.tools import cli

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9]*.ipynb"))


def cells(nb):
    return json.loads(nb.read_text())["cells"]


def text(cell):
    return "".join(cell["source"])


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_no_myst_role_carries_numbers_and_no_path_leaves_the_notebook(notebook):
    for cell in cells(notebook):
        assert "{glue" not in text(cell), f"{notebook.name}: a glue role reads raw in Jupyter and Colab"
        if cell["cell_type"] == "code":
            assert "../" not in text(cell), f"{notebook.name}: a path outside the notebook's folder"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_plumbing_is_out_of_the_way_and_the_opening_says_how_long(notebook):
    cs = cells(notebook)
    colab = [c for c in cs if 'if "google.colab" in sys.modules' in text(c)]
    assert len(colab) == 1 and "hide-input" in colab[0]["metadata"].get("tags", [])
    for c in cs:
        if c["cell_type"] == "code" and text(c).startswith("display(Markdown("):
            assert "remove-input" in c["metadata"].get("tags", []), f"{notebook.name}: prose cell shows its code"
        if c["cell_type"] == "code" and "Markdown(" in text(c):
            # the book renders generated Markdown as CommonMark: $...$ would show raw there
            assert not re.search(r"\$[^$]*\\\\", text(c)), f"{notebook.name}: LaTeX in generated Markdown"
    opening = text(cs[0])
    assert "2-core CPU" in opening and "GPU" in opening and "*Running time*" in opening


def test_readers_install_what_readers_need():
    readers = (ROOT / "requirements.txt").read_text()
    for tool in ("pytest", "nbval", "playwright", "ray", "psutil"):
        assert not re.search(rf"^{tool}\b", readers, re.M), f"{tool} is for the tests, not for readers"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {re.split(r"[<>=\[]", d)[0] for d in extras["test"]}
    assert {"pytest", "nbval", "playwright", "psutil", "jupyter_client"} <= names
    assert re.search(r"^sphinx-mathjax-offline\b", readers, re.M)  # the book serves its own MathJax
    assert any(d.startswith("ray") for d in extras["ray"])
    make = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "LT_DATASET=mnist1d" in make and "python -m pytest" in make


def test_the_theme_is_pinned_to_the_versions_its_css_was_checked_with():
    """The book's CSS targets the theme's markup (one search box, figure sizes): the theme and the
    pydata theme beneath it are pinned to a minor version each, and the installed ones match."""
    from importlib import metadata

    from packaging.requirements import Requirement

    pins = {r.name: r for r in (Requirement(line) for line in (ROOT / "requirements.txt").read_text().splitlines()
                                if line.strip() and not line.startswith("#"))}
    for name in ("sphinx-book-theme", "pydata-sphinx-theme"):
        spec = pins[name].specifier
        assert any(s.operator == "<" for s in spec) and any(s.operator == ">=" for s in spec), name
        assert metadata.version(name) in spec, f"{name} {metadata.version(name)} is not {spec}"


@pytest.mark.parametrize("target", ["book", "test", "results"])
def test_make_uses_the_embedded_dataset_unless_told(target):
    run = lambda *a: subprocess.run(["make", "-n", target, *a], cwd=ROOT, capture_output=True, text=True).stdout
    assert "LT_DATASET=mnist1d " in run()
    assert "LT_DATASET=mnist " in run("DATASET=mnist")


def test_a_chapter_carries_its_device_into_every_run(monkeypatch, tmp_path):
    """device='cpu' on a machine that reports a GPU: everything trains on the CPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.delenv("LT_DEVICE", raising=False)
    monkeypatch.setenv("LT_DATASET", "mnist1d")
    ch = book.setup("smoke", "auto", 1, 0, "cpu", data_root=tmp_path)
    assert ch.device.type == "cpu" and ch.dataset == "mnist1d"  # auto on a CPU device: MNIST-1D
    res = ch.run_imp(rounds=1, controls=(), hyper={"iterations": 20})
    assert res.config["device"] == "cpu" and res.config["trials"] == 1 and res.config["preset"] == "smoke"


def test_the_environment_is_read_at_the_edges_only(monkeypatch):
    monkeypatch.setenv("LT_DEVICE", "cuda")
    assert device.resolve_device("cpu").type == "cpu"  # an explicit device wins below book.setup and the CLI


def test_every_results_json_says_where_it_came_from(tmp_path, mnist1d):

    run_imp("lenet_300_100", "mnist1d", "smoke", rounds=2, trials=1, controls=(), data=mnist1d,
            hyper={"iterations": 20}, out=tmp_path, device="cpu")
    prov = json.loads((tmp_path / "results.json").read_text())["config"]["provenance"]
    assert prov["lt_helpers"] == lt_helpers.__version__ and prov["torch"] == torch.__version__
    assert prov["device_name"].startswith("CPU") and prov["wall_time_s"] > 0
    assert prov["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}\+?", prov["git_commit"])
    spent = prov["wall_time_s"]
    run_imp("lenet_300_100", "mnist1d", "smoke", rounds=3, trials=1, controls=(), data=mnist1d,
            hyper={"iterations": 20}, out=tmp_path, device="cpu")  # resumed: the wall time adds up
    assert json.loads((tmp_path / "results.json").read_text())["config"]["provenance"]["wall_time_s"] > spent


@pytest.mark.parametrize("name", list(full_runs.FULL_RUNS))
def test_committed_full_runs_ship_with_the_package(name):
    full = full_runs.full_run(name)
    assert full.config["trials"] == 5 and len(full.runs) >= 5 * full.config["rounds"]
    prov = full.config["provenance"]
    assert prov["wall_time_s"] > 0 and prov["lt_helpers"] and prov["device_name"]
    words = full_runs.FULL_RUNS[name].split()
    assert words[:3] == ["python", "-m", "lt_helpers"] and words[words.index("--out") + 1] == f"runs/{name}"
    made = cli.experiment_of(words[3:])  # the recorded command describes exactly this run
    assert made.differences(Experiment.from_config(full.config)) == []


def test_a_full_run_ships_its_masks_bit_for_bit(tmp_path, mnist1d):
    """write_full_run packs every mask of a run in WITH_MASKS (a bit per weight); full_run
    gives them back exactly, with the records."""
    name = full_runs.WITH_MASKS[0]
    run_imp("lenet_300_100", "mnist1d", "smoke", rounds=3, trials=2, controls=(), data=mnist1d,
            hyper={"iterations": 20}, out=tmp_path / "run", device="cpu")
    full_runs.write_full_run(tmp_path / "run" / "results.json", name, folder=tmp_path)
    again, made = full_runs.full_run(name, folder=tmp_path), results.load_results(tmp_path / "run")
    assert sorted(again.masks) == sorted(made.masks) and len(again.masks) == 2 * 4  # rounds 0-3, the last one pruned
    for key, mask in made.masks.items():
        assert list(again.masks[key]) == list(mask)
        for layer, m in mask.items():
            assert again.masks[key][layer].dtype == torch.bool and torch.equal(again.masks[key][layer], m)
    assert again.runs == json.loads(json.dumps(made.runs))
    (tmp_path / "run" / "state.pt").unlink()
    with pytest.raises(LTError, match="no state.pt"):
        full_runs.write_full_run(tmp_path / "run" / "results.json", name, folder=tmp_path)


@pytest.mark.slow
def test_the_wheel_carries_the_full_runs(tmp_path):
    from lt_helpers.tools import release

    names = zipfile.ZipFile(release.wheel(ROOT, tmp_path)).namelist()  # as the book and make release build it
    for name in full_runs.FULL_RUNS:
        assert f"lt_helpers/full_runs/{name}.json.gz" in names
    for name in full_runs.WITH_MASKS:
        assert f"lt_helpers/full_runs/{name}.masks.npz" in names
    for name in full_runs.CHAPTER_RUNS:
        assert f"lt_helpers/full_runs/{name}.json.gz" in names
    from lt_helpers import lesson

    for name in lesson.diagrams():  # the concept diagrams draw in Colab too
        assert f"lt_helpers/diagrams/{name}.svg" in names


@pytest.mark.slow
@pytest.mark.parametrize("stem, words", [("03_iterative_pruning", "Where the speed-up holds, Fashion-MNIST."),
                                         ("04_convolutional", "The full run** (MNIST-1D, 5 trials per point)"),
                                         ("06_initialization", "**Fashion-MNIST**, test accuracy at early stopping (5 trials)")])
def test_a_chapter_run_from_anywhere_shows_the_full_run(tmp_path, stem, words):
    """Papermill, smoke preset, from a folder that holds only the notebook (as Colab or a
    reader's own Jupyter would): the full-run figures and sentences appear."""
    from conftest import SMOKE_ENV

    alone = tmp_path / f"{stem}.ipynb"
    alone.write_bytes((ROOT / "chapters" / f"{stem}.ipynb").read_bytes())
    res = subprocess.run([sys.executable, "-m", "papermill", alone.name, "out.ipynb", "--cwd", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, env=SMOKE_ENV)
    assert res.returncode == 0, res.stderr[-4000:]
    out = json.loads((tmp_path / "out.ipynb").read_text())
    full = [c for c in out["cells"] if "full_run(" in text(c)]
    assert full and all(any("image/png" in o.get("data", {}) for o in c["outputs"]) for c in full), \
        "a full-run figure is missing"
    shown = [o for c in out["cells"] for o in c.get("outputs", [])]
    assert any(words in "".join(o.get("data", {}).get("text/markdown", "")) for o in shown)


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_every_figure_has_alt_text_and_a_caption_under_it(notebook):
    """A figure's cell carries alt text for screen readers (myst-nb puts it on the image; a
    concept diagram's is its SVG's title) and the next cell is its caption, numbered in order,
    so Colab and Jupyter show it too."""
    from lt_helpers import lesson

    cs, number = cells(notebook), int(notebook.name[:2])
    figures = [i for i, c in enumerate(cs) if c["cell_type"] == "code" and
               ("plt.show()" in text(c) or "lesson.diagram(" in text(c) or c["metadata"].get("mystnb", {}).get("image"))]
    assert figures, notebook.name
    for k, i in enumerate(figures, start=1):
        alt = cs[i]["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
        if "lesson.diagram(" in text(cs[i]):
            call = re.search(r"lesson\.diagram\([^)]*\)", text(cs[i])).group(0)
            alt = re.search(r'alt="([^"]*)"', eval(call, {"lesson": lesson}).data).group(1)
        assert len(alt.split()) >= 8, f"{notebook.name}, cell {cs[i]['id']}: no alt text"
        caption = text(cs[i + 1])
        assert cs[i + 1]["cell_type"] == "markdown" and caption.startswith(f"**Figure {number}.{k}.**"), \
            f"{notebook.name}, cell {cs[i]['id']}: no caption 'Figure {number}.{k}' under the figure"
        assert "{" not in caption, f"{notebook.name}: a myst role in a caption reads raw in Colab"


GLOSSARY = ROOT / "chapters" / "glossary.md"


def glossary_terms():
    """The term lines of the glossary directive (unindented, non-empty, inside the fence)."""
    body = GLOSSARY.read_text().split("```{glossary}", 1)[1].split("```", 1)[0]
    return [line for line in body.splitlines()[1:] if line.strip() and not line.startswith((" ", ":"))]


def test_the_glossary_gives_each_term_in_korean_with_a_definition():
    body = GLOSSARY.read_text().split("```{glossary}", 1)[1].split("```", 1)[0]
    entries = re.split(r"\n(?=\S)", body.strip())[1:]  # after the :sorted: option
    assert len(entries) >= 30
    for entry in entries:
        name, definition = entry.split("\n", 1)
        assert definition.lstrip().startswith("**") and re.search(r"[\uac00-\ud7a3]", definition), \
            f"{name}: no Korean term, in bold, first"
        assert len(definition.split(".", 1)[1].split()) >= 8, f"{name}: no one-line definition"
    for must in ("pruning", "winning ticket", "lottery ticket hypothesis", "mask", "sparsity", "iterative magnitude pruning",
                 "early stopping", "initialization", "rewinding", "global pruning", "layer-wise pruning",
                 "random reinitialization"):
        assert must in glossary_terms(), must
    assert "chapters/glossary" in (ROOT / "_toc.yml").read_text()


_LINK = re.compile(r"\[\*\*([^*\]]+)\*\*\]\(([^)]+)\)")
_PROTECTED = re.compile(r"(```.*?```|`[^`]*`|\$[^$]*\$|\[[^\]]*\]\([^)]*\)|\*\*[^*]*\*\*|<[^>]+>|^#[^\n]*$)", re.M | re.S)


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapters_link_terms_to_the_glossary_where_they_first_appear(notebook):
    """Plain Markdown links to the published glossary (they work in Colab; the book's build
    points them at its own page), to terms that exist, at the first mention in the prose
    (headings, code, bold text and other links do not count as a mention)."""
    from lt_helpers import links as lt_links

    anchors = {lt_links.anchor(t) for t in glossary_terms()}
    prose = [text(c) for c in cells(notebook) if c["cell_type"] == "markdown"
             and not text(c).startswith(("**Figure", "**Exercise"))]  # captions and exercises are not prose
    links = [(m.group(1), m.group(2), k, m.start()) for k, s in enumerate(prose) for m in _LINK.finditer(s)
             if "glossary.html" in m.group(2)]
    assert len(links) >= 8, f"{notebook.name}: {len(links)} glossary links"
    for shown, url, k, at in links:
        page, _, anchor = url.partition("#")
        assert page == f"{lt_links.BOOK}/{lt_links.GLOSSARY}.html" and anchor in anchors, f"{notebook.name}: {url}"
        earlier = "\n".join(_PROTECTED.sub(" ", s) for s in prose[:k] + [prose[k][:at]])
        assert not re.search(rf"(?<![\w-]){re.escape(shown)}(?![\w-])", earlier, re.I), \
            f"{notebook.name}: '{shown}' appears before its glossary link"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_generated_prose_and_answers_hide_their_code_in_jupyter_and_colab_too(notebook):
    """A cell whose input the book removes (generated sentences, exercise answers) folds its
    code in JupyterLab (source_hidden) and Colab (cellView form): an answer is not read in
    its code before the reader opens it."""
    for c in cells(notebook):
        if "remove-input" in c["metadata"].get("tags", []):
            assert c["metadata"].get("jupyter", {}).get("source_hidden") is True, f"{notebook.name}: {c['id']}"
            assert c["metadata"].get("cellView") == "form", f"{notebook.name}: {c['id']}"


def test_a_failed_install_says_so_where_it_happened():
    """%pip does not stop a notebook when the install fails; the first cell then names the cause
    instead of leaving a bare ModuleNotFoundError for the next cell."""
    for nb in CHAPTERS:
        cell = next(text(c) for c in cells(nb) if "%pip install" in text(c))
        code = "\n".join("    pass" if line.strip().startswith("%pip") else line for line in cell.splitlines())
        res = subprocess.run([sys.executable, "-c", "import sys; sys.modules['lt_helpers'] = None\n" + code],
                             capture_output=True, text=True)
        assert res.returncode == 1 and "lt_helpers is not installed. In Colab the %pip line above failed" in res.stderr, \
            nb.name


_TRAINS = re.compile(r"run_imp\(|train\.train\(|iterative\.run\(|beyond\.|sparse\.time|timeit|full_run\(")


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_cells_that_only_draw_or_tabulate_fold_their_input(notebook):
    """A chapter reads prose → figure → caption: a cell that draws a figure or a claims table and
    trains nothing folds its code (hide-input in the book, source_hidden in JupyterLab, a form in
    Colab); one click shows it. Cells that train keep their code in view."""
    for c in cells(notebook):
        src, meta = text(c), c.get("metadata", {})
        if c["cell_type"] != "code" or {"remove-input", "parameters"} & set(meta.get("tags", [])):
            continue
        draws = "plt.show()" in src or src.strip().split("\n")[-1].startswith("claims.table(")
        if draws and not _TRAINS.search(src):
            assert "hide-input" in meta.get("tags", []), f"{notebook.name}: {src.splitlines()[0]}"
            assert meta.get("jupyter", {}).get("source_hidden") and meta.get("cellView") == "form", notebook.name


# every chapter, rebuilt lesson first (#40)
LESSON_FIRST = ["01_pruning", "02_lottery_ticket", "03_iterative_pruning", "04_convolutional",
                "05_deep_networks", "06_initialization", "07_small_fast", "08_what_came_next"]


@pytest.mark.parametrize("stem", LESSON_FIRST)
def test_a_lesson_first_chapter_opens_with_what_you_learn_and_ends_with_a_summary_then_its_evidence(stem):
    """The d2l shape: what you will learn; a picture of the idea before the first cell that trains;
    a Summary in words; one Evidence block after it (the claims tables and intervals, folded);
    no claims table shown in the main text."""
    cs = cells(ROOT / "chapters" / f"{stem}.ipynb")
    first = text(cs[0])
    assert "**In this chapter you will learn**" in first and first.count("\n* ") >= 3, stem
    diagram = next(i for i, c in enumerate(cs) if "lesson.diagram(" in text(c))
    trains = next(i for i, c in enumerate(cs) if c["cell_type"] == "code"
                  and re.search(r"run_imp\(|train\.train\(|iterative\.run\(|imp\(", text(c)))
    assert diagram < trains, f"{stem}: the diagram comes after the first cell that trains"
    summary = next(i for i, c in enumerate(cs) if text(c).strip() == "## Summary")
    assert "lesson.summary(" in text(cs[summary + 1]), stem
    evidence = [i for i, c in enumerate(cs) if "lesson.evidence(" in text(c)]
    exercises = next(i for i, c in enumerate(cs) if text(c).startswith("## Exercises"))
    assert len(evidence) == 1 and summary < evidence[0] < exercises, stem
    for c in cs:
        if c["cell_type"] == "code":
            assert not re.search(r"^(display\()?claims\.(table|side_by_side)\(", text(c), re.M), \
                f"{stem}: a claims table outside the evidence: {text(c).splitlines()[0]}"
    from lt_helpers.tools import readability

    assert readability.code_lines(ROOT / "chapters" / f"{stem}.ipynb")["lines_over_100"] == 0, \
        f"{stem}: a code line a reader sees runs past 100 characters"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_a_colab_reader_meets_the_experiment_not_sentence_building(notebook):
    """Of the code lines a reader sees unfolded in Colab or Jupyter, at most 15% only build prose
    (a Markdown display, a sentence or a claim's wording in string literals); the rest is the
    experiment. The install cell folds too (a form titled for what it does)."""
    from lt_helpers.tools import readability

    measured = readability.code_lines(notebook)
    assert measured["prose_share"] <= 0.15, (notebook.name, measured)
    install = next(c for c in cells(notebook) if "%pip install" in text(c))
    assert readability.hidden(install) and text(install).startswith("#@title"), notebook.name


def test_the_prose_counter_counts_sentences_not_code(tmp_path):
    """What the measure above counts, on a made-up notebook: a Markdown display and a claim's
    wording count as prose; a training call and a short label do not; folded cells are unseen."""
    from lt_helpers.tools import readability

    def cell(source, folded=False):
        meta = {"jupyter": {"source_hidden": True}, "cellView": "form"} if folded else {}
        return {"cell_type": "code", "metadata": meta, "source": source}
    nb = tmp_path / "x.ipynb"
    nb.write_text(json.dumps({"cells": [
        cell('runs = train.train(model, data, inits, masks, hp, seeds=[1, 2])\nx = "dense"\n'),
        cell('display(Markdown(f"The ticket is {a} and the reinit {b}, each trial paired with itself."))\n'),
        cell('rows.append(dict(claim="tickets are more accurate than the dense network at 13.5%", '
             'paper="+0.3 points"))\n'),
        cell('display(Markdown("a folded sentence that nobody sees unless they open it"))\n', folded=True)]}))
    assert readability.code_lines(nb) == {"visible_code_lines": 4, "prose_lines": 2, "prose_share": 0.5,
                                          "lines_over_100": 1}


def test_a_diagram_carries_its_alt_text_and_an_unknown_one_is_named():
    from lt_helpers import lesson

    assert {"prune_retrain", "four_steps", "imp_loop"} <= set(lesson.diagrams())
    for name in lesson.diagrams():
        shown = lesson.diagram(name).data
        alt = re.search(r'alt="([^"]*)"', shown).group(1)
        assert len(alt.split()) >= 15 and shown.startswith('<img class="lt-diagram"'), name
    with pytest.raises(LTError, match="no diagram 'nope': the package has .*four_steps"):
        lesson.diagram("nope")


def test_the_evidence_folds_tables_and_text_in_one_block():
    import pandas as pd

    from lt_helpers import claims, lesson

    table = claims.table([dict(claim="c", paper="p", **{"this run": "r"}, verdict="reproduced")])
    shown = lesson.evidence("**Some text.**", table, pd.DataFrame({"a": [1]})).data
    assert shown.startswith('<details class="evidence"><summary>') and shown.endswith("</details>")
    assert shown.count("<table") == 2 and 'class="claims claims4"' in shown
    assert '<td data-label="verdict" ' in shown  # a claims table's cells say what they are, stacked on a phone
    assert "\n\n\n" not in shown.split("**Some text.**")[1].split("</details>")[0].replace("\n\n", "\x00", 2)
    assert lesson.summary(["one", "two"]).data == "* one\n* two"
    assert lesson.summary(["a claim: *inconclusive*"]).data.endswith(lesson.LEGEND)  # the words, defined


@pytest.mark.slow
def test_the_shipped_supermasks_are_what_the_package_computes():
    """Chapter 8 shows Fashion-MNIST's untrained accuracies from the package where the images are
    not on disk: they are the ones beyond.supermasks computes from the full run's tickets."""
    from lt_helpers import beyond, data

    try:
        images = data.load("fashion_mnist", download=False)
    except data.DatasetUnavailable:
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    computed = beyond.supermasks(full_runs.full_run("lenet_300_100-fashion_mnist-paper"), images, 0)
    config, shipped = full_runs.chapter_run("supermasks-fashion_mnist")
    assert config["command"] == full_runs.CHAPTER_RUNS["supermasks-fashion_mnist"]
    assert shipped.to_dict("records") == computed.runs


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["06_initialization", "08_what_came_next"])
def test_a_chapter_without_the_fashion_mnist_files_shows_every_section(tmp_path, stem):
    """The same book wherever it is built (#40): with no Fashion-MNIST on disk and no network,
    chapters 6 and 8 still show every section, and no output says 'skipped' or 'not on disk'."""
    from conftest import SMOKE_ENV

    alone = tmp_path / f"{stem}.ipynb"
    alone.write_bytes((ROOT / "chapters" / f"{stem}.ipynb").read_bytes())
    env = {**SMOKE_ENV, "LT_DEBIAN_FASHION_MNIST": str(tmp_path / "none"), "LT_DATA": str(tmp_path / "data")}
    res = subprocess.run([sys.executable, "-m", "papermill", alone.name, "out.ipynb", "--cwd", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr[-4000:]
    shown = json.dumps([c.get("outputs", []) for c in json.loads((tmp_path / "out.ipynb").read_text())["cells"]])
    assert "skipped" not in shown and "not on disk" not in shown, stem
    if stem == "08_what_came_next":
        assert "Fashion-MNIST: the untrained accuracies that ship with lt_helpers" in shown
