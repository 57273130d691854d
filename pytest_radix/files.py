"""Atomic file writes: a temp file beside the target (0600 while written), then a rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(
    path: Path,
    text: str,
    *,
    private: bool = False,
    check: Callable[[Path], None] | None = None,
) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half.

    The temp file is readable by the owner only while it is written; ``check`` may inspect it
    and raise to keep the old file (the temp file is removed). ``private`` files stay 0600,
    others end up 0644.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if check is not None:
            check(temp)
        os.chmod(temp, 0o600 if private else 0o644)
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
