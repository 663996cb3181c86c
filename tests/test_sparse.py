"""lt_helpers.sparse: dead units, the compacted network, storage formats, latency."""

import math

import pytest
import torch

from lt_helpers import masks, models, sparse
from lt_helpers.errors import LTError


def ticket(seed=0, rounds=12, shape=(1, 40)):
    """A LeNet with a sparse mask (random pruning at the paper's LeNet rates) and random biases."""
    net = models.build("lenet_300_100", shape, seeds=[seed])
    weights = net.get_copy(0)
    gen = torch.Generator().manual_seed(seed)
    for name in weights:
        if name.endswith("bias"):  # biases are zero at initialization; trained ones are not
            weights[name] = torch.randn(weights[name].shape, generator=gen) * 0.5
    mask = masks.Mask.ones_like(net)
    rates = masks.layer_rates(net, {"fc": 0.2, "output": 0.1})
    for r in range(rounds):
        mask = masks.prune(masks.random_scores(mask, seed * 100 + r), mask, rates)
    return net, weights, mask


def network_output(net, weights, mask, x):
    """The ticket as the book trains it: the Network with pruned weights at zero."""
    net.set_copy(0, {n: (w * mask[n] if n in mask else w) for n, w in weights.items()})
    with torch.no_grad():
        return net(x.reshape(1, len(x), 1, -1))[0]  # [copies, batch, *input_shape]


def test_the_compacted_network_gives_the_tickets_outputs():
    net, weights, mask = ticket()
    small = sparse.compact(weights, mask)
    x = torch.randn(64, 40, generator=torch.Generator().manual_seed(1))
    ref = network_output(net, weights, mask, x)
    assert torch.allclose(small(x), ref, atol=1e-5), (small(x) - ref).abs().max()
    dead = sparse.dead_units(mask)
    assert dead["hidden 1"] > 0  # at 5% of the weights random pruning leaves units without inputs
    assert small.sizes() == [40, 300 - dead["hidden 1"], 100 - dead["hidden 2"], 10]  # every input keeps its row
    assert small.weights() < sum(m.numel() for m in mask.values())


def test_a_unit_without_inputs_is_a_constant_folded_into_the_next_bias():
    net, weights, mask = ticket(seed=1, rounds=2)
    first, second = "layers.0.weight", "layers.1.weight"
    mask[first][:, 7] = False  # hidden unit 7 of the first layer loses every input ...
    weights["layers.0.bias"][0, 7] = 2.0  # ... and outputs relu(2.0) = 2 whatever the input
    mask[second][7, :] = True
    weights[second][7, :] = 0.3
    small = sparse.compact(weights, mask)
    assert small.sizes()[1] == 299 and sparse.dead_units(mask)["hidden 1"] == 1
    x = torch.randn(16, 40, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(small(x), network_output(net, weights, mask, x), atol=1e-5)


def test_dead_units_follow_the_chain():
    net, weights, mask = ticket(seed=2, rounds=1)
    # every input of second-layer unit 5 comes from first-layer units that have no input themselves
    mask["layers.0.weight"][:, :10] = False
    mask["layers.1.weight"][:, 5] = False
    mask["layers.1.weight"][:10, 5] = True
    # second-layer unit 6 has no output, and first-layer unit 20 feeds only unit 6: no output left either
    mask["layers.2.weight"][6, :] = False
    mask["layers.1.weight"][20, :] = False
    mask["layers.1.weight"][20, 6] = True
    dead = sparse.dead_units(mask)
    assert dead["hidden 1"] == 11 and dead["hidden 2"] == 2
    x = torch.randn(8, 40, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(sparse.compact(weights, mask)(x), network_output(net, weights, mask, x), atol=1e-5)


def test_an_unpruned_network_loses_nothing():
    net = models.build("lenet_300_100", (1, 40), seeds=[4])
    mask = masks.Mask.ones_like(net)
    assert sparse.dead_units(mask) == {"input": 0, "hidden 1": 0, "hidden 2": 0}
    assert sparse.compact(net.get_copy(0), mask).sizes() == [40, 300, 100, 10]


def test_csr_and_dense_forward_passes_agree():
    _, weights, mask = ticket(seed=3)
    x = torch.randn(32, 40, generator=torch.Generator().manual_seed(4))
    dense = sparse.forward_dense(sparse.masked_layers(weights, mask), x)
    assert torch.allclose(sparse.forward_csr(sparse.csr_layers(weights, mask), x), dense, atol=1e-5)


def test_storage_counts_the_bytes_of_each_format():
    _, weights, mask = ticket(seed=5)
    sizes = sparse.storage(weights, mask)
    numel = sum(m.numel() for m in mask.values())
    kept = mask.kept()
    assert sizes["dense float32"]["raw"] == 4 * numel
    assert sizes["COO (int64)"]["raw"] == kept * (8 + 8 + 4)
    # CSR of each [fan_in, fan_out] matrix: a row pointer per row (+1), a column index and a value per kept weight
    assert sizes["CSR (int32)"]["raw"] == 8 * kept + 4 * (sum(m.shape[0] for m in mask.values()) + len(mask))
    assert sizes["CSR (int64)"]["raw"] == 12 * kept + 8 * (sum(m.shape[0] for m in mask.values()) + len(mask))
    assert sizes["bitmask + values"]["raw"] == sum(math.ceil(m.numel() / 8) for m in mask.values()) + 4 * kept
    for fmt in sizes.values():
        assert 0 < fmt["zlib"] <= fmt["raw"] + 64
    assert sizes["dense float32"]["zlib"] < sizes["dense float32"]["raw"] / 3  # mostly zeros compress well


def test_latency_is_a_median_and_bad_input_is_refused():
    calls = []
    t = sparse.latency(lambda: calls.append(1), repeats=5, warmup=2)
    assert len(calls) == 7 and t >= 0
    with pytest.raises(LTError, match="repeats"):
        sparse.latency(lambda: None, repeats=0)
    conv = models.build("conv2", (1, 40))
    with pytest.raises(LTError, match="fully connected"):
        sparse.compact(conv.get_copy(0), masks.Mask.ones_like(conv))


def test_timings_interleave_and_pair_the_methods():
    order = []
    fns = {name: (lambda name=name: order.append(name)) for name in ("a", "b", "c")}
    out = sparse.timings(fns, blocks=3, calls=2, warmup=1)
    assert sorted(out) == ["a", "b", "c"] and all(len(v) == 3 for v in out.values())
    assert order[:6] == ["a", "a", "b", "b", "c", "c"]  # warm-up (and one timed call) each
    timed = order[6:]  # two calls a function a block: block 0 runs a, b, c; block 1 b, c, a; block 2 c, a, b
    assert timed[::2] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    with pytest.raises(LTError, match="blocks"):
        sparse.timings(fns, blocks=1)
