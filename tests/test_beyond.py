"""lt_helpers.beyond: interpolation and its barrier, SNIP masks, signed constants."""

import numpy as np
import pytest
import torch

from lt_helpers import beyond, masks, models, train
from lt_helpers.errors import LTError
from lt_helpers.hparams import Hyper


def test_the_line_between_two_networks_starts_and_ends_at_them(mnist1d):
    shape = mnist1d.input_shape
    a, b = (models.build("lenet_300_100", shape, seeds=[s]).get_copy(0) for s in (1, 2))
    mask = masks.Mask.ones_like(models.build("lenet_300_100", shape))
    errors = beyond.interpolate("lenet_300_100", mnist1d, a, b, mask, points=5)
    ends = 100 * (1 - np.array(train.test_accuracy("lenet_300_100", mnist1d, [a, b])))
    assert errors.shape == (5,) and errors[0] == pytest.approx(ends[0]) and errors[-1] == pytest.approx(ends[1])
    same = beyond.interpolate("lenet_300_100", mnist1d, a, a, mask, points=3)
    assert beyond.barrier(same) == pytest.approx(0.0, abs=1e-9)  # a network with itself: a flat line
    with pytest.raises(LTError, match="at least 3"):
        beyond.interpolate("lenet_300_100", mnist1d, a, b, mask, points=2)


def test_the_barrier_is_the_bump_above_the_ends():
    assert beyond.barrier([10.0, 30.0, 20.0]) == pytest.approx(15.0)
    assert beyond.barrier([10.0, 9.0, 10.0]) == pytest.approx(0.0)  # below both ends: no barrier ...
    assert beyond.barrier([10.0, 8.0, 12.0]) == pytest.approx(1.0)  # ... only the higher end sticks out


def test_snip_keeps_the_weights_with_the_largest_gradient_times_weight(mnist1d):
    shape = mnist1d.input_shape
    net = models.build("lenet_300_100", shape, seeds=[3])
    theta0 = net.get_copy(0)
    like = masks.magnitude_prune(theta0, masks.Mask.ones_like(net), {n: 0.8 for n in theta0 if n.endswith("weight")})
    snip = beyond.snip_mask("lenet_300_100", mnist1d, theta0, like, examples=200, seed=0)
    assert {n: int(m.sum()) for n, m in snip.items()} == {n: int(m.sum()) for n, m in like.items()}
    # recompute the scores by hand for the output layer: |dL/dw * w| of the summed loss
    net.zero_grad()
    pick = torch.randperm(len(mnist1d.x_train), generator=torch.Generator().manual_seed(0))[:200]
    torch.nn.functional.cross_entropy(net(mnist1d.x_train[pick][None])[0], mnist1d.y_train[pick]).backward()
    w = dict(net.named_parameters())["layers.2.weight"]
    score = (w.grad[0] * w[0]).abs().detach()
    kept = snip["layers.2.weight"]
    assert score[kept].min() >= score[~kept].max()
    assert not torch.equal(snip["layers.0.weight"], like["layers.0.weight"])  # not magnitude pruning in disguise


def test_signed_constants_keep_signs_and_one_magnitude_per_layer():
    net = models.build("lenet_300_100", (1, 40), seeds=[5])
    theta0, mask = net.get_copy(0), masks.Mask.ones_like(net)
    const = beyond.signed_constants(theta0, mask)
    w, c = theta0["layers.0.weight"], const["layers.0.weight"]
    assert torch.equal(torch.sign(c), torch.sign(w)) and torch.allclose(c.abs(), w.std().expand_as(c))
    assert torch.equal(const["layers.0.bias"], theta0["layers.0.bias"])


def test_a_trained_pair_from_one_start_can_be_interpolated(mnist1d):
    """The whole chapter-8 step on a few iterations: two data orders from one start."""
    shape = mnist1d.input_shape
    start = models.build("lenet_300_100", shape, seeds=[7]).get_copy(0)
    mask = masks.Mask.ones_like(models.build("lenet_300_100", shape))
    runs = train.train("lenet_300_100", mnist1d, [start, start], [mask, mask], Hyper(iterations=30, eval_every=15),
                       seeds=[1, 2])
    assert not torch.equal(runs[0].weights["layers.0.weight"], runs[1].weights["layers.0.weight"])
    errors = beyond.interpolate("lenet_300_100", mnist1d, runs[0].weights, runs[1].weights, mask)
    final = [100 * (1 - r.final_test_acc) for r in runs]
    assert len(errors) == 11
    assert errors[0] == pytest.approx(final[0], abs=1e-4) and errors[-1] == pytest.approx(final[1], abs=1e-4)
