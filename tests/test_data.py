import gzip
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
    with pytest.raises(LTError, match="mnist1d, fashion_mnist, mnist, cifar10"):
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


def test_fashion_mnist_from_gzipped_idx_files(fashion_root):
    d = data.load("fashion_mnist", data_root=fashion_root, download=False)
    assert d.name == "fashion_mnist" and d.input_shape == (1, 28, 28)
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (96, 24, 40)
    raw = fashion_root / "FashionMNIST/raw"
    images = np.frombuffer(gzip.decompress((raw / "train-images-idx3-ubyte.gz").read_bytes())[16:], np.uint8)
    pixels = torch.from_numpy(images.reshape(120, 28, 28).copy()).float() / 255
    mean, std = pixels.mean(), pixels.std()  # standardized with its own training images' statistics
    test = np.frombuffer(gzip.decompress((raw / "t10k-images-idx3-ubyte.gz").read_bytes())[16:], np.uint8)
    expected = (torch.from_numpy(test[:784].reshape(28, 28).copy()).float() / 255 - mean) / std
    assert torch.allclose(d.x_test[0, 0], expected, atol=1e-5)
    assert d.y_test.tolist() == [k * 7 % 10 for k in range(40)]
    everything = torch.cat([d.x_train, d.x_val]).flatten()
    assert abs(everything.mean()) < 1e-5 and abs(everything.std() - 1) < 1e-4


def test_fashion_mnist_plain_idx_files_load_too(fashion_root):
    raw = fashion_root / "FashionMNIST/raw"
    for gz in raw.glob("*.gz"):
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    assert len(data.load("fashion_mnist", data_root=fashion_root, download=False).y_test) == 40


def test_fashion_mnist_missing_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    with pytest.raises(data.DatasetUnavailable) as err:
        data.load("fashion_mnist", data_root=tmp_path, download=False)
    msg = str(err.value)
    assert "apt-get install dataset-fashion-mnist" in msg and "FashionMNIST/raw" in msg and "mnist1d" in msg


def test_fashion_mnist_from_debians_folder(fashion_root, tmp_path_factory, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", fashion_root / "FashionMNIST" / "raw")
    elsewhere = tmp_path_factory.mktemp("empty-root")
    assert len(data.load("fashion_mnist", data_root=elsewhere, download=False).y_test) == 40


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:-100], "cut short"),
    (lambda b: b"\x00\x00\x09\x03" + b[4:], "not an IDX file"),
])
def test_damaged_idx_files_are_named(fashion_root, damage, message):
    path = fashion_root / "FashionMNIST/raw/t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(damage(gzip.decompress(path.read_bytes()))))
    with pytest.raises(LTError, match=message) as err:
        data.load("fashion_mnist", data_root=fashion_root, download=False)
    assert "t10k-images-idx3-ubyte" in str(err.value)


def test_idx_labels_that_do_not_fit_the_images(fashion_root):
    path = fashion_root / "FashionMNIST/raw/t10k-labels-idx1-ubyte.gz"
    labels = np.arange(41, dtype=np.uint8) % 10
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (41).to_bytes(4, "big") + labels.tobytes()))
    with pytest.raises(LTError, match="40 images but 41 labels"):
        data.load("fashion_mnist", data_root=fashion_root, download=False)
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (40).to_bytes(4, "big") + bytes([12] * 40)))
    with pytest.raises(LTError, match="not 0-9"):
        data.load("fashion_mnist", data_root=fashion_root, download=False)


@pytest.mark.skipif(not data.DEBIAN_FASHION_MNIST.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_the_real_fashion_mnist_from_debian(tmp_path):
    x, y, x_test, y_test = data._read_idx_set(data.DEBIAN_FASHION_MNIST)
    assert x.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert torch.bincount(y).tolist() == [6000] * 10 and torch.bincount(y_test).tolist() == [1000] * 10
    d = data.load("fashion_mnist", data_root=tmp_path, download=False)
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (55000, 5000, 10000)
    pixels = x.float() / 255
    assert abs(pixels.mean() - 0.2860) < 1e-4 and abs(pixels.std() - 0.3530) < 1e-4


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
