"""Shared fixtures. Tests run offline on MNIST-1D and on tiny files in the real MNIST and
CIFAR-10 formats, written here."""

import gzip
import os
import pickle
import struct
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import psutil
import pytest

os.environ.setdefault("LT_PROGRESS", "0")
# Every process the suite starts carries this mark in its environment (set before any test
# module copies os.environ), so the check below finds it even after it was re-parented.
SESSION_MARK = os.environ["LT_TEST_SESSION"] = uuid.uuid4().hex


def _started_by_this_session() -> list:
    me = psutil.Process()
    found = {p.pid: p for p in me.children(recursive=True)}
    for p in psutil.process_iter():
        try:
            if p.pid != me.pid and p.environ().get("LT_TEST_SESSION") == SESSION_MARK:
                found[p.pid] = p
        except psutil.Error:
            pass
    return list(found.values())


@pytest.fixture(scope="session", autouse=True)
def leaves_no_process_behind():
    """Fail the run if a process the suite started is alive at its end (after a grace of
    10 s for processes already on their way out); such processes are killed."""
    yield
    _, alive = psutil.wait_procs(_started_by_this_session(), timeout=10)
    described = []
    for p in alive:
        try:
            described.append(f"{p.pid}: {' '.join(p.cmdline())[:200]}")
            p.kill()
        except psutil.Error:
            pass
    assert not described, "the test suite left processes behind (now killed):\n" + "\n".join(described)


def _count_chunks(monkeypatch, desc: str, stop_at: int | None = None) -> list[int]:
    """Count the training calls (one per chunk) of the round whose progress text starts with
    ``desc`` (``"round 2/"``), failing call ``stop_at`` before it trains, as a stopped run would."""
    from lt_helpers import iterative

    calls, real = [0], iterative.train

    def train_chunk(*args, **kwargs):
        if kwargs.get("desc", "").startswith(desc):
            calls[0] += 1
            if calls[0] == stop_at:
                raise RuntimeError("stopped")
        return real(*args, **kwargs)

    monkeypatch.setattr(iterative, "train", train_chunk)
    return calls


@pytest.fixture
def count_chunks():
    """``count_chunks(monkeypatch, desc, stop_at=None)``: see :func:`_count_chunks`."""
    return _count_chunks


@pytest.fixture(scope="session")
def mnist1d(tmp_path_factory):
    from lt_helpers import data

    return data.load("mnist1d", data_root=tmp_path_factory.mktemp("data"))


def write_idx(path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) in the MNIST idx format: magic, dimensions, raw bytes."""
    code = {1: 0x0801, 3: 0x0803}[array.ndim]
    with open(path, "wb") as f:
        f.write(struct.pack(">I", code))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.astype(np.uint8).tobytes())


@pytest.fixture
def mnist_root(tmp_path):
    """A data root holding a 100/30-example MNIST in torchvision's layout."""
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", 100), ("t10k", 30)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8) % 10)
    return tmp_path


@pytest.fixture
def fashion_root(tmp_path, monkeypatch):
    """A data root holding a 120/40-example Fashion-MNIST in torchvision's layout, gzipped as
    Debian and Zalando ship it; Debian's own folder is hidden, so only these files load."""
    from lt_helpers import data

    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    rng = np.random.default_rng(1)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", 120), ("t10k", 40)):
        for kind, array in (("images-idx3", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                            ("labels-idx1", (np.arange(n) * 7 % 10).astype(np.uint8))):
            plain = raw / f"{prefix}-{kind}-ubyte"
            write_idx(plain, array)
            plain.with_name(plain.name + ".gz").write_bytes(gzip.compress(plain.read_bytes()))
            plain.unlink()
    return tmp_path


@pytest.fixture
def cifar_root(tmp_path):
    """A data root holding CIFAR-10's pickled batches (10 images each) in its real format."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"batch_label": name.encode(), b"labels": list(range(10)),
                 b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8),
                 b"filenames": [f"{i}.png".encode() for i in range(10)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [b"airplane"] * 10}, f)
    return tmp_path


ROOT = Path(__file__).resolve().parents[1]
SMOKE_ENV = {**os.environ, "LT_PRESET": "smoke", "LT_DATASET": "mnist1d", "LT_DEVICE": "cpu", "LT_PROGRESS": "0",
             "LT_STATIC": "1"}


@pytest.fixture(scope="session")
def book_html(tmp_path_factory):
    """Build the book once (smoke preset, warnings are errors) and return its html folder."""
    out = tmp_path_factory.mktemp("book")
    env = {**SMOKE_ENV, "LT_FIGURE_LOG": str(out / "figures.jsonl")}  # every figure's smallest text (lt_helpers.plots)
    res = subprocess.run([sys.executable, "-m", "lt_helpers.tools.build", str(ROOT), "--path-output", str(out)],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-3000:]
    chapters = len(list((ROOT / "chapters").glob("*.ipynb")))
    assert f"executed {chapters} chapter(s) in this build" in res.stdout  # a fresh cache runs them all
    return out / "_build" / "html"
