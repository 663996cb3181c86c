"""Iterative magnitude pruning (IMP): the way the paper finds winning tickets.

For each trial:

1. initialize a network, θ0;
2. train it (round 0: dense);
3. prune a fraction of the remaining weights of smallest magnitude, giving mask m;
4. reset the survivors to θ0 and train again; repeat 3–4 for ``rounds - 1`` rounds.

Each round can also train **controls** under the same sparsity (:data:`lt_helpers.controls.IMP`
lists them, each with what it keeps of the ticket).

``control_rounds`` trains the controls only at the levels named (the ticket still trains at
every level, since each level's mask comes from the one before): a run of the ticket and k
controls at the paper's 16 levels costs k + 1 times a ticket-only run, and a few levels tell the
story.

All networks of a round are independent, so they train together as one batched model.
Every random choice is derived from ``(seed, trial, round, condition)``, never from
global state, so a run resumed from disk reproduces an uninterrupted one exactly. After
each finished round the masks go to ``state.pt`` and the records to ``results.json``
(each written to a temporary file and renamed), so a stopped run loses nothing
finished and a rerun with the same ``out`` skips what is done; a round in progress is saved
every few minutes to ``out/partial/`` (:mod:`lt_helpers.checkpoint`), so a rerun goes on
mid-round, bit for bit.
"""

from __future__ import annotations

import json
import math
import shutil
import time
import zlib
from contextlib import nullcontext
from numbers import Integral
from pathlib import Path

from . import __version__
from . import checkpoint as ckpt
from .controls import REGISTRY, Start
from .data import Data, load
from .device import check_precision, provenance, resolve_device
from .errors import LTError
from .experiment import Experiment
from .masks import Mask, layer_rates, magnitude_prune
from .models import build
from .results import Results, at_end
from .store import check_writable, elsewhere, hold, machine, resume, save
from .train import GROUPS, MAX_COPIES, train

__all__ = ["run_imp", "run", "run_round", "record", "initial_weights", "seed_for", "theta0_seed", "data_seed",
           "reinit_seed", "control_seeds"]


def seed_for(*parts) -> int:
    """A stable 31-bit seed for a tuple like ``(seed, trial, round, 'reinit')``: the book's one
    seeding scheme (every chapter derives its seeds this way)."""
    return zlib.crc32("/".join(map(str, parts)).encode()) & 0x7FFFFFFF


def theta0_seed(seed: int, trial: int) -> int:
    """The seed of trial ``trial``'s initial weights θ0 in a run with base ``seed``."""
    return seed_for(seed, trial, "init")


def data_seed(seed: int, trial: int, rnd: int, condition: str = "ticket") -> int:
    """The seed of the data order of one network: ``condition``'s network of ``trial`` at round ``rnd``."""
    return seed_for(seed, trial, rnd, condition, "data")


def reinit_seed(seed: int, trial: int, rnd: int) -> int:
    """The seed of the fresh initial weights of ``trial``'s random reinitialization at round ``rnd``."""
    return seed_for(seed, trial, rnd, "reinit")


def control_seeds(seed: int, trial: int, rnd: int, condition: str) -> tuple[int, int]:
    """The two seeds of a control of ``trial`` at round ``rnd``: of its fresh initial weights
    (the random reinitialization's is :func:`reinit_seed`) and of its random positions or
    permutations."""
    fresh = reinit_seed(seed, trial, rnd) if condition == "random_reinit" else seed_for(seed, trial, rnd, condition)
    return fresh, seed_for(seed, trial, rnd, condition, "mask")


def initial_weights(model: str, input_shape: tuple, seed: int, num_classes: int = 10) -> dict:
    """The initial weights θ0 of one ``model`` network for inputs of ``input_shape``, drawn from
    ``seed`` (e.g. ``seed_for(seed, trial, 'init')``, what :func:`run` uses for a trial): the
    book's one way to draw a network's starting point."""
    return build(model, input_shape, num_classes, seeds=[seed]).get_copy(0)


def run_imp(model: str = "lenet_300_100", dataset: str = "mnist1d", preset: str = "quick", *,
            rounds: int | None = None, trials: int | None = None, controls=("random_reinit",),
            seed: int = 0, out=None, device="auto", data_root=None, data: Data | None = None,
            batched: bool = True, max_copies: int = MAX_COPIES, progress: bool | None = None,
            hyper: dict | None = None, rewind: int = 0, rates: dict | None = None,
            scope: str | None = None, groups: int = GROUPS, control_rounds=None) -> Results:
    """Run IMP with ``trials`` trials for ``rounds`` levels (round 0 is the dense network):
    :func:`run` of the :class:`~lt_helpers.experiment.Experiment` these keywords describe.

    ``hyper`` overrides preset hyperparameters (e.g. ``{'iterations': 2000}``). With
    ``out``, results go to ``out/results.json`` and a rerun resumes from there.
    ``rewind=k`` resets survivors to the dense network's weights at iteration k instead of
    θ0 (Frankle et al. 2019/2020: "rewinding", which finds tickets in deep networks).
    ``rates`` (fraction pruned per round, by layer kind) and ``scope`` (``'layer'`` or
    ``'global'``) override the preset's pruning schedule. ``groups``: how many batched
    groups share the networks of a round on a CPU (see :func:`lt_helpers.train.train`);
    part of the experiment, so the same seed gives the same records on any machine.
    ``control_rounds``: the rounds (1 to ``rounds - 1``) at which the controls train; default every one.
    """
    experiment = Experiment.of(model, dataset, preset, rounds=rounds, trials=trials, controls=controls,
                               control_rounds=control_rounds, seed=seed, hyper=hyper, rates=rates, scope=scope,
                               rewind=rewind, groups=groups)
    return run(experiment, out=out, device=device, data_root=data_root, data=data, batched=batched,
               max_copies=max_copies, progress=progress)


def run(experiment: Experiment, *, out=None, device="auto", data_root=None, data: Data | None = None,
        batched: bool = True, max_copies: int = MAX_COPIES, progress: bool | None = None) -> Results:
    """Run ``experiment``: every round from the first one not yet in ``out`` (if given) to the
    last, saving after each. ``data``: already loaded (else loaded from ``data_root``);
    ``batched=False`` trains networks one at a time (slower; for checks); ``max_copies``
    bounds how many networks of a round train at once: more are trained in chunks of that
    many, one after another, each split into the experiment's groups; each finished chunk is
    kept, so a stop (or a run carried to another machine) loses at most the chunk in progress.
    It decides how networks are batched, so how their floats round: ``provenance`` records it."""
    if isinstance(max_copies, bool) or not isinstance(max_copies, Integral) or max_copies < 1:
        raise LTError(f"max_copies must be at least 1, got {max_copies}")
    exp, dev = experiment, resolve_device(device)
    check_precision(exp.hyper.precision, dev)
    data = data.to(dev) if data is not None else load(exp.dataset, data_root=data_root, device=dev)
    if data.name != exp.dataset:
        raise LTError(f"data holds {data.name!r} but dataset={exp.dataset!r}")
    out = Path(out) if out is not None else None
    if out is not None:  # only once the inputs and the data have been checked: a failed start writes nothing
        check_writable(out)
    with hold(out) if out is not None else nullcontext():  # one writer per folder
        config = exp.config()
        asked = config.pop("control_rounds", None)  # stored last, as runs made before it have their config
        config.update(device=str(dev), batched=bool(batched), version=__version__,
                      provenance={**provenance(dev), "max_copies": int(max_copies)})
        if asked is not None:
            config["control_rounds"] = asked
        results = Results(config)
        spent = 0.0  # seconds, over this run and the ones it resumes
        if out is not None and (out / "results.json").exists():
            resume(results, out)
            spent = results.config["provenance"]["wall_time_s"]
        first = 1 + max((r["round"] for r in results.runs), default=-1)
        if out is not None:  # and the round in progress, as far as it was saved before a stop
            spent += ckpt.seconds(out / "partial", first)
        started = time.perf_counter()

        net = build(exp.model, data.input_shape, data.num_classes)
        for t in range(exp.trials):
            results.theta0[t] = initial_weights(exp.model, data.input_shape, theta0_seed(exp.seed, t),
                                                data.num_classes)
            results.masks.setdefault((t, 0), Mask.ones_like(net))

        for rnd in range(first, exp.rounds):
            run_round(results, rnd, data, batched=batched, max_copies=max_copies, progress=progress,
                      checkpoint=out / "partial" if out is not None else None)
            results.config["provenance"]["wall_time_s"] = round(spent + time.perf_counter() - started, 3)
            if out is not None:
                save(results, out, rnd)
                shutil.rmtree(out / "partial", ignore_errors=True)  # the round is saved whole
        return results


def run_round(results: Results, rnd: int, data: Data, *, batched: bool = True, max_copies: int = MAX_COPIES,
              progress: bool | None = None, checkpoint: Path | None = None) -> None:
    """One level of IMP for every trial, as ``results.config`` describes it: train the
    ticket (mask ``results.masks[(trial, rnd)]``, survivors reset to θ0) and each control
    at the same sparsity, as batched models of at most ``max_copies`` networks each (chunks, in
    turn); add a record per trained network to ``results.runs``; prune each trained ticket to the
    next level's mask. With a ``checkpoint`` folder, the training saves its progress there and goes
    on from it, and each finished chunk keeps its outcome there (:mod:`lt_helpers.checkpoint`)."""
    exp = Experiment.from_config(results.config)
    model, seed = exp.model, exp.seed
    net = build(model, data.input_shape, data.num_classes)
    controls = exp.controls_at(rnd)  # none in the dense round; control_rounds may leave others out
    jobs = []  # (trial, condition, initial weights, mask)
    for t in range(exp.trials):
        for cond in [c for c in REGISTRY if c == "ticket" or c in controls]:  # in the registry's order
            fresh_seed, own_seed = control_seeds(seed, t, rnd, cond)
            start = Start(weights=results.reset_weights(t), mask=results.masks[(t, rnd)], dense=results.dense.get(t),
                          fresh=lambda s=fresh_seed: initial_weights(model, data.input_shape, s, data.num_classes),
                          seed=own_seed)
            jobs.append((t, cond, *REGISTRY[cond].make(start)))
    rates, outcomes = layer_rates(net, exp.rates), []
    settings = repr(sorted((k, v) for k, v in exp.config().items() if k != "rounds"))  # all but how far it goes
    prov = results.config.get("provenance", {})  # where a kept chunk was computed goes into its "earlier"
    for first in range(0, len(jobs), max_copies):  # chunks of networks, one after another
        chunk, where = jobs[first:first + max_copies], checkpoint and ckpt.chunk_folder(checkpoint, rnd, first)
        seeds = [data_seed(seed, t, rnd, cond) for t, cond, _, _ in chunk]
        inits, masks = [j[2] for j in chunk], [j[3] for j in chunk]
        ident = ckpt.identity(model, exp.hyper, seeds, inits, masks, round=rnd, max_copies=max_copies,
                              networks=[(t, cond) for t, cond, _, _ in chunk], batched=batched,
                              device=data.device.type, dataset=data.name, experiment=settings)
        done = ckpt.finished(where, ident)  # a chunk finished before a stop (or on another machine)
        if done is not None:  # made on other kernels (a carried run)? provenance.earlier says so
            elsewhere(done.get("provenance", {}), prov, f"chunk {where.name} of round {rnd}", chunk=where.name)
        else:
            began, before = time.perf_counter(), ckpt.chunk_seconds(where) if where else 0.0
            trained = train(model, data, inits, masks, exp.hyper, seeds=seeds, batched=batched, progress=progress,
                            groups=exp.groups, snapshot_at=exp.rewind if rnd == 0 and exp.rewind else None,
                            checkpoint=where, desc=f"round {rnd + 1}/{exp.rounds} ({len(jobs)} networks)")
            done = dict(outcomes=[_outcome(job, run, rnd, rates, exp.scope, net.prunable)
                                  for job, run in zip(chunk, trained, strict=True)],
                        provenance=json.loads(json.dumps(machine(prov))))  # plain types, for torch.load
            if where:
                ckpt.finish(where, ident, done, before + time.perf_counter() - began)
        outcomes += done["outcomes"]
    for (t, cond, _, _), out in zip(jobs, outcomes, strict=True):  # only once every chunk trained: all or nothing
        results.runs.append(out["record"])
        if cond == "ticket":
            results.masks[(t, rnd + 1)] = Mask(out["next_mask"])
            if "dense" in out:
                results.dense[t] = out["dense"]
            if "rewound" in out:
                results.rewound[t] = out["rewound"]


def _outcome(job: tuple, run, rnd: int, rates: dict, scope: str, prunable) -> dict:
    """What the round keeps of one trained network (``job``: trial, condition, initial weights,
    mask): its record and, for a ticket, the next round's mask (and, in the dense round, its
    trained weights and those at the rewinding iteration)."""
    t, cond, start, mask = job
    out = dict(record=record(t, rnd, cond, mask, run, start))
    if cond == "ticket":
        out["next_mask"] = dict(magnitude_prune(run.weights, mask, rates, scope))
        if rnd == 0:
            out["dense"] = {n: run.weights[n] for n in prunable}
            if run.snapshot is not None:
                out["rewound"] = run.snapshot
    return out


def record(trial: int, rnd: int, condition: str, mask: Mask, run, start: dict) -> dict:
    """The record of one trained network, as ``results.json`` holds it: which (trial, round,
    condition), how sparse, how far training moved its kept weights from ``start`` (mean
    absolute change), its early stop and accuracies, its learning curve; ``run`` is what
    :func:`lt_helpers.train.train` returned for it."""
    moved = sum(float((run.weights[n] - start[n])[m].abs().sum()) for n, m in mask.items())
    # A network whose loss became NaN or infinite diverged: flagged (only then, so other records keep their
    # exact form), its numbers blanked where the records are read (Results.frame) and written (save)
    flag = {"diverged": True} if not all(math.isfinite(v) for v in run.curve["val_loss"]) else {}
    return dict(trial=trial, round=rnd, condition=condition,
                percent_remaining=mask.percent_remaining(), layer_density=mask.density(),
                distance_from_start=moved / max(1, mask.kept()),
                early_stop_iteration=run.early_stop_iteration,
                early_stop_at_end=at_end(run.curve, run.early_stop_iteration),
                early_stop_test_acc=run.early_stop_test_acc, final_test_acc=run.final_test_acc,
                curve=run.curve, **flag)
