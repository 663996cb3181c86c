"""Command line: ``python -m lt_helpers imp ...`` runs an IMP experiment headless.

Example::

    python -m lt_helpers imp --model lenet_300_100 --dataset mnist1d --preset quick \\
        --rounds 8 --trials 3 --controls random_reinit --out runs/lenet

writes ``runs/lenet/results.json`` after every finished round (and a round in progress to
``runs/lenet/partial/`` every few minutes); running the same command again goes on where it
stopped. ``python -m lt_helpers models`` lists the models; ``pack`` and ``unpack`` carry a run's
finished rounds to another machine in one small file (:mod:`lt_helpers.carry`).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields

from .. import data, models, presets
from ..errors import LTError, check_choice
from ..experiment import Experiment
from ..hparams import Hyper
from ..train import MAX_COPIES


# how each kind of Hyper field is read from the command line (every field is an option)
_HYPER_TYPES = {"int": dict(type=int), "float": dict(type=float), "str": dict(type=str),
                "list[int]": dict(type=int, nargs="*", metavar="ITERATION"),
                "bool": dict(action=argparse.BooleanOptionalAction)}


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


class _Rates(argparse.Action):
    """``--rates fc=0.2 output=0.1`` as {'fc': 0.2, 'output': 0.1}."""

    def __call__(self, parser, namespace, values, option_string=None):
        try:
            rates = {kind: float(fraction) for kind, fraction in (v.split("=", 1) for v in values)}
        except ValueError:
            parser.error(f"argument --rates: expected KIND=FRACTION pairs such as fc=0.2, got {' '.join(values)}")
        setattr(namespace, self.dest, rates)


class _Parser(argparse.ArgumentParser):
    """argparse, whose errors are one line (what was wrong, where to look) and exit status 2."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m lt_helpers", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    exp = sub.add_parser("imp", help="run iterative magnitude pruning and write results.json")
    for f in fields(Experiment):  # the experiment's fields, each an option with its own help
        if "cli" in f.metadata:
            default = None if f.metadata["from_preset"] else (list(f.default) if isinstance(f.default, tuple)
                                                               else f.default)
            exp.add_argument(_option(f.name), default=default, help=f.metadata["help"], **f.metadata["cli"])
    rates = next(f for f in fields(Experiment) if f.name == "rates")
    exp.add_argument("--rates", action=_Rates, default=None, metavar="KIND=FRACTION", nargs="+",
                     help=f"{rates.metadata['help']}, e.g. fc=0.2 output=0.1")
    hyper = exp.add_argument_group("training hyperparameters (default: the preset's)")
    for f in fields(Hyper):
        hyper.add_argument(_option(f.name), default=None, help=f.metadata["help"], **_HYPER_TYPES[f.type])
    exp.add_argument("--out", required=True, help="folder for results.json (a rerun resumes from it)")
    exp.add_argument("--data-root", default=None, help="folder with datasets in torchvision's layout")
    exp.add_argument("--device", default=os.environ.get("LT_DEVICE") or "auto",
                     help="auto (a GPU if any), cpu, cuda or mps (default: $LT_DEVICE, else auto)")
    exp.add_argument("--max-copies", type=int, default=MAX_COPIES, metavar="N",
                     help=f"the most networks of a round trained at once (default {MAX_COPIES}); more train in "
                          "chunks of N, in turn, each kept when it finishes, so a stop, or a run packed to go on "
                          "elsewhere, loses at most the chunk in progress. It decides how networks are batched "
                          "(recorded in provenance); with N equal to --groups, each core trains one network at a time")
    exp.add_argument("--one-at-a-time", action="store_true",
                     help="train networks one after another instead of batched (slower; for checks)")
    sub.add_parser("models", help="list the models and their prunable weights")
    pk = sub.add_parser("pack", help="pack a run's finished rounds into one small file, to go on elsewhere")
    pk.add_argument("out", help="the run's folder (the --out of its imp command)")
    pk.add_argument("file", help="the file to write (.npz)")
    un = sub.add_parser("unpack", help="rebuild a packed run as a folder that its imp command resumes from")
    un.add_argument("file", help="the packed run (.npz)")
    un.add_argument("out", help="a new folder: then rerun the imp command with this --out")
    res = sub.add_parser("results", help="execute every chapter headless with papermill (make results)")
    res.add_argument("--preset", default="quick", help=f"one of: {', '.join(presets.PRESETS)}")
    res.add_argument("--dataset", default="auto", help=f"one of: {', '.join(data.DATASETS)}, or auto")
    res.add_argument("--trials", type=int, default=None, help="override each chapter's trials")
    res.add_argument("--device", default=None, help="auto, cpu or cuda")
    res.add_argument("--out", default="out", help="folder for executed notebooks, logs, results and summary")
    res.add_argument("chapters", nargs="*", help="notebooks to run (default: every numbered chapter)")
    sw = sub.add_parser("sweep", help="run a grid of IMP experiments as tasks on Ray (pip install lt_helpers[ray])")
    sw.add_argument("--models", nargs="+", default=["lenet_300_100"], help=f"from: {', '.join(models.MODELS)}")
    sw.add_argument("--datasets", nargs="+", default=["mnist1d"], help=f"from: {', '.join(data.DATASETS)}")
    sw.add_argument("--presets", nargs="+", default=["quick"], help=f"from: {', '.join(presets.PRESETS)}")
    sw.add_argument("--seeds", nargs="+", type=int, default=[0], help="one task per seed")
    sw.add_argument("--conditions", nargs="+", default=["random_reinit"],
                    help="ticket (tickets only), random_reinit or oneshot (tickets plus that control)")
    sw.add_argument("--rounds", type=int, default=None, help="override the presets' rounds")
    sw.add_argument("--trials", type=int, default=None, help="override the presets' trials")
    sw.add_argument("--iterations", type=int, default=None, help="override the presets' iterations")
    sw.add_argument("--out", required=True, help="folder for every task's results and sweep.csv")
    sw.add_argument("--address", default=None, help="an existing Ray cluster (e.g. ray://host:10001); "
                                                    "default: start Ray on this machine")
    sw.add_argument("--num-cpus", type=int, default=None, help="CPUs for a local Ray (default: all)")
    return p


def given_options(args) -> dict:
    """The keywords of :meth:`Experiment.of` that the parsed ``imp`` command line gives."""
    given = {f.name: getattr(args, f.name) for f in fields(Experiment) if "cli" in f.metadata}
    given["controls"] = [c for c in given["controls"] if c != "none"]
    given["hyper"] = {f.name: getattr(args, f.name) for f in fields(Hyper) if getattr(args, f.name) is not None}
    given["rates"] = args.rates
    return given


def experiment_of(argv: list[str]) -> Experiment:
    """The experiment an ``imp`` command line describes (``argv`` after ``python -m lt_helpers``,
    its dataset named): how the full-run registry's commands are read back."""
    return Experiment.of(**given_options(_parser().parse_args(argv)))


def main(argv=None) -> int:
    """Parse ``argv`` (default: the process's arguments), run the command; return the exit
    status: 0, or 2 with one line on stderr for bad input, or 130 when interrupted."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "models":
            for name in models.MODELS:
                for shape in ((1, 40), (1, 28, 28), (3, 32, 32)):
                    net = models.build(name, shape)
                    counts = models.count_weights(net)
                    print(f"{name:16s} input {str(shape):12s} {sum(counts.values()):>10,d} prunable weights  "
                          + "  ".join(f"{k}={v:,d}" for k, v in counts.items()))
            return 0
        if args.command in ("pack", "unpack"):
            from .. import carry

            done = carry.pack(args.out, args.file) if args.command == "pack" else carry.unpack(args.file, args.out)
            print(f"wrote {done}")
            left = carry.left_behind(args.out, done) if args.command == "pack" else None  # what the file holds
            if left:
                print(f"note: {left}", file=sys.stderr)
            return 0
        if args.command == "sweep":
            from .sweep import main as run_sweep

            return run_sweep(args)
        if args.command == "results":
            from .headless import main as run_results

            check_choice("preset", args.preset, presets.PRESETS)
            check_choice("dataset", args.dataset, (*data.DATASETS, "auto"))
            return run_results(args)
        from ..device import resolve_device
        from ..iterative import run

        given = given_options(args)
        # every value checked before any data is loaded; 'auto' names its dataset only once resolved
        experiment = Experiment.of(**given) if args.dataset != "auto" else None
        device = resolve_device(args.device)
        dataset = data.resolve(args.dataset, args.model, data_root=args.data_root, device=device,
                               say=lambda line: print(line, file=sys.stderr))
        if experiment is None or experiment.dataset != dataset:
            experiment = Experiment.of(**{**given, "dataset": dataset})
        cores = os.cpu_count() or 1
        if device.type == "cpu" and experiment.groups > cores:
            print(f"note: {experiment.groups} groups on {cores} CPU cores take turns: the same records, more slowly "
                  f"(the groups are part of the experiment; --groups {cores} fills this machine)", file=sys.stderr)
        res = run(experiment, out=args.out, device=args.device, data_root=args.data_root,
                  batched=not args.one_at_a_time, max_copies=args.max_copies)
        table = res.means().rename(columns={"percent_remaining": "percent", "early_stop_iteration": "early_stop",
                                            "early_stop_test_acc": "test_acc"}).round(3)
        print(table.to_string())
        print(f"wrote {args.out}/results.json")
        return 0
    except LTError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished rounds are saved and a round in progress goes on from its last save "
              "(a few minutes back): rerun the same command to resume", file=sys.stderr)
        return 130
