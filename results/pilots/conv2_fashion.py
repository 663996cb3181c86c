"""The pilot for #41's Conv-2 full run on Fashion-MNIST: how long do the sparsest random
reinitializations need to reach their minimum validation loss? Two dense Conv-2 networks at the
paper's width and two randomly pruned ones with the per-layer densities of the quick schedule's
sparsest level (7 rounds at twice the paper's rates: conv 0.8^7, fc 0.6^7, output 0.8^7; fresh
initializations: the random-reinitialization control there), Adam 2e-4, batch 60, validation
every 100 iterations. ``python results/pilots/conv2_fashion.py 3000`` writes
results/pilots/conv2-fashion-3000.json."""
import json
import os
import platform
import sys
import time

import torch

from lt_helpers import data, masks, models, presets, train

its = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
fashion = data.load("fashion_mnist", download=False)
quick = presets.get("conv2", "fashion_mnist", "quick")
net = models.build("conv2", fashion.input_shape)
sparsest = {kind: 1 - (1 - p) ** (quick.rounds - 1) for kind, p in quick.rates.items()}
dense = masks.Mask.ones_like(net)
ms = [dense, dense] + [masks.random_prune(dense, masks.layer_rates(net, sparsest), seed=100 + k) for k in range(2)]
inits = [models.build("conv2", fashion.input_shape, seeds=[k]).get_copy(0) for k in range(4)]
hp = presets.get("conv2", "fashion_mnist", "paper").hp
hp.iterations, hp.eval_every = its, 100
t = time.time()
runs = train.train("conv2", fashion, inits, ms, hp, seeds=[0, 1, 2, 3], progress=False)
out = [dict(network=("dense" if k < 2 else f"random, {ms[k].percent_remaining():.1f}% of weights"),
            early_stop=r.early_stop_iteration, at_end=r.early_stop_iteration == its, test=r.early_stop_test_acc,
            final=r.final_test_acc, val_loss=r.curve["val_loss"][::5], val_acc=r.curve["val_acc"][::5])
       for k, r in enumerate(runs)]
json.dump({"what": "Conv-2 at the paper's widths on Fashion-MNIST: 2 dense networks and 2 randomly pruned ones at the "
                   "quick schedule's sparsest level, fresh initializations",
           "command": f"python results/pilots/conv2_fashion.py {its}", "date": time.strftime("%Y-%m-%d"),
           "machine": f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
           "hyper": {"iterations": its, "lr": hp.lr, "batch_size": hp.batch_size, "eval_every": hp.eval_every,
                     "test_every": hp.test_every},
           "wall_s": round(time.time() - t, 1), "networks": out},
          open(f"results/pilots/conv2-fashion-{its}.json", "w"), indent=1)
print([(x["network"], x["early_stop"], x["test"]) for x in out])
