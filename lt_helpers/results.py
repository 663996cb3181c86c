"""An IMP experiment's results in memory (:class:`Results`: its config, a record per trained
network, the ticket masks) and read back from disk (:func:`load_results`). :mod:`lt_helpers.store`
writes them after every round and resumes from them; :mod:`lt_helpers.full_runs` holds the ones
the book ships; :func:`lt_helpers.device.provenance` is what each records about where it ran.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import schema
from .errors import LTError, ResultsError
from .masks import Mask


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

        frame = pd.DataFrame([{k: v for k, v in r.items() if k not in ("curve", "layer_density")}
                              | {"early_stop_val_acc": val_acc_at_stop(r)} for r in self.runs])
        if "diverged" in frame:  # a diverged network has no numbers to draw or compare: blank them
            blank = frame.pop("diverged").fillna(False).astype(bool)
            measured = [c for c in ("early_stop_iteration", "early_stop_test_acc", "final_test_acc",
                                    "distance_from_start") if c in frame]
            frame[measured] = frame[measured].astype(float)
            frame.loc[blank, measured] = float("nan")
            frame["diverged"] = blank
        return frame

    def means(self, columns=("percent_remaining", "early_stop_iteration", "early_stop_test_acc")):
        """A DataFrame of the mean over trials of ``columns``, one row per (round, condition)."""
        return self.frame().groupby(["round", "condition"])[list(columns)].mean()

    def per_trial(self, rnd: int, condition: str, key: str = "early_stop_test_acc"):
        """``key`` for every trial's ``condition`` network at round ``rnd``, in trial order, as
        a numpy array: the paired samples :mod:`lt_helpers.claims` compares (the same trial
        shares θ0 and data order). Accuracies (keys ending in ``_acc``) in percent."""
        f = self.frame()
        values = f[(f["round"] == rnd) & (f.condition == condition)].sort_values("trial")[key].to_numpy(dtype=float)
        if len(values) == 0:
            raise LTError(f"no {condition!r} networks at round {rnd} in these results; conditions there: "
                          f"{sorted(set(f[f['round'] == rnd].condition))}")
        return 100 * values if key.endswith("_acc") else values

    def best_level(self, condition: str = "ticket") -> int:
        """The pruned round (not the dense one) whose ``condition`` networks have the highest
        mean *validation* accuracy at their early stop: a level chosen without the test set, so
        a test-accuracy comparison there is not flattered by the choice."""
        f = self.frame()
        pruned = f[(f["round"] > 0) & (f.condition == condition)]
        return int(pruned.groupby("round").early_stop_val_acc.mean().idxmax())

    def best_condition(self, rnd: int) -> str:
        """The condition whose networks at round ``rnd`` have the highest mean *validation*
        accuracy at their early stop: the reference the others are compared with on test data."""
        f = self.frame()
        return str(f[f["round"] == rnd].groupby("condition").early_stop_val_acc.mean().idxmax())

    def level_nearest(self, percent: float) -> int:
        """The round whose percent of weights remaining is nearest ``percent`` (e.g. 21.1), on a
        log scale, as pruning goes (each round keeps a share of the last: 18.5% is nearer 25%
        than 12.5%); ``percent`` 0: the sparsest round."""
        if not percent >= 0:
            raise ValueError(f"a percent of weights remaining is 0 to 100, got {percent!r}")
        f = self.frame()
        if percent == 0:
            return int(f.loc[f.percent_remaining.idxmin(), "round"])
        logs = f.percent_remaining.clip(lower=1e-12).apply(math.log)  # a level at 0% stays the farthest
        return int(f.loc[(logs - math.log(percent)).abs().idxmin(), "round"])

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
        """``{'config': ..., 'runs': ...}``, what ``results.json`` holds: strict JSON, so a
        value that is NaN or infinite (a diverged network's loss) is written as null."""
        return finite({"config": self.config, "runs": self.runs})


def finite(value):
    """``value`` with every NaN or infinite float replaced by None (JSON's null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def val_acc_at_stop(record: dict) -> float:
    """A record's validation accuracy at its early stop (NaN when it has no curve or diverged)."""
    curve = record.get("curve") or {}
    if record.get("diverged") or "val_acc" not in curve or record.get("early_stop_iteration") not in curve["iteration"]:
        return float("nan")
    value = curve["val_acc"][curve["iteration"].index(record["early_stop_iteration"])]
    return float("nan") if value is None else value


def at_end(curve: dict, early_stop_iteration: int) -> bool:
    """True when the minimum validation loss was the last evaluation: the run was still
    improving when training stopped, so its early-stopping iteration is a lower bound."""
    return bool(early_stop_iteration == curve["iteration"][-1])


def load_results(path) -> Results:
    """Read a results.json (or a folder holding one, or a ``.json.gz``) with its masks where
    ``state.pt`` is beside it."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        raw = json.loads(gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_text())
    except FileNotFoundError:
        raise ResultsError(f"no results file at {path}") from None
    except (ValueError, UnicodeDecodeError, gzip.BadGzipFile, EOFError) as err:
        raise ResultsError(f"{path} is not a valid results file ({err}). It was left untouched: "
                           "move or delete it, or choose another --out.") from None
    except OSError as err:  # a folder, a dangling link, no permission
        raise ResultsError(f"cannot read {path} ({err.strerror or err}); it was left untouched: move it, or "
                           "choose another --out.") from None
    schema.check(raw, path)
    results = Results(raw["config"], raw["runs"])
    state_path = path.parent / "state.pt"
    if state_path.exists():
        try:
            state = torch.load(state_path, weights_only=True)
        except Exception as err:  # a cut or foreign file: torch raises zip, pickle or EOF errors
            raise ResultsError(f"{state_path} is damaged or not lt_helpers' state ({type(err).__name__}); it was "
                               "left untouched: delete that folder to start over, or use another --out") from err
        if not isinstance(state, dict) or not {"masks", "dense"} <= set(state):
            raise ResultsError(f"{state_path} is not lt_helpers' state (no masks and dense weights); it was left "
                               "untouched: delete that folder to start over, or use another --out")
        if "sha256" in state and state["sha256"] != state_digest(state):  # written before the digest: not checked
            raise ResultsError(f"{state_path} was changed after lt_helpers wrote it (its masks or weights do not "
                               "match its checksum); it was left untouched: delete that folder to start over, or "
                               "use another --out")
        results.masks = {tuple(map(int, k.split("/"))): Mask(v) for k, v in state["masks"].items()}
        results.dense = {int(k): v for k, v in state["dense"].items()}
        results.rewound = {int(k): v for k, v in state.get("rewound", {}).items()}
    return results


def state_digest(state: dict) -> str:
    """A checksum of a ``state.pt``'s masks and weights (SHA-256 over every tensor's name, shape,
    type and bytes, in a fixed order): a state altered after it was written no longer matches."""
    import hashlib

    digest = hashlib.sha256()

    def add(prefix: str, value):
        if isinstance(value, dict):
            for key in sorted(value, key=str):
                add(f"{prefix}/{key}", value[key])
        elif isinstance(value, torch.Tensor):
            t = value.detach().cpu().contiguous()
            digest.update(f"{prefix}:{tuple(t.shape)}:{t.dtype}".encode())
            digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        else:
            digest.update(f"{prefix}={value!r}".encode())

    for part in ("masks", "dense", "rewound"):
        add(part, state.get(part, {}))
    return digest.hexdigest()
