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
import sys
from contextlib import contextmanager
from pathlib import Path

import torch

from . import schema
from .controls import FROM_DENSE
from .errors import LTError, ResultsError
from .experiment import Experiment
from .files import atomic_write, stale_temporaries
from .results import Results, finite, load_results, state_digest
from .train import MAX_COPIES



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
    # the package's own files, and its folder for a round in progress (lt_helpers.checkpoint): never
    # written through a link, nor anything else in their place
    for name, kind in ((".lock", "file"), ("results.json", "file"), ("state.pt", "file"), ("partial", "folder")):
        path = out / name
        if path.is_symlink() or (path.exists() and not (path.is_file() if kind == "file" else path.is_dir())):
            raise ResultsError(f"{path} is {'a symbolic link' if path.is_symlink() else f'not a {kind}'}, where "
                               f"lt_helpers keeps its own {kind}; it was left untouched: move it, or use another --out")
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
    state = state_of(results.masks, results.dense, results.rewound, rnd)
    atomic_write(out / "state.pt", lambda p: torch.save(state, p))
    write_results(out / "results.json", results.config, results.runs)


def state_of(masks: dict, dense: dict, rewound: dict, rnd: int) -> dict:
    """A ``state.pt``'s content: the last finished round ``rnd``, every mask (keyed
    ``"trial/round"``), the trained dense weights and the rewound ones by trial, and their
    checksum (:func:`lt_helpers.results.state_digest`). :func:`save` writes it; so does
    :func:`lt_helpers.carry.unpack`, from a packed run."""
    state = dict(round=rnd, masks={f"{t}/{r}": dict(m) for (t, r), m in masks.items()},
                 dense={int(t): w for t, w in dense.items()}, rewound={int(t): w for t, w in rewound.items()})
    state["sha256"] = state_digest(state)
    return state


def write_results(path: Path, config: dict, runs: list[dict], kind: str = "imp") -> None:
    """The one writer of a ``results.json``, an IMP run's (:func:`save`) or a chapter's
    (:func:`lt_helpers.book.save_results`, ``kind="chapter"``): ``{"config": ..., "runs": ...}``
    as strict JSON (a NaN or infinite value written as null), atomically, after checking it
    against its format (:mod:`lt_helpers.schema`): what is written can be read back."""
    record = finite({"config": config, "runs": runs})
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
    _check_state(done, last, out)
    results.runs = [r for r in done.runs if r["round"] <= last]
    _carry_provenance(done.config.get("provenance", {}), results.config["provenance"], last, out)
    results.masks, results.dense, results.rewound = done.masks, done.dense, done.rewound


# what decides a record's last digits besides the code and the experiment: where these differ, the rounds before and
# after a resume were computed by different kernels (lt_helpers.device.kernel_probe) or batched networks differently
ARITHMETIC = ("device_name", "kernel_probe", "cpu_capability", "torch", "cpu_threads", "max_copies")
NOT_RECORDED = "not recorded"
BEFORE_RECORDED = {"max_copies": MAX_COPIES}  # what code that did not record it always used from the command line


def machine(provenance: dict) -> dict:
    """A provenance without what belongs to the run rather than to the machine and code that
    computed it (its wall time, its ``earlier`` machines): what a record of "where" keeps."""
    return {k: v for k, v in provenance.items() if k not in ("earlier", "wall_time_s")}


def moved(then: dict, now: dict) -> tuple[dict, list[str]]:
    """``then`` (the provenance of what was computed before) with what it did not record filled
    in (:data:`BEFORE_RECORDED`, else "not recorded": an older run may hide another machine), and
    the :data:`ARITHMETIC` keys where it differs from ``now``."""
    then = {**{k: BEFORE_RECORDED.get(k, NOT_RECORDED) for k in ARITHMETIC if k in now}, **then}
    return then, [k for k in ARITHMETIC if k in then and then[k] != now.get(k)]


def elsewhere(then: dict, now: dict, what: str, **where) -> None:
    """Where ``then`` (a provenance) differs from ``now`` in its :data:`ARITHMETIC`, keep it in
    ``now["earlier"]`` with ``where`` (``until_round=3``, ``chunk="round4-from0"``) and say on
    stderr that ``what`` (its records) were computed on other kernels, or other batching."""
    then, keys = moved(then, now)
    if not keys:
        return
    entry = {**machine(then), **where}
    if entry in now.setdefault("earlier", []):
        return
    now["earlier"].append(entry)
    print(f"note: {what} were computed on other kernels or batching, or on ones not recorded "
          f"({', '.join(f'{k} {then[k]}' for k in keys)}; here {', '.join(f'{k} {now.get(k)}' for k in keys)}): the "
          "records from there on are not, bit for bit, what the first machine would give; provenance.earlier says so",
          file=sys.stderr)


def _carry_provenance(then: dict, now: dict, last: int, out: Path) -> None:
    """Keep what a resumed run's finished rounds were computed on: its wall time goes on, and
    where it was made on other kernels (:data:`ARITHMETIC`; a run carried to another machine,
    :mod:`lt_helpers.carry`), that machine's provenance joins ``earlier``, with the last round it
    computed, and stderr says that the records are not, bit for bit, one machine's."""
    now["wall_time_s"] = then.get("wall_time_s", 0.0)
    if then.get("earlier"):
        now["earlier"] = list(then["earlier"])
    if last >= 0:
        elsewhere(then, now, f"rounds up to {last} in {out}", until_round=last)


def needs_dense(config: dict) -> bool:
    """Whether the experiment ``config`` trains a control made from the trained dense weights
    (else its ``state.pt`` may lack them: :mod:`lt_helpers.carry` leaves them out)."""
    return bool(set(config.get("controls") or ()) & set(FROM_DENSE))


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


def _check_state(done: Results, last: int, out: Path) -> None:
    """Refuse a ``state.pt`` that disagrees with its experiment before a round resumes from it:
    every trial's masks fit the model (names, shapes, 0/1), follow the pruning schedule round by
    round (each keeps a subset of the one before, as many weights as pruning leaves: a layer is
    emptied only where the rates ask for it) and match the ticket records' densities; the dense
    weights fit the model and are finite, for every trial (for none only where no control is made
    from them, :func:`needs_dense`: a run :mod:`lt_helpers.carry` brought leaves them out)."""
    import math

    from .data import INPUT_SHAPE
    from .masks import layer_rates, n_drop
    from .models import build

    config, where = done.config, out / "state.pt"

    def refuse(what: str):
        raise ResultsError(f"{where} {what}, unlike the experiment in results.json. It was left untouched: delete "
                           "that folder to start over, or use another --out")

    model = build(config["model"], INPUT_SHAPE[config["dataset"]])
    rates = layer_rates(model, config["rates"])
    shapes = {n: tuple(p.shape[1:]) for n, p in model.named_parameters() if n in model.prunable}
    tickets = {(r["trial"], r["round"]): r for r in done.runs if r["condition"] == "ticket"}
    for t in range(config["trials"]):
        prev = None
        for rnd in range(last + 2 if last >= 0 else 0):
            if (t, rnd) not in done.masks:
                refuse(f"lacks trial {t}'s mask of round {rnd}")
            try:
                mask = done.masks[(t, rnd)].check(model)
            except LTError as err:
                refuse(f"holds a mask (trial {t}, round {rnd}) that does not fit {config['model']}: {err}")
            kept = {n: int(m.sum()) for n, m in mask.items()}
            if prev is None and mask.kept() != mask.size():
                refuse(f"holds a round-0 mask of trial {t} that prunes weights")
            if prev is not None:
                left = {n: k - n_drop(rates[n], k) for n, k in ((n, int(m.sum())) for n, m in prev.items())}
                if config["scope"] == "global":  # one ranking over the pruned layers: their total is fixed
                    pruned = [n for n in rates if rates[n] > 0]
                    total = sum(int(prev[n].sum()) for n in pruned)
                    total -= n_drop(rates[pruned[0]], total) if pruned else 0
                    follows = sum(kept[n] for n in pruned) == total and all(
                        kept[n] == left[n] for n in rates if rates[n] == 0)
                else:
                    follows = kept == left
                if not follows or any(bool((m & ~prev[n]).any()) for n, m in mask.items()):
                    refuse(f"holds trial {t}'s mask of round {rnd} keeping {mask.kept():,} weights where pruning "
                           f"round {rnd - 1}'s mask leaves {sum(left.values()):,} (or one it had pruned)")
            record = tickets.get((t, rnd))
            if record is not None and abs(record["percent_remaining"] - mask.percent_remaining()) > 1e-6:
                refuse(f"holds trial {t}'s mask of round {rnd} keeping {mask.percent_remaining():.3f}% of the weights "
                       f"where its record says {record['percent_remaining']:.3f}%")
            prev = mask
        if last >= 0 and (needs_dense(config) or done.dense):  # kept for every trial, or (carried) for none
            dense = done.dense.get(t, {})
            bad = sorted(n for n in shapes if n not in dense or tuple(dense[n].shape) != shapes[n]
                         or not math.isfinite(float(dense[n].float().abs().sum())))
            if bad:
                refuse(f"holds trial {t}'s dense weights missing, misshapen or not finite in {bad[0]}")
        if last >= 0:
            if config.get("rewind") and t not in done.rewound:
                refuse(f"lacks trial {t}'s weights at iteration {config['rewind']}, which the experiment rewinds to")
