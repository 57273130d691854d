"""Unit tests of ``pytest_radix.token``: reading ``/auth`` responses, lifetimes, ``RadixToken``."""

from __future__ import annotations

import json
import time
import uuid
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest

from pytest_radix.errors import RadixResponseError, RadixWarning
from pytest_radix.masking import MASK
from pytest_radix.token import (
    DEFAULT_LIFETIME,
    RadixToken,
    read_auth_response,
    token_lifetime,
)

JSON = "application/json"
TOKEN_KEYS = ("access_token", "accessToken", "token", "jwt", "id_token", "idToken")
WRAPPERS = ("data", "result", "response")
NOW = 1_800_000_000.0  # a fixed wall clock for token_lifetime(..., now=NOW)


def make_jwt(lifetime: int | None = 600, **claims: Any) -> str:
    """A real HS256 JWT; ``iat`` now and ``exp`` ``lifetime`` later unless given."""
    now = int(time.time())
    payload: dict[str, Any] = {"sub": "5642c0b355d27c0e003b3f30", "jti": uuid.uuid4().hex}
    if lifetime is not None:
        payload.update(iat=now, exp=now + lifetime)
    payload.update(claims)
    return jwt.encode(payload, "token-tests-signing-key-0123456789abcdef", algorithm="HS256")


def opaque() -> str:
    """A long (so a registered secret that cannot match ordinary text) non-JWT token."""
    return "opq_" + uuid.uuid4().hex + uuid.uuid4().hex


def body(obj: object) -> bytes:
    return json.dumps(obj).encode()


def read(obj: object, content_type: str = JSON) -> RadixToken:
    return read_auth_response(content_type, body(obj))


# -- where the token is ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", TOKEN_KEYS)
def test_each_token_key_at_top_level(key: str) -> None:
    value = make_jwt()
    token = read({key: value, "token_type": "Bearer"})
    assert token.value == value
    assert token.claims["sub"] == "5642c0b355d27c0e003b3f30"


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("key", TOKEN_KEYS)
def test_each_token_key_wrapped_once(wrapper: str, key: str) -> None:
    value = make_jwt()
    token = read({wrapper: {key: value}, "status": "ok"})
    assert token.value == value


def test_wrapped_twice_is_not_read() -> None:
    with pytest.raises(RadixResponseError):
        read({"data": {"result": {"access_token": make_jwt()}}})


def test_bare_json_string() -> None:
    value = make_jwt()
    token = read_auth_response(JSON, json.dumps(value).encode())
    assert token.value == value
    assert token.claims


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", "TEXT/PLAIN"])
def test_text_plain_body(content_type: str) -> None:
    value = make_jwt()
    token = read_auth_response(content_type, value.encode() + b"\r\n")
    assert token.value == value
    assert token.claims["jti"]


def test_text_plain_opaque_token() -> None:
    value = opaque()
    token = read_auth_response("text/plain", value.encode())
    assert token.value == value
    assert dict(token.claims) == {}
    assert token.lifetime == DEFAULT_LIFETIME


def test_first_non_empty_key_wins() -> None:
    first, second = make_jwt(), make_jwt()
    assert read({"idToken": second, "access_token": first}).value == first
    assert read({"access_token": "", "token": first, "jwt": second}).value == first
    assert read({"access_token": "   ", "accessToken": None, "jwt": first}).value == first
    assert read({"access_token": 12345, "id_token": first}).value == first


def test_top_level_token_before_a_wrapped_one() -> None:
    top, inner = make_jwt(), make_jwt()
    assert read({"data": {"access_token": inner}, "token": top}).value == top
    assert read({"data": {"access_token": ""}, "result": {"jwt": inner}}).value == inner


def test_token_is_stripped() -> None:
    value = make_jwt()
    assert read({"access_token": f"  {value}\n"}).value == value


@pytest.mark.parametrize("shape", ["object", "string", "text"])
def test_opaque_token_accepted_with_empty_claims(shape: str) -> None:
    value = opaque()
    if shape == "object":
        token = read({"access_token": value})
    elif shape == "string":
        token = read(value)
    else:
        token = read_auth_response("text/plain", value.encode())
    assert token.value == value
    assert dict(token.claims) == {}
    assert "opaque" in repr(token)


def test_three_dotted_opaque_token_accepted() -> None:
    value = "abc123def." + uuid.uuid4().hex + ".sig-nature_value"
    token = read({"token": value})
    assert token.value == value
    assert dict(token.claims) == {}


def test_unsigned_claims_are_read_without_verifying() -> None:
    value = make_jwt(lifetime=900, role="reader")
    token = read({"access_token": value})
    assert token.claims["role"] == "reader"
    assert 890 <= token.lifetime <= 900


# -- lifetime -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["expires_in", "expiresIn"])
def test_expires_in(key: str) -> None:
    assert token_lifetime({key: 120}, {}, now=NOW) == 120
    assert token_lifetime({key: 90.5}, {}, now=NOW) == 90.5


@pytest.mark.parametrize("key", ["expires_at", "expiresAt"])
def test_expires_at_epoch_seconds(key: str) -> None:
    assert token_lifetime({key: NOW + 300}, {}, now=NOW) == pytest.approx(300)
    assert token_lifetime({key: int(NOW) + 45}, {}, now=NOW) == pytest.approx(45)


@pytest.mark.parametrize("key", ["expires_at", "expiresAt"])
def test_expires_at_epoch_milliseconds(key: str) -> None:
    assert token_lifetime({key: (NOW + 300) * 1000}, {}, now=NOW) == pytest.approx(300)
    assert token_lifetime({key: int((NOW + 7.5) * 1000)}, {}, now=NOW) == pytest.approx(7.5)


@pytest.mark.parametrize(
    "text",
    [
        "{z}",  # ...Z
        "{z_lower}",  # ...z
        "{utc_offset}",  # ...+00:00
        "{plus_two}",  # ...+02:00
        "{minus_five}",  # ...-05:00
        "{millis_z}",  # ...123Z
    ],
)
def test_expires_at_iso_8601(text: str) -> None:
    moment = datetime.fromtimestamp(NOW + 600, tz=timezone.utc)
    forms = {
        "z": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "z_lower": moment.strftime("%Y-%m-%dT%H:%M:%Sz"),
        "utc_offset": moment.isoformat(),
        "plus_two": moment.astimezone(timezone(timedelta(hours=2))).isoformat(),
        "minus_five": moment.astimezone(timezone(timedelta(hours=-5))).isoformat(),
        "millis_z": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    value = text.format(**forms)
    assert value != moment.isoformat() or "+00:00" in value
    assert token_lifetime({"expires_at": value}, {}, now=NOW) == pytest.approx(600)
    assert token_lifetime({"expiresAt": value}, {}, now=NOW) == pytest.approx(600)


def test_expires_at_iso_with_offset_is_not_read_as_utc() -> None:
    local = datetime.fromtimestamp(NOW + 3600, tz=timezone(timedelta(hours=1)))
    # 13:00+01:00 is 12:00 UTC, which is NOW + 3600: reading the wall time as UTC gives NOW + 7200
    assert token_lifetime({"expires_at": local.isoformat()}, {}, now=NOW) == pytest.approx(3600)


def test_jwt_exp_minus_iat() -> None:
    claims = {"iat": NOW - 100, "exp": NOW + 500}
    assert token_lifetime({}, claims, now=NOW) == pytest.approx(600)


def test_jwt_exp_without_iat_is_exp_minus_now() -> None:
    assert token_lifetime({}, {"exp": NOW + 250}, now=NOW) == pytest.approx(250)


def test_lifetime_read_from_a_real_jwt() -> None:
    token = read({"access_token": make_jwt(lifetime=1234)})
    assert token.lifetime == pytest.approx(1234)


def test_default_lifetime_is_one_hour() -> None:
    assert DEFAULT_LIFETIME == 3600
    assert token_lifetime({}, {}, now=NOW) == 3600
    assert token_lifetime({"token_type": "Bearer"}, {"sub": "x"}, now=NOW) == 3600
    assert read({"access_token": opaque()}).lifetime == 3600
    assert read({"access_token": make_jwt(lifetime=None)}).lifetime == 3600


def test_shortest_of_expires_in_and_expires_at_wins() -> None:
    assert token_lifetime({"expires_in": 100, "expires_at": NOW + 50}, {}, now=NOW) == 50
    assert token_lifetime({"expires_in": 30, "expiresAt": NOW + 50}, {}, now=NOW) == 30
    assert token_lifetime({"expires_in": 300, "expiresIn": 200}, {}, now=NOW) == 200


def test_shortest_wins_against_the_jwt_claims() -> None:
    """SPEC: "When several are present the shortest wins" — the JWT's exp counts too."""
    claims = {"iat": NOW, "exp": NOW + 120}
    assert token_lifetime({"expires_in": 3600}, claims, now=NOW) == pytest.approx(120)
    assert token_lifetime({"expires_at": NOW + 3600}, claims, now=NOW) == pytest.approx(120)
    # and when the response field is the shorter one, it wins
    assert token_lifetime({"expires_in": 60}, claims, now=NOW) == 60


def test_expiry_fields_of_a_wrapped_response_are_read() -> None:
    token = read({"data": {"access_token": opaque(), "expires_in": 77}})
    assert token.lifetime == 77
    token = read({"data": {"access_token": opaque()}, "expires_in": 66})
    assert token.lifetime == 66


def test_read_auth_response_uses_the_shortest() -> None:
    token = read({"access_token": make_jwt(lifetime=3000), "expires_in": 2000})
    assert token.lifetime == 2000


# -- invalid expiry fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("expires_in", "98765 seconds", "98765"),
        ("expiresIn", "3605.5.1", "3605.5"),
        ("expires_in", "-4321", "-4321"),
        ("expires_in", True, "True"),
        ("expires_in", None, "None"),
        ("expires_in", float("nan"), "nan"),
        ("expires_in", float("inf"), "inf"),
        ("expires_in", -4321, "-4321"),
        ("expires_in", 0, "0 s"),
        ("expires_in", 98_765_432_109, "98765432109"),
        ("expires_at", "not-a-date-xyz", "not-a-date-xyz"),
        ("expiresAt", False, "False"),
        ("expires_at", None, "None"),
        ("expires_at", float("nan"), "nan"),
        ("expires_at", NOW - 3333, str(NOW - 3333)),
        ("expires_at", 9.87e20, "9.87e"),
        ("expiresAt", "2999-01-01T00:00:00Z", "2999"),
        ("expires_at", {"$date": "2030"}, "$date"),
        ("expires_in", [5], "[5]"),
    ],
)
def test_invalid_expiry_is_skipped_with_a_warning(key: str, value: object, shown: str) -> None:
    with pytest.warns(RadixWarning) as caught:
        lifetime = token_lifetime({key: value, "expires_in_other": 1}, {}, now=NOW)
    assert lifetime == DEFAULT_LIFETIME
    messages = [str(w.message) for w in caught if issubclass(w.category, RadixWarning)]
    assert len(messages) == 1
    assert repr(key) in messages[0] or key in messages[0]
    assert shown not in messages[0]


@pytest.mark.parametrize(
    "document",
    [
        {"expires_in": "300"},
        {"expiresIn": " 300.0 "},
        {"data": {"access_token": "opaque-token-1234", "expiresIn": "300"}},
    ],
    ids=["top-level", "spaces-and-decimals", "inside-data"],
)
def test_a_numeric_string_lifetime_is_seconds(document: dict[str, Any]) -> None:
    """Azure AD v1 style servers send ``"expires_in": "3599"``."""
    if "data" not in document:
        document = {"access_token": "opaque-token-1234", **document}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        token = read(document)
    assert token.lifetime == 300.0


def test_invalid_field_skipped_valid_one_kept() -> None:
    with pytest.warns(RadixWarning, match="expires_in"):
        lifetime = token_lifetime({"expires_in": "soon-please", "expiresAt": NOW + 40}, {}, now=NOW)
    assert lifetime == pytest.approx(40)


def test_invalid_field_in_a_response_falls_back_to_the_jwt() -> None:
    with pytest.warns(RadixWarning, match="expires_in") as caught:
        token = read({"access_token": make_jwt(lifetime=500), "expires_in": "86400x"})
    assert "86400x" not in str(caught[0].message)
    assert token.lifetime == pytest.approx(500)


def test_valid_fields_give_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert token_lifetime({"expires_in": 10, "expires_at": NOW + 20}, {}, now=NOW) == 10


# -- no token, or not a token ---------------------------------------------------------------------


def test_no_token_names_content_type_and_keys_but_no_values() -> None:
    payload = {
        "error": "VerySecretLookingValue-123456",
        "status": "failure-status-value-9876",
        "data": {"user": "someone-in-particular-42"},
    }
    with pytest.raises(RadixResponseError) as info:
        read_auth_response("application/json; charset=utf-8", body(payload))
    message = str(info.value)
    assert "application/json" in message
    for key in ("error", "status", "data", "user"):
        assert key in message
    for value in ("VerySecretLookingValue-123456", "failure-status-value-9876", "someone-in"):
        assert value not in message
    assert "access_token" in message  # says what was expected


def test_no_token_with_token_keys_holding_non_strings() -> None:
    payload = {"access_token": None, "token": 1234567890123, "jwt": {"v": "nested-value-abcdef"}}
    with pytest.raises(RadixResponseError) as info:
        read(payload)
    message = str(info.value)
    assert "1234567890123" not in message
    assert "nested-value-abcdef" not in message
    assert "access_token" in message


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("text/html", b"<!DOCTYPE html><html><body>Gateway error page 0xDEADBEEF</body></html>"),
        ("text/html; charset=utf-8", b"<html><head><title>Login</title></head></html>"),
        (JSON, b"<!doctype html>\n<html><p>maintenance-window-notice</p></html>"),
        ("", b"<html><body>oops</body></html>"),
    ],
)
def test_html_body_is_refused(content_type: str, payload: bytes) -> None:
    with pytest.raises(RadixResponseError) as info:
        read_auth_response(content_type, payload)
    message = str(info.value)
    assert (content_type.split(";")[0] or "no content type") in message
    assert "HTML" in message
    assert "DEADBEEF" not in message and "maintenance-window-notice" not in message


def test_html_without_spaces_served_as_text_plain_is_refused() -> None:
    """An HTML error page is not a bearer token, whatever the content type says."""
    # (unusual text: a wrongly accepted token is registered as a secret for the whole run)
    with pytest.raises(RadixResponseError):
        read_auth_response("text/plain", b"<html>Bad_Gateway_q7z</html>")


@pytest.mark.parametrize("payload", [b"", b"   \n\t  "])
@pytest.mark.parametrize("content_type", [JSON, "text/plain", ""])
def test_empty_body_is_refused(content_type: str, payload: bytes) -> None:
    with pytest.raises(RadixResponseError, match="empty"):
        read_auth_response(content_type, payload)


@pytest.mark.parametrize(
    "payload",
    [b'["eyJhbGciOi.abc.def", "tok-in-a-list-123456"]', b"42", b"3.14", b"null", b"true"],
)
def test_json_that_is_not_an_object_or_string_is_refused(payload: bytes) -> None:
    with pytest.raises(RadixResponseError) as info:
        read_auth_response(JSON, payload)
    assert "tok-in-a-list-123456" not in str(info.value)
    assert JSON in str(info.value) or "JSON" in str(info.value)


@pytest.mark.parametrize("value", [None, 12345678901, 1.5, True, ["a-token-in-a-list"], {}])
def test_null_or_numeric_token_is_refused(value: object) -> None:
    with pytest.raises(RadixResponseError):
        read({"access_token": value})


@pytest.mark.parametrize(
    "value",
    [
        "token with spaces 123456",
        "tökén-nön-ascii-123456",
        "tab\tseparated-123456",
        "new\nline-123456",
    ],
)
def test_token_with_spaces_or_non_ascii_is_refused(value: str) -> None:
    for document in ({"access_token": value}, {"data": {"jwt": value}}, value):
        with pytest.raises(RadixResponseError) as info:
            read(document)
        assert "123456" not in str(info.value)


@pytest.mark.parametrize("value", ["token with spaces 123456", "tökén-nön-ascii-123456"])
def test_text_plain_with_spaces_or_non_ascii_is_refused(value: str) -> None:
    with pytest.raises(RadixResponseError) as info:
        read_auth_response("text/plain", value.encode())
    assert "123456" not in str(info.value)


def test_bare_text_with_a_json_content_type_that_does_not_parse() -> None:
    with pytest.raises(RadixResponseError) as info:
        read_auth_response(JSON, b'{"access_token": "truncated-value-abcdef')
    message = str(info.value)
    assert "truncated-value-abcdef" not in message
    assert JSON in message


def test_host_is_named_in_errors() -> None:
    with pytest.raises(RadixResponseError, match=r"api\.example\.test"):
        read_auth_response(JSON, b"{}", host="api.example.test")


# -- RadixToken -----------------------------------------------------------------------------------


def test_radix_token_repr_and_str_are_masked() -> None:
    value = make_jwt()
    token = read({"access_token": value})
    for shown in (repr(token), str(token), repr([token]), f"{token!r}"):
        assert value not in shown
        for part in value.split("."):
            assert part not in shown
        assert MASK in shown
    assert "jwt" in repr(token)
    assert token.value == value
    assert f"Bearer {token.value}" == f"Bearer {value}"
    assert value not in repr(token.value)


def test_radix_token_opaque_repr_is_masked() -> None:
    value = opaque()
    token = RadixToken(value, 100.0)
    assert value not in repr(token) and value[4:20] not in repr(token)
    assert "opaque" in repr(token)


def test_expires_within_and_remaining() -> None:
    token = RadixToken(opaque(), 100.0)
    assert 99 < token.remaining() <= 100
    assert not token.expires_within(50)
    assert not token.expires_within(99)
    assert token.expires_within(101)
    assert token.expires_within(1000)


def test_remaining_counts_from_receipt_on_the_monotonic_clock() -> None:
    token = RadixToken(opaque(), 100.0, {}, time.monotonic() - 30)
    assert 69 < token.remaining() <= 70
    assert token.expires_within(71)
    assert not token.expires_within(69)
    expired = RadixToken(opaque(), 10.0, {}, time.monotonic() - 20)
    assert expired.remaining() < 0
    assert expired.expires_within(0)


def test_expires_at_is_now_plus_lifetime() -> None:
    before = datetime.now(timezone.utc)
    token = RadixToken(opaque(), 1800.0)
    after = datetime.now(timezone.utc)
    assert token.expires_at.tzinfo is not None
    assert before + timedelta(seconds=1799) <= token.expires_at
    assert token.expires_at <= after + timedelta(seconds=1801)
    aged = RadixToken(opaque(), 1800.0, {}, time.monotonic() - 600)
    expected = datetime.now(timezone.utc) + timedelta(seconds=1200)
    assert abs((aged.expires_at - expected).total_seconds()) < 2


def test_token_read_from_a_response_expires_as_announced() -> None:
    token = read({"access_token": opaque(), "expires_in": 300})
    assert token.lifetime == 300
    expected = datetime.now(timezone.utc) + timedelta(seconds=300)
    assert abs((token.expires_at - expected).total_seconds()) < 2
    assert not token.expires_within(200)
    assert token.expires_within(301)
