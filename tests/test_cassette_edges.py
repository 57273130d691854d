"""Edge cases of recording and replay: extra tokens, lengths, placeholders, names, IPv6."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import cassette_dir, interactions, run

from pytest_radix import RadixAuth, RadixCredentials, RadixSession
from pytest_radix.testing import FakeRadixServer, FakeResponse

SUITE = """
def test_export(radix_session):
    assert radix_session.get("/export").status_code == 200
"""


def record_with(pytester: pytest.Pytester, server: FakeRadixServer, *args: str) -> None:
    pytester.makepyfile(test_api=SUITE)
    run(pytester, "--radix-record-mode=once", *args).assert_outcomes(passed=1)


def forget_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET"):
        monkeypatch.delenv(name)


def test_other_tokens_of_the_auth_response_are_scrubbed_and_the_audit_passes(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    refresh = radix_env.issue_token(lifetime=86400)
    radix_env.auth_extra = {"refresh_token": refresh, "id_token": "opaque-id-token-0123456789"}
    record_with(pytester, radix_env)
    text = (cassette_dir(pytester) / "radix_auth.yaml").read_text(encoding="utf-8")
    assert refresh not in text and refresh.rsplit(".", 1)[1] not in text
    assert "opaque-id-token-0123456789" not in text
    audit = subprocess.run(
        [sys.executable, "-m", "pytest_radix", "audit", str(cassette_dir(pytester))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert audit.returncode == 0, audit.stdout


def test_content_length_agrees_with_the_scrubbed_bodies(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    record_with(pytester, radix_env)
    for path in cassette_dir(pytester).rglob("*.yaml"):
        for interaction in interactions(path):
            for side in ("request", "response"):
                message = interaction[side]
                body = message["body"] if side == "request" else message["body"]["string"]
                lengths = [
                    value
                    for name, value in message["headers"].items()
                    if name.lower() == "content-length"
                ]
                if lengths:
                    assert lengths == [[str(len((body or "").encode("utf-8")))]], path.name


def test_replay_keeps_the_word_pytest_radix_readable(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_with(pytester, radix_env)
    radix_env.stop()
    forget_credentials(monkeypatch)
    pytester.makepyfile(
        test_words="""
        def test_words(radix_credentials, radix_token):
            assert "pytest-radix is readable" == "x"
        """
    )
    result = run(pytester, "test_words.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*'pytest-radix is readable' == 'x'*"])


def test_replay_ignores_an_expired_recorded_expiry_even_with_warnings_as_errors(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    record_with(pytester, radix_env)
    path = cassette_dir(pytester) / "radix_auth.yaml"
    text = path.read_text(encoding="utf-8")  # an expiry long past, as a recording may hold
    path.write_text(text.replace('"token_type"', '"expires_at": 1000, "token_type"'), "utf-8")
    assert '"expires_at": 1000' in path.read_text(encoding="utf-8")
    radix_env.stop()
    forget_credentials(monkeypatch)
    result = run(pytester, "-W", "error")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("name", ["export.v2", "nested/export.v2"])
def test_a_cassette_name_keeps_its_dots(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, name: str
) -> None:
    pytester.makepyfile(
        test_api=f"""
        import pytest

        @pytest.mark.radix_cassette({name!r})
        def test_export(radix_session):
            assert radix_session.get("/export").status_code == 200
        """
    )
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    assert (cassette_dir(pytester) / f"{name}.yaml").is_file()


def test_an_ipv6_base_url_uses_the_radix_transport() -> None:
    try:
        server = FakeRadixServer(host="::1").start()
    except OSError:  # pragma: no cover - a machine without IPv6 loopback
        pytest.fail("this test needs an IPv6 loopback address (::1)")
    with server:
        server.queue("/export", FakeResponse(503), FakeResponse(200, []))
        auth = RadixAuth(
            RadixCredentials(server.client_id, server.client_secret), base_url=server.url
        )
        with RadixSession(auth) as session:
            assert session.get_adapter(server.url + "/export") is session.adapter
            assert session.get("/export").status_code == 200  # retried by the Radix transport
        assert len(server.requests_to("/export")) == 2


def test_a_test_whose_teardown_fails_does_not_save_its_cassette(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makepyfile(
        test_api="""
        import pytest

        @pytest.fixture
        def breaks_on_teardown():
            yield
            raise RuntimeError("teardown broke")

        def test_export(radix_session, breaks_on_teardown):
            assert radix_session.get("/export").status_code == 200
        """
    )
    result = run(pytester, "--radix-record-mode=once")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["radix: 1 authentication request, 0 cassettes replayed, 0 recorded, 1 not saved*"]
    )
    assert not (cassette_dir(pytester) / "test_api").exists()


def test_the_header_says_where_an_explicit_auto_came_from(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADIX_RECORD_MODE", "auto")
    pytester.makepyfile(test_api=SUITE)
    result = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["radix: mode=live (auto (env): credentials found) *"])
