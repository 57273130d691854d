"""Tests of the fake Radix server in ``pytest_radix.testing``, over real HTTP."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any

import brotli
import jwt
import pytest
import requests
from helpers import EXPORT_FIELDS

from pytest_radix.testing import (
    AUTH_SHAPES,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SIGNING_KEY,
    ECHO_FORMS,
    FakeRadixServer,
    FakeResponse,
    benchmark_records,
)

VERSION = {"x-radix-version": "1.0.0"}
CREDENTIALS = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
HEX24 = re.compile(r"[0-9a-f]{24}")
TIMEOUT = 5.0


@pytest.fixture
def server() -> Iterator[FakeRadixServer]:
    with FakeRadixServer() as srv:
        yield srv


def auth(
    server: FakeRadixServer, path: str = "/auth", body: object = CREDENTIALS
) -> requests.Response:
    return requests.post(
        server.url + path,
        json=body,
        headers={"Content-Type": "application/json", **VERSION},
        timeout=TIMEOUT,
    )


def export(server: FakeRadixServer, token: str | None, path: str = "/export") -> requests.Response:
    headers = dict(VERSION)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(server.url + path, headers=headers, timeout=TIMEOUT)


def token_of(server: FakeRadixServer) -> str:
    response = auth(server)
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


# -- lifecycle -----------------------------------------------------------------------------------


def test_url_and_idempotent_start(server: FakeRadixServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
    assert server.running
    url = server.url
    assert server.start() is server
    assert server.url == url


def test_url_before_start_raises() -> None:
    fake = FakeRadixServer()
    with pytest.raises(RuntimeError, match="start"):
        _ = fake.url
    assert not fake.running


def test_stop_without_start_and_twice() -> None:
    fake = FakeRadixServer()
    fake.stop()
    fake.start()
    fake.stop()
    fake.stop()
    assert not fake.running
    with pytest.raises(requests.ConnectionError):
        requests.get(fake.url + "/export", timeout=TIMEOUT)


def test_restart_after_stop() -> None:
    fake = FakeRadixServer()
    with fake:
        assert token_of(fake)
    with fake:
        assert token_of(fake)
    assert fake.auth_count == 2


def test_invalid_auth_shape_rejected() -> None:
    with pytest.raises(ValueError, match="auth_shape"):
        FakeRadixServer(auth_shape="cookie")


def test_default_secret_is_nasty() -> None:
    assert len(DEFAULT_CLIENT_SECRET) >= 30
    assert all(c in DEFAULT_CLIENT_SECRET for c in ('"', "\\", "/"))
    assert not DEFAULT_CLIENT_SECRET.isascii()
    assert HEX24.fullmatch(DEFAULT_CLIENT_ID)


# -- POST /auth ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", AUTH_SHAPES)
def test_auth_success_every_shape(server: FakeRadixServer, shape: str) -> None:
    server.auth_shape = shape
    response = auth(server)
    assert response.status_code == 200
    content_type = response.headers["Content-Type"]
    if shape == "text":
        assert content_type.startswith("text/plain")
        token = response.text
    else:
        assert content_type == "application/json"
        payload = response.json()
        if shape == "string":
            token = payload
        elif shape in ("data", "result", "response"):
            assert list(payload) == [shape]
            token = payload[shape]["access_token"]
        else:
            assert payload == {shape: payload[shape], "token_type": "Bearer"}
            token = payload[shape]
    assert server.issued_tokens == [token]
    assert export(server, token).status_code == 200


@pytest.mark.parametrize("shape", ["access_token", "idToken", "result"])
def test_auth_extra_merged_at_top_level(server: FakeRadixServer, shape: str) -> None:
    server.auth_shape = shape
    server.auth_extra = {"expires_in": 10}
    payload = auth(server).json()
    assert payload["expires_in"] == 10
    assert shape in payload


@pytest.mark.parametrize("shape", ["string", "text"])
def test_auth_extra_ignored_for_non_object_shapes(server: FakeRadixServer, shape: str) -> None:
    server.auth_shape = shape
    server.auth_extra = {"expires_in": 10}
    response = auth(server)
    assert response.status_code == 200
    assert "expires_in" not in response.text


def test_auth_accepts_raw_utf8_body(server: FakeRadixServer) -> None:
    data = json.dumps(CREDENTIALS, ensure_ascii=False).encode("utf-8")
    assert "ü".encode() in data
    response = requests.post(
        server.url + "/auth",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert server.requests[0].body == data
    assert server.requests[0].json() == CREDENTIALS


def test_auth_accepts_chunked_body(server: FakeRadixServer) -> None:
    raw = json.dumps(CREDENTIALS).encode()
    response = requests.post(
        server.url + "/auth",
        data=iter([raw[:10], raw[10:]]),
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert server.requests[0].header("transfer-encoding") == "chunked"
    assert server.requests[0].body == raw


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_id": DEFAULT_CLIENT_ID, "client_secret": "wrong"},
        {"client_id": "0" * 24, "client_secret": DEFAULT_CLIENT_SECRET},
        {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET[:-1]},
    ],
)
def test_auth_wrong_credentials_401(server: FakeRadixServer, credentials: dict[str, str]) -> None:
    response = auth(server, body=credentials)
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid client credentials"}
    assert server.issued_tokens == []
    assert server.auth_count == 1


def test_auth_follows_changed_credentials(server: FakeRadixServer) -> None:
    server.client_secret = "rotated"
    assert auth(server).status_code == 401
    response = auth(server, body={"client_id": DEFAULT_CLIENT_ID, "client_secret": "rotated"})
    assert response.status_code == 200


def test_auth_bad_json_400(server: FakeRadixServer) -> None:
    response = requests.post(
        server.url + "/auth",
        data=b'{"client_id": ',
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert isinstance(response.json()["message"], str)


@pytest.mark.parametrize(
    "body", [{}, {"client_id": DEFAULT_CLIENT_ID}, {"client_secret": "x"}, ["a"], "text", 0]
)
def test_auth_missing_fields_400(server: FakeRadixServer, body: object) -> None:
    response = auth(server, body=body)
    assert response.status_code == 400
    assert "client_id" in response.json()["message"]


def test_auth_wrong_method_405(server: FakeRadixServer) -> None:
    response = requests.get(server.url + "/auth", timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert server.auth_count == 0


def test_jwt_claims(server: FakeRadixServer) -> None:
    before = int(time.time())
    first, second = token_of(server), token_of(server)
    assert first != second
    assert jwt.get_unverified_header(first)["alg"] == "HS256"
    claims = jwt.decode(first, DEFAULT_SIGNING_KEY, algorithms=["HS256"])
    assert claims["sub"] == DEFAULT_CLIENT_ID
    assert isinstance(claims["iat"], int)
    assert before <= claims["iat"] <= time.time()
    assert claims["exp"] == claims["iat"] + 3600
    assert re.fullmatch(r"[0-9a-f]{32}", claims["jti"])
    other = jwt.decode(second, DEFAULT_SIGNING_KEY, algorithms=["HS256"])
    assert other["jti"] != claims["jti"]


@pytest.mark.parametrize(("lifetime", "expected"), [(0.2, 1), (0.0, 1), (10.3, 11), (60, 60)])
def test_token_lifetime_rounding(server: FakeRadixServer, lifetime: float, expected: int) -> None:
    server.token_lifetime = lifetime
    claims = jwt.decode(token_of(server), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == expected


def test_custom_signing_key_and_client() -> None:
    key = "another-signing-key-that-is-long-enough-0123"
    with FakeRadixServer(client_id="a" * 24, client_secret="s3cret", signing_key=key) as fake:
        response = auth(fake, body={"client_id": "a" * 24, "client_secret": "s3cret"})
        token = response.json()["access_token"]
        assert jwt.decode(token, key, algorithms=["HS256"])["sub"] == "a" * 24
        assert export(fake, token).status_code == 200


# -- GET /export ---------------------------------------------------------------------------------


def test_export_returns_records(server: FakeRadixServer) -> None:
    response = export(server, token_of(server))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    records = response.json()
    assert records == benchmark_records(3)
    assert len({r["propertyId"] for r in records}) == 3
    for record in records:
        assert set(record) == EXPORT_FIELDS
        assert HEX24.fullmatch(record["propertyId"])
        assert HEX24.fullmatch(record["organizationId"])
        assert isinstance(record["subjectAverage"], float)
        assert isinstance(record["compsAverage"], float)
        assert "1BR" in record["subjectAverageByUnitType"]
        assert all(isinstance(v, float) for v in record["compsAverageByUnitType"].values())
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["createdAt"]["$date"])
    assert records[0]["createdAt"] == {"$date": "2026-01-01T00:00:00.000Z"}


@pytest.mark.parametrize("count", [0, 1, 7])
def test_export_records_knob(server: FakeRadixServer, count: int) -> None:
    server.records = count
    assert export(server, token_of(server)).json() == benchmark_records(count)


def test_export_answers_can_change_like_a_moving_api(server: FakeRadixServer) -> None:
    token = token_of(server)
    server.reshape_export = lambda records: [
        {**{k: v for k, v in r.items() if k != "compsAverage"}, "score": 1} for r in records
    ]
    records = export(server, token).json()
    assert {"score"} | EXPORT_FIELDS - {"compsAverage"} == set(records[0])
    server.export_status, server.export_content_type = 202, "text/csv"
    response = export(server, token)
    assert (response.status_code, response.headers["Content-Type"]) == (202, "text/csv")


def test_export_is_deterministic(server: FakeRadixServer) -> None:
    token = token_of(server)
    assert export(server, token).content == export(server, token).content


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer garbage", "Basic dXNlcjpwYXNz", "Token {token}", "{token}"],
)
def test_export_without_valid_bearer_401(
    server: FakeRadixServer, authorization: str | None
) -> None:
    token = server.issue_token()
    headers = dict(VERSION)
    if authorization is not None:
        headers["Authorization"] = authorization.format(token=token)
    response = requests.get(server.url + "/export", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_export_bearer_scheme_case_insensitive(server: FakeRadixServer) -> None:
    headers = {"Authorization": "bearer " + token_of(server), **VERSION}
    response = requests.get(server.url + "/export", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200


def test_export_expired_token_401(server: FakeRadixServer) -> None:
    expired = server.issue_token(lifetime=-10)
    claims = jwt.decode(expired, options={"verify_signature": False})
    assert claims["exp"] < time.time()
    assert export(server, expired).status_code == 401
    overridden = server.issue_token(exp=int(time.time()) - 60)
    assert export(server, overridden).status_code == 401
    assert export(server, server.issue_token(lifetime=60)).status_code == 200


def test_export_token_with_wrong_key_401(server: FakeRadixServer) -> None:
    forged = jwt.encode(
        {"sub": DEFAULT_CLIENT_ID, "exp": int(time.time()) + 60},
        "a-completely-different-signing-key-0123456789",
        algorithm="HS256",
    )
    assert export(server, forged).status_code == 401


def test_export_token_without_exp_401(server: FakeRadixServer) -> None:
    token = jwt.encode({"sub": DEFAULT_CLIENT_ID}, DEFAULT_SIGNING_KEY, algorithm="HS256")
    assert export(server, token).status_code == 401


def test_issue_token_claims(server: FakeRadixServer) -> None:
    token = server.issue_token(lifetime=120, sub="someone", scope="export")
    claims = jwt.decode(token, DEFAULT_SIGNING_KEY, algorithms=["HS256"])
    assert claims["sub"] == "someone"
    assert claims["scope"] == "export"
    assert claims["exp"] - claims["iat"] == 120
    assert server.issued_tokens == []
    assert export(server, token).status_code == 200


def test_export_missing_version_400(server: FakeRadixServer) -> None:
    response = requests.get(
        server.url + "/export",
        headers={"Authorization": f"Bearer {token_of(server)}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert response.json() == {"message": "missing x-radix-version"}


def test_export_wrong_method_405(server: FakeRadixServer) -> None:
    response = requests.post(server.url + "/export", timeout=TIMEOUT)
    assert response.status_code == 405


# -- routing ---------------------------------------------------------------------------------------


def test_prefixed_paths(server: FakeRadixServer) -> None:
    response = auth(server, "/api/v2/auth")
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert export(server, token, "/api/v2/export?since=2026-01-01&x=1").status_code == 200
    assert server.auth_count == 1
    [auth_request] = server.requests_to("/auth")
    assert auth_request.path == "/api/v2/auth"
    assert server.requests_to("/v2/auth") == [auth_request]
    assert server.requests_to("/v1/auth") == []
    [export_request] = server.requests_to("/export")
    assert export_request.path == "/api/v2/export"
    assert export_request.query == "since=2026-01-01&x=1"


def test_trailing_slash_is_same_endpoint(server: FakeRadixServer) -> None:
    assert auth(server, "/auth/").status_code == 200
    assert server.auth_count == 1


@pytest.mark.parametrize("path", ["/", "/nope", "/auth/extra", "/exports"])
def test_unknown_path_404(server: FakeRadixServer, path: str) -> None:
    response = requests.get(server.url + path, timeout=TIMEOUT)
    assert response.status_code == 404
    assert response.json() == {"message": "not found"}


# -- queued responses ----------------------------------------------------------------------------


def test_queue_order_then_normal(server: FakeRadixServer) -> None:
    token = token_of(server)
    server.queue(
        "/export",
        FakeResponse(429, {"message": "slow down"}, {"Retry-After": "1"}),
        FakeResponse(503, "maintenance"),
    )
    server.queue("/export", FakeResponse(502, b"\x00bad gateway", content_type="text/html"))

    first = export(server, token)
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "1"
    assert first.headers["Content-Type"] == "application/json"
    assert first.json() == {"message": "slow down"}

    second = export(server, token)
    assert second.status_code == 503
    assert second.headers["Content-Type"].startswith("text/plain")
    assert second.text == "maintenance"

    third = export(server, token)
    assert third.status_code == 502
    assert third.headers["Content-Type"] == "text/html"
    assert third.content == b"\x00bad gateway"

    assert export(server, token).json() == benchmark_records(3)
    assert len(server.requests_to("/export")) == 4


def test_queue_matches_prefix_and_any_method(server: FakeRadixServer) -> None:
    server.queue("/auth", FakeResponse(500, {"message": "oops"}))
    response = auth(server, "/api/auth")
    assert response.status_code == 500
    assert server.issued_tokens == []
    assert server.auth_count == 1
    assert auth(server, "/api/auth").status_code == 200


def test_queue_does_not_affect_other_paths(server: FakeRadixServer) -> None:
    server.queue("/export", FakeResponse(500))
    assert auth(server).status_code == 200
    assert requests.get(server.url + "/other", timeout=TIMEOUT).status_code == 404
    assert requests.get(server.url + "/export", timeout=TIMEOUT).status_code == 500


def test_queued_redirect_and_content_type_header_override(server: FakeRadixServer) -> None:
    server.queue(
        "/export",
        FakeResponse(
            307, "", {"Location": server.url + "/moved/export", "Content-Type": "text/x-custom"}
        ),
    )
    response = export(server, server.issue_token())
    assert response.status_code == 200
    assert response.history[0].status_code == 307
    assert response.history[0].headers["Content-Type"] == "text/x-custom"
    assert [r.path for r in server.requests_to("/export")] == ["/export", "/moved/export"]


def test_queued_204_has_no_body(server: FakeRadixServer) -> None:
    server.queue("/export", FakeResponse(204))
    with requests.Session() as session:
        response = session.get(server.url + "/export", timeout=TIMEOUT)
        assert response.status_code == 204
        assert response.content == b""
        assert session.get(server.url + "/nope", timeout=TIMEOUT).status_code == 404


def test_truncate(server: FakeRadixServer) -> None:
    server.queue("/export", FakeResponse(200, {"items": list(range(200))}, truncate=True))
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        export(server, server.issue_token())
    assert export(server, server.issue_token()).status_code == 200


def test_truncate_raw_bytes(server: FakeRadixServer) -> None:
    server.queue("/export", FakeResponse(200, b"0123456789", truncate=True))
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=2)
    try:
        conn.request("GET", "/export")
        response = conn.getresponse()
        assert response.getheader("Content-Length") == "10"
        with pytest.raises(http.client.IncompleteRead) as info:
            response.read()
        assert info.value.partial == b"01234"
    finally:
        conn.close()


def test_close(server: FakeRadixServer) -> None:
    server.queue("/auth", FakeResponse(close=True))
    with pytest.raises(requests.ConnectionError):
        auth(server)
    assert server.auth_count == 1
    assert auth(server).status_code == 200


def test_hang_times_out_client(server: FakeRadixServer) -> None:
    server.queue("/export", FakeResponse(hang=True))
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(server.url + "/export", timeout=0.2)
    assert time.monotonic() - started < 1.0
    assert len(server.requests_to("/export")) == 1
    assert export(server, server.issue_token()).status_code == 200


def test_hang_released_by_prompt_stop() -> None:
    fake = FakeRadixServer().start()
    fake.queue("/export", FakeResponse(hang=True))
    outcome: list[BaseException | requests.Response] = []

    def client() -> None:
        try:
            outcome.append(requests.get(fake.url + "/export", timeout=TIMEOUT))
        except requests.RequestException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    try:
        deadline = time.monotonic() + 2
        while not fake.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fake.requests
        started = time.monotonic()
        fake.stop()
        assert time.monotonic() - started < 1.0
    finally:
        fake.stop()
        thread.join(TIMEOUT)
    assert not thread.is_alive()
    [result] = outcome
    assert isinstance(result, requests.ConnectionError)


def test_stop_is_prompt_with_idle_keep_alive_connection() -> None:
    fake = FakeRadixServer().start()
    with requests.Session() as session:
        assert session.get(fake.url + "/nope", timeout=TIMEOUT).status_code == 404
        started = time.monotonic()
        fake.stop()
        assert time.monotonic() - started < 1.0
        assert not fake.running


def test_keep_alive_serves_several_requests_on_one_connection(server: FakeRadixServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=2)
    try:
        body = json.dumps(CREDENTIALS)
        conn.request("POST", "/auth", body=body, headers={"Content-Type": "application/json"})
        first = conn.getresponse()
        token = json.loads(first.read())["access_token"]
        sock = conn.sock
        conn.request("GET", "/export", headers={"Authorization": f"Bearer {token}", **VERSION})
        second = conn.getresponse()
        assert second.status == 200
        assert json.loads(second.read()) == benchmark_records(3)
        assert conn.sock is sock
    finally:
        conn.close()


# -- timing --------------------------------------------------------------------------------------


def test_auth_delay(server: FakeRadixServer) -> None:
    server.auth_delay = 0.4
    started = time.monotonic()
    token = token_of(server)
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    assert export(server, token).status_code == 200
    assert time.monotonic() - started < 0.4  # the delay is for /auth only


def test_latency(server: FakeRadixServer) -> None:
    server.latency = 0.2
    started = time.monotonic()
    assert requests.get(server.url + "/nope", timeout=TIMEOUT).status_code == 404
    assert time.monotonic() - started >= 0.2


def test_queued_delay(server: FakeRadixServer) -> None:
    server.queue("/export", FakeResponse(418, "teapot", delay=0.2))
    started = time.monotonic()
    response = requests.get(server.url + "/export", timeout=TIMEOUT)
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 418


# -- request log ---------------------------------------------------------------------------------


def test_request_log(server: FakeRadixServer) -> None:
    before = time.monotonic()
    token = token_of(server)
    auth(server, body={"client_id": "x", "client_secret": "y"})
    export(server, token, "/export?page=2")
    after = time.monotonic()

    log = server.requests
    assert [(r.method, r.path) for r in log] == [
        ("POST", "/auth"),
        ("POST", "/auth"),
        ("GET", "/export"),
    ]
    first, _, last = log
    assert first.json() == CREDENTIALS
    assert first.header("content-type") == "application/json"
    assert first.header("X-RADIX-VERSION") == "1.0.0"
    assert first.header("missing") is None
    assert first.query == ""
    assert last.query == "page=2"
    assert last.body == b""
    assert last.header("authorization") == f"Bearer {token}"
    assert before <= first.time <= log[1].time <= last.time <= after
    assert server.auth_count == 2
    assert server.issued_tokens == [token]

    log.clear()  # a copy: the server's log is untouched
    assert len(server.requests) == 3


def test_reset(server: FakeRadixServer) -> None:
    token_of(server)
    server.queue("/export", FakeResponse(500))
    server.reset()
    assert server.requests == []
    assert server.auth_count == 0
    assert server.issued_tokens == []
    assert export(server, server.issue_token()).status_code == 200
    assert len(server.requests) == 1


def test_concurrent_auth(server: FakeRadixServer) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        status = auth(server).status_code
        with lock:
            results.append(status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert results == [200] * 8
    assert server.auth_count == 8
    assert len(set(server.issued_tokens)) == 8


# -- what real servers send: compression, charsets, echoed secrets ------------------------------


@pytest.mark.parametrize(
    ("coding", "decode"),
    [
        ("gzip", gzip.decompress),
        ("deflate", zlib.decompress),
        ("br", brotli.decompress),
        ("gzip,br", lambda data: gzip.decompress(brotli.decompress(data))),
    ],
)
def test_a_compressed_body(server: FakeRadixServer, coding: str, decode: Any) -> None:
    server.queue("/export", FakeResponse(200, {"n": 1}, content_encoding=coding))
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=2)
    try:
        conn.request("GET", "/export")
        response = conn.getresponse()
        assert response.getheader("Content-Encoding") == coding
        assert json.loads(decode(response.read())) == {"n": 1}
    finally:
        conn.close()


def test_an_unknown_content_encoding_is_a_clear_error() -> None:
    with pytest.raises(
        ValueError, match="unknown content_encoding 'zstd'; use gzip, deflate or br"
    ):
        FakeResponse(200, "x", content_encoding="zstd").encoded()


@pytest.mark.parametrize("charset", ["utf-16", "utf-16le", "utf-32", "utf-8-sig"])
def test_a_body_in_another_charset(server: FakeRadixServer, charset: str) -> None:
    content_type = f"application/json; charset={charset}"
    server.queue("/export", FakeResponse(200, '{"k": "ünï"}', content_type=content_type))
    response = requests.get(server.url + "/export", timeout=TIMEOUT)
    assert response.content == '{"k": "ünï"}'.encode(charset)
    assert response.json() == {"k": "ünï"}


@pytest.mark.parametrize("form", sorted(ECHO_FORMS))
def test_echo_writes_the_key_and_the_bearer_token_in_the_form_asked(
    server: FakeRadixServer, form: str
) -> None:
    response = requests.get(
        server.url + "/echo",
        params={"form": form, "charset": "utf-16", "encoding": "gzip"},
        headers={"Authorization": "Bearer abc.def.ghi"},
        timeout=TIMEOUT,
    )
    assert response.headers["Content-Type"] == "application/json; charset=utf-16"
    assert response.headers["Content-Encoding"] == "gzip"
    document = response.json()
    assert document["form"] == form and document["records"] == [1, 2, 3]
    key = ECHO_FORMS[form](server.client_secret, server.client_id)
    assert response.content.decode("utf-16").count(key) == 1
    assert document["token"] == json.loads(f'"{ECHO_FORMS[form]("abc.def.ghi", server.client_id)}"')


def test_echo_refuses_an_unknown_form(server: FakeRadixServer) -> None:
    response = requests.get(server.url + "/echo", params={"form": "rot13"}, timeout=TIMEOUT)
    assert response.status_code == 400
    assert "form must be one of" in response.json()["message"]


def test_chunks_are_sent_as_a_chunked_body(server: FakeRadixServer) -> None:
    server.queue("/events", FakeResponse(200, chunks=[b"a\n", b"bc\n"], chunk_delay=0.01))
    response = requests.get(server.url + "/events", timeout=TIMEOUT)
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert response.content == b"a\nbc\n"


def test_chunks_then_hang_is_an_endless_stream(server: FakeRadixServer) -> None:
    server.queue("/events", FakeResponse(200, chunks=[b"one\n"], hang=True))
    with requests.get(server.url + "/events", stream=True, timeout=0.5) as response:
        lines = response.iter_lines()
        assert next(lines) == b"one"
        with pytest.raises(requests.exceptions.ConnectionError):  # the body never ends
            next(lines)
