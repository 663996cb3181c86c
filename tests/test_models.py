import pytest
import torch

from lt_helpers import models
from lt_helpers.fast import layers
from lt_helpers.errors import LTError


@pytest.mark.parametrize("shape, total", [((1, 28, 28), 266_200), ((1, 40), 43_000), ((784,), 266_200)])
def test_lenet_weight_counts(shape, total):
    net = models.build("lenet_300_100", shape)
    counts = models.count_weights(net)
    assert sum(counts.values()) == total
    assert list(net.prunable.values()) == ["fc", "fc", "output"]
    assert net.output == "layers.2.weight"


def test_copies_are_independent_of_batching():
    together = models.build("lenet_300_100", (1, 40), copies=3, seeds=[5, 6, 7])
    for k, seed in enumerate([5, 6, 7]):
        alone = models.build("lenet_300_100", (1, 40), seeds=[seed]).get_copy(0)
        for name, t in together.get_copy(k).items():
            assert torch.equal(t, alone[name])
    x = torch.randn(3, 8, 1, 40)
    out = together(x)
    assert out.shape == (3, 8, 10)
    alone = models.build("lenet_300_100", (1, 40), seeds=[6])
    assert torch.allclose(out[1], alone(x[1:2])[0], atol=1e-5)


def test_glorot_normal_init():
    net = models.build("lenet_300_100", (1, 28, 28), seeds=[0])
    w = net.get_copy(0)["layers.0.weight"]
    assert abs(w.std().item() - (2 / (784 + 300)) ** 0.5) < 2e-3
    assert torch.count_nonzero(net.get_copy(0)["layers.0.bias"]) == 0


def test_unknown_model_lists_valid_names():
    with pytest.raises(LTError, match="lenet_300_100"):
        models.build("resnet152", (3, 32, 32))


def test_set_copy_rejects_wrong_shapes():
    net = models.build("lenet_300_100", (1, 40))
    other = models.build("lenet_300_100", (1, 28, 28)).get_copy(0)
    with pytest.raises(LTError, match="shape"):
        net.set_copy(0, other)
    with pytest.raises(LTError, match="one seed per copy"):
        net.reset_parameters([1, 2])


@pytest.mark.parametrize("copies", [1, 4, 8])
@pytest.mark.parametrize("autocast", [False, True])
def test_linear_matches_plain_product_and_gradients(copies, autocast):
    """From 4 copies up an output layer (10 outputs) computes its product transposed on a
    CPU (fast.layers._FewOutputs): same values and the same gradients as x @ w + b, also in bf16."""
    torch.manual_seed(0)
    layer = layers.Linear(100, 10, copies)
    with torch.no_grad():
        layer.weight.normal_(), layer.bias.normal_()
    x = torch.randn(copies, 60, 100, requires_grad=True)
    w, b = (t.detach().clone().requires_grad_() for t in (layer.weight, layer.bias))
    x_ref = x.detach().clone().requires_grad_()
    g = torch.randn(copies, 60, 10)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        out, ref = layer(x), torch.baddbmm(b, x_ref, w)
    assert out.shape == ref.shape == (copies, 60, 10) and out.dtype == ref.dtype
    assert (out.stride(-1) == 1) == (copies < 4)  # transposed from 4 copies up (train._loss_sum reads it)
    (out.float() * g).sum().backward()
    (ref.float() * g).sum().backward()
    tol = dict(rtol=2e-2, atol=0.5) if autocast else dict(rtol=1e-5, atol=1e-4)
    assert torch.allclose(out.float(), ref.float(), **tol)
    for mine, theirs in [(x.grad, x_ref.grad), (layer.weight.grad, w.grad), (layer.bias.grad, b.grad)]:
        assert mine.shape == theirs.shape and mine.dtype == theirs.dtype
        assert torch.allclose(mine, theirs, **tol)
    with torch.inference_mode():  # evaluation path: no graph
        assert torch.allclose(layer(x.detach()), torch.baddbmm(b, x_ref, w).detach(), rtol=1e-5, atol=1e-4)
