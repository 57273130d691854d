"""Recording and replaying cassettes, as a user's suite does it (inner suites run by ``pytester``).

A suite is recorded against ``fake_radix`` with the RADIX_* variables set, then the server is
stopped, the credentials are removed, and the same suite replays from the cassettes alone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import vcr.cassette  # noqa: F401
import yaml
from helpers import cassette_dir, interactions, output, query_values, run, uris
from vcr.request import Request

# Imported here so that the in-process inner runs share these modules instead of importing
# their own copies on every run (pytester restores sys.modules after each run).
import pytest_radix.auth  # noqa: F401
import pytest_radix.cassettes
import pytest_radix.recording  # noqa: F401
import pytest_radix.session  # noqa: F401
import pytest_radix.transport  # noqa: F401
from pytest_radix.errors import RadixCassetteError
from pytest_radix.masking import register_secret
from pytest_radix.testing import FakeRadixServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CREDENTIAL_VARIABLES = ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET", "RADIX_BASE_URL")

SUITE = """
import pytest


def test_export(radix_session):
    response = radix_session.get("/export")
    assert response.status_code == 200
    assert len(response.json()) == 3


def test_export_page(radix_session):
    response = radix_session.get("/export", params={"page": "2"})
    assert response.status_code == 200
    assert response.json()[0]["propertyId"]


class TestGrouped:
    def test_in_class(self, radix_session):
        assert radix_session.get("/export", params={"grouped": "yes"}).status_code == 200
"""
SUITE_CASSETTES = (
    "tests/test_api/test_export.yaml",
    "tests/test_api/test_export_page.yaml",
    "tests/test_api/TestGrouped.test_in_class.yaml",
)


# ---------------------------------------------------------------------------------------------
# helpers


def make_suite(
    pytester: pytest.Pytester, source: str = SUITE, name: str = "tests/test_api"
) -> Path:
    """An inner project with its own ini (so its rootdir is ``pytester.path``) and a test file."""
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    return pytester.makepyfile(**{name: source})


def forget_credentials(monkeypatch: pytest.MonkeyPatch, *, base_url: str | None = None) -> None:
    """No client id, no API key; the base URL removed (or replaced)."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if base_url is not None:
        monkeypatch.setenv("RADIX_BASE_URL", base_url)


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``directory``: its bytes and modification time."""
    return {
        str(path.relative_to(directory)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def summary(auth: int, replayed: int, recorded: int) -> str:
    return (
        f"radix: {auth} authentication request{'' if auth == 1 else 's'}, "
        f"{replayed} cassette{'' if replayed == 1 else 's'} replayed, {recorded} recorded"
    )


def add_unrecorded_test(pytester: pytest.Pytester) -> None:
    """A test whose request (``GET /export?fresh=1``) no cassette holds."""
    pytester.makepyfile(
        **{
            "tests/test_new": """
            def test_not_recorded(radix_session):
                radix_session.get("/export", params={"fresh": "1"})
            """
        }
    )


def record(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Record the inner suite with ``--radix-record-mode=once`` (RADIX_* set by ``radix_env``)."""
    result = run(pytester, "--radix-record-mode=once", *args)
    assert (cassette_dir(pytester) / "radix_auth.yaml").is_file(), output(result)
    return result


# ---------------------------------------------------------------------------------------------
# record, then replay offline


def test_record_once_then_replay_without_credentials_or_server(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester)
    recorded = record(pytester)
    recorded.assert_outcomes(passed=3)
    assert radix_env.auth_count == 1
    assert len(radix_env.requests_to("/export")) == 3
    recorded.stdout.fnmatch_lines([summary(1, 0, 3)])
    directory = cassette_dir(pytester)
    assert sorted(str(p.relative_to(directory)) for p in directory.rglob("*.yaml")) == sorted(
        ["radix_auth.yaml", *SUITE_CASSETTES]
    )

    radix_env.stop()
    forget_credentials(monkeypatch)
    before = snapshot(directory)
    replayed = run(pytester)
    replayed.assert_outcomes(passed=3)
    replayed.stdout.fnmatch_lines(["radix: mode=none (auto: cassette found) *", summary(0, 3, 0)])
    assert radix_env.auth_count == 1
    assert snapshot(directory) == before, "replay must not rewrite any cassette"


DOCTEST = ">>> 1 + 1\n2\n"
"""A text file pytest collects as one doctest item with ``--doctest-glob=*.txt``."""


def test_collection_skips_the_cassette_directory(pytester: pytest.Pytester) -> None:
    make_suite(pytester)
    (cassette_dir(pytester) / "notes").mkdir(parents=True)
    (cassette_dir(pytester) / "notes" / "example.txt").write_text(DOCTEST, encoding="utf-8")
    (pytester.path / "tests" / "guide.txt").write_text(DOCTEST, encoding="utf-8")

    collected = run(pytester, "--co", "-q", "--doctest-glob=*.txt")
    assert "tests/guide.txt::guide.txt" in collected.outlines, output(collected)
    assert not [line for line in collected.outlines if "example.txt" in line], output(collected)
    without_plugin = run(pytester, "--co", "-q", "--doctest-glob=*.txt", "-p", "no:radix")
    assert "tests/cassettes/notes/example.txt::example.txt" in without_plugin.outlines
    # another directory that only shares the name is collected as usual
    (pytester.path / "docs" / "cassettes").mkdir(parents=True)
    (pytester.path / "docs" / "cassettes" / "howto.txt").write_text(DOCTEST, encoding="utf-8")
    collected = run(pytester, "--co", "-q", "--doctest-glob=*.txt")
    assert "docs/cassettes/howto.txt::howto.txt" in collected.outlines, output(collected)


def test_collection_keeps_a_cassette_directory_that_holds_tests(
    pytester: pytest.Pytester,
) -> None:
    make_suite(pytester)
    pytester.makepyfile(**{"tests/deeper/test_more": "def test_more():\n    pass\n"})
    for directory in ("tests", "."):
        collected = run(pytester, "--co", "-q", f"--radix-cassette-dir={directory}")
        assert "tests/deeper/test_more.py::test_more" in collected.outlines, output(collected)
        assert "tests/test_api.py::test_export" in collected.outlines, output(collected)


def test_collection_keeps_tests_behind_a_symlink_in_the_cassette_directory(
    pytester: pytest.Pytester,
) -> None:
    make_suite(pytester)
    pytester.makepyfile(**{"shared/test_shared": "def test_shared():\n    pass\n"})
    cassette_dir(pytester).mkdir(parents=True)
    (cassette_dir(pytester) / "more").symlink_to(pytester.path / "shared")
    collected = run(pytester, "--co", "-q", "--ignore=shared")
    assert "tests/cassettes/more/test_shared.py::test_shared" in collected.outlines, output(
        collected
    )


def test_collection_skips_a_cassette_directory_that_is_a_symlink(
    pytester: pytest.Pytester,
) -> None:
    make_suite(pytester)
    (pytester.path / "store").mkdir()
    (pytester.path / "store" / "example.txt").write_text(DOCTEST, encoding="utf-8")
    cassette_dir(pytester).symlink_to(pytester.path / "store")
    collected = run(pytester, "--co", "-q", "--doctest-glob=*.txt", "--ignore=store")
    assert "tests/test_api.py::test_export" in collected.outlines, output(collected)
    assert not [line for line in collected.outlines if "example.txt" in line], output(collected)


def test_a_cassette_dir_reached_through_a_symlink_is_the_same_directory(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = pytester.path / "real" / "project"
    project.mkdir(parents=True)
    (project / "pytest.ini").write_text("[pytest]\nradix_cassette_dir = ../cassettes\n")
    (project / "test_api.py").write_text(SUITE, encoding="utf-8")
    (pytester.path / "elsewhere").mkdir()
    (pytester.path / "elsewhere" / "link").symlink_to(project)
    monkeypatch.chdir(project)
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=3)
    assert (pytester.path / "real" / "cassettes" / "radix_auth.yaml").is_file()

    radix_env.stop()
    forget_credentials(monkeypatch)
    monkeypatch.chdir(pytester.path / "elsewhere")
    replayed = run(pytester, "link")
    replayed.assert_outcomes(passed=3)
    replayed.stdout.fnmatch_lines(["radix: mode=none (auto: cassette found) *"])
    assert not (pytester.path / "elsewhere" / "cassettes").exists()


def test_a_cassette_dir_through_a_missing_directory_is_found(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester)
    record(pytester).assert_outcomes(passed=3)
    radix_env.stop()
    forget_credentials(monkeypatch)
    replayed = run(pytester, "--radix-cassette-dir=not-there/../tests/cassettes")
    replayed.assert_outcomes(passed=3)
    assert not (pytester.path / "not-there").exists()


def test_replay_under_another_base_url(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester)
    record(pytester).assert_outcomes(passed=3)
    radix_env.stop()
    # scheme, host, port and path prefix all differ from http://127.0.0.1:<port>
    forget_credentials(monkeypatch, base_url="https://staging.example:8443/api/")
    result = run(pytester)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "radix: mode=none (auto: cassette found) base_url=https://staging.example:8443/api*",
            summary(0, 3, 0),
        ]
    )


# ---------------------------------------------------------------------------------------------
# record modes


def test_live_mode_writes_no_cassette(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester)
    result = run(pytester, "--radix-record-mode=live")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["radix: mode=live (cli) *"])
    assert radix_env.auth_count == 1
    assert len(radix_env.requests_to("/export")) == 3
    assert not cassette_dir(pytester).exists()
    assert not list(pytester.path.rglob("*.yaml"))


def test_live_mode_neither_reads_nor_changes_existing_cassettes(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester)
    record(pytester).assert_outcomes(passed=3)
    before = snapshot(cassette_dir(pytester))
    result = run(pytester, "--radix-record-mode=live")
    result.assert_outcomes(passed=3)
    assert radix_env.auth_count == 2, "live mode authenticates live, not from radix_auth.yaml"
    assert len(radix_env.requests_to("/export")) == 6
    assert snapshot(cassette_dir(pytester)) == before


def test_none_mode_names_an_unrecorded_test_cassette_and_how_to_record_it(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester)
    record(pytester).assert_outcomes(passed=3)
    radix_env.stop()
    forget_credentials(monkeypatch)
    add_unrecorded_test(pytester)
    before = snapshot(cassette_dir(pytester))
    result = run(pytester, "--radix-record-mode=none")
    result.assert_outcomes(passed=3, failed=1)
    text = output(result)
    missing = cassette_dir(pytester) / "tests" / "test_new" / "test_not_recorded.yaml"
    assert "RadixCassetteError" in text
    assert "GET /export?fresh=1" in text
    assert str(missing) in text
    assert "--radix-record-mode" in text
    assert not missing.exists()
    assert snapshot(cassette_dir(pytester)) == before


def test_none_mode_without_auth_cassette_names_it(pytester: pytest.Pytester) -> None:
    make_suite(pytester)
    result = run(pytester, "--radix-record-mode=none")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) == 0
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 3, outcomes
    text = output(result)
    assert str(cassette_dir(pytester) / "radix_auth.yaml") in text
    assert "--radix-record-mode" in text
    assert not cassette_dir(pytester).exists()


def test_once_records_only_missing_cassettes(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester)
    record(pytester).assert_outcomes(passed=3)
    directory = cassette_dir(pytester)
    old = snapshot(directory)
    pytester.makepyfile(
        **{
            "tests/test_more": """
            def test_added_later(radix_session):
                assert radix_session.get("/export", params={"added": "1"}).status_code == 200
            """
        }
    )
    result = run(pytester, "--radix-record-mode=once")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines([summary(1, 3, 1)])
    assert radix_env.auth_count == 2
    assert len(radix_env.requests_to("/export")) == 4, "only the new request goes live"
    new = snapshot(directory)
    for name in SUITE_CASSETTES:
        assert new[name] == old[name], f"{name} was rewritten"
    assert uris(directory / "tests" / "test_more" / "test_added_later.yaml")[0].endswith(
        "/export?added=1"
    )
    assert new["radix_auth.yaml"][0] != old["radix_auth.yaml"][0], "a live /auth is recorded"


def test_once_fails_an_unrecorded_request_in_an_existing_cassette(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester)
    record(pytester).assert_outcomes(passed=3)
    directory = cassette_dir(pytester)
    old = snapshot(directory)
    make_suite(pytester, SUITE.replace('{"page": "2"}', '{"page": "3"}'))
    result = run(pytester, "--radix-record-mode=once")
    result.assert_outcomes(passed=2, failed=1)
    text = output(result)
    assert "RadixCassetteError" in text
    assert "GET /export?page=3" in text
    assert str(directory / "tests" / "test_api" / "test_export_page.yaml") in text
    assert "--radix-record-mode" in text
    assert len(radix_env.requests_to("/export")) == 3, "nothing went live"
    assert snapshot(directory) == old


def test_new_episodes_appends_and_keeps_the_old(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester)
    record(pytester).assert_outcomes(passed=3)
    path = cassette_dir(pytester) / "tests" / "test_api" / "test_export.yaml"
    (old,) = interactions(path)
    make_suite(
        pytester,
        SUITE.replace(
            'response = radix_session.get("/export")\n',
            'response = radix_session.get("/export")\n'
            '    assert radix_session.get("/export?episode=2").status_code == 200\n',
            1,
        ),
    )
    result = run(pytester, "--radix-record-mode=new_episodes")
    result.assert_outcomes(passed=3)
    assert len(radix_env.requests_to("/export")) == 4, "only the new request goes live"
    first, second = interactions(path)
    assert first == old
    assert second["request"]["uri"].endswith("/export?episode=2")


def test_all_replaces_cassettes_and_rewrites_auth(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester, SUITE.replace('{"page": "2"}', '{"page": "old"}'))
    record(pytester).assert_outcomes(passed=3)
    directory = cassette_dir(pytester)
    old = snapshot(directory)
    make_suite(pytester, SUITE.replace('{"page": "2"}', '{"page": "new"}'))
    result = run(pytester, "--radix-record-mode=all")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([summary(1, 0, 3)])
    assert radix_env.auth_count == 2
    assert len(radix_env.requests_to("/export")) == 6, "everything went live again"
    (uri,) = uris(directory / "tests" / "test_api" / "test_export_page.yaml")
    assert uri.endswith("/export?page=new")
    new = snapshot(directory)
    assert new["radix_auth.yaml"][0] != old["radix_auth.yaml"][0]
    assert all(new[name][1] != old[name][1] for name in old), "every cassette was rewritten"


@pytest.mark.parametrize("mode", ["once", "new_episodes"])
def test_recording_modes_replay_without_credentials(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    make_suite(pytester)
    record(pytester).assert_outcomes(passed=3)
    radix_env.stop()
    forget_credentials(monkeypatch)
    before = snapshot(cassette_dir(pytester))
    result = run(pytester, f"--radix-record-mode={mode}")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"radix: mode={mode} *", summary(0, 3, 0)])
    assert snapshot(cassette_dir(pytester)) == before


def test_recording_a_missing_cassette_without_credentials_says_they_are_needed(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester)
    record(pytester).assert_outcomes(passed=3)
    forget_credentials(monkeypatch, base_url=radix_env.url)
    add_unrecorded_test(pytester)
    before = snapshot(cassette_dir(pytester))
    result = run(pytester, "--radix-record-mode=once")
    result.assert_outcomes(passed=3, failed=1)
    text = output(result)
    assert re.search(r"credentials", text, re.IGNORECASE)
    assert "RADIX_CLIENT_SECRET" in text
    assert radix_env.auth_count == 1, "no /auth without credentials"
    assert len(radix_env.requests_to("/export")) == 3, "nothing went live"
    assert snapshot(cassette_dir(pytester)) == before


# ---------------------------------------------------------------------------------------------
# cassette names

NAMED_SUITE = """
import pytest

LONG = "x" * 300


@pytest.fixture(scope="module")
def module_data(radix_session_factory):
    session = radix_session_factory()
    data = session.get("/export", params={"phase": "module-setup"}).json()
    yield data
    assert session.get("/export", params={"phase": "module-teardown"}).status_code == 200


def test_plain(radix_session):
    assert radix_session.get("/export").status_code == 200


class TestKlass:
    def test_method(self, radix_session):
        assert radix_session.get("/export", params={"in": "class"}).status_code == 200


@pytest.mark.parametrize(
    "value",
    ["a/b c:d*?<>|\\\\e", LONG + "1", LONG + "2"],
    ids=["a/b c:d*?<>|\\\\e", LONG + "1", LONG + "2"],
)
def test_param(radix_session, value):
    assert radix_session.get("/export", params={"v": value[-1]}).status_code == 200


@pytest.mark.radix_cassette("shared")
def test_shared_one(radix_session):
    assert radix_session.get("/export", params={"shared": "1"}).status_code == 200


@pytest.mark.radix_cassette("shared")
def test_shared_two(radix_session):
    assert radix_session.get("/export", params={"shared": "1"}).status_code == 200


def test_fixtures_one(module_data, session_data):
    assert module_data and session_data


def test_fixtures_two(module_data, session_data):
    assert module_data == session_data
"""
NAMED_CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def session_data(radix_session_factory):
    session = radix_session_factory()
    data = session.get("/export", params={"phase": "session-setup"}).json()
    yield data
    assert session.get("/export", params={"phase": "session-teardown"}).status_code == 200
"""
PORTABLE_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]=+,@]+")


def test_cassette_paths_follow_the_spec(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester, NAMED_SUITE, name="tests/test_named")
    pytester.makeconftest("")
    pytester.makepyfile(**{"tests/conftest": NAMED_CONFTEST})
    result = record(pytester)
    result.assert_outcomes(passed=9)
    assert radix_env.auth_count == 1
    directory = cassette_dir(pytester)
    tests_dir = directory / "tests" / "test_named"

    # per test: <dir>/<test file relative to rootdir, without .py>/<[Class.]test[param]>.yaml
    assert uris(tests_dir / "test_plain.yaml")[0].endswith("/export")
    assert uris(tests_dir / "TestKlass.test_method.yaml")[0].endswith("/export?in=class")

    params = sorted(p.name for p in tests_dir.glob("test_param*"))
    assert len(params) == 3, params
    for name in params:
        assert PORTABLE_NAME.fullmatch(name), name
        assert len(name) <= 160, (len(name), name)
    odd = [n for n in params if "xxx" not in n]
    # replaced characters earn a hash of the original name, so two names never share a file
    assert len(odd) == 1 and re.fullmatch(r"test_param\[a[\w\-\[\]]*\]-[0-9a-f]{12}\.yaml", odd[0])
    assert not [p for p in tests_dir.iterdir() if p.is_dir()], "a '/' in an id made a directory"
    long_ones = [n for n in params if "xxx" in n]
    assert len(set(long_ones)) == 2, "long ids differing at the end keep distinct cassettes"
    assert all(re.search(r"[0-9a-f]{8}", n) for n in long_ones), "capped names carry a hash"
    assert sorted(uris(tests_dir / name)[0][-4:] for name in long_ones) == ["?v=1", "?v=2"]

    # @pytest.mark.radix_cassette("shared") -> <dir>/shared.yaml, and no per-test cassette
    assert [u.rsplit("/", 1)[1] for u in uris(directory / "shared.yaml")] == ["export?shared=1"]
    assert not list(tests_dir.glob("test_shared*"))

    # fixtures: <dir>/fixtures/<defining file, without .py>/<fixture>[@<scope node>].yaml
    (module_cassette,) = (directory / "fixtures" / "tests" / "test_named").glob("module_data@*")
    assert "test_named" in module_cassette.name
    assert [u.rsplit("/", 1)[1] for u in uris(module_cassette)] == [
        "export?phase=module-setup",
        "export?phase=module-teardown",
    ]
    session_cassette = directory / "fixtures" / "tests" / "conftest" / "session_data.yaml"
    assert [u.rsplit("/", 1)[1] for u in uris(session_cassette)] == [
        "export?phase=session-setup",
        "export?phase=session-teardown",
    ]
    assert not list(tests_dir.glob("test_fixtures*")), "fixture traffic is not the tests'"

    every = sorted(str(p.relative_to(directory)) for p in directory.rglob("*.yaml"))
    assert len(every) == 9, every  # auth, plain, method, 3 params, shared, 2 fixtures

    radix_env.stop()
    forget_credentials(monkeypatch)
    before = snapshot(directory)
    replayed = run(pytester)
    replayed.assert_outcomes(passed=9)
    # 8 files; the shared one may count once per test using it
    replayed.stdout.re_match_lines(
        [r"radix: 0 authentication requests, [89] cassettes replayed, 0 recorded$"]
    )
    assert snapshot(directory) == before


def test_tests_sharing_a_cassette_record_their_own_requests_in_one_run(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(
        pytester,
        """
        import pytest

        @pytest.mark.radix_cassette("shared")
        def test_one(radix_session):
            assert radix_session.get("/export", params={"who": "one"}).status_code == 200

        @pytest.mark.radix_cassette("shared")
        def test_two(radix_session):
            assert radix_session.get("/export", params={"who": "two"}).status_code == 200
        """,
    )
    result = record(pytester)
    result.assert_outcomes(passed=2)
    shared = cassette_dir(pytester) / "shared.yaml"
    assert query_values(shared) == ["one", "two"]
    radix_env.stop()
    forget_credentials(monkeypatch)
    run(pytester).assert_outcomes(passed=2)


def test_all_rewrites_a_shared_cassette_once_and_keeps_every_test_in_it(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    shared = """
        import pytest

        @pytest.mark.radix_cassette("shared")
        def test_one(radix_session):
            assert radix_session.get("/export", params={"who": "one-VERSION"}).ok

        @pytest.mark.radix_cassette("shared")
        def test_two(radix_session):
            assert radix_session.get("/export", params={"who": "two-VERSION"}).ok
        """
    make_suite(pytester, shared.replace("VERSION", "old"))
    run(pytester, "--radix-record-mode=new_episodes").assert_outcomes(passed=2)
    path = cassette_dir(pytester) / "shared.yaml"
    assert query_values(path) == ["one-old", "two-old"]
    make_suite(pytester, shared.replace("VERSION", "new"))
    run(pytester, "--radix-record-mode=all").assert_outcomes(passed=2)
    assert query_values(path) == ["one-new", "two-new"]


@pytest.mark.parametrize(
    "narrowing",
    [
        ("-k", "test_one"),
        ("--deselect", "tests/test_api.py::test_two"),
        ("tests/test_api.py::test_one",),
        ("-m", "not later", "-o", "markers=later: run later"),
    ],
    ids=["-k", "--deselect", "node id", "-m"],
)
def test_all_on_a_narrowed_run_keeps_what_tests_that_did_not_run_recorded(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    narrowing: tuple[str, ...],
) -> None:
    make_suite(
        pytester,
        """
        import pytest

        @pytest.mark.radix_cassette("shared")
        def test_one(radix_session):
            assert radix_session.get("/export", params={"who": "one"}).ok

        @pytest.mark.later
        @pytest.mark.radix_cassette("shared")
        def test_two(radix_session):
            assert radix_session.get("/export", params={"who": "two"}).ok
        """,
    )
    later = ("-o", "markers=later: run later")
    run(pytester, "--radix-record-mode=once", *later).assert_outcomes(passed=2)
    path = cassette_dir(pytester) / "shared.yaml"
    before = len(radix_env.requests_to("/export"))
    rerecorded = run(pytester, "--radix-record-mode=all", *narrowing)
    rerecorded.assert_outcomes(passed=1)
    rerecorded.stdout.fnmatch_lines([summary(1, 0, 1)])
    assert len(radix_env.requests_to("/export")) - before == 1, "test_one recorded again"
    assert query_values(path) == ["one", "two"]

    radix_env.stop()
    forget_credentials(monkeypatch)
    run(pytester, *later).assert_outcomes(passed=2)


def test_all_never_replays_the_old_file_when_an_earlier_test_failed(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(
        pytester,
        """
        import os

        import pytest

        @pytest.mark.radix_cassette("shared")
        @pytest.mark.parametrize("n", range(4))
        def test_shared(radix_session, n):
            assert radix_session.get("/export", params={"n": str(n)}).ok
            assert not (n == 0 and os.environ.get("FAIL_FIRST"))
        """,
    )
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=4)
    monkeypatch.setenv("FAIL_FIRST", "1")
    before = len(radix_env.requests_to("/export"))
    rerecorded = run(pytester, "--radix-record-mode=all")
    rerecorded.assert_outcomes(passed=3, failed=1)
    assert len(radix_env.requests_to("/export")) - before == 4, "nothing may be replayed"
    rerecorded.stdout.fnmatch_lines(["radix: 1 authentication request, 0 cassettes replayed, *"])
    path = cassette_dir(pytester) / "shared.yaml"
    assert query_values(path) == ["1", "2", "3"]


def test_a_parametrized_fixture_has_a_cassette_per_param(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(
        pytester,
        """
        import pytest

        @pytest.fixture(scope="session", params=["north", "south"])
        def region(request, radix_session_factory):
            response = radix_session_factory().get("/export", params={"region": request.param})
            return request.param, response.status_code

        def test_region(region):
            assert region[1] == 200
        """,
    )
    record(pytester).assert_outcomes(passed=2)
    fixtures = cassette_dir(pytester) / "fixtures" / "tests" / "test_api"
    assert sorted(p.name for p in fixtures.iterdir()) == [
        "region[north].yaml",
        "region[south].yaml",
    ]
    assert uris(fixtures / "region[south].yaml")[0].endswith("/export?region=south")
    radix_env.stop()
    forget_credentials(monkeypatch)
    run(pytester).assert_outcomes(passed=2)


def test_a_cassette_name_cannot_leave_the_cassette_dir(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(
        pytester,
        """
        import pytest

        @pytest.mark.radix_cassette("../../escaped")
        def test_escape(radix_session):
            radix_session.get("/export")
        """,
    )
    result = run(pytester, "--radix-record-mode=once")
    result.assert_outcomes(errors=1)
    assert "'../../escaped'" in output(result)
    assert len(radix_env.requests_to("/export")) == 0
    assert not list(pytester.path.rglob("escaped*"))


def test_a_failing_fixture_does_not_save_its_cassette(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(
        pytester,
        """
        import pytest

        @pytest.fixture(scope="module")
        def broken(radix_session_factory):
            radix_session_factory().get("/export", params={"broken": "1"})
            raise RuntimeError("fixture broken on purpose")

        def test_uses_broken(broken):
            pass

        def test_fine(radix_session):
            assert radix_session.get("/export").ok
        """,
    )
    result = run(pytester, "--radix-record-mode=once")
    result.assert_outcomes(passed=1, errors=1)
    assert len(radix_env.requests_to("/export")) == 2
    assert not (cassette_dir(pytester) / "fixtures").exists()
    assert (cassette_dir(pytester) / "tests" / "test_api" / "test_fine.yaml").is_file()
    result.stdout.re_match_lines([r"radix: .*1 recorded, 1 not saved.*"])


# ---------------------------------------------------------------------------------------------
# a failing test keeps the old cassette


def test_a_failing_test_does_not_save_its_cassette(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester)
    record(pytester).assert_outcomes(passed=3)
    directory = cassette_dir(pytester)
    path = directory / "tests" / "test_api" / "test_export_page.yaml"
    old = path.read_bytes(), path.stat().st_mtime_ns
    make_suite(
        pytester,
        SUITE.replace('{"page": "2"}', '{"page": "9"}').replace(
            'assert response.json()[0]["propertyId"]', "assert False, 'broken on purpose'"
        ),
    )
    result = run(pytester, "--radix-record-mode=all")
    result.assert_outcomes(passed=2, failed=1)
    assert len(radix_env.requests_to("/export")) == 6, "the failing test's request went live"
    assert (path.read_bytes(), path.stat().st_mtime_ns) == old
    assert uris(path)[0].endswith("/export?page=2")
    result.stdout.re_match_lines(
        [r"radix: 1 authentication request, 0 cassettes replayed, 2 recorded, 1 not saved.*"]
    )


def test_a_new_failing_test_leaves_no_cassette(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(
        pytester,
        """
        def test_fails(radix_session):
            assert radix_session.get("/export").status_code == 200
            assert False, "broken on purpose"
        """,
    )
    result = run(pytester, "--radix-record-mode=once")
    result.assert_outcomes(failed=1)
    assert not (cassette_dir(pytester) / "tests" / "test_api" / "test_fails.yaml").exists()
    result.stdout.re_match_lines([r"radix: .* 0 recorded, 1 not saved.*"])


# ---------------------------------------------------------------------------------------------
# corrupt cassettes, and another API version


def copy_examples(pytester: pytest.Pytester) -> Path:
    """The example project (its tests and committed cassettes) as the inner project."""
    for name in ("pytest.ini", "tests/test_export.py"):
        target = pytester.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EXAMPLES / name, target)
    shutil.copytree(EXAMPLES / "tests" / "cassettes", cassette_dir(pytester))
    return cassette_dir(pytester)


TEST_CASSETTE = "tests/test_export/test_export_answers_json.yaml"
VALID_REQUEST = (
    b"interactions:\n- request:\n    body: null\n    headers: {}\n    method: GET\n"
    b"    uri: http://127.0.0.1:37895/export\n"
)
CORRUPT = {
    "empty": (b"", "empty"),
    "blank": (b"  \n\n", "empty"),
    "not-utf8": (b"\xff\xfe\x00garbage\x80\x81", "UTF-8"),
    "truncated": (b"interactions:\n- request:\n    body: '{\"unterminated\n", "line"),
    "list": (b"- 1\n- 2\n", "interactions"),
    "no-interactions": (b"version: 1\nradix:\n  api_version: 1.0.0\n", "interactions"),
    "missing-keys": (
        b"interactions:\n- request:\n    method: GET\n  response: {}\nversion: 1\n",
        "malformed",
    ),
    "interaction-not-a-mapping": (b"interactions:\n- 1\n- two\nversion: 1\n", "malformed"),
    "status-not-a-number": (
        VALID_REQUEST + b"  response:\n    status: {code: abc, message: OK}\n"
        b"    headers: {}\n    body: {string: '[]'}\nversion: 1\n",
        "malformed",
    ),
    "response-without-body": (
        VALID_REQUEST + b"  response:\n    status: {code: 200, message: OK}\n"
        b"    headers: {}\nversion: 1\n",
        "malformed",
    ),
    "headers-not-a-mapping": (
        VALID_REQUEST + b"  response:\n    status: {code: 200, message: OK}\n"
        b"    headers: [a, b]\n    body: {string: '[]'}\nversion: 1\n",
        "malformed",
    ),
    "python-tag": (b'!!python/object/apply:os.system ["touch PWNED"]\n', "tag"),
    "nested-python-tag": (
        b"interactions:\n- request: !!python/object/apply:os.system ['touch PWNED']\n"
        b"  response: {}\nversion: 1\n",
        "tag",
    ),
}


@pytest.mark.parametrize("kind", sorted(CORRUPT))
def test_a_corrupt_cassette_fails_its_test_and_is_left_alone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    content, problem = CORRUPT[kind]
    directory = copy_examples(pytester)
    path = directory / TEST_CASSETTE
    path.write_bytes(content)
    monkeypatch.chdir(pytester.path)  # where a `touch PWNED` would land
    result = run(pytester)
    result.assert_outcomes(passed=7, failed=1)
    text = output(result)
    assert "FAILED tests/test_export.py::test_export_answers_json" in text
    assert "RadixCassetteError" in text
    assert str(path) in text
    assert problem.lower() in text.lower(), problem
    assert path.read_bytes() == content
    assert not list(pytester.path.rglob("PWNED")), "a YAML tag ran a command"


@pytest.mark.parametrize("kind", ["empty", "truncated", "python-tag"])
def test_a_corrupt_auth_cassette_fails_the_tests_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    content, problem = CORRUPT[kind]
    directory = copy_examples(pytester)
    path = directory / "radix_auth.yaml"
    path.write_bytes(content)
    monkeypatch.chdir(pytester.path)
    result = run(pytester)
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) == 0, outcomes
    text = output(result)
    assert "RadixCassetteError" in text
    assert str(path) in text
    assert problem.lower() in text.lower()
    assert path.read_bytes() == content
    assert not list(pytester.path.rglob("PWNED"))


def test_replay_under_another_api_version_is_refused_naming_both(
    pytester: pytest.Pytester,
) -> None:
    directory = copy_examples(pytester)
    before = snapshot(directory)
    result = run(pytester, "--radix-api-version", "2.0.0")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) == 0, outcomes
    text = output(result)
    assert "RadixCassetteError" in text
    assert re.search(r"1\.0\.0.*2\.0\.0|2\.0\.0.*1\.0\.0", text)
    assert snapshot(directory) == before


def test_the_example_cassettes_replay_in_process(pytester: pytest.Pytester) -> None:
    directory = copy_examples(pytester)
    before = snapshot(directory)
    result = run(pytester)
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["radix: mode=none (auto: cassette found) *", summary(0, 2, 0)])
    assert snapshot(directory) == before


def test_the_example_suite_passes_without_credentials(tmp_path: Path) -> None:
    project = tmp_path / "examples"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("__pycache__", ".*cache"))
    before = snapshot(project / "tests" / "cassettes")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADIX_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert re.search(r"\b8 passed\b", completed.stdout), completed.stdout
    assert "radix: 0 authentication requests" in completed.stdout
    assert snapshot(project / "tests" / "cassettes") == before


# ---------------------------------------------------------------------------------------------
# save_cassette_file: atomic and checked


def _interaction(body: bytes) -> tuple[Request, dict[str, Any]]:
    request = Request("POST", "https://api.radix.com/echo", body, {"x-radix-version": "1.0.0"})
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"]},
        "body": {"string": body},
    }
    return request, response


def test_save_scrubs_a_known_secret_it_is_given(tmp_path: Path) -> None:
    secret = "sk_save-scrub-0e1d2c3b4a59687f"
    register_secret(secret)
    path = tmp_path / "cassette.yaml"
    pytest_radix.cassettes.save_cassette_file(
        path, [_interaction(f'{{"echo": "{secret}"}}'.encode())], {"api_version": "1.0.0"}
    )
    text = path.read_text(encoding="utf-8")
    assert secret not in text and secret[4:16] not in text
    assert "scrubbed-by-pytest-radix" in text
    loaded, metadata = pytest_radix.cassettes.load_cassette_file(path)
    assert len(loaded) == 1 and metadata == {"api_version": "1.0.0"}
    assert [p.name for p in tmp_path.iterdir()] == ["cassette.yaml"]


def upper_escapes(text: str) -> str:
    """Hex escapes in upper case (``u00FC``), as many JSON encoders and YAML write them."""
    return re.sub(r"\\(x|u)([0-9a-f]+)", lambda m: "\\" + m[1] + m[2].upper(), text)


@pytest.mark.parametrize("form", ["raw", "json-escaped", "json-uppercase-escaped", "yaml-escaped"])
def test_save_refuses_a_secret_that_survives_scrubbing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    secret = 'sk_"refuse\\me/ünï-5b4c3d2e1f0a'
    register_secret(secret)
    for scrubber in ("scrub_text", "scrub_body"):  # the check must stand on its own
        monkeypatch.setattr(pytest_radix.cassettes, scrubber, lambda text, *a, **k: text)
    encoded = {
        "raw": secret,
        "json-escaped": json_escaped(secret),
        "json-uppercase-escaped": upper_escapes(json_escaped(secret)),
        "yaml-escaped": yaml.safe_dump(secret, width=10**6).strip().strip('"'),
    }[form]
    path = tmp_path / "cassette.yaml"
    path.write_bytes(b"old: content\n")
    with pytest.raises(RadixCassetteError) as caught:
        pytest_radix.cassettes.save_cassette_file(
            path, [_interaction(encoded.encode("utf-8"))], {"api_version": "1.0.0"}
        )
    message = str(caught.value)
    assert str(path) in message
    assert secret not in message and "5b4c3d2e1f0a" not in message
    assert path.read_bytes() == b"old: content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cassette.yaml"], "a temp file was left"


def test_save_refuses_a_secret_in_a_header_name(tmp_path: Path) -> None:
    secret = 'sk_"header\\name/ünï-8a7b6c5d4e3f'
    register_secret(secret)
    request = Request("GET", "https://api.radix.com/export", b"", {secret: "value"})
    _, response = _interaction(b"[]")
    path = tmp_path / "cassette.yaml"
    path.write_bytes(b"old: content\n")
    try:
        pytest_radix.cassettes.save_cassette_file(path, [(request, response)], {})
    except RadixCassetteError:
        assert path.read_bytes() == b"old: content\n"
    else:
        raw = path.read_bytes()
        loaded = yaml.safe_load(raw.decode("utf-8"))
        assert secret.encode("utf-8") not in raw
        assert secret not in str(loaded)
    assert [p.name for p in tmp_path.iterdir()] == ["cassette.yaml"]


def json_escaped(value: str) -> str:
    import json

    return json.dumps(value)[1:-1]
