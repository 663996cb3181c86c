"""A round in progress, saved as it trains, so that a stopped run goes on mid-round.

An IMP run saves after each finished round (:mod:`lt_helpers.store`), and a round of a large
network on a CPU can take hours. While a round trains into an ``out`` folder, each group of
batched networks also writes what its loop needs to go on (the weights, the optimizer's
moments, the data order's generators and place, the dropout generator, the records so far, the
weights kept for the early stop's test accuracy, and how long it has trained in this round)
to ``out/partial/``, at an evaluation, every :data:`EVERY_S` seconds. A rerun starts each
group from its file and computes, bit for bit, what the uninterrupted run would have, and
counts the round's time before the stop in its wall time (:func:`seconds`). A file written
for other settings (another experiment, other seeds, masks or initial weights) or damaged is
not used: the group starts the round over and says so on stderr. The folder is removed once
the round is saved.

A round whose networks train a few at a time (``max_copies``: chunks, one after another) keeps
each finished chunk's outcome (its records and the next round's masks; in the dense round also
the trained and rewound weights) in the chunk's folder
as ``done.pt`` (:func:`finish`), in place of its groups' files; a rerun, or the run carried to
another machine (:mod:`lt_helpers.carry`), does not train that chunk again (:func:`finished`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
from pathlib import Path

import torch

from .files import atomic_write

__all__ = ["EVERY_S", "DONE", "CHUNK", "chunk_folder", "identity", "write", "read", "seconds", "chunk_seconds", "finish", "finished"]

EVERY_S = 300.0  # seconds between saves: a few minutes of training at most is lost
DONE = "done.pt"  # a finished chunk's outcome, in its folder
CHUNK = re.compile(r"round(\d+)-from(\d+)")  # a chunk's folder in out/partial: its round, its first network


def chunk_folder(partial: Path, rnd: int, first: int) -> Path:
    """The folder of round ``rnd``'s chunk that starts at network ``first``, under ``partial``."""
    return partial / f"round{rnd}-from{first}"


def identity(model_name: str, hp, seeds: list[int], inits: list[dict], masks: list[dict], **more) -> str:
    """A digest of everything that decides a group's training: the network, the
    hyperparameters, each network's data seed, initial weights and mask, and ``more``."""
    h = hashlib.sha256(repr((model_name, hp.to_dict(), [int(s) for s in seeds], sorted(more.items()))).encode())
    for tensors in (*inits, *masks):
        for name in sorted(tensors):
            h.update(name.encode())
            h.update(tensors[name].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def write(path: Path, ident: str, iteration: int, state: dict, seconds: float = 0.0) -> None:
    """Save ``state``, the loop's state at the top of ``iteration``, to ``path`` (atomically), with
    the ``seconds`` this group has trained in this round so far (stops included: its wall clock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: torch.save({"identity": ident, "iteration": iteration, "seconds": float(seconds),
                                             **state}, p))


def seconds(folder: Path, rnd: int | None = None) -> float:
    """How long the round in progress under ``folder`` (``out/partial``; ``rnd``: that round's
    chunks only) had trained when it was stopped: over its chunks (one after another), each
    finished chunk's time and, for the chunk in progress, the most any of its groups had (they
    train side by side); 0 where nothing is saved. A resumed run adds it to its wall time, which
    would otherwise leave it out; a file that cannot be read counts nothing."""
    chunks = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    of_round = lambda c: rnd is None or ((m := CHUNK.fullmatch(c.name)) is not None and int(m[1]) == rnd)
    return sum(chunk_seconds(c) for c in chunks if of_round(c))


def chunk_seconds(chunk: Path) -> float:
    """How long one chunk of a round trained: its ``done.pt``'s time, else its groups' most (and,
    where its networks train one at a time, ``network<i>/`` each, the sum of theirs)."""
    if not chunk.is_dir():
        return 0.0
    done, found = (chunk / DONE).exists(), [0.0]
    for path in [chunk / DONE] if done else sorted(chunk.glob("group*.pt")):
        try:
            found.append(float(torch.load(path, weights_only=True, mmap=True).get("seconds", 0.0)))
        except Exception:  # a damaged file: its group says so, and starts its round over
            continue
    return max(found) + (0.0 if done else sum(chunk_seconds(p) for p in sorted(chunk.glob("network*"))))


def finish(chunk: Path, ident: str, outcome: dict, seconds: float) -> None:
    """Keep a finished chunk's ``outcome`` (tensors, numbers, text: what the round needs of it)
    as ``chunk/done.pt`` with the ``seconds`` it trained, then remove everything else there."""
    chunk.mkdir(parents=True, exist_ok=True)
    atomic_write(chunk / DONE, lambda p: torch.save({"identity": ident, "seconds": float(seconds), **outcome}, p))
    for path in chunk.iterdir():
        if path.name != DONE:
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def finished(chunk: Path | None, ident: str) -> dict | None:
    """The outcome :func:`finish` kept in ``chunk`` for these settings, or None: the chunk then
    trains (nothing kept; or other settings, or a file that cannot be read: said on stderr, and
    the file removed, so that the chunk's time is its groups' again)."""
    if chunk is None:
        return None
    done = read(chunk / DONE, ident, "this chunk of the round trains again")
    if done is None:
        (chunk / DONE).unlink(missing_ok=True)
    return done


def read(path: Path | None, ident: str, then: str = "this group starts its round over") -> dict | None:
    """The state saved at ``path`` for these settings, or None (nothing saved, other settings,
    or a file that cannot be read: then the round starts over, said on stderr)."""
    if path is None or not path.exists():
        return None
    try:
        saved = torch.load(path, weights_only=True)
    except Exception as err:  # a cut or foreign file: torch raises zip, pickle or EOF errors
        print(f"lt_helpers: {path} cannot be read ({type(err).__name__}); {then}", file=sys.stderr)
        return None
    if not isinstance(saved, dict) or saved.get("identity") != ident:
        print(f"lt_helpers: {path} was saved for other settings; {then}", file=sys.stderr)
        return None
    return saved
