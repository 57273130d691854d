"""Which recorded request a request is: the same method, path and query (a repeated key's values
in the order sent, blank values kept; vcrpy's own query matcher sorts them and drops blank ones).

No vcrpy here: :func:`same_request` has vcrpy's matcher signature, over anything with ``method``
and ``uri``, and :func:`request_key` is the same rule as a value to look requests up by.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

__all__ = ["MATCH_ON", "request_key", "same_request"]

RequestKey = tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...]]


class _Request(Protocol):
    method: str
    uri: str


def request_key(method: str, uri: str) -> RequestKey:
    """What matching compares: the method, the path, and the query's values per key."""
    parts = urlsplit(uri)
    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        grouped.setdefault(key, []).append(value)
    return method, parts.path, tuple(sorted((key, tuple(v)) for key, v in grouped.items()))


def same_request(r1: _Request, r2: _Request) -> None:
    """vcrpy matcher: raises ``AssertionError`` unless :func:`request_key` is the same."""
    if request_key(r1.method, r1.uri) != request_key(r2.method, r2.uri):
        raise AssertionError(f"{r1.method} {r1.uri} != {r2.method} {r2.uri}")


MATCH_ON = (same_request,)
"""The matchers a replayed request must pass (its URL first moved under the recording's
base URL); a cassette adds that a request to another origin matches only that origin."""
