"""The loop ``make bench`` compares the book's training with, written the way common
implementations are: a torchvision-style ``Dataset`` that converts every example on access
(through PIL for images), a ``DataLoader``, ``nn.Linear``/``nn.Conv2d`` layers, Adam, and the
masks re-applied to the weights after every step. (:mod:`lt_helpers.plain` is the book's own
plain loop, which indexes its batches from tensors; the benchmark times both.)"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from ..data import MEAN_STD


class PerExampleDataset(torch.utils.data.Dataset):
    """What common implementations do: keep raw arrays, convert each example on access
    (images: uint8 ``[H, W]`` grey or ``[H, W, 3]`` colour, through PIL and torchvision)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, images: bool):
        from torchvision import transforms

        self.x, self.y, self.images = x, y, images
        stats = MEAN_STD["mnist" if x.ndim == 3 else "cifar10"]
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(*stats)])

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        if self.images:
            from PIL import Image

            return self.transform(Image.fromarray(self.x[i])), int(self.y[i])
        return torch.tensor(self.x[i], dtype=torch.float32), int(self.y[i])


def reference_net(model: str, x: np.ndarray) -> nn.Sequential:
    """The reference loop's network, in plain ``torch.nn``: LeNet-300-100 or Conv-2."""
    if model == "conv2":  # colour images [N, H, W, 3]
        side = x.shape[1]
        return nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * (side // 2) ** 2, 256), nn.ReLU(),
                             nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(x.shape[1:])), 300), nn.ReLU(), nn.Linear(300, 100),
                         nn.ReLU(), nn.Linear(100, 10))


def reference_step_ms(x: np.ndarray, y: np.ndarray, images: bool, steps: int, device,
                      model: str = "lenet_300_100") -> float:
    """ms per training step of the reference loop (DataLoader + torch.nn + re-masking)."""
    loader = torch.utils.data.DataLoader(PerExampleDataset(x, y, images), batch_size=60, shuffle=True,
                                         drop_last=True)
    net = reference_net(model, x).to(device)
    layer_masks = [(m.weight, (torch.rand_like(m.weight) > 0.5).float()) for m in net
                   if isinstance(m, (nn.Linear, nn.Conv2d))]
    opt = torch.optim.Adam(net.parameters(), lr=1.2e-3)
    done, start = -min(10, steps), None  # warm-up steps
    while done < steps:
        for xb, yb in loader:
            if done == 0:
                sync(device)
                start = time.perf_counter()
            xb, yb = xb.to(device), yb.to(device)
            loss = nn.functional.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for w, m in layer_masks:
                    w.mul_(m)
            done += 1
            if done == steps:
                break
    sync(device)
    return 1e3 * (time.perf_counter() - start) / steps


def sync(device) -> None:
    """Wait for a GPU to finish what it was given (a no-op on a CPU): before reading a clock."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
