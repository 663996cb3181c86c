import pytest
import torch

from lt_helpers import masks, models
from lt_helpers.errors import LTError
from lt_helpers.masks import Mask


@pytest.fixture
def net():
    return models.build("lenet_300_100", (1, 40), seeds=[0])


def test_layerwise_prune_removes_exact_count_of_smallest(net):
    w = net.get_copy(0)
    rates = masks.layer_rates(net, {"fc": 0.2, "output": 0.1})
    m1 = masks.magnitude_prune(w, Mask.ones_like(net), rates)
    assert m1.density() == pytest.approx({"layers.0.weight": 0.8, "layers.1.weight": 0.8, "layers.2.weight": 0.9})
    for name, m in m1.items():
        kept, dropped = w[name].abs()[m], w[name].abs()[~m]
        assert dropped.max() <= kept.min()  # the smallest magnitudes went
    m2 = masks.magnitude_prune(w, m1, rates)  # 20% of the *remaining* weights
    assert int(m2["layers.0.weight"].sum()) == round(12000 * 0.8) - round(12000 * 0.8 * 0.2)
    assert not torch.any(m2["layers.1.weight"] & ~m1["layers.1.weight"])  # pruned stays pruned


def test_global_prune_uses_one_threshold(net):
    w = net.get_copy(0)
    rates = {n: 0.5 for n in net.prunable}
    m = masks.magnitude_prune(w, Mask.ones_like(net), rates, scope="global")
    assert m.kept() == 43000 - round(0.5 * 43000)
    kept = torch.cat([w[n].abs()[m[n]] for n in m])
    dropped = torch.cat([w[n].abs()[~m[n]] for n in m])
    assert dropped.max() <= kept.min()
    # layers with larger weights (smaller fan-in) keep a larger share: global is not layer-wise
    d = m.density()
    assert d["layers.2.weight"] > d["layers.0.weight"]
    with pytest.raises(LTError, match="one rate"):
        masks.magnitude_prune(w, Mask.ones_like(net), {"layers.0.weight": 0.2, "layers.1.weight": 0.3}, scope="global")


def test_pruning_by_random_scores_counts_and_seeds(net):
    rates = masks.layer_rates(net, {"fc": 0.2, "output": 0.1})
    a = masks.prune(masks.random_scores(Mask.ones_like(net), 1), Mask.ones_like(net), rates)
    b = masks.prune(masks.random_scores(Mask.ones_like(net), 1), Mask.ones_like(net), rates)
    c = masks.prune(masks.random_scores(Mask.ones_like(net), 2), Mask.ones_like(net), rates)
    assert a.density() == pytest.approx({"layers.0.weight": 0.8, "layers.1.weight": 0.8, "layers.2.weight": 0.9})
    assert all(torch.equal(a[n], b[n]) for n in a) and not torch.equal(a["layers.0.weight"], c["layers.0.weight"])


@pytest.mark.parametrize("bad", [1.0, -0.1, 1.5])
def test_fraction_outside_unit_interval(net, bad):
    with pytest.raises(LTError, match=r"\[0, 1\)"):
        masks.magnitude_prune(net.get_copy(0), Mask.ones_like(net), {"layers.0.weight": bad})


def test_mask_that_does_not_fit(net):
    good = Mask.ones_like(net)
    missing = Mask({k: v for k, v in good.items() if k != "layers.2.weight"})
    with pytest.raises(LTError, match="missing"):
        missing.check(net)
    wrong_shape = Mask({**good, "layers.0.weight": torch.ones(40, 299, dtype=torch.bool)})
    with pytest.raises(LTError, match="shape"):
        wrong_shape.check(net)
    not_binary = Mask({**good, "layers.1.weight": torch.full((300, 100), 0.5)})
    with pytest.raises(LTError, match="0 and 1"):
        not_binary.check(net)
    as_floats = Mask({k: v.float() for k, v in good.items()}).check(net)
    assert all(v.dtype == torch.bool for v in as_floats.values())


def test_percent_remaining_and_expected_schedule(net):
    from lt_helpers import presets

    w = net.get_copy(0)
    rates = masks.layer_rates(net, presets.LENET_RATES)
    m = Mask.ones_like(net)
    for _ in range(7):
        m = masks.magnitude_prune(w, m, rates)
    sizes = models.count_weights(net)
    assert m.percent_remaining() == pytest.approx(presets.percent_remaining(sizes, rates, 7), abs=0.01)
    lenet = models.build("lenet_300_100", (1, 28, 28))
    paper = presets.percent_remaining(models.count_weights(lenet), masks.layer_rates(lenet, presets.LENET_RATES), 7)
    assert paper == pytest.approx(21.1, abs=0.05)  # the paper's 21.1% after 7 rounds


def test_prune_to_density_matches_per_layer_counts(net):
    w = net.get_copy(0)
    like = masks.prune(masks.random_scores(Mask.ones_like(net), 0), Mask.ones_like(net), {n: 0.7 for n in net.prunable})
    one_shot = masks.prune_to_density(w, like)
    assert {n: int(m.sum()) for n, m in one_shot.items()} == {n: int(m.sum()) for n, m in like.items()}
    assert w["layers.0.weight"].abs()[~one_shot["layers.0.weight"]].max() <= w["layers.0.weight"].abs()[one_shot["layers.0.weight"]].min()
