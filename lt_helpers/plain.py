"""LeNet's masked training in plain PyTorch: the reference the fast loop is held to.

:func:`lt_helpers.train.train` trains many networks at once through the fast layer
(:mod:`lt_helpers.fast`). :func:`train_masked` trains one, the way a textbook writes it:
``torch.nn`` layers, ``torch.nn.utils.prune`` for the mask, ``torch.optim.Adam``, a shuffled
order of examples per epoch. Chapter 1 shows it, and a test holds its learning curve equal
to the fast loop's for the same θ0, mask and data order, within float rounding (the two compute
the same sums in a different order: a batched product against ``nn.Linear``'s, a fused Adam against
torch's default one).

What makes the two the same run:

* **the mask**: ``prune.custom_from_mask`` makes each weight ``weight_orig * weight_mask``, so a
  pruned weight is zero in every forward pass and gets no gradient (with weight decay, torch's
  Adam still moves ``weight_orig`` there, but the product stays zero);
* **the data order**: one ``torch.randperm`` per epoch from a generator seeded as the fast loop's
  (:class:`~lt_helpers.batches.Batches` draws the same), the last partial batch dropped. (A
  ``DataLoader`` with a seeded ``RandomSampler`` shuffles alike but draws a second, unused
  permutation each epoch, so its second epoch would differ.)
* **early stopping**: the iteration of lowest validation loss (the earliest, on ties), and the
  test accuracy there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from .errors import LTError

__all__ = ["train_masked", "masked_lenet", "lenet", "batches"]


def lenet(input_size: int, num_classes: int = 10, hidden=(300, 100)) -> nn.Sequential:
    """LeNet-300-100 as ``nn.Sequential``: flatten, then 300-100-10 fully connected with ReLU."""
    sizes = [input_size, *hidden, num_classes]
    layers = [nn.Flatten()]
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])  # no ReLU after the output layer


def masked_lenet(theta0: dict, mask: dict, num_classes: int = 10) -> nn.Sequential:
    """LeNet-300-100 with the weights ``theta0`` and the mask ``mask`` (both in the package's
    layout, as :func:`~lt_helpers.iterative.initial_weights` and :mod:`~lt_helpers.masks` give
    them), pruned through ``torch.nn.utils.prune``: each weight is ``weight_orig * weight_mask``."""
    net = lenet(theta0["layers.0.weight"].shape[0], num_classes)
    for i, layer in enumerate(m for m in net if isinstance(m, nn.Linear)):
        with torch.no_grad():  # the package stores a weight as [fan_in, fan_out]: transpose
            layer.weight.copy_(theta0[f"layers.{i}.weight"].T)
            layer.bias.copy_(theta0[f"layers.{i}.bias"].flatten())
        prune.custom_from_mask(layer, "weight", mask[f"layers.{i}.weight"].T.float())
    return net


def train_masked(data, theta0: dict, mask: dict, hp, seed: int) -> dict:
    """Train LeNet-300-100 from ``theta0`` under ``mask`` on ``data`` for ``hp.iterations``
    steps of Adam, seeing batches in the order ``seed`` gives; evaluate every
    ``hp.eval_every``. Returns what a record holds (the curve, the early stop and its test
    accuracy) and the final weights, in the package's layout."""
    _check(hp)
    net = masked_lenet(theta0, mask, data.num_classes).to(data.device)
    opt = torch.optim.Adam(net.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
    order = batches(len(data.y_train), hp.batch_size, seed)
    curve = {"iteration": [], "val_loss": [], "val_acc": [], "test_acc": []}
    for it in range(hp.iterations + 1):
        if it % hp.eval_every == 0 or it == hp.iterations:
            _evaluate(net, data, it, curve)
        if it == hp.iterations:
            break
        idx = next(order)
        loss = F.cross_entropy(net(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()

    stop = min(range(len(curve["iteration"])), key=lambda e: (curve["val_loss"][e], e))  # earliest
    linears = [m for m in net if isinstance(m, nn.Linear)]
    weights = {name: t for i, layer in enumerate(linears) for name, t in (
        (f"layers.{i}.weight", layer.weight.detach().T.cpu()),  # weight_orig * weight_mask
        (f"layers.{i}.bias", layer.bias.detach()[None].cpu()))}
    return dict(weights=weights, curve=curve, early_stop_iteration=curve["iteration"][stop],
                early_stop_test_acc=curve["test_acc"][stop], final_test_acc=curve["test_acc"][-1])


def batches(n: int, batch_size: int, seed: int):
    """Endless batches of example indices: a fresh shuffled order each epoch, drawn from a
    generator seeded with ``seed``; the last partial batch of an epoch is dropped."""
    gen = torch.Generator().manual_seed(int(seed))
    while True:
        order = torch.randperm(n, generator=gen)
        yield from order[: n // batch_size * batch_size].view(-1, batch_size)


@torch.no_grad()
def _evaluate(net: nn.Module, data, it: int, curve: dict) -> None:
    """Append the validation loss and accuracy and the test accuracy at iteration ``it``."""
    net.eval()
    val = net(data.x_val)
    curve["iteration"].append(it)
    curve["val_loss"].append(F.cross_entropy(val, data.y_val).item())
    curve["val_acc"].append((val.argmax(1) == data.y_val).float().mean().item())
    curve["test_acc"].append((net(data.x_test).argmax(1) == data.y_test).float().mean().item())
    net.train()


def _check(hp) -> None:
    """The reference trains the paper's LeNet setting only: refuse what it leaves out."""
    hp.check()
    left_out = {"optimizer": hp.optimizer != "adam", "warmup": hp.warmup, "lr_drops": hp.lr_drops,
                "dropout": hp.dropout, "augment": hp.augment,
                "precision": hp.precision not in ("auto", "fp32")}
    named = [name for name, used in left_out.items() if used]
    if named:
        raise LTError("the plain reference trains LeNet with Adam at a constant learning rate "
                      f"in fp32; it leaves out {', '.join(named)}: "
                      "use lt_helpers.train.train for those")
