"""``make release``: one command from a finished version to the lines that publish it.

It checks that every place naming the version or the repository agrees (``lt_helpers``'s
``__version__``, ``pyproject.toml``, ``CITATION.cff`` and its release date, the CHANGELOG's
entry for the version, every chapter's install cell, the README's install line, the book's
download links, and ``_config.yml``'s repository address), builds the wheel and the source
distribution into ``dist/``, and prints the exact git commands that publish: the tag (whose
push starts ``.github/workflows/book.yml``, which builds the book and deploys it to GitHub
Pages) and the branch. It runs nothing that leaves this machine.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from .. import REPOSITORY, __version__

ROOT = Path(__file__).resolve().parents[2]


def wheel_name(version: str = __version__) -> str:
    """The file name of this version's wheel, as the book's downloads offer it."""
    return f"lt_helpers-{version}-py3-none-any.whl"


def notebooks_zip_name(version: str = __version__) -> str:
    """The file name of the zip of every chapter notebook, as the book's downloads offer it."""
    return f"winning-tickets-notebooks-{version}.zip"


def problems(root: Path = ROOT, version: str = __version__, repository: str = REPOSITORY) -> list[str]:
    """Every place that disagrees with ``version`` or ``repository``, one line each (empty: all agree)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11 (the book builds there too; this check wants 3.11)
        import tomli as tomllib

    found = []

    def expect(where: str, seen, wanted) -> None:
        if seen != wanted:
            found.append(f"{where}: {seen!r}, expected {wanted!r}")

    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    expect("pyproject.toml version", project["version"], version)
    expect("pyproject.toml urls.Repository", project["urls"].get("Repository"), repository)
    citation = yaml.safe_load((root / "CITATION.cff").read_text())
    expect("CITATION.cff version", str(citation.get("version")), version)
    expect("CITATION.cff repository-code", citation.get("repository-code"), repository)
    entry = re.search(rf"^## \[{re.escape(version)}\] - (\d{{4}}-\d{{2}}-\d{{2}})$",
                      (root / "CHANGELOG.md").read_text(), re.M)
    if entry is None:
        found.append(f"CHANGELOG.md: no entry '## [{version}] - YYYY-MM-DD'; move the Unreleased notes under it")
    else:
        expect("CITATION.cff date-released", str(citation.get("date-released")), entry.group(1))
    expect("_config.yml repository.url", yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"],
           repository)
    pin = f'"lt_helpers @ git+{repository}@v{version}"'
    for nb in sorted((root / "chapters").glob("[0-9][0-9]_*.ipynb")):
        cells = ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
        install = [c for c in cells if "%pip install" in c]
        if len(install) != 1 or pin not in install[0]:
            found.append(f"{nb.relative_to(root)}: its install cell does not install {pin}")
        elif wheel_name(version) not in install[0]:
            found.append(f"{nb.relative_to(root)}: its install cell's advice names another wheel than "
                         f"{wheel_name(version)}")
    readme = (root / "README.md").read_text()
    if pin not in readme:
        found.append(f"README.md: no install line with {pin}")
    elsewhere = sorted(set(re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", readme)) - {repository})
    if elsewhere:
        found.append(f"README.md: names other repositories than {repository}: {', '.join(elsewhere)}")
    if not (root / "LICENSE").exists():
        found.append("LICENSE: missing")
    index = (root / "chapters" / "index.md").read_text()
    for name in (wheel_name(version), notebooks_zip_name(version)):
        if f"downloads/{name}" not in index:
            found.append(f"chapters/index.md: no download link to downloads/{name}")
    return found


def source_copy(root: Path, dest: Path) -> Path:
    """What a distribution is built from, copied from ``root`` into ``dest``: the package (no
    caches) and the files its metadata names. Never the checkout itself, whose ignored
    ``build/`` folder may hold modules that no longer exist and would go into the wheel."""
    import shutil

    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(root / name, dest / name)
    shutil.copytree(root / "lt_helpers", dest / "lt_helpers", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def wheel(root: Path, dist: Path) -> Path:
    """This version's wheel, built from a clean copy of ``root`` into ``dist`` with pip and the
    installed setuptools (what ``make book`` offers as a download; seconds)."""
    import tempfile

    dist.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = source_copy(root, Path(tmp))
        subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(dist)], check=True, capture_output=True, cwd=tmp)
    return dist / wheel_name()


def build(root: Path = ROOT, dist: Path | None = None) -> list[Path]:
    """The wheel and the source distribution of ``root`` (from a clean copy), built into
    ``dist`` (default ``root/dist``) with the installed setuptools (``python -m build
    --no-isolation``: the sdist, then the wheel from it)."""
    import tempfile

    dist = dist or root / "dist"
    dist.mkdir(parents=True, exist_ok=True)
    before = set(dist.iterdir())
    with tempfile.TemporaryDirectory() as tmp:
        src = source_copy(root, Path(tmp))
        res = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist.resolve()),
                              str(src)], capture_output=True, text=True, cwd=tmp)
    if res.returncode != 0:
        raise SystemExit(f"error: building the wheel and sdist failed (is the build package installed? "
                         f"make release installs it):\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    return sorted(set(dist.iterdir()) - before)


def tagged_elsewhere(root: Path, tag: str) -> str | None:
    """The commit ``tag`` names, when it exists and is not the checked-out commit."""
    run = lambda *args: subprocess.run(["git", *args], cwd=root, capture_output=True, text=True).stdout.strip()
    tagged, head = run("rev-list", "-n", "1", tag), run("rev-parse", "HEAD")
    return tagged if tagged and tagged != head else None


def main(argv=None) -> int:
    """``python -m lt_helpers.tools.release [--no-build]``: check, build, print the publishing commands."""
    p = argparse.ArgumentParser(prog="python -m lt_helpers.tools.release", description=__doc__.split("\n\n")[0])
    p.add_argument("--no-build", action="store_true", help="check only; build no wheel or sdist")
    args = p.parse_args(argv)
    tag = f"v{__version__}"
    wrong = problems()
    elsewhere = tagged_elsewhere(ROOT, tag)
    if elsewhere:
        wrong.append(f"git: {tag} already names commit {elsewhere[:10]}, not this one; bump the version (pyproject."
                     "toml, lt_helpers/__init__.py, CITATION.cff, CHANGELOG.md, the install cells, the README and "
                     "the downloads in chapters/index.md) to release this work")
    if wrong:
        print(f"error: {len(wrong)} place(s) disagree with version {__version__} ({REPOSITORY}):", file=sys.stderr)
        for line in wrong:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"version {__version__}: pyproject.toml, CITATION.cff, CHANGELOG.md, the install cells, the README, "
          "the book's downloads and _config.yml agree")
    if not args.no_build:
        for path in build():
            print(f"built {path.relative_to(ROOT)}")
    if subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip():
        print("note: the working tree has uncommitted changes; commit them first, the tag names the last commit")
    print("\nTo publish (the tag's push builds the book and deploys it to GitHub Pages):\n")
    if not subprocess.run(["git", "rev-parse", "-q", "--verify", f"refs/tags/{tag}"], cwd=ROOT,
                          capture_output=True).stdout:
        print(f"    git tag -a {tag} -m 'Winning Tickets {__version__}'")
    print("    git push origin main")
    print(f"    git push origin {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
