"""The client (``authenticate``, ``RadixAuth``, ``RadixSession``) against a real local fake server.

Nothing here mocks ``requests`` or ``urllib3``: every request crosses a real socket to a
:class:`~pytest_radix.testing.FakeRadixServer`, whose request log is the source of truth.
"""

from __future__ import annotations

import gc
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
import requests
import urllib3
import urllib3.connection
from helpers import closed_port

from pytest_radix import (
    RadixAuth,
    RadixAuthError,
    RadixConfigError,
    RadixCredentials,
    RadixError,
    RadixResponseError,
    RadixSession,
    RadixToken,
    RadixTransportError,
    authenticate,
)
from pytest_radix.masking import MASK
from pytest_radix.testing import AUTH_SHAPES, FakeRadixServer, FakeResponse
from pytest_radix.transport import make_adapter

T = TypeVar("T")

GENEROUS = 5.0
"""An upper bound on elapsed time that only a hang or a runaway retry loop can exceed."""


# -- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def secret(fake_radix: FakeRadixServer) -> str:
    value = fake_radix.client_secret  # conftest.NASTY_SECRET
    assert '"' in value and "\\" in value and "/" in value and not value.isascii()
    return value


@pytest.fixture
def credentials(fake_radix: FakeRadixServer) -> RadixCredentials:
    return RadixCredentials(fake_radix.client_id, fake_radix.client_secret)


@pytest.fixture
def other_server() -> Iterator[FakeRadixServer]:
    """A second server on another port: a different origin."""
    with FakeRadixServer() as server:
        yield server


@pytest.fixture
def radix_auth_obj(
    fake_radix: FakeRadixServer, credentials: RadixCredentials
) -> Iterator[RadixAuth]:
    auth = RadixAuth(credentials, base_url=fake_radix.url, timeout=5.0)
    yield auth
    auth.close()


@pytest.fixture
def session(radix_auth_obj: RadixAuth) -> Iterator[RadixSession]:
    with RadixSession(radix_auth_obj) as s:
        yield s


def host_of(server: FakeRadixServer) -> str:
    return server.url.removeprefix("http://")


def assert_no_secret(error: BaseException, secret: str) -> None:
    text = str(error) + repr(error)
    assert secret not in text
    for i in range(len(secret) - 7):
        assert secret[i : i + 8] not in text


def connections_in_use(server: FakeRadixServer) -> int:
    """Open client connections to ``server`` that are neither idle in a pool nor closed.

    A response that is read to the end gives its connection back to the pool; one that is
    dropped unread keeps it busy until the garbage collector finds it (a ResourceWarning).
    """
    port = int(server.url.rsplit(":", 1)[1])
    gc.collect()
    objects = gc.get_objects()
    idle = {
        id(conn)
        for obj in objects
        if isinstance(obj, urllib3.HTTPConnectionPool) and obj.port == port and obj.pool is not None
        for conn in list(obj.pool.queue)
        if conn is not None
    }
    busy = 0
    for obj in objects:
        if isinstance(obj, urllib3.connection.HTTPConnection) and id(obj) not in idle:
            sock = obj.sock  # not a socket: a connection vcrpy replayed, in an earlier test
            if not isinstance(sock, socket.socket) or sock.fileno() == -1:
                continue
            try:
                peer = sock.getpeername()
            except OSError:
                continue
            busy += peer[1] == port
    return busy


def within(seconds: float, call: Callable[[], T]) -> T:
    """Return ``call()``, run in a daemon thread; fail (not hang) if it is still running after
    ``seconds`` — a missing timeout or an honoured day-long ``Retry-After`` would block for good.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="radix-test-call", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds:g} s (no timeout applied?)")
    if "error" in outcome:
        raise outcome["error"]
    return cast("T", outcome["value"])


def collect_quietly() -> None:
    """Collect a leaked connection now, so that its ResourceWarning fails no later test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def auth_requests(server: FakeRadixServer) -> int:
    return len(server.requests_to("/auth"))


def export_requests(server: FakeRadixServer) -> int:
    return len(server.requests_to("/export"))


# -- authenticate(): success and what is sent -----------------------------------------------------


@pytest.mark.parametrize("shape", AUTH_SHAPES)
def test_authenticate_reads_every_auth_shape(
    fake_radix: FakeRadixServer, credentials: RadixCredentials, shape: str
) -> None:
    fake_radix.auth_shape = shape
    token = authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert isinstance(token, RadixToken)
    assert fake_radix.issued_tokens == [str(token.value)]
    assert token.claims["sub"] == fake_radix.client_id
    assert 3590 <= token.lifetime <= 3600
    assert fake_radix.auth_count == 1


def test_authenticate_sends_the_documented_request(
    fake_radix: FakeRadixServer, credentials: RadixCredentials, secret: str
) -> None:
    authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    (sent,) = fake_radix.requests
    assert sent.method == "POST"
    assert sent.path == "/auth"
    assert sent.query == ""
    content_type = sent.header("Content-Type") or ""
    assert content_type.split(";")[0].strip() == "application/json"
    assert sent.header("x-radix-version") == "1.0.0"
    assert sent.json() == {"client_id": fake_radix.client_id, "client_secret": secret}
    assert sent.header("Authorization") is None


def test_authenticate_sends_the_api_version_asked(
    fake_radix: FakeRadixServer, credentials: RadixCredentials
) -> None:
    authenticate(credentials, base_url=fake_radix.url, api_version="2.3.4", timeout=5.0)
    assert fake_radix.requests[0].header("x-radix-version") == "2.3.4"


def test_authenticate_expiry_from_the_response(
    fake_radix: FakeRadixServer, credentials: RadixCredentials
) -> None:
    fake_radix.auth_extra = {"expires_in": 120}
    token = authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert token.lifetime == pytest.approx(120)


def test_base_url_with_a_path_prefix(
    fake_radix: FakeRadixServer, credentials: RadixCredentials
) -> None:
    authenticate(credentials, base_url=f"{fake_radix.url}/api/", timeout=5.0)
    assert [r.path for r in fake_radix.requests] == ["/api/auth"]

    auth = RadixAuth(credentials, base_url=f"{fake_radix.url}/api/", timeout=5.0)
    with RadixSession(auth) as s:
        assert s.get("/export").status_code == 200
        assert s.get("export").status_code == 200
    auth.close()
    assert [(r.method, r.path) for r in fake_radix.requests[1:]] == [
        ("POST", "/api/auth"),
        ("GET", "/api/export"),
        ("GET", "/api/export"),
    ]


# -- authenticate(): refusals -------------------------------------------------------------------


def test_wrong_secret_is_one_request_and_an_auth_error(fake_radix: FakeRadixServer) -> None:
    wrong = "wrong-key-" + uuid.uuid4().hex
    credentials = RadixCredentials(fake_radix.client_id, wrong)
    with pytest.raises(RadixAuthError) as info:
        authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert info.value.status == 401
    message = str(info.value)
    assert "401" in message
    assert fake_radix.client_id in message
    assert "Invalid client credentials" in message
    assert_no_secret(info.value, wrong)
    assert fake_radix.auth_count == 1


@pytest.mark.parametrize("status", [400, 401, 403])
def test_client_errors_are_one_request_with_the_message_cut(
    fake_radix: FakeRadixServer, credentials: RadixCredentials, secret: str, status: int
) -> None:
    server_message = "Refused:" + "".join(f"<{i:03d}>" for i in range(60))
    assert len(server_message) > 250
    fake_radix.queue("/auth", FakeResponse(status, {"message": server_message}))
    started = time.monotonic()
    with pytest.raises(RadixAuthError) as info:
        authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert time.monotonic() - started < GENEROUS
    assert info.value.status == status
    message = str(info.value)
    assert str(status) in message
    assert fake_radix.client_id in message
    assert server_message[:200] in message
    assert server_message[:201] not in message
    assert_no_secret(info.value, secret)
    assert fake_radix.auth_count == 1  # no retry
    assert isinstance(info.value, RadixError)


@pytest.mark.parametrize("content_type", [None, "text/plain"])
def test_auth_error_masks_a_secret_echoed_by_the_server(
    fake_radix: FakeRadixServer,
    credentials: RadixCredentials,
    secret: str,
    content_type: str | None,
) -> None:
    # the secret starts at character 190: the 200-character cut keeps a 10-character fragment
    echoed = "x" * 10 + "Bad key " + "." * 172 + secret + " was rejected"
    body: object = {"error": echoed} if content_type is None else echoed
    fake_radix.queue("/auth", FakeResponse(401, body, content_type=content_type))
    with pytest.raises(RadixAuthError) as info:
        authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert "Bad key" in str(info.value)
    assert_no_secret(info.value, secret)
    assert fake_radix.auth_count == 1


def test_html_error_page_is_not_quoted(
    fake_radix: FakeRadixServer, credentials: RadixCredentials
) -> None:
    page = "<html><body><h1>Forbidden</h1><p>request-id-abc123def456</p></body></html>"
    fake_radix.queue("/auth", FakeResponse(403, page, content_type="text/html"))
    with pytest.raises(RadixAuthError) as info:
        authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert info.value.status == 403
    assert "request-id-abc123def456" not in str(info.value)
    assert fake_radix.auth_count == 1


def test_server_error_then_success_is_retried(
    fake_radix: FakeRadixServer, credentials: RadixCredentials
) -> None:
    fake_radix.queue("/auth", FakeResponse(500, {"message": "boom"}))
    token = authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert fake_radix.auth_count == 2
    assert fake_radix.issued_tokens == [str(token.value)]


def test_server_error_on_every_attempt_raises(
    fake_radix: FakeRadixServer, credentials: RadixCredentials, secret: str
) -> None:
    fake_radix.queue("/auth", *[FakeResponse(503, {"message": "down"})] * 10)
    started = time.monotonic()
    with pytest.raises(RadixTransportError) as info:
        authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert time.monotonic() - started < GENEROUS
    assert "503" in str(info.value)
    assert host_of(fake_radix) in str(info.value)
    assert 1 < fake_radix.auth_count < 10  # retried, but a bounded number of times
    assert fake_radix.issued_tokens == []
    assert_no_secret(info.value, secret)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_auth_redirect_is_not_followed(
    fake_radix: FakeRadixServer,
    other_server: FakeRadixServer,
    credentials: RadixCredentials,
    secret: str,
    status: int,
) -> None:
    location = f"{other_server.url}/auth"
    fake_radix.queue("/auth", FakeResponse(status, b"", {"Location": location}))
    with pytest.raises(RadixResponseError) as info:
        authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert location in str(info.value)
    assert str(status) in str(info.value)
    assert other_server.requests == []
    assert fake_radix.auth_count == 1
    assert_no_secret(info.value, secret)


def test_connection_refused_names_the_host(credentials: RadixCredentials, secret: str) -> None:
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(RadixTransportError) as info:
        authenticate(credentials, base_url=f"http://127.0.0.1:{port}", timeout=1.0)
    assert time.monotonic() - started < GENEROUS
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "refused" in str(info.value)
    assert_no_secret(info.value, secret)


def test_https_to_a_plain_http_server_is_a_tls_error(
    fake_radix: FakeRadixServer, credentials: RadixCredentials, secret: str
) -> None:
    url = fake_radix.url.replace("http://", "https://")
    started = time.monotonic()
    with pytest.raises(RadixTransportError) as info:
        authenticate(credentials, base_url=url, timeout=2.0)
    assert time.monotonic() - started < GENEROUS
    assert host_of(fake_radix) in str(info.value)
    assert "TLS" in str(info.value)
    assert fake_radix.issued_tokens == []
    assert_no_secret(info.value, secret)


def test_hanging_server_times_out_on_every_attempt(
    fake_radix: FakeRadixServer, credentials: RadixCredentials, secret: str
) -> None:
    fake_radix.queue("/auth", *[FakeResponse(hang=True)] * 10)
    started = time.monotonic()
    with pytest.raises(RadixTransportError) as info:
        within(
            GENEROUS * 2, lambda: authenticate(credentials, base_url=fake_radix.url, timeout=0.3)
        )
    elapsed = time.monotonic() - started
    attempts = fake_radix.auth_count
    assert 1 <= attempts < 10
    assert elapsed >= 0.3 * attempts * 0.9  # each attempt waited for its timeout
    assert elapsed < 0.3 * attempts + GENEROUS
    assert host_of(fake_radix) in str(info.value)
    assert "0.3" in str(info.value)
    assert_no_secret(info.value, secret)


def test_truncated_auth_body_is_an_error(
    fake_radix: FakeRadixServer, credentials: RadixCredentials, secret: str
) -> None:
    token = fake_radix.issue_token()
    fake_radix.queue("/auth", FakeResponse(200, {"access_token": token}, truncate=True))
    with pytest.raises((RadixTransportError, RadixResponseError)) as info:
        authenticate(credentials, base_url=fake_radix.url, timeout=2.0)
    assert host_of(fake_radix) in str(info.value)
    assert token not in str(info.value)
    assert_no_secret(info.value, secret)


def test_html_200_body_is_a_response_error(
    fake_radix: FakeRadixServer, credentials: RadixCredentials, secret: str
) -> None:
    page = "<!DOCTYPE html><html><body>Welcome to the portal, session 9f8e7d6c5b</body></html>"
    fake_radix.queue("/auth", FakeResponse(200, page, content_type="text/html; charset=utf-8"))
    with pytest.raises(RadixResponseError) as info:
        authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert "text/html" in str(info.value)
    assert host_of(fake_radix) in str(info.value)
    assert "9f8e7d6c5b" not in str(info.value)
    assert_no_secret(info.value, secret)
    assert fake_radix.auth_count == 1


def test_json_without_token_names_the_keys(
    fake_radix: FakeRadixServer, credentials: RadixCredentials
) -> None:
    fake_radix.queue("/auth", FakeResponse(200, {"status": "pending-value-abcdef12", "ok": True}))
    with pytest.raises(RadixResponseError) as info:
        authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert "status" in str(info.value) and "application/json" in str(info.value)
    assert "pending-value-abcdef12" not in str(info.value)


# -- configuration checks (no request needed) -----------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://api.radix.com", "http://10.1.2.3:8080", "http://radix.invalid/api/"]
)
def test_plain_http_to_a_remote_host_is_refused(
    credentials: RadixCredentials, secret: str, url: str
) -> None:
    with pytest.raises(RadixConfigError) as info:
        RadixAuth(credentials, base_url=url)
    assert "http" in str(info.value)
    assert_no_secret(info.value, secret)
    with pytest.raises(RadixConfigError):
        authenticate(credentials, base_url=url, timeout=0.1)


@pytest.mark.parametrize(
    "url", ["http://api.radix.com", "http://10.1.2.3:8080", "http://radix.invalid/api/"]
)
def test_plain_http_allowed_when_asked(credentials: RadixCredentials, url: str) -> None:
    auth = RadixAuth(credentials, base_url=url, allow_http=True)
    assert auth.auth_count == 0
    session = RadixSession(auth)
    assert session.base_url == url.rstrip("/")
    session.close()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "https://api.radix.com"]
)
def test_loopback_http_and_https_are_accepted(credentials: RadixCredentials, url: str) -> None:
    auth = RadixAuth(credentials, base_url=url)
    assert auth.base_url == url
    assert auth.auth_count == 0


@pytest.mark.parametrize(
    "url",
    [
        "api.radix.com",
        "ftp://api.radix.com",
        "",
        "https://",
        "https://api.radix.com/?key=1",
        "https://api.radix.com/#frag",
    ],
)
def test_base_url_without_scheme_or_host_is_refused(
    credentials: RadixCredentials, url: str
) -> None:
    with pytest.raises(RadixConfigError):
        RadixAuth(credentials, base_url=url)


def test_credentials_repr_and_str_are_masked(secret: str) -> None:
    credentials = RadixCredentials("5642c0b355d27c0e003b3f30", secret)
    for shown in (repr(credentials), str(credentials), f"{credentials}", repr([credentials])):
        assert secret not in shown
        assert repr(secret) not in shown
        assert MASK in shown
        assert "5642c0b355d27c0e003b3f30" in shown
    assert credentials.client_secret == secret
    assert f"{credentials.client_secret}" == secret
    assert secret not in repr(credentials.client_secret)


@pytest.mark.parametrize(
    ("client_id", "client_secret"),
    [("", "a-s3cr3t-value-1"), ("   ", "a-s3cr3t-value-1"), ("5642c0b3", ""), ("5642c0b3", " \n")],
)
def test_credentials_refuse_empty_fields(client_id: str, client_secret: str) -> None:
    with pytest.raises(RadixConfigError) as info:
        RadixCredentials(client_id, client_secret)
    assert "empty" in str(info.value)
    assert "a-s3cr3t-value-1" not in str(info.value)


def test_credentials_refuse_non_strings() -> None:
    with pytest.raises(RadixConfigError):
        RadixCredentials("5642c0b3", None)  # type: ignore[arg-type]
    with pytest.raises(RadixConfigError):
        RadixCredentials(1234, "a-s3cr3t-value-2")  # type: ignore[arg-type]


# -- RadixAuth ------------------------------------------------------------------------------------


def test_token_is_fetched_lazily_and_kept(
    fake_radix: FakeRadixServer, radix_auth_obj: RadixAuth
) -> None:
    assert fake_radix.requests == []
    assert radix_auth_obj.auth_count == 0
    token = radix_auth_obj.token
    assert fake_radix.auth_count == 1
    assert radix_auth_obj.auth_count == 1
    assert fake_radix.issued_tokens == [str(token.value)]
    assert radix_auth_obj.token is token
    assert radix_auth_obj.auth_count == 1
    assert fake_radix.auth_count == 1


def test_one_auth_for_many_requests(fake_radix: FakeRadixServer, session: RadixSession) -> None:
    statuses = [session.get("/export").status_code for _ in range(6)]
    assert statuses == [200] * 6
    assert fake_radix.auth_count == 1
    assert session.auth.auth_count == 1  # type: ignore[union-attr]
    (token,) = fake_radix.issued_tokens
    exports = fake_radix.requests_to("/export")
    assert len(exports) == 6
    assert all(r.header("Authorization") == f"Bearer {token}" for r in exports)
    assert connections_in_use(fake_radix) == 0


def test_export_data_comes_back(fake_radix: FakeRadixServer, session: RadixSession) -> None:
    response = session.get("/export")
    assert response.status_code == 200
    records = response.json()
    assert len(records) == fake_radix.records
    assert {"propertyId", "organizationId", "createdAt"} <= set(records[0])


def test_token_renewed_when_half_its_short_lifetime_is_left(
    fake_radix: FakeRadixServer, session: RadixSession
) -> None:
    fake_radix.token_lifetime = 2  # renewal due when < min(60 s, 1 s) remains
    assert session.get("/export").status_code == 200
    assert session.get("/export").status_code == 200
    assert fake_radix.auth_count == 1
    time.sleep(1.1)
    assert session.get("/export").status_code == 200
    assert fake_radix.auth_count == 2
    first, second = fake_radix.issued_tokens
    assert first != second
    last = fake_radix.requests_to("/export")[-1]
    assert last.header("Authorization") == f"Bearer {second}"
    assert len(fake_radix.requests_to("/export")) == 3  # renewed before use: no 401 round trip


def _token(lifetime: float, age: float) -> RadixToken:
    return RadixToken("opaque-" + uuid.uuid4().hex, lifetime, {}, time.monotonic() - age)


@pytest.mark.parametrize(
    ("lifetime", "age", "renewed"),
    [
        (3600.0, 3600.0 - 61.0, False),  # 61 s left: more than the 60 s margin
        (3600.0, 3600.0 - 59.0, True),  # 59 s left
        (200.0, 139.0, False),  # 61 s left, half the lifetime is 100 s: the 60 s cap applies
        (200.0, 141.0, True),
        (10.0, 4.5, False),  # 5.5 s left of 10: more than half
        (10.0, 5.5, True),  # 4.5 s left: less than half
        (10.0, 20.0, True),  # expired
    ],
)
def test_renewal_margin(
    credentials: RadixCredentials, lifetime: float, age: float, renewed: bool
) -> None:
    issued: list[RadixToken] = []

    def fetch() -> RadixToken:
        issued.append(_token(lifetime, age) if not issued else _token(3600.0, 0.0))
        return issued[-1]

    auth = RadixAuth(credentials, base_url="https://api.radix.com", fetch=fetch)
    first = auth.token
    assert first is issued[0]
    again = auth.token
    assert (again is not first) is renewed
    assert auth.auth_count == (2 if renewed else 1)


def test_a_401_mid_session_reauthenticates_once_and_retries(
    fake_radix: FakeRadixServer, session: RadixSession
) -> None:
    assert session.get("/export").status_code == 200
    fake_radix.queue("/export", FakeResponse(401, {"message": "token revoked"}))
    response = session.get("/export")
    assert response.status_code == 200
    assert response.json()
    assert fake_radix.auth_count == 2
    assert session.auth.auth_count == 2  # type: ignore[union-attr]
    first, second = fake_radix.issued_tokens
    exports = fake_radix.requests_to("/export")
    assert len(exports) == 3
    assert exports[1].header("Authorization") == f"Bearer {first}"
    assert exports[2].header("Authorization") == f"Bearer {second}"
    assert exports[2].header("x-radix-version") == "1.0.0"
    # the new token is kept
    assert session.get("/export").status_code == 200
    assert fake_radix.auth_count == 2
    assert connections_in_use(fake_radix) == 0


def test_two_401s_return_the_second_to_the_caller(
    fake_radix: FakeRadixServer, session: RadixSession
) -> None:
    fake_radix.queue(
        "/export",
        FakeResponse(401, {"message": "first refusal"}),
        FakeResponse(401, {"message": "second refusal"}),
    )
    response = session.get("/export")
    assert response.status_code == 401
    assert response.json() == {"message": "second refusal"}
    assert fake_radix.auth_count == 2
    assert export_requests(fake_radix) == 2
    assert connections_in_use(fake_radix) == 0


def test_a_401_then_refused_credentials_raise(
    fake_radix: FakeRadixServer, session: RadixSession, secret: str
) -> None:
    assert session.get("/export").status_code == 200
    fake_radix.queue("/export", FakeResponse(401, {"message": "revoked"}))
    fake_radix.client_secret = "rotated-" + uuid.uuid4().hex
    with pytest.raises(RadixAuthError) as info:
        session.get("/export")
    assert info.value.status == 401
    assert fake_radix.auth_count == 2
    assert export_requests(fake_radix) == 2
    assert_no_secret(info.value, secret)
    # the 401 response's connection went back to the pool or was closed, not left busy
    busy = connections_in_use(fake_radix)
    del info
    collect_quietly()
    assert busy == 0


def test_refused_credentials_through_the_session(fake_radix: FakeRadixServer) -> None:
    wrong = "wrong-key-" + uuid.uuid4().hex
    auth = RadixAuth(RadixCredentials(fake_radix.client_id, wrong), base_url=fake_radix.url)
    with RadixSession(auth) as s, pytest.raises(RadixAuthError) as info:
        s.get("/export")
    auth.close()
    assert info.value.status == 401
    assert fake_radix.auth_count == 1
    assert export_requests(fake_radix) == 0
    assert_no_secret(info.value, wrong)


def test_concurrent_first_use_makes_one_auth_request(
    fake_radix: FakeRadixServer, radix_auth_obj: RadixAuth
) -> None:
    fake_radix.auth_delay = 0.2
    barrier = threading.Barrier(32)
    values: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def use() -> None:
        try:
            barrier.wait(timeout=GENEROUS)
            value = str(radix_auth_obj.token.value)
            with lock:
                values.append(value)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=use) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GENEROUS * 2)
    assert errors == []
    assert len(values) == 32
    assert len(set(values)) == 1
    assert fake_radix.auth_count == 1
    assert radix_auth_obj.auth_count == 1
    assert values[0] == fake_radix.issued_tokens[0]


def test_bearer_only_goes_to_the_base_url_origin(
    fake_radix: FakeRadixServer, other_server: FakeRadixServer, session: RadixSession
) -> None:
    response = session.get(f"{other_server.url}/export")
    assert response.status_code == 401  # the other server saw no token
    (sent,) = other_server.requests
    assert sent.header("Authorization") is None
    assert fake_radix.auth_count == 0  # no token was even needed
    assert session.get(f"{fake_radix.url}/export").status_code == 200  # absolute, same origin
    assert fake_radix.requests_to("/export")[0].header("Authorization", "").startswith("Bearer ")


@pytest.mark.parametrize(
    ("url", "attached"),
    [
        ("https://api.radix.com/export", True),
        ("https://api.radix.com:443/export?x=1", True),
        ("https://API.Radix.com/export", True),
        ("http://api.radix.com/export", False),
        ("https://api.radix.com:8443/export", False),
        ("https://api.radix.com.evil.example/export", False),
        ("https://api.radix.com@evil.example/export", False),
        ("https://evil.example/?next=https://api.radix.com/export", False),
        ("https://radix.com/export", False),
    ],
)
def test_bearer_attached_by_origin(credentials: RadixCredentials, url: str, attached: bool) -> None:
    token = RadixToken("opaque-" + uuid.uuid4().hex, 3600.0)
    auth = RadixAuth(credentials, base_url="https://api.radix.com/v1", fetch=lambda: token)
    prepared = auth(requests.Request("GET", url).prepare())
    assert (prepared.headers.get("Authorization") == f"Bearer {token.value}") is attached
    assert ("Authorization" in prepared.headers) is attached
    assert auth.auth_count == (1 if attached else 0)


def test_bearer_not_sent_along_a_redirect_to_another_origin(
    fake_radix: FakeRadixServer, other_server: FakeRadixServer, session: RadixSession
) -> None:
    location = f"{other_server.url}/export"
    fake_radix.queue("/export", FakeResponse(302, b"", {"Location": location}))
    session.get("/export")
    assert fake_radix.requests_to("/export")[0].header("Authorization", "").startswith("Bearer ")
    sent = other_server.requests_to("/export")
    assert sent, "the redirect was followed"
    # the other origin answers 401 (it got no token): that must not make the client send one
    assert [r.header("Authorization") for r in sent] == [None] * len(sent)
    assert len(sent) == 1


# -- RadixSession ---------------------------------------------------------------------------------


def test_relative_paths_and_version_header(
    fake_radix: FakeRadixServer, session: RadixSession
) -> None:
    assert session.get("/export").status_code == 200
    assert session.get("export").status_code == 200
    assert session.get("/export", params={"page": "2"}).status_code == 200
    assert session.get("/export", headers={"Accept": "application/json"}).status_code == 200
    assert session.request("GET", b"/export").status_code == 200
    exports = fake_radix.requests_to("/export")
    assert [r.path for r in exports] == ["/export"] * 5
    assert exports[2].query == "page=2"
    assert all(r.header("x-radix-version") == "1.0.0" for r in fake_radix.requests)


def test_version_header_of_the_session(
    fake_radix: FakeRadixServer, radix_auth_obj: RadixAuth
) -> None:
    with RadixSession(radix_auth_obj, api_version="7.8.9") as s:
        s.get("/export")
        s.post("/export", json={})
    exports = fake_radix.requests_to("/export")
    assert [r.header("x-radix-version") for r in exports] == ["7.8.9", "7.8.9"]


def test_session_with_a_path_prefix_on_the_same_origin(
    fake_radix: FakeRadixServer, radix_auth_obj: RadixAuth
) -> None:
    with RadixSession(radix_auth_obj, base_url=f"{fake_radix.url}/v2/") as s:
        assert s.get("/export").status_code == 200
    assert [r.path for r in fake_radix.requests_to("/export")] == ["/v2/export"]


def test_session_on_another_origin_is_refused(
    other_server: FakeRadixServer, radix_auth_obj: RadixAuth
) -> None:
    with pytest.raises(RadixConfigError):
        RadixSession(radix_auth_obj, base_url=other_server.url)
    assert other_server.requests == []


def test_timeout_applies_to_each_attempt(
    fake_radix: FakeRadixServer, credentials: RadixCredentials
) -> None:
    auth = RadixAuth(credentials, base_url=fake_radix.url, timeout=0.3)
    with RadixSession(auth) as s:
        assert s.timeout == 0.3
        auth.token  # noqa: B018 - authenticate before timing
        fake_radix.queue("/export", FakeResponse(hang=True))
        started = time.monotonic()
        response = within(GENEROUS, lambda: s.get("/export"))
        elapsed = time.monotonic() - started
    auth.close()
    assert response.status_code == 200  # the second attempt answered
    assert export_requests(fake_radix) == 2
    assert 0.25 <= elapsed < GENEROUS


def test_hanging_export_fails_naming_the_host(
    fake_radix: FakeRadixServer, radix_auth_obj: RadixAuth, secret: str
) -> None:
    radix_auth_obj.token  # noqa: B018 - authenticate before timing
    fake_radix.queue("/export", *[FakeResponse(hang=True)] * 10)
    with RadixSession(radix_auth_obj, timeout=0.3) as s:
        started = time.monotonic()
        with pytest.raises(RadixTransportError) as info:
            within(GENEROUS * 2, lambda: s.get("/export"))
        elapsed = time.monotonic() - started
    attempts = export_requests(fake_radix)
    assert 1 <= attempts < 10
    assert elapsed < 0.3 * attempts + GENEROUS
    assert host_of(fake_radix) in str(info.value)
    assert_no_secret(info.value, secret)
    busy = connections_in_use(fake_radix)
    del info
    collect_quietly()
    assert busy == 0


def test_explicit_timeout_argument_wins(fake_radix: FakeRadixServer, session: RadixSession) -> None:
    session.get("/export")
    fake_radix.queue("/export", FakeResponse(delay=0.5))
    started = time.monotonic()
    response = session.get("/export", timeout=0.2)  # times out once, then the retry succeeds
    assert response.status_code == 200
    assert export_requests(fake_radix) == 3
    assert time.monotonic() - started < GENEROUS


def test_get_retried_on_500_then_passes(fake_radix: FakeRadixServer, session: RadixSession) -> None:
    fake_radix.queue("/export", FakeResponse(500, {"message": "oops"}))
    response = session.get("/export")
    assert response.status_code == 200
    assert export_requests(fake_radix) == 2


@pytest.mark.parametrize("status", [502, 504])
def test_get_retried_on_gateway_errors(
    fake_radix: FakeRadixServer, session: RadixSession, status: int
) -> None:
    fake_radix.queue("/export", FakeResponse(status, b"bad gateway"))
    assert session.get("/export").status_code == 200
    assert export_requests(fake_radix) == 2


def test_503_on_every_attempt_returns_the_last_response(
    fake_radix: FakeRadixServer, session: RadixSession
) -> None:
    fake_radix.queue(
        "/export", *[FakeResponse(503, {"message": "down", "n": i}) for i in range(10)]
    )
    started = time.monotonic()
    response = session.get("/export")
    assert time.monotonic() - started < GENEROUS
    attempts = export_requests(fake_radix)
    assert response.status_code == 503
    assert 1 < attempts < 10  # retried a bounded number of times
    assert response.json() == {"message": "down", "n": attempts - 1}  # the last one
    assert connections_in_use(fake_radix) == 0


def test_429_with_retry_after_waits_then_succeeds(
    fake_radix: FakeRadixServer, session: RadixSession
) -> None:
    session.get("/export")
    fake_radix.queue("/export", FakeResponse(429, {"message": "slow down"}, {"Retry-After": "1"}))
    started = time.monotonic()
    response = session.get("/export")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert export_requests(fake_radix) == 3
    first, second = fake_radix.requests_to("/export")[1:]
    assert second.time - first.time >= 0.9
    assert 0.9 <= elapsed < GENEROUS


@pytest.mark.parametrize("retry_after", ["86400", "61", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_429_with_a_long_retry_after_fails_at_once(
    fake_radix: FakeRadixServer, session: RadixSession, secret: str, retry_after: str
) -> None:
    session.get("/export")
    fake_radix.queue(
        "/export",
        FakeResponse(429, {"message": "come back tomorrow"}, {"Retry-After": retry_after}),
    )
    started = time.monotonic()
    with pytest.raises(RadixTransportError) as info:
        within(GENEROUS, lambda: session.get("/export"))
    assert time.monotonic() - started < GENEROUS
    assert "Retry-After" in str(info.value)
    assert retry_after in str(info.value)
    assert f"GET {fake_radix.url}/export answered 429" in str(info.value)
    assert export_requests(fake_radix) == 2
    assert_no_secret(info.value, secret)
    busy = connections_in_use(fake_radix)
    del info
    collect_quietly()
    assert busy == 0  # the 429's connection was not left open


def test_auth_429_with_a_long_retry_after_fails_at_once(
    fake_radix: FakeRadixServer, credentials: RadixCredentials, secret: str
) -> None:
    fake_radix.queue("/auth", FakeResponse(429, {"message": "later"}, {"Retry-After": "3600"}))
    started = time.monotonic()
    with pytest.raises(RadixTransportError) as info:
        within(GENEROUS, lambda: authenticate(credentials, base_url=fake_radix.url, timeout=5.0))
    assert time.monotonic() - started < GENEROUS
    assert "Retry-After" in str(info.value)
    assert f"POST {fake_radix.url}/auth answered 429" in str(info.value)
    assert fake_radix.auth_count == 1
    assert_no_secret(info.value, secret)


def test_post_is_not_retried_on_500(fake_radix: FakeRadixServer, session: RadixSession) -> None:
    fake_radix.queue("/export", FakeResponse(500, {"message": "oops"}))
    response = session.post("/export", json={"query": 1})
    assert response.status_code == 500
    assert export_requests(fake_radix) == 1


def test_truncated_export_body_is_an_error(
    fake_radix: FakeRadixServer, session: RadixSession, secret: str
) -> None:
    session.get("/export")
    fake_radix.queue("/export", FakeResponse(200, [{"propertyId": "x" * 200}], truncate=True))
    with pytest.raises((RadixTransportError, RadixResponseError)) as info:
        session.get("/export")
    assert host_of(fake_radix) in str(info.value)
    assert_no_secret(info.value, secret)
    busy = connections_in_use(fake_radix)
    del info
    collect_quietly()
    assert busy == 0


def test_closing_a_session_keeps_a_shared_adapter(
    fake_radix: FakeRadixServer, radix_auth_obj: RadixAuth
) -> None:
    adapter = make_adapter()
    first = RadixSession(radix_auth_obj, adapter=adapter)
    assert first.get("/export").status_code == 200
    assert len(adapter.poolmanager.pools) == 1
    first.close()
    assert len(adapter.poolmanager.pools) == 1  # the shared pool was not cleared
    second = RadixSession(radix_auth_obj, adapter=adapter)
    assert second.get("/export").status_code == 200
    second.close()
    adapter.close()
    assert len(adapter.poolmanager.pools) == 0
    assert fake_radix.auth_count == 1


def test_closing_a_session_closes_its_own_adapter(radix_auth_obj: RadixAuth) -> None:
    s = RadixSession(radix_auth_obj)
    assert s.get("/export").status_code == 200
    own = s.adapter
    assert len(own.poolmanager.pools) == 1  # type: ignore[attr-defined]
    s.close()
    assert len(own.poolmanager.pools) == 0  # type: ignore[attr-defined]


def test_netrc_cannot_replace_the_bearer(
    fake_radix: FakeRadixServer,
    session: RadixSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\n  login netrc-user\n  password netrc-pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    # control: a plain requests session does pick the netrc file up
    plain = requests.get(f"{fake_radix.url}/export", timeout=5.0)
    assert plain.status_code == 401
    assert (fake_radix.requests[-1].header("Authorization") or "").startswith("Basic ")

    assert session.get("/export").status_code == 200
    (token,) = fake_radix.issued_tokens
    (auth_request,) = fake_radix.requests_to("/auth")
    assert auth_request.header("Authorization") is None
    assert fake_radix.requests[-1].header("Authorization") == f"Bearer {token}"
