"""Regular expressions that find a secret in every encoding an API or a client plausibly gives it.

Each character of the secret may appear raw or escaped, independently of its neighbours: JSON
and Python ``\\uXXXX``/``\\xXX`` escapes (any number of backslashes, hex in either case), URL
encoding (once or twice), ``+`` for a space, HTML entities (decimal, hex, named, and those
escaped once more). Base64 of the secret is found at any offset of a larger base64 text (so
``base64(client_id + ":" + key)`` too), in the standard and the URL-safe alphabet.
"""

from __future__ import annotations

import base64
import functools
import re
from html.entities import codepoint2name

__all__ = ["BASE64_CORE", "SecretForms", "secret_forms"]

BASE64_CORE = 12
"""The shortest run of base64 characters standing for a secret that is searched for."""

_SLASHES = r"\\\\{0,7}"  # an escape inside an escaped string doubles its backslashes
# (a literal first: then the regex engine skips quickly to where a match can start)
_CONTROL = {"\n": "n", "\r": "r", "\t": "t", "\b": "b", "\f": "f"}


def _hex(value: int, width: int = 1) -> str:
    """``value`` in hex, at least ``width`` digits, each letter in either case."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{value:0{width}x}")


@functools.lru_cache(maxsize=512)
def _unit(char: str) -> str:
    """A pattern for one character of a secret, raw or escaped in any of the known ways."""
    code = ord(char)
    data = char.encode("utf-8", "surrogatepass")
    if char == "\\":
        forms = [r"\\\\{0,15}"]
    else:
        forms = [re.escape(char)]
        if char in "\"'/":
            forms.append(_SLASHES + re.escape(char))
        if char in _CONTROL:
            forms.append(_SLASHES + _CONTROL[char])
    if code < 0x10000:
        forms.append(f"{_SLASHES}u{_hex(code, 4)}")
    else:
        high, low = divmod(code - 0x10000, 0x400)
        forms.append(f"{_SLASHES}u{_hex(0xD800 + high, 4)}{_SLASHES}u{_hex(0xDC00 + low, 4)}")
        forms.append(f"{_SLASHES}U{_hex(code, 8)}")
    if code < 0x100:
        forms.append(f"{_SLASHES}x{_hex(code, 2)}")
    if len(data) > 1:
        forms.append("".join(f"{_SLASHES}x{_hex(byte, 2)}" for byte in data))
    forms.append("".join(f"%(?:25)?{_hex(byte, 2)}" for byte in data))
    if char == " ":
        forms.append(r"\+")
    entity = f"&(?:amp;)?#(?:0*{code}|[xX]0*{_hex(code)});"
    forms.append(entity)
    name = codepoint2name.get(code) or ("apos" if char == "'" else None)
    if name:
        forms.append(f"&(?:amp;)?{name};")
    return "(?:" + "|".join(forms) + ")"


def _escaped(text: str) -> str:
    """``text`` with each character raw or escaped, independently."""
    return "".join(_unit(char) for char in text)


def _base64_cores(secret: str) -> list[str]:
    """The base64 characters that ``secret`` alone determines, at each of the three offsets it
    can start at inside a larger base64 text, in both alphabets (runs shorter than
    :data:`BASE64_CORE` are left out)."""
    data = secret.encode("utf-8", "surrogatepass")
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + data).decode("ascii")
        core = encoded[4 if offset else 0 : (offset + len(data)) // 3 * 4]
        if len(core) >= BASE64_CORE:
            cores |= {core, core.replace("+", "-").replace("/", "_")}
    return sorted(cores)


_BASE64_ESCAPES = {"+": r"(?:\+|%2[bB])", "/": r"(?:\\?/|%2[fF])", "=": r"(?:=|%3[dD])"}
_ESCAPE_STARTS = ("\\", "%", "&", "+")


def _plain(text: str) -> bool:
    """Whether ``text`` holds nothing an escape starts with: then a secret can only be in it
    raw, and a plain substring search (much faster than the patterns) finds it."""
    return not any(char in text for char in _ESCAPE_STARTS)


class SecretForms:
    """Find and replace one secret in ``text``, raw or escaped, or in base64.

    Two patterns rather than one alternation (each is scanned several times faster alone),
    and plain substring search in text that holds no escape at all; the patterns are compiled
    on the first text that needs them.
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.cores = _base64_cores(secret)

    @functools.cached_property
    def escaped(self) -> re.Pattern[str]:
        """The secret with each character raw or escaped."""
        return re.compile(_escaped(self.secret))

    @functools.cached_property
    def base64(self) -> re.Pattern[str] | None:
        """The secret's base64 cores, their ``+``, ``/`` and ``=`` raw or URL-encoded."""
        if not self.cores:
            return None
        alternatives = ("".join(_BASE64_ESCAPES.get(c, c) for c in core) for core in self.cores)
        return re.compile("|".join(alternatives))

    def search(self, text: str) -> bool:
        """Whether ``text`` holds the secret in any of its forms."""
        if _plain(text):
            return self.secret in text or any(core in text for core in self.cores)
        return bool(
            self.escaped.search(text) or (self.base64 is not None and self.base64.search(text))
        )

    def sub(self, replacement: str, text: str) -> str:
        """``text`` with every form of the secret replaced by ``replacement``."""
        if _plain(text):
            for form in (self.secret, *self.cores):
                text = text.replace(form, replacement)
            return text
        text = self.escaped.sub(replacement, text)
        return self.base64.sub(replacement, text) if self.base64 is not None else text


@functools.cache
def secret_forms(secret: str) -> SecretForms:
    """The :class:`SecretForms` of ``secret``, kept as long as the secret is known (for the
    whole process: a bounded cache would compile the patterns of every known secret again and
    again once more secrets are known than it holds)."""
    return SecretForms(secret)
