"""Faults, round two: files that cannot be written, bad cassette names, a server that never
answers, a token cache in a bad state, YAML alias bombs, temp files left by killed writers, and
a recorded ``/auth`` error."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from helpers import cassette_dir, output, run

from pytest_radix.cassettes import save_cassette_file
from pytest_radix.errors import RadixCassetteError, RadixTransportError
from pytest_radix.sharing import LOCK_TIMEOUT, TokenFile, cache_directory, lock_wait
from pytest_radix.testing import FakeRadixServer, FakeResponse

RECORDING_SUITE = """
import pytest

@pytest.mark.radix_cassette("blocked/lost")
def test_lost(radix_session):
    assert radix_session.get("/export").status_code == 200

def test_saved(radix_session):
    assert radix_session.get("/export").status_code == 200

def test_plain():
    pass
"""


# -- a cassette that cannot be written ---------------------------------------------------------


def test_a_cassette_that_cannot_be_written_fails_its_test_and_the_run_goes_on(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    cassettes = cassette_dir(pytester)
    cassettes.mkdir(parents=True)
    (cassettes / "blocked").write_text("a file where the cassette's directory should be\n")
    pytester.makepyfile(test_api=RECORDING_SUITE)
    result = run(pytester, "--radix-record-mode=all", "-rA")  # (all: nothing is read first)
    text = output(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, text
    assert "INTERNALERROR" not in text
    result.assert_outcomes(passed=3, errors=1)  # test_lost passed, then its teardown failed
    lost = cassettes / "blocked" / "lost.yaml"
    # (pytest 8.0's short summary has no message: the error section shows it.)
    result.stdout.fnmatch_lines(
        [
            f"*RadixCassetteError: cassette {lost} could not be written: ?Errno *] *; the "
            "previous file, if any, is unchanged",
            "ERROR test_api.py::test_lost*",
        ]
    )
    assert (cassettes / "test_api" / "test_saved.yaml").is_file()


def test_a_cassette_over_the_file_size_limit_fails_its_test(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """``ulimit -f``: the write fails with EFBIG (Python ignores SIGXFSZ)."""
    radix_env.records = 400  # an /export body far over the limit; radix_auth.yaml is under it
    pytester.makepyfile(
        test_api="""
        def test_big(radix_session):
            assert radix_session.get("/export").status_code == 200

        def test_plain():
            pass
        """
    )
    command = f'ulimit -f 8 && exec "{sys.executable}" -m pytest -p no:cacheprovider -rA '
    command += "--radix-record-mode=once"
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
    )
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    assert "INTERNALERROR" not in text
    assert "2 passed, 1 error" in text  # test_big passed, then its teardown failed
    big = cassette_dir(pytester) / "test_api" / "test_big.yaml"
    assert f"cassette {big} could not be written: [Errno 27] File too large" in text
    assert (cassette_dir(pytester) / "radix_auth.yaml").is_file()
    assert not big.exists()
    assert not list(big.parent.glob(".*.tmp"))


@pytest.mark.parametrize("workers", [0, 2], ids=["in-process", "xdist-n2"])
def test_an_auth_cassette_that_cannot_be_written_is_one_clear_error_and_one_auth(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, workers: int
) -> None:
    blocked = pytester.path / "blocked"
    blocked.write_text("a file where the cassette dir should be\n")
    pytester.makepyfile(
        test_api="".join(
            f"def test_{n}(radix_session):\n    radix_session.get('/export')\n\n" for n in range(5)
        )
    )
    args = ["--radix-record-mode=once", f"--radix-cassette-dir={blocked}/c"]
    if workers:
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-n", str(workers), *args, timeout=120
        )
    else:
        result = run(pytester, *args)
    text = output(result)
    outcomes = result.parseoutcomes()
    assert outcomes.get("errors", 0) + outcomes.get("failed", 0) == 5, text
    auth = blocked / "c" / "radix_auth.yaml"
    assert text.count(f"RadixCassetteError: cassette {auth} could not be written: [Errno ") >= 5
    assert "/auth is not sent again in this run" in text
    assert "OSError" not in text and "INTERNALERROR" not in text
    assert radix_env.auth_count == 1
    result.stdout.fnmatch_lines(
        ["radix: 1 authentication request, 0 cassettes replayed, 0 recorded*"]
    )


# -- names a radix_cassette marker may not give -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("radix_auth", "radix_auth.yaml is the run's authentication cassette; choose another name"),
        ("radix_auth.yaml", "radix_auth.yaml is the run's authentication cassette"),
        ("/", "the name is absolute"),
        (".yaml", "the name names no file"),
        ("//", "the name is absolute"),
        ("a//", "the name"),
        ("/tmp/elsewhere", "the name is absolute; give a path relative to the cassette dir"),
    ],
)
def test_a_bad_cassette_name_is_refused_clearly(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, name: str, problem: str
) -> None:
    pytester.makepyfile(
        test_api=f"""
        import pytest

        @pytest.mark.radix_cassette({name!r})
        def test_named(radix_session):
            radix_session.get("/export")
        """
    )
    result = run(pytester, "--radix-record-mode=all", "-rA")
    text = output(result)
    if name == "a//":  # a trailing slash is harmless: the cassette is a.yaml
        result.assert_outcomes(passed=1)
        assert (cassette_dir(pytester) / "a.yaml").is_file()
        return
    result.assert_outcomes(errors=1)
    assert f"@pytest.mark.radix_cassette({name!r}) on test_api.py::test_named: {problem}" in text
    assert "IndexError" not in text
    assert radix_env.requests_to("/export") == []
    assert not (cassette_dir(pytester) / "radix_auth.yaml").exists() or name != "radix_auth"


# -- a recorded /auth failure, replayed -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "why"),
    [
        ("500", "Internal Server Error", "failing"),
        ("401", "Unauthorized", "refusing the credentials"),
    ],
)
def test_a_recorded_auth_failure_replays_as_a_cassette_error_not_a_network_one(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    status: str,
    reason: str,
    why: str,
) -> None:
    """pytest-radix writes no failed /auth, but a hand-edited or older cassette may hold one."""
    pytester.makepyfile(
        test_api="def test_export(radix_session):\n    radix_session.get('/export')\n"
    )
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    auth = cassette_dir(pytester) / "radix_auth.yaml"
    text = auth.read_text(encoding="utf-8").replace("code: 200", f"code: {status}")
    auth.write_text(text.replace("message: OK", f"message: {reason}"), "utf-8")
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET", "RADIX_BASE_URL"):
        monkeypatch.delenv(name)
    result = run(pytester, "-rA")
    text = output(result)
    assert f"the authentication cassette {auth} holds an /auth answer {status} " in text
    assert f"recorded while the server was {why}; nothing was sent now. Delete it" in text
    assert "on every attempt" not in text and "POST https://api.radix.com/auth" not in text


# -- temp files of killed writers ------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_save_removes_the_temp_files_of_dead_writers_only(tmp_path: Path) -> None:
    from vcr.request import Request

    path = tmp_path / "test_export.yaml"
    dead = tmp_path / f".{path.name}.{dead_pid()}.k2j4h.tmp"
    live = tmp_path / f".{path.name}.{os.getpid()}.p9x8c.tmp"  # a writer still at work
    other = tmp_path / f".other.yaml.{dead_pid()}.a1b2c.tmp"  # another cassette's: not ours
    for temp in (dead, live, other):
        temp.write_text("half a cassette")
    request = Request("GET", "http://127.0.0.1:9/export", None, {})
    response = {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": "[]"}}
    save_cassette_file(path, [(request, response)], {"api_version": "1.0.0"})
    assert path.is_file()
    assert not dead.exists()
    assert live.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, live.name, other.name])


def test_a_recording_run_removes_the_temp_files_of_dead_writers_in_the_cassette_dir(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """Even beside a cassette that is never written again."""
    old = cassette_dir(pytester) / "test_old"
    old.mkdir(parents=True)
    dead = old / f".test_gone.yaml.{dead_pid()}.q1w2e3r4.tmp"
    live = old / f".test_gone.yaml.{os.getpid()}.a9s8d7f6.tmp"
    unrelated = old / ".notes.tmp"  # not named like pytest-radix's temp files
    for temp in (dead, live, unrelated):
        temp.write_text("half a cassette")
    pytester.makepyfile(test_api=CACHE_SUITE)
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    assert not dead.exists()
    assert live.exists() and unrelated.exists()


# -- a server that accepts and never answers -----------------------------------------------------


@pytest.mark.parametrize("workers", [0, 3], ids=["in-process", "xdist-n3"])
def test_a_dead_server_costs_one_auth_for_the_whole_run(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    """Once ``/auth`` went unanswered, no other test (nor xdist worker) waits for it again."""
    radix_env.queue("/auth", *[FakeResponse(hang=True)] * 40)
    monkeypatch.setenv("RADIX_TIMEOUT", "0.5")
    pytester.makepyfile(
        test_api="".join(
            f"def test_{n}(radix_session):\n    radix_session.get('/export')\n\n" for n in range(6)
        )
    )
    if workers:
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-n", str(workers), "-rf", timeout=120
        )
    else:
        result = run(pytester, "-rf")
    text = output(result)
    result.assert_outcomes(failed=6)
    assert len(radix_env.requests_to("/auth")) == 4  # one request: its four attempts
    assert text.count("/auth failed: no answer within 0.5 s per attempt") >= 6
    assert "/auth is not sent again in this run" in text
    result.stdout.fnmatch_lines(["radix: 1 authentication request, *"])


@pytest.mark.parametrize("workers", [0, 2], ids=["in-process", "xdist-n2"])
def test_a_server_that_stops_answering_costs_one_request_per_process(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    """``/auth`` answers, then ``/export`` never does: once a request went unanswered on every
    attempt, the other tests fail at once instead of each waiting as long."""
    radix_env.queue("/export", *[FakeResponse(hang=True)] * 40)
    monkeypatch.setenv("RADIX_TIMEOUT", "0.5")
    pytester.makepyfile(
        test_api="".join(
            f"def test_{n}(radix_session):\n    radix_session.get('/export')\n\n" for n in range(6)
        )
    )
    args = ("-p", "no:cacheprovider", "-rf", "-p", "no:randomly")
    if workers:
        result = pytester.runpytest_subprocess(*args, "-n", str(workers), timeout=120)
    else:
        result = run(pytester, *args)
    text = output(result)
    result.assert_outcomes(failed=6)
    assert len(radix_env.requests_to("/export")) == 4 * max(workers, 1)  # each process: one
    assert text.count("/export failed: no answer within 0.5 s per attempt") >= max(workers, 1)
    not_sent = "/export was not sent: GET http://127.0.0.1:*/export got no answer on any attempt"
    result.stdout.fnmatch_lines([f"*{not_sent}*"])
    assert text.count("/export was not sent: ") >= 6 - max(workers, 1)
    result.stdout.fnmatch_lines(["radix: 1 authentication request, *"])


def test_the_lock_timeout_message_does_not_say_to_delete_a_live_lock(tmp_path: Path) -> None:
    import filelock

    store = TokenFile(tmp_path / "token.json", lock_timeout=0.2)
    holder = filelock.FileLock(str(store.lock_path))  # another holder, alive
    with holder, pytest.raises(RadixTransportError) as info, store.locked():
        pass  # pragma: no cover - the lock is never acquired
    message = str(info.value)
    assert str(store.lock_path) in message
    assert "Do not delete the lock: a process that ends releases it" in message
    assert "if none is running, delete" not in message


def test_the_token_lock_waits_as_long_as_one_auth_can_take() -> None:
    """Every attempt of one /auth, each after the longest Retry-After honoured: a live holder
    is never taken for a dead one."""
    assert lock_wait(30.0) == 4 * (30.0 + 60.0)
    assert lock_wait(300.0) == 4 * (300.0 + 60.0) > LOCK_TIMEOUT


# -- the token cache in a bad state ------------------------------------------------------------

CACHE_SUITE = """
def test_export(radix_session):
    assert radix_session.get("/export").status_code == 200
"""
SHOW_WARNINGS = ("-W", "default::pytest_radix.RadixWarning", "-rw")


def cached_run(pytester: pytest.Pytester) -> pytest.RunResult:
    pytester.makepyfile(test_api=CACHE_SUITE)
    return run(pytester, "--radix-token-cache", *SHOW_WARNINGS)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME, and no XDG_CACHE_HOME: the cache is ``<home>/.cache/pytest-radix``."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    return home


def cached_tokens(home: Path) -> list[Path]:
    return sorted((home / ".cache" / "pytest-radix").glob("token-*.json"))


@pytest.mark.parametrize("value", [".cache", "~/.cache", "cache/../.cache"])
def test_a_relative_xdg_cache_home_is_ignored(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    home: Path,
    value: str,
) -> None:
    """The XDG rules say to ignore a relative value: it would put the live token in the
    project tree, where ``git add`` picks it up."""
    monkeypatch.setenv("XDG_CACHE_HOME", value)
    assert cache_directory() == home / ".cache" / "pytest-radix"
    cached_run(pytester).assert_outcomes(passed=1)
    assert len(cached_tokens(home)) == 1
    assert not [p for p in pytester.path.rglob("*") if "token-" in p.name]


def test_a_cached_lifetime_too_long_for_a_clock_is_ignored(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, home: Path
) -> None:
    cached_run(pytester).assert_outcomes(passed=1)
    (path,) = cached_tokens(home)
    document = json.loads(path.read_text(encoding="utf-8"))
    for lifetime in ("1e999", "1e300", "NaN"):
        text = json.dumps({**document, "lifetime": "LIFETIME"}).replace('"LIFETIME"', lifetime)
        path.write_text(text, encoding="utf-8")
        result = cached_run(pytester)
        result.assert_outcomes(passed=1)
        assert "OverflowError" not in output(result)
    assert radix_env.auth_count == 4  # the bad entries were not used, and were replaced


def other_user(path: Path) -> None:
    os.chown(path, 65534, 65534)


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        (lambda token: token.chmod(0o644), "can be read by others (mode 0644); run: chmod 600"),
        (lambda token: token.parent.chmod(0o777), "can be written by others (mode 0777)"),
        (other_user, "belongs to another user (uid 65534); delete it"),
    ],
    ids=["file-0644", "dir-0777", "file-of-another-user"],
)
def test_an_unsafe_token_cache_is_refused_and_not_used(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    home: Path,
    spoil: Callable[[Path], None],
    problem: str,
) -> None:
    if spoil is other_user and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    cached_run(pytester).assert_outcomes(passed=1)
    (path,) = cached_tokens(home)
    spoil(path)
    before = path.read_bytes()
    result = cached_run(pytester)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*RadixWarning: pytest-radix: the token cache is not used: *"])
    assert problem in output(result)
    assert radix_env.auth_count == 2  # the cached token was not taken
    assert path.read_bytes() == before  # nor was the new one written there


def test_an_unwritable_home_runs_without_the_token_cache(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    not_a_dir = tmp_path / "home-is-a-file"
    not_a_dir.write_text("")
    monkeypatch.setenv("HOME", str(not_a_dir))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    result = cached_run(pytester)
    result.assert_outcomes(passed=1, warnings=1)
    assert f"the token cache is not used: {not_a_dir}/.cache/pytest-radix cannot be made: " in (
        output(result)
    )
    assert radix_env.auth_count == 1


@contextlib.contextmanager
def unwritable(directory: Path) -> Iterator[None]:
    """``directory`` cannot be written while in the block: mode 0500, or for root (whom modes do
    not stop) the immutable attribute."""
    if os.geteuid() != 0:
        directory.chmod(0o500)
        try:
            yield
        finally:
            directory.chmod(0o700)
        return
    if shutil.which("chattr") is None:
        pytest.skip("as root, only chattr +i (not installed) makes a directory unwritable")
    subprocess.run(["chattr", "+i", str(directory)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=True)


def test_a_token_cache_directory_that_cannot_be_written_is_not_used(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, home: Path
) -> None:
    cached_run(pytester).assert_outcomes(passed=1)
    (path,) = cached_tokens(home)
    with unwritable(path.parent):
        result = cached_run(pytester)
    result.assert_outcomes(passed=1, warnings=1)
    assert f"the token cache is not used: {path.parent} cannot be written" in output(result)
    assert radix_env.auth_count == 2


def test_a_token_cache_whose_lock_cannot_be_made_is_dropped_with_a_warning(
    tmp_path: Path,
) -> None:
    from pytest_radix import RadixToken, RadixWarning
    from pytest_radix.auth import needs_renewal
    from pytest_radix.sharing import SharedTokenSource

    cache = TokenFile(tmp_path / "cache" / "token.json", source="cache")
    cache.lock_path.mkdir(parents=True)  # a directory where the lock file goes
    source = SharedTokenSource(
        lambda: RadixToken("opaque-token-uncached", 600.0), [cache], needs_renewal
    )
    with pytest.warns(RadixWarning, match=r"token cache .*token.json cannot be written .*Errno"):
        token = source.fetch()
    assert token.value == "opaque-token-uncached" and source.stores == []
    source.discard(token.value)  # no store left to drop it from: no error either


# -- YAML alias bombs ---------------------------------------------------------------------------

BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *(
            f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]"
            for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "interactions: [*i]",
        "version: 1",
        "",
    ]
)
"""A 1 KB cassette whose aliases expand to 9⁹ (387 million) strings."""

LONG_STRING_BOMB = "\n".join(
    [
        f'a: &a "{"x" * 20_000}"',
        *(
            f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]"
            for previous, name in zip("abcd", "bcde", strict=True)
        ),
        "interactions:",
        "- request: {method: GET, uri: 'http://127.0.0.1:9/export', body: null, headers: {}}",
        "  response:",
        "    status: {code: 200, message: OK}",
        "    headers: {X-Junk: *e}",
        "    body: {string: '[]'}",
        "version: 1",
        "",
    ]
)
"""A 20 KB cassette of few nodes (66 thousand once expanded) whose aliases repeat one string
into 1.2 GB."""

BOMBS = pytest.mark.parametrize(
    "bomb_text", [BILLION_LAUGHS, LONG_STRING_BOMB], ids=["many-nodes", "long-string"]
)


def limited(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``command`` under bash with 1.5 GB of address space (a bomb would need far more)."""
    return subprocess.run(
        ["bash", "-c", f"ulimit -v 1500000 && exec {command}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
    )


@BOMBS
def test_an_alias_bomb_cassette_is_refused_naming_it(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    bomb_text: str,
) -> None:
    pytester.makepyfile(test_api=CACHE_SUITE)
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    bomb = cassette_dir(pytester) / "test_api" / "test_export.yaml"
    bomb.write_text(bomb_text, encoding="utf-8")
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    done = limited(f'"{sys.executable}" -m pytest -p no:cacheprovider -rf', pytester.path)
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    refused = f"RadixCassetteError: cassette {bomb} is refused: its YAML aliases expand it more"
    assert refused in text
    assert "MemoryError" not in text
    assert bomb.read_text(encoding="utf-8") == bomb_text  # left as it was


@BOMBS
def test_audit_refuses_an_alias_bomb_naming_it(tmp_path: Path, bomb_text: str) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(bomb_text, encoding="utf-8")
    done = limited(f'"{sys.executable}" -m pytest_radix audit {bomb}', tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{bomb}:0: refused, not audited: its YAML aliases expand it more than" in done.stdout
    assert "MemoryError" not in done.stderr
    assert done.stdout.endswith("pytest-radix audit: 1 file(s) refused in 1 file(s)\n")


def test_a_self_containing_alias_is_refused_and_small_aliases_are_not(tmp_path: Path) -> None:
    from pytest_radix.cassettes import load_cassette_file

    loop = tmp_path / "loop.yaml"
    loop.write_text("interactions: &x [*x]\nversion: 1\n", encoding="utf-8")
    with pytest.raises(RadixCassetteError, match="aliases make it contain itself"):
        load_cassette_file(loop)
    headers = {"Content-Type": ["application/json"]}
    interaction = {
        "request": {
            "method": "GET",
            "uri": "http://127.0.0.1:9/export",
            "body": None,
            "headers": headers,
        },
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": headers,
            "body": {"string": "[]"},
        },
    }
    shared = tmp_path / "shared.yaml"  # PyYAML writes an alias for the shared headers
    shared.write_text(yaml.dump({"interactions": [interaction, interaction], "version": 1}))
    assert "*id" in shared.read_text()
    assert len(load_cassette_file(shared)[0]) == 2


def test_a_token_cache_that_cannot_be_written_is_dropped_with_a_warning(tmp_path: Path) -> None:
    from pytest_radix import RadixToken, RadixWarning
    from pytest_radix.auth import needs_renewal
    from pytest_radix.sharing import SharedTokenSource

    (tmp_path / "not-a-dir").write_text("")
    handover = TokenFile(tmp_path / "handover" / "token.json")
    cache = TokenFile(tmp_path / "not-a-dir" / "token.json", source="cache")
    fetched: list[RadixToken] = []

    def fetch() -> RadixToken:
        fetched.append(RadixToken("opaque-token-for-the-cache", 600.0))
        return fetched[-1]

    source = SharedTokenSource(fetch, [handover, cache], needs_renewal)
    with pytest.warns(RadixWarning, match=r"token cache .*token.json cannot be written .*Errno"):
        token = source.fetch()
    assert token is fetched[0] and source.stores == [handover]
    assert handover.load() is not None
    assert source.fetch().value == token.value and len(fetched) == 1  # handed over, no new /auth
