"""Grids of IMP runs on Ray: ``python -m lt_helpers sweep``.

A sweep is the product models × datasets × presets × seeds × conditions; each cell is one
:class:`~lt_helpers.experiment.Experiment`, checked before Ray starts, and one independent
task, an :func:`lt_helpers.iterative.run` writing to its own folder
``OUT/<model>-<dataset>-<preset>-seed<seed>-<condition>``. Ray runs the tasks (one GPU
each when the cluster has GPUs, else one CPU each) and retries a failed task, which then
resumes from its folder instead of starting over. The per-round means of every task are
gathered into one table, ``OUT/sweep.csv``.

Ray is optional: ``pip install lt_helpers[ray]`` (or ``pip install ray``). With
``--address`` the tasks go to an existing cluster; then ``OUT`` must be a folder every
node can reach (a shared file system).
"""

from __future__ import annotations

import itertools
from pathlib import Path

from ..errors import LTError
from ..experiment import Experiment

CONDITIONS = ("ticket", "random_reinit", "oneshot")  # tickets alone, or tickets and that control


def grid(models, datasets, presets, seeds, conditions, **overrides) -> list[Experiment]:
    """Every combination as a checked :class:`~lt_helpers.experiment.Experiment` (``overrides``:
    ``rounds``, ``trials``, ``hyper``, as :meth:`Experiment.of` takes them), each once
    (``--seeds 0 0`` would otherwise send two tasks to one folder). A bad value raises here,
    before Ray starts: one line, not a remote traceback retried on every worker."""
    for name in conditions:
        if name not in CONDITIONS:
            raise LTError(f"unknown condition {name!r}; choose from {', '.join(CONDITIONS)}")
    experiments = {}
    for m, d, p, s, c in itertools.product(models, datasets, presets, seeds, conditions):
        exp = Experiment.of(m, d, p, seed=int(s), controls=() if c == "ticket" else (c,), **overrides)
        experiments.setdefault(exp.name(), exp)
    return list(experiments.values())


def task_name(experiment: Experiment) -> str:
    """The folder name of a task: model-dataset-preset-seed-condition."""
    return experiment.name()


def run_task(experiment: Experiment, out: str, options: dict) -> list[dict]:
    """One IMP run (resuming from its folder), summarized per round and condition; bad input
    comes back as ``[{"error": ...}]`` instead of an exception, so Ray does not retry it.
    ``options``: how to run it (e.g. ``data_root``), as :func:`lt_helpers.iterative.run` takes them."""
    import torch

    from ..iterative import run

    try:  # inside Ray: use exactly the CPUs the task was given (outside it, asking would start Ray)
        import ray

        if ray.is_initialized():
            cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
            torch.set_num_threads(max(1, int(cpus)))
    except Exception:
        pass
    try:
        res = run(experiment, out=Path(out) / task_name(experiment), progress=False, **options)
    except LTError as err:  # the package's own errors fail the same way every time: reported, never retried
        return [{"error": f"{task_name(experiment)}: {err}"}]
    table = res.means(("percent_remaining", "early_stop_iteration", "early_stop_test_acc", "final_test_acc")
                      ).reset_index()
    spec = dict(model=experiment.model, dataset=experiment.dataset, preset=experiment.preset, seed=experiment.seed)
    return [{**spec, **row} for row in table.to_dict("records")]


def sweep(experiments: list[Experiment], out, *, address: str | None = None, num_cpus: int | None = None,
          retries: int = 2, **options):
    """Run ``experiments`` on Ray and return one pandas table of per-round means."""
    try:
        import ray
    except ImportError as err:
        raise LTError("the sweep runs on Ray, which is not installed: pip install 'lt_helpers[ray]' "
                      "(or pip install ray)") from err
    import pandas as pd

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
             ignore_reinit_error=True, log_to_driver=False)
    try:
        gpus = ray.cluster_resources().get("GPU", 0) > 0
        task = ray.remote(num_gpus=1 if gpus else 0, num_cpus=1, max_retries=retries,
                          retry_exceptions=True)(run_task)
        rows = ray.get([task.remote(e, str(out.resolve()), options) for e in experiments])
    finally:
        ray.shutdown()
    errors = [r["error"] for task_rows in rows for r in task_rows if "error" in r]
    table = pd.DataFrame([r for task_rows in rows for r in task_rows if "error" not in r])
    table.to_csv(out / "sweep.csv", index=False)  # the finished tasks' rows, whatever the others did
    if errors:
        raise LTError(f"{len(errors)} task(s) failed, e.g. {errors[0]}; the others' rows are in {out / 'sweep.csv'}")
    return table


def main(args) -> int:
    """``python -m lt_helpers sweep``: check the whole grid, run it, write sweep.csv; return the exit status."""
    overrides = {k: v for k, v in (("rounds", args.rounds), ("trials", args.trials)) if v is not None}
    if args.iterations is not None:
        overrides["hyper"] = {"iterations": args.iterations}
    experiments = grid(args.models, args.datasets, args.presets, args.seeds, args.conditions, **overrides)
    table = sweep(experiments, args.out, address=args.address, num_cpus=args.num_cpus)
    summary = table.groupby(["model", "dataset", "preset", "condition", "round"])[
        ["percent_remaining", "early_stop_iteration", "early_stop_test_acc"]].mean().round(3)
    print(summary.to_string())
    print(f"\n{len(experiments)} tasks; per-task results under {args.out}/, the table in {args.out}/sweep.csv")
    return 0
