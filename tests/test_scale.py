"""One authentication at any scale: pytest-xdist workers, the token cache, the token lock.

The inner suites run against the fake API; ``-n K`` starts real worker processes, which
inherit the RADIX_* variables that ``radix_env`` sets.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import INNER_ARGS, TWO_API_VERSIONS, query_values

from pytest_radix.errors import RadixTransportError
from pytest_radix.sharing import TokenFile, cache_file
from pytest_radix.testing import FakeRadixServer, FakeResponse
from pytest_radix.token import RadixToken

SUITE = """
import pytest
import yaml

@pytest.mark.parametrize("i", range({count}))
def test_export(radix_session, i):
    assert radix_session.get("/export", params={{"i": i}}).status_code == 200
"""


def files_under(*directories: Path) -> Iterator[Path]:
    for directory in directories:
        if directory.exists():
            yield from (p for p in directory.rglob("*") if p.is_file())


def secret_hits(server: FakeRadixServer, *directories: Path) -> list[str]:
    """Files holding the API key, a live token, or a 12-character piece of either."""
    needles = {server.client_secret.encode(), *(t.encode() for t in server.issued_tokens)}
    for secret in list(needles):
        needles |= {secret[i : i + 12] for i in range(0, len(secret) - 11, 6)}
    return [
        str(path)
        for path in files_under(*directories)
        if any(needle in path.read_bytes() for needle in needles)
    ]


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TMPDIR and cache dir of the test's own, so every file a run leaves can be searched."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return temp


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_share_one_authentication(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, private_tmp: Path, workers: int
) -> None:
    pytester.makepyfile(SUITE.format(count=40))
    result = pytester.runpytest_subprocess(
        *INNER_ARGS, "-n", str(workers), f"--basetemp={private_tmp}/bt"
    )
    result.assert_outcomes(passed=40)
    assert radix_env.auth_count == 1
    assert len(radix_env.requests_to("/export")) == 40
    result.stdout.fnmatch_lines(
        ["radix: 1 authentication request, 0 cassettes replayed, 0 recorded"]
    )
    # nothing of the key or the token is left anywhere: temp dirs, basetemp, caches
    assert secret_hits(radix_env, private_tmp, pytester.path, private_tmp.parent / "cache") == []
    assert not list(private_tmp.glob("pytest-radix-*")), "the hand-over directory was left behind"


def test_workers_started_with_tx_share_one_authentication(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makepyfile(SUITE.format(count=12))
    result = pytester.runpytest_subprocess(*INNER_ARGS, "--tx", "3*popen", "--dist", "load")
    result.assert_outcomes(passed=12)
    assert radix_env.auth_count == 1
    result.stdout.fnmatch_lines(
        ["radix: 1 authentication request, 0 cassettes replayed, 0 recorded"]
    )


def test_workers_share_one_authentication_per_configuration(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makeconftest(TWO_API_VERSIONS)
    pytester.makepyfile(SUITE.format(count=10))
    result = pytester.runpytest_subprocess(*INNER_ARGS, "-n", "2")
    result.assert_outcomes(passed=20)
    assert radix_env.auth_count == 2  # one per API version, whichever worker asked first
    assert len(radix_env.requests_to("/export")) == 20  # none answered 401 and sent again
    result.stdout.fnmatch_lines(
        ["radix: 2 authentication requests, 0 cassettes replayed, 0 recorded"]
    )


def test_a_worker_on_another_host_gets_no_hand_over_directory() -> None:
    from types import SimpleNamespace

    from pytest_radix.run import RadixRun
    from pytest_radix.workers import HANDOVER_KEY, ControllerHooks

    controller = ControllerHooks(RadixRun.__new__(RadixRun))
    try:
        local = SimpleNamespace(gateway=SimpleNamespace(spec=SimpleNamespace(popen=True)))
        remote = SimpleNamespace(gateway=SimpleNamespace(spec=SimpleNamespace(popen=None)))
        for node in (local, remote):
            node.workerinput = {}
            controller.pytest_configure_node(node)
        assert local.workerinput == {HANDOVER_KEY: str(controller.directory)}
        assert remote.workerinput == {}
    finally:
        controller.remove()


def test_workers_share_renewals_too(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, private_tmp: Path
) -> None:
    """A 2 s token renewed every second over a ~3 s run: a handful of /auth, not one per worker."""
    radix_env.token_lifetime = 2
    pytester.makepyfile(
        """
        import time, pytest

        @pytest.mark.parametrize("i", range(24))
        def test_slow(radix_session, i):
            time.sleep(0.5)
            assert radix_session.get("/export").status_code == 200
        """
    )
    started = time.monotonic()
    result = pytester.runpytest_subprocess(*INNER_ARGS, "-n", "4")
    elapsed = time.monotonic() - started
    result.assert_outcomes(passed=24)
    ideal = elapsed / 1.0 + 1  # one renewal per half lifetime, plus the first
    assert 2 <= radix_env.auth_count <= ideal + 1, (radix_env.auth_count, elapsed)
    assert radix_env.auth_count < 4 * ideal  # what unshared workers would cost


def test_recording_under_xdist_writes_each_cassette_once(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture(scope="session")
        def data(radix_session_factory):
            return radix_session_factory().get("/export", params={"fixture": 1}).json()

        @pytest.mark.parametrize("i", range(8))
        def test_export(radix_session, data, i):
            assert radix_session.get("/export", params={"i": i}).json() == data
        """
    )
    result = pytester.runpytest_subprocess(*INNER_ARGS, "-n", "2", "--radix-record-mode=once")
    result.assert_outcomes(passed=8)
    assert radix_env.auth_count == 1
    cassettes = pytester.path / "tests" / "cassettes"
    assert (cassettes / "radix_auth.yaml").is_file()
    tests = sorted(
        p.name
        for p in (cassettes / "test_recording_under_xdist_writes_each_cassette_once").iterdir()
    )
    assert tests == [f"test_export[{i}].yaml" for i in range(8)]
    (fixture,) = list((cassettes / "fixtures").rglob("*.yaml"))
    assert fixture.name == "data.yaml"
    # the second worker may find the fixture's cassette already written, and replay it
    result.stdout.fnmatch_lines(["radix: 1 authentication request, * replayed, 9 recorded"])

    radix_env.stop()
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET"):
        os.environ.pop(name)
    before = {p: p.read_bytes() for p in cassettes.rglob("*.yaml")}
    replay = pytester.runpytest_subprocess(*INNER_ARGS, "-n", "2")
    replay.assert_outcomes(passed=8)
    replay.stdout.fnmatch_lines(["radix: 0 authentication requests, * replayed, 0 recorded"])
    assert {p: p.read_bytes() for p in cassettes.rglob("*.yaml")} == before


# ---------------------------------------------------------------------------------------------
# the token cache


def test_token_cache_makes_a_repeat_run_authenticate_zero_times(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, private_tmp: Path
) -> None:
    pytester.makepyfile(SUITE.format(count=3))
    first = pytester.runpytest(*INNER_ARGS, "--radix-token-cache")
    first.assert_outcomes(passed=3)
    assert radix_env.auth_count == 1
    second = pytester.runpytest(*INNER_ARGS, "--radix-token-cache")
    second.assert_outcomes(passed=3)
    assert radix_env.auth_count == 1
    second.stdout.fnmatch_lines(
        ["radix: 0 authentication requests, 0 cassettes replayed, 0 recorded"]
    )
    (cached,) = (private_tmp.parent / "cache" / "pytest-radix").glob("token-*.json")
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    text = cached.read_text(encoding="utf-8")
    assert radix_env.issued_tokens[0] in text
    assert radix_env.client_secret not in text
    assert radix_env.client_id not in cached.name and radix_env.url not in cached.name


def test_token_cache_is_off_by_default(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, private_tmp: Path
) -> None:
    pytester.makepyfile(SUITE.format(count=2))
    pytester.runpytest(*INNER_ARGS).assert_outcomes(passed=2)
    pytester.runpytest(*INNER_ARGS).assert_outcomes(passed=2)
    assert radix_env.auth_count == 2
    assert not (private_tmp.parent / "cache").exists()


def test_token_cache_is_not_reused_for_another_client_or_base_url(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, private_tmp: Path
) -> None:
    pytester.makepyfile(SUITE.format(count=1))
    pytester.runpytest(*INNER_ARGS, "--radix-token-cache").assert_outcomes(passed=1)
    original, radix_env.client_id = radix_env.client_id, "0123456789abcdef01234567"
    other_client = ("--radix-token-cache", f"--radix-client-id={radix_env.client_id}")
    pytester.runpytest(*INNER_ARGS, *other_client).assert_outcomes(passed=1)
    assert radix_env.auth_count == 2
    radix_env.client_id = original
    other_base = ("--radix-token-cache", f"--radix-base-url={radix_env.url}/api/")
    pytester.runpytest(*INNER_ARGS, *other_base).assert_outcomes(passed=1)
    assert radix_env.auth_count == 3
    assert len(list((private_tmp.parent / "cache" / "pytest-radix").glob("token-*.json"))) == 3


def test_a_cached_token_answered_401_is_replaced_once(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, private_tmp: Path
) -> None:
    pytester.makepyfile(SUITE.format(count=2))
    pytester.runpytest(*INNER_ARGS, "--radix-token-cache").assert_outcomes(passed=2)
    revoked = radix_env.issued_tokens[0]
    radix_env.queue("/export", FakeResponse(401, {"message": "revoked"}))
    result = pytester.runpytest(*INNER_ARGS, "--radix-token-cache")
    result.assert_outcomes(passed=2)
    assert radix_env.auth_count == 2
    (cached,) = (private_tmp.parent / "cache" / "pytest-radix").glob("token-*.json")
    assert revoked not in cached.read_text(encoding="utf-8")
    assert radix_env.issued_tokens[1] in cached.read_text(encoding="utf-8")


def test_recording_does_not_use_the_token_cache(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, private_tmp: Path
) -> None:
    pytester.makepyfile(SUITE.format(count=1))
    pytester.runpytest(*INNER_ARGS, "--radix-token-cache").assert_outcomes(passed=1)
    pytester.runpytest(*INNER_ARGS, "--radix-token-cache", "--radix-record-mode=all")
    assert radix_env.auth_count == 2


# ---------------------------------------------------------------------------------------------
# the token file and its lock


def _hold_lock(path: str, ready: multiprocessing.synchronize.Event) -> None:  # pragma: no cover
    with TokenFile(Path(path)).locked():
        ready.set()
        time.sleep(60)


def test_a_killed_lock_holder_does_not_hang_the_others(tmp_path: Path) -> None:
    store = TokenFile(tmp_path / "token.json", lock_timeout=10)
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_lock, args=(str(store.path), ready))
    holder.start()
    try:
        assert ready.wait(30)
        holder.kill()
        holder.join(10)
        with store.locked():  # the dead holder's lock went with its file descriptor
            store.save(RadixToken("opaque-token-1", 60.0))
        assert store.load() is not None
    finally:
        holder.kill()
        holder.join()


def test_a_lock_held_too_long_fails_naming_the_lock_file(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path / "token.json"), ready))
    holder.start()
    try:
        assert ready.wait(30)
        store = TokenFile(tmp_path / "token.json", lock_timeout=0.3)
        with pytest.raises(RadixTransportError, match="token.json.lock"), store.locked():
            pass  # pragma: no cover - the lock is never acquired
    finally:
        holder.kill()
        holder.join()


def test_token_file_round_trip_keeps_the_remaining_lifetime(tmp_path: Path) -> None:
    store = TokenFile(tmp_path / "dir" / "token.json")
    assert store.load() is None
    token = RadixToken("opaque-token-2", 100.0, {}, time.monotonic() - 40)
    store.save(token)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    loaded = store.load()
    assert loaded is not None and loaded.value == "opaque-token-2"
    assert 55 < loaded.remaining() <= 60
    store.path.write_text("{not json", encoding="utf-8")
    assert store.load() is None
    store.remove()
    store.remove()
    assert not store.path.exists()


def test_cache_file_lives_under_xdg_cache_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    one = cache_file("https://a.example", "id", "1.0.0").path
    assert one.parent == tmp_path / "pytest-radix"
    assert one != cache_file("https://b.example", "id", "1.0.0").path
    assert one != cache_file("https://a.example", "id", "2.0.0").path
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_file("https://a.example", "id", "1.0.0").path.parent == (
        Path.home() / ".cache" / "pytest-radix"
    )


@pytest.mark.parametrize("mode", ["once", "all"])
def test_a_cassette_shared_by_tests_on_several_workers_holds_all_their_requests(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, mode: str
) -> None:
    pytester.makepyfile(
        """
        import pytest

        import time

        @pytest.mark.radix_cassette("shared")
        @pytest.mark.parametrize("i", range(8))
        def test_export(radix_session, i):
            assert radix_session.get("/export", params={"i": i}).status_code == 200
            time.sleep(0.2)  # both workers hold the cassette before either saves it
        """
    )
    if mode == "all":  # an old file first: "all" must neither replay nor keep any of it
        pytester.runpytest_subprocess(*INNER_ARGS, "--radix-record-mode=once")
    before = len(radix_env.requests_to("/export"))
    result = pytester.runpytest_subprocess(*INNER_ARGS, "-n", "2", f"--radix-record-mode={mode}")
    result.assert_outcomes(passed=8)
    assert len(radix_env.requests_to("/export")) - before == 8
    shared = pytester.path / "tests" / "cassettes" / "shared.yaml"
    assert query_values(shared) == [str(i) for i in range(8)]
    radix_env.stop()
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET"):
        os.environ.pop(name)
    pytester.runpytest_subprocess(*INNER_ARGS, "-n", "2").assert_outcomes(passed=8)


SLOW_SAVE_CONFTEST = """
import time

import pytest_radix.cassettes

saving = pytest_radix.cassettes.RadixCassette.save


def slow_save(self, *args, **kwargs):
    saved = saving(self, *args, **kwargs)
    time.sleep(2)  # written, not yet marked as written this run: another worker looks now
    return saved


pytest_radix.cassettes.RadixCassette.save = slow_save
"""


def test_a_shared_cassette_being_saved_by_another_worker_is_added_to_not_refused(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """In ``once``, a worker meeting the shared cassette that another worker has just written
    (and not yet marked as written by this run) waits for that mark, then records into it."""
    pytester.makeconftest(SLOW_SAVE_CONFTEST)
    pytester.makepyfile(
        """
        import time
        from pathlib import Path

        import pytest

        @pytest.mark.xdist_group("first")
        @pytest.mark.radix_cassette("shared")
        def test_first(radix_session):
            assert radix_session.get("/export", params={"who": "first"}).ok

        @pytest.mark.xdist_group("second")
        @pytest.mark.radix_cassette("shared")
        def test_second(radix_session):
            shared = Path("tests/cassettes/shared.yaml")
            while not shared.exists():  # the first is saved, and for 2 s not yet marked
                time.sleep(0.05)
            assert radix_session.get("/export", params={"who": "second"}).ok
        """
    )
    args = (*INNER_ARGS, "-n", "2", "--dist", "loadgroup", "--radix-record-mode=once")
    pytester.runpytest_subprocess(*args, timeout=120).assert_outcomes(passed=2)
    shared = pytester.path / "tests" / "cassettes" / "shared.yaml"
    assert sorted(query_values(shared)) == ["first", "second"]


def test_refused_credentials_cost_one_request_for_all_workers(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADIX_CLIENT_SECRET", "sk_wrong-key-0123456789")
    pytester.makepyfile(SUITE.format(count=8))
    result = pytester.runpytest_subprocess(*INNER_ARGS, "-n", "2")
    outcomes = result.parseoutcomes()
    assert outcomes.get("errors", 0) + outcomes.get("failed", 0) == 8, outcomes
    assert radix_env.auth_count == 1
    assert "sk_wrong-key-0123456789" not in "\n".join(result.outlines + result.errlines)
    result.stdout.fnmatch_lines(["*RadixAuthError*401*"])
    result.stdout.fnmatch_lines(["radix: 1 authentication request, *"])  # not one per worker
