"""``--radix-verify``'s cassette: every request goes live and its answer is compared with the
recorded one for the same request; nothing is written. The file is read as plain data on first
use (no vcrpy), and a recorded body that the live one repeats byte for byte is not parsed.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from pytest_radix.cassette_files import (
    MissingCassette,
    body_bytes,
    check_api_version,
    header,
    moved_url,
    read_cassette,
    recorded_base,
)
from pytest_radix.drift import Answer, Change, compare, request_label
from pytest_radix.matching import request_key
from pytest_radix.scrubbing import scrub_text
from pytest_radix.urls import origin_of

__all__ = ["VerifiedCassette"]


@dataclass
class _Recorded:
    """One recorded interaction: what finds it, and its response (read when compared)."""

    key: Hashable
    response: dict[str, Any]
    compared: bool = False


class VerifiedCassette:
    """One cassette under ``--radix-verify``: each live answer is compared with the first
    recorded answer to the same request not compared yet (which counts as played); a request
    with none left is ``unrecorded``. What drifted is in :attr:`drift`."""

    mode = "verify"
    pending = False
    """Nothing is ever recorded, so nothing waits to be saved."""

    def __init__(self, path: Path, *, base_url: str, api_version: str) -> None:
        self.path = path
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.existed = False
        self.metadata: dict[str, Any] = {}
        """The ``radix`` key of the file as read (empty when it was not read)."""
        self.drift: list[Change] = []
        """How the live answers differ from the recorded ones."""
        self._recorded: list[_Recorded] | None = None
        self._recorded_base = self.base_url
        self._bases: set[tuple[str, str, int | None]] = set()
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the cassette was used (its file read, or found missing)."""
        return self._recorded is not None

    @property
    def loaded_count(self) -> int:
        """How many interactions the file held."""
        return len(self._recorded or ())

    @property
    def played(self) -> int:
        """How many recorded answers were compared."""
        return len(self.played_indexes())

    def played_indexes(self) -> set[int]:
        """The indexes of the file's interactions compared so far."""
        return {i for i, entry in enumerate(self._recorded or ()) if entry.compared}

    def _load(self) -> list[_Recorded]:
        if self._recorded is not None:
            return self._recorded
        try:
            interactions, self.metadata = read_cassette(self.path)
            self.existed = True
        except MissingCassette:
            interactions = []
        made = [interaction["request"] for interaction in interactions]
        check_api_version(self.path, self.metadata, (r["headers"] for r in made), self.api_version)
        first = made[0]["uri"] if made else None
        self._recorded_base = recorded_base(self.metadata, first, self.base_url)
        self._bases = {origin_of(self.base_url), origin_of(self._recorded_base)}
        self._recorded = [
            _Recorded(self._key(request["method"], request["uri"]), interaction["response"])
            for request, interaction in zip(made, interactions, strict=True)
        ]
        return self._recorded

    def _key(self, method: str, uri: str) -> Hashable:
        """What matches a request: its origin (either base URL being one), method, path and
        query."""
        origin = origin_of(uri)
        return None if origin in self._bases else origin, request_key(method, uri)

    def play(self, request: requests.PreparedRequest) -> None:
        """Nothing is replayed: every request goes live (the file is read now, so that one
        that cannot be used fails the test before anything is sent)."""
        with self._lock:
            self._load()

    def record(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        *,
        stream: bool = False,
    ) -> None:
        """Compare the live answer to ``request`` with the recorded one (its URL scrubbed as the
        recorded one was: a secret in it matches the placeholder and is never reported).

        A ``stream`` body is the test's to read, as the server sends it, and may never end:
        only its status and media type are compared.
        """
        method, url = request.method or "GET", scrub_text(request.url or "")
        label = request_label(method, url, self.base_url)
        body = b"" if stream else response.content
        live = Answer(response.status_code, response.headers.get("Content-Type"), body)
        with self._lock:
            recorded = self._load()
            key = self._key(method, moved_url(url, self.base_url, self._recorded_base))
            entry = next((e for e in recorded if e.key == key and not e.compared), None)
            if entry is None:
                self.drift.append(Change(label, "unrecorded"))
                return
            entry.compared = True
        old = entry.response
        before = Answer(
            int(old["status"]["code"]),
            header(old["headers"], "content-type"),
            b"" if stream else body_bytes(old),
        )
        self.drift.extend(compare(label, before, live))

    def release(self) -> None:
        """Let go of the recorded interactions."""
        with self._lock:
            self._recorded = None

    def save(self, *, merge: bool = False) -> bool:
        """Nothing is written: always ``False``."""
        return False
