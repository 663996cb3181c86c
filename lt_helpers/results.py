"""An IMP experiment's results: in memory (:class:`Results`), read back from disk
(:func:`load_results`; :mod:`lt_helpers.store` writes them and resumes), the committed full
runs, and where every run says it came from.

Full runs take minutes to hours, so the book ships the records of a few, made with the
command line, inside this package (``lt_helpers/full_runs/<name>.json.gz``): a chapter
opened in Colab, or in Jupyter outside the repository, draws them just as the built book
does. :func:`full_run` loads one; :data:`FULL_RUNS` says how each was made.

:func:`provenance` (from :mod:`lt_helpers.device`) is what every ``results.json`` records
about the run itself: the lt_helpers and torch versions, the git commit of the code when it is
a checkout, the device and its kernel probe, and the wall time.
"""

from __future__ import annotations

import gzip
import io
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .device import git_commit, kernel_probe, provenance  # noqa: F401 (part of this module's API)
from .errors import LTError, check_choice
from .files import atomic_write
from .masks import Mask

class ResultsError(LTError):
    """A results.json that is corrupt or belongs to another experiment."""


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
                              | {"early_stop_val_acc": _val_at_stop(r)} for r in self.runs])
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

    def level_nearest(self, percent: float) -> int:
        """The round whose percent of weights remaining is nearest ``percent`` (e.g. 21.1)."""
        f = self.frame()
        return int(f.loc[(f.percent_remaining - percent).abs().idxmin(), "round"])

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
        return _finite({"config": self.config, "runs": self.runs})


def _finite(value):
    """``value`` with every NaN or infinite float replaced by None (JSON's null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


MEASURES = {"early_stop_iteration": ("early-stopping iteration", "{:,.0f}"),
            "early_stop_test_acc": ("test accuracy at early stop (%)", "{:.1f}"),
            "final_test_acc": ("test accuracy at the end (%)", "{:.1f}")}


def readable(frame, rounds=None, by=(), measures=("early_stop_iteration", "early_stop_test_acc")):
    """Means over trials for reading (a pandas Styler), a row per level and network: weights
    remaining in % with one decimal, accuracies in %, iterations whole, columns named in
    words, conditions by their labels (round 0: the dense network). ``frame`` is
    ``Results.frame()`` (or several concatenated); ``rounds`` picks the levels the text
    discusses (default: all); ``by`` adds grouping columns, e.g. ``("model",)``."""
    from .plots import LABELS

    g = frame.groupby([*by, "round", "condition"])
    t = g[["percent_remaining", *measures]].mean().assign(trials=g["trial"].nunique()).reset_index()
    if rounds is not None:
        t = t[t["round"].isin(list(rounds))]
    for m in measures:
        t[m] *= 100 if m.endswith("_acc") else 1
    t["condition"] = [LABELS["dense"] if r == 0 else LABELS.get(c, c) for r, c in zip(t["round"], t["condition"])]
    t = t.sort_values([*by, "percent_remaining", "condition"], ascending=[True] * len(by) + [False, True])
    names = {"percent_remaining": "weights remaining (%)", "condition": "network", **{m: MEASURES[m][0] for m in measures}}
    t = t[[*by, "percent_remaining", "condition", *measures, "trials"]].rename(columns=names)
    formats = {"weights remaining (%)": "{:.1f}", **{MEASURES[m][0]: MEASURES[m][1] for m in measures}}
    return t.style.format(formats).hide(axis="index")


def folded(table, summary: str):
    """``table`` (a DataFrame or Styler) in a collapsed block that opens with a click, in
    Jupyter, Colab and the book alike (HTML ``<details>``)."""
    from IPython.display import HTML

    return HTML(f"<details><summary>{summary}</summary>\n\n{table.to_html()}\n\n</details>")


# name -> the command that made it (from the repository root; see the book's appendix)
FULL_RUNS = {
    "lenet_300_100-mnist1d-paper": (
        "python -m lt_helpers imp --model lenet_300_100 --dataset mnist1d --preset paper --trials 5 --rounds 16 "
        "--controls random_reinit oneshot --out runs/lenet_300_100-mnist1d-paper"),
    # the same experiment on real images: the paper's LeNet at its true size (chapter 3's positive control)
    "lenet_300_100-fashion_mnist-paper": (
        "python -m lt_helpers imp --model lenet_300_100 --dataset fashion_mnist --preset paper --trials 5 --rounds 16 "
        "--controls random_reinit oneshot --out runs/lenet_300_100-fashion_mnist-paper"),
    "lenet_300_100-mnist1d-paper-controls": (
        "python -m lt_helpers imp --model lenet_300_100 --dataset mnist1d --preset paper --trials 5 --rounds 16 "
        "--controls random_reinit random_prune shuffle sign_reinit --out runs/lenet_300_100-mnist1d-paper-controls"),
    # chapter 6's controls on real images, trained at five of the sixteen levels (the ticket at every level)
    "lenet_300_100-fashion_mnist-paper-controls": (
        "python -m lt_helpers imp --model lenet_300_100 --dataset fashion_mnist --preset paper --trials 5 --rounds 16 "
        "--controls random_reinit random_prune shuffle sign_reinit --control-rounds 3 7 10 12 15 "
        "--out runs/lenet_300_100-fashion_mnist-paper-controls"),
    # chapter 4: the quick schedule (twice the paper's rate per round) with 5 trials and twice the iterations
    **{f"{m}-mnist1d-full": (
        f"python -m lt_helpers imp --model {m} --dataset mnist1d --preset quick --trials 5 --rounds 8 "
        f"--iterations 3000 --controls random_reinit --out runs/{m}-mnist1d-full")
       for m in ("conv2", "conv4", "conv6")},
    "conv2-mnist1d-dropout-full": (
        "python -m lt_helpers imp --model conv2 --dataset mnist1d --preset quick --trials 5 --rounds 5 "
        "--iterations 6000 --dropout 0.5 --controls none --out runs/conv2-mnist1d-dropout-full"),
    # chapter 5: the 1-D ResNet-20's quick schedule with 5 trials, two more levels for the scopes
    **{f"resnet20-mnist1d-{scope}-full": (
        f"python -m lt_helpers imp --model resnet20 --dataset mnist1d --preset quick --trials 5 --rounds 6 "
        f"--scope {scope} --controls none --out runs/resnet20-mnist1d-{scope}-full") for scope in ("global", "layer")},
    **{f"vgg19-mnist1d-{scope}-full": (
        f"python -m lt_helpers imp --model vgg19 --dataset mnist1d --preset quick --trials 5 --rounds 6 "
        f"--scope {scope} --controls none --out runs/vgg19-mnist1d-{scope}-full") for scope in ("global", "layer")},
    **{f"resnet20-mnist1d-{name}-full": (
        f"python -m lt_helpers imp --model resnet20 --dataset mnist1d --preset quick --trials 5 --rounds 3 "
        f"{args}--controls random_reinit --out runs/resnet20-mnist1d-{name}-full")
       for name, args in (("lr0.1", ""), ("lr0.01", "--lr 0.01 "), ("warmup", "--warmup 64 "))},
}


# full runs that ship their ticket masks too (chapter 7 needs them): lt_helpers/full_runs/<name>.masks.npz
WITH_MASKS = ("lenet_300_100-mnist1d-paper", "lenet_300_100-fashion_mnist-paper")


def full_run(name: str, folder=None):
    """The committed full run ``name`` (a key of :data:`FULL_RUNS`) as an
    :class:`lt_helpers.imp.Results`: its records, and for the runs in :data:`WITH_MASKS`
    every ticket mask (``results.masks[(trial, round)]``). ``folder``: read from there
    instead of the package (tests)."""
    check_choice("full run", name, FULL_RUNS)
    where = Path(folder) if folder is not None else resources.files(__package__).joinpath("full_runs")
    raw = json.loads(gzip.decompress(where.joinpath(f"{name}.json.gz").read_bytes()))
    results = Results(raw["config"], _with_at_end(raw["runs"]))
    packed = where.joinpath(f"{name}.masks.npz")
    if packed.is_file():
        results.masks = _unpack_masks(packed.read_bytes())
    return results


def _pack_masks(masks: dict) -> bytes:
    """Masks as a compressed .npz: one bit per weight (numpy.packbits) and their shapes."""
    arrays, shapes = {}, {}
    for (t, r), mask in masks.items():
        for layer, m in mask.items():
            arrays[f"{t}/{r}/{layer}"] = np.packbits(m.numpy().astype(bool).ravel())
            shapes[f"{t}/{r}/{layer}"] = list(m.shape)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, shapes=np.array(json.dumps(shapes)), **arrays)
    return buffer.getvalue()


def _unpack_masks(data: bytes) -> dict:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        shapes = json.loads(str(npz["shapes"]))
        masks: dict = {}
        for key, shape in shapes.items():
            t, r, layer = key.split("/", 2)
            bits = np.unpackbits(npz[key], count=int(np.prod(shape))).astype(bool).reshape(shape)
            masks.setdefault((int(t), int(r)), Mask())[layer] = torch.from_numpy(bits)
    return masks


def _val_at_stop(record: dict) -> float:
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


def _with_at_end(runs: list[dict]) -> list[dict]:
    """Records written before ``early_stop_at_end`` existed get it from their curves."""
    for r in runs:
        if "early_stop_at_end" not in r and "curve" in r and "early_stop_iteration" in r:
            r["early_stop_at_end"] = at_end(r["curve"], r["early_stop_iteration"])
    return runs


def write_full_run(results_json, name: str, folder=None) -> Path:
    """Copy a finished run's ``results.json`` into the package as full run ``name``
    (compressed; the bytes depend only on the records), with its masks from the
    ``state.pt`` beside it when ``name`` is in :data:`WITH_MASKS`. ``folder``: write there
    instead of the package (tests)."""
    raw = json.loads(Path(results_json).read_text())
    folder = Path(folder) if folder is not None else Path(__file__).parent / "full_runs"
    path = folder / f"{name}.json.gz"
    atomic_write(path, lambda tmp: tmp.write_bytes(gzip.compress(json.dumps(raw, separators=(",", ":")).encode(), 9,
                                                                 mtime=0)))
    if name in WITH_MASKS:
        masks = load_results(results_json).masks
        if not masks:
            raise LTError(f"full run {name!r} ships its masks, but there is no state.pt beside {results_json}")
        atomic_write(folder / f"{name}.masks.npz", lambda tmp: tmp.write_bytes(_pack_masks(masks)))
    return path


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
    results = Results(raw["config"], _with_at_end(raw["runs"]))
    state_path = path.parent / "state.pt"
    if state_path.exists():
        try:
            state = torch.load(state_path, weights_only=True)
        except Exception as err:  # a cut or foreign file: torch raises zip, pickle or EOF errors
            raise ResultsError(f"{state_path} is damaged or not lt_helpers' state ({type(err).__name__}); it was "
                               "left untouched: delete that folder to start over, or use another --out") from err
        results.masks = {tuple(map(int, k.split("/"))): Mask(v) for k, v in state["masks"].items()}
        results.dense = {int(k): v for k, v in state["dense"].items()}
        results.rewound = {int(k): v for k, v in state.get("rewound", {}).items()}
    return results
