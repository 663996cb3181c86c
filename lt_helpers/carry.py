"""An IMP run's folder carried to another machine as one small file, to go on there.

A run of a large network on a CPU outlasts a working session, a Colab runtime or the machine
it started on, and its folder (``results.json`` and ``state.pt``) is large: ``state.pt`` keeps
the masks as booleans and each trial's trained dense weights. What the next round needs is
smaller: the records, every mask (one bit per weight, :func:`lt_helpers.masks.to_bits`), and the
trained dense weights or the rewound ones only where the experiment uses them (the one-shot
control, rewinding: then they travel whole, 66 MB for Conv-2's five trials); the initial
weights θ0 come from the run's seed. :func:`pack` writes that as one ``.npz`` (without those
weights about 2 MB a round for Conv-2's five trials, against 80 MB and more);
:func:`unpack` rebuilds a folder that ``lt_helpers imp --out`` resumes from, and checks that
the masks and weights it rebuilt are, bit for bit, the ones packed. Of a round in progress
(``out/partial``), the chunks already finished (a run with ``max_copies`` below the round's
networks trains them in turn: :func:`lt_helpers.iterative.run`) travel too, their records and
next masks; the chunk still training starts over on the other machine (:func:`left_behind`
says so). Where the other machine's kernels differ, the resumed run records both machines
(:func:`lt_helpers.store.resume`, ``provenance.earlier``).

    python -m lt_helpers pack runs/conv2 conv2.npz     # on the first machine
    python -m lt_helpers unpack conv2.npz runs/conv2   # on the next, then rerun the imp command
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from . import schema
from .checkpoint import CHUNK, DONE, chunk_seconds
from .errors import ResultsError
from .files import atomic_write
from .masks import from_bits, to_bits
from .results import load_results
from .store import needs_dense, state_of, write_results

__all__ = ["pack", "unpack", "left_behind"]


def _weights(arrays: dict, kind: str, weights: dict) -> None:
    for t, tensors in weights.items():
        for name, w in tensors.items():
            arrays[f"{kind}/{t}/{name}"] = w.detach().cpu().numpy()


def pack(out, file) -> Path:
    """Write the finished rounds of the run in folder ``out`` to ``file`` (a compressed ``.npz``)."""
    out, file = Path(out), Path(file)
    results = load_results(out)  # the records, and the masks and weights with their checksum checked
    if not results.masks:
        raise ResultsError(f"{out} has no state.pt with its masks: nothing to carry (rerun its imp command there "
                           "to finish a first round)")
    dense = results.dense if needs_dense(results.config) else {}
    state = state_of(results.masks, dense, results.rewound, rnd=-1)  # the checksum covers masks and weights only
    arrays = {"results": np.array(json.dumps({"config": results.config, "runs": results.runs},
                                             separators=(",", ":"))),
              "sha256": np.array(state["sha256"]), **to_bits(results.masks, prefix="masks/")}
    _weights(arrays, "dense", dense)
    _weights(arrays, "rewound", results.rewound)
    for chunk in _finished_chunks(out):  # as saved: torch's own file, read back (and checked) where it resumes
        arrays[f"partial/{chunk.name}"] = np.frombuffer((chunk / DONE).read_bytes(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    if file.is_dir():
        raise ResultsError(f"{file} is a folder; name the file to write, such as {file / (out.name + '.npz')}")
    file.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(file, lambda tmp: tmp.write_bytes(buffer.getvalue()))
    return file


def unpack(file, out) -> Path:
    """Rebuild the run packed in ``file`` as folder ``out``, which must be new or empty: its
    ``state.pt`` and ``results.json`` are written into a folder beside it, renamed to ``out``
    once both are there (a stopped unpack leaves no half-run that a rerun of ``imp`` would start
    over in). Returns ``out``."""
    file, out = Path(file), Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ResultsError(f"{out} already exists and is not an empty folder; it was left untouched: unpack into a "
                           "new folder")
    try:
        with np.load(file, allow_pickle=False) as npz:
            raw = json.loads(str(npz["results"]))
            schema.check(raw, file)
            weights, chunks = {kind: {} for kind in ("dense", "rewound")}, {}
            for key in npz.files:
                kind, _, rest = key.partition("/")
                if kind == "partial" and CHUNK.fullmatch(rest):
                    chunks[rest] = npz[key].tobytes()
                elif kind in weights:
                    t, name = rest.split("/", 1)
                    weights[kind].setdefault(int(t), {})[name] = torch.from_numpy(npz[key].copy())
            masks = from_bits(npz, prefix="masks/")
            packed = str(npz["sha256"])
    except FileNotFoundError:
        raise ResultsError(f"no packed run at {file}") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise ResultsError(f"{file} is not a run packed by lt_helpers, or is damaged ({type(err).__name__}: {err}); "
                           "pack it again where it ran") from None
    state = state_of(masks, weights["dense"], weights["rewound"], max((r["round"] for r in raw["runs"]), default=-1))
    if state["sha256"] != packed:
        raise ResultsError(f"{file} is damaged: the masks and weights it holds do not match its checksum; "
                           f"{out} was left untouched")
    out.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        torch.save(state, building / "state.pt")
        write_results(building / "results.json", raw["config"], raw["runs"])
        for name, done in chunks.items():
            (building / "partial" / name).mkdir(parents=True)
            (building / "partial" / name / DONE).write_bytes(done)
        if out.exists():
            out.rmdir()  # empty, checked above
        building.rename(out)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return out


def _finished_chunks(out: Path) -> list[Path]:
    partial = out / "partial"
    return sorted(p.parent for p in partial.glob(f"*/{DONE}") if CHUNK.fullmatch(p.parent.name))


def left_behind(out, file=None) -> str | None:
    """What :func:`pack` did not carry from ``out`` into ``file`` (default: what it would carry
    now): the round in progress's training that no finished chunk holds, in words (and the
    finished chunks that do travel), or None where nothing is left behind."""
    partial, out = Path(out) / "partial", Path(out)
    if file is not None:
        with np.load(file, allow_pickle=False) as npz:
            carried = [partial / k.partition("/")[2] for k in npz.files if k.startswith("partial/")]
    else:
        carried = _finished_chunks(out)
    training = [p for p in sorted(partial.iterdir()) if p.is_dir() and p not in carried] if partial.is_dir() else []
    if not training:
        return None
    minutes = sum(chunk_seconds(p) for p in training) / 60
    kept = f"; its {len(carried)} finished chunk(s) travel" if carried else ""
    return (f"the round in progress's training ({minutes:.0f} minutes saved in {partial}) is not carried: it starts "
            f"over where the run goes on{kept}")
