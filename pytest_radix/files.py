"""Atomic file writes: a temp file beside the target (0600 while written), then a rename."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["atomic_write", "os_reason", "process_alive", "remove_stale_temps"]


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
    others end up 0644. The temp file's name carries the writer's process id: temp files
    that dead writers left beside ``path`` are removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
    prefix = f".{path.name}.{os.getpid()}."
    temp: Path | None = None
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
        temp = Path(name)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if check is not None:
            check(temp)
        os.chmod(temp, 0o600 if private else 0o644)
        os.replace(temp, path)
    finally:
        if temp is not None:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
    remove_stale_temps(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))


def remove_stale_temps(temps: Iterable[Path]) -> None:
    """Remove the temp files among ``temps`` whose writer no longer runs (killed mid-write);
    files not named like :func:`atomic_write`'s temp files are left alone."""
    for temp in temps:
        parts = temp.name.removesuffix(".tmp").rsplit(".", 2)  # .<name>.<pid>.<random>.tmp
        if len(parts) == 3 and parts[1].isdigit() and not process_alive(int(parts[1])):
            with contextlib.suppress(OSError):
                temp.unlink()


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (assumed on systems where it cannot be probed harmlessly)."""
    if not hasattr(os, "getuid"):  # Windows: os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def os_reason(error: OSError) -> str:
    """What an ``OSError`` says, briefly: ``[Errno 27] File too large``."""
    if error.errno is not None and error.strerror:
        return f"[Errno {error.errno}] {error.strerror}"
    return str(error) or type(error).__name__
