"""pytest-radix's fixtures, marker and terminal lines, in a user's suite run against the fake API.

The inner suites run in process (``pytester``); ``radix_env`` points the plugin at ``fake_radix``
through RADIX_* environment variables, which the plugin reads when pytest starts.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from helpers import EXPORT_FIELDS, TWO_API_VERSIONS, output, run

# Imported here so that the in-process inner runs share these modules instead of importing
# their own copies on every run (pytester restores sys.modules after each run).
import pytest_radix.auth  # noqa: F401
import pytest_radix.session  # noqa: F401
from pytest_radix.testing import FakeRadixServer

RADIX_FIXTURES = (
    "radix_config",
    "radix_credentials",
    "radix_auth",
    "radix_token",
    "radix_session",
    "radix_session_factory",
)


def summary(auth: int, skipped: int = 0) -> str:
    line = f"radix: {auth} authentication request{'' if auth == 1 else 's'}, "
    line += "0 cassettes replayed, 0 recorded"
    return line + (f", {skipped} skipped without credentials" if skipped else "")


# ---------------------------------------------------------------------------------------------
# radix_session against the fake API


def test_radix_session_gets_export(pytester: pytest.Pytester, radix_env: FakeRadixServer) -> None:
    pytester.makepyfile(
        f"""
        def test_export(radix_session):
            response = radix_session.get("/export")
            assert response.status_code == 200
            records = response.json()
            assert records and {sorted(EXPORT_FIELDS)!r} == sorted(records[0])
            assert "$date" in records[0]["createdAt"]
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert radix_env.auth_count == 1
    (auth,) = radix_env.requests_to("/auth")
    assert auth.header("x-radix-version") == "1.0.0"
    assert auth.json() == {
        "client_id": radix_env.client_id,
        "client_secret": radix_env.client_secret,
    }
    (export,) = radix_env.requests_to("/export")
    assert export.method == "GET"
    assert export.header("x-radix-version") == "1.0.0"
    assert export.header("Authorization") == f"Bearer {radix_env.issued_tokens[0]}"
    result.stdout.fnmatch_lines(
        [
            f"radix: mode=live (auto: *) base_url={radix_env.url} (env) "
            "api_version=1.0.0 (default) client_id=5642c0b3… (env)",
            "radix: api_key=set (env) *",
        ]
    )
    result.stdout.fnmatch_lines([summary(1)])


def test_one_authentication_for_thirty_tests(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", range(30))
        def test_export(radix_session, radix_auth, n):
            assert radix_session.get("/export").status_code == 200
            assert radix_auth.auth_count == 1
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=30)
    assert radix_env.auth_count == 1
    assert len(radix_env.requests_to("/export")) == 30
    assert {r.header("Authorization") for r in radix_env.requests_to("/export")} == {
        f"Bearer {radix_env.issued_tokens[0]}"
    }
    result.stdout.fnmatch_lines([summary(1)])


@pytest.mark.parametrize(
    ("suffix", "prefix"),
    [("/", ""), ("/api/v2", "/api/v2"), ("/api/v2/", "/api/v2"), ("/radix/", "/radix")],
)
def test_base_url_with_trailing_slash_or_path_prefix(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
    prefix: str,
) -> None:
    monkeypatch.setenv("RADIX_BASE_URL", radix_env.url + suffix)
    pytester.makepyfile(
        """
        def test_export(radix_session):
            assert radix_session.get("/export").status_code == 200
            assert radix_session.get("export").status_code == 200
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert [(r.method, r.path) for r in radix_env.requests] == [
        ("POST", f"{prefix}/auth"),
        ("GET", f"{prefix}/export"),
        ("GET", f"{prefix}/export"),
    ]


def test_tests_without_radix_fixtures_still_pass_and_never_authenticate(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makepyfile(
        """
        def test_plain():
            assert 1 + 1 == 2

        def test_other(tmp_path):
            assert tmp_path.exists()
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=2)
    assert radix_env.requests == []


def test_refused_credentials_make_one_auth_request_for_the_whole_run(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "wrong-key-4d8e2a6c0b1f"
    monkeypatch.setenv("RADIX_CLIENT_SECRET", wrong)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", range(3))
        def test_export(radix_session, n):
            radix_session.get("/export")
        """
    )
    result = run(pytester, "-l", "-rA")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 3, outcomes
    text = output(result)
    assert "RadixAuthError" in text
    assert f"refused client id {radix_env.client_id!r}: 401" in text
    assert "Invalid client credentials" in text  # the server's message
    assert wrong not in text
    assert radix_env.requests_to("/export") == []
    # one refused /auth is enough: asking again for every test hammers the server and can lock
    # the account out ("at most one /auth per token lifetime for the whole run")
    assert radix_env.auth_count == 1


# ---------------------------------------------------------------------------------------------
# Without credentials


NEEDS_CREDENTIALS = """
def test_session(radix_session):
    radix_session.get("/export")

def test_token(radix_token):
    assert radix_token

def test_credentials(radix_credentials):
    assert radix_credentials

def test_plain():
    pass
"""


@pytest.mark.parametrize("have", ["nothing", "client id only", "secret only"])
def test_missing_credentials_skip_with_a_reason(
    pytester: pytest.Pytester,
    fake_radix: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    have: str,
) -> None:
    monkeypatch.setenv("RADIX_BASE_URL", fake_radix.url)
    if have == "client id only":
        monkeypatch.setenv("RADIX_CLIENT_ID", fake_radix.client_id)
    elif have == "secret only":
        monkeypatch.setenv("RADIX_CLIENT_SECRET", fake_radix.client_secret)
    pytester.makepyfile(NEEDS_CREDENTIALS)
    result = run(pytester, "-rs")
    result.assert_outcomes(passed=1, skipped=3)
    assert fake_radix.requests == []
    skips = [line for line in result.outlines if line.startswith("SKIPPED")]
    assert skips, output(result)
    for line in skips:
        if have != "client id only":
            assert "RADIX_CLIENT_ID" in line
            assert "--radix-client-id" in line
        if have != "secret only":
            assert "RADIX_CLIENT_SECRET" in line
    result.stdout.fnmatch_lines([summary(0, skipped=3)])


def test_missing_credentials_reason_names_all_ways_to_configure(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(NEEDS_CREDENTIALS)
    result = run(pytester, "-rs")
    result.assert_outcomes(passed=1, skipped=3)
    skips = [line for line in result.outlines if line.startswith("SKIPPED")]
    assert skips
    for line in skips:
        for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET", "--radix-client-id"):
            assert name in line, line
    result.stdout.fnmatch_lines(["radix: *, 3 skipped without credentials"])


@pytest.mark.parametrize("how", ["cli", "env", "ini"])
def test_require_credentials_turns_the_skips_into_errors(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    args: list[str] = []
    if how == "cli":
        args = ["--radix-require-credentials"]
    elif how == "env":
        monkeypatch.setenv("RADIX_REQUIRE_CREDENTIALS", "yes")
    else:
        pytester.makeini("[pytest]\nradix_require_credentials = on\n")
    pytester.makepyfile(NEEDS_CREDENTIALS)
    result = run(pytester, *args)
    result.assert_outcomes(passed=1, errors=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = output(result)
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET", "--radix-client-id"):
        assert name in text
    assert "skipped without credentials" not in text


# ---------------------------------------------------------------------------------------------
# The radix marker


MARKED = """
import pytest

@pytest.fixture
def exports(radix_session):
    return radix_session.get("/export").json()

def test_session(radix_session):
    assert radix_session.get("/export").ok

def test_indirect(exports):
    assert exports

def test_config(radix_config):
    assert radix_config.base_url

@pytest.mark.parametrize("n", [1, 2])
def test_plain(n):
    assert n
"""


@pytest.mark.parametrize(
    ("expression", "passed", "deselected"), [("not radix", 2, 3), ("radix", 3, 2)]
)
def test_radix_marker_selects(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    expression: str,
    passed: int,
    deselected: int,
) -> None:
    pytester.makepyfile(MARKED)
    result = run(pytester, "--strict-markers", "-m", expression, "-v")
    result.assert_outcomes(passed=passed, deselected=deselected)
    plain = [line for line in result.outlines if "::test_plain" in line and "PASSED" in line]
    assert len(plain) == (2 if expression == "not radix" else 0)
    if expression == "not radix":
        assert radix_env.requests == []
    else:
        assert radix_env.auth_count == 1


def test_radix_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--markers")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["@pytest.mark.radix:*"])


def test_radix_marker_is_on_the_item(pytester: pytest.Pytester, radix_env: FakeRadixServer) -> None:
    pytester.makepyfile(
        """
        def test_marked(request, radix_session):
            assert request.node.get_closest_marker("radix") is not None

        def test_unmarked(request):
            assert request.node.get_closest_marker("radix") is None
        """
    )
    run(pytester).assert_outcomes(passed=2)


# ---------------------------------------------------------------------------------------------
# pytest --fixtures


def test_fixtures_are_listed_with_their_docstrings(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--fixtures")
    assert result.ret == 0
    lines = result.outlines
    for name in RADIX_FIXTURES:
        found = [i for i, line in enumerate(lines) if line.split(" ", 1)[0] == name]
        assert found, f"{name} not listed:\n" + output(result)
        doc = lines[found[0] + 1].strip()
        assert doc and "no docstring" not in doc, (name, doc)


# ---------------------------------------------------------------------------------------------
# Fresh sessions, the factory, overrides


def test_radix_session_is_fresh_per_test(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makepyfile(
        """
        SEEN = []

        def test_first(radix_session, radix_auth):
            radix_session.headers["X-Leak"] = "from-first"
            radix_session.cookies.set("leak", "from-first")
            assert radix_session.get("/export").status_code == 200
            SEEN.append(radix_session)

        def test_second(radix_session, radix_auth):
            assert SEEN and radix_session is not SEEN[0]
            assert "X-Leak" not in radix_session.headers
            assert not radix_session.cookies
            assert radix_session.headers["x-radix-version"] == "1.0.0"
            assert radix_session.auth is radix_auth is SEEN[0].auth
            url = radix_session.base_url + "/export"
            assert radix_session.get_adapter(url) is SEEN[0].get_adapter(url)
            assert radix_session.get("/export").status_code == 200
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=2)
    first, second = radix_env.requests_to("/export")
    assert first.header("X-Leak") == "from-first"
    assert first.header("Cookie") == "leak=from-first"
    assert second.header("X-Leak") is None
    assert second.header("Cookie") is None
    assert radix_env.auth_count == 1


def test_session_factory_from_a_module_scoped_fixture(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture(scope="module")
        def shared(radix_session_factory):
            session = radix_session_factory()
            session.headers["X-Module"] = "shared"
            return session

        def test_a(shared):
            assert shared.get("/export").status_code == 200

        def test_b(shared, radix_session):
            assert shared is not radix_session
            assert "X-Module" not in radix_session.headers
            assert shared.auth is radix_session.auth
            assert shared.get("/export").json()
            assert radix_session.get("/export").status_code == 200

        def test_two_sessions_are_different(radix_session_factory):
            one, two = radix_session_factory(), radix_session_factory()
            assert one is not two
            assert one.auth is two.auth
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=3)
    assert [r.header("X-Module") for r in radix_env.requests_to("/export")] == [
        "shared",
        "shared",
        None,
    ]
    assert radix_env.auth_count == 1
    result.stdout.fnmatch_lines([summary(1)])


def test_user_conftest_can_override_radix_credentials(
    pytester: pytest.Pytester, fake_radix: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADIX_BASE_URL", fake_radix.url)
    monkeypatch.setenv("MY_VAULT_ID", fake_radix.client_id)
    monkeypatch.setenv("MY_VAULT_KEY", fake_radix.client_secret)
    pytester.makeconftest(
        """
        import os
        import pytest
        from pytest_radix import RadixCredentials

        @pytest.fixture(scope="session")
        def radix_credentials():
            return RadixCredentials(os.environ["MY_VAULT_ID"], os.environ["MY_VAULT_KEY"])
        """
    )
    pytester.makepyfile(
        """
        def test_export(radix_session):
            assert radix_session.get("/export").status_code == 200
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)
    (auth,) = fake_radix.requests_to("/auth")
    assert auth.json() == {
        "client_id": fake_radix.client_id,
        "client_secret": fake_radix.client_secret,
    }
    result.stdout.fnmatch_lines([summary(1)])


@pytest.mark.parametrize("token_cache", [False, True])
def test_an_overridden_radix_config_is_where_the_key_goes(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    token_cache: bool,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with FakeRadixServer(client_secret=radix_env.client_secret) as staging:
        monkeypatch.setenv("STAGING_URL", staging.url)
        pytester.makeconftest(
            """
            import dataclasses
            import os

            import pytest

            @pytest.fixture(scope="session")
            def radix_config(pytestconfig):
                from pytest_radix.run import RUN

                settings = pytestconfig.stash[RUN].config
                return dataclasses.replace(settings, base_url=os.environ["STAGING_URL"])
            """
        )
        pytester.makepyfile(
            """
            def test_export(radix_session):
                assert radix_session.get("/export").status_code == 200
            """
        )
        args = ["--radix-token-cache"] if token_cache else []
        run(pytester, *args).assert_outcomes(passed=1)
        assert [r.path for r in staging.requests] == ["/auth", "/export"]
    assert radix_env.requests == [], "the key went to the base URL the override replaced"


def test_a_parametrized_radix_config_parametrizes_the_radix_tests(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makeconftest(TWO_API_VERSIONS)
    pytester.makepyfile(
        """
        def test_export(radix_session):
            assert radix_session.get("/export").status_code == 200
        """
    )
    run(pytester, "-v").assert_outcomes(passed=2)
    sent = [r.headers["x-radix-version"] for r in radix_env.requests_to("/export")]
    assert sorted(sent) == ["1.0.0", "1.1.0"]
    assert radix_env.auth_count == 2  # one RadixAuth per configuration


def test_a_module_may_still_name_the_fixtures_in_pytest_plugins(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makepyfile(
        """
        pytest_plugins = ["pytest_radix.fixtures"]

        def test_export(radix_session):
            assert radix_session.get("/export").status_code == 200
        """
    )
    run(pytester).assert_outcomes(passed=1)


# ---------------------------------------------------------------------------------------------
# Masked reprs


def fragments(secret: str, size: int = 12) -> set[str]:
    forms = {secret, repr(secret)[1:-1], ascii(secret)[1:-1], json.dumps(secret)[1:-1]}
    return {form[i : i + size] for form in forms for i in range(len(form) - size + 1)}


def test_token_and_credentials_reprs_are_masked(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makepyfile(
        """
        import hashlib
        import json
        import os
        from pathlib import Path

        def test_reprs(radix_token, radix_credentials):
            assert isinstance(radix_token, str)
            assert str(radix_token).count(".") == 2
            assert radix_credentials.client_id == os.environ["RADIX_CLIENT_ID"]
            assert radix_credentials.client_secret == os.environ["RADIX_CLIENT_SECRET"]
            shown = {
                "token_repr": repr(radix_token),
                "token_in_list": repr([radix_token]),
                "token_format": f"{radix_token!r}",
                "credentials_repr": repr(radix_credentials),
                "credentials_str": str(radix_credentials),
                "credentials_format": f"{radix_credentials}",
                "secret_repr": repr(radix_credentials.client_secret),
            }
            Path(__file__).with_name("shown.json").write_text(json.dumps(shown))
            digest = hashlib.sha256(str(radix_token).encode()).hexdigest()
            Path(__file__).with_name("token.sha").write_text(digest)
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)
    (token,) = radix_env.issued_tokens
    assert (pytester.path / "token.sha").read_text() == hashlib.sha256(token.encode()).hexdigest()
    shown: dict[str, str] = json.loads(Path(pytester.path / "shown.json").read_text())
    secrets = fragments(token) | fragments(radix_env.client_secret)
    for what, text in shown.items():
        leaked = sorted(f for f in secrets if f in text)
        assert not leaked, (what, text)
    assert radix_env.client_id in shown["credentials_repr"]
    assert "RadixCredentials" in shown["credentials_repr"]
