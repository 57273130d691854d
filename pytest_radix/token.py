"""Radix tokens: reading an ``/auth`` response, and a token's lifetime on the monotonic clock."""

from __future__ import annotations

import json
import math
import re
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pytest_radix.errors import RadixResponseError, RadixWarning
from pytest_radix.masking import MASK, MaskedStr, register_secret

__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_LIFETIME",
    "RadixToken",
    "read_auth_response",
    "token_lifetime",
]

DEFAULT_LIFETIME = 3600.0
"""Seconds a token is assumed to live when nothing says otherwise."""

TOKEN_KEYS = ("access_token", "accessToken", "token", "jwt", "id_token", "idToken")
"""Where an ``/auth`` response may hold the token: the first non-empty string wins."""

WRAPPER_KEYS = ("data", "result", "response")
"""Objects an ``/auth`` response may wrap its fields in, once."""

MAX_LIFETIME = 366 * 24 * 3600.0
"""A year and a day: a longer lifetime is not a real expiry."""


@dataclass(frozen=True, repr=False)
class RadixToken:
    """A bearer token, its claims (empty when opaque) and when it expires.

    ``received_at`` and ``lifetime`` are on the monotonic clock, so a wrong wall clock can
    neither expire a token early nor keep an expired one. ``source`` says where it came from:
    ``live`` (an ``/auth`` request), ``replayed`` (a cassette), ``shared`` (another xdist
    worker) or ``cache`` (the token cache).
    """

    value: str
    lifetime: float = DEFAULT_LIFETIME
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False)
    received_at: float = field(default_factory=time.monotonic)
    source: str = "live"
    expires_at: datetime = field(init=False, compare=False)

    def __post_init__(self) -> None:
        register_secret(self.value)
        object.__setattr__(self, "value", MaskedStr(self.value))
        age = time.monotonic() - self.received_at
        expires = datetime.now(timezone.utc) + timedelta(seconds=self.lifetime - age)
        object.__setattr__(self, "expires_at", expires)

    def remaining(self) -> float:
        """Seconds left before the token expires (negative once it has)."""
        return self.received_at + self.lifetime - time.monotonic()

    def expires_within(self, seconds: float) -> bool:
        """Whether the token expires in less than ``seconds`` from now."""
        return self.remaining() < seconds

    def __repr__(self) -> str:
        kind = "jwt" if self.claims else "opaque"
        expires = self.expires_at.isoformat()
        return f"RadixToken('{MASK}', {kind}, {self.source}, expires_at={expires})"

    __str__ = __repr__


def read_auth_response(content_type: str, body: bytes, *, host: str = "") -> RadixToken:
    """Read the token (and its lifetime) from an ``/auth`` response of any common shape.

    Raises :class:`RadixResponseError`, naming the content type and the keys present but no
    value, when there is no token. The raw body (which may hold a token in a field not
    known) is kept out of the error's traceback, context and frames.
    """
    try:
        return _read_auth_response(content_type, body, host)
    except RadixResponseError as error:
        failure = error
    del body  # pytest shows a frame's arguments: not this one
    failure.__context__ = None  # the JSON parser's error holds the whole body
    raise failure.with_traceback(None)  # nor the frames that parsed it, with their locals


def _read_auth_response(content_type: str, body: bytes, host: str) -> RadixToken:
    where = f" from {host}" if host else ""
    media = content_type.split(";", 1)[0].strip().lower() or "no content type"
    text = body.decode("utf-8", "replace").removeprefix("\ufeff").strip()
    if not text:
        raise RadixResponseError(f"/auth{where} answered with an empty body ({media})")
    try:
        document: Any = json.loads(text)
    except RecursionError:
        raise RadixResponseError(
            f"/auth{where} answered {media} nested too deeply to be an authentication response"
        ) from None
    except ValueError:
        if media == "text/plain" and _looks_like_token(text):
            return _make_token(text, {})
        raise RadixResponseError(
            f"/auth{where} answered {media} that is neither JSON nor a bare token "
            f"({len(body)} bytes, starting {_shape_of(text)})"
        ) from None
    if isinstance(document, str):
        if _looks_like_token(document.strip()):
            return _make_token(document.strip(), {})
        raise RadixResponseError(f"/auth{where} answered a JSON string that is not a token")
    if not isinstance(document, dict):
        raise RadixResponseError(
            f"/auth{where} answered JSON {type(document).__name__} ({media}); "
            f"expected an object with one of {', '.join(TOKEN_KEYS)}"
        )
    for candidate in _candidates(document):
        token = _first_token(candidate)
        if token is not None:
            return _make_token(token, {**document, **candidate})
    raise RadixResponseError(
        f"/auth{where} answered {media} with no token: keys present "
        f"{_keys_of(document)}; expected one of {', '.join(TOKEN_KEYS)}, at the top level or "
        f"inside {', '.join(WRAPPER_KEYS)}"
    )


def _candidates(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The object itself, then the objects it wraps under data/result/response."""
    found = [document]
    found += [document[k] for k in WRAPPER_KEYS if isinstance(document.get(k), dict)]
    return found


def _first_token(document: Mapping[str, Any]) -> str | None:
    for key in TOKEN_KEYS:
        value = document.get(key)
        if isinstance(value, str) and value.strip():
            if not _looks_like_token(value.strip()):
                raise RadixResponseError(
                    f"/auth answered a {key!r} that cannot be a bearer token "
                    f"(a bearer token is {MIN_TOKEN_LENGTH}+ letters, digits and -._~+/)"
                )
            return value.strip()
    return None


_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


MIN_TOKEN_LENGTH = 8
"""Shorter strings are not taken for a token (they would be an error code, a number, …)."""


def _looks_like_token(text: str) -> bool:
    """Whether ``text`` fits RFC 6750's ``b64token`` and is long enough to be a bearer token."""
    return len(text) >= MIN_TOKEN_LENGTH and _B64TOKEN.fullmatch(text) is not None


def _keys_of(document: Mapping[str, Any]) -> str:
    keys = sorted(str(k) for k in document)
    nested = [
        f"{k}.{inner}"
        for k in WRAPPER_KEYS
        if isinstance(document.get(k), dict)
        for inner in sorted(str(i) for i in document[k])
    ]
    listed = keys + nested
    return "[" + ", ".join(listed[:20]) + (", …" if len(listed) > 20 else "") + "]"


def _shape_of(text: str) -> str:
    """Describe how a body starts without quoting it (it may hold a secret)."""
    head = text.lstrip()[:15].lower()
    if head.startswith(("<!doctype html", "<html")):
        return "like an HTML page"
    if head.startswith("<"):
        return "like XML or HTML"
    if head.startswith(("{", "[")):
        return "like JSON that does not parse (truncated?)"
    return "with text"


def _make_token(value: str, document: Mapping[str, Any]) -> RadixToken:
    claims = _claims_of(value)
    return RadixToken(value, token_lifetime(document, claims), claims, time.monotonic())


def _claims_of(token: str) -> dict[str, Any]:
    """The JWT's claims, unverified; empty for an opaque token."""
    if token.count(".") != 2:
        return {}
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError, OverflowError):
        return {}
    return claims if isinstance(claims, dict) else {}


def token_lifetime(
    document: Mapping[str, Any], claims: Mapping[str, Any], *, now: float | None = None
) -> float:
    """Seconds the token lives, from the response's expiry fields and the JWT's claims.

    ``expires_in`` (seconds), ``expires_at`` (epoch seconds or milliseconds, or ISO 8601), in
    either case style, numbers or numeric strings (``"300"``), and the JWT's ``exp - iat``
    (``exp - now`` without ``iat``); the shortest wins; with none of them, one hour. A field
    that cannot be read is skipped with a :class:`RadixWarning` naming the key, never its value.
    """
    wall = time.time() if now is None else now
    found: list[float] = []
    for key in ("expires_in", "expiresIn"):
        if key in document:
            _keep(found, key, _number(document[key]))
    for key in ("expires_at", "expiresAt"):
        if key in document:
            at = _epoch(document[key])
            _keep(found, key, None if at is None else at - wall)
    exp = _number(claims.get("exp"))
    if exp is not None:
        iat = _number(claims.get("iat"))
        _keep(found, "exp claim", exp - (wall if iat is None else iat))
    return min(found, default=DEFAULT_LIFETIME)


def _keep(found: list[float], key: str, seconds: float | None) -> None:
    if seconds is not None and 0 < seconds <= MAX_LIFETIME:
        found.append(seconds)
        return
    warnings.warn(
        RadixWarning(
            f"pytest-radix: ignored the token's {key!r}: not a usable expiry "
            "(expected a positive number of seconds, an epoch or an ISO 8601 time within a year)"
        ),
        stacklevel=2,
    )


def _number(value: object) -> float | None:
    """A finite number from a JSON number or a numeric string (``"300"``), else ``None``."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too big for a float
        return None
    return number if math.isfinite(number) else None


def _epoch(value: object) -> float | None:
    number = _number(value)
    if number is not None:
        return number / 1000.0 if number > 1e11 else number
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    return None
