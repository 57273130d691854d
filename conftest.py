"""What the project's own tests share: pytester, a fake Radix server, a clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator

# The heavy modules are imported once here, so that pytester's in-process runs reuse them
# instead of importing requests, urllib3, PyJWT and vcrpy afresh for every inner run.
import jwt  # noqa: F401
import pytest
import requests  # noqa: F401
import vcr.cassette  # noqa: F401

import pytest_radix.cassettes  # noqa: F401
import pytest_radix.session  # noqa: F401
from pytest_radix.testing import FakeRadixServer

pytest_plugins = ["pytester"]

NASTY_SECRET = 'sk_"quo\\te/slash-ünïcødé-9c1f0e77b2d4a6e8'
"""An API key with every character that escaping tends to get wrong."""


@pytest.fixture(autouse=True)
def _clean_radix_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No RADIX_* variable of the developer's shell reaches a test."""
    for name in list(os.environ):
        if name.startswith("RADIX_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs' summary lines are not cut to the terminal width."""
    monkeypatch.setenv("COLUMNS", "400")


@pytest.fixture
def fake_radix() -> Iterator[FakeRadixServer]:
    """A fake Radix API on 127.0.0.1 issuing real HS256 JWTs; stopped after the test."""
    with FakeRadixServer(client_secret=NASTY_SECRET) as server:
        yield server


@pytest.fixture
def radix_env(fake_radix: FakeRadixServer, monkeypatch: pytest.MonkeyPatch) -> FakeRadixServer:
    """Environment variables pointing pytest-radix at ``fake_radix`` with its credentials."""
    monkeypatch.setenv("RADIX_CLIENT_ID", fake_radix.client_id)
    monkeypatch.setenv("RADIX_CLIENT_SECRET", fake_radix.client_secret)
    monkeypatch.setenv("RADIX_BASE_URL", fake_radix.url)
    return fake_radix
