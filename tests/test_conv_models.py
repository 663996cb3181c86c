"""Conv-2/4/6, VGG-19 and ResNet-20: the paper's weight counts, 1-D and 2-D shapes, and
batched copies that behave exactly like networks on their own."""

import pytest
import torch

from lt_helpers import models
from lt_helpers.fast import layers
from lt_helpers.errors import LTError

# The paper's architecture table (2-D, CIFAR-10): all prunable weights and the conv part.
PAPER = {"conv2": (4.3e6, 38e3), "conv4": (2.4e6, 260e3), "vgg19": (20.0e6, 20.0e6), "resnet20": (274e3, 270e3)}


def _conv_weights(net):
    counts = models.count_weights(net)
    return sum(n for name, n in counts.items() if net.prunable[name] in ("conv", "downsample"))


@pytest.mark.parametrize("name", list(PAPER))
def test_weight_counts_match_the_paper(name):
    net = models.build(name, (3, 32, 32))
    total, conv = PAPER[name]
    assert sum(models.count_weights(net).values()) == pytest.approx(total, rel=0.02)
    assert _conv_weights(net) == pytest.approx(conv, rel=0.02)


def test_conv6_builds_the_described_layers():
    """The paper prints 1.7M for Conv-6, which its own layer list does not give: same-padded
    3x3 convolutions and a 4x4x256 flatten give about 2.26M; the conv part is the 1.1M."""
    net = models.build("conv6", (3, 32, 32))
    counts = models.count_weights(net)
    assert round(_conv_weights(net) / 1e6, 1) == 1.1
    assert counts["fcs.0.weight"] == 4 * 4 * 256 * 256
    assert sum(counts.values()) == pytest.approx(2.26e6, rel=0.01)


def test_resnet_structure():
    net = models.build("resnet20", (3, 32, 32))
    kinds = list(net.prunable.values())
    assert kinds.count("conv") == 19 and kinds.count("downsample") == 2 and kinds.count("output") == 1
    counts = models.count_weights(net)
    assert sum(counts[n] for n, k in net.prunable.items() if k == "downsample") == 2560
    assert counts["output_layer.weight"] == 640


@pytest.mark.parametrize("name", ["conv2", "conv4", "conv6", "vgg19", "resnet20"])
@pytest.mark.parametrize("shape", [(1, 40), (3, 32, 32)])
def test_shapes_in_1d_and_2d(name, shape):
    net = models.build(name, shape, copies=2, seeds=[0, 1])
    assert net(torch.randn(2, 4, *shape)).shape == (2, 4, 10)
    conv = next(m for m in net.modules() if isinstance(m, layers.Conv))
    assert conv.weight.dim() == 3 + len(shape) - 1  # copies, out, in, kernel (1 or 2 dims)


def test_1d_versions_are_narrower_and_2d_keep_the_papers_widths():
    """MNIST-1D's networks take WIDTH_1D of the paper's channels and units; images keep the
    paper's; ``width=1.0`` asks for the paper's widths on 1-D signals too."""
    def widths(net):
        return [m.weight.shape[1] for m in net.modules() if isinstance(m, layers.Conv)] + \
               [m.weight.shape[2] for m in net.modules() if isinstance(m, layers.Linear)]

    assert widths(models.build("conv4", (3, 32, 32))) == [64, 64, 128, 128, 256, 256, 10]
    assert widths(models.build("conv4", (1, 40))) == [16, 16, 32, 32, 64, 64, 10]
    assert widths(models.build("conv4", (1, 40), width=1.0)) == widths(models.build("conv4", (3, 32, 32)))
    assert max(widths(models.build("vgg19", (1, 40)))) == 64  # 512 / 8
    resnet = models.build("resnet20", (1, 40))
    assert widths(resnet)[0] == 8 and resnet.output_layer.weight.shape[1] == 32  # 16 / 2 and 64 / 2
    for name, factor in models.WIDTH_1D.items():  # every 1-D network has fewer weights than at full width
        narrow, full = (sum(models.count_weights(models.build(name, (1, 40), **w)).values())
                        for w in ({}, {"width": 1.0}))
        assert narrow < full * factor, name
    assert models.scaled(3, 0.1) == 1  # never zero channels


@pytest.mark.parametrize("name", ["conv2", "resnet20", "vgg19"])
def test_copies_match_networks_on_their_own(name):
    shape = (1, 40)
    together = models.build(name, shape, copies=3, seeds=[3, 4, 5])
    x = torch.randn(3, 8, *shape)
    out = together(x)  # training mode: batch norm uses each copy's own batch statistics
    for k, seed in enumerate([3, 4, 5]):
        alone = models.build(name, shape, seeds=[seed])
        assert torch.allclose(out[k], alone(x[k:k + 1])[0], atol=1e-4), (name, k)
    for k in range(3):  # running statistics, too, are per copy
        alone = models.build(name, shape, seeds=[3 + k])
        alone(x[k:k + 1])
        for key, value in alone.get_copy(0).items():
            assert torch.allclose(together.get_copy(k)[key], value, atol=1e-5), key


def test_side_by_side_puts_images_channels_last_and_keeps_1d_as_is():
    x = torch.randn(3, 4, 2, 5, 6)  # copies, batch, channels, height, width
    h = layers.side_by_side(x)
    assert h.shape == (4, 6, 5, 6) and h.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(h, x.transpose(0, 1).flatten(1, 2))  # copy k's channels at k*C ... (k+1)*C - 1
    x1 = torch.randn(3, 4, 2, 7)
    assert torch.equal(layers.side_by_side(x1), x1.transpose(0, 1).flatten(1, 2))
    grey = torch.randn(3, 4, 1, 5, 6)  # one channel per copy: channels-last too
    assert layers.side_by_side(grey).is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(layers.side_by_side(grey), grey.transpose(0, 1).flatten(1, 2))


@pytest.mark.parametrize("name,channels", [("conv2", 3), ("vgg19", 3), ("resnet20", 3), ("conv2", 1), ("resnet20", 1)])
def test_channels_last_changes_the_layout_not_the_results(name, channels):
    """Every 2-D convolution sees channels-last activations, and the outputs equal those of
    the default layout. Gradients are compared on Conv-2: in VGG-19 and ResNet-20 at
    initialization, batch norm over a few examples makes some gradients so ill-conditioned
    that float32 in *either* layout differs from float64 by up to 30% (measured), so
    comparing the two layouts there would test rounding, not layout. Grey images (one channel per
    copy, Fashion-MNIST's) too: there the stacking could leave them in the default layout."""
    net = models.build(name, (channels, 32, 32), copies=2, seeds=[0, 1])
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(2, 8, channels, 32, 32, generator=gen), torch.randint(0, 10, (2, 8), generator=gen)
    layouts = []
    for m in net.modules():
        if isinstance(m, layers.Conv):
            m.register_forward_pre_hook(
                lambda _, args: layouts.append(args[0].is_contiguous(memory_format=torch.channels_last)))

    def run():
        net.zero_grad()
        out = net(x)
        torch.nn.functional.cross_entropy(out.flatten(0, 1), y.flatten()).backward()
        return out.detach(), [p.grad.clone() for p in net.parameters()]

    out, grads = run()
    assert layouts and all(layouts)
    assert not models.build(name, (3, 32, 32), channels_last=False).channels_last
    net.channels_last = False  # what build(..., channels_last=False) sets
    layouts.clear()
    out_default, grads_default = run()
    assert not any(layouts)
    assert torch.allclose(out, out_default, atol=1e-4)
    if name == "conv2":
        for g, g0 in zip(grads, grads_default):
            assert torch.allclose(g, g0, atol=1e-5 * g0.abs().max())


def test_per_copy_and_global_average_read_channels_last_activations():
    h = torch.randn(4, 6, 5, 5, generator=torch.Generator().manual_seed(0))  # batch, copies * C, H, W
    h_last = h.contiguous(memory_format=torch.channels_last)
    assert torch.equal(layers.per_copy(h_last, 3), layers.per_copy(h, 3))
    assert torch.allclose(layers.global_average(h_last), h.flatten(2).mean(2), atol=1e-6)


def test_dropout_is_an_option():
    net = models.build("conv2", (1, 40), dropout=0.5)
    x = torch.randn(1, 16, 1, 40)
    net.train()
    assert not torch.equal(net(x), net(x))  # dropout active in training
    net.eval()
    assert torch.equal(net(x), net(x))


@pytest.mark.parametrize("name, scope", [("conv2", "layer"), ("resnet20", "global")])
def test_imp_runs_the_conv_models(mnist1d, name, scope):
    from lt_helpers import iterative, presets

    assert presets.get(name, "cifar10", "paper").scope == scope
    res = iterative.run_imp(name, "mnist1d", "smoke", rounds=2, trials=1, data=mnist1d, hyper={"iterations": 10})
    density = [r for r in res.runs if r["round"] == 1][0]["layer_density"]
    net = models.build(name, (1, 40))
    kinds = net.prunable
    if scope == "layer":  # conv 10%, fc 20%, output 10% of each layer
        assert density["convs.0.weight"] == pytest.approx(0.9, abs=0.01)
        assert density["fcs.0.weight"] == pytest.approx(0.8, abs=1e-3)
    else:  # one threshold over all 3x3 convolutions; downsample and output untouched
        assert all(density[n] == 1.0 for n, k in kinds.items() if k in ("downsample", "output"))
        conv = [n for n, k in kinds.items() if k == "conv"]
        sizes = models.count_weights(net)
        kept = sum(density[n] * sizes[n] for n in conv) / sum(sizes[n] for n in conv)
        assert kept == pytest.approx(0.8, abs=1e-3)
        assert len({round(density[n], 3) for n in conv}) > 1  # layers keep different shares


def test_paper_presets_follow_the_paper():
    from lt_helpers import presets

    assert presets.get("conv2", "cifar10", "paper").hp.lr == 2e-4
    assert presets.get("conv6", "cifar10", "paper").rates["conv"] == 0.15
    resnet = presets.get("resnet20", "cifar10", "paper").hp
    assert (resnet.optimizer, resnet.lr, resnet.batch_size, resnet.iterations, resnet.lr_drops) == \
        ("sgd", 0.1, 128, 30000, [20000, 25000])
    assert presets.get("vgg19", "cifar10", "paper").hp.iterations == 112480


def test_scope_and_rates_can_be_overridden(mnist1d):
    """Chapter 5 compares layer-wise and global pruning of the same network at the same rates."""
    from lt_helpers import iterative

    runs = {scope: iterative.run_imp("resnet20", "mnist1d", "smoke", rounds=2, trials=1, controls=(), data=mnist1d,
                               hyper={"iterations": 10}, scope=scope, rates={"conv": 0.5, "downsample": 0, "output": 0})
            for scope in ("layer", "global")}
    density = {s: r.runs[-1]["layer_density"] for s, r in runs.items()}
    conv = [n for n, k in models.build("resnet20", (1, 40)).prunable.items() if k == "conv"]
    assert all(density["layer"][n] == pytest.approx(0.5, abs=0.011) for n in conv)  # every layer halved
    assert len({round(density["global"][n], 2) for n in conv}) > 1  # one threshold: layers differ
    pct = {s: r.runs[-1]["percent_remaining"] for s, r in runs.items()}
    assert pct["layer"] == pytest.approx(pct["global"], abs=0.1)  # the same overall sparsity
    assert runs["layer"].config["scope"] == "layer" and runs["layer"].config["rates"]["conv"] == 0.5
    with pytest.raises(LTError, match="unknown pruning scope 'local'; choose one of layer, global"):
        iterative.run_imp("resnet20", "mnist1d", "smoke", data=mnist1d, scope="local")
    with pytest.raises(LTError, match="pruning fraction for 'conv' is 1.5"):
        iterative.run_imp("resnet20", "mnist1d", "smoke", data=mnist1d, rates={"conv": 1.5, "downsample": 0, "output": 0})


@pytest.mark.parametrize("name", ["conv2", "conv4", "conv6", "resnet20", "vgg19"])
@pytest.mark.parametrize("dataset", ["mnist1d", "cifar10"])
def test_quick_presets_prune_twice_the_paper_rate_and_keep_lr_steps_inside_training(name, dataset):
    from lt_helpers import presets

    paper, quick = presets.get(name, dataset, "paper"), presets.get(name, dataset, "quick")
    assert quick.rates == {kind: 2 * p for kind, p in paper.rates.items()}
    for preset in presets.PRESETS:
        hp = presets.get(name, dataset, preset).hp
        assert all(0 < d < hp.iterations for d in hp.lr_drops), (preset, hp.lr_drops, hp.iterations)
    if paper.hp.lr_drops:  # the steps keep their relative places
        q = quick.hp
        assert [d / q.iterations for d in q.lr_drops] == pytest.approx(
            [d / paper.hp.iterations for d in paper.hp.lr_drops], abs=0.01)
