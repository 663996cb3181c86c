"""An experiment's folder on disk: ``results.json`` and ``state.pt`` written after every round,
each atomically, and read back to resume; one writing process per folder.

A stopped run loses nothing finished: :func:`save` writes the masks first and the records
second, each to a temporary file renamed into place, so the records never claim a round
whose masks are missing. :func:`resume` refuses a folder that belongs to another experiment
or whose records have a gap, and :func:`hold` keeps a second process out while one writes.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

import torch

from . import schema
from .errors import LTError
from .experiment import Experiment
from .files import atomic_write, stale_temporaries
from .results import Results, ResultsError, _finite, load_results



def check_writable(out: Path) -> None:
    """Create ``out`` if needed; raise a clear LTError where it cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LTError(f"cannot create output folder {out} ({err.strerror}); choose another --out") from err
    if not os.access(out, os.W_OK):
        raise LTError(f"output folder {out} is not writable; choose another --out")


@contextmanager
def hold(out: Path):
    """Hold ``out`` for one writing process: an advisory lock on ``out/.lock`` (released by
    the system when the process ends, however it ends, so a killed run never leaves it
    stuck). A second process on the same folder gets a clear error instead of interleaving
    its rounds with the first's. Also refuses a ``state.pt`` there that this package did
    not write: it would be replaced by the first saved round."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one writer per folder is then up to the user
        fcntl = None
    with open(out / ".lock", "a") as lock:
        if fcntl is not None:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as err:
                raise ResultsError(f"another process is writing {out}; wait for it to finish (rerun then to resume), "
                                   "or use another --out") from err
        for stale in stale_temporaries(out):  # a killed writer's: with the lock held, no one else's
            stale.unlink(missing_ok=True)
        state = out / "state.pt"
        if state.exists() and not (out / "results.json").exists():
            try:
                ours = set(torch.load(state, weights_only=True)) >= {"round", "masks", "dense"}
            except Exception:
                ours = False
            if not ours:
                raise ResultsError(f"{state} was not written by lt_helpers and would be replaced; it was left "
                                   "untouched: move it, or use another --out")
        yield


def save(results: Results, out: Path, rnd: int) -> None:
    """Write ``out/state.pt`` (masks and dense weights) and then ``out/results.json``, each
    atomically: records never claim a round whose masks are missing."""
    state = dict(round=rnd, masks={f"{t}/{r}": dict(m) for (t, r), m in results.masks.items()}, dense=results.dense,
                 rewound=results.rewound)
    atomic_write(out / "state.pt", lambda p: torch.save(state, p))
    write_results(out / "results.json", results.config, results.runs)


def write_results(path: Path, config: dict, runs: list[dict], kind: str = "imp") -> None:
    """The one writer of a ``results.json``, an IMP run's (:func:`save`) or a chapter's
    (:func:`lt_helpers.book.save_results`, ``kind="chapter"``): ``{"config": ..., "runs": ...}``
    as strict JSON (a NaN or infinite value written as null), atomically, after checking it
    against its format (:mod:`lt_helpers.schema`): what is written can be read back."""
    record = _finite({"config": config, "runs": runs})
    schema.check(record, path, kind)
    atomic_write(path, lambda p: p.write_text(json.dumps(record, separators=(",", ":"), allow_nan=False)))


def resume(results: Results, out: Path) -> None:
    """Fill ``results`` with the finished rounds in ``out``, after checking they belong here."""
    done = load_results(out)
    differ = Experiment.from_config(results.config).differences(Experiment.from_config(done.config))
    if done.config.get("version") != results.config.get("version"):  # other code: its rounds may differ from ours
        differ.append(f"version: {done.config.get('version')!r} there, {results.config.get('version')!r} now")
    if differ:
        raise ResultsError(f"{out / 'results.json'} belongs to a different experiment ({'; '.join(differ)}). It was "
                           "left untouched: use another --out, or delete that folder to start over.")
    last = max((r["round"] for r in done.runs), default=-1)
    if last >= 0 and not done.masks:
        raise ResultsError(f"{out} has results but no state.pt with their masks; delete the folder "
                           "to start over")
    _check_complete(done, last, out)
    results.runs = [r for r in done.runs if r["round"] <= last]
    results.config["provenance"]["wall_time_s"] = done.config.get("provenance", {}).get("wall_time_s", 0.0)
    results.masks, results.dense, results.rewound = done.masks, done.dense, done.rewound


def expected_networks(config: dict, rnd: int) -> set[tuple]:
    """``(trial, round, condition)`` of every network that round ``rnd`` of the experiment
    ``config`` trains: each trial's ticket, and its controls where that round has them."""
    controls = Experiment.from_config(config).controls_at(rnd)
    return {(t, rnd, c) for t in range(config["trials"]) for c in ["ticket", *controls]}


def _check_complete(done: Results, last: int, out: Path) -> None:
    """Refuse to resume from a folder whose records or masks have a gap: every network of
    rounds 0 to ``last`` recorded exactly once, and every trial's mask for the next round."""
    from collections import Counter

    seen = Counter((r["trial"], r["round"], r["condition"]) for r in done.runs)
    for rnd in range(last + 1):
        wanted = expected_networks(done.config, rnd)
        missing = sorted(wanted - set(seen))
        extra = sorted(k for k in seen if k[1] == rnd and (k not in wanted or seen[k] > 1))
        if missing or extra:
            what = (f"lacks {len(missing)} record(s), e.g. trial {missing[0][0]} {missing[0][2]}" if missing else
                    f"holds {len(extra)} record(s) twice or not of this experiment, e.g. trial {extra[0][0]} {extra[0][2]}")
            raise ResultsError(f"{out / 'results.json'} is incomplete: round {rnd} {what}. A resumed run would keep "
                               "the gap; it was left untouched: use another --out, or delete that folder to start over")
    lacking = [t for t in range(done.config["trials"]) if (t, last + 1) not in done.masks]
    if last >= 0 and lacking:
        raise ResultsError(f"{out / 'state.pt'} lacks the masks of round {last + 1} for trial {lacking[0]} although "
                           f"results.json records round {last}; delete that folder to start over, or use another --out")
