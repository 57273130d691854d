"""No secret reaches a cassette: what recording writes, and the scrubbing functions themselves.

The recorded suites run in process (``pytester``) against ``fake_radix``, whose API key is
``conftest.NASTY_SECRET`` (``"``, ``\\``, ``/`` and non-ASCII). Afterwards every byte of the
cassette directory is searched for the key, the live tokens and fragments of them, raw and in
the escaped forms YAML, JSON, ``repr`` and URLs give them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import jwt
import pytest
import yaml
from helpers import cassette_dir, interactions, output, run
from vcr.request import Request

# Imported here so that the in-process inner runs share these modules instead of importing
# their own copies on every run (pytester restores sys.modules after each run).
import pytest_radix.auth  # noqa: F401
import pytest_radix.cassettes
import pytest_radix.recording  # noqa: F401
import pytest_radix.session  # noqa: F401
import pytest_radix.transport  # noqa: F401
from pytest_radix.cassettes import scrub_request, scrub_response
from pytest_radix.masking import register_secret
from pytest_radix.scrubbing import PLACEHOLDER, find_leak, lookalike, scrub_client_secret
from pytest_radix.testing import FakeRadixServer, FakeResponse

FRAGMENT = 12
SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization"}


def cookie_values(headers: dict[str, list[str]]) -> list[str]:
    """The values of the cookies that ``Set-Cookie`` headers set."""
    return [
        value.split(";", 1)[0].partition("=")[2]
        for name, values in headers.items()
        if name.lower() == "set-cookie"
        for value in values
    ]


TRAFFIC_SUITE = """
import os


def test_traffic(radix_session, radix_token):
    secret = os.environ["RADIX_CLIENT_SECRET"]
    token = str(radix_token)
    first = radix_session.get("/export")
    assert first.status_code == 200
    assert first.headers.get("Set-Cookie")
    echoed = radix_session.get(
        "/export",
        params={"key": secret, "token": token, "keep": "visible"},
        headers={"Cookie": "jar=1", "X-Echo": secret, "X-Token": token},
    )
    assert echoed.status_code == 200
    posted = radix_session.post(
        "/export",
        json={"client_secret": secret, "deep": [{"client_secret": secret, "token": token}]},
    )
    assert posted.status_code == 405
"""


# ---------------------------------------------------------------------------------------------
# helpers


def make_suite(pytester: pytest.Pytester, source: str, conftest: str = "") -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(**{"tests/test_api": source})
    if conftest:
        pytester.makepyfile(**{"tests/conftest": conftest})


def forms(value: str) -> set[str]:
    """``value`` as YAML, JSON, ``repr``, ``ascii`` and URLs write it (hex in either case)."""
    found = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        ascii(value)[1:-1],
        repr(value.encode("utf-8"))[2:-1],
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        yaml.safe_dump(value, width=10**6).strip().removesuffix("...").strip().strip("'\""),
        yaml.safe_dump(value, width=10**6, allow_unicode=True).strip().strip("'\""),
        value.replace("'", "''"),
    }
    found |= {re.sub(r"\\(x|u)([0-9a-fA-F]+)", lambda m: m[0].upper(), f) for f in found}
    found |= {re.sub(r"\\(x|u)([0-9a-fA-F]+)", lambda m: m[0].lower(), f) for f in found}
    found |= {f.replace("\\X", "\\x").replace("\\U", "\\u") for f in found}
    return {f for f in found if f}


def fragments(value: str, size: int = FRAGMENT) -> set[str]:
    """Every ``size``-character piece of every form of ``value``."""
    return {f[i : i + size] for f in forms(value) for i in range(len(f) - size + 1)} | {
        value[i : i + size] for i in range(len(value) - size + 1)
    }


def strings(node: Any) -> Iterator[str]:
    """Every string in a loaded YAML document: keys, values, decoded bytes, nested JSON."""
    if isinstance(node, bytes):
        yield from strings(node.decode("utf-8", "replace"))
    elif isinstance(node, str):
        yield node
        try:
            nested = json.loads(node)
        except ValueError:
            return
        if not isinstance(nested, str):
            yield from strings(nested)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from strings(item)


def leaks(directory: Path, needles: Iterable[str]) -> list[str]:
    """Where any of ``needles`` occurs in any file under ``directory`` (bytes, text, YAML)."""
    needles = sorted(set(needles))
    found = []
    files = [p for p in sorted(directory.rglob("*")) if p.is_file()]
    assert files, f"nothing under {directory}"
    for path in files:
        raw = path.read_bytes()
        texts = [raw.decode("utf-8", "replace"), raw.decode("latin-1")]
        try:
            texts.extend(strings(yaml.safe_load(raw)))
        except yaml.YAMLError:
            texts.append("<not YAML>")
        unfolded = re.sub(r"\s+", "", texts[0])
        for needle in needles:
            if needle.encode("utf-8") in raw or any(needle in t for t in texts):
                found.append(f"{path.name}: fragment #{needles.index(needle)}")
            elif len(needle) >= FRAGMENT and re.sub(r"\s+", "", needle) in unfolded:
                found.append(f"{path.name}: folded fragment #{needles.index(needle)}")
    return found


def signature(token: str) -> str:
    return token.rsplit(".", 1)[1]


def all_interactions(directory: Path) -> list[dict[str, Any]]:
    every = []
    for path in sorted(directory.rglob("*.yaml")):
        every.extend(interactions(path))
    return every


# ---------------------------------------------------------------------------------------------
# what recording writes


def test_recorded_cassettes_hold_no_secret_anywhere(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    secret = radix_env.client_secret
    radix_env.queue(
        "/export",
        FakeResponse(200, [{"propertyId": "p1"}], {"Set-Cookie": "sid=cookie-value-1; Path=/"}),
        FakeResponse(
            200,
            {"message": f"echo {secret}", "nested": json.dumps({"key": secret})},
            {"X-Api-Key-Echo": quote(secret), "Set-Cookie": "other=cookie-value-2"},
        ),
    )
    make_suite(pytester, TRAFFIC_SUITE)
    result = run(pytester, "--radix-record-mode=once")
    result.assert_outcomes(passed=1)
    assert radix_env.auth_count == 1
    (token,) = radix_env.issued_tokens
    # the traffic really carried the secrets (so the scrubbing below had work to do)
    echoed = radix_env.requests_to("/export")[1]
    assert parse_qs(echoed.query)["key"] == [secret]
    assert echoed.header("Cookie") and "jar=1" in echoed.header("Cookie", "")
    assert echoed.header("Authorization") == f"Bearer {token}"

    directory = cassette_dir(pytester)
    needles = {secret, token} | fragments(secret) | fragments(signature(token))
    needles |= {"cookie-value-1", "cookie-value-2"}
    assert leaks(directory, needles) == []

    for interaction in all_interactions(directory):
        request_headers = {h.lower() for h in interaction["request"]["headers"]}
        response_headers = {h.lower() for h in interaction["response"]["headers"]}
        assert not request_headers & SECRET_HEADERS, interaction["request"]["headers"]
        assert not response_headers & SECRET_HEADERS, interaction["response"]["headers"]
        assert set(cookie_values(interaction["response"]["headers"])) <= {PLACEHOLDER}

    test_cassette = directory / "tests" / "test_api" / "test_traffic.yaml"
    first, second, third = interactions(test_cassette)
    query = parse_qs(urlsplit(second["request"]["uri"]).query)
    assert query["keep"] == ["visible"]
    assert query["key"] == [PLACEHOLDER]
    assert query["token"] == [lookalike(token)]
    body = json.loads(third["request"]["body"])
    assert body["client_secret"] == PLACEHOLDER
    assert body["deep"][0]["client_secret"] == PLACEHOLDER
    assert body["deep"][0]["token"] == lookalike(token)


def test_the_auth_cassette_holds_a_decodable_look_alike_token(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester, "def test_one(radix_session):\n    radix_session.get('/export')\n")
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    (token,) = radix_env.issued_tokens
    (interaction,) = interactions(cassette_dir(pytester) / "radix_auth.yaml")
    request_body = json.loads(interaction["request"]["body"])
    assert request_body == {"client_id": radix_env.client_id, "client_secret": PLACEHOLDER}
    assert not {h.lower() for h in interaction["request"]["headers"]} & SECRET_HEADERS
    recorded = json.loads(interaction["response"]["body"]["string"])["access_token"]
    header, claims, placeholder = recorded.split(".")
    assert placeholder == "scrubbed-by-pytest-radix"
    assert f"{header}.{claims}" == token.rsplit(".", 1)[0], "header and claims are kept"
    unverified = jwt.decode(recorded, options={"verify_signature": False})
    assert unverified["sub"] == jwt.decode(token, options={"verify_signature": False})["sub"]
    assert unverified["sub"] == radix_env.client_id
    assert leaks(cassette_dir(pytester), fragments(signature(token))) == []


def unusual_forms(secret: str) -> dict[str, str]:
    """How a server might echo the API key, beyond plain JSON."""
    upper = re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m[1].upper(), json.dumps(secret))
    assert upper != json.dumps(secret)
    return {
        "json-upper-case-escapes": upper[1:-1],
        "yaml-escapes": yaml.safe_dump(secret, width=10**6).strip().strip('"'),
        "url-keeping-slashes": quote(secret),
        "html": secret.replace("&", "&amp;").replace('"', "&quot;"),
        "double-json": json.dumps(json.dumps(secret))[1:-1],
    }


@pytest.mark.parametrize(
    "form",
    ["json-upper-case-escapes", "yaml-escapes", "url-keeping-slashes", "html", "double-json"],
)
def test_a_secret_echoed_in_an_unusual_form_never_reaches_the_file(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, form: str
) -> None:
    """Scrubbed, or the save refused: either way no trace of the key is written."""
    secret = radix_env.client_secret
    echoed = unusual_forms(secret)[form]
    radix_env.queue(
        "/export",
        FakeResponse(200, f'{{"message": "bad key {echoed}"}}'.encode(), {}, "application/json"),
    )
    make_suite(pytester, "def test_one(radix_session):\n    radix_session.get('/export')\n")
    result = run(pytester, "--radix-record-mode=once")
    outcomes = result.parseoutcomes()
    path = cassette_dir(pytester) / "tests" / "test_api" / "test_one.yaml"
    if path.exists():
        outcomes = result.parseoutcomes()
        assert outcomes.get("passed") == 1 and not outcomes.get("errors"), outcomes
    else:  # refusing to save is acceptable: then the test errors, naming the problem
        assert "RadixCassetteError" in output(result)
    assert leaks(cassette_dir(pytester), fragments(secret) | {echoed}) == []
    assert secret not in output(result) and echoed not in output(result)


# ---------------------------------------------------------------------------------------------
# radix_vcr_config: users can add filters, never remove ours


def test_radix_vcr_config_filters_are_added(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(
        pytester,
        """
        def test_filtered(radix_session):
            response = radix_session.get(
                "/export", params={"api_key": "user-private-value", "keep": "1"},
                headers={"X-Private": "private-header-value"},
            )
            assert response.status_code == 200
        """,
        conftest="""
        import pytest

        @pytest.fixture(scope="session")
        def radix_vcr_config():
            return {
                "filter_query_parameters": ["api_key"],
                "filter_headers": ["X-Private"],
            }
        """,
    )
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    path = cassette_dir(pytester) / "tests" / "test_api" / "test_filtered.yaml"
    (interaction,) = interactions(path)
    query = parse_qs(urlsplit(interaction["request"]["uri"]).query)
    assert query == {"keep": ["1"]}
    assert "x-private" not in {h.lower() for h in interaction["request"]["headers"]}
    text = path.read_text("utf-8")
    assert "user-private-value" not in text and "private-header-value" not in text
    # and the filtered cassette still replays (filters apply when matching too)
    radix_env.stop()
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET", "RADIX_BASE_URL"):
        monkeypatch.delenv(name)
    run(pytester).assert_outcomes(passed=1)


def test_a_radix_vcr_test_without_radix_fixtures_gets_the_filters_too(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTHER_URL", radix_env.url)
    make_suite(
        pytester,
        """
        import os

        import pytest
        import requests

        @pytest.mark.radix_vcr
        def test_other_client_only():
            headers = {"X-Private": "private-header-value"}
            requests.get(os.environ["OTHER_URL"] + "/export", headers=headers)
        """,
        conftest="""
        import pytest

        @pytest.fixture(scope="session")
        def radix_vcr_config():
            return {"filter_headers": ["X-Private"]}
        """,
    )
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    path = cassette_dir(pytester) / "tests" / "test_api" / "test_other_client_only.yaml"
    assert "/export" in path.read_text("utf-8")
    assert "private-header-value" not in path.read_text("utf-8")


def test_a_narrower_radix_vcr_config_does_not_break_live_runs(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(
        pytester,
        """
        def test_live(radix_session):
            assert radix_session.get("/export").status_code == 200
        """,
        conftest="""
        import pytest

        @pytest.fixture(scope="module")
        def radix_vcr_config():
            return {"filter_headers": ["X-Private"]}
        """,
    )
    run(pytester, "--radix-record-mode=live").assert_outcomes(passed=1)
    assert not cassette_dir(pytester).exists()


USER_UNDOES_SCRUBBING = """
import os

import pytest


@pytest.fixture(scope="session")
def radix_vcr_config():
    secret = os.environ["RADIX_CLIENT_SECRET"]

    def put_back_request(request):
        request.headers["Authorization"] = "Bearer " + secret
        request.headers["Cookie"] = "sid=" + secret
        return request

    def put_back_response(response):
        response["headers"]["X-Leak"] = [secret]
        response["headers"]["Set-Cookie"] = ["sid=" + secret]
        if response["body"]["string"].startswith(b"["):
            response["body"]["string"] = ('{"leak": "%s"}' % secret).encode("utf-8")
        return response

    return {
        "before_record_request": put_back_request,
        "before_record_response": put_back_response,
    }
"""


def test_a_user_filter_cannot_put_the_secret_back(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(
        pytester,
        "def test_one(radix_session):\n    assert radix_session.get('/export').ok\n",
        conftest=USER_UNDOES_SCRUBBING,
    )
    directory = cassette_dir(pytester)
    path = directory / "tests" / "test_api" / "test_one.yaml"
    path.parent.mkdir(parents=True)
    old = b"interactions: []\nversion: 1\n"
    path.write_bytes(old)
    result = run(pytester, "--radix-record-mode=all")
    secret = radix_env.client_secret
    (token,) = radix_env.issued_tokens
    if result.parseoutcomes().get("passed") == 1:
        for interaction in all_interactions(directory):
            assert not {h.lower() for h in interaction["request"]["headers"]} & SECRET_HEADERS
            assert not {h.lower() for h in interaction["response"]["headers"]} & SECRET_HEADERS
            assert set(cookie_values(interaction["response"]["headers"])) <= {PLACEHOLDER}
    else:  # refused: the old cassette stays as it was
        assert "RadixCassetteError" in output(result)
        assert path.read_bytes() == old
    if directory.exists():
        assert leaks(directory, fragments(secret) | fragments(signature(token))) == []
    assert secret not in output(result)


# ---------------------------------------------------------------------------------------------
# scrub_request / scrub_response


def make_request(body: bytes | str | None, content_type: str = "application/json") -> Request:
    headers = {
        "Content-Type": content_type,
        "authorization": "Bearer secret-token-value",
        "COOKIE": "a=b",
        "Proxy-Authorization": "Basic Zm9vOmJhcg==",
        "x-radix-version": "1.0.0",
    }
    if body is not None:
        headers["Content-Length"] = str(len(body.encode() if isinstance(body, str) else body))
    return Request("POST", "https://api.radix.com/auth", body, headers)


NESTED = {
    "client_id": "5642c0b355d27c0e003b3f30",
    "client_secret": "top-level-secret-value",
    "outer": {"list": [1, {"client_secret": "deep-secret-value", "other": "kept"}]},
    "many": [[{"client_secret": {"even": "an object"}}], {"client_secret": None}],
}


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "application/vnd.radix+json; version=1",
        "text/plain",
    ],
)
@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "str"])
def test_client_secret_is_replaced_at_any_depth(content_type: str, as_bytes: bool) -> None:
    text = json.dumps(NESTED)
    original = make_request(text.encode() if as_bytes else text, content_type)
    scrubbed = scrub_request(original)
    body = scrubbed.body
    assert isinstance(body, bytes)  # vcrpy keeps request bodies as bytes
    assert b"secret-value" not in body and b"an object" not in body
    document = json.loads(body)
    assert document["client_secret"] == PLACEHOLDER
    assert document["outer"]["list"][1] == {"client_secret": PLACEHOLDER, "other": "kept"}
    assert document["many"] == [[{"client_secret": PLACEHOLDER}], {"client_secret": PLACEHOLDER}]
    assert document["client_id"] == NESTED["client_id"]
    assert scrubbed.headers["Content-Type"] == content_type
    assert scrubbed.headers["Content-Length"] == str(len(body))
    assert json.loads(original.body) == NESTED, "the original request is not changed"


def test_a_top_level_json_list_is_scrubbed_too() -> None:
    scrubbed = scrub_request(make_request(b'[{"client_secret": "s3cr3t-in-a-list"}]'))
    assert json.loads(scrubbed.body) == [{"client_secret": PLACEHOLDER}]


def test_secret_headers_are_removed_whatever_their_case() -> None:
    original = make_request(b"{}")
    scrubbed = scrub_request(original)
    names = {name.lower() for name in scrubbed.headers}
    assert not names & SECRET_HEADERS
    assert "x-radix-version" in names and "content-type" in names
    assert original.headers["authorization"] == "Bearer secret-token-value", "not mutated"


def test_a_known_secret_is_scrubbed_from_uri_headers_and_body() -> None:
    secret = 'sk_"req\\scrub/ünï-4d3c2b1a0f9e'
    register_secret(secret)
    request = Request(
        "GET",
        f"https://api.radix.com/export?key={quote_plus(secret)}&other={quote(secret, safe='')}",
        f"raw {secret} json {json.dumps(secret)}".encode(),
        {"X-Echo": secret, "Content-Type": "text/plain"},
    )
    scrubbed = scrub_request(request)
    dumped = json.dumps([scrubbed.uri, dict(scrubbed.headers), scrubbed.body.decode("utf-8")])
    for needle in fragments(secret):
        assert needle not in dumped
        assert needle not in scrubbed.uri
    assert parse_qs(urlsplit(scrubbed.uri).query) == {
        "key": [PLACEHOLDER],
        "other": [PLACEHOLDER],
    }


def test_a_non_json_body_is_left_as_it_is() -> None:
    for body in (b"client_secret=form-encoded", b"\xff\xfe binary", b"", None):
        assert scrub_client_secret(body) == body


def test_scrub_response_keeps_cookies_with_placeholder_values_and_makes_look_alikes() -> None:
    token = jwt.encode({"sub": "5642c0b355d27c0e003b3f30", "iat": 1}, "k" * 32)
    register_secret(token)
    body = json.dumps({"access_token": token, "token_type": "Bearer"}).encode()
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {
            "Set-Cookie": ["a=b; Path=/; Secure"],
            "set-cookie": ["c=d", "e"],
            "X-Token": [token],
            "Content-Length": [str(len(body))],
        },
        "body": {"string": body},
    }
    scrubbed = scrub_response(response)
    assert scrubbed["headers"]["Set-Cookie"] == [f"a={PLACEHOLDER}; Path=/; Secure"]
    assert scrubbed["headers"]["set-cookie"] == [f"c={PLACEHOLDER}", f"e={PLACEHOLDER}"]
    assert scrubbed["headers"]["X-Token"] == [lookalike(token)]
    document = json.loads(scrubbed["body"]["string"])
    assert document["access_token"] == f"{token.rsplit('.', 1)[0]}.{PLACEHOLDER}"
    assert jwt.decode(document["access_token"], options={"verify_signature": False})["iat"] == 1
    assert scrubbed["headers"]["Content-Length"] == [str(len(scrubbed["body"]["string"]))]


def test_lookalike_keeps_only_the_header_and_claims_of_a_jwt() -> None:
    token = jwt.encode({"sub": "x"}, "k" * 32)
    header, claims, _ = token.split(".")
    assert lookalike(token) == f"{header}.{claims}.{PLACEHOLDER}"
    assert lookalike("opaque-token-value") == PLACEHOLDER
    assert lookalike("a.b.c") == PLACEHOLDER, "not a JWT: nothing of it is kept"


def test_find_leak_names_the_kind_never_the_value() -> None:
    secret = "sk_find-leak-7e6d5c4b3a29"
    register_secret(secret)
    assert find_leak({"a": ["clean"]}, "clean text") is None
    for document, text in (
        ({"a": [secret]}, ""),
        ({}, f"x {json.dumps(secret)} y"),
        ({"b": secret.encode()}, ""),
        ({secret: 1}, ""),
    ):
        kind = find_leak(document, text)
        assert kind is not None
        assert secret not in kind and "7e6d5c4b" not in kind


# ---------------------------------------------------------------------------------------------
# the leak search used above finds what it must (so a clean result means something)


@pytest.mark.parametrize("how", ["vcrpy-yaml", "json", "url", "fragment", "folded"])
def test_the_leak_search_finds_a_planted_secret(tmp_path: Path, how: str) -> None:
    secret = 'sk_"quo\\te/slash-ünïcødé-9c1f0e77b2d4a6e8'
    if how == "vcrpy-yaml":
        from vcr.serializers import yamlserializer

        text = yamlserializer.serialize({"body": {"string": f"echo {secret}"}})
        assert secret not in text  # vcrpy escapes it
    elif how == "json":
        text = json.dumps({"body": json.dumps({"key": secret})})
    elif how == "url":
        text = f"uri: https://x/?k={quote_plus(secret)}\n"
    elif how == "fragment":
        text = f"body: '{secret[10:24]}'\n"
    else:
        text = "body: 'a b c " + " ".join([secret[:20], secret[20:]]) + "'\n"
    (tmp_path / "nested" / "dir").mkdir(parents=True)
    (tmp_path / "nested" / "dir" / "planted.yaml").write_text(text, "utf-8")
    assert leaks(tmp_path, fragments(secret)) != []
