"""The pilot that chose chapter 5's long VGG-19 runs: dense VGG-19 / ResNet-20 on MNIST-1D at the
paper's learning-rate settings, trained long, to see where validation loss reaches its minimum
(2 trials each). ``python results/pilots/deep_networks.py 6000`` writes
results/pilots/deep-networks-6000.json."""
import json
import os
import platform
import sys
import time

import torch

from lt_helpers import iterative
its = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
configs = {
    "vgg19-lr0.01": ("vgg19", dict(lr=0.01, lr_drops=[its // 2, its * 3 // 4])),
    "vgg19-warmup": ("vgg19", dict(lr=0.1, warmup=round(its * 10000 / 112480), lr_drops=[its // 2, its * 3 // 4])),
    "resnet20-lr0.01": ("resnet20", dict(lr=0.01, lr_drops=[its * 2 // 3, its * 5 // 6])),
    "resnet20-warmup": ("resnet20", dict(lr=0.03, warmup=its * 2 // 3, lr_drops=[its * 2 // 3, its * 5 // 6])),
}
out = {}
for name, (model, hp) in configs.items():
    t = time.time()
    r = iterative.run_imp(model, "mnist1d", "quick", rounds=1, trials=2, controls=[],
                    hyper=dict(iterations=its, eval_every=100, **hp))
    out[name] = dict(hyper=hp, wall_s=round(time.time() - t, 1), runs=[
        dict(trial=x["trial"], early_stop=x["early_stop_iteration"], at_end=x["early_stop_at_end"],
             test=x["early_stop_test_acc"], final=x["final_test_acc"],
             val_loss=x["curve"]["val_loss"][::5], val_acc=x["curve"]["val_acc"][::5]) for x in r.runs])
    print(name, out[name]["wall_s"], [(x["early_stop"], x["test"]) for x in out[name]["runs"]], flush=True)
    json.dump({"what": "dense VGG-19 and ResNet-20 on MNIST-1D (the quick preset's 1-D widths, batch 64), 2 trials "
                       "per setting, lr steps at the paper's fractions of training",
               "command": f"python results/pilots/deep_networks.py {its}", "date": time.strftime("%Y-%m-%d"),
               "machine": f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                          f"torch {torch.__version__}", "settings": out},
              open(f"results/pilots/deep-networks-{its}.json", "w"), indent=1)
