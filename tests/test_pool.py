"""Workers of lt_helpers.fast.pool never outlive the run that started them: killed, stopped,
interrupted, failing, or restarted in a Jupyter kernel."""

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from lt_helpers.fast import pool

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked processes on Linux only")

ENV = {**os.environ, "LT_PROGRESS": "0"}


def wait_for(condition, timeout=60.0, what="the condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def gone_within(pids, seconds):
    """True when no process in ``pids`` is alive (zombies count as gone) within ``seconds``."""
    def alive():
        out = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    out.append(pid)
            except psutil.NoSuchProcess:
                pass
        return out
    deadline = time.time() + seconds
    while alive() and time.time() < deadline:
        time.sleep(0.05)
    left = alive()
    for pid in left:  # so that one failure does not slow the rest of the suite
        os.kill(pid, signal.SIGKILL)
    return left == []


SCRIPT = """
import os, sys, time
from lt_helpers.fast import pool
{setup}
def job(report):
    open(os.path.join({folder!r}, str(os.getpid())), "w").close()
    time.sleep({sleep})
    return b"x" * 10_000_000  # far more than a pipe holds
pool.run_jobs([job, job])
"""


def default_sigint():
    """In the child before it runs Python: SIGINT back to its default. A suite started in the
    background of a non-interactive shell (``make test &``) inherits SIGINT ignored, and
    Python then never turns Ctrl-C into KeyboardInterrupt: the Ctrl-C tests would test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_script(folder, sleep=120, setup=""):
    """A Python process whose two pool.run_jobs workers write their pids to ``folder``,
    sleep, and then send back 10 MB each."""
    script = SCRIPT.format(setup=setup, folder=str(folder), sleep=sleep)
    return subprocess.Popen([sys.executable, "-c", script], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)


def worker_pids(folder, n=2):
    return wait_for(lambda: [int(p) for p in os.listdir(folder)] if len(os.listdir(folder)) >= n else None,
                    what="the workers to start")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_a_killed_parent(tmp_path, sig):
    proc = start_script(tmp_path)
    pids = worker_pids(tmp_path)
    os.kill(proc.pid, sig)
    proc.wait()
    assert gone_within(pids, 3), f"workers {pids} outlived their parent (killed by {sig.name})"


def test_a_worker_whose_parent_is_gone_cannot_block_on_its_pipe(tmp_path):
    """With the death signal turned off, a worker that sends its result to a dead parent
    gets an error (it holds no reading end of any pipe) instead of blocking forever."""
    proc = start_script(tmp_path, sleep=1.5, setup="pool.die_with_parent = lambda parent: None")
    pids = worker_pids(tmp_path)
    proc.kill()
    proc.wait()
    assert gone_within(pids, 10), "a worker blocked writing to a pipe nobody can read"


def test_ctrl_c_gives_one_keyboard_interrupt_and_stops_the_workers(tmp_path):
    proc = start_script(tmp_path)
    pids = worker_pids(tmp_path)
    for pid in [proc.pid, *pids]:  # what a terminal's Ctrl-C does: every process of the job gets SIGINT
        os.kill(pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and err.count("KeyboardInterrupt") == 1, err
    assert gone_within(pids, 3)


def test_an_error_in_one_worker_stops_the_others(tmp_path):
    def fails(report):
        time.sleep(0.5)
        raise ValueError("mask does not fit")

    def sleeps(report):
        open(tmp_path / str(os.getpid()), "w").close()
        time.sleep(120)

    with pytest.raises(ValueError, match="mask does not fit"):
        pool.run_jobs([sleeps, fails])
    pids = [int(p) for p in os.listdir(tmp_path)]
    assert len(pids) == 1 and gone_within(pids, 1)


KERNEL_CODE = """
import os
os.environ["LT_PROGRESS"] = "0"
from lt_helpers.fast import pool
def job(report):
    open(os.path.join({folder!r}, str(os.getpid())), "w").close()
    import time; time.sleep(120)
pool.run_jobs([job, job])
"""


@pytest.fixture
def kernel():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", env={**ENV})
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def _run_in_kernel(kc, folder):
    kc.execute(KERNEL_CODE.format(folder=str(folder)))
    return worker_pids(folder)


def test_a_kernel_killed_alone_takes_its_workers(tmp_path, kernel):
    """The out-of-memory killer, or a front end that kills the kernel's pid only: the
    workers cannot wait for a restart to clean up their process group."""
    km, kc = kernel
    pids = _run_in_kernel(kc, tmp_path)
    os.kill(km.provisioner.pid, signal.SIGKILL)
    assert gone_within(pids, 3), "workers outlived their kernel"


def test_a_kernel_restart_or_interrupt_mid_run_leaves_nothing(tmp_path, kernel):
    km, kc = kernel
    first = tmp_path / "interrupt"
    first.mkdir()
    pids = _run_in_kernel(kc, first)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=30)
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    assert gone_within(pids, 3)
    second = tmp_path / "restart"
    second.mkdir()
    pids = _run_in_kernel(kc, second)
    km.restart_kernel(now=True)
    assert gone_within(pids, 3)
    kc.wait_for_ready(timeout=60)
    reply = kc.execute_interactive("x = 1 + 1", timeout=30)
    assert reply["content"]["status"] == "ok"  # the restarted kernel works


@pytest.mark.parametrize("moment", ["training", "after a round", "sigterm", "sigint"])
def test_cli_killed_mid_run_leaves_no_process(tmp_path, moment):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "lt_helpers", "imp", "--preset", "smoke", "--rounds", "3",
                             "--trials", "2", "--iterations", "3000", "--controls", "random_reinit", "--device",
                             "cpu", "--out", str(out)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, preexec_fn=default_sigint)
    me = psutil.Process(proc.pid)
    wait_for(lambda: len(me.children()) >= 2, 120, "the CLI's training groups")
    if moment == "after a round":
        wait_for(lambda: (out / "results.json").exists(), 120, "the first round")
        wait_for(lambda: len(me.children()) >= 2, 120, "the second round's groups")
    workers = [p.pid for p in me.children(recursive=True)]
    sig = {"sigterm": signal.SIGTERM, "sigint": signal.SIGINT}.get(moment, signal.SIGKILL)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=30)
    if moment == "sigint":
        assert proc.returncode == 130 and "rerun the same command to resume" in err, err
    assert gone_within(workers, 3)
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if str(out) in " ".join(p.info["cmdline"] or [])]
    assert left == [], f"processes carrying {out} are still alive"
    if moment == "after a round":
        assert json.loads((out / "results.json").read_text())["runs"]  # the finished round is kept
