"""The cassette lifecycle as a user's suite sees it: provenance, age, unused recordings, drift.

A suite is recorded against ``fake_radix``, then run again (replayed, re-recorded, pruned or
verified) after the cassettes or the server's answers changed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import cassette_dir, output, run
from test_cassettes import SUITE, SUITE_CASSETTES, forget_credentials, make_suite, record

import pytest_radix
from pytest_radix.testing import FakeRadixServer

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def radix_key(path: Path) -> dict[str, Any]:
    """The ``radix:`` key of a cassette file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    metadata: dict[str, Any] = data["radix"]
    return metadata


def set_recorded_at(path: Path, when: str | None) -> None:
    """Rewrite a cassette's ``recorded_at`` (``None``: remove it), as an old recording has."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if when is None:
        data["radix"].pop("recorded_at")
    else:
        data["radix"]["recorded_at"] = when
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def days_ago(days: float) -> str:
    """``recorded_at`` of a recording made ``days`` ago."""
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# provenance


def test_every_cassette_written_carries_its_provenance(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester)
    record(pytester).assert_outcomes(passed=3)
    directory = cassette_dir(pytester)
    for name in ("radix_auth.yaml", *SUITE_CASSETTES):
        metadata = radix_key(directory / name)
        assert STAMP.fullmatch(metadata["recorded_at"]), metadata
        assert metadata["plugin_version"] == pytest_radix.__version__
        assert "updated_at" not in metadata
        recorded = dt.datetime.strptime(metadata["recorded_at"], "%Y-%m-%dT%H:%M:%SZ")
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        assert abs((now - recorded).total_seconds()) < 120


def test_new_episodes_keeps_recorded_at_and_sets_updated_at(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester)
    record(pytester)
    export = cassette_dir(pytester) / SUITE_CASSETTES[0]
    page = cassette_dir(pytester) / SUITE_CASSETTES[1]
    set_recorded_at(export, "2020-01-02T03:04:05Z")
    set_recorded_at(page, "2020-01-02T03:04:05Z")
    make_suite(pytester, SUITE.replace('get("/export")', 'get("/export", params={"more": "1"})'))

    result = run(pytester, "--radix-record-mode=new_episodes")
    result.assert_outcomes(passed=3)
    metadata = radix_key(export)
    assert metadata["recorded_at"] == "2020-01-02T03:04:05Z"
    assert STAMP.fullmatch(metadata["updated_at"]) and metadata["updated_at"] > "2025"
    assert "updated_at" not in radix_key(page)  # replayed only: not written

    run(pytester, "--radix-record-mode=all").assert_outcomes(passed=3)
    metadata = radix_key(export)
    assert metadata["recorded_at"] > "2025" and "updated_at" not in metadata


# ---------------------------------------------------------------------------------------------
# age


def test_stale_cassettes_replay_and_the_summary_names_the_oldest(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester)
    record(pytester)
    directory = cassette_dir(pytester)
    set_recorded_at(directory / SUITE_CASSETTES[0], days_ago(40))
    set_recorded_at(directory / SUITE_CASSETTES[1], "2024-03-05T06:07:08Z")
    radix_env.stop()
    forget_credentials(monkeypatch)

    result = run(pytester, "--radix-max-age=30")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "radix: 2 stale cassettes (older than 30 days; oldest "
            f"{SUITE_CASSETTES[1]} recorded 2024-03-05)"
        ]
    )
    assert "radix: 1 stale cassette (older than 50 days;" in output(
        run(pytester, "--radix-max-age=50")
    )
    assert "stale cassette" not in output(run(pytester, "--radix-max-age=5000"))
    set_recorded_at(directory / "radix_auth.yaml", None)
    result = run(pytester, "--radix-max-age=50")
    result.stdout.fnmatch_lines(
        [
            "radix: 2 stale cassettes (older than 50 days; oldest radix_auth.yaml recorded on an "
            "unknown date)"
        ]
    )


@pytest.mark.parametrize("mode", ["once", "new_episodes"])
def test_stale_cassettes_are_recorded_again_when_recording_with_credentials(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, mode: str
) -> None:
    make_suite(pytester)
    record(pytester)
    directory = cassette_dir(pytester)
    old = days_ago(40)
    for name in ("radix_auth.yaml", SUITE_CASSETTES[0]):
        set_recorded_at(directory / name, old)
    kept = radix_key(directory / SUITE_CASSETTES[1])["recorded_at"]
    requests_before = len(radix_env.requests)

    result = run(pytester, f"--radix-record-mode={mode}", "--radix-max-age=30")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["radix: 1 authentication request, 2 cassettes replayed, 1 recorded"]
    )
    assert "stale" not in "\n".join(result.outlines[-3:])
    assert [r.path for r in radix_env.requests[requests_before:]] == ["/auth", "/export"]
    for name in ("radix_auth.yaml", SUITE_CASSETTES[0]):
        metadata = radix_key(directory / name)
        assert metadata["recorded_at"] > old and "updated_at" not in metadata, name
    assert radix_key(directory / SUITE_CASSETTES[1])["recorded_at"] == kept


def test_stale_cassettes_replay_in_once_without_credentials(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester)
    record(pytester)
    set_recorded_at(cassette_dir(pytester) / SUITE_CASSETTES[0], days_ago(40))
    radix_env.stop()
    forget_credentials(monkeypatch)
    result = run(pytester, "--radix-record-mode=once", "--radix-max-age=30")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["radix: 1 stale cassette (older than 30 days; *"])
