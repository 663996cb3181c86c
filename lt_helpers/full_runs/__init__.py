"""The full runs the book ships: the long, five-trial experiments made once from the command
line, whose records (``<name>.json.gz``) and, for some, ticket masks (``<name>.masks.npz``, one
bit per weight) sit in this folder as package data, so a chapter draws them wherever it runs.

:data:`FULL_RUNS` says how each was made (the command, from the repository root);
:func:`full_run` loads one (:func:`full_run_json`: its record as it was written);
:func:`write_full_run` puts a finished run here. :data:`CHAPTER_RUNS` are a chapter's own
experiment run headless at full size (:func:`chapter_run` loads one).
"""

from __future__ import annotations

import gzip
import io
import json
from importlib import resources
from pathlib import Path

import numpy as np

from .. import schema
from ..errors import LTError, check_choice
from ..files import atomic_write
from ..masks import from_bits, to_bits
from ..results import Results, load_results

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
    # its control: the same doubled schedule without dropout, so that dropout is the only change
    "conv2-mnist1d-long-full": (
        "python -m lt_helpers imp --model conv2 --dataset mnist1d --preset quick --trials 5 --rounds 5 "
        "--iterations 6000 --controls none --out runs/conv2-mnist1d-long-full"),
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
    # chapter 5: VGG-19 at the paper's three learning-rate settings, trained long enough to end (a pilot's
    # 6,000 iterations; the lr steps at the paper's epochs 80 and 120 of 160, warmup its 10,000 of 112,480)
    **{f"vgg19-mnist1d-{name}-long": (
        f"python -m lt_helpers imp --model vgg19 --dataset mnist1d --preset quick --trials 5 --rounds 7 "
        f"--iterations 6000 --controls random_reinit --out runs/vgg19-mnist1d-{name}-long {args}--lr-drops 3000 4500")
       for name, args in (("lr0.1", "--lr 0.1 "), ("lr0.01", "--lr 0.01 "), ("warmup", "--lr 0.1 --warmup 533 "))},
    # and ResNet-20 at its three (the lr steps at the paper's 20,000 and 25,000 of 30,000 iterations, warmup over
    # its first 20,000 to lr 0.03)
    **{f"resnet20-mnist1d-{name}-long": (
        f"python -m lt_helpers imp --model resnet20 --dataset mnist1d --preset quick --trials 5 --rounds 7 "
        f"--iterations 6000 --controls random_reinit --out runs/resnet20-mnist1d-{name}-long {args}--lr-drops 4000 5000")
       for name, args in (("lr0.1", "--lr 0.1 "), ("lr0.01", "--lr 0.01 "), ("warmup", "--lr 0.03 --warmup 4000 "))},
}


# A chapter's own experiment, run headless at full size where its live default run (a few trials, to keep
# the chapter quick) is too small to show its point: the records of the chapter's results.json
CHAPTER_RUNS = {
    # chapter 1's train, prune, retrain on real images, 5 trials (the chapter leads with it)
    "prune_retrain-fashion_mnist": (
        "papermill chapters/01_pruning.ipynb runs/prune_retrain-fashion_mnist.ipynb -p dataset fashion_mnist "
        "-p trials 5 -p out_dir runs/prune_retrain-fashion_mnist"),
    # chapter 8's supermasks on the Fashion-MNIST full run's tickets (no training): so that the chapter shows
    # them where the images are not on disk
    "supermasks-fashion_mnist": (
        "python -c \"from lt_helpers import beyond, data, full_runs; full_runs.write_chapter_run("
        "beyond.supermasks(full_runs.full_run('lenet_300_100-fashion_mnist-paper'), data.load('fashion_mnist')), "
        "'supermasks-fashion_mnist')\""),
}


def chapter_run(name: str, folder=None):
    """The committed chapter run ``name`` (a key of :data:`CHAPTER_RUNS`): its config and its
    records as a pandas DataFrame."""
    import pandas as pd

    check_choice("chapter run", name, CHAPTER_RUNS)
    raw = json.loads(_gunzip(folder, name))
    schema.check(raw, f"chapter run {name}", "chapter")
    return raw["config"], pd.DataFrame(raw["runs"])


def write_chapter_run(results, name: str, folder=None) -> Path:
    """Ship ``results`` (a :class:`~lt_helpers.results.Results` a chapter computed) as chapter run
    ``name`` (a key of :data:`CHAPTER_RUNS`; its command is the config), compressed."""
    check_choice("chapter run", name, CHAPTER_RUNS)
    folder = Path(folder) if folder is not None else Path(__file__).parent
    return _gzip_json({"config": {"command": CHAPTER_RUNS[name], **results.config}, "runs": results.runs},
                      folder / f"{name}.json.gz")


# full runs that ship their ticket masks too (chapter 7 needs them): lt_helpers/full_runs/<name>.masks.npz
WITH_MASKS = ("lenet_300_100-mnist1d-paper", "lenet_300_100-fashion_mnist-paper")


def full_run(name: str, folder=None):
    """The committed full run ``name`` (a key of :data:`FULL_RUNS`) as an
    :class:`lt_helpers.results.Results`: its records, and for the runs in :data:`WITH_MASKS`
    every ticket mask (``results.masks[(trial, round)]``). ``folder``: read from there
    instead of the package (tests)."""
    raw = json.loads(full_run_json(name, folder))
    schema.check(raw, f"full run {name}")
    results = Results(raw["config"], raw["runs"])
    packed = _where(folder).joinpath(f"{name}.masks.npz")
    if packed.is_file():
        results.masks = _unpack_masks(packed.read_bytes())
    return results


def full_run_json(name: str, folder=None) -> bytes:
    """The committed record of full run ``name`` as JSON bytes: the run's ``results.json``
    (what the book offers for download)."""
    check_choice("full run", name, FULL_RUNS)
    return _gunzip(folder, name)


def _gunzip(folder, name: str) -> bytes:
    """The JSON bytes of the shipped ``name.json.gz`` (in the package, or ``folder``)."""
    return gzip.decompress(_where(folder).joinpath(f"{name}.json.gz").read_bytes())


def _gzip_json(raw: dict, path: Path) -> Path:
    """Write ``raw`` as compact JSON, gzipped, atomically: the bytes depend only on the content."""
    atomic_write(path, lambda tmp: tmp.write_bytes(gzip.compress(json.dumps(raw, separators=(",", ":")).encode(), 9,
                                                                 mtime=0)))
    return path


def _where(folder):
    return Path(folder) if folder is not None else resources.files(__package__)


def _pack_masks(masks: dict) -> bytes:
    """Masks as a compressed .npz: one bit per weight (:func:`lt_helpers.masks.to_bits`)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **to_bits(masks))
    return buffer.getvalue()


def _unpack_masks(data: bytes) -> dict:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return from_bits(npz)


def write_full_run(results_json, name: str, folder=None) -> Path:
    """Copy a finished run's ``results.json`` into the package as full run ``name``
    (compressed; the bytes depend only on the records), with its masks from the
    ``state.pt`` beside it when ``name`` is in :data:`WITH_MASKS`. ``folder``: write there
    instead of the package (tests)."""
    raw = json.loads(Path(results_json).read_text())
    folder = Path(folder) if folder is not None else Path(__file__).parent
    path = folder / f"{name}.json.gz"
    _gzip_json(raw, path)
    if name in WITH_MASKS:
        masks = load_results(results_json).masks
        if not masks:
            raise LTError(f"full run {name!r} ships its masks, but there is no state.pt beside {results_json}")
        atomic_write(folder / f"{name}.masks.npz", lambda tmp: tmp.write_bytes(_pack_masks(masks)))
    return path
