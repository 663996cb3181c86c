"""Run every chapter headless with papermill: ``make results`` / ``python -m lt_helpers results``.

Each chapter runs with the given ``preset`` and ``dataset`` (and ``out_dir`` where the
chapter takes one, so it writes its ``results.json`` there), producing under ``out``::

    out/01_pruning/01_pruning.ipynb   the executed notebook (kept when it fails)
    out/01_pruning/log.txt            everything the chapter printed
    out/03_iterative_pruning/results.json
    out/summary.json                  per chapter: ok or the error, and minutes taken

A failing chapter stops nothing else; the command exits non-zero and names it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

CHAPTERS = Path(__file__).resolve().parents[2] / "chapters"


def run_chapters(out, preset: str = "quick", dataset: str = "auto", *, trials: int | None = None,
                 device: str | None = None, chapters=None, timeout: int | None = None) -> dict:
    """Execute ``chapters`` (default: every numbered notebook) and return the summary."""
    import papermill as pm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    notebooks = [Path(c) for c in chapters] if chapters else sorted(CHAPTERS.glob("[0-9]*.ipynb"))
    summary = {}
    for nb in notebooks:
        folder = out / nb.stem
        folder.mkdir(exist_ok=True)
        wanted = dict(preset=preset, dataset=dataset, trials=trials, device=device, out_dir=str(folder.resolve()))
        accepted = pm.inspect_notebook(str(nb))
        params = {k: v for k, v in wanted.items() if v is not None and k in accepted}
        start = time.time()
        print(f"{nb.stem}: running with {params} ...", flush=True)
        with open(folder / "log.txt", "w") as log:
            try:
                pm.execute_notebook(str(nb), str(folder / nb.name), parameters=params, cwd=str(nb.parent),
                                    log_output=True, stdout_file=log, stderr_file=log, progress_bar=False,
                                    execution_timeout=timeout)
                status = "ok"
            except Exception as err:  # papermill raises PapermillExecutionError with the cell's error
                status = f"failed: {type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}"
        summary[nb.stem] = {"status": status, "minutes": round((time.time() - start) / 60, 2),
                            "parameters": params}
        print(f"{nb.stem}: {status} ({summary[nb.stem]['minutes']} min)", flush=True)
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def main(args) -> int:
    """``python -m lt_helpers results``: run the chapters, print where things are; return the exit status."""
    summary = run_chapters(args.out, args.preset, args.dataset, trials=args.trials, device=args.device,
                           chapters=args.chapters or None)
    failed = [name for name, s in summary.items() if s["status"] != "ok"]
    print(f"\n{len(summary) - len(failed)} of {len(summary)} chapters ran; executed notebooks, logs and "
          f"results are in {args.out}")
    if failed:
        print(f"failed: {', '.join(failed)} (see {args.out}/<chapter>/log.txt and the executed notebook)")
        return 1
    return 0
