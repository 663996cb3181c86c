"""Writing files so that a crash never leaves half of one behind."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path, write) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``:
    a reader sees the old file or the whole new one, never a partial write (a rename
    within one folder is atomic)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
