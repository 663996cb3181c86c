"""Run a few jobs at once, one CPU thread each, and never leave a worker behind.

``run_jobs(jobs, report)`` calls every job (a function of a progress callback) at the
same time and returns their results in order. The training loop uses it to train groups
of batched networks side by side on a CPU (see :func:`lt_helpers.train.train`).

On Linux each job runs in a forked process, so Python's GIL serializes nothing (faster than
threads: ``results/speed-notes.md``).
Elsewhere (fork is unsafe on macOS and absent on Windows), or with ``LT_PROCESSES=0``,
the jobs run in threads.

A forked worker cannot outlive the process that started it, however that process ends:

* **Killed** (SIGKILL, an out-of-memory kill, a Jupyter kernel restart) or stopped by
  SIGTERM: each worker asked Linux, right after the fork, to SIGKILL it when its parent
  dies (``PR_SET_PDEATHSIG`` through ``prctl``). We chose this over a thread in the worker
  that polls its parent's pid: the kernel delivers the signal at once, even while the
  worker sits inside a long matrix product that never returns to Python, and costs
  nothing while the parent lives. (Linux sends it when the *thread* that forked the
  worker exits; that thread is the one waiting here for the workers, so it outlives them.)
* **Interrupted** (Ctrl-C, a Jupyter interrupt) or failing (an exception in one worker,
  a worker that dies): the parent kills every other worker before the error reaches
  the caller. Workers ignore SIGINT themselves, so one Ctrl-C gives one clean
  ``KeyboardInterrupt`` in the parent instead of a traceback from every worker.
* Each side closes the pipe ends it does not use, so a worker that writes to a parent
  that is gone gets an error instead of blocking forever on a pipe it holds itself.
"""

from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import threading

import torch

from ..errors import LTError

__all__ = ["run_jobs", "uses_processes", "die_with_parent"]

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def uses_processes() -> bool:
    """True where :func:`run_jobs` forks (Linux, unless ``LT_PROCESSES=0``)."""
    return sys.platform == "linux" and os.environ.get("LT_PROCESSES") != "0"


def run_jobs(jobs: list, report=None) -> list:
    """Run ``jobs`` at once, one CPU thread each, and return their results in order.

    Each job is called with a progress callback: the first job gets ``report`` (which may
    be None), the others None. A job's exception is raised here, after every other job
    has been stopped.
    """
    return (_in_processes if uses_processes() else _in_threads)(jobs, report)


def _in_threads(jobs: list, report) -> list:
    results, errors, before = [None] * len(jobs), [], torch.get_num_threads()

    def work(g):
        try:
            torch.set_num_threads(1)
            results[g] = jobs[g](report if g == 0 else None)
        except BaseException as err:  # re-raised in the caller's thread
            errors.append(err)

    threads = [threading.Thread(target=work, args=(g,), daemon=True) for g in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    torch.set_num_threads(before)
    if errors:
        raise errors[0]
    return results


def _in_processes(jobs: list, report) -> list:
    importlib.import_module("torch._dynamo")  # torch.optim imports it on first use (1.4 s): once, not per child
    ctx = multiprocessing.get_context("fork")
    workers, results = [], [None] * len(jobs)
    try:
        for g, job in enumerate(jobs):
            receive, send = ctx.Pipe(duplex=False)
            # The worker inherits every receiving end open here (its own and its elder
            # siblings'); it closes them all first thing.
            unused = [r for _, r in workers] + [receive]
            worker = ctx.Process(target=_worker, args=(job, send, g == 0, os.getpid(), unused), daemon=True)
            worker.start()
            send.close()
            workers.append((worker, receive))
        waiting = {receive: g for g, (_, receive) in enumerate(workers)}
        while waiting:
            for conn in multiprocessing.connection.wait(list(waiting)):
                try:
                    kind, value = pickle.loads(conn.recv_bytes())
                except EOFError:
                    worker = workers[waiting[conn]][0]
                    worker.join()
                    raise LTError(f"a training process died (exit code {worker.exitcode}), likely out of memory; "
                                  "train fewer networks at once (batched=False) or set LT_PROCESSES=0") from None
                if kind == "progress":
                    if report is not None:
                        report(value)
                elif kind == "error":
                    raise value
                else:
                    results[waiting.pop(conn)] = value
        return results
    finally:
        for worker, receive in workers:
            if worker.is_alive():
                worker.kill()  # nothing in a worker needs cleaning up: its results go nowhere now
            worker.join()
            receive.close()


def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when ``parent`` dies; exit now if it already has."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died between the fork and the prctl
        os._exit(1)


def _worker(job, send, reports: bool, parent: int, unused: list) -> None:
    """A forked worker: run ``job``, send back its result (or its exception)."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    for conn in unused:
        conn.close()
    torch.set_num_threads(1)
    say = lambda *message: send.send_bytes(pickle.dumps(message))
    try:
        say("done", job((lambda it: say("progress", it)) if reports else None))
    except BaseException as err:
        try:
            pickle.loads(pickle.dumps(err))
        except Exception:  # an exception that does not survive pickling: send its text
            err = LTError(f"training failed in a child process: {err!r}")
        say("error", err)
    send.close()
