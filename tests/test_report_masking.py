"""No API key or live token in anything pytest reports, whatever the report options.

Each test runs a user's suite (``pytester``, in process) against ``fake_radix``, whose API key has
``"``, ``\\``, ``/`` and non-ASCII characters, and searches all the text the run produced —
terminal, stderr, files — for the key, every token the fake server issued, and every 12-character
fragment of either, also in their repr/JSON/XML-escaped forms.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path

import pytest
from helpers import FRAGMENT, closed_port, escaped_forms, run, unique_nasty_secret

# Imported here so that the in-process inner runs share these modules instead of importing
# their own copies on every run (pytester restores sys.modules after each run).
import pytest_radix.auth  # noqa: F401
import pytest_radix.session  # noqa: F401
from pytest_radix.testing import FakeRadixServer, FakeResponse


@pytest.fixture
def radix_env(radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch) -> FakeRadixServer:
    """The conftest's ``radix_env``, with a key of this test's own."""
    radix_env.client_secret = unique_nasty_secret()
    monkeypatch.setenv("RADIX_CLIENT_SECRET", radix_env.client_secret)
    return radix_env


def fragments(secret: str, size: int = FRAGMENT) -> set[str]:
    return {
        form[i : i + size] for form in escaped_forms(secret) for i in range(len(form) - size + 1)
    }


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """Every fragment of a secret found in ``text`` (empty when nothing leaked)."""
    found: set[str] = set()
    for secret in secrets:
        found |= {fragment for fragment in fragments(secret) if fragment in text}
    return sorted(found)


def all_text(result: pytest.RunResult, *files: Path) -> str:
    """Everything the run produced: stdout, stderr and the given files."""
    parts = [*result.outlines, *result.errlines]
    parts += [path.read_text(encoding="utf-8") for path in files]
    return "\n".join(parts)


def where(text: str, found: Iterable[str]) -> str:
    """The lines of ``text`` holding a leak, the leaked parts shown as ``<LEAK>``.

    (The leaked text itself cannot be shown: pytest-radix masks this report too.)
    """
    lines = [line for line in text.splitlines() if any(f in line for f in found)]
    for fragment in found:
        lines = [line.replace(fragment, "<LEAK>") for line in lines]
    return "\n".join(lines)


def assert_no_secret(text: str, server: FakeRadixServer) -> None:
    tokens = server.issued_tokens
    assert tokens, "no token was issued: the check would prove nothing"
    found = leaks(text, [server.client_secret, *tokens])
    assert not found, f"{len(found)} leaked fragments, in these lines:\n{where(text, found)}"


def test_leak_finder_finds_what_it_should(fake_radix: FakeRadixServer) -> None:
    """The helper itself: it must see a secret in every form the masking has to handle."""
    secret = fake_radix.client_secret
    token = fake_radix.issue_token()
    for text in (
        secret,
        repr(secret),
        json.dumps({"client_secret": secret}),
        repr(json.dumps(secret).encode()),
        html.escape(repr(secret), quote=True),
        f"... {secret[5:20]} ...",
        f"Bearer {token}",
        repr({"Authorization": f"Bearer {token}"})[:60],
    ):
        assert leaks(text, [secret, token]), text
    assert leaks("nothing here, not even eyJ", [secret, token]) == []


# ---------------------------------------------------------------------------------------------
# Failure output

FAILING_SUITE = """
def test_token_equals(radix_token):
    assert radix_token == "x"

def test_secret_equals(radix_credentials):
    assert radix_credentials.client_secret == "x"

def test_plain_copies_in_locals(radix_token, radix_credentials):
    headers = {"Authorization": "Bearer " + radix_token}
    body = {"client_id": radix_credentials.client_id,
            "client_secret": str(radix_credentials.client_secret)}
    secret = str(radix_credentials.client_secret)
    token = str(radix_token)
    assert headers == body

def test_token_in_a_dict(radix_token):
    assert {"token": radix_token, "n": 1} == {"token": "x", "n": 1}

def test_passing_prints(radix_token, radix_credentials):
    print("Authorization: Bearer " + radix_token)
    print("client_secret=" + radix_credentials.client_secret)
"""
FAILED = (
    "test_token_equals",
    "test_secret_equals",
    "test_plain_copies_in_locals",
    "test_token_in_a_dict",
)

REPORT_OPTIONS = {
    "-vv": ["-vv"],
    "-l --tb=long": ["-l", "--tb=long"],
    "--tb=native": ["--tb=native"],
    "--full-trace": ["--full-trace"],
    "-rA": ["-rA"],
    "-rA -vv -l --full-trace": ["-rA", "-vv", "-l", "--full-trace"],
    "--tb=short": ["--tb=short", "-l"],
    "--tb=line": ["--tb=line", "-rf"],
}


@pytest.mark.parametrize("options", list(REPORT_OPTIONS))
def test_failure_reports_are_masked(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    options: str,
) -> None:
    pytester.makepyfile(FAILING_SUITE)
    result = run(pytester, *REPORT_OPTIONS[options])
    result.assert_outcomes(failed=len(FAILED), passed=1)
    assert_no_secret(all_text(result), radix_env)
    # the crash line stays readable: the assertion is there, only the secret is masked
    # (pytest itself drops the "AssertionError: " prefix of some rewritten asserts)
    result.stdout.fnmatch_lines(
        [
            "FAILED *::test_token_equals - AssertionError: assert * == 'x'*",
            "FAILED *::test_secret_equals - *assert * == 'x'*",
            "FAILED *::test_plain_copies_in_locals - *assert {'Authorizati*} == {'client_id*",
            # (pytest < 8.4 sorts the dict's keys)
            "FAILED *::test_token_in_a_dict - AssertionError: assert {*'token': '***'*} == *",
        ]
    )


def test_junitxml_is_masked(pytester: pytest.Pytester, radix_env: FakeRadixServer) -> None:
    pytester.makepyfile(FAILING_SUITE)
    xml = pytester.path / "report.xml"
    result = run(pytester, f"--junitxml={xml}", "-o", "junit_logging=all", "-l")
    result.assert_outcomes(failed=len(FAILED), passed=1)
    text = xml.read_text(encoding="utf-8")
    assert 'failures="4"' in text
    assert "AssertionError" in text
    assert "Authorization: Bearer" in text  # the captured output made it into the file
    assert_no_secret(all_text(result, xml), radix_env)


OUTCOMES_SUITE = """
import pytest

def test_skip(radix_token):
    pytest.skip("skipped with Bearer " + radix_token)

@pytest.fixture
def broken(radix_credentials):
    raise ValueError("broken with " + radix_credentials.client_secret)

def test_broken_fixture(broken):
    pass

def test_fail(radix_token):
    pytest.fail("failed with Bearer " + radix_token, pytrace=False)

def test_raises(radix_token):
    raise RuntimeError({"Authorization": "Bearer " + radix_token})
"""


def test_skip_fail_and_error_reasons_are_masked(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makepyfile(OUTCOMES_SUITE)
    xml = pytester.path / "report.xml"
    result = run(pytester, "-rA", "-l", f"--junitxml={xml}")
    result.assert_outcomes(skipped=1, errors=1, failed=2)
    assert_no_secret(all_text(result, xml), radix_env)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED * skipped with Bearer *",
            "ERROR *::test_broken_fixture - ValueError: broken with *",
            "FAILED *::test_fail - Failed: failed with Bearer *",
            "FAILED *::test_raises - RuntimeError: {'Authorization': 'Bearer *'}",
        ]
    )


def test_xfail_reason_is_masked(pytester: pytest.Pytester, radix_env: FakeRadixServer) -> None:
    """The reason of ``pytest.xfail()`` shows in the -r summary and in the junit XML."""
    pytester.makepyfile(
        """
        import pytest

        def test_xfail(radix_token):
            pytest.xfail("flaky with Bearer " + radix_token)
        """
    )
    xml = pytester.path / "report.xml"
    result = run(pytester, "-rA", f"--junitxml={xml}")
    result.assert_outcomes(xfailed=1)
    result.stdout.fnmatch_lines(["XFAIL *::test_xfail - *flaky with Bearer *"])
    assert_no_secret(all_text(result, xml), radix_env)


def test_warning_message_is_masked(pytester: pytest.Pytester, radix_env: FakeRadixServer) -> None:
    """A warning's message shows in the warnings summary of the terminal report."""
    pytester.makepyfile(
        """
        import warnings

        def test_warns(radix_token, radix_credentials):
            warnings.warn(UserWarning("token " + radix_token))
            warnings.warn(UserWarning("key " + radix_credentials.client_secret))
        """
    )
    result = run(pytester, "-rA", "-W", "always::UserWarning")
    result.assert_outcomes(passed=1, warnings=2)
    result.stdout.fnmatch_lines(["*warnings summary*", "*UserWarning: token *"])
    assert_no_secret(all_text(result), radix_env)


def test_junitxml_user_properties_are_masked(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """``record_property`` values are written into the junit XML, which must hold no token."""
    pytester.makepyfile(
        """
        def test_records(radix_token, record_property):
            record_property("auth_header", "Bearer " + radix_token)
        """
    )
    xml = pytester.path / "report.xml"
    result = run(pytester, f"--junitxml={xml}", "-o", "junit_family=xunit1")
    result.assert_outcomes(passed=1)
    text = xml.read_text(encoding="utf-8")
    assert 'name="auth_header"' in text
    assert_no_secret(text, radix_env)


def test_reprs_of_every_fixture_are_masked(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makepyfile(
        """
        def test_reprs(radix_config, radix_credentials, radix_auth, radix_token,
                       radix_session, radix_session_factory):
            assert radix_session.get("/export").status_code == 200
            for value in (radix_config, radix_credentials, radix_auth, radix_token,
                          radix_session, radix_session_factory, radix_auth.token,
                          radix_credentials.client_secret):
                print("REPR", type(value).__name__, repr(value))
            print("STR", str(radix_credentials), str(radix_auth.token))
            print("VARS", {k: repr(v) for k, v in vars(radix_config).items()})
        """
    )
    result = run(pytester, "-s")  # printed straight to the terminal, no report masking
    result.assert_outcomes(passed=1)
    assert sum("REPR" in line for line in result.outlines) == 8
    assert_no_secret(all_text(result), radix_env)


# ---------------------------------------------------------------------------------------------
# Logs

LOGGING_SUITE = """
import logging

log = logging.getLogger("user.code")

def test_logs_and_fails(radix_token, radix_credentials):
    log.debug("token %s", str(radix_token))
    log.debug("secret %s", str(radix_credentials.client_secret))
    log.debug("headers %r", {"Authorization": "Bearer " + radix_token})
    log.info(f"inline Bearer {radix_token}")
    log.warning("body %s", {"client_secret": str(radix_credentials.client_secret)})
    assert False, "boom"

def test_caplog(radix_token, radix_credentials, caplog):
    caplog.set_level(logging.DEBUG)
    log.debug("token %s", str(radix_token))
    log.debug("secret %s", str(radix_credentials.client_secret))
    assert caplog.messages[0].startswith("token ")
    assert str(radix_token) not in caplog.text
    assert str(radix_credentials.client_secret) not in caplog.text
    assert all(str(radix_token) not in m for m in caplog.messages)
    print(caplog.text)
"""


@pytest.mark.parametrize(
    "options",
    [
        ["--log-cli-level=DEBUG"],
        ["--log-level=DEBUG", "-rA"],
        ["--log-cli-level=DEBUG", "--log-level=DEBUG", "-rA", "-l"],
    ],
    ids=" ".join,
)
def test_logged_secrets_are_masked(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, options: list[str]
) -> None:
    pytester.makepyfile(LOGGING_SUITE)
    log_file = pytester.path / "run.log"
    result = run(pytester, *options, f"--log-file={log_file}", "--log-file-level=DEBUG")
    result.assert_outcomes(failed=1, passed=1)
    text = all_text(result, log_file)
    assert "token " in text  # the records are there, only masked
    assert_no_secret(text, radix_env)
    result.stdout.fnmatch_lines(["FAILED *::test_logs_and_fails - AssertionError: boom*"])


# ---------------------------------------------------------------------------------------------
# Transport failures


def test_request_failing_inside_urllib3_is_masked(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOSED_URL", f"http://127.0.0.1:{closed_port()}")
    pytester.makepyfile(
        """
        import json
        import os

        import requests

        def test_closed_port(radix_token, radix_credentials):
            body = json.dumps({"client_id": radix_credentials.client_id,
                               "client_secret": str(radix_credentials.client_secret)})
            requests.post(os.environ["CLOSED_URL"] + "/export", data=body,
                          headers={"Authorization": "Bearer " + radix_token}, timeout=2)
        """
    )
    result = run(pytester, "-l")
    result.assert_outcomes(failed=1)
    text = all_text(result)
    assert "urllib3" in text  # the traceback went inside urllib3, locals and all
    assert_no_secret(text, radix_env)
    result.stdout.fnmatch_lines(["FAILED *::test_closed_port - *ConnectionError*"])


def test_radix_session_request_to_a_closed_port_is_masked(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOSED_URL", f"http://127.0.0.1:{closed_port()}")
    pytester.makepyfile(
        """
        import os

        def test_closed_port(radix_session, radix_token):
            assert radix_session.get("/export").status_code == 200
            radix_session.get(os.environ["CLOSED_URL"] + "/export",
                              headers={"Authorization": "Bearer " + radix_token})
        """
    )
    result = run(pytester, "-l", "--tb=long")
    result.assert_outcomes(failed=1)
    assert_no_secret(all_text(result), radix_env)
    result.stdout.fnmatch_lines(["FAILED *::test_closed_port - *Error*"])


def test_authentication_to_a_closed_port_is_masked(
    pytester: pytest.Pytester, fake_radix: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    fake_radix.client_secret = unique_nasty_secret()
    monkeypatch.setenv("RADIX_CLIENT_ID", fake_radix.client_id)
    monkeypatch.setenv("RADIX_CLIENT_SECRET", fake_radix.client_secret)
    monkeypatch.setenv("RADIX_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("RADIX_TIMEOUT", "2")
    pytester.makepyfile(
        """
        def test_export(radix_session):
            radix_session.get("/export")
        """
    )
    result = run(pytester, "-l", "--tb=long", "-rA")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 1, outcomes
    result.stdout.fnmatch_lines(["* - *RadixTransportError: POST http://127.0.0.1:*/auth *"])
    text = all_text(result)
    assert f"127.0.0.1:{port}" in text  # the error names the host
    found = leaks(text, [fake_radix.client_secret])
    assert not found, f"{len(found)} leaked fragments, in these lines:\n{where(text, found)}"


# ---------------------------------------------------------------------------------------------
# Round two: the debug trace, every record_* fixture, interrupts, pytest.exit, log extras


def run_files(directory: Path) -> list[Path]:
    """Every file under ``directory`` (the inner run's own tree: reports, logs, cassettes)."""
    return [path for path in directory.rglob("*") if path.is_file()]


def everything(result: pytest.RunResult, directory: Path) -> str:
    """All the run printed, and every byte of every file under ``directory`` as text."""
    parts = [*result.outlines, *result.errlines]
    parts += [path.read_bytes().decode("utf-8", "replace") for path in run_files(directory)]
    return "\n".join(parts)


DEBUG_SUITE = """
def test_compares(radix_token, radix_credentials):
    assert str(radix_token) == str(radix_credentials.client_secret)
"""


@pytest.mark.parametrize(
    ("how", "workers"),
    [("--debug", 0), ("PYTEST_DEBUG", 0), ("PYTEST_DEBUG", 2)],
    ids=["debug", "PYTEST_DEBUG", "PYTEST_DEBUG-n2"],
)
def test_debug_log_and_trace_are_masked(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    workers: int,
) -> None:
    """pluggy's tracer writes every hook's arguments and results with ``str()``: the token
    (``radix_token``'s value) and the key (``pytest_assertrepr_compare``'s arguments)."""
    pytester.makepyfile(DEBUG_SUITE)
    args = ["--debug"] if how == "--debug" else []
    if how == "PYTEST_DEBUG":
        monkeypatch.setenv("PYTEST_DEBUG", "1")
    if workers:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, "-n", "2")
    else:
        result = run(pytester, *args)
    result.assert_outcomes(failed=1)
    text = everything(result, pytester.path)
    if how == "--debug":
        assert (pytester.path / "pytestdebug.log").is_file()
    # the trace is there, only masked
    assert "pytest_assertrepr_compare" in text and "pytest_fixture_setup" in text
    assert_no_secret(text, radix_env)


PROPERTIES_SUITE = """
KEPT = {}


class Slotted:
    __slots__ = ("token",)

    def __init__(self, token):
        self.token = token

    def __repr__(self):
        return f"Slotted({self.token!r})"


class Plain:
    def __init__(self, token):
        self.token = token

    def __str__(self):
        return f"Plain {self.token}"


def test_records(radix_token, radix_credentials, record_property, record_xml_attribute,
                 record_testsuite_property):
    token, secret = str(radix_token), str(radix_credentials.client_secret)
    KEPT.update(set={token}, bytes=secret.encode(), slots=Slotted(token), plain=Plain(token),
                list=[token], dict={"key": secret}, str="Bearer " + token)
    for name, value in KEPT.items():
        record_property(name, value)
    record_xml_attribute("auth", "Bearer " + token)
    record_xml_attribute("key_bytes", secret.encode())
    record_testsuite_property("suite_key", secret)
    record_testsuite_property("suite_tokens", {token})
    record_property("named " + token, 1)
    record_xml_attribute("named_" + secret, 1)
    record_testsuite_property("named " + secret, 1)


def test_user_objects_are_not_changed(radix_token, radix_credentials):
    token, secret = str(radix_token), str(radix_credentials.client_secret)
    assert KEPT["set"] == {token}
    assert KEPT["slots"].token == token
    assert KEPT["plain"].token == token
    assert KEPT["list"] == [token]
    assert KEPT["dict"] == {"key": secret}
"""


def test_every_record_fixture_and_value_type_is_masked(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """``record_property`` with a set, bytes or ``__slots__`` object (junit XML and
    ``--report-log``), ``record_xml_attribute`` and ``record_testsuite_property``; masking
    leaves the test's own objects as they were."""
    pytester.makepyfile(PROPERTIES_SUITE)
    xml, log = pytester.path / "report.xml", pytester.path / "report.jsonl"
    result = run(
        pytester,
        f"--junitxml={xml}",
        "-o",
        "junit_family=xunit1",
        f"--report-log={log}",
        "-W",
        "ignore::pytest.PytestExperimentalApiWarning",  # record_xml_attribute's
    )
    result.assert_outcomes(passed=2)
    report = xml.read_text(encoding="utf-8")
    for name in ("set", "bytes", "slots", "plain", "list", "dict", "suite_key", "suite_tokens"):
        assert f'name="{name}"' in report, name
    assert 'auth="Bearer ***"' in report
    assert '"user_properties"' in log.read_text(encoding="utf-8")
    assert_no_secret(everything(result, pytester.path), radix_env)


@pytest.mark.parametrize("hangs", ["/auth", "/export"])
def test_ctrl_c_during_a_request_with_full_trace_is_masked(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, hangs: str
) -> None:
    """The traceback printed on Ctrl-C shows urllib3's frames with their arguments: the
    ``/auth`` body with the key, or the headers with the token."""
    radix_env.queue(hangs, FakeResponse(hang=True))
    pytester.makepyfile(
        """
        import signal
        import threading

        def test_interrupted(radix_session):
            # Ctrl-C as in a terminal: a shell's background job inherits SIGINT ignored, and
            # the signal goes to the main thread, whose blocked read it interrupts at once.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            main = threading.main_thread().ident
            threading.Timer(1.0, signal.pthread_kill, (main, signal.SIGINT)).start()
            radix_session.get("/export")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--full-trace", timeout=60)
    text = everything(result, pytester.path)
    assert result.ret == pytest.ExitCode.INTERRUPTED, text
    assert "KeyboardInterrupt" in text and "urllib3" in text
    assert len(radix_env.issued_tokens) == (hangs == "/export")
    found = leaks(text, [radix_env.client_secret, *radix_env.issued_tokens])
    assert not found, f"{len(found)} leaked fragments, in these lines:\n{where(text, found)}"


@pytest.mark.parametrize(
    "where", ["test", "session-teardown", "sessionfinish-hook", "sessionstart-hook"]
)
def test_pytest_exit_message_is_masked(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, where: str
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture(scope="session")
        def exits_at_the_end(radix_token, radix_credentials):
            yield
            pytest.exit(f"stopping: token {radix_token} key {radix_credentials.client_secret}")

        def test_exit(radix_token, radix_credentials, request):
            request.config.exit_secrets = (radix_token, radix_credentials.client_secret)
            if request.config.getoption("--where") == "session-teardown":
                request.getfixturevalue("exits_at_the_end")
            elif request.config.getoption("--where") == "test":
                pytest.exit(f"stopping: token {radix_token} key {radix_credentials.client_secret}")
        """
    )
    pytester.makeconftest(
        """
        import os

        import pytest

        def pytest_addoption(parser):
            parser.addoption("--where")

        def pytest_sessionstart(session):
            if session.config.getoption("--where") == "sessionstart-hook":
                key = os.environ["RADIX_CLIENT_SECRET"]
                pytest.exit(f"stopping: token {key} key {key}")

        def pytest_sessionfinish(session):
            if session.config.getoption("--where") == "sessionfinish-hook":
                token, key = session.config.exit_secrets
                pytest.exit(f"stopping: token {token} key {key}")
        """
    )
    result = run(pytester, "--full-trace", f"--where={where}")
    passed = where == "sessionfinish-hook"  # the run had ended well
    assert result.ret == (pytest.ExitCode.OK if passed else pytest.ExitCode.INTERRUPTED)
    text = everything(result, pytester.path)
    assert "stopping: token *** key ***" in text
    if where == "sessionstart-hook":  # before any test: the key is the only secret yet
        assert not leaks(text, [radix_env.client_secret])
    else:
        assert_no_secret(text, radix_env)


def test_log_record_extra_fields_are_masked(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """A format that shows ``extra=`` fields (request headers, say) gets them masked; the
    objects the test passed are not changed."""
    pytester.makepyfile(
        """
        import logging

        log = logging.getLogger("user.code")

        def test_logs(radix_session, radix_token, radix_credentials):
            response = radix_session.get("/export")
            headers = {"Authorization": "Bearer " + str(radix_token)}
            body = {"client_secret": str(radix_credentials.client_secret)}
            log.warning("sent", extra={"headers": headers, "body": body,
                                       "sent": response.request.headers,
                                       "raw": str(radix_token)})
            assert headers == {"Authorization": "Bearer " + str(radix_token)}
            assert body == {"client_secret": str(radix_credentials.client_secret)}
        """
    )
    log_file = pytester.path / "run.log"
    fields = "%(message)s headers=%(headers)s body=%(body)s sent=%(sent)s raw=%(raw)s"
    result = run(
        pytester,
        "--log-cli-level=INFO",
        f"--log-cli-format={fields}",
        f"--log-file={log_file}",
        f"--log-file-format={fields}",
    )
    result.assert_outcomes(passed=1)
    text = everything(result, pytester.path)
    assert "sent headers={'Authorization': 'Bearer ***'}" in text
    assert_no_secret(text, radix_env)


def test_sent_request_headers_are_masked_when_printed(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """``response.request.headers`` and ``response.history[i].request.headers``."""
    radix_env.queue("/export", FakeResponse(302, headers={"Location": "/export?page=2"}))
    pytester.makepyfile(
        """
        def test_prints(radix_session, radix_token):
            response = radix_session.get("/export")
            assert [r.status_code for r in response.history] == [302]
            print("SENT", response.request.headers)
            print("HOP", repr(response.history[0].request.headers))
            assert response.request.headers["Authorization"] == "Bearer " + str(radix_token)
        """
    )
    result = run(pytester, "-s")
    result.assert_outcomes(passed=1)
    text = everything(result, pytester.path)
    result.stdout.fnmatch_lines(["*SENT *'Authorization': '***'*", "HOP *'Authorization': '***'*"])
    assert_no_secret(text, radix_env)
