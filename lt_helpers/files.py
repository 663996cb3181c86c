"""Writing files so that a crash never leaves half of one behind."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from .errors import LTError


_UMASK = os.umask(0)  # read once, at import (the only way to read it sets it): a temporary
os.umask(_UMASK)      # file gets the permissions a plain open() would have given it


def stale_temporaries(folder) -> list[Path]:
    """Temporary files that :func:`atomic_write` left in ``folder`` when its process was killed
    mid-write (each writer's own name, so they do not overwrite one another)."""
    return sorted(Path(folder).glob(".*.tmp"))


def atomic_write(path, write) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``:
    a reader sees the old file or the whole new one, never a partial write (a rename
    within one folder is atomic). The temporary name is unique to this writer, so two
    processes never write into one temporary file, and it is removed if writing fails; a
    full disk is one clear error, and the file that was there stays as it was."""
    path = Path(path)
    tmp = None
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        os.chmod(tmp, 0o666 & ~_UMASK)  # what a plain open() would have given the file
        write(tmp)
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        full = isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(err)
        if full or isinstance(err, RuntimeError) and _nearly_full(path):  # torch.save: "file write failed"
            raise LTError(f"no space left on the device writing {path}: free space and rerun; finished rounds "
                          "are kept") from err
        raise


def _nearly_full(path: Path) -> bool:
    """Whether the disk holding ``path`` has under 16 MiB free: torch.save reports a full disk as
    a failed write without saying why, so a failure there is read as a full disk."""
    try:
        return shutil.disk_usage(path.parent).free < 16 * 2**20
    except OSError:
        return False
