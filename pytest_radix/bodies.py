"""HTTP bodies as text: compression undone, the charset found, and the way back to bytes.

Scrubbing works on text, so a body is first decompressed (``Content-Encoding`` gzip, deflate,
and br when ``brotli`` or ``brotlicffi`` is installed), then decoded in its charset (the
``Content-Type`` parameter, a byte order mark, or the null bytes of UTF-16/32 JSON), and
encoded back the same way once scrubbed. UTF-8 is decoded losslessly whatever the bytes are,
so binary bodies come back unchanged apart from the secrets replaced in them.
"""

from __future__ import annotations

import codecs
import functools
import importlib
import zlib
from collections.abc import Callable, Iterator
from email.message import Message
from typing import Any

from requests.utils import guess_json_utf

__all__ = ["decompress", "plausible_texts", "text_of"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@functools.cache
def _brotli() -> Any:
    """The brotli module installed (``brotli`` or ``brotlicffi``), or ``None``."""
    for name in ("brotli", "brotlicffi"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _unzlib(data: bytes, wbits: int) -> bytes:
    """``data`` decompressed, as far as it goes (a stream the client closed early is cut
    short: what it holds is still decoded); each member of a multi-member gzip body."""
    pieces = []
    while data:
        decoder = zlib.decompressobj(wbits)
        pieces.append(decoder.decompress(data))
        data = decoder.unused_data if wbits & 16 and decoder.eof else b""
    return b"".join(pieces)


def _inflate(data: bytes) -> bytes:
    """zlib-wrapped deflate, or raw deflate as some servers send it."""
    try:
        return _unzlib(data, zlib.MAX_WBITS)
    except zlib.error:
        return _unzlib(data, -zlib.MAX_WBITS)


def _gunzip(data: bytes) -> bytes:
    return _unzlib(data, zlib.MAX_WBITS | 16)


def _unbrotli(data: bytes) -> bytes:
    """``data`` decompressed as far as it goes (a stream cut short is decoded too: the one-shot
    ``brotli.decompress`` refuses it)."""
    decoder = _brotli().Decompressor()
    feed = getattr(decoder, "process", None) or decoder.decompress  # brotli, brotlicffi
    return bytes(feed(data))


_DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _inflate,
    "br": _unbrotli,
    "identity": lambda data: data,
}


def decompress(data: bytes, content_encoding: str) -> bytes | None:
    """``data`` with every coding of ``content_encoding`` undone (last applied, first undone);
    ``None`` when one is unknown or has no decoder here. Data that does not decode is taken
    as decoded already (some clients record the body they decompressed under the header)."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    if any(coding not in _DECODERS for coding in codings):
        return None
    if "br" in codings and _brotli() is None:
        return None
    for coding in reversed(codings):
        try:
            data = _DECODERS[coding](data)
        except Exception:  # zlib.error, brotli.error: not compressed that way
            continue
    return data


def _declared_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    message = Message()
    message["Content-Type"] = content_type
    charset = message.get_param("charset")
    if not isinstance(charset, str):
        return None
    try:
        return codecs.lookup(charset.strip().strip("'\"")).name
    except LookupError:
        return None


def _codec(data: bytes, content_type: str | None) -> tuple[bytes, str]:
    """The byte order mark that ``data`` starts with (or ``b""``) and its codec."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return bom, name
    declared = _declared_charset(content_type)
    if declared in (None, "utf-16", "utf-32"):  # no BOM: the null bytes say which order
        guessed = guess_json_utf(data)  # type: ignore[no-untyped-call]
        if guessed and guessed.startswith(declared or "utf-"):
            return b"", guessed
    return b"", declared or "utf-8"


def text_of(data: bytes, content_type: str | None) -> tuple[str, Callable[[str], bytes]]:
    """``data`` as text, and the function that encodes such text back the same way.

    Undecodable bytes (a binary body, or a wrong charset) are kept through UTF-8 with
    ``surrogateescape``, so that text round-trips to the same bytes.
    """
    bom, codec = _codec(data, content_type)
    if codec not in ("utf-8", "utf_8"):
        try:
            text = data[len(bom) :].decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
        else:
            return text, lambda value: bom + value.encode(codec, "surrogateescape")
    text = data[len(bom) :].decode("utf-8", "surrogateescape")
    return text, lambda value: bom + value.encode("utf-8", "surrogateescape")


def plausible_texts(data: bytes, content_type: str | None = None) -> Iterator[str]:
    """Every way ``data`` plausibly reads as text, for a search that must not miss anything:
    decompressed when it is compressed (whatever headers say), in its charset, in UTF-8, and
    as Windows-1252 (which Latin-1 text also reads as) when it is not UTF-8."""
    seen: set[bytes] = set()
    todo = [data]
    while todo:
        item = todo.pop()
        if item in seen:
            continue
        seen.add(item)
        yield text_of(item, content_type)[0]
        as_utf8 = text_of(item, None)[0]
        yield as_utf8
        if _has_surrogates(as_utf8):  # not UTF-8: a single-byte charset, most likely
            yield item.decode("cp1252", "replace")
        if b"\x00" in item[:64]:
            yield from (_lenient(item, codec) for codec in ("utf-16-le", "utf-16-be", "utf-32"))
        for coding in ("gzip", "deflate", "br"):
            decoded = decompress(item, coding)
            if decoded is not None and decoded != item and len(seen) < 8:
                todo.append(decoded)


def _has_surrogates(text: str) -> bool:
    """Whether ``text`` kept undecodable bytes (``surrogateescape``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _lenient(data: bytes, codec: str) -> str:
    return data.decode(codec, "replace")
