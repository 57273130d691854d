"""pytest-radix in the same run as the plugins a user's suite already carries: each neighbour
is the real plugin from the test extra, loaded in the inner run by ``@pytest.mark.neighbours``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import vcr
from helpers import (
    INNER_ARGS,
    cassette_dir,
    escaped_forms,
    interactions,
    output,
    query_values,
    run,
    uris,
)
from helpers import run as in_process
from test_cassettes import forget_credentials, make_suite, summary
from urllib3.connection import HTTPSConnection

from pytest_radix import RadixAuth, RadixCredentials, RadixSession
from pytest_radix.testing import FakeRadixServer, FakeResponse

FLAKY = """
import pathlib


def test_flaky(radix_session):
    assert radix_session.get("/export").status_code == 200
    attempts = pathlib.Path(__file__).with_name("attempts")
    failed_before = attempts.exists()
    attempts.touch()
    assert failed_before, "the first attempt fails"
"""
"""A Radix test that fails on its first attempt (in each fresh project) and passes after."""


def outcomes(result: pytest.RunResult) -> dict[str, int]:
    """The final line's counts, ``rerun`` included (``assert_outcomes`` does not know it)."""
    return {name: count for name, count in result.parseoutcomes().items() if count}


@pytest.mark.neighbours("rerunfailures")
@pytest.mark.parametrize("how", ["--reruns", "flaky", "--reruns -n 2"])
def test_a_test_passing_on_its_rerun_saves_the_passing_attempts_cassette(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    flaky = "\n@pytest.mark.flaky(reruns=1)\ndef"
    source = FLAKY if how.startswith("--reruns") else FLAKY.replace("\ndef", flaky)
    make_suite(pytester, "import pytest\n" + source)
    args = ["--reruns", "1"] if how.startswith("--reruns") else []

    def run(pytester: pytest.Pytester, *more: str) -> pytest.RunResult:
        if "-n" not in how:
            return in_process(pytester, *more)
        return pytester.runpytest_subprocess(*INNER_ARGS, "-n", "2", *more, timeout=120)

    recorded = run(pytester, "--radix-record-mode=once", *args)
    assert outcomes(recorded) == {"passed": 1, "rerun": 1}
    recorded.stdout.fnmatch_lines([summary(1, 0, 1)])
    assert "not saved" not in output(recorded)
    cassette = cassette_dir(pytester) / "tests" / "test_api" / "test_flaky.yaml"
    assert len(interactions(cassette)) == 1, "the passing attempt's request, once"

    radix_env.stop()
    forget_credentials(monkeypatch)
    (pytester.path / "tests" / "attempts").unlink()
    replayed = run(pytester, *args)
    assert outcomes(replayed) == {"passed": 1, "rerun": 1}
    replayed.stdout.fnmatch_lines([summary(0, 1, 0)])


BOTH_CASSETTES = """
import os

import pytest
import requests


@pytest.mark.vcr
def test_both(radix_session):
    assert radix_session.get("/export").status_code == 200
    assert requests.get(os.environ["RADIX_BASE_URL"] + "/status").status_code == 404
"""
"""A test with pytest-recording's ``vcr`` marker that also uses Radix: its own request (to
``/status``) goes to pytest-recording's cassette, the Radix traffic to pytest-radix's."""


def leaked(directory: Path, server: FakeRadixServer) -> list[str]:
    """The files under ``directory`` holding the API key (in any escaped form), a live token,
    or a live token's signature."""
    tokens = server.issued_tokens
    needles = {*escaped_forms(server.client_secret), *tokens}
    needles |= {token.rsplit(".", 1)[1] for token in tokens}
    return sorted(
        str(path.relative_to(directory))
        for path in directory.rglob("*")
        if path.is_file() and any(n.encode("utf-8") in path.read_bytes() for n in needles)
    )


@pytest.mark.neighbours("recording")
def test_pytest_recordings_cassette_never_gets_the_radix_traffic(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester, BOTH_CASSETTES, name="test_api")
    recorded = run(pytester, "--radix-record-mode=once", "--record-mode=once")
    recorded.assert_outcomes(passed=1)
    theirs = pytester.path / "cassettes" / "test_api" / "test_both.yaml"
    assert uris(theirs) == [radix_env.url + "/status"], "only the test's own request"
    assert uris(cassette_dir(pytester) / "test_api" / "test_both.yaml") == [
        radix_env.url + "/export"
    ]
    assert radix_env.issued_tokens
    assert leaked(pytester.path, radix_env) == []

    radix_env.stop()
    forget_credentials(monkeypatch, base_url=radix_env.url)
    replayed = run(pytester, "--record-mode=none")
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines([summary(0, 1, 0)])


SELF_LEAKING = """
import os

import pytest
import requests


@pytest.mark.vcr
def test_sends_secrets_itself(radix_token, radix_credentials):
    requests.post(
        os.environ["RADIX_BASE_URL"] + "/status",
        headers={"X-Token": "Bearer " + radix_token},
        json={"key": radix_credentials.client_secret, "token": radix_token},
    )
"""
"""A test that puts the API key and the live token into its own requests, which
pytest-recording records (pytest-radix cannot keep them off the wire, only out of files)."""


@pytest.mark.neighbours("recording")
def test_pytest_recordings_cassette_is_scrubbed_of_what_the_test_sent_itself(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester, SELF_LEAKING, name="test_api")
    run(pytester, "--radix-record-mode=once", "--record-mode=once").assert_outcomes(passed=1)
    theirs = pytester.path / "cassettes" / "test_api" / "test_sends_secrets_itself.yaml"
    assert uris(theirs) == [radix_env.url + "/status"]
    assert radix_env.issued_tokens
    assert leaked(pytester.path, radix_env) == []


def test_radix_traffic_bypasses_vcrpys_patching_in_any_http_mocking_library(
    fake_radix: FakeRadixServer, tmp_path: Path
) -> None:
    credentials = RadixCredentials(fake_radix.client_id, fake_radix.client_secret)
    theirs = tmp_path / "theirs.yaml"
    with vcr.use_cassette(str(theirs), record_mode="none"):  # refuses every request it sees
        auth = RadixAuth(credentials, base_url=fake_radix.url, timeout=5.0)
        with RadixSession(auth, base_url=fake_radix.url, timeout=5.0) as session:
            assert session.get("/export").status_code == 200
            adapter = session.get_adapter(fake_radix.url + "/")
            proxied = adapter.proxy_manager_for("http://127.0.0.1:9")
            assert proxied.pool_classes_by_scheme["https"].ConnectionCls is HTTPSConnection
    assert fake_radix.auth_count == 1
    assert not theirs.exists()


SHARED = """
import pytest


@pytest.mark.radix_cassette("shared")
@pytest.mark.parametrize("n", range(6))
def test_shared(radix_session, n):
    assert radix_session.get("/export", params={"n": str(n)}).status_code == 200
"""
"""Six tests recording into one cassette, spread over the xdist workers."""

LOADED = {
    "autoload": (),
    "-p xdist": ("-p", "xdist", "-p", "pytest_radix.plugin"),
    "-p xdist.plugin": ("-p", "xdist.plugin", "-p", "pytest_radix.plugin"),
}
"""How pytest-xdist (and pytest-radix) get into the run: by their entry points, or by name
with autoload off."""


@pytest.mark.parametrize(
    ("loaded", "dist"),
    [
        *[(loaded, "load") for loaded in LOADED],
        *[("autoload", dist) for dist in ("loadscope", "loadgroup", "worksteal")],
    ],
)
def test_xdist_however_loaded_shares_the_token_and_merges_the_counts(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    loaded: str,
    dist: str,
) -> None:
    make_suite(pytester, SHARED)
    if loaded != "autoload":
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    args = [*LOADED[loaded], "-p", "no:cacheprovider", "-n", "2", f"--dist={dist}"]
    recorded = pytester.runpytest_subprocess(*args, "--radix-record-mode=once", timeout=120)
    recorded.assert_outcomes(passed=6)
    assert radix_env.auth_count == 1
    recorded.stdout.fnmatch_lines([summary(1, 0, 6)])
    assert len(interactions(cassette_dir(pytester) / "shared.yaml")) == 6
    if dist != "load":
        return  # how tests are spread does not change how they replay

    radix_env.stop()
    forget_credentials(monkeypatch, base_url=radix_env.url)
    replayed = pytester.runpytest_subprocess(*args, timeout=120)
    replayed.assert_outcomes(passed=6)
    replayed.stdout.fnmatch_lines([summary(0, 6, 0)])


GROUPED = """
import pytest


@pytest.mark.xdist_group("db")
def test_g1(radix_session):
    assert radix_session.get("/export").status_code == 200


@pytest.mark.xdist_group("db")
@pytest.mark.parametrize("page", ["1", "2"])
def test_g2(radix_session, page):
    assert radix_session.get("/export", params={"page": page}).status_code == 200
"""
GROUPED_CASSETTES = ["test_g1.yaml", "test_g2[1].yaml", "test_g2[2].yaml"]


def recorded_names(pytester: pytest.Pytester) -> list[str]:
    """The file names of the test cassettes of ``tests/test_api.py``."""
    return sorted(p.name for p in (cassette_dir(pytester) / "tests" / "test_api").glob("*"))


def record_hint(result: pytest.RunResult) -> str:
    """The node id the first "record it with" hint of a run names."""
    (line, *_) = [line for line in result.outlines if "then run: pytest" in line]
    return line.split("then run: pytest --radix-record-mode=once ", 1)[1].split()[0].strip("'")


def test_xdist_groups_do_not_change_cassette_names(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On pytest 8, ``--dist loadgroup`` workers add ``@<group>`` to node ids (pytest 9's
    node ids ignore it)."""
    make_suite(pytester, GROUPED)
    grouped = ["-n", "2", "--dist=loadgroup"]
    recorded = pytester.runpytest_subprocess("--radix-record-mode=once", *grouped, timeout=120)
    recorded.assert_outcomes(passed=3)
    assert recorded_names(pytester) == GROUPED_CASSETTES

    radix_env.stop()
    forget_credentials(monkeypatch, base_url=radix_env.url)
    run(pytester).assert_outcomes(passed=3)  # recorded under loadgroup, replayed without
    shutil.rmtree(cassette_dir(pytester) / "tests")
    missing = pytester.runpytest_subprocess(*grouped, timeout=120)
    missing.assert_outcomes(failed=3)
    target = record_hint(missing)
    assert "@" not in target, target
    run(pytester, target, "--co").assert_outcomes()  # it selects a test
    assert f"{target}" in run(pytester, target, "--co", "-q").outlines


REPEATED = """
import pytest


def test_export(radix_session):
    assert radix_session.get("/export").status_code == 200


@pytest.mark.parametrize("page", ["1", "2"])
def test_page(radix_session, page):
    assert radix_session.get("/export", params={"page": page}).status_code == 200
"""
REPEATED_CASSETTES = ["test_export.yaml", "test_page[1].yaml", "test_page[2].yaml"]


@pytest.mark.neighbours("repeat")
def test_pytest_repeat_repetitions_share_the_tests_cassette(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester, REPEATED)
    run(pytester, "--radix-record-mode=once", "--count=2").assert_outcomes(passed=6)
    assert recorded_names(pytester) == REPEATED_CASSETTES
    shutil.rmtree(cassette_dir(pytester) / "tests")
    marked = REPEATED.replace("\n\ndef test_export", "\n\n@pytest.mark.repeat(3)\ndef test_export")
    make_suite(pytester, marked)
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=5)  # the marker's way
    assert recorded_names(pytester) == REPEATED_CASSETTES
    shutil.rmtree(cassette_dir(pytester) / "tests")
    make_suite(pytester, REPEATED)
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=3)  # recorded plainly

    radix_env.stop()
    forget_credentials(monkeypatch, base_url=radix_env.url)
    hunt = run(pytester, "--count=20")  # the flake hunt, offline
    hunt.assert_outcomes(passed=60)
    hunt.stdout.fnmatch_lines([summary(0, 60, 0)])
    assert recorded_names(pytester) == REPEATED_CASSETTES

    (cassette_dir(pytester) / "tests" / "test_api" / "test_page[2].yaml").unlink()
    missing = run(pytester, "--count=3", "-k", "test_page")
    missing.assert_outcomes(passed=3, failed=3)
    assert record_hint(missing) == "tests/test_api.py::test_page[2]"


ASYNC_CONFTEST = """
import pytest_asyncio


@pytest_asyncio.fixture(scope="module")
async def data(radix_session_factory):
    return radix_session_factory().get("/export", params={"from": "WHERE"}).json()
"""
ASYNC_TEST = """
def test_data(data):
    assert data
"""


@pytest.mark.neighbours("asyncio")
@pytest.mark.parametrize("scope", ["module", "session"])
def test_an_async_fixtures_cassette_is_named_after_the_file_defining_it(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    scope: str,
) -> None:
    make_suite(pytester, ASYNC_TEST, name="tests/a/test_a")
    conftest = ASYNC_CONFTEST.replace('scope="module"', f'scope="{scope}"')
    pytester.makepyfile(
        **{
            "tests/a/conftest": conftest.replace("WHERE", "a"),
            "tests/b/conftest": conftest.replace("WHERE", "b"),
            "tests/b/test_b": ASYNC_TEST,
        }
    )
    # its own process: pytest-asyncio 0.23 leaves an unclosed event loop set in the process
    # (pytest-asyncio#724), whose socket pair another test's inner run would finalize
    args = (*INNER_ARGS, "-o", f"asyncio_default_fixture_loop_scope={scope}")
    recorded = pytester.runpytest_subprocess(*args, "--radix-record-mode=once", timeout=120)
    recorded.assert_outcomes(passed=2)
    fixtures = cassette_dir(pytester) / "fixtures"
    found = sorted(str(p.relative_to(fixtures)) for p in fixtures.rglob("*.yaml"))
    defined_in = [name.split("@")[0].removesuffix(".yaml") for name in found]
    assert defined_in == ["tests/a/conftest/data", "tests/b/conftest/data"]
    assert query_values(fixtures / found[0]) == ["a"]

    radix_env.stop()
    forget_credentials(monkeypatch, base_url=radix_env.url)
    pytester.runpytest_subprocess(*args, timeout=120).assert_outcomes(passed=2)


TIMED_OUT = """
import time

import pytest


def test_a(radix_session):
    assert radix_session.get("/export", params={"n": "a"}).ok


def test_b(radix_session):
    assert radix_session.get("/export", params={"n": "b"}).ok


@pytest.mark.timeout(2, method="thread")
def test_hangs(radix_session):
    time.sleep(30)


def test_c(radix_session):
    assert radix_session.get("/export", params={"n": "c"}).ok
"""


@pytest.mark.neighbours("timeout")
def test_a_worker_killed_by_pytest_timeout_still_counts_and_prunes_nothing(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest-timeout's thread method kills the worker: its counts are kept, and what it used
    is unknown, so --radix-prune removes nothing (it used to remove the dead worker's
    cassettes as unused)."""
    make_suite(pytester, TIMED_OUT)
    args = ("-p", "no:randomly", "-n", "1")
    result = pytester.runpytest_subprocess(*args, "--radix-record-mode=once", timeout=120)
    assert outcomes(result) == {"passed": 3, "failed": 1}
    assert "crashed while running" in output(result)
    assert radix_env.auth_count == 1
    result.stdout.fnmatch_lines([summary(1, 0, 3)])
    assert recorded_names(pytester) == ["test_a.yaml", "test_b.yaml", "test_c.yaml"]

    radix_env.stop()
    forget_credentials(monkeypatch, base_url=radix_env.url)
    replayed = pytester.runpytest_subprocess(*args, "--radix-prune", timeout=120)
    assert outcomes(replayed) == {"passed": 3, "failed": 1}
    replayed.stdout.fnmatch_lines(
        ["radix: --radix-prune removed nothing: 1 Radix test did not pass"]
    )
    assert "unused" not in output(replayed)
    assert recorded_names(pytester) == ["test_a.yaml", "test_b.yaml", "test_c.yaml"]


AUTH_CUT_SHORT = """
import pytest


@pytest.mark.timeout(2)
def test_a(radix_session):
    assert radix_session.get("/export").ok


def test_b(radix_session):
    assert radix_session.get("/export").ok
"""


@pytest.mark.neighbours("timeout")
@pytest.mark.parametrize("method", ["signal", "thread"])
def test_an_auth_cut_short_by_pytest_timeout_is_counted(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, method: str
) -> None:
    """The first ``/auth`` hangs until pytest-timeout ends its test (the thread method kills
    the xdist worker); the next test authenticates again. Both went out: both are counted."""
    radix_env.queue("/auth", FakeResponse(hang=True))
    make_suite(pytester, AUTH_CUT_SHORT)
    args = ["-p", "no:randomly", f"--timeout-method={method}"]
    args += ["-n", "1"] if method == "thread" else []
    result = pytester.runpytest_subprocess(*args, timeout=120)
    assert outcomes(result) == {"passed": 1, "failed": 1}
    assert radix_env.auth_count == 2
    result.stdout.fnmatch_lines([summary(2, 0, 0)])


PLACEHOLDER_CONFTEST = """
import pytest


@pytest.fixture(scope="module")
def vcr_config():
    return {"filter_headers": [("authorization", "DUMMY")]}
"""
WITH_OWN_TOKEN = """
import os

import pytest
import requests


@pytest.mark.vcr
def test_both(radix_session):
    assert radix_session.get("/export").status_code == 200
    headers = {"Authorization": "Bearer the-users-own-token-123"}
    requests.get(os.environ["RADIX_BASE_URL"] + "/status", headers=headers)
"""


@pytest.mark.neighbours("recording")
def test_beside_pytest_recording_the_default_dirs_differ_and_audit_passes(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester, WITH_OWN_TOKEN)
    pytester.makeconftest(PLACEHOLDER_CONFTEST)
    run(pytester, "--radix-record-mode=once", "--record-mode=once").assert_outcomes(passed=1)
    theirs = cassette_dir(pytester) / "test_api" / "test_both.yaml"
    ours = cassette_dir(pytester) / "tests" / "test_api" / "test_both.yaml"
    assert uris(theirs) == [radix_env.url + "/status"]
    assert uris(ours) == [radix_env.url + "/export"]
    assert "DUMMY" in theirs.read_text(encoding="utf-8")
    audit = subprocess.run(
        [sys.executable, "-m", "pytest_radix", "audit"],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "3 file(s) clean" in audit.stdout


@pytest.mark.neighbours("recording")
def test_a_cassette_dir_shared_with_pytest_recording_is_refused_naming_the_fix(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """``radix_cassette_dir = cassettes`` and a test file at the root: both plugins would
    write ``cassettes/test_api/test_both.yaml``, each over the other's recording."""
    pytester.makeini("[pytest]\nfilterwarnings = error\nradix_cassette_dir = cassettes\n")
    pytester.makepyfile(test_api=WITH_OWN_TOKEN)
    pytester.makeconftest(PLACEHOLDER_CONFTEST)
    result = run(pytester, "--radix-record-mode=once", "--record-mode=once")
    result.assert_outcomes(passed=1, errors=1)  # the test passed; saving its cassette did not
    shared = pytester.path / "cassettes" / "test_api" / "test_both.yaml"
    result.stdout.fnmatch_lines(
        [
            f"*RadixCassetteError: pytest-radix and pytest-recording both write {shared} for "
            "test_api.py::test_both, each over the other's recording; give radix_cassette_dir "
            "a directory of its own, such as cassettes/radix (pytest-radix's cassette was not "
            "saved)*"
        ]
    )
    assert uris(shared) == [radix_env.url + "/status"]  # pytest-recording's, left alone

    # without pytest-recording's marker it writes nothing: pytest-radix's cassette is saved
    pytester.makepyfile(test_api=WITH_OWN_TOKEN.replace("@pytest.mark.vcr\n", ""))
    shared.unlink()
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    assert uris(shared) == [radix_env.url + "/export"]


@pytest.mark.neighbours("randomly")
def test_pytest_randomly_any_order_records_and_replays(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester, REPEATED)
    recorded = run(pytester, "--radix-record-mode=once", "--randomly-seed=1")
    recorded.assert_outcomes(passed=3)
    assert "Using --randomly-seed=1" in output(recorded)
    assert recorded_names(pytester) == REPEATED_CASSETTES

    radix_env.stop()
    forget_credentials(monkeypatch, base_url=radix_env.url)
    for seed in ("2", "3"):
        replayed = run(pytester, f"--randomly-seed={seed}")
        replayed.assert_outcomes(passed=3)
        replayed.stdout.fnmatch_lines([summary(0, 3, 0)])


def test_all_on_a_narrowed_xdist_run_keeps_what_tests_that_did_not_run_recorded(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester, SHARED)
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=6)
    narrowed = pytester.runpytest_subprocess(
        "-n", "2", "--radix-record-mode=all", "-k", "not test_shared[5]", timeout=120
    )
    narrowed.assert_outcomes(passed=5)
    path = cassette_dir(pytester) / "shared.yaml"
    assert query_values(path) == [str(n) for n in range(6)]

    radix_env.stop()
    forget_credentials(monkeypatch, base_url=radix_env.url)
    run(pytester).assert_outcomes(passed=6)
