"""pytest-xdist glue: the run's hand-over directory for workers, and counts sent back.

The controller makes a private (0700) temp directory and passes its path (not a secret) to
each worker in ``workerinput``; workers share the token through a 0600 file there (see
:mod:`pytest_radix.sharing`). Each worker reports its counts in ``workeroutput``; the
controller adds them up for the end summary and removes the directory at the end.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pytest_radix.run import RadixRun

__all__ = ["HANDOVER_KEY", "COUNTS_KEY", "ControllerHooks", "handover_dir"]

HANDOVER_KEY = "radix_handover"
"""The ``workerinput`` key holding the hand-over directory."""

COUNTS_KEY = "radix_counts"
"""The ``workeroutput`` key holding a worker's counts."""


def handover_dir(config: pytest.Config) -> Path | None:
    """On an xdist worker, the run's hand-over directory; ``None`` elsewhere."""
    workerinput = getattr(config, "workerinput", None)
    path = workerinput.get(HANDOVER_KEY) if isinstance(workerinput, dict) else None
    return Path(path) if path else None


class ControllerHooks:
    """Registered on the xdist controller: hands the directory out, collects the counts."""

    def __init__(self, run: RadixRun) -> None:
        self.run = run
        self.directory = Path(tempfile.mkdtemp(prefix="pytest-radix-"))

    def pytest_configure_node(self, node: Any) -> None:
        """Tell a local worker where the hand-over directory is (a worker on another host,
        through ssh or a socket, cannot see it, and authenticates by itself)."""
        spec = getattr(getattr(node, "gateway", None), "spec", None)
        if spec is None or getattr(spec, "popen", False):
            node.workerinput[HANDOVER_KEY] = str(self.directory)

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """Add a finished worker's counts to the run's."""
        counts = getattr(node, "workeroutput", {}).get(COUNTS_KEY) or {}
        for name, value in counts.items():
            self.run.worker_counts[name] = self.run.worker_counts.get(name, 0) + int(value)

    def remove(self) -> None:
        """Remove the hand-over directory and everything in it."""
        shutil.rmtree(self.directory, ignore_errors=True)
