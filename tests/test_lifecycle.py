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
from helpers import cassette_dir, run
from test_cassettes import SUITE, SUITE_CASSETTES, make_suite, record

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
