"""The end of a run with cassettes: stale ones, unused ones (pruned on request) and drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_radix.errors import RadixCassetteError
from pytest_radix.files import atomic_write, os_reason
from pytest_radix.names import AUTH_CASSETTE
from pytest_radix.run import RadixRun
from pytest_radix.usage import stale_summary

__all__ = ["Housekeeping", "narrowing"]


def narrowing(config: pytest.Config) -> list[str]:
    """How this run was narrowed to part of the suite (empty when it runs all of it):
    ``-k``, ``-m``, ``--lf``, ``--sw``, ``--deselect``, node ids, or paths other than the
    configured ones (``testpaths``, else the rootdir)."""
    option = config.option
    reasons = [
        flag
        for flag, given in (
            ("-k", getattr(option, "keyword", "")),
            ("-m", getattr(option, "markexpr", "")),
            ("--lf", getattr(option, "lf", False)),
            ("--sw", getattr(option, "stepwise", False)),
            ("--deselect", getattr(option, "deselect", None)),
        )
        if given
    ]
    if any("::" in arg for arg in config.args):
        reasons.append("node ids")
    elif config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        root = config.rootpath.resolve()
        configured = {(root / path).resolve() for path in config.getini("testpaths")} or {root}
        given = {(config.invocation_params.dir / arg).resolve() for arg in config.args}
        if not any(path == root or path in root.parents for path in given) and given != configured:
            reasons.append("paths")
    return reasons


class Housekeeping:
    """Hooks that report (and, asked to, act on) what the run learnt about its cassettes."""

    def __init__(self, run: RadixRun) -> None:
        self.run = run
        self.failed: set[str] = set()
        self.collection_errors = 0
        self.lines: list[str] = []
        self.drift: dict[str, Any] | None = None

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """A plugin or an option left tests out: the run is narrowed."""
        if items:
            self.run.usage.narrowed.add("deselected tests")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Count collection errors (a run with one never prunes)."""
        self.collection_errors += report.failed

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Remember the Radix tests that did not pass (failed, skipped, xfailed), and any test
        whose xdist worker died running it (what that worker used is not known)."""
        crashed = report.failed and str(report.when) == "???"  # xdist's, for a dead worker
        if crashed or ("radix" in report.keywords and (report.failed or report.skipped)):
            self.failed.add(report.nodeid)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """On the controller (or without xdist): report unused recordings and prune them when
        asked and the run allows it; or, verifying, combine the drift found (breaking drift
        fails the run) and write the drift report."""
        config = session.config
        if hasattr(config, "workerinput"):
            return
        why_not = self._why_not_whole(session, exitstatus)
        if self.run.mode == "verify":
            self._drift(session, whole=why_not is None or " did not pass" in why_not)
            return
        if why_not:
            if self.run.config.prune:
                self.lines.append(f"radix: --radix-prune removed nothing: {why_not}")
            return
        self._unused()

    def _why_not_whole(self, session: pytest.Session, exitstatus: int) -> str | None:
        """Why this run cannot tell which recordings are unused (``None``: it can)."""
        narrowed = narrowing(session.config) or sorted(self.run.usage.narrowed)
        if narrowed:
            return f"the run was narrowed ({', '.join(narrowed)})"
        if self.collection_errors:
            return "a collection error"
        if exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop or session.shouldfail:
            return "the run was stopped (-x, --maxfail or an interrupt)"
        if self.failed:
            count = len(self.failed)
            return f"{count} Radix test{'' if count == 1 else 's'} did not pass"
        if not self.run.radix_tests:
            return "no Radix test ran"
        return None

    def _unused(self) -> None:
        """The unused cassettes and unreplayed requests: reported, or removed with --radix-prune."""
        directory = self.run.config.cassette_dir
        usage = self.run.usage
        files = usage.unused(directory)
        requests = usage.unreplayed()
        count = sum(len(indexes) for indexes in requests.values())
        if not files and not count:
            return
        what = (
            f"{len(files)} unused cassette{'' if len(files) == 1 else 's'}, {count} recorded "
            f"request{'' if count == 1 else 's'} never replayed"
        )
        if not self.run.config.prune:
            self.lines.append(f"radix: {what} (--radix-prune removes them)")
            self.lines += [f"radix:   unused {name}" for name in files]
            self.lines += [
                f"radix:   {name}: {len(indexes)} never replayed"
                for name, indexes in requests.items()
            ]
            return
        problems = [_remove(directory, name) for name in files]
        problems += [_drop(directory / name, indexes) for name, indexes in requests.items()]
        self.lines.append(f"radix: pruned {what}")
        self.lines += [f"radix:   {problem}" for problem in problems if problem]

    def _drift(self, session: pytest.Session, *, whole: bool) -> None:
        """The run's drift report (``unmade`` requests only when the whole suite ran)."""
        from pytest_radix.drift import drift_report

        findings = list(self.run.usage.drift)
        if whole:
            findings += _unmade(self.run.config.cassette_dir, self.run)
        report = self.drift = drift_report(findings)
        if report["breaking"] and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        path = self.run.config.drift_report
        if path is not None:
            try:
                atomic_write(path, json.dumps(report, indent=2) + "\n")
            except OSError as error:
                reason = os_reason(error)
                self.lines.append(f"radix: the drift report {path} was not written: {reason}")
                if session.exitstatus == pytest.ExitCode.OK:
                    session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The stale, unused and drift lines of the end summary, and the ``radix drift``
        section."""
        run = self.run
        if self.drift is not None:
            _drift_section(terminalreporter, self.drift, len(run.usage.used))
        if run.usage.stale and run.config.max_age:
            terminalreporter.write_line(stale_summary(run.usage.stale, run.config.max_age))
        for line in self.lines:
            terminalreporter.write_line(line)


def _drift_section(
    terminalreporter: pytest.TerminalReporter, report: dict[str, Any], compared: int
) -> None:
    """``radix drift``: per cassette, each change (request, kind, path, recorded and live
    types); then the summary line."""
    if report["cassettes"]:
        terminalreporter.write_sep("=", "radix drift")
        for entry in report["cassettes"]:
            terminalreporter.write_line(f"{entry['path']} ({entry['test'] or 'no test'})")
            for change in entry["changes"]:
                where = f" {change['path']}" if change["path"] else ""
                types = (
                    f": {change['recorded'] or '(none)'} -> {change['live'] or '(none)'}"
                    if change["recorded"] or change["live"]
                    else ""
                )
                terminalreporter.write_line(
                    f"  {change['request']}  {change['kind']}{where}{types}"
                )
    count = len(report["cassettes"])
    terminalreporter.write_line(
        f"radix: drift in {count} of {compared} cassette{'' if compared == 1 else 's'}: "
        f"{report['breaking']} breaking, {report['additive']} additive"
    )


def _unmade(directory: Path, run: RadixRun) -> list[dict[str, Any]]:
    """``unmade`` findings: the recorded requests that no test made, in the cassettes compared
    and in those no test used."""
    from pytest_radix.cassette_files import read_cassette
    from pytest_radix.drift import Change, request_label

    usage = run.usage
    missed: dict[str, list[int] | None] = dict(usage.unreplayed())
    missed.update((name, None) for name in usage.unused(directory) if name != AUTH_CASSETTE)
    findings = []
    for name, indexes in sorted(missed.items()):
        try:
            interactions, metadata = read_cassette(directory / name)
        except RadixCassetteError:
            continue  # a broken cassette no test uses is not drift
        base_url = str(metadata.get("base_url") or run.config.base_url)
        chosen = range(len(interactions)) if indexes is None else indexes
        requests = (interactions[index]["request"] for index in chosen)
        changes = [
            Change(request_label(r["method"], r["uri"], base_url), "unmade").to_json()
            for r in requests
        ]
        findings.append({"path": name, "test": "", "changes": changes})
    return findings


def _remove(directory: Path, name: str) -> str | None:
    """Delete an unused cassette and the directories it leaves empty; a problem, or ``None``."""
    path = directory / name
    try:
        path.unlink()
    except OSError as error:
        return f"{name} was not removed: {error.strerror or type(error).__name__}"
    for parent in path.parents:
        if parent == directory or directory not in parent.parents:
            break
        try:
            parent.rmdir()
        except OSError:  # not empty
            break
    return None


def _drop(path: Path, indexes: list[int]) -> str | None:
    """Rewrite a cassette without the requests at ``indexes`` (atomically, checked for
    secrets); a problem, or ``None``."""
    from pytest_radix.cassettes import load_cassette_file, save_cassette_file

    try:
        interactions, metadata = load_cassette_file(path)
        unwanted = set(indexes)
        kept = [pair for index, pair in enumerate(interactions) if index not in unwanted]
        save_cassette_file(path, kept, metadata)
    except RadixCassetteError as error:
        return str(error)
    return None
