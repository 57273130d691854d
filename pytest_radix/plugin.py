"""The pytest entry point: options, ini keys, markers, report header, masking and summary."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_radix import fixtures
from pytest_radix.config import OPTIONS, SOURCES, RadixConfig, resolve
from pytest_radix.errors import RadixConfigError
from pytest_radix.masking import install_log_masking, mask, mask_object, masked_value
from pytest_radix.names import AUTH_CASSETTE, FAILED
from pytest_radix.run import RUN, SKIP_PREFIX, RadixRun
from pytest_radix.workers import (
    COUNTS_KEY,
    USAGE_KEY,
    ControllerHooks,
    WorkerCounts,
    handover_dir,
)

RADIX_FIXTURES: frozenset[str] = frozenset(
    {
        "radix_config",
        "radix_credentials",
        "radix_auth",
        "radix_token",
        "radix_session",
        "radix_session_factory",
        "radix_vcr_config",
    }
)
"""A test using any of these gets the ``radix`` marker."""
_REFUSED = "radix_client_secret_refused"
_REFUSAL = (
    "the API key is never accepted as {what} (it would show in {where}); "
    "set the RADIX_CLIENT_SECRET environment variable or use --radix-client-secret-file"
)


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Register every option with its ini twin, and the refused ``--radix-client-secret``."""
    if pluginmanager.get_name(sys.modules[__name__]) != "radix":
        # Loaded by its module name (``-p pytest_radix.plugin``): the entry point would load
        # this module a second time under the name ``radix``, which pluggy refuses.
        pluginmanager.set_blocked("radix")
    group = parser.getgroup("radix", "Radix Data API (pytest-radix)")
    for option in OPTIONS:
        env = f" [env {option.env}]"
        if option.boolean:
            group.addoption(
                option.flag,
                action="store_true",
                dest=option.dest,
                default=None,
                help=option.help + env,
            )
            group.addoption(
                "--no-" + option.flag.removeprefix("--"),
                action="store_false",
                dest=option.dest,
                default=None,
                help=f"Turn {option.flag} off.",
            )
        else:
            group.addoption(
                option.flag,
                dest=option.dest,
                default=None,
                metavar=option.metavar,
                help=option.help + env,
            )
        parser.addini(option.ini, option.help + env, default=None)
    group.addoption(
        "--radix-client-secret",
        dest=_REFUSED,
        nargs="?",
        const="",
        default=None,
        help=argparse.SUPPRESS,
    )
    parser.addini("radix_client_secret", "Refused: set RADIX_CLIENT_SECRET instead.", default=None)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(args: list[str]) -> None:
    """Refuse the API key on the command line (or in PYTEST_ADDOPTS and addopts) before
    pytest's own argument errors could echo it, abbreviations and ``-x`` values included."""
    for arg in args:
        if arg.startswith("--radix-client-sec") and not arg.startswith("--radix-client-secret-f"):
            raise pytest.UsageError(
                "--radix-client-secret: "
                + _REFUSAL.format(what="an option", where="the process list and shell history")
            )


def _resolve(config: pytest.Config) -> RadixConfig:
    if config.getoption(_REFUSED) is not None:
        setattr(config.option, _REFUSED, "")  # drop this copy of the value (argv keeps its own)
        raise pytest.UsageError(
            "--radix-client-secret: "
            + _REFUSAL.format(what="an option", where="the process list and shell history")
        )
    if config.getini("radix_client_secret") is not None:
        raise pytest.UsageError(
            "radix_client_secret (ini): "
            + _REFUSAL.format(what="an ini key", where="files under version control")
        )
    try:
        return resolve(
            {option.dest: config.getoption(option.dest) for option in OPTIONS},
            os.environ,
            {option.ini: config.getini(option.ini) for option in OPTIONS},
            rootdir=Path(config.rootpath),
            invocation_dir=Path(config.invocation_params.dir),
            ini_dir=config.inipath.parent if config.inipath else None,
        )
    except RadixConfigError as error:
        raise pytest.UsageError(f"pytest-radix: {error}") from None


def choose_mode(config: RadixConfig) -> tuple[str, str]:
    """The record mode this run uses, and why (``auto`` decides from what is available)."""
    source = config.sources["record_mode"]
    if config.verify:
        return "verify", _verify_reason(config)
    if config.record_mode != "auto":
        return config.record_mode, source
    auto = "auto" if source == "default" else f"auto ({source})"
    if (config.cassette_dir / AUTH_CASSETTE).exists():
        return "none", f"{auto}: cassette found"
    if config.credentials is not None:
        return "live", f"{auto}: credentials found"
    return "live", f"{auto}: no cassette, no credentials: Radix tests will be skipped"


def _verify_reason(config: RadixConfig) -> str:
    """Why ``--radix-verify`` can run (a usage error when it cannot): it needs credentials and
    runs live, so no other record mode can go with it."""
    verify = f"--radix-verify ({SOURCES[config.sources['verify']]})"
    if config.record_mode not in ("auto", "live"):
        raise RadixConfigError(
            f"{verify} runs live and writes no cassette, so it cannot go with record mode "
            f"{config.record_mode} ({SOURCES[config.sources['record_mode']]}); leave the "
            "record mode out"
        )
    if config.credentials is None:
        missing = [
            name
            for name, value in (("client id", config.client_id), ("API key", config.client_secret))
            if not value
        ]
        raise RadixConfigError(
            f"{verify} needs credentials ({' and '.join(missing)} missing); set RADIX_CLIENT_ID "
            "(or --radix-client-id) and RADIX_CLIENT_SECRET (or --radix-client-secret-file)"
        )
    return "verify: live, compared with the cassettes"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Resolve the settings (a bad value stops pytest here), register the marker, mask logs."""
    for line in (
        "radix: the test uses the Radix API (added automatically by pytest-radix)",
        "radix_cassette(name): record and replay this test's Radix traffic in <cassette dir>/"
        "<name>.yaml (tests can share one)",
        "radix_vcr: also record and replay other HTTP clients' traffic (vcrpy's full patching) "
        "in the test's cassette",
    ):
        config.addinivalue_line("markers", line)
    if not config.pluginmanager.is_registered(fixtures):  # not through pytest_plugins, which
        config.pluginmanager.register(fixtures, fixtures.__name__)  # scans the entry points
    if config.option.help or config.option.version:
        return
    settings = _resolve(config)
    try:
        mode, reason = choose_mode(settings)
    except RadixConfigError as error:
        raise pytest.UsageError(f"pytest-radix: {error}") from None
    run = RadixRun(settings, mode, reason)
    run.cleanups.append(install_log_masking())
    _mask_trace(config)
    config.stash[RUN] = run
    config.pluginmanager.register(RadixReporter(run), "radix-reporter")
    run.handover = handover = handover_dir(config)
    if handover is not None:
        config.pluginmanager.register(WorkerCounts(run, handover), "radix-worker-counts")
    if handover is None and _distributes(config):
        controller = ControllerHooks(run)
        run.cleanups.append(controller.remove)
        config.pluginmanager.register(controller, "radix-xdist")
    if mode != "live":  # cassettes: loaded only when used
        from pytest_radix.housekeeping import Housekeeping
        from pytest_radix.recording import CassettePlugin, Recorder

        run.recorder = Recorder(
            settings, mode, Path(config.rootpath), handover, run.usage, run.note_auth_sent
        )
        config.pluginmanager.register(CassettePlugin(run.recorder), "radix-cassettes")
        config.pluginmanager.register(Housekeeping(run), "radix-housekeeping")


def _mask_trace(config: pytest.Config) -> None:
    """Mask what ``pytest --debug`` and ``PYTEST_DEBUG`` write: pluggy's tracer shows every
    hook's arguments and results with ``str()``, a fixture's value (the token) included."""
    root = config.trace.root
    writer = getattr(root, "_writer", None)  # pluggy has no getter; the writer is set by now
    if writer is not None:
        root.setwriter(lambda text: writer(mask(text)))


def _distributes(config: pytest.Config) -> bool:
    """Whether this process is an xdist controller with workers (``-n N`` or ``--tx``): known
    by xdist's hooks, whatever name xdist was loaded under (``-p xdist.plugin``)."""
    option = config.option
    return bool(
        hasattr(config.hook, "pytest_configure_node")
        and getattr(option, "dist", "no") != "no"
        and getattr(option, "tx", None)
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def _exit_masked() -> Generator[None, Any, Any]:
    """Mask a ``pytest.exit`` message raised as the session starts or ends (pytest prints it
    itself, with no hook in between)."""
    try:
        return (yield)
    except pytest.exit.Exception as error:
        _mask_exit(error)
        raise


pytest_sessionstart = pytest_sessionfinish = _exit_masked


def _mask_exit(error: Any) -> None:  # pytest.exit.Exception, which is not a type to mypy
    error.msg = mask(str(error.msg))
    error.args = (error.msg,)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Undo the log masking."""
    run = config.stash.get(RUN, None)
    while run is not None and run.cleanups:
        run.cleanups.pop()()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Each resolved setting and its source; never the API key."""
    run = config.stash.get(RUN, None)
    if run is None:
        return []
    c = run.config
    client_id = f"{c.client_id[:8]}…" if c.client_id else "unset"
    flag = {True: "on", False: "off"}
    key = "unset" if not c.client_secret else f"from {c.secret_path}" if c.secret_path else "set"
    return [
        f"radix: mode={run.mode} ({run.mode_reason}) base_url={c.base_url} "
        f"({c.sources['base_url']}) api_version={c.api_version} ({c.sources['api_version']}) "
        f"client_id={client_id} ({c.sources['client_id']})",
        f"radix: api_key={key} ({c.sources['client_secret']}) cassette_dir={c.cassette_dir} "
        f"({c.sources['cassette_dir']}) timeout={c.timeout:g}s ({c.sources['timeout']}) "
        + " ".join(
            f"{name}={flag[getattr(c, name)]} ({c.sources[name]})"
            for name in ("require_credentials", "token_cache", "allow_http")
        ),
        f"radix: max_age={f'{c.max_age:g}d' if c.max_age else 'off'} ({c.sources['max_age']}) "
        + " ".join(
            f"{name}={flag[getattr(c, name)]} ({c.sources[name]})" for name in ("prune", "verify")
        )
        + f" drift_report={c.drift_report or 'unset'} ({c.sources['drift_report']})",
    ]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collection skips the cassette directory (thousands of YAML files, no tests), unless it
    may hold Python files."""
    run = config.stash.get(RUN, None)
    if run is None:
        return None
    directory = run.config.cassette_dir  # resolved
    if collection_path.name != directory.name and not collection_path.is_symlink():
        return None
    if collection_path.resolve() != directory:
        return None
    return None if _may_hold_python(collection_path) else True


def _may_hold_python(directory: Path) -> bool:
    """Whether a ``.py`` file is under ``directory``, or a symlinked directory that may hold
    one (pytest follows those; a walk that followed them could loop)."""
    for root, directories, files in os.walk(directory):
        if any(name.endswith(".py") for name in files):
            return True
        if any(os.path.islink(os.path.join(root, name)) for name in directories):
            return True
    return False


def pytest_collection_modifyitems(items: Sequence[pytest.Item]) -> None:
    """Mark every test that uses a Radix fixture with ``radix``."""
    for item in items:
        if RADIX_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker("radix")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, Any, Any]:
    """Mask secrets in the report: failure text, locals, captured output and logs; remember a
    failure (a failed test's cassette is not saved)."""
    report = yield
    _mask_report(report)
    if report.when == "setup":  # each attempt starts afresh (pytest-rerunfailures runs again)
        item.stash[FAILED] = report.failed
    elif report.failed:
        item.stash[FAILED] = True
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report() -> Generator[None, Any, Any]:
    """Mask secrets in collection errors too."""
    report = yield
    _mask_report(report)
    return report


def _mask_report(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.longrepr is not None:
        report.longrepr = mask_object(report.longrepr)
    if report.sections:
        report.sections = [(title, mask(text)) for title, text in report.sections]
    if isinstance(getattr(report, "wasxfail", None), str):
        report.wasxfail = mask(report.wasxfail)  # type: ignore[union-attr]
    properties = getattr(report, "user_properties", None)
    if properties:  # a new list: the test's own objects stay as they are
        report.user_properties = [  # type: ignore[union-attr]
            (masked_value(name), masked_value(value)) for name, value in properties
        ]


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Mask what is shown when the run is interrupted (Ctrl-C, SIGTERM, ``pytest.exit``):
    the exit message, and the traceback with its locals (``--full-trace``)."""
    if isinstance(excinfo.value, pytest.exit.Exception):
        _mask_exit(excinfo.value)
    getrepr = excinfo.getrepr

    def masked_getrepr(*args: Any, **kwargs: Any) -> Any:
        return mask_object(getrepr(*args, **kwargs))

    excinfo.getrepr = masked_getrepr  # type: ignore[method-assign]


@pytest.hookimpl(tryfirst=True)
def pytest_warning_recorded(warning_message: warnings.WarningMessage) -> None:
    """Mask secrets in warnings before the summary and junitxml show them."""
    message = warning_message.message
    text = str(message)
    masked = mask(text)
    if masked == text:
        return
    try:
        warning_message.message = type(message)(masked)
    except Exception:  # a warning class with another constructor
        warning_message.message = UserWarning(masked)


class RadixReporter:
    """Counts the run's Radix tests and prints the end summary line."""

    def __init__(self, run: RadixRun) -> None:
        self.run = run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count the Radix tests, and those skipped for want of credentials."""
        if report.when != "setup" or "radix" not in report.keywords:
            return
        self.run.radix_tests += 1
        if report.skipped and isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            self.run.skipped_for_credentials += reason.startswith(SKIP_PREFIX)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """On an xdist worker, send this worker's counts to the controller."""
        workeroutput = getattr(session.config, "workeroutput", None)
        if isinstance(workeroutput, dict):
            workeroutput[COUNTS_KEY] = self.run.local_counts()
            workeroutput[USAGE_KEY] = self.run.usage.to_json()

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """``radix: 1 authentication request, 0 cassettes replayed, 0 recorded``."""
        run = self.run
        counts = run.counts()
        if not run.radix_tests and not any(counts.values()):  # radix_vcr tests count too
            return
        auth, replayed = counts["auth"], counts["replayed"]
        parts = [
            f"{auth} authentication request{'' if auth == 1 else 's'}",
            f"{replayed} cassette{'' if replayed == 1 else 's'} replayed",
            f"{counts['recorded']} recorded",
        ]
        if counts["unsaved"]:
            parts.append(f"{counts['unsaved']} not saved (failing tests keep the old cassette)")
        if run.skipped_for_credentials:
            parts.append(f"{run.skipped_for_credentials} skipped without credentials")
        terminalreporter.write_line("radix: " + ", ".join(parts))


@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """pytest-recording's cassettes are scrubbed of the API key and live tokens too."""
    from pytest_radix.neighbours import ScrubbingPersister

    vcr.register_persister(ScrubbingPersister(vcr.persister))
