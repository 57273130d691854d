"""The transport mounted on a session that records or replays: :class:`CassetteAdapter` plays a
recorded response, or sends the request live and hands the answer to its cassette (which
records it, or, verifying, compares it with the recorded one). No vcrpy here.
"""

from __future__ import annotations

import http.client
import io
from collections.abc import Callable
from typing import Any, Protocol

import requests
from requests.adapters import BaseAdapter
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse
from urllib3._collections import HTTPHeaderDict

from pytest_radix.cassette_files import body_bytes, header

__all__ = ["DROPPED_RESPONSE_HEADERS", "CassetteAdapter", "Exchanges"]

DROPPED_RESPONSE_HEADERS = frozenset({"content-encoding", "transfer-encoding"})
"""Response headers neither recorded nor replayed: bodies are stored decoded and whole."""


class Exchanges(Protocol):
    """What :class:`CassetteAdapter` needs of a cassette."""

    def play(self, request: requests.PreparedRequest) -> dict[str, Any] | None:
        """The recorded response (vcrpy's dict) for ``request``, or ``None``: it goes live."""

    def record(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        *,
        stream: bool = False,
    ) -> None:
        """Take the live exchange."""


class _Original:
    """The little of an ``http.client`` response that urllib3 and requests read behind a
    replayed response that sets cookies: its ``Set-Cookie`` headers and whether it is closed."""

    def __init__(self, raw: HTTPResponse, cookies: list[str], method: str) -> None:
        self.msg = http.client.HTTPMessage()
        for cookie in cookies:
            self.msg["Set-Cookie"] = cookie
        self._raw = raw
        self._method = method

    def isclosed(self) -> bool:
        """Whether the replayed body has been read to its end or closed."""
        return bool(self._raw.closed)

    def close(self) -> None:
        """Nothing to release: the body is in memory."""


class CassetteAdapter(BaseAdapter):
    """A transport that plays from a cassette and hands it what goes live.

    ``live`` sends the requests that must reach the network; ``before_live`` runs first (it
    renews the bearer token with a live one when the recorded token was replayed).
    """

    def __init__(
        self,
        cassette: Exchanges,
        live: BaseAdapter,
        *,
        before_live: Callable[[requests.PreparedRequest], None] | None = None,
    ) -> None:
        super().__init__()
        self.cassette = cassette
        self.live = live
        self.before_live = before_live

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        """Replay ``request`` from the cassette, or send it live and record it."""
        recorded = self.cassette.play(request)
        if recorded is not None:
            return self._replayed(request, recorded)
        if self.before_live is not None:
            self.before_live(request)
        response = self.live.send(request, **kwargs)
        self.cassette.record(request, response, stream=bool(kwargs.get("stream")))
        setattr(response, "connection", self)  # noqa: B010 - typed as HTTPAdapter upstream
        return response

    def _replayed(
        self, request: requests.PreparedRequest, recorded: dict[str, Any]
    ) -> requests.Response:
        body = body_bytes(recorded)
        headers = HTTPHeaderDict()
        for name, values in recorded["headers"].items():
            if name.lower() in DROPPED_RESPONSE_HEADERS or name.lower() == "content-length":
                continue
            for value in values if isinstance(values, list) else [values]:
                headers.add(name, str(value))
        length = header(recorded["headers"], "content-length")
        headers["Content-Length"] = (
            length if request.method == "HEAD" and length else str(len(body))
        )
        status = int(recorded["status"]["code"])
        reason = str(recorded["status"].get("message") or "")
        raw = HTTPResponse(
            body=io.BytesIO(body),
            headers=headers,
            status=status,
            reason=reason,
            preload_content=False,
            decode_content=False,
            request_method=request.method,
            request_url=request.url,
        )
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = raw
        response.reason = reason
        response.url = request.url or ""
        response.request = request
        setattr(response, "connection", self)  # noqa: B010 - typed as HTTPAdapter upstream
        cookies = headers.getlist("Set-Cookie")
        if cookies:  # where requests and the session read cookies from
            original = _Original(raw, cookies, request.method or "GET")
            raw._original_response = original  # type: ignore[assignment]
            extract_cookies_to_jar(response.cookies, request, raw)  # type: ignore[no-untyped-call]
        return response

    def close(self) -> None:
        """Nothing to close: the live adapter belongs to whoever passed it in."""
