"""Grids of IMP runs on Ray: ``python -m lt_helpers sweep``.

A sweep is the product models × datasets × presets × seeds × conditions; each cell is one
independent task, an :func:`lt_helpers.imp.run_imp` run writing to its own folder
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

from .errors import LTError


def grid(models, datasets, presets, seeds, conditions) -> list[dict]:
    """Every combination, as task specifications, each once (``--seeds 0 0`` would otherwise send
    two tasks to one folder)."""
    combos = dict.fromkeys((m, d, p, int(s), c)
                           for m, d, p, s, c in itertools.product(models, datasets, presets, seeds, conditions))
    return [dict(model=m, dataset=d, preset=p, seed=s, condition=c) for m, d, p, s, c in combos]


def check(specs: list[dict], options: dict) -> None:
    """Every task's settings checked as :func:`lt_helpers.imp.run_imp` checks them, before Ray
    starts: a bad value is one line here, not a remote traceback retried on every worker."""
    from .imp import _checked

    for spec in specs:
        _checked(spec["model"], spec["dataset"], spec["preset"], options.get("rounds"), options.get("trials"),
                 _controls_of(spec["condition"]), options.get("hyper"), 0, None, None, 32, 2)


def task_name(spec: dict) -> str:
    """The folder name of a task: model-dataset-preset-seed-condition."""
    return f"{spec['model']}-{spec['dataset']}-{spec['preset']}-seed{spec['seed']}-{spec['condition']}"


def _controls_of(condition: str) -> tuple:
    return () if condition == "ticket" else (condition,)


def run_task(spec: dict, out: str, options: dict) -> list[dict]:
    """One IMP run (resuming from its folder), summarized per round and condition; bad input
    comes back as ``[{"error": ...}]`` instead of an exception, so Ray does not retry it."""
    import torch

    from .imp import run_imp

    try:  # inside Ray: use exactly the CPUs the task was given (outside it, asking would start Ray)
        import ray

        if ray.is_initialized():
            cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
            torch.set_num_threads(max(1, int(cpus)))
    except Exception:
        pass
    try:
        res = run_imp(spec["model"], spec["dataset"], spec["preset"], seed=spec["seed"],
                      controls=_controls_of(spec["condition"]), out=Path(out) / task_name(spec), progress=False,
                      **options)
    except LTError as err:  # the package's own errors fail the same way every time: reported, never retried
        return [{"error": f"{task_name(spec)}: {err}"}]
    table = res.means(("percent_remaining", "early_stop_iteration", "early_stop_test_acc", "final_test_acc")
                      ).reset_index()
    return [{**spec, **row, "condition": row["condition"]} for row in table.to_dict("records")]


def sweep(specs: list[dict], out, *, address: str | None = None, num_cpus: int | None = None,
          retries: int = 2, **options):
    """Run ``specs`` on Ray and return one pandas table of per-round means."""
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
        rows = ray.get([task.remote(s, str(out.resolve()), options) for s in specs])
    finally:
        ray.shutdown()
    errors = [r["error"] for task_rows in rows for r in task_rows if "error" in r]
    table = pd.DataFrame([r for task_rows in rows for r in task_rows if "error" not in r])
    table.to_csv(out / "sweep.csv", index=False)  # the finished tasks' rows, whatever the others did
    if errors:
        raise LTError(f"{len(errors)} task(s) failed, e.g. {errors[0]}; the others' rows are in {out / 'sweep.csv'}")
    return table


def main(args) -> int:
    """``python -m lt_helpers sweep``: check the names, run the grid, write sweep.csv; return the exit status."""
    from . import presets

    for model, dataset, preset in itertools.product(args.models, args.datasets, args.presets):
        presets.get(model, dataset, preset)  # unknown names fail here, before Ray starts
    for name in args.conditions:
        if name not in ("ticket", "random_reinit", "oneshot"):
            raise LTError(f"unknown condition {name!r}; choose from ticket, random_reinit, oneshot")
    options = {k: v for k, v in (("rounds", args.rounds), ("trials", args.trials)) if v is not None}
    if args.iterations is not None:
        options["hyper"] = {"iterations": args.iterations}
    specs = grid(args.models, args.datasets, args.presets, args.seeds, args.conditions)
    check(specs, options)
    table = sweep(specs, args.out, address=args.address, num_cpus=args.num_cpus, **options)
    summary = table.groupby(["model", "dataset", "preset", "condition", "round"])[
        ["percent_remaining", "early_stop_iteration", "early_stop_test_acc"]].mean().round(3)
    print(summary.to_string())
    print(f"\n{len(specs)} tasks; per-task results under {args.out}/, the table in {args.out}/sweep.csv")
    return 0
