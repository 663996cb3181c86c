"""Which device a run uses (:func:`resolve_device`), and where a run ran: what every
``results.json`` records about the machine and the code.

:func:`provenance` gives the lt_helpers, torch and Python versions, the git commit of the
code when it is a checkout (:func:`git_commit`), the device's name, the CPU threads and, on a
CPU, a :func:`kernel_probe`: machines with the same name can round differently, and only
runs whose probes agree can be expected to match bit for bit.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import torch

from . import __version__
from .errors import LTError


def provenance(device) -> dict:
    """Versions, code and hardware of a run (its wall time is added as it goes)."""
    device = torch.device(device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        name = f"Apple MPS ({platform.machine()})"
    else:
        name = f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    info = dict(lt_helpers=__version__, torch=torch.__version__, python=platform.python_version(),
                git_commit=git_commit(), device_name=name, cpu_threads=torch.get_num_threads())
    if device.type == "cpu":  # which kernels computed the records (both decide their last digits)
        info.update(kernel_probe=kernel_probe(), cpu_capability=torch.backends.cpu.get_cpu_capability())
    return info


def kernel_probe() -> str:
    """What this machine's CPU kernels compute, as a short hash: the products a batched
    LeNet step runs (forward and both backward products, at a few batch sizes) on fixed
    inputs, single-threaded. Two machines can share a device name ("x86_64, 2 cores") and
    still round differently (another generation of the same CPU family picks other
    kernels); records are reproducible bit for bit only where this probe is the same, and so is
    the instruction set PyTorch's own element-wise and reduction kernels use
    (``torch.backends.cpu.get_cpu_capability()``, which :func:`provenance` records beside it:
    an AVX-512 machine and an AVX2 one can share the probe and still differ in a softmax's last
    digit)."""
    import hashlib

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        gen, digest = torch.Generator().manual_seed(0), hashlib.sha256()
        for copies, fan_in, fan_out in ((1, 784, 300), (3, 784, 300), (8, 40, 300), (5, 300, 100), (8, 100, 10)):
            x = torch.randn(copies, 60, fan_in, generator=gen)
            w = torch.randn(copies, fan_in, fan_out, generator=gen) / fan_in ** 0.5
            b = torch.randn(copies, 1, fan_out, generator=gen)
            y = torch.baddbmm(b, x, w)
            for out in (y, torch.bmm(y, w.transpose(1, 2)), torch.bmm(x.transpose(1, 2), y)):
                digest.update(out.contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]
    finally:
        torch.set_num_threads(before)


def git_commit() -> str | None:
    """The commit of the lt_helpers source when it is a git checkout (None when installed
    from a wheel, or without git); '+' marks uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                timeout=10)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=here, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return commit.stdout.strip() + ("+" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """'auto' (or None): CUDA when available, else Apple's MPS, else the CPU. The
    environment is not read here: ``LT_DEVICE`` is read at the edges (``book.setup``, the
    command line), so an explicit ``device`` always wins."""
    device = device or "auto"
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise LTError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda'") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise LTError("device 'cuda' was asked for but no GPU is available; use device='auto' or 'cpu'")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise LTError(f"device {device!r} was asked for but this machine has {torch.cuda.device_count()} GPU(s), "
                      f"cuda:0 to cuda:{torch.cuda.device_count() - 1}; use one of those, or 'cuda'")
    if dev.type == "mps" and not _mps_available():
        raise LTError("device 'mps' was asked for but Apple's MPS is not available; use device='auto' or 'cpu'")
    return dev


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def _cpu_has(feature: str) -> bool:
    """Whether this CPU computes ``feature`` natively, as torch reports it (False when it cannot say)."""
    probe = getattr(torch.cpu, f"_is_{feature}_supported", None)
    return bool(probe and probe())


def check_precision(precision: str, device) -> None:
    """Refuse, with what to use instead, a precision ``device`` cannot honour: arithmetic that it
    would only emulate, slowly and in another rounding than the hardware's. bf16 on a CPU needs
    AVX512-BF16 or AMX; fp16 on a CPU needs AMX-FP16; bf16 on a GPU needs compute capability 8
    (Ampere) or later."""
    dev = torch.device(device)
    if dev.type == "cpu" and precision == "bf16" and not (_cpu_has("avx512_bf16") or _cpu_has("amx_tile")):
        raise LTError("precision 'bf16': this CPU has no bf16 arithmetic (AVX512-BF16 or AMX), so torch would "
                      "emulate it, slowly; use precision 'fp32' or 'auto' (fp32 on a CPU)")
    if dev.type == "cpu" and precision == "fp16" and not _cpu_has("amx_fp16"):
        raise LTError("precision 'fp16': this CPU has no fp16 matrix arithmetic (AMX-FP16), so torch would "
                      "emulate it, slowly; use precision 'fp32' or 'auto' (fp32 on a CPU)")
    if precision == "bf16" and dev.type == "cuda" and not torch.cuda.is_bf16_supported(including_emulation=False):
        raise LTError(f"precision 'bf16': {torch.cuda.get_device_name(dev)} only emulates bf16, slowly; use "
                      "'fp16' (with loss scaling) or 'auto', which picks it")
