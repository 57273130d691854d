"""Cassettes other plugins write (pytest-recording's): scrubbed of the API key and live tokens
before they are saved, as pytest-radix's own are, whatever the test put in them."""

from __future__ import annotations

from typing import Any

from vcr.request import Request

from pytest_radix.scrubbing import scrub_body, scrub_text

__all__ = ["ScrubbingPersister"]


class ScrubbingPersister:
    """A vcrpy persister that saves through another one, every string scrubbed first."""

    def __init__(self, persister: Any) -> None:
        self.persister = persister

    def load_cassette(self, cassette_path: str, serializer: Any) -> Any:
        """Load as the wrapped persister does."""
        return self.persister.load_cassette(cassette_path, serializer)

    def save_cassette(
        self, cassette_path: str, cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        """Save through the wrapped persister, without a known secret or a signed JWT."""
        self.persister.save_cassette(cassette_path, _scrubbed(cassette_dict), serializer)


def _scrubbed(node: Any) -> Any:
    if isinstance(node, str):
        return scrub_text(node)
    if isinstance(node, bytes):
        return scrub_body(node, None)
    if isinstance(node, dict):
        return {key: _scrubbed(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_scrubbed(item) for item in node]
    if isinstance(node, Request):
        headers = {name: _scrubbed(value) for name, value in node.headers.items()}
        return Request(node.method, scrub_text(node.uri), _scrubbed(node.body), headers)
    return node
