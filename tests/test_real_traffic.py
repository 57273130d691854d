"""Real traffic: compressed bodies, other charsets and secrets echoed in unusual encodings,
through ``RadixSession`` and, under ``@pytest.mark.radix_vcr``, requests, urllib and httpx.

Every cassette written is then searched with decoders of the tests' own (YAML, base64,
compression, charsets, JSON/URL/HTML escapes), and by ``python -m pytest_radix audit``.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import brotli
import pytest
import yaml
from helpers import cassette_dir, interactions, run, secrets_found
from vcr.request import Request

from pytest_radix.audit import audit_file
from pytest_radix.cassettes import scrub_request
from pytest_radix.masking import register_secret
from pytest_radix.scrubbing import PLACEHOLDER, find_leak
from pytest_radix.testing import DEFAULT_CLIENT_ID, ECHO_FORMS, FakeRadixServer, FakeResponse

CLIENTS = ("requests", "urllib", "httpx")
CASES = {  # name: (form, charset, encoding)
    "gzip": ("json", "utf-8", "gzip"),
    "deflate": ("json-ascii", "utf-8", "deflate"),
    "br": ("json", "utf-8", "br"),
    "gzip-br": ("json", "utf-8", "gzip,br"),
    "utf-16": ("json", "utf-16", ""),
    "utf-16le": ("json", "utf-16le", ""),
    "utf-32-gzip": ("json", "utf-32", "gzip"),
    "utf-8-bom": ("json", "utf-8-sig", ""),
    **{form: (form, "utf-8", "") for form in ECHO_FORMS if form != "json"},
}

SUITE = """
import gzip
import json
import os
import zlib
import urllib.request
from pathlib import Path

import brotli
import httpx
import pytest
import requests

CASES = json.loads(os.environ["CASES"])
OUT = Path(os.environ["OUT"])


def read(client, url, token):
    headers = {"Authorization": f"Bearer {token}"}
    if client == "requests":
        response = requests.get(url, headers=headers)
        return response.json(), response.text
    if client == "httpx":
        response = httpx.get(url, headers=headers)
        return response.json(), response.text
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        data = response.read()
        codings = response.headers.get("Content-Encoding", "").split(",")
        for coding in reversed([c.strip() for c in codings if c.strip()]):
            data = {"gzip": gzip.decompress, "deflate": zlib.decompress,
                    "br": brotli.decompress}[coding](data)
        text = data.decode(response.headers.get_content_charset() or "utf-8")
        return json.loads(text), text


@pytest.mark.radix_vcr
@pytest.mark.parametrize("client", ["requests", "urllib", "httpx"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_echo(radix_token, client, case):
    form, charset, encoding = CASES[case]
    url = os.environ["RADIX_BASE_URL"] + "/echo"
    query = f"?form={form}&charset={charset}&encoding={encoding}&client={client}"
    document, text = read(client, url + query, radix_token)
    assert document["form"] == form and document["records"] == [1, 2, 3]
    (OUT / f"{client}-{case}.json").write_text(json.dumps(document))


def test_session(radix_session):
    for case, (form, charset, encoding) in sorted(CASES.items()):
        params = {"form": form, "charset": charset, "encoding": encoding, "client": "session"}
        response = radix_session.get("/echo", params=params)
        document = response.json()
        assert document["form"] == form and document["records"] == [1, 2, 3]
        (OUT / f"session-{case}.json").write_text(json.dumps(document))
"""


# ---------------------------------------------------------------------------------------------


def record_then_replay(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    passed: int,
    *servers: FakeRadixServer,
) -> dict[str, dict[str, Any]]:
    """Run the inner suite recording (mode ``once``), then replaying (``none``) with the
    ``servers`` stopped and no credentials; what each run's tests wrote to ``$OUT``, by mode
    and file stem."""
    outputs = {}
    for mode in ("once", "none"):
        out = tmp_path / mode
        out.mkdir()
        monkeypatch.setenv("OUT", str(out))
        if mode == "none":
            for server in servers:
                server.stop()
            for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET"):
                monkeypatch.delenv(name)
        run(pytester, f"--radix-record-mode={mode}").assert_outcomes(passed=passed)
        outputs[mode] = {p.stem: json.loads(p.read_text()) for p in out.iterdir()}
    return outputs


def test_every_client_s_compressed_and_encoded_traffic_is_scrubbed_and_replays(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("CASES", json.dumps(CASES))
    pytester.makepyfile(test_api=SUITE)
    passed = len(CASES) * len(CLIENTS) + 1
    outputs = record_then_replay(pytester, monkeypatch, tmp_path, passed, radix_env)

    (token,) = radix_env.issued_tokens
    secret = radix_env.client_secret
    echoes = radix_env.requests_to("/echo")
    assert len(echoes) == len(CASES) * (len(CLIENTS) + 1), "replay reached the network"
    assert all(r.header("Authorization") == f"Bearer {token}" for r in echoes)
    live = outputs["once"]["httpx-escaped"]
    assert live["key"] == secret  # really echoed (escaped on the wire)

    directory = cassette_dir(pytester)
    assert secrets_found(directory, [secret, token.rsplit(".", 1)[1]]) == []
    audit = subprocess.run(
        [sys.executable, "-m", "pytest_radix", "audit", str(directory)],
        env={"RADIX_CLIENT_SECRET": secret, "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert audit.returncode == 0, audit.stdout

    # replay gives each test the body that was recorded: scrubbed, otherwise the same
    assert outputs["none"].keys() == outputs["once"].keys()
    for name, replayed in outputs["none"].items():
        recorded = outputs["once"][name]
        assert replayed["form"] == recorded["form"] and replayed["records"] == [1, 2, 3]
        assert "scrubbed-by-pytest-radix" in replayed["key"], name

    # compressed bodies are stored decoded, without Content-Encoding
    for path in directory.rglob("test_echo*.yaml"):
        (interaction,) = interactions(path)
        headers = {name.lower() for name in interaction["response"]["headers"]}
        assert "content-encoding" not in headers, path.name


@pytest.mark.parametrize("form", sorted(ECHO_FORMS))
@pytest.mark.parametrize(
    "encoding", ["", "gzip", "deflate", "br", "utf-16", "utf-32", "latin-1", "cp1252"]
)
def test_the_pre_save_check_and_audit_find_an_unscrubbed_secret_in_any_encoding(
    tmp_path: Path, form: str, encoding: str
) -> None:
    """What scrubbing could miss is still refused by the check and reported by ``audit``."""
    secret = 'sk_"audit\\me/ünï-6a5b4c3d2e1f+x'
    register_secret(secret)
    text = f'{{"key": "{ECHO_FORMS[form](secret, DEFAULT_CLIENT_ID)}"}}'
    body = {
        "": text.encode(),
        "gzip": gzip.compress(text.encode()),
        "deflate": zlib.compress(text.encode()),
        "br": brotli.compress(text.encode()),
        "utf-16": text.encode("utf-16"),
        "utf-32": text.encode("utf-32"),
        "latin-1": text.encode("latin-1"),
        "cp1252": text.encode("cp1252"),
    }[encoding]
    document = {"interactions": [{"response": {"body": {"string": body}}}]}
    assert find_leak(document) == "the API key"
    path = tmp_path / "planted.yaml"
    path.write_text(yaml.safe_dump(document), "utf-8")
    assert audit_file(path, secret) == [(path, 4, "the value of RADIX_CLIENT_SECRET")]


@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_a_form_encoded_request_body_is_scrubbed(encoding: str) -> None:
    secret = 'sk_"form\\me/ünï 9f8e7d6c5b4a'
    register_secret(secret)
    form = urlencode({"client_id": DEFAULT_CLIENT_ID, "client_secret": secret}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if encoding:
        form, headers["Content-Encoding"] = gzip.compress(form), encoding
    scrubbed = scrub_request(Request("POST", "https://api.radix.com/token", form, headers))
    assert scrubbed.body == f"client_id={DEFAULT_CLIENT_ID}&client_secret={PLACEHOLDER}".encode()
    assert "Content-Encoding" not in scrubbed.headers


STREAM_SUITE = """
import asyncio
import os
import urllib.request

import httpx
import pytest
import requests

URL = os.environ["RADIX_BASE_URL"] + "/events"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.radix_vcr
def test_requests_lines(radix_token):
    with requests.get(URL, headers=bearer(radix_token), stream=True, timeout=5) as response:
        lines = response.iter_lines()
        assert [next(lines), next(lines), next(lines)] == [b"event: 1", b"", b"event: 2"]


@pytest.mark.radix_vcr
def test_requests_raw(radix_token):
    with requests.get(URL, headers=bearer(radix_token), stream=True, timeout=5) as response:
        assert response.raw.read(10) == b"event: 1\\n\\n"


@pytest.mark.radix_vcr
def test_requests_never_closed(radix_token):
    response = requests.get(URL, headers=bearer(radix_token), stream=True, timeout=5)
    assert response.raw.read(10) == b"event: 1\\n\\n"


@pytest.mark.radix_vcr
def test_urllib(radix_token):
    request = urllib.request.Request(URL, headers=bearer(radix_token))
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.readline() == b"event: 1\\n"


@pytest.mark.radix_vcr
def test_httpx(radix_token):
    with httpx.stream("GET", URL, headers=bearer(radix_token), timeout=5) as response:
        assert next(response.iter_lines()) == "event: 1"


@pytest.mark.radix_vcr
def test_httpx_async(radix_token):
    async def first_line():
        async with httpx.AsyncClient(timeout=5) as client:
            async with client.stream("GET", URL, headers=bearer(radix_token)) as response:
                async for line in response.aiter_lines():
                    return line

    assert asyncio.run(first_line()) == "event: 1"


@pytest.mark.radix_vcr
def test_session(radix_session):
    with radix_session.get("/events", stream=True) as response:
        assert response.raw.read(10) == b"event: 1\\n\\n"
"""


STREAMING_TESTS = (
    "test_requests_lines",
    "test_requests_raw",
    "test_requests_never_closed",
    "test_urllib",
    "test_httpx",
    "test_httpx_async",
    "test_session",
)


def test_a_radix_vcr_stream_reaches_the_test_as_sent_and_what_it_read_is_recorded(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server sends five events and then never ends the body: requests, urllib and httpx
    under ``radix_vcr`` can only read the first ones when nothing waits for the end of the
    body."""
    pytester.makepyfile(test_api=STREAM_SUITE)
    events = [b"event: %d\n\n" % n for n in range(1, 6)]
    for _ in range(len(STREAMING_TESTS)):
        radix_env.queue("/events", FakeResponse(200, chunks=events, chunk_delay=0.05, hang=True))
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=len(STREAMING_TESTS))

    directory = cassette_dir(pytester) / "test_api"
    bodies = {}
    for name in STREAMING_TESTS:
        (interaction,) = interactions(directory / f"{name}.yaml")
        bodies[name] = interaction["response"]["body"]["string"]
        assert "event: 5" not in bodies[name], f"{name}: more than the test read"
    assert bodies["test_requests_lines"].startswith("event: 1\n\nevent: 2\n\n")
    assert bodies["test_requests_raw"] == bodies["test_session"] == "event: 1\n\n"
    assert bodies["test_requests_never_closed"] == "event: 1\n\n"  # recorded when saved
    assert bodies["test_urllib"].startswith("event: 1\n")
    assert bodies["test_httpx"].startswith("event: 1\n")
    assert bodies["test_httpx_async"].startswith("event: 1\n")
    (token,) = radix_env.issued_tokens
    assert secrets_found(directory, [radix_env.client_secret, token.rsplit(".", 1)[1]]) == []

    radix_env.stop()
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    run(pytester, "--radix-record-mode=none").assert_outcomes(passed=len(STREAMING_TESTS))
    assert len(radix_env.requests_to("/events")) == len(STREAMING_TESTS), "replay went live"


COMPRESSED_STREAM_SUITE = """
import os
import urllib.request

import httpx
import pytest
import requests

URL = os.environ["RADIX_BASE_URL"] + "/events"


@pytest.mark.radix_vcr
def test_first_event(radix_token):
    headers = {"Authorization": f"Bearer {radix_token}"}
    if CLIENT == "requests":
        with requests.get(URL, headers=headers, stream=True, timeout=5) as response:
            assert next(response.iter_lines()).startswith(b"data: ")
    elif CLIENT == "httpx":
        with httpx.stream("GET", URL, headers=headers, timeout=5) as response:
            assert next(response.iter_lines()).startswith("data: ")
    else:  # urllib does not decompress: the test reads compressed bytes
        request = urllib.request.Request(URL, headers=headers)
        with urllib.request.urlopen(request, timeout=5) as response:
            assert len(response.read(FIRST)) == FIRST  # the first event, compressed
"""


def compressed_events(coding: str, events: list[bytes]) -> list[bytes]:
    """Each event compressed and flushed on its own, as a server streaming them does."""
    if coding == "br":
        compressor = brotli.Compressor()
        return [compressor.process(event) + compressor.flush() for event in events]
    wbits = zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS
    stream = zlib.compressobj(wbits=wbits)
    return [stream.compress(event) + stream.flush(zlib.Z_SYNC_FLUSH) for event in events]


@pytest.mark.parametrize("client", ["requests", "httpx", "urllib"])
@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_a_compressed_stream_closed_early_is_stored_decoded_and_scrubbed(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    coding: str,
    client: str,
) -> None:
    """An event stream echoing the key, compressed, closed after its first event: what was
    read is stored decompressed (a body cut short still decodes, brotli's too), so the key is
    scrubbed. The event is long enough that compression hides the key's bytes."""
    items = ", ".join(f'{{"id": {i}, "name": "item {i}"}}' for i in range(30))
    first = f'data: {{"items": [{items}], "key": {json.dumps(radix_env.client_secret)}}}\n\n'
    events = compressed_events(coding, [first.encode(), b"data: 2\n\n"])
    suite = COMPRESSED_STREAM_SUITE.replace("CLIENT", repr(client))
    pytester.makepyfile(test_api=suite.replace("FIRST", str(len(events[0]))))
    stream = FakeResponse(200, chunks=events, headers={"Content-Encoding": coding}, hang=True)
    radix_env.queue("/events", stream)
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)

    directory = cassette_dir(pytester)
    (interaction,) = interactions(directory / "test_api" / "test_first_event.yaml")
    assert "content-encoding" not in {h.lower() for h in interaction["response"]["headers"]}
    body = interaction["response"]["body"]["string"]
    assert isinstance(body, str) and body.startswith('data: {"items"'), body[:40]
    assert secrets_found(directory, [radix_env.client_secret]) == []

    radix_env.stop()
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    run(pytester, "--radix-record-mode=none").assert_outcomes(passed=1)


def test_a_multi_member_gzip_body_is_stored_whole(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two gzip members one after the other (as concatenated gzip files are): live clients
    decode both, and so does the cassette."""
    pytester.makepyfile(
        test_api="""
import os

import pytest
import requests


@pytest.mark.radix_vcr
def test_records(radix_token):
    url = os.environ["RADIX_BASE_URL"] + "/export"
    response = requests.get(url, headers={"Authorization": f"Bearer {radix_token}"}, timeout=5)
    assert response.json() == [{"id": 1}, {"id": 2}]
"""
    )
    body = gzip.compress(b'[{"id": 1}, ') + gzip.compress(b'{"id": 2}]')
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    radix_env.queue("/export", FakeResponse(200, body=body, headers=headers))
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    (interaction,) = interactions(cassette_dir(pytester) / "test_api" / "test_records.yaml")
    assert interaction["response"]["body"]["string"] == '[{"id": 1}, {"id": 2}]'
    radix_env.stop()
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    run(pytester, "--radix-record-mode=none").assert_outcomes(passed=1)


def test_a_body_in_a_coding_with_no_decoder_here_is_not_saved(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """A ``zstd`` body (``zstandard`` is not installed): no check could read it, so the
    cassette is refused, naming the coding and the fix."""
    pytester.makepyfile(
        test_api="""
import os

import pytest
import requests


@pytest.mark.radix_vcr
def test_records(radix_token):
    url = os.environ["RADIX_BASE_URL"] + "/export"
    requests.get(url, headers={"Authorization": f"Bearer {radix_token}"}, timeout=5)
"""
    )
    opaque = FakeResponse(
        200, body=b"\x28\xb5\x2f\xfd opaque", headers={"Content-Encoding": "zstd"}
    )
    radix_env.queue("/export", opaque)
    result = run(pytester, "--radix-record-mode=once")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*a response body is in Content-Encoding 'zstd', which pytest-radix cannot decode "
            "here to check it for secrets; install its decoder (brotli for br, zstandard for "
            "zstd) and record again*"
        ]
    )
    assert not (cassette_dir(pytester) / "test_api" / "test_records.yaml").exists()


EVERY_CLIENT_SUITE = """
import http.cookiejar
import json
import os
import urllib.request
from pathlib import Path

import httpx
import pytest
import requests

BASE = os.environ["RADIX_BASE_URL"]
OUT = Path(os.environ["OUT"])
URLS = {
    "head": BASE + "/export",
    "query": BASE + "/export?sort=b&sort=a&blank=",
    "cookie": BASE + "/cookie",
    "redirect": BASE + "/hop",
}


def fetch(client, method, url, token):
    headers = {"Authorization": f"Bearer {token}", "x-radix-version": "1.0.0"}
    if client == "requests":
        with requests.Session() as session:
            response = session.request(method, url, headers=headers, timeout=5)
            cookies = list(session.cookies.keys())
            return response.status_code, response.headers, cookies, response.url
    if client == "httpx":
        with httpx.Client(follow_redirects=True, timeout=5) as session:
            response = session.request(method, url, headers=headers)
            cookies = list(session.cookies.keys())
            return response.status_code, response.headers, cookies, str(response.url)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    request = urllib.request.Request(url, headers=headers, method=method)
    with opener.open(request, timeout=5) as response:
        response.read()
        return response.status, response.headers, [c.name for c in jar], response.url


@pytest.mark.radix_vcr
@pytest.mark.parametrize("client", ["requests", "httpx", "urllib"])
@pytest.mark.parametrize("case", sorted(URLS))
def test_traffic(radix_token, client, case):
    method = "HEAD" if case == "head" else "GET"
    status, headers, cookies, final = fetch(client, method, URLS[case], radix_token)
    length = headers.get("Content-Length") if case == "head" else None
    seen = [status, length, cookies, final.split("?")[0].rsplit("/", 2)[-2:]]
    (OUT / f"{client}-{case}.json").write_text(json.dumps(seen))
"""


def test_every_client_s_head_query_cookies_and_redirects_record_and_replay_offline(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Under ``radix_vcr``, with requests, httpx and urllib: HEAD keeps its Content-Length,
    the query matches as recorded (order, blank values), a cookie is set again on replay (its
    value the placeholder), and a redirect's hop to another origin replays with no network."""
    with FakeRadixServer(client_secret="storage-own-key-0f9e8d7c6b5a") as storage:
        cookie = FakeResponse(200, body=[], headers={"Set-Cookie": "session=s3cr3t; Path=/"})
        radix_env.queue("/cookie", *[cookie] * 3)
        hop = FakeResponse(302, body={}, headers={"Location": storage.url + "/files/echo"})
        radix_env.queue("/hop", *[hop] * 3)
        pytester.makepyfile(test_api=EVERY_CLIENT_SUITE)
        seen = record_then_replay(pytester, monkeypatch, tmp_path, 12, radix_env, storage)
        assert len(storage.requests) == 3  # recording only: replay stayed offline
    assert seen["none"] == seen["once"]
    for client in ("requests", "httpx", "urllib"):
        status, length, cookies, final = seen["once"][f"{client}-head"]
        assert (status, cookies) == (200, []) and int(length) > 100, client
        assert seen["once"][f"{client}-query"][0] == 200, client
        assert seen["once"][f"{client}-cookie"][2] == ["session"], client
        assert seen["once"][f"{client}-redirect"][3] == ["files", "echo"], client
    queries = [r.query for r in radix_env.requests_to("/export") if r.method == "GET"]
    assert queries == ["sort=b&sort=a&blank="] * 3
