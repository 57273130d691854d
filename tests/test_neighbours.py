"""pytest-radix in the same run as the plugins a user's suite already carries: each neighbour
is the real plugin from the test extra, loaded in the inner run by ``@pytest.mark.neighbours``.
"""

from __future__ import annotations

import pytest
from helpers import cassette_dir, interactions, output, run
from test_cassettes import forget_credentials, make_suite, summary

from pytest_radix.testing import FakeRadixServer

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
@pytest.mark.parametrize("how", ["--reruns", "flaky"])
def test_a_test_passing_on_its_rerun_saves_the_passing_attempts_cassette(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    flaky = "\n@pytest.mark.flaky(reruns=1)\ndef"
    source = FLAKY if how == "--reruns" else FLAKY.replace("\ndef", flaky)
    make_suite(pytester, "import pytest\n" + source)
    args = ["--reruns", "1"] if how == "--reruns" else []
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
