"""Unit tests of ``pytest_radix.masking``: the secret registry, ``mask``, ``MaskedStr``,
``mask_object`` and the log record factory."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import jwt
import pytest

from pytest_radix.masking import (
    MASK,
    MaskedStr,
    install_log_masking,
    mask,
    mask_object,
    register_secret,
)


def _fresh_secret() -> str:
    """A never-seen secret holding every character that escaping tends to get wrong."""
    tail = uuid.uuid4().hex
    return f'mk_"qu\\ot/e-ünï-{tail[:16]}-çødé-{tail[16:]}'


@pytest.fixture
def secret() -> str:
    value = _fresh_secret()
    register_secret(value)
    return value


@pytest.fixture
def plain_log_records() -> Iterator[None]:
    """Run with the standard record factory (the plugin installs its own for the whole run)."""
    saved = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        yield
    finally:
        logging.setLogRecordFactory(saved)


def _forms(secret: str) -> dict[str, str]:
    return {
        "raw": secret,
        "repr": repr(secret),
        "ascii": ascii(secret),
        "json": json.dumps(secret),
        "json-unicode": json.dumps(secret, ensure_ascii=False),
        "bytes-repr": repr(secret.encode("utf-8")),
        "url-quoted": quote(secret, safe=""),
        "url-quoted-plus": quote_plus(secret),
        "bytes-repr-of-json": repr(json.dumps(secret).encode("utf-8")),
        "bytes-repr-of-json-unicode": repr(json.dumps(secret, ensure_ascii=False).encode("utf-8")),
        "json-of-json": json.dumps(json.dumps(secret)),
        "repr-of-repr": repr(repr(secret)),
        "json-of-repr": json.dumps(repr(secret)),
        "quoted-json": quote(json.dumps(secret), safe=""),
    }


def _assert_hidden(masked: str, secret: str) -> None:
    """No 8-character fragment of the secret (or of its simplest escapes) is left."""
    for form in (secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]):
        for i in range(len(form) - 7):
            assert form[i : i + 8] not in masked, (form[i : i + 8], masked)


# -- mask on registered secrets -------------------------------------------------------------------


def test_raw_secret_is_masked(secret: str) -> None:
    masked = mask(f"key={secret} end")
    assert secret not in masked
    assert masked == f"key={MASK} end"


@pytest.mark.parametrize(
    "form",
    [
        "raw",
        "repr",
        "ascii",
        "json",
        "json-unicode",
        "bytes-repr",
        "url-quoted",
        "url-quoted-plus",
        "bytes-repr-of-json",
        "bytes-repr-of-json-unicode",
        "json-of-json",
        "repr-of-repr",
        "json-of-repr",
        "quoted-json",
    ],
)
def test_escaped_forms_are_masked(secret: str, form: str) -> None:
    shown = _forms(secret)[form]
    assert shown != "" and len(shown) >= len(secret) - 1
    text = f"before {shown} after"
    masked = mask(text)
    assert shown not in masked
    assert MASK in masked
    assert masked.startswith("before ") and masked.endswith(" after")
    # nothing recognisable of the secret survives, in the form shown or the raw one
    for i in range(len(shown) - 7):
        assert shown[i : i + 8] not in masked, shown[i : i + 8]
    _assert_hidden(masked, secret)


def test_escaped_forms_of_the_conftest_secret_are_masked() -> None:
    nasty = 'sk_"quo\\te/slash-ünïcødé-9c1f0e77b2d4a6e8'  # conftest.NASTY_SECRET
    register_secret(nasty)
    for name, shown in _forms(nasty).items():
        masked = mask(f"<{shown}>")
        assert shown not in masked, name
        _assert_hidden(masked, nasty)


@pytest.mark.parametrize("length", [8, 9, 12, 20])
def test_any_fragment_of_eight_or_more_characters_is_masked(secret: str, length: int) -> None:
    for start in range(0, len(secret) - length + 1):
        fragment = secret[start : start + length]
        masked = mask(f"[{fragment}]")
        assert fragment not in masked, fragment
        assert masked == f"[{MASK}]", (fragment, masked)


def test_head_and_tail_of_a_truncated_repr_are_masked(secret: str) -> None:
    shown = repr(secret)
    head, tail = shown[:14] + "...", "..." + shown[-14:]
    assert mask(head) == f"'{MASK}..."
    assert mask(tail) == f"...{MASK}'"
    bytes_shown = repr(secret.encode())
    truncated = bytes_shown[:20] + "..." + bytes_shown[-20:]
    masked = mask(truncated)
    assert bytes_shown[2:20] not in masked
    assert bytes_shown[-20:-1] not in masked


def test_short_pieces_of_a_secret_are_left_readable(secret: str) -> None:
    # fewer than 8 characters is not a fragment: ordinary words stay readable
    assert mask("mk_ and ünï") == "mk_ and ünï"


def test_two_secrets_in_one_text(secret: str) -> None:
    other = _fresh_secret()
    register_secret(other)
    masked = mask(f"a={secret}, b={json.dumps(other)}")
    assert secret not in masked and other not in masked
    assert masked.startswith("a=") and ", b=" in masked
    _assert_hidden(masked, secret)
    _assert_hidden(masked, other)


def test_registering_twice_and_empty_is_harmless(secret: str) -> None:
    register_secret(secret)
    register_secret("")
    assert mask(secret) == MASK
    assert mask("") == ""


# -- JWT-shaped strings ---------------------------------------------------------------------------


def test_unregistered_jwt_is_masked() -> None:
    token = jwt.encode({"sub": uuid.uuid4().hex, "n": 1}, "k" * 32, algorithm="HS256")
    masked = mask(f"Authorization: Bearer {token} (sent)")
    assert token not in masked
    assert masked == f"Authorization: Bearer {MASK} (sent)"
    for part in token.split("."):
        assert part not in masked


def test_unregistered_jwt_inside_json_and_repr_is_masked() -> None:
    token = jwt.encode({"sub": uuid.uuid4().hex}, "q" * 32, algorithm="HS256")
    for shown in (json.dumps({"access_token": token}), repr({"token": token})):
        masked = mask(shown)
        assert token not in masked
        assert token.split(".")[2] not in masked
        assert MASK in masked


def test_jwt_without_signature_segment_is_masked() -> None:
    token = jwt.encode({"sub": uuid.uuid4().hex}, "q" * 32, algorithm="HS256")
    unsigned = token.rsplit(".", 1)[0] + "."
    masked = mask(f"t={unsigned};")
    assert unsigned not in masked
    assert token.split(".")[1] not in masked


# -- text without secrets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "short",
        "GET /export answered 200 OK with 3 records",
        "client id '5642c0b355d27c0e003b3f30' refused: 401 Unauthorized",
        "eyJ alone is not a token",
        'ünïcode text with "quotes" and \\backslashes\\ and slashes/',
        "a.b.c dotted.words.here",
    ],
)
def test_text_without_secrets_is_unchanged(secret: str, text: str) -> None:
    assert mask(text) == text


# -- MaskedStr ------------------------------------------------------------------------------------


def test_masked_str_hides_only_its_repr(secret: str) -> None:
    value = MaskedStr(secret)
    assert secret not in repr(value)
    assert repr(value) == f"'{MASK}'"
    assert secret not in repr([value])
    assert secret not in repr({"k": value})
    assert value == secret
    assert str(value) == secret
    assert f"{value}" == secret
    assert f"Bearer {value}" == f"Bearer {secret}"
    assert "%s" % value == secret  # noqa: UP031 - the old formatting must keep the value too
    assert value.encode() == secret.encode()
    assert len(value) == len(secret)
    assert isinstance(value, str)


def test_masked_str_of_an_unregistered_value() -> None:
    value = MaskedStr("nothing-registered-here-123456")
    assert "nothing" not in repr(value)
    assert str(value) == "nothing-registered-here-123456"


# -- mask_object ----------------------------------------------------------------------------------


class _Holder:
    def __init__(self, text: str, child: object = None) -> None:
        self.text = text
        self.child = child
        self.number = 42


def test_mask_object_masks_nested_containers_in_place(secret: str) -> None:
    inner_list = [f"x {secret}", 7, None]
    inner_dict = {"token": secret, "ok": "fine"}
    holder = _Holder(f"repr {secret!r}", child=_Holder(secret))
    tree = {"list": inner_list, "dict": inner_dict, "obj": holder, "plain": "keep me"}

    result = mask_object(tree)

    assert result is tree
    assert tree["list"] is inner_list and tree["dict"] is inner_dict and tree["obj"] is holder
    assert inner_list == [f"x {MASK}", 7, None]
    assert inner_dict == {"token": MASK, "ok": "fine"}
    assert secret not in holder.text and MASK in holder.text
    assert holder.child.text == MASK  # type: ignore[attr-defined]
    assert holder.number == 42
    assert tree["plain"] == "keep me"
    assert secret not in repr(tree["list"]) + repr(tree["dict"])


def test_mask_object_on_tuples_and_strings(secret: str) -> None:
    assert mask_object(f"s={secret}") == f"s={MASK}"
    masked = mask_object((secret, 1, [secret]))
    assert masked[0] == MASK and masked[1] == 1 and masked[2] == [MASK]


def test_mask_object_handles_cycles(secret: str) -> None:
    cycle: list[object] = [secret]
    cycle.append(cycle)
    assert mask_object(cycle) is cycle
    assert cycle[0] == MASK
    assert cycle[1] is cycle


# -- log masking ----------------------------------------------------------------------------------


def _capture_logger(name: str) -> tuple[logging.Logger, io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, stream, handler


def test_log_masking_masks_args_and_exception_text(secret: str, plain_log_records: None) -> None:
    logger, stream, handler = _capture_logger(f"radix-test-{uuid.uuid4().hex}")
    try:
        logger.info("before install %s", secret)  # control: the secret shows without masking
        assert secret in stream.getvalue()
        stream.seek(0)
        stream.truncate()

        uninstall = install_log_masking()
        try:
            logger.info("sent key %s and %r", secret, secret)
            try:
                raise ValueError(f"the key was {secret}")
            except ValueError:
                logger.exception("failed with %s", "a readable reason")
            record = logging.makeLogRecord({})  # a bare record still works
            assert record.getMessage() == ""
        finally:
            uninstall()
        output = stream.getvalue()
    finally:
        logger.removeHandler(handler)

    assert secret not in output
    assert repr(secret) not in output
    _assert_hidden(output, secret)
    assert "sent key ***" in output
    assert "failed with a readable reason" in output
    assert "ValueError: the key was ***" in output
    assert "Traceback" in output


def test_log_masking_masks_jwts_in_the_message(plain_log_records: None) -> None:
    token = jwt.encode({"sub": uuid.uuid4().hex}, "z" * 32, algorithm="HS256")
    logger, stream, handler = _capture_logger(f"radix-test-{uuid.uuid4().hex}")
    uninstall = install_log_masking()
    try:
        logger.warning("header Bearer %s", token)
    finally:
        uninstall()
        logger.removeHandler(handler)
    assert token not in stream.getvalue()
    assert "header Bearer ***" in stream.getvalue()


def test_uninstall_restores_the_previous_factory(secret: str, plain_log_records: None) -> None:
    previous = logging.getLogRecordFactory()
    uninstall = install_log_masking()
    assert logging.getLogRecordFactory() is not previous
    uninstall()
    assert logging.getLogRecordFactory() is previous
    uninstall()  # a second call is harmless
    assert logging.getLogRecordFactory() is previous

    logger, stream, handler = _capture_logger(f"radix-test-{uuid.uuid4().hex}")
    try:
        logger.info("%s", secret)
    finally:
        logger.removeHandler(handler)
    assert secret in stream.getvalue()  # no masking once uninstalled
