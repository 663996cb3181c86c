"""Build the book, executing only the chapters whose results could have changed.

``make book`` runs ``python -m lt_helpers.tools.build``. Jupyter Book executes the chapters
through jupyter-cache (``execute_notebooks: cache`` in ``_config.yml``): a notebook whose
code cells are unchanged takes its outputs from the cache, so a build after a prose-only
edit takes seconds. What the cache cannot see is what else decides a chapter's numbers:
this package's sources (and the full runs it ships), the preset, dataset, trials and
device chosen through ``LT_*`` variables, and the versions of torch and numpy. Those go
into a key kept beside the cache; when the key changes the cache is emptied and every
chapter runs again (and Sphinx re-reads every page, changed or not). After the build it
says which chapters it executed, how long each took, and which came from the cache.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # lt_helpers, whose code and data the chapters run
ENVIRONMENT = ("LT_PRESET", "LT_DATASET", "LT_TRIALS", "LT_DEVICE")
STAMP = "lt_helpers-key.txt"


def key(package: Path = PACKAGE, env=os.environ) -> str:
    """A hash of everything outside the notebooks that can change what a chapter computes."""
    h = hashlib.sha256()
    for f in sorted(package.rglob("*")):
        if f.is_file() and f.suffix in (".py", ".gz") and "__pycache__" not in f.parts:
            h.update(f"{f.relative_to(package)}\0".encode() + f.read_bytes())
    for name in ENVIRONMENT:
        h.update(f"{name}={env.get(name, '')}\0".encode())
    for dist in ("torch", "numpy", "mnist1d"):
        h.update(f"{dist}={metadata.version(dist)}\0".encode())
    return h.hexdigest()


def prepare(cache: Path, current: str, say=print) -> bool:
    """Empty ``cache`` unless it was made under the key ``current``; True if emptied."""
    stamp = cache / STAMP
    if stamp.exists() and stamp.read_text() == current:
        return False
    if cache.exists():
        say("lt_helpers, the LT_* settings or torch changed since the last build: every chapter runs again")
        shutil.rmtree(cache)
    cache.mkdir(parents=True)
    stamp.write_text(current)
    return True


def records(cache: Path) -> dict[int, tuple[str, float | None]]:
    """The cache's executed notebooks: record id -> (path, seconds it took)."""
    if not (cache / "global.db").exists():
        return {}
    from jupyter_cache import get_cache

    return {r.pk: (r.uri, r.data.get("execution_seconds")) for r in get_cache(cache).list_cache_records()}


def build(root: Path, output: Path | None = None, say=print) -> int:
    """Build the book in ``root`` (into ``output``/_build, default ``root``); report what ran."""
    build_dir = (output or root) / "_build"
    cache = build_dir / ".jupyter_cache"
    emptied = prepare(cache, key(), say)
    before = records(cache)
    started = time.perf_counter()
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(root), "--warningiserror", "--keep-going"]
    if emptied:  # Sphinx re-reads only pages whose files changed; here every page must run again
        cmd.append("--all")
    if output is not None:
        cmd += ["--path-output", str(output)]
    rc = subprocess.run(cmd).returncode
    after = records(cache)
    ran = {pk: rec for pk, rec in after.items() if pk not in before}
    names = lambda recs: ", ".join(f"{Path(uri).stem} ({secs:.0f} s)" for uri, secs in sorted(recs))
    say(f"executed {len(ran)} chapter(s) in this build{': ' + names(ran.values()) if ran else ''}")
    latest = {uri: (uri, secs) for pk, (uri, secs) in sorted(after.items())}  # the cache keeps older versions too
    kept = [latest[uri] for uri in latest if uri not in {u for u, _ in ran.values()}]
    if kept:
        say(f"from the cache (code and key unchanged): {names(kept)}")
    say(f"book built in {time.perf_counter() - started:.0f} s: {build_dir / 'html' / 'index.html'}")
    return rc


def main(argv=None) -> int:
    """``python -m lt_helpers.tools.build [ROOT] [--path-output DIR]``: build, return the exit code."""
    p = argparse.ArgumentParser(prog="python -m lt_helpers.tools.build", description=__doc__.split("\n\n")[0])
    p.add_argument("root", nargs="?", default=".", help="the book's folder (default: here)")
    p.add_argument("--path-output", default=None, help="build into this folder's _build (default: the book's)")
    args = p.parse_args(argv)
    return build(Path(args.root), Path(args.path_output) if args.path_output else None)


if __name__ == "__main__":
    sys.exit(main())
