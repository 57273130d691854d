"""Keep secrets out of text: a registry of known secrets and the masking of text, logs and reports.

Every API key and token that pytest-radix handles is registered here. :func:`mask` replaces, in any
text, every JWT-shaped string and every fragment of eight or more characters of a known secret, in
the escaped forms that ``repr``, ``ascii``, JSON, bytes reprs and URL quoting give it, so that a
truncated repr still loses the part of a secret it kept.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "JWT",
    "MASK",
    "PLACEHOLDER",
    "MaskedStr",
    "escaped_forms",
    "install_log_masking",
    "known_secrets",
    "mask",
    "mask_object",
    "masked_value",
    "register_secret",
]

MASK = "***"
"""What a masked secret is replaced with."""

PLACEHOLDER = "scrubbed-by-pytest-radix"
"""What cassettes hold instead of the API key and of a token's signature (not a secret)."""

FRAGMENT = 8
"""Fragments of a known secret at least this long are masked."""

JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.([A-Za-z0-9_-]*)")
"""A JWT-shaped string; group 1 is its signature."""


class MaskedStr(str):
    """A ``str`` whose ``repr`` shows no part of it; the value itself is unchanged."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"'{MASK}'"


def escaped_forms(secret: str) -> set[str]:
    """The ways ``secret`` can appear once escaped, up to two escapes deep."""
    transforms: list[Callable[[str], str]] = [
        lambda s: repr(s)[1:-1],
        lambda s: ascii(s)[1:-1],
        lambda s: json.dumps(s)[1:-1],
        lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
        lambda s: repr(s.encode("utf-8", "surrogatepass"))[2:-1],
        lambda s: quote(s, safe=""),
        quote,
        quote_plus,
        html.escape,
    ]
    forms = {secret}
    for _ in range(2):
        forms |= {transform(form) for form in forms for transform in transforms}
    return forms


class _Registry:
    """The known secrets of this process and the lookup tables built from them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._grams: frozenset[str] = frozenset()
        self._forms: tuple[str, ...] = ()
        self._short: tuple[str, ...] = ()

    def add(self, secret: str) -> None:
        if not secret or secret in self._secrets:
            return
        with self._lock:
            self._secrets = self._secrets | {secret}
            forms = set(self._forms) | set(self._short) | escaped_forms(secret)
            self._forms = tuple(sorted(f for f in forms if len(f) >= FRAGMENT))
            self._short = tuple(sorted((f for f in forms if len(f) < FRAGMENT), key=len)[::-1])
            self._grams = frozenset(
                form[i : i + FRAGMENT]
                for form in self._forms
                for i in range(len(form) - FRAGMENT + 1)
            )

    def secrets(self) -> frozenset[str]:
        return self._secrets

    def mask(self, text: str) -> str:
        grams, forms, short = self._grams, self._forms, self._short
        if grams and len(text) >= FRAGMENT:
            text = _mask_fragments(text, grams, forms)
        for secret in short:  # whole occurrences only: "0" must not mask every zero
            if secret in text:
                text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", MASK, text)
        return text


def _mask_fragments(text: str, grams: frozenset[str], forms: tuple[str, ...]) -> str:
    """Replace each longest run of ``text`` that is a fragment (>= FRAGMENT chars) of a form."""
    out: list[str] = []
    start = i = 0
    last = len(text) - FRAGMENT
    while i <= last:
        if text[i : i + FRAGMENT] not in grams:
            i += 1
            continue
        end = i + FRAGMENT
        while end < len(text) and any(text[i : end + 1] in form for form in forms):
            end += 1
        out.append(text[start:i])
        out.append(MASK)
        start = i = end
    out.append(text[start:])
    return "".join(out)


_registry = _Registry()


def register_secret(secret: str) -> None:
    """Make ``secret`` (an API key or a token) known, so that :func:`mask` hides it from now on.

    The placeholders of replayed credentials and tokens are not secrets and stay readable.
    """
    secret = str(secret)
    if secret != PLACEHOLDER and not secret.endswith("." + PLACEHOLDER):
        _registry.add(secret)


def known_secrets() -> frozenset[str]:
    """Every secret registered so far in this process."""
    return _registry.secrets()


def mask(text: str) -> str:
    """Return ``text`` with JWT-shaped strings and known secrets' fragments replaced by ``***``."""
    if "eyJ" in text:
        text = JWT.sub(MASK, text)
    return _registry.mask(text)


def mask_object(obj: Any, *, _seen: set[int] | None = None) -> Any:
    """Mask every string inside ``obj`` (lists, tuples, dicts and plain objects), in place.

    Returns the masked value: a new string for a string, ``obj`` itself otherwise. Used on
    pytest's failure representations, which are trees of small data objects holding strings.
    """
    if isinstance(obj, str):
        return mask(obj)
    seen = set() if _seen is None else _seen
    if id(obj) in seen:
        return obj
    seen.add(id(obj))
    if isinstance(obj, list):
        obj[:] = [mask_object(item, _seen=seen) for item in obj]
    elif isinstance(obj, tuple):
        return (
            type(obj)(*_masked(obj, seen)) if hasattr(obj, "_fields") else tuple(_masked(obj, seen))
        )
    elif isinstance(obj, dict):
        for key, value in obj.items():
            obj[key] = mask_object(value, _seen=seen)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        for key, value in vars(obj).items():
            masked = mask_object(value, _seen=seen)
            if masked is not value:
                setattr(obj, key, masked)
    return obj


def masked_value(value: Any) -> Any:
    """``value`` itself when neither its ``str`` nor its ``repr`` shows a secret, else its
    ``str`` masked. ``value`` is never changed (it may be a user's object)."""
    if isinstance(value, str):
        return mask(value)
    try:
        text, representation = str(value), repr(value)
    except Exception:  # a broken __str__ or __repr__: show nothing of it
        return f"<{type(value).__name__}>"
    if mask(text) == text and mask(representation) == representation:
        return value
    return mask(text)


def _masked(items: Iterable[Any], seen: set[int]) -> list[Any]:
    return [mask_object(item, _seen=seen) for item in items]


def _mask_record(record: logging.LogRecord) -> None:
    """Mask a log record's message, exception text and stack in place."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: leave it to logging's own error handling
        return
    masked = mask(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = mask(record.stack_info)


def _mask_extra(record: logging.LogRecord, extra: Iterable[str]) -> None:
    """Mask the ``extra=`` fields of a record (set after the record factory ran) without
    changing the objects they hold: a field showing a secret becomes its masked text."""
    for key in extra:
        value = record.__dict__.get(key)
        masked = masked_value(value)
        if masked is not value:
            record.__dict__[key] = masked


def install_log_masking() -> Callable[[], None]:
    """Mask every log record as it is created, its ``extra`` fields too; returns the function
    that undoes it."""
    previous = logging.getLogRecordFactory()
    make_record = logging.Logger.makeRecord

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _mask_record(record)
        return record

    def masking_make_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(self, *args, **kwargs)
        extra = kwargs.get("extra", args[8] if len(args) > 8 else None)  # (name, level, …)
        if extra:
            _mask_extra(record, extra)
        return record

    logging.setLogRecordFactory(factory)
    logging.Logger.makeRecord = masking_make_record  # type: ignore[method-assign]

    def uninstall() -> None:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)
        if logging.Logger.makeRecord is masking_make_record:
            logging.Logger.makeRecord = make_record  # type: ignore[method-assign]

    return uninstall
