"""pytest-xdist glue: the run's hand-over directory for workers, and counts sent back.

The controller makes a private (0700) temp directory and passes its path (not a secret) to
each worker in ``workerinput``; workers share the token through a 0600 file there (see
:mod:`pytest_radix.sharing`). Each worker reports its counts in ``workeroutput``; the
controller adds them up for the end summary and removes the directory at the end — also when
the run is ended by SIGTERM, which ends it like Ctrl-C. A controller killed outright (SIGKILL)
cannot: the directory's name carries its process id, and the next controller removes the
directories of processes that no longer exist.
A worker also keeps its counts in a file there after each test, for the controller to count a
worker that was killed (pytest-timeout's ``thread`` method ends the process without a word).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_radix.files import process_alive
from pytest_radix.run import RadixRun

__all__ = [
    "COUNTS_KEY",
    "HANDOVER_KEY",
    "USAGE_KEY",
    "ControllerHooks",
    "WorkerCounts",
    "handover_dir",
]

HANDOVER_KEY = "radix_handover"
"""The ``workerinput`` key holding the hand-over directory."""

COUNTS_KEY = "radix_counts"
"""The ``workeroutput`` key holding a worker's counts."""

USAGE_KEY = "radix_usage"
"""The ``workeroutput`` key holding what a worker did with the cassettes (JSON)."""


def handover_dir(config: pytest.Config) -> Path | None:
    """On an xdist worker, the run's hand-over directory; ``None`` elsewhere."""
    workerinput = getattr(config, "workerinput", None)
    path = workerinput.get(HANDOVER_KEY) if isinstance(workerinput, dict) else None
    return Path(path) if path else None


class ControllerHooks:
    """Registered on the xdist controller: hands the directory out, collects the counts."""

    def __init__(self, run: RadixRun) -> None:
        self.run = run
        remove_orphans()
        self.directory = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
        self._restore_sigterm = _sigterm_interrupts()

    def pytest_configure_node(self, node: Any) -> None:
        """Tell a local worker where the hand-over directory is (a worker on another host,
        through ssh or a socket, cannot see it, and authenticates by itself)."""
        spec = getattr(getattr(node, "gateway", None), "spec", None)
        if spec is None or getattr(spec, "popen", False):
            node.workerinput[HANDOVER_KEY] = str(self.directory)

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """Add a finished worker's counts and cassette usage to the run's."""
        output = getattr(node, "workeroutput", {})
        for name, value in (output.get(COUNTS_KEY) or {}).items():
            self.run.worker_counts[name] = self.run.worker_counts.get(name, 0) + int(value)
        self.run.usage.merge(output.get(USAGE_KEY) or {})

    def pytest_sessionfinish(self) -> None:
        """Add the counts of workers that died before reporting them (their files remain)."""
        for path in self.directory.glob(_COUNTS_FILES):
            with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
                for name, value in json.loads(path.read_text(encoding="utf-8")).items():
                    self.run.worker_counts[name] = self.run.worker_counts.get(name, 0) + int(value)

    def remove(self) -> None:
        """Remove the hand-over directory and everything in it."""
        shutil.rmtree(self.directory, ignore_errors=True)
        self._restore_sigterm()


_PREFIX = "pytest-radix-"


def remove_orphans() -> None:
    """Remove the hand-over directories of controllers that died without cleaning up (POSIX:
    elsewhere a process cannot be probed without harm)."""
    if not hasattr(os, "getuid"):
        return
    for directory in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-*"):
        pid = directory.name.removeprefix(_PREFIX).split("-", 1)[0]
        with contextlib.suppress(OSError):
            mine = directory.stat().st_uid == os.getuid()
            if mine and pid.isdigit() and not process_alive(int(pid)):
                shutil.rmtree(directory, ignore_errors=True)


def _sigterm_interrupts() -> Callable[[], None]:
    """Make SIGTERM end the run as Ctrl-C does (so the hand-over directory is removed), unless
    something else handles it already; returns the function that undoes it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        return lambda: None

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, interrupt)

    def restore() -> None:
        if signal.getsignal(signal.SIGTERM) is interrupt:
            signal.signal(signal.SIGTERM, previous)

    return restore


_COUNTS_FILES = "counts-*.json"


class WorkerCounts:
    """Registered on an xdist worker: its counts, in the hand-over directory after each test
    (when they changed), until ``workeroutput`` carries them at the end."""

    def __init__(self, run: RadixRun, directory: Path) -> None:
        self.run = run
        self.path = directory / _COUNTS_FILES.replace("*", str(os.getpid()))
        self.written: dict[str, int] = {}
        run.flush = self.pytest_runtest_logfinish  # an /auth is on file before it is sent

    def pytest_runtest_logfinish(self) -> None:
        """Keep the counts up to date in the file."""
        counts = self.run.local_counts()
        if counts != self.written:
            self.path.write_text(json.dumps(counts), encoding="utf-8")
            self.written = counts

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        """The worker ends normally: ``workeroutput`` has the counts, the file goes."""
        self.path.unlink(missing_ok=True)
