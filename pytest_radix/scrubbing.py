"""Scrubbing secrets out of recorded traffic, and checking that none is left.

The API key becomes :data:`PLACEHOLDER`; a token becomes a look-alike that keeps its header and
claims segments (so PyJWT still decodes it, unverified) with :data:`PLACEHOLDER` as signature.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from pytest_radix.masking import JWT, PLACEHOLDER, escaped_forms, known_secrets

__all__ = [
    "PLACEHOLDER",
    "TOKEN_FIELDS",
    "find_leak",
    "lookalike",
    "scrub_client_secret",
    "scrub_text",
    "scrub_token_fields",
]


def lookalike(secret: str) -> str:
    """A JWT with its signature replaced by :data:`PLACEHOLDER`; anything else: the placeholder."""
    parts = secret.split(".")
    if len(parts) == 3 and parts[0].startswith("eyJ") and all(parts):
        return f"{parts[0]}.{parts[1]}.{PLACEHOLDER}"
    return PLACEHOLDER


@functools.lru_cache(maxsize=256)
def _replacements(secret: str) -> tuple[tuple[str, str], ...]:
    """Each escaped form of ``secret`` (longest first) and what replaces it."""
    replacement = lookalike(secret)
    forms = sorted(escaped_forms(secret), key=len, reverse=True)
    return tuple((form, replacement) for form in forms if form and form != replacement)


@functools.lru_cache(maxsize=256)
def _pattern(secret: str) -> re.Pattern[str]:
    """Every escaped form of ``secret``, case-insensitive (escapes come as ``\\u00fc`` or
    ``\\u00FC``), longest first."""
    return re.compile("|".join(re.escape(form) for form, _ in _replacements(secret)), re.IGNORECASE)


def _secrets() -> tuple[str, ...]:
    """The known secrets that scrubbing replaces (a look-alike is not one), longest first."""
    return _scrubbed_secrets(known_secrets())


@functools.lru_cache(maxsize=8)
def _scrubbed_secrets(secrets: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted((s for s in secrets if s != lookalike(s)), key=len, reverse=True))


@functools.lru_cache(maxsize=8)
def _scrubbers(secrets: frozenset[str]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((_pattern(s), lookalike(s)) for s in _scrubbed_secrets(secrets))


def scrub_text(text: str) -> str:
    """Replace every known secret in ``text``, in any escaped form, by its replacement, and
    give every signed JWT-shaped string (known or not) the placeholder signature."""
    for pattern, replacement in _scrubbers(known_secrets()):
        text = pattern.sub(replacement, text)
    if "eyJ" in text:
        text = JWT.sub(_unsigned, text)
    return text


def _unsigned(match: re.Match[str]) -> str:
    return lookalike(match.group(0)) if match.group(1) else match.group(0)


def scrub_bytes(data: bytes) -> bytes:
    """:func:`scrub_text` for a body: as text when it is UTF-8, else with the same patterns
    on the bytes."""
    try:
        return scrub_text(data.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        for pattern, replacement in _byte_scrubbers(known_secrets()):
            data = pattern.sub(replacement, data)
        return data


@functools.lru_cache(maxsize=8)
def _byte_scrubbers(secrets: frozenset[str]) -> tuple[tuple[re.Pattern[bytes], bytes], ...]:
    return tuple(
        (re.compile(pattern.pattern.encode("utf-8"), re.IGNORECASE), replacement.encode("utf-8"))
        for pattern, replacement in _scrubbers(secrets)
    )


TOKEN_FIELDS = frozenset(
    {"access_token", "accessToken", "token", "jwt", "id_token", "idToken"}
    | {"refresh_token", "refreshToken"}
)
"""JSON keys whose string values are tokens, scrubbed in every response."""


def scrub_client_secret(body: bytes | str | None) -> bytes | str | None:
    """Replace ``client_secret`` at any depth of a JSON body, whatever its content type says."""
    return _scrub_json(body, frozenset({"client_secret"}), lambda value: PLACEHOLDER)


def scrub_token_fields(body: bytes | str | None) -> bytes | str | None:
    """Make look-alikes of the tokens at any depth of a JSON body (refresh tokens included)."""
    return _scrub_json(body, TOKEN_FIELDS, _token_lookalike)


def _token_lookalike(value: Any) -> Any:
    return lookalike(value) if isinstance(value, str) else value


def _scrub_json(
    body: bytes | str | None, keys: frozenset[str], replace: Callable[[Any], Any]
) -> bytes | str | None:
    """Replace the values under ``keys`` at any depth of a JSON ``body``."""
    if not body:
        return body
    try:
        document = json.loads(body)
    except (ValueError, TypeError, RecursionError):
        return body
    if not _replace_keys(document, keys, replace):
        return body
    text = json.dumps(document)
    return text.encode("utf-8") if isinstance(body, bytes) else text


def _replace_keys(node: Any, keys: frozenset[str], replace: Callable[[Any], Any]) -> bool:
    changed = False
    if isinstance(node, dict):
        for name, value in node.items():
            if name in keys:
                node[name] = replace(value)
                changed |= node[name] != value
            else:
                changed |= _replace_keys(value, keys, replace)
    elif isinstance(node, list):
        for item in node:
            changed |= _replace_keys(item, keys, replace)
    return changed


LEAK_FRAGMENT = 12
"""A run of this many characters of a secret (in any escaped form, any case) is a leak."""


def _needles(secret: str) -> list[str]:
    """What must not survive of ``secret``: a token's signature, or the key in every form.

    A token's header and claims segments are kept on purpose by :func:`lookalike`.
    """
    if lookalike(secret) != PLACEHOLDER:
        return [secret.rsplit(".", 1)[1]]
    return [form for form, _ in _replacements(secret)] + [secret]


@functools.lru_cache(maxsize=256)
def _leak_needles(secret: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The short forms of ``secret`` to find whole, and the 12-character runs of the others."""
    needles = [n.lower() for n in _needles(secret)]
    whole = tuple(n for n in needles if len(n) < LEAK_FRAGMENT)
    grams = frozenset(
        n[i : i + LEAK_FRAGMENT] for n in needles for i in range(len(n) - LEAK_FRAGMENT + 1)
    )
    return whole, grams


def find_leak(document: Any, text: str = "") -> str | None:
    """Say which kind of secret ``document`` (parsed) or ``text`` still holds; ``None`` if clean.

    Looks, case-insensitively, for any 12-character run of a secret in any escaped form (of a
    token: of its signature), so unusual escapes and truncations are caught too.
    """
    strings = list(_strings(document))
    if text:
        strings.append(text)
    if any(m.group(1) not in ("", PLACEHOLDER) for s in strings for m in JWT.finditer(s)):
        return "a signed JWT"
    haystacks = [value.lower() for value in strings]
    for secret in _secrets():
        whole, grams = _leak_needles(secret)
        for value in haystacks:
            if any(needle in value for needle in whole) or any(
                value[i : i + LEAK_FRAGMENT] in grams for i in range(len(value) - LEAK_FRAGMENT + 1)
            ):
                return "a token's signature" if lookalike(secret) != PLACEHOLDER else "the API key"
    return None


def _strings(node: Any) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, bytes):
        yield node.decode("utf-8", "replace")
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _strings(item)
