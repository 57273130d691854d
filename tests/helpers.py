"""Helpers shared by the tests that run a user's suite through ``pytester``."""

from __future__ import annotations

import html
import json
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

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


def interactions(path: Path) -> list[dict[str, Any]]:
    """The interactions of a cassette file, read with a safe YAML loader."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return list(data["interactions"])


def uris(path: Path) -> list[str]:
    """The URI of each request recorded in a cassette file."""
    return [interaction["request"]["uri"] for interaction in interactions(path)]


def query_values(path: Path) -> list[str]:
    """The value of the last query parameter of each recorded request, sorted."""
    return sorted(uri.rsplit("=", 1)[1] for uri in uris(path))


TWO_API_VERSIONS = """
import dataclasses

import pytest

@pytest.fixture(scope="session", params=["1.0.0", "1.1.0"])
def radix_config(request, pytestconfig):
    from pytest_radix.run import RUN

    settings = pytestconfig.stash[RUN].config
    return dataclasses.replace(settings, api_version=request.param)
"""
"""A conftest whose ``radix_config`` override runs every Radix test under two API versions."""

FRAGMENT = 12
"""A run of this many characters of a secret, found anywhere, is a leak."""


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_nasty_secret() -> str:
    """An API key with ``"``, ``\\``, ``/`` and non-ASCII, that no earlier run has registered.

    pytest-radix's registry of secrets lives as long as the process, and the inner runs share
    this process: with one key for all tests, a run that forgot to register the key would still
    be masked thanks to an earlier run.
    """
    u = uuid.uuid4().hex
    return f'sk_"{u[:10]}\\{u[10:20]}/ünïcødé-{u[20:]}'


def escaped_forms(secret: str) -> set[str]:
    """``secret`` raw, in a repr, ascii(), JSON, bytes repr or XML, and a repr of those.

    Written here independently of the package's own list, so the tests do not trust it.
    """
    forms = {
        secret,
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret.encode("utf-8"))[2:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
    }
    return forms | {repr(form)[1:-1] for form in list(forms)}


EXPORT_FIELDS = frozenset(
    {
        "propertyId",
        "organizationId",
        "subjectAverage",
        "compsAverage",
        "subjectAverageByUnitType",
        "compsAverageByUnitType",
        "createdAt",
    }
)
"""The fields SPEC lists for an ``/export`` record."""
