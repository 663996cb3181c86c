"""Iterative magnitude pruning (IMP): the way the paper finds winning tickets.

For each trial:

1. initialize a network, θ0;
2. train it (round 0: dense);
3. prune a fraction of the remaining weights of smallest magnitude, giving mask m;
4. reset the survivors to θ0 and train again; repeat 3–4 for ``rounds - 1`` rounds.

Each round can also train **controls** under the same sparsity:

* ``random_reinit``: the ticket's mask m with freshly drawn initial weights;
* ``oneshot``: prune the dense network's trained weights straight to this round's
  per-layer densities (one-shot pruning), reset to θ0 and train;
* ``random_prune``: θ0 under a random mask with the ticket's per-layer densities;
* ``shuffle``: the ticket's mask, its surviving initial values shuffled within each layer;
* ``sign_reinit``: the ticket's mask and signs, with freshly drawn magnitudes.

All networks of a round are independent, so they train together as one batched model.
Every random choice is derived from ``(seed, trial, round, condition)``, never from
global state, so a run resumed from disk reproduces an uninterrupted one exactly. After
each finished round the masks go to ``state.pt`` and the records to ``results.json``
(each written to a temporary file and renamed), so a stopped run loses nothing
finished and a rerun with the same ``out`` skips what is done.
"""

from __future__ import annotations

import gzip
import json
import os
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import __version__, presets
from .data import Data, load
from .errors import LTError, check_choice
from .masks import SCOPES, Mask, layer_rates, magnitude_prune, prune_to_density
from .models import build
from .results import provenance
from .train import Hyper, resolve_device, train

CONTROLS = ("random_reinit", "oneshot", "random_prune", "shuffle", "sign_reinit")
_NOT_COMPARED = ("rounds", "device", "batched", "provenance")  # may change between a run and its resumption


class ResultsError(LTError):
    """A results.json that is corrupt or belongs to another experiment."""


def seed_for(*parts) -> int:
    """A stable 31-bit seed for a tuple like ``(seed, trial, round, 'reinit')``."""
    return zlib.crc32("/".join(map(str, parts)).encode()) & 0x7FFFFFFF


@dataclass
class Results:
    """An IMP experiment: its config, one record per trained network, and the ticket masks."""

    config: dict
    runs: list[dict] = field(default_factory=list)
    masks: dict[tuple[int, int], Mask] = field(default_factory=dict)  # (trial, round) -> ticket mask
    dense: dict[int, dict] = field(default_factory=dict)  # trial -> trained dense weights (round 0)
    theta0: dict[int, dict] = field(default_factory=dict)  # trial -> initial weights
    rewound: dict[int, dict] = field(default_factory=dict)  # trial -> dense weights at `rewind` (if > 0)

    def reset_weights(self, trial: int) -> dict:
        """What survivors are reset to: θ0, or the dense run's weights at iteration ``rewind``."""
        return self.rewound.get(trial, self.theta0[trial])

    def frame(self):
        """The records as a pandas DataFrame (one row per trained network, no curves)."""
        import pandas as pd

        return pd.DataFrame([{k: v for k, v in r.items() if k not in ("curve", "layer_density")}
                             for r in self.runs])

    def curves(self):
        """Learning curves in long form: one row per (run, evaluation)."""
        import pandas as pd

        rows = []
        for r in self.runs:
            c = r["curve"]
            for i, it in enumerate(c["iteration"]):
                rows.append(dict(trial=r["trial"], round=r["round"], condition=r["condition"],
                                 percent_remaining=r["percent_remaining"], iteration=it,
                                 val_loss=c["val_loss"][i], test_acc=c["test_acc"][i]))
        return pd.DataFrame(rows)

    def to_json(self) -> dict:
        return {"config": self.config, "runs": self.runs}


def run_imp(model: str = "lenet_300_100", dataset: str = "mnist1d", preset: str = "quick", *,
            rounds: int | None = None, trials: int | None = None, controls=("random_reinit",),
            seed: int = 0, out=None, device="auto", data_root=None, data: Data | None = None,
            batched: bool = True, max_copies: int = 32, progress: bool | None = None,
            hyper: dict | None = None, rewind: int = 0, rates: dict | None = None,
            scope: str | None = None) -> Results:
    """Run IMP with ``trials`` trials for ``rounds`` levels (round 0 is the dense network).

    ``hyper`` overrides preset hyperparameters (e.g. ``{'iterations': 2000}``). With
    ``out``, results go to ``out/results.json`` and a rerun resumes from there.
    ``rewind=k`` resets survivors to the dense network's weights at iteration k instead of
    θ0 (Frankle et al. 2019/2020: "rewinding", which finds tickets in deep networks).
    ``rates`` (fraction pruned per round, by layer kind) and ``scope`` (``'layer'`` or
    ``'global'``) override the preset's pruning schedule.
    """
    cfg = presets.get(model, dataset, preset)
    if rates is not None:
        cfg["rates"] = dict(rates)
    if scope is not None:
        check_choice("pruning scope", scope, SCOPES)
        cfg["scope"] = scope
    hp = Hyper(**{**cfg["hp"].to_dict(), **(hyper or {})}).check()
    rounds = cfg["rounds"] if rounds is None else rounds
    trials = cfg["trials"] if trials is None else trials
    controls = tuple(controls or ())
    if int(rounds) < 1:
        raise LTError(f"rounds must be at least 1 (round 0 is the dense network), got {rounds}")
    if int(trials) < 1:
        raise LTError(f"trials must be at least 1, got {trials}")
    unknown = set(controls) - set(CONTROLS)
    if unknown:
        raise LTError(f"unknown control(s) {sorted(unknown)}; choose from {', '.join(CONTROLS)}")
    if not 0 <= int(rewind) < hp.iterations:
        raise LTError(f"rewind must be an iteration in [0, {hp.iterations}) (0 resets to θ0), got {rewind}")
    if max_copies < 1:
        raise LTError(f"max_copies must be at least 1, got {max_copies}")
    dev = resolve_device(device)
    out = Path(out) if out is not None else None
    if out is not None:
        _check_writable(out)

    config = dict(model=model, dataset=dataset, preset=preset, rounds=int(rounds), trials=int(trials),
                  controls=list(controls), seed=int(seed), hyper=hp.to_dict(), rates=cfg["rates"],
                  scope=cfg["scope"], rewind=int(rewind), device=str(dev), batched=bool(batched),
                  version=__version__, provenance=provenance(dev))
    results = Results(config)
    spent = 0.0  # seconds, over this run and the ones it resumes
    if out is not None and (out / "results.json").exists():
        _resume(results, out)
        spent = results.config["provenance"]["wall_time_s"]
    started = time.perf_counter()
    data = data.to(dev) if data is not None else load(dataset, data_root=data_root, device=dev)
    if data.name != dataset:
        raise LTError(f"data holds {data.name!r} but dataset={dataset!r}")

    net = build(model, data.input_shape, data.num_classes)
    rates = layer_rates(net, cfg["rates"])
    for t in range(trials):
        results.theta0[t] = build(model, data.input_shape, data.num_classes,
                                  seeds=[seed_for(seed, t, "init")]).get_copy(0)
        results.masks.setdefault((t, 0), Mask.ones_like(net))

    first = 1 + max((r["round"] for r in results.runs), default=-1)
    for rnd in range(first, rounds):
        jobs = []  # (trial, condition, initial weights, mask)
        for t in range(trials):
            mask = results.masks[(t, rnd)]
            jobs.append((t, "ticket", results.reset_weights(t), mask))
            if rnd > 0 and "random_reinit" in controls:
                fresh = build(model, data.input_shape, data.num_classes, seeds=[seed_for(seed, t, rnd, "reinit")])
                jobs.append((t, "random_reinit", fresh.get_copy(0), mask))
            if rnd > 0 and "oneshot" in controls:
                jobs.append((t, "oneshot", results.reset_weights(t), prune_to_density(results.dense[t], mask)))
            for cond in ("random_prune", "shuffle", "sign_reinit"):
                if rnd > 0 and cond in controls:
                    fresh = build(model, data.input_shape, data.num_classes, seeds=[seed_for(seed, t, rnd, cond)])
                    jobs.append((t, cond, *control(cond, results.reset_weights(t), mask, fresh.get_copy(0),
                                                   seed_for(seed, t, rnd, cond, "mask"))))
        trained = []
        for start in range(0, len(jobs), max_copies):
            chunk = jobs[start:start + max_copies]
            trained += train(model, data, [j[2] for j in chunk], [j[3] for j in chunk], hp,
                             seeds=[seed_for(seed, t, rnd, cond, "data") for t, cond, _, _ in chunk],
                             batched=batched, progress=progress,
                             snapshot_at=rewind if rnd == 0 and rewind else None,
                             desc=f"round {rnd + 1}/{rounds} ({len(jobs)} networks)")
        for (t, cond, start, mask), run in zip(jobs, trained):
            results.runs.append(_record(t, rnd, cond, mask, run, start))
            if cond == "ticket":
                results.masks[(t, rnd + 1)] = magnitude_prune(run.weights, mask, rates, cfg["scope"])
                if rnd == 0:
                    results.dense[t] = {n: run.weights[n] for n in net.prunable}
                    if run.snapshot is not None:
                        results.rewound[t] = run.snapshot
        results.config["provenance"]["wall_time_s"] = round(spent + time.perf_counter() - started, 3)
        if out is not None:
            _save(results, out, rnd)
    results.config["provenance"].setdefault("wall_time_s", round(spent + time.perf_counter() - started, 3))
    return results


def control(condition: str, start: dict, mask: Mask, fresh: dict, seed: int) -> tuple[dict, Mask]:
    """Initial weights and mask of a control at the ticket's sparsity (``start``: what the
    ticket is reset to; ``fresh``: a new random initialization)."""
    gen = torch.Generator().manual_seed(int(seed))
    weights = dict(start)
    if condition == "random_prune":  # same per-layer counts, random positions, the ticket's θ0
        return weights, prune_to_density({n: torch.rand(m.shape, generator=gen) for n, m in mask.items()}, mask)
    for name, m in mask.items():
        w = start[name].clone()
        if condition == "shuffle":  # the surviving initial values, permuted among the surviving positions
            kept = w[m]
            w[m] = kept[torch.randperm(len(kept), generator=gen)]
        elif condition == "sign_reinit":  # the ticket's signs, new magnitudes
            w = fresh[name].abs() * torch.where(w < 0, -1.0, 1.0)
        else:
            raise LTError(f"unknown control {condition!r}")
        weights[name] = w
    return weights, mask


def _record(trial, rnd, condition, mask: Mask, run, start: dict) -> dict:
    # How far training moved the kept weights from where they started (mean |w_final - w_start|).
    moved = sum(float((run.weights[n] - start[n])[m].abs().sum()) for n, m in mask.items())
    return dict(trial=trial, round=rnd, condition=condition,
                percent_remaining=mask.percent_remaining(), layer_density=mask.density(),
                distance_from_start=moved / max(1, mask.kept()),
                early_stop_iteration=run.early_stop_iteration,
                early_stop_test_acc=run.early_stop_test_acc, final_test_acc=run.final_test_acc,
                curve=run.curve)


# --- results on disk ------------------------------------------------------------------

def _check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LTError(f"cannot create output folder {out} ({err.strerror}); choose another --out") from err
    if not os.access(out, os.W_OK):
        raise LTError(f"output folder {out} is not writable; choose another --out")


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def _save(results: Results, out: Path, rnd: int) -> None:
    """State first, then records: records never claim a round whose masks are missing."""
    state = dict(round=rnd, masks={f"{t}/{r}": dict(m) for (t, r), m in results.masks.items()}, dense=results.dense,
                 rewound=results.rewound)
    _atomic_write(out / "state.pt", lambda p: torch.save(state, p))
    _atomic_write(out / "results.json",
                  lambda p: p.write_text(json.dumps(results.to_json(), separators=(",", ":"))))


def load_results(path) -> Results:
    """Read a results.json (or a folder holding one, or a ``.json.gz``) with its masks where
    ``state.pt`` is beside it."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        raw = json.loads(gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_text())
        if not isinstance(raw, dict) or not isinstance(raw.get("config"), dict) or not isinstance(raw.get("runs"), list):
            raise ValueError("expected an object with 'config' and 'runs'")
    except FileNotFoundError:
        raise ResultsError(f"no results file at {path}") from None
    except (ValueError, UnicodeDecodeError, gzip.BadGzipFile) as err:
        raise ResultsError(f"{path} is not a valid results file ({err}). It was left untouched: "
                           "move or delete it, or choose another --out.") from None
    results = Results(raw["config"], raw["runs"])
    state_path = path.parent / "state.pt"
    if state_path.exists():
        state = torch.load(state_path, weights_only=True)
        results.masks = {tuple(map(int, k.split("/"))): Mask(v) for k, v in state["masks"].items()}
        results.dense = {int(k): v for k, v in state["dense"].items()}
        results.rewound = {int(k): v for k, v in state.get("rewound", {}).items()}
    return results


def _resume(results: Results, out: Path) -> None:
    """Fill ``results`` with the finished rounds in ``out``, after checking they belong here."""
    done = load_results(out)
    for key in set(results.config) | set(done.config):
        if key not in _NOT_COMPARED and results.config.get(key) != done.config.get(key):
            raise ResultsError(
                f"{out / 'results.json'} belongs to a different experiment ({key}: "
                f"{done.config.get(key)!r} there, {results.config.get(key)!r} now). It was left "
                "untouched: use another --out, or delete that folder to start over.")
    last = max((r["round"] for r in done.runs), default=-1)
    if last >= 0 and not done.masks:
        raise ResultsError(f"{out} has results but no state.pt with their masks; delete the folder "
                           "to start over")
    results.runs = [r for r in done.runs if r["round"] <= last]
    results.config["provenance"]["wall_time_s"] = done.config.get("provenance", {}).get("wall_time_s", 0.0)
    results.masks, results.dense, results.rewound = done.masks, done.dense, done.rewound
