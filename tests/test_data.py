import pickle

import numpy as np
import pytest
import torch

from lt_helpers import data
from lt_helpers.errors import LTError


def test_mnist1d_splits_and_cache(tmp_path):
    d = data.load("mnist1d", data_root=tmp_path)
    assert d.input_shape == (1, 40)
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (3500, 500, 1000)
    assert (tmp_path / "mnist1d" / "mnist1d_seed42.pkl").exists()
    again = data.load("mnist1d", data_root=tmp_path)  # from the cache: identical
    assert torch.equal(d.x_train, again.x_train) and torch.equal(d.y_val, again.y_val)
    # validation examples are held out of the training set, the test set is separate
    train_rows = {tuple(r.tolist()) for r in d.x_train.flatten(1)}
    assert not any(tuple(r.tolist()) in train_rows for r in d.x_val.flatten(1))
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.long


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(LTError, match="mnist1d, mnist, cifar10"):
        data.load("imagenet")


def test_mnist_from_idx_files(mnist_root):
    d = data.load("mnist", data_root=mnist_root, download=False)
    assert d.input_shape == (1, 28, 28)
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (80, 20, 30)
    assert torch.equal(d.y_test, torch.arange(30) % 10)
    raw = np.fromfile(mnist_root / "MNIST/raw/t10k-images-idx3-ubyte", dtype=np.uint8)[16:].reshape(30, 28, 28)
    expected = (torch.from_numpy(raw[0]).float() / 255 - 0.1307) / 0.3081
    assert torch.allclose(d.x_test[0, 0], expected)


def test_mnist_missing_offline_says_what_to_do(tmp_path):
    with pytest.raises(data.DatasetUnavailable) as err:
        data.load("mnist", data_root=tmp_path, download=False)
    msg = str(err.value)
    assert "MNIST/raw" in msg and "mnist1d" in msg and str(tmp_path) in msg


def test_cifar10_from_pickled_batches(cifar_root):
    d = data.load("cifar10", data_root=cifar_root, download=False)
    assert d.input_shape == (3, 32, 32)
    assert len(d.y_train) + len(d.y_val) == 50 and len(d.y_test) == 10
    with open(cifar_root / "cifar-10-batches-py" / "test_batch", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    red = batch[b"data"][3, :1024].reshape(32, 32)  # first 1024 bytes: the red channel
    expected = (torch.from_numpy(red).float() / 255 - 0.4914) / 0.2470
    assert torch.allclose(d.x_test[3, 0], expected, atol=1e-5)
    assert d.y_test.tolist() == list(range(10))


def test_cifar10_missing_offline(tmp_path):
    with pytest.raises(data.DatasetUnavailable, match="cifar-10-batches-py"):
        data.load("cifar10", data_root=tmp_path, download=False)


def test_auto_on_an_accelerator_prefers_the_paper_dataset_when_it_can_be_had(mnist_root, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "network_available", lambda: False)
    said = []
    assert data.resolve("auto", "lenet_300_100", data_root=mnist_root, device="cuda", say=said.append) == "mnist"
    assert data.resolve("auto", "lenet_300_100", data_root=tmp_path / "empty", device="cuda") == "mnist1d"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # device=None: what torch finds
    assert data.resolve("auto", "lenet_300_100", data_root=mnist_root) == "mnist"
    assert "MNIST" in said[0]


def test_auto_on_a_cpu_is_mnist1d_even_online(mnist_root, monkeypatch):
    """A laptop with internet and no GPU must not start hours of CIFAR-10 on its CPU."""
    monkeypatch.setattr(data, "network_available", lambda: True)
    said = []
    assert data.resolve("auto", "conv2", device="cpu", say=said.append) == "mnist1d"
    assert data.resolve("auto", "lenet_300_100", data_root=mnist_root, device="cpu") == "mnist1d"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert data.resolve("auto", "conv2", say=said.append) == "mnist1d"
    assert 'dataset = "cifar10"' in said[0] and "CPU" in said[0]  # says so, and how to ask for CIFAR-10


def test_an_explicit_dataset_is_always_honoured(monkeypatch):
    monkeypatch.setattr(data, "network_available", lambda: False)
    for device in ("cpu", "cuda", None):
        assert data.resolve("mnist", "lenet_300_100", device=device) == "mnist"
        assert data.resolve("cifar10", "conv2", device=device) == "cifar10"
        assert data.resolve("mnist1d", device=device) == "mnist1d"


def test_data_to_device_keeps_everything(mnist1d):
    moved = mnist1d.to("cpu")
    assert moved.device.type == "cpu" and moved.name == "mnist1d"
    assert "3500 train" in repr(moved)
