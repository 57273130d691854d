"""Helpers shared by the tests that run a user's suite through ``pytester``."""

from __future__ import annotations

from pathlib import Path

import pytest

INNER_ARGS = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")
"""Plugins the inner runs do without: hypothesis alone would re-import itself on every run."""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the inner suite in process, as a user's ``pytest`` would (the plugin loads itself)."""
    return pytester.runpytest(*INNER_ARGS, *args)


def output(result: pytest.RunResult) -> str:
    """Everything the inner run printed, stdout then stderr."""
    return "\n".join(result.outlines + result.errlines)


def cassette_dir(pytester: pytest.Pytester) -> Path:
    """The inner suite's default cassette directory."""
    return pytester.path / "tests" / "cassettes"
