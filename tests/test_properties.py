"""Properties of reading an ``/auth`` response, for any body a server could send.

Hypothesis feeds ``read_auth_response`` every JSON value (nested objects with the token, wrapper
and expiry keys among arbitrary ones, NaN and infinities, huge integers, non-ASCII text), bare text
and arbitrary bytes, under every usual content type. Whatever comes in, the outcome is a
``RadixToken`` or a ``RadixError`` subclass, and no error or warning quotes a value of the body.
``token_lifetime`` always answers a usable lifetime and never raises.

String values that must never be quoted are drawn from a distinctive alphabet (``zq`` + hex,
sometimes with characters that escaping gets wrong), so that finding one in a message can only
mean it was copied from the body, never that the fixed text happens to contain it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import re
import time
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import pytest_radix.masking
from pytest_radix.errors import RadixError, RadixResponseError, RadixWarning
from pytest_radix.token import DEFAULT_LIFETIME, RadixToken, read_auth_response, token_lifetime

TOKEN_KEYS = ("access_token", "accessToken", "token", "jwt", "id_token", "idToken")
WRAPPER_KEYS = ("data", "result", "response")
EXPIRY_KEYS = ("expires_in", "expiresIn", "expires_at", "expiresAt")
KNOWN_KEYS = TOKEN_KEYS + WRAPPER_KEYS + EXPIRY_KEYS
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "text/html",
    "",
)
MAX_LIFETIME = 366 * 24 * 3600.0
MARKER = re.compile(r"zq[0-9a-f]{6,}")
"""What every string value that must not leak contains: ``zq`` and at least six hex digits."""

PROPERTIES = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@contextlib.contextmanager
def fresh_secret_registry() -> Iterator[None]:
    """A registry of known secrets of this example's own.

    Every token ``read_auth_response`` accepts is registered as a secret for the rest of the
    process; Hypothesis finds tokens such as ``"0"``, which would then be masked in every later
    test's output. Each example gets an empty registry, and the real one is put back after.
    """
    saved = pytest_radix.masking._registry
    pytest_radix.masking._registry = pytest_radix.masking._Registry()
    try:
        yield
    finally:
        pytest_radix.masking._registry = saved


# -- strategies -----------------------------------------------------------------------------------

hex_digits = st.text("0123456789abcdef", min_size=6, max_size=24)
markers = st.builds(
    lambda digits, tail: f"zq{digits}{tail}",
    hex_digits,
    st.sampled_from(["", "-x", ".y", "==", "ü", 'é"\\/', " with space", "\n"]),
)
"""Strings that must never appear in a message (often valid bearer tokens, sometimes not)."""

texts = st.one_of(markers, st.text(max_size=12))
"""Any text, non-ASCII and lone surrogates included; only the markers are searched for."""

huge_ints = st.builds(lambda e, sign: sign * 10**e, st.integers(300, 420), st.sampled_from([1, -1]))
"""Integers JSON can carry but a float cannot hold."""

numbers = st.one_of(
    st.integers(),
    huge_ints,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(0, 10**10),
    st.floats(0, 2e12),
)
iso_times = st.builds(
    lambda moment, z: moment.isoformat() + z,
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.sampled_from(["", "Z"]),
)
expiry_values = st.one_of(numbers, iso_times, texts, st.none(), st.booleans())
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=10))


def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=5),
        # objects shaped like /auth answers: token, wrapper and expiry keys, any values
        st.fixed_dictionaries(
            {}, optional={key: st.one_of(children, expiry_values) for key in KNOWN_KEYS}
        ),
    )


json_values = st.recursive(scalars, extend, max_leaves=25)
documents = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional=dict.fromkeys(KNOWN_KEYS, json_values)),
    st.builds(
        lambda wrapper, inner, outer: {**outer, wrapper: inner},
        st.sampled_from(WRAPPER_KEYS),
        st.fixed_dictionaries({}, optional=dict.fromkeys(KNOWN_KEYS, json_values)),
        st.dictionaries(keys, json_values, max_size=3),
    ),
)


def encode(document: Any, ensure_ascii: bool) -> bytes:
    """The body a server would send; NaN and Infinity tokens included, as Python writes them."""
    text = json.dumps(document, ensure_ascii=ensure_ascii, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate makes invalid UTF-8: fine


# -- helpers --------------------------------------------------------------------------------------


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside ``value``, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)


def keys_in(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(keys_in(item) for item in value))
    if isinstance(value, dict):
        return {str(k) for k in value}.union(*(keys_in(item) for item in value.values()))
    return set()


def secrets_of(value: Any) -> set[str]:
    """The marked strings of ``value`` that a message may not show (not those used as keys,
    which messages legitimately list), and their marker cores (what survives escaping)."""
    names = keys_in(value)
    found: set[str] = set()
    for text in strings_in(value):
        if text in names:
            continue
        for core in MARKER.findall(text):
            if not any(core in name for name in names):
                found |= {text, core}
    return {text for text in found if len(text) >= 8}


def read_recording_warnings(content_type: str, body: bytes) -> tuple[object, list[str]]:
    """The token or the exception, and the warnings' messages; any other exception escapes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome: object = read_auth_response(content_type, body, host="radix.example")
        except RadixError as error:
            outcome = error
    for warning in caught:
        assert issubclass(warning.category, RadixWarning), warning
    return outcome, [str(warning.message) for warning in caught]


def assert_usable(token: RadixToken) -> None:
    assert isinstance(token.value, str) and token.value.strip() == token.value and token.value
    assert isinstance(token.lifetime, float)
    assert math.isfinite(token.lifetime)
    assert 0 < token.lifetime <= MAX_LIFETIME or token.lifetime == DEFAULT_LIFETIME


def assert_nothing_quoted(texts: list[str], secrets: set[str]) -> None:
    for text in texts:
        quoted = sorted(s for s in secrets if s in text or repr(s)[1:-1] in text)
        assert not quoted, f"{quoted} copied into: {text}"


# -- read_auth_response ---------------------------------------------------------------------------


@PROPERTIES
@given(
    document=documents,
    content_type=st.sampled_from(CONTENT_TYPES),
    ensure_ascii=st.booleans(),
)
@example(document={"access_token": "zq0123abcd", "expires_in": 10**400}, content_type="",
         ensure_ascii=True)  # fmt: skip
@example(document={"token": "zq0123abcd", "expires_at": -(10**309)}, content_type="text/plain",
         ensure_ascii=True)  # fmt: skip
def test_any_json_body_gives_a_token_or_a_radix_error_quoting_no_value(
    document: Any, content_type: str, ensure_ascii: bool
) -> None:
    body = encode(document, ensure_ascii)
    with fresh_secret_registry():
        outcome, warned = read_recording_warnings(content_type, body)
    secrets = secrets_of(document)
    if isinstance(outcome, RadixToken):
        assert_usable(outcome)
        # the token is one of the strings the server sent, never something made up
        assert any(outcome.value == text.strip() for text in strings_in(document))
        assert_nothing_quoted(warned, secrets)
    else:
        assert isinstance(outcome, RadixError)
        assert_nothing_quoted([str(outcome), repr(outcome), *warned], secrets)


@PROPERTIES
@given(
    key=st.sampled_from(TOKEN_KEYS),
    wrapper=st.sampled_from((None, *WRAPPER_KEYS)),
    token=st.from_regex(r"[A-Za-z0-9\-._~+/]{8,40}=*", fullmatch=True),
    noise=st.dictionaries(
        st.text(max_size=8).filter(lambda k: k not in KNOWN_KEYS), json_values, max_size=4
    ),
    content_type=st.sampled_from(CONTENT_TYPES),
)
def test_a_bearer_token_under_any_token_key_is_read_whatever_surrounds_it(
    key: str, wrapper: str | None, token: str, noise: dict[str, Any], content_type: str
) -> None:
    inner = {**noise, key: token}
    document = inner if wrapper is None else {**noise, wrapper: inner}
    with fresh_secret_registry():
        outcome, _ = read_recording_warnings(content_type, encode(document, True))
    assert isinstance(outcome, RadixToken), outcome
    assert outcome.value == token
    assert outcome.lifetime == DEFAULT_LIFETIME  # no expiry anywhere: one hour


@PROPERTIES
@given(text=texts, content_type=st.sampled_from(CONTENT_TYPES))
def test_any_bare_text_body_gives_a_token_or_a_radix_error_quoting_nothing(
    text: str, content_type: str
) -> None:
    body = text.encode("utf-8", "surrogatepass")
    with fresh_secret_registry():
        outcome, warned = read_recording_warnings(content_type, body)
    if isinstance(outcome, RadixToken):
        assert_usable(outcome)
        assert outcome.value == text.strip()
    else:
        assert isinstance(outcome, RadixError)
        assert_nothing_quoted([str(outcome), *warned], secrets_of(text))


@PROPERTIES
@given(body=st.binary(max_size=300), content_type=st.sampled_from(CONTENT_TYPES))
@example(body=b"[" * 100_000, content_type="application/json")
@example(body=b'{"a":' * 50_000, content_type="application/json")
def test_any_bytes_give_a_token_or_a_radix_error(body: bytes, content_type: str) -> None:
    with fresh_secret_registry():
        outcome, _ = read_recording_warnings(content_type, body)
    if isinstance(outcome, RadixToken):
        assert_usable(outcome)
    else:
        assert isinstance(outcome, RadixError)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_of(header: Any, claims: Any, signature: str) -> str:
    """A JWT-shaped token (not signed): any header and claims, base64url-encoded JSON."""
    segments = (
        json.dumps(part, allow_nan=True).encode("utf-8", "surrogatepass")
        for part in (header, claims)
    )
    return ".".join([*(b64url(segment) for segment in segments), signature])


HS256 = {"alg": "HS256", "typ": "JWT"}
jwt_headers = st.one_of(st.just(HS256), st.just({"alg": "none"}), json_values)
claim_documents = st.one_of(
    st.fixed_dictionaries({}, optional={"exp": expiry_values, "iat": expiry_values, "sub": texts}),
    json_values,
)
signatures = st.from_regex(r"[A-Za-z0-9_-]{8,43}", fullmatch=True)  # a token has 8+ characters


@PROPERTIES
@given(
    header=jwt_headers,
    claims=claim_documents,
    signature=signatures,
    key=st.sampled_from(TOKEN_KEYS),
    content_type=st.sampled_from(CONTENT_TYPES),
)
@example(header=HS256, claims={"exp": 10**400, "iat": 1}, signature="c2ln", key="jwt",
         content_type="application/json")  # fmt: skip
def test_a_jwt_with_any_header_and_claims_is_accepted_with_a_usable_lifetime(
    header: Any, claims: Any, signature: str, key: str, content_type: str
) -> None:
    """Whatever its claims say (or however they fail to decode), a JWT-shaped token is a
    bearer token: accepted, as a JWT or as opaque, with a usable lifetime; no warning quotes
    a claim."""
    token = jwt_of(header, claims, signature)
    with fresh_secret_registry():
        outcome, warned = read_recording_warnings(content_type, encode({key: token}, True))
    assert isinstance(outcome, RadixToken), outcome
    assert outcome.value == token
    assert_usable(outcome)
    assert isinstance(outcome.claims, Mapping)
    assert_nothing_quoted(warned, secrets_of(claims))


@PROPERTIES
@given(
    iat=st.integers(0, 4_000_000_000),
    lifetime=st.integers(1, int(MAX_LIFETIME)),
    extra=st.dictionaries(st.sampled_from(["sub", "jti", "aud", "scope"]), texts, max_size=3),
)
def test_a_jwt_lives_exp_minus_iat_without_expiry_fields(
    iat: int, lifetime: int, extra: dict[str, str]
) -> None:
    token = jwt_of(HS256, {**extra, "iat": iat, "exp": iat + lifetime}, "c2lnbmF0dXJl")
    with fresh_secret_registry(), warnings.catch_warnings():
        warnings.simplefilter("error")
        outcome = read_auth_response("application/json", encode({"access_token": token}, True))
    assert outcome.lifetime == lifetime
    assert outcome.claims["exp"] == iat + lifetime


def test_the_leak_check_sees_a_quoted_value() -> None:
    """The helpers themselves: a value copied into a message is caught, a key name is not."""
    document = {"status": "zq00ff11aa", "zq99887766": 1}
    assert secrets_of(document) == {"zq00ff11aa"}
    try:
        assert_nothing_quoted(["keys present [status, zq99887766]"], secrets_of(document))
        assert_nothing_quoted(["bad status 'zq00ff11aa'"], secrets_of(document))
    except AssertionError as error:
        assert "zq00ff11aa" in str(error)
    else:
        raise AssertionError("the leak check missed a quoted value")


# -- token_lifetime -------------------------------------------------------------------------------

expiry_documents = st.fixed_dictionaries(
    {}, optional=dict.fromkeys(EXPIRY_KEYS, expiry_values)
) | st.dictionaries(keys, json_values, max_size=5)
claim_sets = st.fixed_dictionaries(
    {}, optional={"exp": expiry_values, "iat": expiry_values}
) | st.dictionaries(keys, json_values, max_size=4)
nows = st.one_of(st.none(), st.floats(0, 1e10), st.integers(0, 10**10).map(float))


@PROPERTIES
@given(document=expiry_documents, claims=claim_sets, now=nows)
@example(document={"expires_in": 10**400}, claims={}, now=None)
@example(document={}, claims={"exp": 10**400, "iat": 1}, now=None)
def test_token_lifetime_is_always_usable_and_never_raises(
    document: dict[str, Any], claims: dict[str, Any], now: float | None
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lifetime = token_lifetime(document, claims, now=now)
    assert isinstance(lifetime, float)
    assert math.isfinite(lifetime)
    assert 0 < lifetime <= MAX_LIFETIME or lifetime == DEFAULT_LIFETIME
    for warning in caught:
        assert issubclass(warning.category, RadixWarning)
    assert_nothing_quoted([str(w.message) for w in caught], secrets_of([document, claims]))


@PROPERTIES
@given(
    seconds=st.floats(1, MAX_LIFETIME) | st.integers(1, int(MAX_LIFETIME)),
    key=st.sampled_from(("expires_in", "expiresIn")),
    others=expiry_documents,
    claims=claim_sets,
    now=nows,
)
@example(seconds=60, key="expires_in", others={}, claims={"exp": 10**400}, now=None)
def test_a_valid_expires_in_is_an_upper_bound_of_the_lifetime(
    seconds: float, key: str, others: dict[str, Any], claims: dict[str, Any], now: float | None
) -> None:
    """When several expiry fields are present the shortest wins: never more than expires_in."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RadixWarning)
        lifetime = token_lifetime({**others, key: seconds}, claims, now=now)
    assert 0 < lifetime <= seconds


@PROPERTIES
@given(
    document=st.dictionaries(keys.filter(lambda k: k not in EXPIRY_KEYS), json_values, max_size=5)
)
def test_without_expiry_fields_or_claims_the_lifetime_is_one_hour_without_warning(
    document: dict[str, Any],
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert token_lifetime(document, {}, now=time.time()) == DEFAULT_LIFETIME


# -- the edges the properties found, spelled out --------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [("expires_in", 10**400), ("expiresAt", -(10**400))],
    ids=["huge-expires_in", "huge-negative-expiresAt"],
)
def test_an_expiry_too_big_for_a_float_is_skipped_with_a_warning(key: str, value: int) -> None:
    """JSON integers have no size limit; one that no float can hold is an unusable expiry,
    skipped with a warning naming the key, like any other (not an OverflowError)."""
    body = f'{{"access_token": "zq5d6e7f8a9b", "{key}": {value}}}'.encode()
    with fresh_secret_registry(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        token = read_auth_response("application/json", body)
    assert token.lifetime == DEFAULT_LIFETIME
    assert [str(w.message) for w in caught] == [
        f"pytest-radix: ignored the token's {key!r}: not a usable expiry (expected a positive "
        "number of seconds, an epoch or an ISO 8601 time within a year)"
    ]


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_a_claim_too_big_for_a_float_does_not_crash_token_lifetime(claim: str) -> None:
    claims = {"exp": 2_000_000_000, "iat": 1_999_999_000, claim: 10**400}
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        lifetime = token_lifetime({"expires_in": 600}, claims, now=1_999_999_000.0)
    assert lifetime == 600


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000, b'{"data":' * 5_000 + b"1" + b"}" * 5_000],
    ids=["unclosed-lists", "closed-objects"],
)
def test_deeply_nested_json_is_a_response_error(body: bytes) -> None:
    """A body nested deeper than Python's JSON parser can recurse is a RadixResponseError
    naming the content type, like any other unreadable body (not a RecursionError)."""
    with fresh_secret_registry(), pytest.raises(RadixResponseError) as info:
        read_auth_response("application/json", body, host="radix.example")
    assert "application/json" in str(info.value)
    assert "radix.example" in str(info.value)


@pytest.mark.parametrize(
    "claims",
    [
        b'{"exp": 1' + b"0" * 400 + b', "iat": 1}',
        b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
        b"[1, 2, 3]",
        b'{"exp": 1e400, "iat": -1e400}',
    ],
    ids=["huge-exp", "deeply-nested", "a-list", "infinite-exp"],
)
def test_a_jwt_with_hostile_claims_is_accepted_with_the_default_lifetime(claims: bytes) -> None:
    token = f"{b64url(json.dumps(HS256).encode())}.{b64url(claims)}.c2lnbmF0dXJl"
    with fresh_secret_registry(), warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        outcome = read_auth_response("application/json", encode({"token": token}, True))
    assert outcome.value == token
    assert outcome.lifetime == DEFAULT_LIFETIME
