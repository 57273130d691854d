"""The cassette lifecycle as a user's suite sees it: provenance, age, unused recordings, drift.

A suite is recorded against ``fake_radix``, then run again (replayed, re-recorded, pruned or
verified) after the cassettes or the server's answers changed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import INNER_ARGS, cassette_dir, interactions, output, run
from test_cassettes import (
    CORRUPT,
    SUITE,
    SUITE_CASSETTES,
    forget_credentials,
    make_suite,
    record,
    snapshot,
)

import pytest_radix
from pytest_radix.scrubbing import PLACEHOLDER
from pytest_radix.testing import FakeRadixServer, FakeResponse, benchmark_records

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


def summary_lines(result: pytest.RunResult) -> list[str]:
    """The ``radix:`` lines of the end summary (the header's hold ``=``)."""
    return [line for line in result.outlines if line.startswith("radix:") and "=" not in line]


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
    assert len(summary_lines(run(pytester, "--radix-max-age=5000"))) == 1
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
    assert summary_lines(result) == [
        "radix: 1 authentication request, 2 cassettes replayed, 1 recorded"
    ]
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


# ---------------------------------------------------------------------------------------------
# unused recordings

TWO_REQUESTS = SUITE.replace(
    'response = radix_session.get("/export")',
    'radix_session.get("/export", params={"also": "1"})\n'
    '    response = radix_session.get("/export")',
)
"""The suite, its first test making one more request (recorded, later no longer made)."""
ORPHAN = "test_gone/test_deleted.yaml"
FOREIGN = {
    "other_plugin/test_x.yaml": "interactions: []\nversion: 1\n",
    "README.yaml": "note: not a cassette\n",
}


def orphaned_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A recorded suite, replayed offline, with one cassette no test uses any more, one request
    no longer made, and YAML files that are not pytest-radix cassettes."""
    make_suite(pytester, TWO_REQUESTS)
    record(pytester).assert_outcomes(passed=3)
    make_suite(pytester)
    directory = cassette_dir(pytester)
    (directory / ORPHAN).parent.mkdir(parents=True)
    (directory / ORPHAN).write_bytes((directory / SUITE_CASSETTES[1]).read_bytes())
    for name, text in FOREIGN.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")
    forget_credentials(monkeypatch)
    return directory


def test_unused_cassettes_and_requests_are_reported_then_pruned(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = orphaned_suite(pytester, monkeypatch)
    radix_env.stop()
    result = run(pytester)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "radix: 1 unused cassette, 1 recorded request never replayed "
            "(--radix-prune removes them)",
            f"radix:   unused {ORPHAN}",
            f"radix:   {SUITE_CASSETTES[0]}: 1 never replayed",
        ]
    )
    assert (directory / ORPHAN).exists()

    result = run(pytester, "--radix-prune")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["radix: pruned 1 unused cassette, 1 recorded request never replayed"]
    )
    assert not (directory / ORPHAN).parent.exists()
    assert [i["request"]["uri"] for i in interactions(directory / SUITE_CASSETTES[0])] == [
        f"{radix_env.url}/export"
    ]
    for name, text in FOREIGN.items():
        assert (directory / name).read_text(encoding="utf-8") == text

    again = run(pytester, "--radix-prune")
    again.assert_outcomes(passed=3)
    assert summary_lines(again) == [
        "radix: 0 authentication requests, 3 cassettes replayed, 0 recorded"
    ]


def test_a_used_file_without_the_radix_key_is_never_pruned(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = orphaned_suite(pytester, monkeypatch)
    radix_env.stop()
    foreign = directory / SUITE_CASSETTES[0]
    data = yaml.safe_load(foreign.read_text(encoding="utf-8"))
    del data["radix"]
    foreign.write_text(yaml.safe_dump(data), encoding="utf-8")
    before = foreign.read_bytes()
    result = run(pytester, "--radix-prune")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["radix: pruned 1 unused cassette, 0 recorded requests never replayed"]
    )
    assert foreign.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["-k", "export"], "the run was narrowed (-k)"),
        (["-m", "radix"], "the run was narrowed (-m)"),
        (["--deselect", "tests/test_api.py::test_export"], "the run was narrowed (--deselect)"),
        (["tests/test_api.py::test_export"], "the run was narrowed (node ids)"),
        (["tests/test_api.py"], "the run was narrowed (paths)"),
        (["--fail-one"], "1 Radix test did not pass"),
        (["--fail-one", "-x"], "the run was stopped (-x, --maxfail or an interrupt)"),
        (["--deselect-one"], "the run was narrowed (deselected tests)"),
        (
            ["--continue-on-collection-errors", "tests/test_broken.py", "tests/test_api.py"],
            "a collection error",
        ),
    ],
)
def test_a_partial_or_failing_run_prunes_nothing_and_says_why(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    why: str,
) -> None:
    directory = orphaned_suite(pytester, monkeypatch)
    radix_env.stop()
    pytester.makeconftest(
        """
        import pytest

        def pytest_addoption(parser):
            parser.addoption("--fail-one", action="store_true")
            parser.addoption("--deselect-one", action="store_true")

        def pytest_collection_modifyitems(config, items):
            if config.getoption("--deselect-one"):
                config.hook.pytest_deselected(items=items[:1])
                del items[:1]

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_call(item):
            if item.config.getoption("--fail-one") and item.name == "test_export":
                raise AssertionError("failing on purpose")
        """
    )
    if "tests/test_broken.py" in args:  # the configured paths given: not narrowed
        (pytester.path / "tests" / "test_broken.py").write_text("def f(:\n", encoding="utf-8")
        pytester.makeini("[pytest]\ntestpaths = tests/test_broken.py tests/test_api.py\n")
    before = snapshot(directory)
    result = run(pytester, "--radix-prune", *args)
    result.stdout.fnmatch_lines([f"radix: --radix-prune removed nothing: {why}"])
    assert snapshot(directory) == before


XDIST_SUITE = """
import pytest

@pytest.mark.radix_cassette("shared")
def test_first(radix_session):
    assert radix_session.get("/export", params={"n": "1"}).status_code == 200

@pytest.mark.radix_cassette("shared")
def test_second(radix_session):
    assert radix_session.get("/export", params={"n": "2"}).status_code == 200

@pytest.mark.parametrize("n", range(4))
def test_own(radix_session, n):
    assert radix_session.get("/export", params={"own": str(n)}).status_code == 200
"""


def test_under_xdist_the_controller_decides_from_every_workers_usage(
    pytester: pytest.Pytester, radix_env: FakeRadixServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester, XDIST_SUITE)
    record(pytester).assert_outcomes(passed=6)
    directory = cassette_dir(pytester)
    (directory / ORPHAN).parent.mkdir(parents=True)
    (directory / ORPHAN).write_bytes((directory / "shared.yaml").read_bytes())
    set_recorded_at(directory / "shared.yaml", days_ago(10))
    radix_env.stop()
    forget_credentials(monkeypatch)

    result = pytester.runpytest_subprocess(
        *INNER_ARGS, "-n", "2", "--radix-prune", "--radix-max-age=5", timeout=120
    )
    result.assert_outcomes(passed=6)
    assert summary_lines(result) == [
        "radix: 1 stale cassette (older than 5 days; oldest shared.yaml recorded "
        f"{days_ago(10)[:10]})",
        "radix: pruned 1 unused cassette, 0 recorded requests never replayed",
        "radix: 0 authentication requests, 6 cassettes replayed, 0 recorded",
    ]
    assert not (directory / ORPHAN).exists()
    assert len(interactions(directory / "shared.yaml")) == 2
    assert len(list(directory.rglob("*.yaml"))) == 6


# ---------------------------------------------------------------------------------------------
# drift


def moved_on(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The API a while later: ``compsAverage`` dropped, ``score`` added, ``subjectAverage`` a
    string, ``organizationId`` null."""
    changed = []
    for original in records:
        item = {key: value for key, value in original.items() if key != "compsAverage"}
        item.update(score=7, subjectAverage=str(item["subjectAverage"]), organizationId=None)
        changed.append(item)
    return changed


EXPECTED_CHANGES = [
    {"kind": "added", "path": "$[*].score", "recorded": None, "live": "number"},
    {"kind": "removed", "path": "$[*].compsAverage", "recorded": "number", "live": None},
    {"kind": "nullable", "path": "$[*].organizationId", "recorded": "string", "live": "null"},
    {"kind": "type", "path": "$[*].subjectAverage", "recorded": "number", "live": "string"},
]


def test_verify_reports_drift_fails_on_breaking_and_writes_nothing(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester)
    record(pytester)
    directory = cassette_dir(pytester)
    before = snapshot(directory)
    radix_env.reshape_export = moved_on
    radix_env.auth_extra = {"scope": "export"}

    result = run(pytester, "--radix-verify", "--radix-drift-report", "out/drift.json")
    result.assert_outcomes(passed=3)
    assert result.ret == 1
    assert snapshot(directory) == before
    result.stdout.fnmatch_lines(
        [
            "radix: mode=verify (verify: live, compared with the cassettes) *",
            "*= radix drift =*",
            "radix_auth.yaml (authentication)",
            "  POST /auth  added $.scope: (none) -> string",
            f"{SUITE_CASSETTES[0]} (tests/test_api.py::test_export)",
            "  GET /export  removed $[*].compsAverage: number -> (none)",
            "  GET /export  type $[*].subjectAverage: number -> string",
            "  GET /export  nullable $[*].organizationId: string -> null",
            "  GET /export  added $[*].score: (none) -> number",
            "radix: drift in 4 of 4 cassettes: 6 breaking, 7 additive",
        ]
    )
    report = json.loads((pytester.path / "out" / "drift.json").read_text(encoding="utf-8"))
    assert (report["breaking"], report["additive"]) == (6, 7)
    entries = {entry["path"]: entry for entry in report["cassettes"]}
    assert set(entries) == {"radix_auth.yaml", *SUITE_CASSETTES}
    page = entries[SUITE_CASSETTES[1]]
    assert page["test"] == "tests/test_api.py::test_export_page"
    assert sorted(page["changes"], key=lambda c: c["path"]) == sorted(
        [{"request": "GET /export?page=2", **change} for change in EXPECTED_CHANGES],
        key=lambda c: c["path"],
    )
    everything = output(result) + json.dumps(report)
    for item in moved_on(benchmark_records(3)):  # values are never shown
        assert str(item["propertyId"]) not in everything
        assert str(item["subjectAverage"]) not in everything
    assert radix_env.client_secret not in everything
    assert radix_env.issued_tokens and not [t for t in radix_env.issued_tokens if t in everything]


LOOSE_SUITE = """
def test_export(radix_session):
    radix_session.get("/export")


def test_page(radix_session):
    radix_session.get("/export", params={"page": "2"})
"""


def test_verify_status_media_type_unrecorded_and_unmade(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(
        pytester,
        LOOSE_SUITE.replace(
            'get("/export")', 'get("/export", params={"a": "1"})\n    radix_session.get("/export")'
        ),
    )
    record(pytester).assert_outcomes(passed=2)
    make_suite(pytester, LOOSE_SUITE.replace("page", "fresh"))
    radix_env.export_status = 203
    result = run(pytester, "--radix-verify")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "tests/test_api/test_export.yaml (tests/test_api.py::test_export)",
            "  GET /export  status: 200 -> 203",
            "  GET /export?a=1  unmade",
            "tests/test_api/test_page.yaml (no test)",
            "  GET /export?page=2  unmade",
            "radix: drift in 3 of 3 cassettes: 1 breaking, 3 additive",
        ]
    )
    assert "  GET /export?fresh=2  unrecorded" in result.outlines

    radix_env.export_status, radix_env.export_content_type = 200, "text/csv"
    make_suite(pytester, LOOSE_SUITE)
    result = run(pytester, "--radix-verify")
    result.stdout.fnmatch_lines(
        [
            "  GET /export  media-type: application/json -> text/csv",
            "radix: drift in 2 of 3 cassettes: 2 breaking, 1 additive",
        ]
    )


def test_additive_drift_alone_passes_and_no_drift_says_so(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester)
    record(pytester)
    result = run(pytester, "--radix-verify")
    assert result.ret == 0
    assert summary_lines(result)[0] == "radix: drift in 0 of 4 cassettes: 0 breaking, 0 additive"
    assert "radix drift" not in output(result)
    radix_env.reshape_export = lambda records: [{**r, "score": 1} for r in records]
    result = run(pytester, "--radix-verify")
    assert result.ret == 0
    assert summary_lines(result)[0] == "radix: drift in 3 of 4 cassettes: 0 breaking, 3 additive"


def test_verify_under_xdist_combines_the_workers_findings(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester, XDIST_SUITE)
    record(pytester).assert_outcomes(passed=6)
    radix_env.reshape_export = moved_on
    auth_before = radix_env.auth_count
    result = pytester.runpytest_subprocess(
        *INNER_ARGS, "-n", "2", "--radix-verify", "--radix-drift-report=drift.json", timeout=120
    )
    result.assert_outcomes(passed=6)
    assert result.ret == 1
    assert radix_env.auth_count == auth_before + 1
    assert summary_lines(result)[0] == "radix: drift in 5 of 6 cassettes: 12 breaking, 12 additive"
    report = json.loads((pytester.path / "drift.json").read_text(encoding="utf-8"))
    shared = next(entry for entry in report["cassettes"] if entry["path"] == "shared.yaml")
    assert sorted(shared["test"].split(", ")) == [
        "tests/test_api.py::test_first",
        "tests/test_api.py::test_second",
    ]
    assert len(shared["changes"]) == 8


VCR_SUITE = """
import pytest
import requests


@pytest.mark.radix_vcr
def test_export_and_another_client(radix_session):
    assert radix_session.get("/export").status_code == 200
    assert requests.get(radix_session.base_url + "/export").status_code == 401
"""


def test_verify_sends_a_radix_vcr_tests_other_clients_live_and_compares_the_session(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester, VCR_SUITE)
    record(pytester).assert_outcomes(passed=1)
    radix_env.reshape_export = lambda records: [{**r, "score": 1} for r in records]
    before = len(radix_env.requests_to("/export"))
    result = run(pytester, "--radix-verify")
    result.assert_outcomes(passed=1)
    assert len(radix_env.requests_to("/export")) == before + 2  # both went live
    result.stdout.fnmatch_lines(
        ["  GET /export  added $[*].score: (none) -> number", "radix: drift in 1 of 2 *"]
    )


@pytest.mark.parametrize("kind", sorted(CORRUPT))
def test_verify_fails_the_test_of_a_corrupt_cassette_and_leaves_it_alone(
    pytester: pytest.Pytester,
    radix_env: FakeRadixServer,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """Verifying reads cassettes without vcrpy: the same refusals as replay, by name."""
    content, problem = CORRUPT[kind]
    make_suite(pytester)
    record(pytester)
    path = cassette_dir(pytester) / SUITE_CASSETTES[0]
    path.write_bytes(content)
    monkeypatch.chdir(pytester.path)  # where a `touch PWNED` would land
    result = run(pytester, "--radix-verify")
    result.assert_outcomes(passed=2, failed=1)
    text = output(result)
    assert "FAILED tests/test_api.py::test_export - " in text
    assert "RadixCassetteError" in text and str(path) in text
    assert problem.lower() in text.lower(), problem
    assert path.read_bytes() == content
    assert not list(pytester.path.rglob("PWNED")), "a YAML tag ran a command"


def test_verify_under_another_api_version_is_refused_naming_both(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester)
    record(pytester)
    result = run(pytester, "--radix-verify", "--radix-api-version", "2.0.0")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        ["*recorded with x-radix-version 1.0.0, this run uses 2.0.0; replay it with*"]
    )


VCRPY_PROBE = """
import sys


def pytest_sessionfinish(session):
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("vcr", "httpx"))
    print("vcrpy modules:", loaded or "none")
"""


def test_verify_does_not_import_vcrpy(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """A verify run reads cassettes as plain YAML: vcrpy (and the httpx it pulls in) are never
    imported, which is most of what verifying cost over a live run."""
    make_suite(pytester)
    record(pytester)
    radix_env.reshape_export = moved_on
    pytester.makepyfile(vcrpy_probe=VCRPY_PROBE)
    result = pytester.runpytest_subprocess(
        *INNER_ARGS, "-p", "vcrpy_probe", "-s", "--radix-verify", timeout=120
    )
    result.assert_outcomes(passed=3)
    assert result.ret == 1  # the drift was found
    result.stdout.fnmatch_lines(["*vcrpy modules: none", "radix: drift in 3 of 4 cassettes: *"])
    replay = pytester.runpytest_subprocess(*INNER_ARGS, "-p", "vcrpy_probe", "-s", timeout=120)
    replay.assert_outcomes(passed=3)
    replay.stdout.fnmatch_lines(["*vcrpy modules: [[]*'vcr'*"])  # the probe can see it


SECRET_IN_URL_SUITE = """
import os


def test_export(radix_session):
    radix_session.get("/export", params={"key": os.environ["RADIX_CLIENT_SECRET"]})
"""


def test_verify_matches_a_url_holding_the_key_and_never_shows_it(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """The recorded URL holds the placeholder where the key was: the live one is scrubbed the
    same way before it is matched, and before it names the request in the drift report."""
    make_suite(pytester, SECRET_IN_URL_SUITE)
    record(pytester).assert_outcomes(passed=1)
    radix_env.reshape_export = moved_on
    result = run(pytester, "--radix-verify", "--radix-drift-report", "drift.json")
    result.assert_outcomes(passed=1)
    removed = f"  GET /export?key={PLACEHOLDER}  removed $[[]*[]].compsAverage: number -> (none)"
    result.stdout.fnmatch_lines([removed])
    text = output(result) + (pytester.path / "drift.json").read_text(encoding="utf-8")
    assert "unrecorded" not in text
    assert radix_env.client_secret not in text


REPORT_TAKEN_SUITE = """
from pathlib import Path

def test_export(radix_session):
    assert radix_session.get("/export").status_code == 200
    Path("drift.json").mkdir()  # the report's place is taken while the run goes on
"""


def test_a_drift_report_that_cannot_be_written_at_the_end_is_said_and_fails_the_run(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    make_suite(pytester, REPORT_TAKEN_SUITE)
    record(pytester).assert_outcomes(passed=1)
    (pytester.path / "drift.json").rmdir()
    result = run(pytester, "--radix-verify", "--radix-drift-report", "drift.json")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "radix: drift in 0 of 2 cassettes: 0 breaking, 0 additive",
            f"radix: the drift report {pytester.path / 'drift.json'} was not written: *",
        ]
    )
    assert "Traceback" not in output(result) and "INTERNALERROR" not in output(result)


STREAM_SUITE = """
def test_events(radix_session):
    with radix_session.get("/events", stream=True, timeout=5) as response:
        assert next(response.iter_lines()) == b"event: 1"
"""


def test_verify_leaves_a_streamed_body_to_the_test(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    """A stream that never ends: the test reads its first event and is done; verifying
    compares its status and media type, and does not wait for the end of the body."""
    events = [b"event: 1\n\n", b"event: 2\n\n"]
    make_suite(pytester, STREAM_SUITE)
    radix_env.queue("/events", FakeResponse(200, chunks=events, hang=True))
    record(pytester).assert_outcomes(passed=1)
    radix_env.queue("/events", FakeResponse(200, chunks=events, hang=True))
    result = run(pytester, "--radix-verify")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    assert summary_lines(result)[0] == "radix: drift in 0 of 2 cassettes: 0 breaking, 0 additive"
