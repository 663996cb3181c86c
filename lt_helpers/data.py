"""Datasets as tensors that already live on the device.

Four datasets, one shape of answer (a :class:`Data`):

* ``mnist1d``: MNIST-1D (Greydanus & Kobak), generated locally by the ``mnist1d``
  package and cached on disk. The offline default: no download, seconds to make.
* ``fashion_mnist``: Zalando's Fashion-MNIST (28x28 grey images of clothing, MNIST's
  drop-in), read offline from Debian's ``dataset-fashion-mnist`` files where installed:
  real images on which the paper's LeNet trains at its true size, the book's positive
  control for what MNIST-1D shows.
* ``mnist``: MNIST through torchvision (28x28 grey images), the paper's LeNet data.
* ``cifar10``: CIFAR-10 (3x32x32 colour images), the paper's convolutional data.

A validation split is held out of the training set, as in the paper (5,000 examples for
MNIST, Fashion-MNIST and CIFAR-10, 500 of MNIST-1D's 4,000), and early stopping looks only at it.
Whole datasets are small enough to keep as tensors on the device, so the training loop
indexes a batch out of memory: no DataLoader, no per-example Python.
"""

from __future__ import annotations

import gzip
import math
import os
import pickle
import socket
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from .device import resolve_device
from .errors import LTError, check_choice
from .files import atomic_write

DATASETS = ("mnist1d", "fashion_mnist", "mnist", "cifar10")
INPUT_SHAPE = {"mnist1d": (1, 40), "fashion_mnist": (1, 28, 28), "mnist": (1, 28, 28), "cifar10": (3, 32, 32)}  # one example
# "auto" picks the paper's dataset for a model when it can be had
PAPER_DATASET = {"lenet_300_100": "mnist", **{m: "cifar10" for m in ("conv2", "conv4", "conv6", "vgg19", "resnet20")}}
VALIDATION_SIZE = {"mnist1d": 500, "fashion_mnist": 5000, "mnist": 5000, "cifar10": 5000}
TEST_SIZE = {"mnist1d": 1000, "fashion_mnist": 10000, "mnist": 10000, "cifar10": 10000}  # every run tests on all of it
MEAN_STD = {  # per channel, of the training images scaled to [0, 1]
    "mnist": ((0.1307,), (0.3081,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))}
# Where Debian's package dataset-fashion-mnist puts its files (gzipped IDX, as published)
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")


class DatasetUnavailable(LTError):
    """A dataset is neither on disk nor downloadable."""


@dataclass
class Data:
    """Train / validation / test tensors of one dataset, on one device."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int = 10

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def device(self) -> torch.device:
        return self.x_train.device

    def to(self, device) -> "Data":
        """The same splits on ``device``."""
        tensors = {k: getattr(self, k).to(device) for k in
                   ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")}
        return replace(self, **tensors)

    def __repr__(self) -> str:
        return (f"Data({self.name}: {len(self.y_train)} train, {len(self.y_val)} validation, "
                f"{len(self.y_test)} test, input {self.input_shape}, on {self.device})")


def default_root() -> Path:
    """Where datasets are cached: ``$LT_DATA`` or ``~/.cache/lt_helpers``."""
    return Path(os.environ.get("LT_DATA", Path.home() / ".cache" / "lt_helpers"))


def load(name: str, *, data_root=None, device="cpu", download: bool | None = None) -> Data:
    """Load dataset ``name`` ('mnist1d', 'fashion_mnist', 'mnist', 'cifar10') onto ``device``.

    ``data_root`` is a folder in torchvision's on-disk layout (``MNIST/raw/...``,
    ``FashionMNIST/raw/...``, ``cifar-10-batches-py/...``); files found there load offline,
    and Fashion-MNIST also loads from Debian's files (:data:`DEBIAN_FASHION_MNIST`).
    ``download=None`` downloads a missing dataset when the network allows.
    """
    check_choice("dataset", name, DATASETS, " (or 'auto' where a chapter accepts it)")
    root = Path(data_root) if data_root is not None else default_root()
    if root.exists() and not root.is_dir():
        raise LTError(f"data root {root} is a file, not a folder; pass the folder that holds the datasets "
                      "(--data-root), or leave it out to use the cache")
    if root.exists() and not os.access(root, os.R_OK):
        raise LTError(f"data root {root} is not readable; fix its permissions or pass another "
                      "--data-root")
    loader = {"mnist1d": _mnist1d, "fashion_mnist": _fashion_mnist, "mnist": _mnist, "cifar10": _cifar10}[name]
    x, y, x_test, y_test = loader(root, download)
    return _split(name, x, y, x_test, y_test).to(device)


NAMES = {"mnist1d": "MNIST-1D", "fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10"}


def resolve(dataset: str, model: str = "lenet_300_100", *, data_root=None, device=None, say=print) -> str:
    """Turn ``'auto'`` into a dataset name, by the hardware that will train on it.

    On an accelerator (``device`` of type cuda or mps; None: whichever torch finds) it is
    the paper's dataset for ``model`` (MNIST or CIFAR-10) when that is on disk or can be
    downloaded. On a CPU it is the offline stand-in ``'mnist1d'``: the paper's datasets
    take hours there. Either way ``say`` is told which and why. Any other name is
    returned as it is: an explicit choice is always honoured.
    """
    if dataset != "auto":
        return dataset

    paper = PAPER_DATASET.get(model, "mnist")
    kind = (torch.device(device) if device is not None else resolve_device("auto")).type
    if kind not in ("cuda", "mps"):
        say(f"dataset 'auto' on a CPU: using MNIST-1D, the offline stand-in (minutes on a CPU). For the paper's "
            f"{NAMES[paper]}, set dataset = \"{paper}\" (hours on a CPU; minutes on a GPU).")
        return "mnist1d"
    root = Path(data_root) if data_root is not None else default_root()
    if _on_disk(paper, root) or network_available():
        say(f"dataset 'auto' on {kind}: using the paper's {NAMES[paper]}.")
        return paper
    say(f"dataset 'auto': {NAMES[paper]} is not in {root} and cannot be downloaded (no network), "
        "so using MNIST-1D, the offline stand-in.")
    return "mnist1d"


_NETWORK: bool | None = None


def network_available(host: str = "ossci-datasets.s3.amazonaws.com", timeout: float = 3.0) -> bool:
    """Can torchvision's download host be resolved? Decided once per process: offline,
    a download attempt would otherwise hang in name lookup for ~10 s each time."""
    global _NETWORK
    if _NETWORK is None:
        answer = []
        probe = threading.Thread(target=lambda: answer.append(_resolves(host)), daemon=True)
        probe.start()
        probe.join(timeout)
        _NETWORK = bool(answer and answer[0])
    return _NETWORK


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
        return True
    except OSError:
        return False


# --- the four datasets -------------------------------------------------------------

def _mnist1d(root: Path, download):
    """MNIST-1D with the package's default arguments (4,000 train / 1,000 test, length 40)."""
    from mnist1d.data import get_dataset_args, make_dataset

    path = root / "mnist1d" / "mnist1d_seed42.pkl"
    ds = None
    if path.exists():
        try:
            with open(path, "rb") as f:
                ds = pickle.load(f)
            ds = {k: ds[k] for k in ("x", "y", "x_test", "y_test")}
        except Exception:  # a cut or foreign cache: the data set is deterministic, so make it again
            ds = None
    if ds is None:
        ds = make_dataset(get_dataset_args())  # ~1 s, deterministic (seed 42)
        ds = {k: ds[k] for k in ("x", "y", "x_test", "y_test")}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda tmp: tmp.write_bytes(pickle.dumps(ds)))
        except (OSError, LTError):
            pass  # a read-only or full cache only costs the second of regeneration
    to_x = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32).unsqueeze(1)  # [N,1,40]
    to_y = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.long)
    return to_x(ds["x"]), to_y(ds["y"]), to_x(ds["x_test"]), to_y(ds["y_test"])


def _on_disk(name: str, root: Path) -> bool:
    if name == "mnist":
        return _idx_folder(root / "MNIST" / "raw") is not None
    if name == "fashion_mnist":
        return _fashion_folder(root) is not None
    if name == "cifar10":
        folder = root / "cifar-10-batches-py"
        return all((folder / f).exists() for f in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"])
    return True


def _fetch(name: str, root: Path, download, fetcher):
    """Download ``name`` with torchvision unless it is already on disk; explain failures."""
    if _on_disk(name, root):
        return
    idx = ", ".join(IDX_FILES)
    how = {"mnist": f"MNIST/raw/ ({idx})", "fashion_mnist": f"FashionMNIST/raw/ ({idx}, or the same .gz)",
           "cifar10": "cifar-10-batches-py/ (data_batch_1..5, test_batch)"}[name]
    debian = ("On Debian or Ubuntu, `apt-get install dataset-fashion-mnist` installs it offline "
              f"(into {DEBIAN_FASHION_MNIST}). " if name == "fashion_mnist" else "")
    hint = (f"{debian}Put torchvision's files under {root}/{how} and pass data_root (--data-root), "
            "run where the network is reachable, or use dataset='mnist1d', which is generated "
            "locally.")
    if download is False or (download is None and not network_available()):
        raise DatasetUnavailable(f"{name} is not in {root} and cannot be downloaded here (offline). {hint}")
    try:
        fetcher(root)
    except Exception as err:  # torchvision raises URLError, RuntimeError, ...
        raise DatasetUnavailable(f"{name} is not in {root} and the download failed ({err}). {hint}") from err


def _mnist(root: Path, download):
    from torchvision.datasets import MNIST

    _fetch("mnist", root, download, lambda r: MNIST(r, train=True, download=True) and MNIST(r, train=False, download=True))
    x, y, x_test, y_test = _read_idx_set(_idx_folder(root / "MNIST" / "raw"))
    prep = lambda images: normalize(images.unsqueeze(1).float() / 255, "mnist")  # [N,1,28,28]
    return prep(x), y, prep(x_test), y_test


def _fashion_mnist(root: Path, download):
    """Fashion-MNIST: Debian's files if installed, else torchvision's layout under ``root``
    (downloaded there when missing and the network allows). Standardized with the mean and
    standard deviation of its own training images (0.2860 and 0.3530 for the real set)."""
    from torchvision.datasets import FashionMNIST

    _fetch("fashion_mnist", root, download,
           lambda r: FashionMNIST(r, train=True, download=True) and FashionMNIST(r, train=False, download=True))
    x, y, x_test, y_test = _read_idx_set(_fashion_folder(root))
    x, x_test = x.unsqueeze(1).float() / 255, x_test.unsqueeze(1).float() / 255  # [N,1,28,28]
    mean, std = x.mean(), x.std()
    return (x - mean) / std, y, (x_test - mean) / std, y_test


def _fashion_folder(root: Path) -> Path | None:
    """The folder holding Fashion-MNIST's four IDX files: ``root/FashionMNIST/raw`` (an
    explicit data root wins), else Debian's."""
    debian = Path(os.environ.get("LT_DEBIAN_FASHION_MNIST", DEBIAN_FASHION_MNIST))  # a test can hide it
    return _idx_folder(root / "FashionMNIST" / "raw") or _idx_folder(debian)


def _idx_folder(folder: Path) -> Path | None:
    """``folder`` if it holds all four IDX files (each plain or gzipped), else None."""
    found = all((folder / f).exists() or (folder / f"{f}.gz").exists() for f in IDX_FILES)
    return folder if found else None


def _read_idx_set(folder: Path):
    """Training images and labels, test images and labels, from MNIST-style IDX files."""
    x, y, x_test, y_test = (read_idx(folder / f) for f in IDX_FILES)
    for images, labels, part in ((x, y, "train"), (x_test, y_test, "t10k")):
        if len(images) != len(labels):
            raise LTError(f"{folder}: {part} has {len(images)} images but {len(labels)} labels; the files "
                          "are from different sets or cut short: replace them")
        if labels.numel() and not 0 <= int(labels.min()) <= int(labels.max()) <= 9:
            raise LTError(f"{folder}: {part} labels run from {int(labels.min())} to {int(labels.max())}, "
                          "not 0-9: these are not MNIST-style class labels")
    return x, y.long(), x_test, y_test.long()


def read_idx(path: Path) -> torch.Tensor:
    """An IDX file of unsigned bytes (``path`` or ``path.gz``) as a uint8 tensor: a 4-byte
    magic number (0x0801 for labels, 0x0803 for images), one 4-byte big-endian size per
    dimension, then the bytes. A file that is cut short or not IDX raises a clear error."""
    path = path if path.exists() else path.with_name(path.name + ".gz")
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as err:
        raise LTError(f"cannot read {path} ({err}): the file is damaged or cut short; replace it") from err
    magic = int.from_bytes(raw[:4], "big")
    if len(raw) < 4 or magic >> 8 != 0x08 or not 1 <= magic & 0xFF <= 3:
        raise LTError(f"{path} is not an IDX file of unsigned bytes (magic number {raw[:4].hex() or 'missing'})")
    ndim = magic & 0xFF
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    body = raw[4 + 4 * ndim:]
    if len(body) != math.prod(shape):
        raise LTError(f"{path} should hold {math.prod(shape):,} bytes of data for shape {shape} but holds "
                      f"{len(body):,}: the file is cut short or damaged; replace it")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).view(shape)


def _cifar10(root: Path, download):
    from torchvision.datasets import CIFAR10

    _fetch("cifar10", root, download, lambda r: CIFAR10(r, train=True, download=True))
    folder = root / "cifar-10-batches-py"

    def read(files):  # CIFAR-10's own pickled batches: {b'data': uint8 [N, 3072], b'labels': [...]}
        xs, ys = [], []
        for f in files:
            with open(folder / f, "rb") as handle:
                batch = pickle.load(handle, encoding="bytes")
            xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            ys.append(np.asarray(batch[b"labels"], dtype=np.int64))
        x = torch.from_numpy(np.concatenate(xs)).float() / 255
        return normalize(x, "cifar10"), torch.from_numpy(np.concatenate(ys))

    x, y = read([f"data_batch_{i}" for i in range(1, 6)])
    x_test, y_test = read(["test_batch"])
    return x, y, x_test, y_test


def normalize(x: torch.Tensor, name: str) -> torch.Tensor:
    """Images ``[N, C, H, W]`` scaled to [0, 1] -> standardized with ``MEAN_STD[name]``."""
    mean, std = (torch.tensor(v).view(1, -1, 1, 1) for v in MEAN_STD[name])
    return (x - mean) / std


def _split(name, x, y, x_test, y_test) -> Data:
    """Hold out a fixed, seeded validation set from the training set."""
    n_val = min(VALIDATION_SIZE[name], len(y) // 5)  # small files (tests) keep most for training
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    val, train = order[:n_val], order[n_val:]
    return Data(name, x[train], y[train], x[val], y[val], x_test, y_test)
