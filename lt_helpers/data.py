"""Datasets as tensors that already live on the device.

Three datasets, one shape of answer (a :class:`Data`):

* ``mnist1d``: MNIST-1D (Greydanus & Kobak), generated locally by the ``mnist1d``
  package and cached on disk. The offline default: no download, seconds to make.
* ``mnist``: MNIST through torchvision (28x28 grey images), the paper's LeNet data.
* ``cifar10``: CIFAR-10 (3x32x32 colour images), the paper's convolutional data.

A validation split is held out of the training set, as in the paper (5,000 examples for
MNIST and CIFAR-10, 500 of MNIST-1D's 4,000), and early stopping looks only at it.
Whole datasets are small enough to keep as tensors on the device, so the training loop
indexes a batch out of memory: no DataLoader, no per-example Python.
"""

from __future__ import annotations

import os
import pickle
import socket
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from .errors import LTError, check_choice
from .files import atomic_write

DATASETS = ("mnist1d", "mnist", "cifar10")
# "auto" picks the paper's dataset for a model when it can be had
PAPER_DATASET = {"lenet_300_100": "mnist", **{m: "cifar10" for m in ("conv2", "conv4", "conv6", "vgg19", "resnet20")}}
VALIDATION_SIZE = {"mnist1d": 500, "mnist": 5000, "cifar10": 5000}
MEAN_STD = {  # per channel, of the training images scaled to [0, 1]
    "mnist": ((0.1307,), (0.3081,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))}


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
    """Load dataset ``name`` ('mnist1d', 'mnist', 'cifar10') onto ``device``.

    ``data_root`` is a folder in torchvision's on-disk layout (``MNIST/raw/...``,
    ``cifar-10-batches-py/...``); files found there load offline. ``download=None``
    downloads a missing dataset when the network allows.
    """
    check_choice("dataset", name, DATASETS, " (or 'auto' where a chapter accepts it)")
    root = Path(data_root) if data_root is not None else default_root()
    if root.exists() and not root.is_dir():
        raise LTError(f"data root {root} is a file, not a folder; pass the folder that holds the datasets "
                      "(--data-root), or leave it out to use the cache")
    if root.exists() and not os.access(root, os.R_OK):
        raise LTError(f"data root {root} is not readable; fix its permissions or pass another "
                      "--data-root")
    loader = {"mnist1d": _mnist1d, "mnist": _mnist, "cifar10": _cifar10}[name]
    x, y, x_test, y_test = loader(root, download)
    return _split(name, x, y, x_test, y_test).to(device)


NAMES = {"mnist1d": "MNIST-1D", "mnist": "MNIST", "cifar10": "CIFAR-10"}


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
    from .train import resolve_device  # here, not at the top: train imports this module

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


# --- the three datasets -------------------------------------------------------------

def _mnist1d(root: Path, download):
    """MNIST-1D with the package's default arguments (4,000 train / 1,000 test, length 40)."""
    from mnist1d.data import get_dataset_args, make_dataset

    path = root / "mnist1d" / "mnist1d_seed42.pkl"
    if path.exists():
        with open(path, "rb") as f:
            ds = pickle.load(f)
    else:
        ds = make_dataset(get_dataset_args())  # ~1 s, deterministic (seed 42)
        ds = {k: ds[k] for k in ("x", "y", "x_test", "y_test")}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda tmp: tmp.write_bytes(pickle.dumps(ds)))
        except OSError:
            pass  # a read-only cache only costs the second of regeneration
    to_x = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32).unsqueeze(1)  # [N,1,40]
    to_y = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.long)
    return to_x(ds["x"]), to_y(ds["y"]), to_x(ds["x_test"]), to_y(ds["y_test"])


def _on_disk(name: str, root: Path) -> bool:
    if name == "mnist":
        raw = root / "MNIST" / "raw"
        return all((raw / f).exists() for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))
    if name == "cifar10":
        folder = root / "cifar-10-batches-py"
        return all((folder / f).exists() for f in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"])
    return True


def _fetch(name: str, root: Path, download, fetcher):
    """Download ``name`` with torchvision unless it is already on disk; explain failures."""
    if _on_disk(name, root):
        return
    how = {"mnist": "MNIST/raw/ (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                    "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)",
           "cifar10": "cifar-10-batches-py/ (data_batch_1..5, test_batch)"}[name]
    hint = (f"Put torchvision's files under {root}/{how} and pass data_root (--data-root), "
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
    train, test = MNIST(root, train=True), MNIST(root, train=False)
    prep = lambda images: normalize(images.unsqueeze(1).float() / 255, "mnist")  # [N,1,28,28]
    return prep(train.data), train.targets.long(), prep(test.data), test.targets.long()


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
