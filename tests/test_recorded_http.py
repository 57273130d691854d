"""HTTP beyond one plain GET, recorded and replayed: redirects to another origin, cookies,
HEAD and the query as sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from helpers import cassette_dir, interactions, output, run

from pytest_radix.testing import FakeRadixServer, FakeResponse


@pytest.fixture
def storage() -> Iterator[FakeRadixServer]:
    """A second origin, as the storage a presigned export URL points to (its own key, which
    its echo shows, shares no piece with the run's)."""
    with FakeRadixServer(client_secret="storage-own-key-0f9e8d7c6b5a") as server:
        yield server


def replay_offline(monkeypatch: pytest.MonkeyPatch, *servers: FakeRadixServer) -> None:
    """Stop the servers and forget the credentials: what follows can only replay."""
    for server in servers:
        server.stop()
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET"):
        monkeypatch.delenv(name)


def redirect_to_storage(
    monkeypatch: pytest.MonkeyPatch, radix: FakeRadixServer, storage: FakeRadixServer, query: str
) -> str:
    """The next ``/export`` answers 302 to ``storage`` (named in ``STORAGE_URL``); the hop's URL."""
    monkeypatch.setenv("STORAGE_URL", storage.url)
    location = storage.url + "/files/echo?" + query
    radix.queue("/export", FakeResponse(302, "", {"Location": location}))
    return location


REDIRECT_SUITE = """
import os

def test_export(radix_session):
    response = radix_session.get("/export")
    assert [r.status_code for r in response.history] == [302]
    assert response.url.startswith(os.environ["STORAGE_URL"])
    assert response.json()["records"] == [1, 2, 3]
"""


def test_every_hop_of_a_redirect_is_recorded_and_replay_stays_offline(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    storage: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    location = redirect_to_storage(monkeypatch, radix_env, storage, "form=json&signature=presigned")
    pytester.makepyfile(test_api=REDIRECT_SUITE)
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    (hop,) = storage.requests
    assert hop.header("Authorization") is None, "the bearer went to another origin"
    path = cassette_dir(pytester) / "test_api" / "test_export.yaml"
    recorded = [i["request"]["uri"] for i in interactions(path)]
    assert recorded == [radix_env.url + "/export", location]

    replay_offline(monkeypatch, radix_env, storage)
    run(pytester, "--radix-record-mode=none").assert_outcomes(passed=1)
    assert len(storage.requests) == 1 and len(radix_env.requests_to("/export")) == 1


def test_another_client_s_redirect_hops_are_recorded_under_radix_vcr(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    storage: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redirect_to_storage(monkeypatch, radix_env, storage, "form=json")
    pytester.makepyfile(
        test_api="""
        import os

        import pytest
        import requests

        @pytest.mark.radix_vcr
        def test_export():
            response = requests.get(os.environ["RADIX_BASE_URL"] + "/export")
            assert [r.status_code for r in response.history] == [302]
            assert response.json()["records"] == [1, 2, 3]
        """
    )
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    replay_offline(monkeypatch, radix_env, storage)
    run(pytester, "--radix-record-mode=none").assert_outcomes(passed=1)
    assert len(storage.requests) == 1 and len(radix_env.requests_to("/export")) == 1


def test_an_unrecorded_hop_fails_in_replay_naming_it(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    storage: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redirect_to_storage(monkeypatch, radix_env, storage, "form=json")
    pytester.makepyfile(test_api=REDIRECT_SUITE)
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    path = cassette_dir(pytester) / "test_api" / "test_export.yaml"
    document = yaml.safe_load(path.read_text("utf-8"))
    del document["interactions"][1]  # the hop to storage
    path.write_text(yaml.safe_dump(document), "utf-8")

    replay_offline(monkeypatch, radix_env, storage)
    result = run(pytester, "--radix-record-mode=none")
    result.assert_outcomes(failed=1)
    assert "GET /files/echo?form=json is not in cassette" in output(result)
    assert str(path) in output(result)
    assert len(storage.requests) == 1


COOKIE_SUITE = """
import os

import pytest
import requests

def test_session(radix_session):
    response = radix_session.get("/export")
    assert response.cookies["sid"] and radix_session.cookies["sid"] == response.cookies["sid"]
    replayed = radix_session.cookies["sid"] == "scrubbed-by-pytest-radix"
    assert replayed == (os.environ["MODE"] == "none")

@pytest.mark.radix_vcr
def test_other_client():
    http = requests.Session()
    http.get(os.environ["RADIX_BASE_URL"] + "/echo?form=json")
    assert http.cookies["pref"]
"""


def test_set_cookie_keeps_the_cookie_with_a_placeholder_value(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookie = "sid=live-session-cookie-7f1e; Path=/; HttpOnly"
    radix_env.queue("/export", FakeResponse(200, [], {"Set-Cookie": cookie}))
    radix_env.queue("/echo", FakeResponse(200, {}, {"Set-Cookie": "pref=live-pref-cookie-3c2d"}))
    pytester.makepyfile(test_api=COOKIE_SUITE)
    monkeypatch.setenv("MODE", "once")
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=2)
    directory = cassette_dir(pytester) / "test_api"
    (session,) = interactions(directory / "test_session.yaml")
    assert session["response"]["headers"]["Set-Cookie"] == [
        "sid=scrubbed-by-pytest-radix; Path=/; HttpOnly"
    ]
    (other,) = interactions(directory / "test_other_client.yaml")
    assert other["response"]["headers"]["Set-Cookie"] == ["pref=scrubbed-by-pytest-radix"]
    for path in directory.iterdir():
        assert "live-" not in path.read_text("utf-8")

    replay_offline(monkeypatch, radix_env)
    monkeypatch.setenv("MODE", "none")
    run(pytester, "--radix-record-mode=none").assert_outcomes(passed=2)


def test_head_replays_the_recorded_content_length(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_api="""
        import os
        from pathlib import Path

        def test_head(radix_session):
            response = radix_session.head("/export")
            assert response.status_code == 200 and response.content == b""
            Path(os.environ["OUT"]).write_text(response.headers["Content-Length"])
        """
    )
    out = pytester.path / "length.txt"
    monkeypatch.setenv("OUT", str(out))
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    live = out.read_text()
    assert int(live) > 100
    replay_offline(monkeypatch, radix_env)
    run(pytester, "--radix-record-mode=none").assert_outcomes(passed=1)
    assert out.read_text() == live


@pytest.mark.parametrize(
    ("replayed", "matches"),
    [
        ("sort=a&sort=b&blank=", True),
        ("blank=&sort=a&sort=b", True),  # other keys may come in any order
        ("sort=b&sort=a&blank=", False),  # a repeated key's values keep their order
        ("sort=a&sort=b", False),  # a blank value is a value
    ],
)
def test_the_query_matches_as_recorded(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    replayed: str,
    matches: bool,
) -> None:
    pytester.makepyfile(
        test_api="""
        import os

        def test_query(radix_session):
            assert radix_session.get("/export?" + os.environ["QUERY"]).status_code == 200
        """
    )
    monkeypatch.setenv("QUERY", "sort=a&sort=b&blank=")
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    replay_offline(monkeypatch, radix_env)
    monkeypatch.setenv("QUERY", replayed)
    result = run(pytester, "--radix-record-mode=none")
    result.assert_outcomes(**{"passed" if matches else "failed": 1})
    if not matches:
        assert f"GET /export?{replayed} is not in cassette" in output(result)


@pytest.mark.parametrize("mode", ["once", "new_episodes", "all"])
def test_radix_token_is_live_while_recording(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    """Recording with ``radix_auth.yaml`` recorded: a new test that sends the token with
    another client gets a live one (the replayed look-alike would be refused with 401)."""
    pytester.makepyfile(
        test_first="def test_first(radix_session):\n    radix_session.get('/export')\n"
    )
    run(pytester, "--radix-record-mode=once").assert_outcomes(passed=1)
    assert (cassette_dir(pytester) / "radix_auth.yaml").exists()
    pytester.makepyfile(
        test_other="""
        import os

        import pytest
        import requests

        @pytest.mark.radix_vcr
        def test_other_client(radix_token):
            response = requests.get(
                os.environ["RADIX_BASE_URL"] + "/export",
                headers={"Authorization": f"Bearer {radix_token}", "x-radix-version": "1.0.0"},
            )
            assert response.status_code == 200
        """
    )
    run(pytester, f"--radix-record-mode={mode}").assert_outcomes(passed=2)
    assert radix_env.auth_count == 2
    replay_offline(monkeypatch, radix_env)
    run(pytester, "--radix-record-mode=none").assert_outcomes(passed=2)


EVENTS = [b"event: %d\n\n" % n for n in range(1, 6)]

STREAM_SUITE = """
def test_first_two_events(radix_session):
    with radix_session.get("/events", stream=True) as response:
        events = response.iter_lines()
        assert [next(events), next(events), next(events)] == [b"event: 1", b"", b"event: 2"]

def test_raw(radix_session):
    with radix_session.get("/events", stream=True) as response:
        assert response.raw.read(10) == b"event: 1\\n\\n"
"""


def test_a_streamed_response_reaches_the_test_as_sent_and_what_it_read_is_recorded(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server sends events and then never ends the body: a test that reads two events and
    closes can only pass when nothing waits for the end of the body."""
    pytester.makepyfile(test_api=STREAM_SUITE)
    for _ in range(2):
        radix_env.queue("/events", FakeResponse(200, chunks=EVENTS, chunk_delay=0.05, hang=True))
    run(pytester, "--radix-record-mode=once", "--radix-timeout=3").assert_outcomes(passed=2)
    directory = cassette_dir(pytester) / "test_api"
    (two,) = interactions(directory / "test_first_two_events.yaml")
    assert two["response"]["body"]["string"].startswith("event: 1\n\nevent: 2\n\n")
    assert "event: 5" not in two["response"]["body"]["string"], "more than the test read"
    (raw,) = interactions(directory / "test_raw.yaml")
    assert raw["response"]["body"]["string"] == "event: 1\n\n"

    replay_offline(monkeypatch, radix_env)
    run(pytester, "--radix-record-mode=none").assert_outcomes(passed=2)
