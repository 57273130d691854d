"""Settings: every option with its command-line, environment and ini names, resolved once.

One precedence for all: command line > environment > ini (``-o`` counts as ini) > default.
:func:`resolve` is pure apart from reading the secret file and knows nothing of pytest.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_radix.credentials import RadixCredentials
from pytest_radix.errors import RadixConfigError
from pytest_radix.masking import MaskedStr, register_secret
from pytest_radix.urls import DEFAULT_API_VERSION, DEFAULT_BASE_URL, check_base_url

__all__ = [
    "OPTIONS",
    "RECORD_MODES",
    "Option",
    "RadixConfig",
    "Setting",
    "parse_bool",
    "resolve",
]

RECORD_MODES = ("auto", "live", "none", "once", "new_episodes", "all")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
SOURCES = {"cli": "command line", "env": "environment", "ini": "ini", "default": "default"}


@dataclass(frozen=True)
class Option:
    """One setting; ``name`` gives its flag, environment variable and ini key."""

    name: str
    help: str
    default: str | float | bool | None = None
    boolean: bool = False
    metavar: str | None = None

    @property
    def flag(self) -> str:
        """The command-line flag, ``--radix-…``."""
        return "--radix-" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        """The environment variable, ``RADIX_…``."""
        return "RADIX_" + self.name.upper()

    @property
    def ini(self) -> str:
        """The ini key, ``radix_…``; also the attribute on pytest's option namespace."""
        return "radix_" + self.name

    dest = ini


OPTIONS: tuple[Option, ...] = (
    Option(
        "client_id",
        "Radix Client ID (24 hex digits; an identifier, not a secret).",
        metavar="ID",
    ),
    Option(
        "client_secret_file",
        "File holding the Radix API key (surrounding whitespace stripped). "
        "Or set RADIX_CLIENT_SECRET; the key itself is never accepted as an option.",
        metavar="PATH",
    ),
    Option(
        "base_url",
        f"Radix API base URL, may carry a path prefix (default {DEFAULT_BASE_URL}).",
        DEFAULT_BASE_URL,
        metavar="URL",
    ),
    Option(
        "api_version",
        f"Value of the x-radix-version header (default {DEFAULT_API_VERSION}).",
        DEFAULT_API_VERSION,
        metavar="V",
    ),
    Option(
        "record_mode",
        "Cassette mode: " + ", ".join(RECORD_MODES) + " (default auto).",
        "auto",
        metavar="MODE",
    ),
    Option(
        "cassette_dir",
        "Directory of the cassettes (default <rootdir>/tests/cassettes).",
        metavar="DIR",
    ),
    Option(
        "timeout",
        "Seconds to wait for each attempt of a request (default 30).",
        30.0,
        metavar="SECONDS",
    ),
    Option(
        "require_credentials",
        "Missing credentials are an error instead of a skip.",
        False,
        boolean=True,
    ),
    Option(
        "token_cache",
        "Reuse a still-valid token across runs (never the key; user cache directory).",
        False,
        boolean=True,
    ),
    Option(
        "allow_http",
        "Allow plain http:// to a host that is not loopback.",
        False,
        boolean=True,
    ),
    Option(
        "max_age",
        "Replayed cassettes older than this many days are stale (reported; re-recorded in "
        "once and new_episodes with credentials).",
        metavar="DAYS",
    ),
    Option(
        "prune",
        "After a whole-suite run where every Radix test passed, remove unused cassettes and "
        "recorded requests never replayed.",
        False,
        boolean=True,
    ),
    Option(
        "verify",
        "Run live (credentials needed), write no cassette, and report how the live answers "
        "drifted from the recorded ones; breaking drift fails the run.",
        False,
        boolean=True,
    ),
    Option(
        "drift_report",
        "Write the drift found by --radix-verify to this JSON file.",
        metavar="FILE",
    ),
)
_BY_NAME = {option.name: option for option in OPTIONS}


@dataclass(frozen=True)
class Setting:
    """A resolved value and where it came from: ``cli``, ``env``, ``ini`` or ``default``."""

    value: Any
    source: str


@dataclass(frozen=True, repr=False)
class RadixConfig:
    """The resolved settings of a run, each with its source; the API key is never shown."""

    client_id: str | None
    client_secret_file: Path | None
    base_url: str
    api_version: str
    record_mode: str
    cassette_dir: Path
    timeout: float
    require_credentials: bool
    token_cache: bool
    allow_http: bool
    max_age: float | None
    prune: bool
    verify: bool
    drift_report: Path | None
    sources: Mapping[str, str]
    client_secret: MaskedStr | None = None
    secret_path: Path | None = None
    """The file the API key was read from (``None`` when it came from RADIX_CLIENT_SECRET)."""
    notes: tuple[str, ...] = ()

    @property
    def credentials(self) -> RadixCredentials | None:
        """The credentials, or ``None`` when the client id or the key is missing."""
        if self.client_id and self.client_secret:
            return RadixCredentials(self.client_id, self.client_secret)
        return None

    def client_settings(self) -> dict[str, Any]:
        """The keyword arguments of ``authenticate``, ``RadixAuth`` and ``RadixSession``."""
        return {
            "base_url": self.base_url,
            "api_version": self.api_version,
            "timeout": self.timeout,
            "allow_http": self.allow_http,
        }

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r} ({source})" for name, source in self.sources.items()
        )
        return f"RadixConfig({shown})"


def parse_bool(text: str) -> bool | None:
    """``True``/``False`` for the accepted words (any case), ``None`` for anything else."""
    word = text.strip().lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def _label(option: Option, source: str, value: Any) -> str:
    """How a value is named in messages: ``--radix-timeout='0' (command line)``."""
    name = {"cli": option.flag, "env": option.env, "ini": option.ini}.get(source, option.name)
    return f"{name}={str(value)!r} ({SOURCES[source]})"


def _raw(
    option: Option, cli: Mapping[str, Any], env: Mapping[str, str], ini: Mapping[str, Any]
) -> tuple[Any, str]:
    """The first value given for ``option``: command line, environment, ini, else the default."""
    if cli.get(option.dest) is not None:
        return cli[option.dest], "cli"
    if env.get(option.env, "").strip():
        return env[option.env], "env"
    value = ini.get(option.ini)
    if value is not None and (not isinstance(value, str) or value.strip()):
        return value, "ini"
    return option.default, "default"


def resolve(
    cli: Mapping[str, Any],
    env: Mapping[str, str],
    ini: Mapping[str, Any],
    *,
    rootdir: Path,
    invocation_dir: Path,
    ini_dir: Path | None = None,
) -> RadixConfig:
    """Resolve every setting once, with its source; raises :class:`RadixConfigError`."""
    raw = {option.name: _raw(option, cli, env, ini) for option in OPTIONS}
    parsed: dict[str, Setting] = {}
    for name, (value, source) in raw.items():
        option = _BY_NAME[name]
        parser: Callable[[Any, str], Any] = _PARSERS.get(name, _text)
        parsed[name] = Setting(
            parser(value, _label(option, source, value)) if source != "default" else value, source
        )
    base = {"cli": invocation_dir, "env": invocation_dir, "ini": ini_dir or rootdir}
    base["default"] = rootdir
    cassettes = parsed["cassette_dir"]
    if cassettes.value is None:
        cassettes = Setting(Path("tests") / "cassettes", "default")
    # resolved: ".." must not depend on a directory existing, nor mean another one through a
    # symlink
    directory = (base[cassettes.source] / cassettes.value).resolve()
    parsed["cassette_dir"] = Setting(directory, cassettes.source)
    report = parsed["drift_report"]
    if report.value is not None:
        path = base[report.source] / report.value
        _check_writable(path, _label(_BY_NAME["drift_report"], report.source, report.value))
        parsed["drift_report"] = Setting(path, report.source)
    url = parsed["base_url"]
    label = _label(_BY_NAME["base_url"], url.source, url.value)
    checked = check_base_url(url.value, allow_http=parsed["allow_http"].value, label=label)
    parsed["base_url"] = Setting(checked, url.source)
    secret, secret_source, secret_path = _secret(parsed["client_secret_file"], env, base)
    sources = {name: setting.source for name, setting in parsed.items()}
    sources["client_secret"] = secret_source or "default"
    notes = tuple(
        f"{name} is set but empty"
        for name in ("RADIX_CLIENT_ID", "RADIX_CLIENT_SECRET")
        if name in env and not env[name].strip()
    )
    return RadixConfig(
        **{name: setting.value for name, setting in parsed.items()},
        sources=sources,
        client_secret=secret,
        secret_path=secret_path,
        notes=notes,
    )


def _secret(
    file_setting: Setting, env: Mapping[str, str], base: Mapping[str, Path]
) -> tuple[MaskedStr | None, str | None, Path | None]:
    """The API key, its source and the file it was read from: a file named on the command
    line, else RADIX_CLIENT_SECRET, else a file named in the environment or an ini file."""
    from_env = env.get("RADIX_CLIENT_SECRET", "").strip()
    if file_setting.source != "cli" and from_env:
        register_secret(from_env)
        return MaskedStr(from_env), "env", None
    if file_setting.value is None:
        return None, None, None
    option = _BY_NAME["client_secret_file"]
    path = base[file_setting.source] / file_setting.value
    label = _label(option, file_setting.source, path)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise RadixConfigError(f"{label} is not UTF-8 text; save the API key as UTF-8") from None
    except OSError as error:
        raise RadixConfigError(
            f"{label} cannot be read: {error.strerror or type(error).__name__}; "
            "give a readable file holding the API key"
        ) from None
    if not text:
        raise RadixConfigError(f"{label} is empty; it must hold the API key")
    register_secret(text)
    return MaskedStr(text), file_setting.source, path


def _text(value: Any, label: str) -> str:
    text = str(value).strip()
    if not text:
        raise RadixConfigError(f"{label} is empty; give a value or leave the option out")
    return text


def _record_mode(value: Any, label: str) -> str:
    mode = str(value).strip().lower()
    if mode not in RECORD_MODES:
        raise RadixConfigError(
            f"{label} is not a record mode; use one of {', '.join(RECORD_MODES)}"
        )
    return mode


def _positive(unit: str) -> Callable[[Any, str], float]:
    """A parser of a positive number of ``unit`` (seconds, days)."""

    def parse(value: Any, label: str) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or number <= 0:
            raise RadixConfigError(
                f"{label} is not a positive number of {unit}; give for example 30"
            )
        return number

    return parse


def _boolean(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    parsed = parse_bool(str(value))
    if parsed is None:
        raise RadixConfigError(
            f"{label} is not a boolean; use one of "
            f"{'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)}"
        )
    return parsed


def _check_writable(path: Path, label: str) -> None:
    """Refuse, before the run, a file the run could not write at its end (missing
    directories are made then)."""
    if path.is_dir():
        raise RadixConfigError(f"{label} is a directory; give a file name")
    existing = next(parent for parent in path.parents if parent.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise RadixConfigError(
            f"{label} cannot be written: {existing} is not a directory this user can write "
            "to; give another file"
        )


def _path(value: Any, label: str) -> Path:
    return Path(_text(value, label)).expanduser()


_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "record_mode": _record_mode,
    "timeout": _positive("seconds"),
    "require_credentials": _boolean,
    "token_cache": _boolean,
    "allow_http": _boolean,
    "max_age": _positive("days"),
    "prune": _boolean,
    "verify": _boolean,
    "drift_report": _path,
    "cassette_dir": _path,
    "client_secret_file": _path,
}
