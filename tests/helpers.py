"""Helpers shared by the tests that run a user's suite through ``pytester``."""

from __future__ import annotations

import base64
import binascii
import gzip
import html
import json
import re
import socket
import uuid
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import brotli
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


# the tests' own decoding of what a cassette holds (not pytest-radix's)


def _unescape(text: str) -> Iterator[str]:
    """``text`` and the texts its escapes stand for (each decoder once, then twice)."""
    decoders = (
        lambda t: re.sub(r"\\+u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), t),
        lambda t: re.sub(r"\\+([\\\"/])", r"\1", t),
        unquote_plus,
        html.unescape,
    )
    found = {text}
    for _ in range(2):
        found |= {decode(t) for t in found for decode in decoders}
    yield from found
    for t in list(found):
        for run_ in re.findall(r"[A-Za-z0-9+/=_-]{16,}", t):
            try:
                yield base64.b64decode(run_ + "==", altchars=b"-_").decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                continue


def _texts(data: bytes) -> Iterator[str]:
    """``data`` decompressed when it is, in every charset it may be in."""
    for decompress in (
        lambda d: d,
        gzip.decompress,
        lambda d: zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(d),  # a stream cut short
        zlib.decompress,
        lambda d: zlib.decompress(d, -15),
        brotli.decompress,
        lambda d: brotli.Decompressor().process(d),  # a stream cut short
    ):
        try:
            plain = decompress(data)
        except Exception:
            continue
        for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
            yield plain.decode(codec, "replace")


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, bytes):
        for text in _texts(node):
            yield from _unescape(text)
    elif isinstance(node, str):
        yield from _unescape(node)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def secret_pieces(secrets: Iterable[str]) -> set[str]:
    """Every ``FRAGMENT``-character piece of each secret (a piece found is a leak)."""
    return {s[i : i + FRAGMENT] for s in secrets for i in range(len(s) - FRAGMENT + 1)}


def holds_a_piece(path: Path, pieces: set[str]) -> bool | None:
    """Whether the YAML file ``path`` holds one of ``pieces`` once every encoding is undone;
    ``None`` when it is not a YAML file a search can walk (not YAML, or an alias bomb)."""
    from pytest_radix.bounded_yaml import compose

    try:
        text = path.read_text("utf-8")
        compose(text)  # refuses an alias bomb before the walk below expands it
        document = yaml.load(text, Loader=yaml.SafeLoader)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError):
        return None
    return any(piece in text for text in _strings(document) for piece in pieces)


def secrets_found(directory: Path, secrets: list[str]) -> list[str]:
    """Which files under ``directory`` hold a 12-character piece of one of ``secrets``, once
    every encoding is undone (YAML, base64, compression, charsets, escapes)."""
    pieces = secret_pieces(secrets)
    return [path.name for path in sorted(directory.rglob("*.yaml")) if holds_a_piece(path, pieces)]
