"""The end of a run with cassettes: stale ones, unused ones (pruned on request) and drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_radix.errors import RadixCassetteError
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
        self.deselected = False
        self.lines: list[str] = []

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """A plugin or an option left tests out: the run is narrowed."""
        if items:
            self.deselected = True
            self.run.usage.narrowed.add("deselected tests")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Count collection errors (a run with one never prunes)."""
        self.collection_errors += report.failed

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Remember the Radix tests that did not pass (failed, skipped, xfailed)."""
        if "radix" in report.keywords and (report.failed or report.skipped):
            self.failed.add(report.nodeid)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """On the controller (or without xdist): report unused recordings and prune them when
        asked and the run allows it."""
        config = session.config
        if hasattr(config, "workerinput") or self.run.mode == "verify":
            return
        why_not = self._why_not_whole(session, exitstatus)
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

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The stale, unused and drift lines of the end summary."""
        run = self.run
        if run.usage.stale and run.config.max_age:
            terminalreporter.write_line(stale_summary(run.usage.stale, run.config.max_age))
        for line in self.lines:
            terminalreporter.write_line(line)


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
