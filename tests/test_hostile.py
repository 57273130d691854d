"""Hostile conditions: a cassette save killed mid-write, every report option at once (also under
xdist) searched byte by byte for the secrets, and bad input the other files do not try.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from helpers import FRAGMENT, closed_port, escaped_forms, output, run, unique_nasty_secret

# Imported here so that the in-process inner runs share these modules instead of importing
# their own copies on every run (pytester restores sys.modules after each run).
import pytest_radix.auth  # noqa: F401
import pytest_radix.session  # noqa: F401
import pytest_radix.token
from pytest_radix import (
    RadixAuth,
    RadixCredentials,
    RadixResponseError,
    RadixSession,
    RadixToken,
    authenticate,
)
from pytest_radix.cassettes import load_cassette_file, save_cassette_file
from pytest_radix.testing import FakeRadixServer, FakeResponse

USAGE_ERROR = pytest.ExitCode.USAGE_ERROR
TOKEN_KEYS = "access_token, accessToken, token, jwt, id_token, idToken"


# =================================================================================================
# 1. A cassette save killed with SIGKILL leaves the old cassette intact

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from vcr.request import Request

    from pytest_radix.cassettes import save_cassette_file

    path, size = Path(sys.argv[1]), int(sys.argv[2])
    line = '{"propertyId": "0123456789abcdef01234567", "subjectAverage": 1450.25},\\n'
    request = Request("GET", "http://127.0.0.1:9/export", None, {"x-radix-version": "1.0.0"})
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"]},
        "body": {"string": "[" + line * (size // len(line)) + "{}]"},
    }
    print("saving", flush=True)
    save_cassette_file(path, [(request, response)], {"api_version": "1.0.0"})
    print("saved", flush=True)
    """
)


def small_cassette(path: Path) -> None:
    from vcr.request import Request

    request = Request("GET", "http://127.0.0.1:9/export", None, {"x-radix-version": "1.0.0"})
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"]},
        "body": {"string": '[{"propertyId": "old-cassette-record"}]'},
    }
    save_cassette_file(path, [(request, response)], {"api_version": "1.0.0"})


def temp_size(path: Path) -> int | None:
    """The size of the first temp file beside ``path`` (``None`` when there is none)."""
    for temp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            return temp.stat().st_size
        except FileNotFoundError:  # renamed or removed meanwhile
            continue
    return None


def kill_during_save(
    path: Path, size: int, min_written: int, deadline: float
) -> tuple[bool, list[Path]]:
    """Start a process saving a ``size``-byte body over ``path``; SIGKILL it as soon as its temp
    file shows holding at least ``min_written`` bytes. Returns whether it was killed before it
    ended, and the temp files left."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(size)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        while child.poll() is None:
            if time.monotonic() > deadline:
                pytest.fail("the saving process neither wrote its temp file nor ended in time")
            written = temp_size(path)
            if written is not None and written >= min_written:
                child.send_signal(signal.SIGKILL)
                break
            time.sleep(0.0005)
        out, err = child.communicate(timeout=20)
        killed = child.returncode == -signal.SIGKILL
        if not killed:
            assert child.returncode == 0, err.decode(errors="replace")
            assert b"saved" in out
        return killed, sorted(path.parent.glob(f".{path.name}.*.tmp"))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)


@pytest.mark.parametrize(
    "min_written", [0, 1], ids=["killed-once-the-temp-file-opens", "killed-once-it-holds-data"]
)
def test_a_save_killed_mid_write_leaves_the_old_cassette_intact(
    tmp_path: Path, min_written: int
) -> None:
    path = tmp_path / "cassettes" / "tests" / "test_export.yaml"
    small_cassette(path)
    before = path.read_bytes()
    interactions_before, metadata_before = load_cassette_file(path)
    deadline = time.monotonic() + 30
    size = 16_000_000
    while True:
        killed, leftovers = kill_during_save(path, size, min_written, deadline)
        if killed and leftovers:
            break  # killed while its temp file existed: the case this test is about
        for leftover in leftovers:
            leftover.unlink()
        if path.read_bytes() != before:  # the save ended before the kill: again, bigger
            path.unlink()
            small_cassette(path)
            before = path.read_bytes()
        assert size < 200_000_000, "could not kill a save mid-write even with a 200 MB body"
        size *= 2
    (leftover,) = leftovers
    assert leftover.stat().st_size >= min_written
    # the old cassette is untouched, byte for byte, and still loads
    assert path.read_bytes() == before
    interactions, metadata = load_cassette_file(path)
    assert metadata == metadata_before == {"api_version": "1.0.0"}
    assert [(r.method, r.uri) for r, _ in interactions] == [
        (r.method, r.uri) for r, _ in interactions_before
    ]
    assert interactions[0][1]["body"]["string"] == b'[{"propertyId": "old-cassette-record"}]'
    # nothing appeared beside it but the dead process's temp file
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, leftover.name])
    # a later save is not disturbed by the dead one's temp file, and removes it
    small_cassette(path)
    assert path.read_bytes() == before
    assert not leftover.exists()


# =================================================================================================
# 2. Every report option at once, in process and under xdist: no byte of a secret anywhere

SUITE = """
import json
import logging
import os

import requests

log = logging.getLogger("user.suite")


def test_export(radix_session):
    assert radix_session.get("/export").status_code == 200


def test_reprs(radix_config, radix_credentials, radix_auth, radix_token, radix_session,
               radix_session_factory, tmp_path, record_property, record_xml_attribute,
               record_testsuite_property):
    record_property("token", radix_token)
    record_xml_attribute("key", str(radix_credentials.client_secret))
    record_testsuite_property("token " + str(radix_token), {str(radix_token)})
    log.info("headers", extra={"headers": {"Authorization": f"Bearer {radix_token}"}})
    lines = []
    for value in (radix_config, radix_credentials, radix_auth, radix_token, radix_session,
                  radix_session_factory, radix_auth.token, radix_credentials.client_secret):
        lines.append(f"REPR {type(value).__name__} {value!r}")
        print(lines[-1])
    (tmp_path / "reprs.txt").write_text("\\n".join(lines), encoding="utf-8")
    log.debug("token %s secret %s", str(radix_token), str(radix_credentials.client_secret))


def test_fails_inside_urllib3(radix_token, radix_credentials):
    session = requests.Session()
    body = json.dumps({"client_id": radix_credentials.client_id,
                       "client_secret": str(radix_credentials.client_secret)})
    session.post(os.environ["CLOSED_URL"] + "/export", data=body,
                 headers={"Authorization": "Bearer " + radix_token}, timeout=2)


def test_assertion_diff(radix_token, radix_credentials):
    token = str(radix_token)
    secret = str(radix_credentials.client_secret)
    log.warning("comparing %r with %r", token, secret)
    assert {"token": token, "n": 1} == {"token": secret, "n": 1}
"""

REPORT_OPTIONS = (
    "--setup-show",
    "-vv",
    "-l",
    "--tb=long",
    "-rA",
    "--log-cli-level=DEBUG",
    "--log-level=DEBUG",
    "-o",
    "junit_logging=all",
    "-o",
    "junit_family=xunit1",  # where record_property and record_xml_attribute may write
    "--full-trace",
    "-W",
    "ignore::pytest.PytestExperimentalApiWarning",  # record_xml_attribute's
)


def needles(secret: str, tokens: Iterable[str]) -> set[bytes]:
    """The bytes that must not be found: every 12-character fragment of the key and of each
    token, in every escaped form (tokens are only ever shown masked whole, so even a piece of
    their shared header segment is a leak)."""
    wanted = {secret, *tokens}
    pieces = [secret, *tokens]
    for piece in pieces:
        for form in escaped_forms(piece):
            wanted |= {form[i : i + FRAGMENT] for i in range(len(form) - FRAGMENT + 1)}
    return {text.encode("utf-8") for text in wanted}


def files_under(*directories: Path) -> Iterator[Path]:
    for directory in directories:
        if directory.exists():
            yield from (p for p in directory.rglob("*") if p.is_file())


def hits(data: bytes, found: set[bytes]) -> list[str]:
    return sorted(
        {needle.decode("utf-8", "replace")[:3] + "…" for needle in found if needle in data}
    )


def test_the_byte_search_finds_what_it_should(fake_radix: FakeRadixServer) -> None:
    secret, token = fake_radix.client_secret, fake_radix.issue_token()
    found = needles(secret, [token])
    for text in (
        secret,
        repr(secret),
        json.dumps({"client_secret": secret}),
        html.escape(repr(secret)),
        f"... {secret[3:16]} ...",
        f"Bearer {token}",
        f"sig={token.rsplit('.', 1)[1][:12]}",
        repr({"Authorization": f"Bearer {token}"})[:40],
    ):
        assert hits(text.encode("utf-8"), found), text
    assert hits(b"nothing here, Bearer ***, eyJ", found) == []


@pytest.fixture
def hostile_env(
    radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> FakeRadixServer:
    """``radix_env`` with a key of this test's own, a closed port, and a private TMPDIR and
    cache directory so that every file the run leaves can be searched."""
    radix_env.client_secret = unique_nasty_secret()
    monkeypatch.setenv("RADIX_CLIENT_SECRET", radix_env.client_secret)
    monkeypatch.setenv("CLOSED_URL", f"http://127.0.0.1:{closed_port()}")
    (tmp_path / "private-tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "private-tmp"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "private-cache"))
    return radix_env


@pytest.mark.parametrize("workers", [None, 2], ids=["in-process", "xdist-n2"])
def test_every_report_option_at_once_leaves_no_byte_of_a_secret(
    pytester: pytest.Pytester,
    hostile_env: FakeRadixServer,
    tmp_path: Path,
    workers: int | None,
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    xml = pytester.path / "report.xml"
    basetemp = pytester.path / "basetemp"
    debug = pytester.path / "debug.log"
    args = [*REPORT_OPTIONS, f"--junitxml={xml}", f"--basetemp={basetemp}"]
    args += [f"--report-log={pytester.path / 'report.jsonl'}", f"--debug={debug}"]
    args += ["-p", "no:hypothesispytest"]  # the cache provider stays: .pytest_cache is searched
    if workers is None:
        result = pytester.runpytest(*args)
    else:
        result = pytester.runpytest_subprocess(*args, "-n", str(workers), timeout=60)
    result.assert_outcomes(passed=2, failed=2)
    stdout = "\n".join(result.outlines)
    text = stdout + "\n" + "\n".join(result.errlines)
    # the run did what the search needs: tokens issued, reprs printed, urllib3 in the traceback
    tokens = hostile_env.issued_tokens
    assert len(tokens) == 1, tokens  # one /auth for the whole run, workers included
    assert sum("REPR" in line for line in result.outlines) >= 8
    assert "urllib3" in text and "ConnectionError" in text
    if workers:
        assert "created: 2/2 workers" in text
    else:  # (xdist's workers keep these to themselves)
        assert "SETUP    S radix_token" in text
        assert "live log call" in text
    result.stdout.fnmatch_lines(
        [
            "FAILED *::test_fails_inside_urllib3 - *ConnectionError*",
            "FAILED *::test_assertion_diff - *assert {*} == {*}*",
        ]
    )
    cache = pytester.path / ".pytest_cache"
    assert (cache / "v" / "cache" / "lastfailed").is_file()
    assert 'failures="2"' in xml.read_text(encoding="utf-8")
    assert '<property name="token" value="***"' in xml.read_text(encoding="utf-8")
    assert '"user_properties"' in (pytester.path / "report.jsonl").read_text(encoding="utf-8")
    if workers is None:  # (under xdist, the controller and each worker write the same file)
        assert "pytest_fixture_setup" in debug.read_text(encoding="utf-8")
    (reprs,) = basetemp.rglob("reprs.txt")
    assert reprs.read_text(encoding="utf-8").count("REPR") == 8
    # the search
    found = needles(hostile_env.client_secret, tokens)
    assert not hits(text.encode("utf-8"), found), [
        line for line in text.splitlines() if any(n in line.encode() for n in found)
    ]
    searched = 0
    for path in files_under(pytester.path, tmp_path / "private-tmp", tmp_path / "private-cache"):
        searched += 1
        assert not hits(path.read_bytes(), found), f"a secret is in {path}"
    assert searched >= 4  # the xml, the cache's files, the suite itself
    # the xdist hand-over file is gone at the end
    assert not list((tmp_path / "private-tmp").rglob("*token*"))


# =================================================================================================
# 3. Bad input


CLIENT_ID_SUITE = """
def test_export(radix_session):
    assert radix_session.get("/export").status_code == 200

def test_plain():
    pass
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--radix-client-id", "  "],
        ["--radix-client-id=  "],
        ["--radix-client-id="],
        ["--radix-client-id", "\t"],
    ],
    ids=["spaces", "equals-spaces", "equals-empty", "tab"],
)
def test_an_empty_client_id_on_the_command_line_is_a_usage_error(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, args: list[str]
) -> None:
    pytester.makepyfile(CLIENT_ID_SUITE)
    result = run(pytester, *args)
    text = output(result)
    assert result.ret == USAGE_ERROR, text
    value = args[-1].removeprefix("--radix-client-id=")
    assert (
        f"pytest-radix: --radix-client-id={value!r} (command line) is empty; "
        "give a value or leave the option out"
    ) in text
    assert "test_plain" not in text
    assert radix_env.requests == []


@pytest.mark.parametrize(
    ("variable", "value", "missing"),
    [
        ("RADIX_CLIENT_ID", "", "client id"),
        ("RADIX_CLIENT_ID", "   ", "client id"),
        ("RADIX_CLIENT_SECRET", " ", "API key"),
    ],
    ids=["client-id-empty", "client-id-spaces", "secret-space"],
)
def test_a_credential_set_but_empty_is_named_in_the_skip_reason(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    missing: str,
) -> None:
    monkeypatch.setenv(variable, value)
    pytester.makepyfile(CLIENT_ID_SUITE)
    result = run(pytester, "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    (line,) = [line for line in result.outlines if line.startswith("SKIPPED")]
    assert line.endswith(
        f"radix: no credentials ({missing} missing; {variable} is set but empty): set "
        "RADIX_CLIENT_ID (or --radix-client-id) and RADIX_CLIENT_SECRET (or "
        "--radix-client-secret-file), or replay recorded cassettes"
    ), line
    result.stdout.fnmatch_lines(["radix: *, 1 skipped without credentials"])
    assert radix_env.requests == []


@pytest.mark.parametrize("level", ["cli", "ini"])
@pytest.mark.parametrize("suffix", ["/", "/api/", "/api//", "/api"])
def test_base_url_slash_and_prefix_from_command_line_and_ini(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    level: str,
    suffix: str,
) -> None:
    monkeypatch.delenv("RADIX_BASE_URL")
    url = radix_env.url + suffix
    args: list[str] = []
    if level == "cli":
        args = [f"--radix-base-url={url}"]
    else:
        pytester.makeini(f"[pytest]\nradix_base_url = {url}\n")
    pytester.makepyfile(
        """
        def test_export(radix_session):
            assert radix_session.get("/export").status_code == 200
            assert radix_session.get("export").status_code == 200
        """
    )
    result = run(pytester, *args)
    result.assert_outcomes(passed=1)
    prefix = "/api" if "api" in suffix else ""
    assert [(r.method, r.path) for r in radix_env.requests] == [
        ("POST", f"{prefix}/auth"),
        ("GET", f"{prefix}/export"),
        ("GET", f"{prefix}/export"),
    ]
    result.stdout.fnmatch_lines([f"radix: mode=live * base_url={radix_env.url}{prefix} ({level})*"])


# -- /auth answers that hold no usable token, through a real socket -----------------------------


def auth_answers(host: str) -> dict[str, tuple[FakeResponse, str, list[str]]]:
    """id -> (the answer, the exact error message, parts of the body it must not quote)."""
    no_token = (
        f"/auth from {host} answered application/json with no token: keys present "
        f"[access_token, expires_in]; expected one of {TOKEN_KEYS}, at the top level or "
        "inside data, result, response"
    )
    truncated = '{"access_token": "opaque-truncated-7d1e9b", "expires_in": 36'
    page = "<!DOCTYPE html>\n<html><body>Portal session 5e4d3c2b1a</body></html>"
    return {
        "null token": (
            FakeResponse(200, {"access_token": None, "expires_in": 3600}),
            no_token,
            [],
        ),
        "numeric token": (
            FakeResponse(200, {"access_token": 918273645546372819, "expires_in": 3600}),
            no_token,
            ["918273645546372819", "9182736455"],
        ),
        "html 200": (
            FakeResponse(200, page, content_type="text/html; charset=utf-8"),
            f"/auth from {host} answered text/html that is neither JSON nor a bare token "
            f"({len(page)} bytes, starting like an HTML page)",
            ["5e4d3c2b1a", "Portal session"],
        ),
        "empty body": (
            FakeResponse(200, b"", content_type="application/json"),
            f"/auth from {host} answered with an empty body (application/json)",
            [],
        ),
        "truncated json": (
            FakeResponse(200, truncated, content_type="application/json; charset=utf-8"),
            f"/auth from {host} answered application/json that is neither JSON nor a bare "
            f"token ({len(truncated)} bytes, starting like JSON that does not parse "
            "(truncated?))",
            ["opaque-truncated-7d1e9b", "truncated-7d1e"],
        ),
    }


@pytest.mark.parametrize(
    "case", ["null token", "numeric token", "html 200", "empty body", "truncated json"]
)
def test_an_auth_answer_without_a_usable_token_is_a_response_error(
    fake_radix: FakeRadixServer, case: str
) -> None:
    host = fake_radix.url.removeprefix("http://")
    answer, message, unquoted = auth_answers(host)[case]
    fake_radix.queue("/auth", answer)
    credentials = RadixCredentials(fake_radix.client_id, fake_radix.client_secret)
    with pytest.raises(RadixResponseError) as info:
        authenticate(credentials, base_url=fake_radix.url, timeout=5.0)
    assert str(info.value) == message
    for part in unquoted:
        assert part not in str(info.value)
    assert fake_radix.auth_count == 1  # a 200 with a bad body is not retried


# -- an opaque token, end to end ------------------------------------------------------------------


def test_an_opaque_token_is_accepted_and_used_as_the_bearer(fake_radix: FakeRadixServer) -> None:
    fake_radix.queue("/auth", FakeResponse(200, {"access_token": "opaque-abc123"}))
    credentials = RadixCredentials(fake_radix.client_id, fake_radix.client_secret)
    auth = RadixAuth(credentials, base_url=fake_radix.url, timeout=5.0)
    try:
        token = auth.token
        assert isinstance(token, RadixToken)
        assert token.value == "opaque-abc123"
        assert dict(token.claims) == {}
        assert token.lifetime == 3600.0
        assert "opaque" in repr(token) and "abc123" not in repr(token)
        with RadixSession(auth, base_url=fake_radix.url, timeout=5.0) as session:
            response = session.get("/export")
    finally:
        auth.close()
    # the fake API does not know the opaque token: 401, one renewal, then the retry passes
    exports = fake_radix.requests_to("/export")
    assert [r.header("Authorization") for r in exports] == [
        "Bearer opaque-abc123",
        f"Bearer {fake_radix.issued_tokens[0]}",
    ]
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert auth.auth_count == 2 and fake_radix.auth_count == 2


def test_an_opaque_token_through_the_plugin(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    radix_env.queue("/auth", FakeResponse(200, {"token": "opaque-abc123"}))
    pytester.makepyfile(
        """
        def test_export(radix_token, radix_session):
            assert str(radix_token) == "opaque-abc123"
            assert "abc123" not in repr(radix_token)
            response = radix_session.get("/export")
            assert response.status_code == 200
            assert [r.status_code for r in response.history] == [401]
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)
    (first, second) = radix_env.requests_to("/export")
    assert first.header("Authorization") == "Bearer opaque-abc123"
    assert second.header("Authorization") == f"Bearer {radix_env.issued_tokens[0]}"
    result.stdout.fnmatch_lines(["radix: 2 authentication requests, 0 cassettes replayed, *"])


# =================================================================================================
# 4. Library errors and tracebacks hold no request, no raw /auth body


def chain_of(error: BaseException) -> list[BaseException]:
    found = [error]
    while found[-1].__context__ is not None or found[-1].__cause__ is not None:
        found.append(found[-1].__cause__ or found[-1].__context__)  # type: ignore[arg-type]
    return found


def frame_values(error: BaseException) -> list[object]:
    """Every local variable of pytest-radix's frames in ``error``'s traceback."""
    package = Path(pytest_radix.__file__).parent
    values: list[object] = []
    tb = error.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).parent == package:
            values += list(tb.tb_frame.f_locals.values())
        tb = tb.tb_next
    return values


def test_transport_errors_keep_no_request_in_their_context(fake_radix: FakeRadixServer) -> None:
    """Error reporters walk ``__context__``: the request (key in the body, token in the
    headers) must not be there."""
    dead = f"http://127.0.0.1:{closed_port()}"
    credentials = RadixCredentials(fake_radix.client_id, fake_radix.client_secret)
    with pytest.raises(pytest_radix.RadixTransportError) as auth_info:
        authenticate(credentials, base_url=dead, timeout=2.0)
    auth = RadixAuth(credentials, base_url=fake_radix.url, timeout=2.0)
    with (
        RadixSession(auth, timeout=2.0) as session,
        pytest.raises(pytest_radix.RadixTransportError) as send_info,
    ):
        session.get(dead + "/export", headers={"Authorization": f"Bearer {auth.token.value}"})
    auth.close()
    for info in (auth_info, send_info):
        assert chain_of(info.value) == [info.value], chain_of(info.value)
        assert "127.0.0.1" in str(info.value)


def test_an_unreadable_auth_body_stays_out_of_the_traceback(fake_radix: FakeRadixServer) -> None:
    body = b'{"weird": {"opaque": "opaque-credential-5b7e1d"}, "other": 1'
    with pytest.raises(RadixResponseError) as info:
        pytest_radix.token.read_auth_response("application/json", body)
    assert chain_of(info.value) == [info.value]  # not the JSON error holding the body
    assert not any(
        b"opaque-credential" in value
        if isinstance(value, bytes)
        else "opaque-credential" in str(value)
        for value in frame_values(info.value)
    )


@pytest.mark.parametrize("options", [["-l", "--tb=long"], ["--full-trace", "-l"]])
def test_an_unknown_auth_answer_is_not_printed_in_the_frames(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, options: list[str]
) -> None:
    """An opaque token in a field pytest-radix does not know is a live credential: pytest's
    traceback must not show the body as an argument or local of the functions reading it."""
    answer = {"session": {"credential": "opaque-credential-5b7e1d93"}, "ok": True}
    radix_env.queue("/auth", FakeResponse(200, answer))
    pytester.makepyfile(
        """
        def test_export(radix_session):
            radix_session.get("/export")
        """
    )
    result = run(pytester, *options)
    text = output(result)
    result.stdout.fnmatch_lines(["*RadixResponseError: /auth from * with no token: keys present*"])
    assert "opaque-credential" not in text and "5b7e1d93" not in text


# =================================================================================================
# 5. A run ended by SIGTERM or SIGKILL leaves no live token in the temp dir

BLOCKING_SUITE = """
import time

def test_a(radix_token):
    time.sleep(30)

def test_b(radix_token):
    time.sleep(30)
"""


def token_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("token-*.json"))


def start_blocked_run(pytester: pytest.Pytester, temp: Path) -> subprocess.Popen[bytes]:
    """A ``pytest -n 2`` run whose tests block after the token was handed over."""
    pytester.makepyfile(test_blocking=BLOCKING_SUITE)
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "-q"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not token_files(temp):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no hand-over token file appeared: {process.communicate()[0]!r}")
        time.sleep(0.05)
    return process


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Kill what is left of the run (its xdist workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)


def test_sigterm_removes_the_hand_over_token_like_ctrl_c(
    pytester: pytest.Pytester, hostile_env: FakeRadixServer, tmp_path: Path
) -> None:
    temp = tmp_path / "private-tmp"
    process = start_blocked_run(pytester, temp)
    try:
        process.send_signal(signal.SIGTERM)  # the controller only, as `timeout` does
        out, _ = process.communicate(timeout=60)
    finally:
        stop_group(process)
    text = out.decode("utf-8", "replace")
    assert process.returncode == pytest.ExitCode.INTERRUPTED, text
    assert "KeyboardInterrupt" in text
    assert token_files(temp) == [] and list(temp.glob("pytest-radix-*")) == []
    found = needles(hostile_env.client_secret, hostile_env.issued_tokens)
    assert not hits(out, found)


def test_the_next_run_removes_the_token_a_killed_controller_left(
    pytester: pytest.Pytester, hostile_env: FakeRadixServer, tmp_path: Path
) -> None:
    temp = tmp_path / "private-tmp"
    process = start_blocked_run(pytester, temp)
    stop_group(process)  # SIGKILL: nothing can clean up
    (left,) = token_files(temp)
    pytester.makepyfile(test_blocking="def test_quick(radix_token):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", timeout=60)
    result.assert_outcomes(passed=1)
    assert not left.exists()
    assert token_files(temp) == [] and list(temp.glob("pytest-radix-*")) == []
