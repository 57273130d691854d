"""What the project's own tests share: pytester, a fake Radix server, a clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# The heavy modules are imported once here, so that pytester's in-process runs reuse them
# instead of importing requests, urllib3, PyJWT and vcrpy afresh for every inner run.
import jwt  # noqa: F401
import pytest
import requests  # noqa: F401
import vcr.cassette  # noqa: F401

import pytest_radix.cassettes  # noqa: F401
import pytest_radix.masking
import pytest_radix.session  # noqa: F401
from pytest_radix.testing import FakeRadixServer

pytest_plugins = ["pytester"]

NEIGHBOURS = ("asyncio", "randomly", "recording", "repeat", "rerunfailures", "timeout")
"""Plugins of the test extra that a user's suite may carry: off in inner runs, unless a test
asks for them with ``@pytest.mark.neighbours("name", ...)``."""

NASTY_SECRET = 'sk_"quo\\te/slash-ünïcødé-9c1f0e77b2d4a6e8'
"""An API key with every character that escaping tends to get wrong."""


@pytest.fixture(autouse=True)
def _own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no known secret: the tokens of earlier tests' fake servers would
    otherwise pile up in this process (a user's run knows a key and a few tokens; a run of
    this suite without xdist would know thousands, and every scrub and mask would try them all).
    """
    monkeypatch.setattr(pytest_radix.masking, "_registry", pytest_radix.masking._Registry())


@pytest.fixture(autouse=True)
def _clean_radix_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No RADIX_* variable of the developer's shell reaches a test."""
    for name in list(os.environ):
        if name.startswith("RADIX_"):
            monkeypatch.delenv(name)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``neighbours`` marker."""
    config.addinivalue_line(
        "markers", "neighbours(*names): load these plugins of the test extra in inner runs"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a test that ran the fake Radix server (``fake_radix``, which ``radix_env`` points
    pytest-radix at), no YAML file under its directories holds a piece of that server's API
    key or of a live token's signature, once every encoding is undone (YAML, base64,
    compression, charsets, escapes): every cassette the suite writes is searched, whichever
    path its bytes took. (Another origin's own key, which pytest-radix never knew, may stay.)"""
    result = yield
    funcargs = getattr(item, "funcargs", {})
    server = funcargs.get("fake_radix")
    if isinstance(server, FakeRadixServer):
        from helpers import holds_a_piece, secret_pieces

        signatures = [token.rsplit(".", 1)[1] for token in server.issued_tokens]
        pieces = secret_pieces([server.client_secret, *signatures])
        places = [getattr(funcargs.get("pytester"), "path", None), funcargs.get("tmp_path")]
        found = sorted(
            str(path)
            for place in places
            if isinstance(place, Path)
            for path in place.rglob("*.y*ml")
            if holds_a_piece(path, pieces)
        )
        assert not found, f"a secret is in {found}"
    return result


@pytest.fixture(autouse=True)
def _no_neighbours(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs load no neighbour plugin (pytest-randomly would reorder them, pytest-asyncio
    warn about its unset ini key) but those a test names with ``@pytest.mark.neighbours``."""
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester")  # it clears PYTEST_ADDOPTS when made
    marker = request.node.get_closest_marker("neighbours")
    wanted = set(marker.args) if marker is not None else set()
    off = [f"-p no:{name}" for name in NEIGHBOURS if name not in wanted]
    monkeypatch.setenv("PYTEST_ADDOPTS", " ".join(off))


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
