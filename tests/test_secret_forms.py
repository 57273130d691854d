"""The search for a secret in every encoding that scrubbing, the pre-save check and audit share."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote, quote_plus

import pytest

from pytest_radix.secret_forms import SecretForms

SECRET = 'sk_"find\\me/ünï 😀-4d3c2b1a0f9e+x'
CLIENT_ID = "5642c0b355d27c0e003b3f30"

FORMS = {
    "raw": SECRET,
    "json": json.dumps(SECRET)[1:-1],
    "json-ascii": json.dumps(SECRET, ensure_ascii=True)[1:-1],
    "json-upper": json.dumps(SECRET)[1:-1].replace("\\ud83d", "\\uD83D"),
    "every-char-escaped": "".join(
        json.dumps(c)[1:-1] if ord(c) > 0xFFFF else f"\\u{ord(c):04X}" for c in SECRET
    ),
    "first-char-escaped": "\\u0073" + SECRET[1:],
    "plus-escaped": SECRET.replace("+", "\\u002B"),
    "double-json": json.dumps(json.dumps(SECRET))[1:-1],
    "python-repr": repr(SECRET)[1:-1],
    "ascii": ascii(SECRET)[1:-1],
    "bytes-repr": repr(SECRET.encode())[2:-1],
    "url": quote(SECRET, safe=""),
    "url-twice": quote(quote(SECRET, safe=""), safe=""),
    "form": quote_plus(SECRET),
    "html": html.escape(SECRET),
    "html-numeric": "".join(f"&#{ord(c)};" for c in SECRET),
    "html-hex": "".join(f"&#x{ord(c):x};" for c in SECRET),
    "base64": base64.b64encode(SECRET.encode()).decode(),
    "base64-urlsafe": base64.urlsafe_b64encode(b"x" + SECRET.encode()).decode(),
    "basic": base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode(),
}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("around", ["{}", "x{}y", "a%b&c {} d+e\\f"])
def test_every_form_is_found_and_replaced(form: str, around: str) -> None:
    finder = SecretForms(SECRET)
    text = around.format(FORMS[form])
    assert finder.search(text)
    scrubbed = finder.sub("PLACEHOLDER", text)
    assert "PLACEHOLDER" in scrubbed
    assert not finder.search(scrubbed)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sk_ find me",
        SECRET[:-1],
        SECRET[1:],
        json.dumps({"records": list(range(50))}),
        "%73k_&amp; \\u0073",
        base64.b64encode(SECRET[:8].encode()).decode(),
    ],
)
def test_what_is_not_the_secret_is_left_alone(text: str) -> None:
    finder = SecretForms(SECRET)
    assert not finder.search(text)
    assert finder.sub("PLACEHOLDER", text) == text
