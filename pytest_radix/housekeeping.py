"""The end of a run with cassettes: stale ones, unused ones (pruned on request) and drift."""

from __future__ import annotations

import pytest

from pytest_radix.run import RadixRun
from pytest_radix.usage import stale_summary

__all__ = ["Housekeeping"]


class Housekeeping:
    """Hooks that report (and, asked to, act on) what the run learnt about its cassettes."""

    def __init__(self, run: RadixRun) -> None:
        self.run = run

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The stale, unused and drift lines of the end summary."""
        run = self.run
        if run.usage.stale and run.config.max_age:
            terminalreporter.write_line(stale_summary(run.usage.stale, run.config.max_age))
