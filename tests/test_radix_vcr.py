"""``@pytest.mark.radix_vcr``: other HTTP clients' traffic in the test's cassette too."""

from __future__ import annotations

import os

import pytest
from helpers import INNER_ARGS, interactions, uris

from pytest_radix.testing import FakeRadixServer

SUITE = """
import os
import urllib.error
import urllib.request

import pytest
import requests

@pytest.mark.radix_vcr
def test_mixed(radix_session):
    assert radix_session.get("/export", params={"from": "radix"}).status_code == 200
    assert requests.get(os.environ["OTHER_URL"] + "/export?from=requests").status_code == 401
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(os.environ["OTHER_URL"] + "/nothing?from=urllib")

def test_unmarked(radix_session):
    assert radix_session.get("/export", params={"from": "unmarked"}).status_code == 200
"""


def test_other_clients_are_recorded_and_replayed_in_the_same_cassette(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTHER_URL", radix_env.url)
    pytester.makepyfile(test_api=SUITE)
    recorded = pytester.runpytest(*INNER_ARGS, "--radix-record-mode=once")
    recorded.assert_outcomes(passed=2)
    sent = [r.query for r in radix_env.requests if r.path != "/auth"]
    assert sorted(sent) == ["from=radix", "from=requests", "from=unmarked", "from=urllib"]

    cassette = pytester.path / "tests" / "cassettes" / "test_api" / "test_mixed.yaml"
    recorded = interactions(cassette)
    queries = sorted(
        i["request"]["uri"].split("?")[1] for i in recorded if "?" in i["request"]["uri"]
    )
    assert queries == ["from=radix", "from=requests", "from=urllib"]  # each exactly once
    assert all("Authorization" not in i["request"]["headers"] for i in recorded)
    # the run's /auth went out during this test, patched: it is in radix_auth.yaml only
    assert not [uri for uri in uris(cassette) if uri.endswith("/auth")]
    assert uris(cassette.parent.parent / "radix_auth.yaml") == [radix_env.url + "/auth"]

    radix_env.stop()
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    before = cassette.read_bytes()
    replayed = pytester.runpytest(*INNER_ARGS)
    replayed.assert_outcomes(passed=2)
    assert cassette.read_bytes() == before


def test_an_unrecorded_request_of_another_client_fails_in_replay(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTHER_URL", radix_env.url)
    pytester.makepyfile(
        test_api="""
        import os
        import pytest
        import requests

        @pytest.mark.radix_vcr
        def test_mixed(radix_session):
            assert radix_session.get("/export").status_code == 200
            if os.environ.get("EXTRA"):
                requests.get(os.environ["OTHER_URL"] + "/export?extra=1")
        """
    )
    pytester.runpytest(*INNER_ARGS, "--radix-record-mode=once").assert_outcomes(passed=1)
    count = len(radix_env.requests)
    monkeypatch.setenv("EXTRA", "1")
    for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    result = pytester.runpytest(*INNER_ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*extra=1*"])
    assert len(radix_env.requests) == count, "replay reached the network"
    assert os.environ["EXTRA"] == "1"


def test_a_radix_vcr_test_without_radix_fixtures_is_not_marked_radix(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTHER_URL", radix_env.url)
    pytester.makepyfile(
        test_api="""
        import os
        import pytest
        import requests

        @pytest.mark.radix_vcr
        @pytest.mark.parametrize("n", [1, 2])
        def test_other_client(n):
            assert requests.get(os.environ["OTHER_URL"] + f"/nothing?n={n}").status_code
        """
    )
    for mode in ("live", "once"):
        result = pytester.runpytest(*INNER_ARGS, f"--radix-record-mode={mode}", "-m", "not radix")
        result.assert_outcomes(passed=2)
    # the cassettes they recorded are in the summary although no test used a Radix fixture
    result.stdout.fnmatch_lines(
        ["radix: 0 authentication requests, 0 cassettes replayed, 2 recorded"]
    )
