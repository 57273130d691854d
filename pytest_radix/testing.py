"""A local fake Radix Data API server for offline tests.

:class:`FakeRadixServer` speaks real HTTP on ``127.0.0.1`` (an OS-chosen port) from a
background thread and imitates the two Radix endpoints:

* ``POST /auth`` exchanges ``{"client_id": ..., "client_secret": ...}`` for a real HS256 JWT;
* ``GET /export`` returns a deterministic list of benchmark objects to bearers of a valid token.

Both endpoints are served under any path prefix (``/api/v2/auth`` is ``/auth``). Every
request is recorded, and individual answers can be forced with :meth:`FakeRadixServer.queue`
to simulate rate limits, server errors, slow, truncated or hanging responses::

    with FakeRadixServer() as server:
        server.queue("/export", FakeResponse(429, {"message": "slow down"}, {"Retry-After": "1"}))
        ...  # exercise the client against server.url
        assert server.auth_count == 1

Only the standard library and PyJWT are used; this module does not import pytest.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime as _dt
import email.message
import gzip
import hashlib
import html
import importlib
import json
import math
import selectors
import socket
import socketserver
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import jwt

__all__ = [
    "AUTH_SHAPES",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_SIGNING_KEY",
    "ECHO_FORMS",
    "FakeRadixServer",
    "FakeResponse",
    "RecordedRequest",
    "benchmark_records",
]

DEFAULT_CLIENT_ID: str = "5642c0b355d27c0e003b3f30"
"""Client ID accepted by default (24 hex digits, like a real Radix Client ID)."""

DEFAULT_CLIENT_SECRET: str = 'sk_live_"quo\\te/slash-ünïcødé-7f3a9c2e41b8'
"""API key accepted by default; deliberately contains ``"``, ``\\``, ``/`` and non-ASCII text."""

DEFAULT_SIGNING_KEY: str = "fake-radix-signing-key-0123456789abcdef"
"""HS256 key used to sign and verify tokens by default (at least 32 bytes, as PyJWT expects)."""

_TOKEN_KEYS = ("access_token", "accessToken", "token", "jwt", "id_token", "idToken")
_WRAPPERS = ("data", "result", "response")
AUTH_SHAPES: tuple[str, ...] = (*_TOKEN_KEYS, *_WRAPPERS, "string", "text")
"""Every accepted value of :attr:`FakeRadixServer.auth_shape`."""

_JSON = "application/json"
_TEXT = "text/plain; charset=utf-8"
_NO_BODY_STATUSES = frozenset({204, 304})


def _segments(path: str) -> tuple[str, ...]:
    """Split a URL path (query ignored) into its non-empty segments."""
    return tuple(part for part in path.split("?", 1)[0].split("/") if part)


def _matches(request_path: str, pattern: str) -> bool:
    """Whether ``pattern``'s segments are a suffix of ``request_path``'s segments."""
    want = _segments(pattern)
    have = _segments(request_path)
    return len(want) <= len(have) and have[len(have) - len(want) :] == want


def _endpoint(path: str) -> str:
    """The endpoint a request path addresses: ``"/"`` plus its last segment."""
    parts = _segments(path)
    return "/" + parts[-1] if parts else "/"


def benchmark_records(count: int) -> list[dict[str, object]]:
    """Return the ``count`` deterministic benchmark objects ``GET /export`` serves."""
    organization_id = hashlib.sha256(b"radix-organization").hexdigest()[:24]
    start = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
    unit_types = ("studio", "1BR", "2BR", "3BR")
    records: list[dict[str, object]] = []
    for i in range(max(0, count)):
        subject = 1450.25 + 37.5 * i
        comps = 1398.75 + 41.25 * i
        created = start + _dt.timedelta(days=i)
        records.append(
            {
                "propertyId": hashlib.sha256(f"radix-property-{i}".encode()).hexdigest()[:24],
                "organizationId": organization_id,
                "subjectAverage": subject,
                "compsAverage": comps,
                "subjectAverageByUnitType": {
                    unit: round(subject * (0.75 + 0.25 * n), 2) for n, unit in enumerate(unit_types)
                },
                "compsAverageByUnitType": {
                    unit: round(comps * (0.75 + 0.25 * n), 2) for n, unit in enumerate(unit_types)
                },
                "createdAt": {"$date": created.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
            }
        )
    return records


@dataclass(frozen=True)
class RecordedRequest:
    """One request received by :class:`FakeRadixServer`."""

    method: str
    """HTTP method, e.g. ``"POST"``."""
    path: str
    """Full request path as received, without the query string."""
    query: str
    """Raw query string without the leading ``?`` (``""`` if none)."""
    headers: dict[str, str] = field(hash=False)
    """Request headers with names as sent by the client (repeated headers joined by ``", "``)."""
    body: bytes
    """Request body (de-chunked if it was sent chunked)."""
    time: float
    """``time.monotonic()`` when the request arrived."""

    def header(self, name: str, default: str | None = None) -> str | None:
        """Look up a header case-insensitively."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default

    def json(self) -> Any:
        """Decode the body as JSON (raises ``ValueError`` if it is not JSON)."""
        return json.loads(self.body)


@dataclass
class FakeResponse:
    """A forced answer for a queued request, see :meth:`FakeRadixServer.queue`."""

    status: int = 200
    """HTTP status code."""
    body: bytes | str | object = b""
    """Bytes are sent as-is, ``str`` is UTF-8 encoded, anything else is JSON-encoded."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers, e.g. ``{"Retry-After": "1"}`` (``Content-Length`` is computed)."""
    content_type: str | None = None
    """Content type; defaults to JSON for JSON-encoded bodies, else ``text/plain``."""
    delay: float = 0.0
    """Seconds to wait before answering."""
    truncate: bool = False
    """Announce the full ``Content-Length``, send only half the body, then close the connection."""
    hang: bool = False
    """Never answer; the connection is closed without a response when the server stops. With
    :attr:`chunks`: send them, then never end the body (an endless event stream)."""
    close: bool = False
    """Close the connection without sending any response."""
    chunks: list[bytes] | None = None
    """Send these pieces as a chunked body (``Transfer-Encoding: chunked``), waiting
    :attr:`chunk_delay` seconds before each; :attr:`body` is then not sent."""
    chunk_delay: float = 0.0
    """Seconds to wait before each of :attr:`chunks`."""
    content_encoding: str = ""
    """Compress the body and say so in ``Content-Encoding``: ``gzip``, ``deflate`` or ``br``
    (``br`` needs the ``brotli`` package), or several, comma-separated, applied in order."""

    def encoded(self) -> tuple[bytes, str]:
        """Return the body bytes (in the ``charset`` of :attr:`content_type`, compressed as
        :attr:`content_encoding` says) and the effective content type."""
        charset = _charset(self.content_type) or "utf-8"
        if isinstance(self.body, bytes):
            data, default_type = self.body, _TEXT
        elif isinstance(self.body, str):
            data, default_type = self.body.encode(charset), _TEXT
        else:
            data, default_type = json.dumps(self.body).encode(charset), _JSON
        for coding in filter(None, (c.strip() for c in self.content_encoding.split(","))):
            data = _compress(data, coding)
        return data, self.content_type or default_type


def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _escape_all(value: str) -> str:
    return "".join(
        json.dumps(char)[1:-1] if ord(char) > 0xFFFF else f"\\u{ord(char):04X}" for char in value
    )


def _escape_some(value: str) -> str:
    """The first character and every one that is not a letter or digit ``\\uXXXX``-escaped."""
    return "".join(
        f"\\u{ord(char):04x}" if i == 0 or not char.isalnum() else char
        for i, char in enumerate(value)
    )


ECHO_FORMS: dict[str, Callable[[str, str], str]] = {
    "json": lambda value, client_id: _json_string(value),
    "json-ascii": lambda value, client_id: json.dumps(value)[1:-1],
    "escaped": lambda value, client_id: _escape_all(value),
    "partly-escaped": lambda value, client_id: _escape_some(value),
    "url": lambda value, client_id: _json_string(quote(value, safe="")),
    "form": lambda value, client_id: _json_string(quote_plus(value)),
    "html": lambda value, client_id: _json_string(html.escape(value)),
    "base64": lambda value, client_id: base64.b64encode(value.encode()).decode(),
    "basic": lambda value, client_id: base64.b64encode(f"{client_id}:{value}".encode()).decode(),
}
"""How ``GET /echo?form=NAME`` writes the key and the token inside a JSON string: ``json``
(non-ASCII kept), ``json-ascii`` (``\\u00fc``), ``escaped`` (every character ``\\uXXXX``),
``partly-escaped``, ``url``, ``form`` (``+`` for spaces), ``html`` (entities), ``base64``, and
``basic`` (base64 of ``client_id:value``, as in HTTP Basic authentication)."""


def _charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a content type, as a Python codec name (``utf-16`` writes a
    byte order mark, ``utf-16-le`` does not)."""
    if not content_type:
        return None
    message = email.message.Message()
    message["Content-Type"] = content_type
    charset = message.get_param("charset")
    return charset if isinstance(charset, str) else None


def _compress(data: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.compress(data, mtime=0)
    if coding == "deflate":
        return zlib.compress(data)
    if coding == "br":
        try:
            brotli = importlib.import_module("brotli")
        except ImportError:
            raise ValueError("Content-Encoding br needs the brotli package installed") from None
        return bytes(brotli.compress(data))
    raise ValueError(f"unknown content_encoding {coding!r}; use gzip, deflate or br")


class _HTTPServer(ThreadingHTTPServer):
    """Threading HTTP server that tracks its connections so it can stop promptly."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, fake: FakeRadixServer, address: tuple[str, int]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.fake = fake
        self.stop_event = threading.Event()
        self._conn_lock = threading.Lock()
        self._conns: dict[socket.socket, threading.Thread] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        try:
            super().__init__(address, _Handler)
        except BaseException:
            self._wake_r.close()
            self._wake_w.close()
            raise

    def serve(self) -> None:
        """Accept connections until :meth:`wake` is called (no shutdown polling delay)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self.stop_event.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self.socket and not self.stop_event.is_set():
                        self._accept()

    def _accept(self) -> None:
        try:
            request, client_address = self.get_request()
        except OSError:
            return
        try:
            self.process_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)

    def wake(self) -> None:
        """Make :meth:`serve` return (after ``stop_event`` has been set)."""
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def server_close(self) -> None:
        super().server_close()
        self._wake_r.close()
        self._wake_w.close()

    def server_bind(self) -> None:
        # Skip HTTPServer.server_bind's socket.getfqdn(), which may do a slow DNS lookup.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="fake-radix-connection",
            daemon=True,
        )
        if isinstance(request, socket.socket):
            with self._conn_lock:
                self._conns[request] = thread
        thread.start()

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        try:
            super().shutdown_request(request)
        finally:
            if isinstance(request, socket.socket):
                with self._conn_lock:
                    self._conns.pop(request, None)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # client went away or the server is stopping: nothing worth reporting
        super().handle_error(request, client_address)

    def drop_connections(self, timeout: float) -> None:
        """Shut down every open connection and wait (bounded) for their threads to end."""
        with self._conn_lock:
            conns = list(self._conns.items())
        for sock, _ in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for _, thread in conns:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    """Request handler implementing the fake Radix endpoints."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; avoid ACK delays
    server_version = "FakeRadix/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Keep stderr quiet."""

    @property
    def _http(self) -> _HTTPServer:
        return cast(_HTTPServer, self.server)

    # Every method goes through the same dispatcher; routing decides what is allowed.
    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; return False if the server started stopping meanwhile."""
        if seconds > 0:
            return not self._http.stop_event.wait(seconds)
        return not self._http.stop_event.is_set()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537).strip():
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        arrival = time.monotonic()
        fake = self._http.fake
        split = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        try:
            body = self._read_body()
        except ValueError:
            fake._record(
                RecordedRequest(self.command, split.path, split.query, headers, b"", arrival)
            )
            self.close_connection = True
            self._send(400, {"message": "malformed request body"})
            return
        record = RecordedRequest(self.command, split.path, split.query, headers, body, arrival)
        forced = fake._record(record)
        try:
            if not self._wait(fake.latency):
                self.close_connection = True
            elif forced is not None:
                self._send_forced(forced)
            else:
                self._route(record)
        except OSError:
            self.close_connection = True
        except Exception as exc:  # a bug here should surface as a 500, not a silent hang
            self.close_connection = True
            self._send(500, {"message": f"fake Radix server error: {exc!r}"})

    def _send_forced(self, forced: FakeResponse) -> None:
        if not self._wait(forced.delay):
            self.close_connection = True
            return
        if forced.close:
            self.close_connection = True
            return
        if forced.chunks is not None:
            self._send_chunks(forced)
            return
        if forced.hang:
            self._http.stop_event.wait()
            self.close_connection = True
            return
        data, content_type = forced.encoded()
        headers = dict(forced.headers)
        if forced.content_encoding:
            headers["Content-Encoding"] = forced.content_encoding
        self._send_bytes(forced.status, data, content_type, headers, forced.truncate)

    def _send_chunks(self, forced: FakeResponse) -> None:
        """A chunked body, each piece flushed as it is due; endless when ``forced.hang``."""
        self.send_response(forced.status)
        self.send_header("Content-Type", forced.content_type or _TEXT)
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in forced.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()
        for piece in forced.chunks or []:
            if not self._wait(forced.chunk_delay):
                self.close_connection = True
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
        if forced.hang:
            self._http.stop_event.wait()
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")

    def _route(self, record: RecordedRequest) -> None:
        endpoint = _endpoint(record.path)
        if endpoint == "/auth":
            if self.command != "POST":
                self._send(405, {"message": "method not allowed"}, {"Allow": "POST"})
            else:
                self._auth(record)
        elif endpoint == "/export":
            if self.command not in ("GET", "HEAD"):
                self._send(405, {"message": "method not allowed"}, {"Allow": "GET, HEAD"})
            else:
                self._export(record)
        elif endpoint == "/echo":
            self._echo(record)
        else:
            self._send(404, {"message": "not found"})

    def _echo(self, record: RecordedRequest) -> None:
        """Echo the API key and the request's bearer token the way a careless API might: in the
        ``form`` asked for (see :data:`ECHO_FORMS`), the body in ``charset``, compressed as
        ``encoding`` says (query parameters)."""
        fake = self._http.fake
        query = dict(parse_qsl(record.query))
        form = query.get("form", "json")
        if form not in ECHO_FORMS:
            self._send(400, {"message": f"form must be one of {sorted(ECHO_FORMS)}"})
            return
        token = (record.header("Authorization") or "").partition(" ")[2].strip()
        encode = ECHO_FORMS[form]
        text = (
            f'{{"form": "{form}", "key": "{encode(fake.client_secret, fake.client_id)}", '
            f'"token": "{encode(token, fake.client_id)}", "records": [1, 2, 3]}}'
        )
        charset = query.get("charset", "utf-8")
        answer = FakeResponse(
            200,
            text,
            content_type=f"application/json; charset={charset}",
            content_encoding=query.get("encoding", ""),
        )
        self._send_forced(answer)

    def _auth(self, record: RecordedRequest) -> None:
        fake = self._http.fake
        if not self._wait(fake.auth_delay):
            self.close_connection = True
            return
        try:
            payload = json.loads(record.body.decode("utf-8"))
        except ValueError:
            self._send(400, {"message": "request body is not valid JSON"})
            return
        if not isinstance(payload, dict) or not all(
            isinstance(payload.get(key), str) for key in ("client_id", "client_secret")
        ):
            self._send(400, {"message": "client_id and client_secret are required"})
            return
        if payload["client_id"] != fake.client_id or payload["client_secret"] != fake.client_secret:
            self._send(401, {"message": "Invalid client credentials"})
            return
        shape, extra = fake.auth_shape, dict(fake.auth_extra or {})
        if shape not in AUTH_SHAPES:
            self._send(500, {"message": f"unknown auth_shape {shape!r}"})
            return
        token = fake._issue_for_auth()
        if shape == "text":
            self._send_bytes(200, token.encode("ascii"), _TEXT)
        elif shape == "string":
            self._send(200, token)
        elif shape in _WRAPPERS:
            self._send(200, {shape: {"access_token": token}, **extra})
        else:
            self._send(200, {shape: token, "token_type": "Bearer", **extra})

    def _export(self, record: RecordedRequest) -> None:
        fake = self._http.fake
        scheme, _, token = (record.header("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not fake._verify(token.strip()):
            self._send(401, {"message": "Unauthorized"}, {"WWW-Authenticate": "Bearer"})
            return
        if not record.header("x-radix-version"):
            self._send(400, {"message": "missing x-radix-version"})
            return
        body: object = benchmark_records(fake.records)
        if fake.reshape_export is not None:
            body = fake.reshape_export(cast("list[dict[str, object]]", body))
        data = json.dumps(body).encode("utf-8")
        self._send_bytes(fake.export_status, data, fake.export_content_type)

    def _send(self, status: int, obj: object, headers: Mapping[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(obj).encode("utf-8"), _JSON, headers)

    def _send_bytes(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
        truncate: bool = False,
    ) -> None:
        extra = dict(headers or {})
        for name in list(extra):
            if name.lower() == "content-type":
                content_type = extra.pop(name)
            elif name.lower() == "content-length":
                del extra[name]
        bodyless = status in _NO_BODY_STATUSES or status < 200
        self.send_response(status)
        if not bodyless:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        if bodyless or self.command == "HEAD":
            return
        if truncate:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.wfile.write(data)


class FakeRadixServer:
    """A fake Radix Data API served over real HTTP from a background thread.

    Use it as a context manager (or call :meth:`start` / :meth:`stop`); point the client at
    :attr:`url`. The knobs ``client_id``, ``client_secret``, ``token_lifetime``, ``auth_shape``,
    ``auth_extra``, ``auth_delay``, ``latency``, ``records``, ``reshape_export``,
    ``export_status`` and ``export_content_type`` are plain attributes and may be changed while
    the server runs.
    """

    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        signing_key: str = DEFAULT_SIGNING_KEY,
        token_lifetime: float = 3600.0,
        auth_shape: str = "access_token",
        auth_extra: dict[str, object] | None = None,
        auth_delay: float = 0.0,
        latency: float = 0.0,
        records: int = 3,
        host: str = "127.0.0.1",
        reshape_export: Callable[[list[dict[str, object]]], object] | None = None,
        export_status: int = 200,
        export_content_type: str = _JSON,
    ) -> None:
        """Configure the server; nothing listens until :meth:`start`.

        ``auth_shape`` picks the ``POST /auth`` response layout (one of :data:`AUTH_SHAPES`),
        ``auth_extra`` is merged into object-shaped auth responses, ``token_lifetime`` sets the
        ``exp`` of issued tokens, ``auth_delay`` and ``latency`` add sleeps (seconds) before
        auth answers and before every answer, and ``records`` is the ``/export`` list length.

        To imitate an API that changed since a recording, ``reshape_export`` turns the
        ``/export`` records into what is sent instead (a field dropped, added, retyped or
        null), and ``export_status`` and ``export_content_type`` change its status and type.
        """
        if auth_shape not in AUTH_SHAPES:
            raise ValueError(f"auth_shape must be one of {AUTH_SHAPES}, not {auth_shape!r}")
        self.client_id = client_id
        self.client_secret = client_secret
        self.signing_key = signing_key
        self.token_lifetime = token_lifetime
        self.auth_shape = auth_shape
        self.auth_extra: dict[str, object] | None = auth_extra
        self.auth_delay = auth_delay
        self.latency = latency
        self.records = records
        self.host = host
        self.reshape_export = reshape_export
        self.export_status = export_status
        self.export_content_type = export_content_type
        self._lock = threading.Lock()
        self._log: list[RecordedRequest] = []
        self._queues: dict[str, collections.deque[FakeResponse]] = {}
        self._tokens: list[str] = []
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL such as ``http://127.0.0.1:54321`` (no trailing slash); set by :meth:`start`."""
        if self._url is None:
            raise RuntimeError("FakeRadixServer.url is only available after start()")
        return self._url

    @property
    def running(self) -> bool:
        """Whether the server is currently serving."""
        return self._server is not None

    def start(self) -> FakeRadixServer:
        """Bind a free port and serve in a daemon thread; a no-op if already running."""
        with self._lock:
            if self._server is not None:
                return self
            server = _HTTPServer(self, (self.host, 0))
            address = server.socket.getsockname()
            host, port = str(address[0]), int(address[1])
            if ":" in host:
                host = f"[{host}]"
            thread = threading.Thread(
                target=server.serve,
                name="fake-radix-server",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
            self._url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        """Stop serving, release hanging requests, close every connection and join the thread.

        Safe to call more than once, or without :meth:`start`.
        """
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        server.stop_event.set()
        server.wake()
        if thread is not None:
            thread.join(1.0)
        server.drop_connections(timeout=0.5)
        server.server_close()

    def __enter__(self) -> FakeRadixServer:
        """Start the server (see :meth:`start`)."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server (see :meth:`stop`)."""
        self.stop()

    # -- inspection ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, in arrival order."""
        with self._lock:
            return list(self._log)

    @property
    def auth_count(self) -> int:
        """Number of ``POST .../auth`` requests received, whatever their outcome."""
        with self._lock:
            return sum(1 for r in self._log if r.method == "POST" and _endpoint(r.path) == "/auth")

    @property
    def issued_tokens(self) -> list[str]:
        """Every token issued by ``POST /auth``, in order (not those from :meth:`issue_token`)."""
        with self._lock:
            return list(self._tokens)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Requests whose path ends with ``path``'s segments (``"/auth"`` matches ``/api/auth``)."""
        with self._lock:
            return [r for r in self._log if _matches(r.path, path)]

    # -- control -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Clear the request log, queued responses and issued tokens (knobs are kept)."""
        with self._lock:
            self._log.clear()
            self._queues.clear()
            self._tokens.clear()

    def queue(self, path: str, *responses: FakeResponse) -> None:
        """Force the answers to the next requests to ``path`` (any method, any prefix), in order.

        Once they are used up, normal handling resumes. If several queued paths match a
        request, the most specific (longest) one is used.
        """
        key = "/" + "/".join(_segments(path))
        with self._lock:
            self._queues.setdefault(key, collections.deque()).extend(responses)

    def issue_token(self, *, lifetime: float | None = None, **claims: object) -> str:
        """Mint a token signed with the server's key.

        ``lifetime`` defaults to :attr:`token_lifetime`; a negative value yields an expired
        token. ``claims`` are added last and may override ``sub``, ``iat``, ``exp`` or ``jti``.
        """
        if lifetime is None:
            return self._mint(max(1, math.ceil(self.token_lifetime)), claims)
        return self._mint(math.ceil(lifetime), claims)

    # -- internals used by the handler -------------------------------------------------------

    def _mint(self, seconds: int, claims: Mapping[str, object]) -> str:
        now = int(time.time())
        payload: dict[str, object] = {
            "sub": self.client_id,
            "iat": now,
            "exp": now + seconds,
            "jti": uuid.uuid4().hex,
        }
        payload.update(claims)
        return jwt.encode(payload, self.signing_key, algorithm="HS256")

    def _issue_for_auth(self) -> str:
        token = self._mint(max(1, math.ceil(self.token_lifetime)), {})
        with self._lock:
            self._tokens.append(token)
        return token

    def _verify(self, token: str) -> bool:
        try:
            jwt.decode(token, self.signing_key, algorithms=["HS256"], options={"require": ["exp"]})
        except jwt.PyJWTError:
            return False
        return True

    def _record(self, record: RecordedRequest) -> FakeResponse | None:
        """Log a request and pop the forced response queued for it, if any."""
        with self._lock:
            self._log.append(record)
            candidates = [
                key for key, q in self._queues.items() if q and _matches(record.path, key)
            ]
            if not candidates:
                return None
            key = max(candidates, key=lambda k: len(_segments(k)))
            return self._queues[key].popleft()
