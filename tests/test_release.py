"""A release in one command: every place naming the version agrees, the wheel holds the whole
package and nothing else, the book offers it and the notebooks as downloads, and a tag's push
publishes the book (a workflow checked against GitHub's schema)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import lt_helpers
from lt_helpers.tools import release, sphinx_extension

ROOT = Path(__file__).resolve().parents[1]


def test_every_place_names_this_version_and_repository():
    assert release.problems(ROOT) == []


def _copy(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(ROOT, book, ignore=shutil.ignore_patterns(".venv", "_build", "build", "runs", ".git", "dist",
                                                               "__pycache__", "*.egg-info", ".pytest_cache"))
    return book


def test_a_place_that_disagrees_is_named(tmp_path):
    book = _copy(tmp_path)
    cff = book / "CITATION.cff"
    cff.write_text(cff.read_text().replace(f"version: {lt_helpers.__version__}", "version: 9.9.9"))
    nb = book / "chapters" / "04_convolutional.ipynb"
    nb.write_text(nb.read_text().replace(f"@v{lt_helpers.__version__}", "@v0.0.1"))
    (book / "CHANGELOG.md").write_text((book / "CHANGELOG.md").read_text().replace(
        f"## [{lt_helpers.__version__}]", "## [0.0.0]"))
    found = "\n".join(release.problems(book))
    assert "CITATION.cff version: '9.9.9', expected" in found
    assert "04_convolutional.ipynb: its install cell does not install" in found
    assert f"CHANGELOG.md: no entry '## [{lt_helpers.__version__}] - YYYY-MM-DD'" in found
    assert len(release.problems(book)) == 3


def test_another_repository_address_or_a_missing_licence_is_named(tmp_path):
    book = _copy(tmp_path)
    readme = book / "README.md"
    readme.write_text(readme.read_text() + "\nA fork: https://github.com/someone/else\n")
    (book / "LICENSE").unlink()
    pyproject = book / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(f'Repository = "{lt_helpers.REPOSITORY}"',
                                                       'Repository = "https://example.org/x"'))
    found = release.problems(book)
    assert f"README.md: names other repositories than {lt_helpers.REPOSITORY}: https://github.com/someone/else" in found
    assert "LICENSE: missing" in found
    assert "pyproject.toml urls.Repository: 'https://example.org/x', expected " \
        f"'{lt_helpers.REPOSITORY}'" in found and len(found) == 3


def test_the_wheel_holds_the_package_and_nothing_stale(tmp_path):
    """Built from a clean copy: a module left in the checkout's ignored build/ folder (as the old
    imp.py and site.py were) must not reach the wheel; the tools and the full runs must."""
    book = _copy(tmp_path)
    stale = book / "build" / "lib" / "lt_helpers"
    stale.mkdir(parents=True)
    (stale / "imp.py").write_text("raise ImportError('stale')\n")
    whl = release.wheel(book, tmp_path / "dist")
    assert whl.name == release.wheel_name()
    names = set(zipfile.ZipFile(whl).namelist())
    modules = {str(p.relative_to(book)) for p in (book / "lt_helpers").rglob("*.py") if "__pycache__" not in p.parts}
    assert {n for n in names if n.endswith(".py")} == modules
    assert "lt_helpers/tools/cli.py" in names and "lt_helpers/full_runs/conv2-mnist1d-full.json.gz" in names
    assert "lt_helpers/full_runs/lenet_300_100-mnist1d-paper.masks.npz" in names


def test_the_book_offers_the_wheel_and_every_notebook(tmp_path):
    written = sphinx_extension.write_bundles(ROOT, tmp_path)
    assert [p.name for p in written] == [release.wheel_name(), release.notebooks_zip_name()]
    inside = zipfile.ZipFile(written[1]).namelist()
    assert sorted(Path(n).name for n in inside) == sorted(p.name for p in (ROOT / "chapters").glob("*.ipynb"))
    index = (ROOT / "chapters" / "index.md").read_text()
    assert f"downloads/{release.wheel_name()}" in index and f"downloads/{release.notebooks_zip_name()}" in index


def test_make_release_runs_the_check_and_says_how_to_publish():
    makefile = (ROOT / "Makefile").read_text()
    assert "release:" in makefile and "-m lt_helpers.tools.release" in makefile
    res = subprocess.run([sys.executable, "-m", "lt_helpers.tools.release", "--no-build"], capture_output=True,
                         text=True, cwd=ROOT)
    tag = f"v{lt_helpers.__version__}"
    if res.returncode == 0:
        assert f"git push origin {tag}" in res.stdout and "git push origin main" in res.stdout
    else:  # this checkout is past the tagged release: the one complaint may be that the tag names another commit
        assert res.stderr.count("\n  ") == 1 and f"git: {tag} already names commit" in res.stderr, res.stderr


def test_a_tag_publishes_the_book_with_a_workflow_github_accepts():
    workflow = ROOT / ".github" / "workflows" / "book.yml"
    check = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if check is None:
        pytest.skip("check-jsonschema is not installed (the [test] extra has it)")
    res = subprocess.run([check, "--builtin-schema", "vendor.github-workflows", str(workflow)], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    text = workflow.read_text()
    assert 'tags: ["v*"]' in text and "make book" in text and "actions/deploy-pages" in text
    readme = (ROOT / "README.md").read_text()
    assert "## Publishing" in readme and "make release" in readme
