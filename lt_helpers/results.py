"""The committed full runs, and where every run says it came from.

Full runs take minutes to hours, so the book ships the records of a few, made with the
command line, inside this package (``lt_helpers/full_runs/<name>.json.gz``): a chapter
opened in Colab, or in Jupyter outside the repository, draws them just as the built book
does. :func:`full_run` loads one; :data:`FULL_RUNS` says how each was made.

:func:`provenance` is what every ``results.json`` records about the run itself: the
lt_helpers and torch versions, the git commit of the code when it is a checkout, the
device, and the wall time.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import subprocess
from importlib import resources
from pathlib import Path

import torch

from . import __version__

# name -> the command that made it (from the repository root; see the book's appendix)
FULL_RUNS = {
    "lenet_300_100-mnist1d-paper": (
        "python -m lt_helpers imp --model lenet_300_100 --dataset mnist1d --preset paper --trials 5 --rounds 16 "
        "--controls random_reinit oneshot --out runs/lenet_300_100-mnist1d-paper"),
    "lenet_300_100-mnist1d-paper-controls": (
        "python -m lt_helpers imp --model lenet_300_100 --dataset mnist1d --preset paper --trials 5 --rounds 16 "
        "--controls random_reinit random_prune shuffle sign_reinit --out runs/lenet_300_100-mnist1d-paper-controls"),
}


def full_run(name: str):
    """The committed full run ``name`` (a key of :data:`FULL_RUNS`) as an
    :class:`lt_helpers.imp.Results` (records only: the masks are not shipped)."""
    from .errors import check_choice
    from .imp import Results

    check_choice("full run", name, FULL_RUNS)
    raw = json.loads(gzip.decompress(resources.files(__package__).joinpath("full_runs", f"{name}.json.gz")
                                     .read_bytes()))
    return Results(raw["config"], raw["runs"])


def write_full_run(results_json, name: str) -> Path:
    """Copy a finished run's ``results.json`` into the package as full run ``name``
    (compressed; the bytes depend only on the records)."""
    raw = json.loads(Path(results_json).read_text())
    path = Path(__file__).parent / "full_runs" / f"{name}.json.gz"
    path.write_bytes(gzip.compress(json.dumps(raw, separators=(",", ":")).encode(), 9, mtime=0))
    return path


def provenance(device) -> dict:
    """Versions, code and hardware of a run (its wall time is added as it goes)."""
    device = torch.device(device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        name = f"Apple MPS ({platform.machine()})"
    else:
        name = f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    return dict(lt_helpers=__version__, torch=torch.__version__, python=platform.python_version(),
                git_commit=git_commit(), device_name=name, cpu_threads=torch.get_num_threads())


def git_commit() -> str | None:
    """The commit of the lt_helpers source when it is a git checkout (None when installed
    from a wheel, or without git); '+' marks uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                timeout=10)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=here, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return commit.stdout.strip() + ("+" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None
