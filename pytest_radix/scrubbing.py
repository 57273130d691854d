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

from pytest_radix.bodies import plausible_texts, text_of
from pytest_radix.masking import JWT, PLACEHOLDER, known_secrets
from pytest_radix.secret_forms import SecretForms, secret_forms

__all__ = [
    "PLACEHOLDER",
    "TOKEN_FIELDS",
    "find_leak",
    "lookalike",
    "scrub_body",
    "scrub_client_secret",
    "scrub_text",
    "secret_in",
    "signed_jwt_in",
    "scrub_token_fields",
]


def lookalike(secret: str) -> str:
    """A JWT with its signature replaced by :data:`PLACEHOLDER`; anything else: the placeholder."""
    parts = secret.split(".")
    if len(parts) == 3 and parts[0].startswith("eyJ") and all(parts):
        return f"{parts[0]}.{parts[1]}.{PLACEHOLDER}"
    return PLACEHOLDER


def _needle(secret: str) -> str:
    """What must not survive of ``secret``: a token's signature (its header and claims are kept
    on purpose by :func:`lookalike`), or the whole API key."""
    return secret.rsplit(".", 1)[1] if lookalike(secret) != PLACEHOLDER else secret


@functools.lru_cache(maxsize=8)
def _finders(secrets: frozenset[str]) -> tuple[tuple[SecretForms, str], ...]:
    """For each secret that scrubbing replaces (longest first), the finder of its needle in
    every encoding, and what the kind of secret is called."""
    scrubbed = sorted((s for s in secrets if s != lookalike(s)), key=len, reverse=True)
    return tuple(
        (
            secret_forms(_needle(secret)),
            "a token's signature" if lookalike(secret) != PLACEHOLDER else "the API key",
        )
        for secret in scrubbed
    )


def scrub_text(text: str) -> str:
    """Replace every known secret in ``text``, in any encoding, and give every signed JWT-shaped
    string (known or not) the placeholder signature.

    A token becomes its look-alike (its signature is replaced), the API key the placeholder.
    """
    for finder, _ in _finders(known_secrets()):
        text = finder.sub(PLACEHOLDER, text)
    if "eyJ" in text:
        text = JWT.sub(_unsigned, text)
    return text


def _unsigned(match: re.Match[str]) -> str:
    return lookalike(match.group(0)) if match.group(1) else match.group(0)


def secret_in(text: str, secrets: frozenset[str] | None = None) -> str | None:
    """Which kind of known secret (or of ``secrets``) ``text`` holds in any encoding, or
    ``None``: the patterns :func:`scrub_text` replaces, so what it leaves is never found."""
    for finder, kind in _finders(known_secrets() if secrets is None else secrets):
        if finder.search(text):
            return kind
    return None


def signed_jwt_in(text: str) -> bool:
    """Whether ``text`` holds a JWT-shaped string whose signature is not the placeholder."""
    return "eyJ" in text and any(m.group(1) not in ("", PLACEHOLDER) for m in JWT.finditer(text))


def scrub_body(body: bytes | str | None, content_type: str | None) -> bytes | str | None:
    """Scrub a (decompressed) body in its charset: ``client_secret`` and the token fields at
    any depth of JSON, then every known secret (:func:`scrub_text`)."""
    if not body:
        return body
    text, encode = (body, str) if isinstance(body, str) else text_of(body, content_type)
    scrubbed = scrub_text(str(scrub_token_fields(scrub_client_secret(text))))
    return body if scrubbed is text else encode(scrubbed)  # unchanged: no copy


TOKEN_FIELDS = frozenset(
    {"access_token", "accessToken", "token", "jwt", "id_token", "idToken"}
    | {"refresh_token", "refreshToken"}
)
"""JSON keys whose string values are tokens, scrubbed in every response."""


def scrub_client_secret(body: bytes | str | None) -> bytes | str | None:
    """Replace ``client_secret`` at any depth of a JSON body, whatever its content type says."""
    return _scrub_json(
        body, frozenset({"client_secret"}), lambda value: PLACEHOLDER, ("client_secret",)
    )


def scrub_token_fields(body: bytes | str | None) -> bytes | str | None:
    """Make look-alikes of the tokens at any depth of a JSON body (refresh tokens included)."""
    return _scrub_json(body, TOKEN_FIELDS, _token_lookalike, ("oken", "jwt"))


def _token_lookalike(value: Any) -> Any:
    return lookalike(value) if isinstance(value, str) else value


def _scrub_json(
    body: bytes | str | None,
    keys: frozenset[str],
    replace: Callable[[Any], Any],
    hints: tuple[str, ...],
) -> bytes | str | None:
    """Replace the values under ``keys`` at any depth of a JSON ``body`` (only parsed when it
    holds one of ``hints``, pieces of which every key has one)."""
    if not body or not any(
        hint.encode() in body if isinstance(body, bytes) else hint in body for hint in hints
    ):
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


def find_leak(document: Any, text: str = "") -> str | None:
    """Say which kind of secret ``document`` (parsed) or ``text`` still holds; ``None`` if clean.

    Bytes in ``document`` are searched in every way they plausibly read as text (decompressed,
    in any charset); see :func:`secret_in` for the encodings of a secret that are found.
    """
    secrets = known_secrets()
    for value in (*_strings(document), text):
        if signed_jwt_in(value):
            return "a signed JWT"
        leak = secret_in(value, secrets)
        if leak is not None:
            return leak
    return None


def _strings(node: Any) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, bytes):
        yield from plausible_texts(node)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _strings(item)
