"""``python -m pytest_radix audit``: find secrets left in cassette files.

Reports ``file:line`` for every ``Authorization`` value, JWT whose signature is not the
placeholder, ``client_secret`` that is not the placeholder, and the value of
``RADIX_CLIENT_SECRET`` (when set) in any encoding that scrubbing knows (the same search),
bodies stored as ``!!binary`` decoded first. Never prints the values themselves.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from pytest_radix.bodies import plausible_texts
from pytest_radix.bounded_yaml import AliasBombError
from pytest_radix.masking import PLACEHOLDER
from pytest_radix.scrubbing import secret_in, signed_jwt_in

__all__ = [
    "Finding",
    "audit_file",
    "audit_paths",
    "cassette_files",
    "default_cassette_dir",
    "default_paths",
]

_AUTH_LINE = re.compile(r"^\s*-?\s*['\"]?authorization['\"]?\s*:\s*(\S.*?)\s*$", re.IGNORECASE)
_PLACEHOLDER_AUTH = re.compile(
    rf"[A-Z][A-Z_]*|<[^<>]*>|\*+|(?:[A-Za-z]+ )?{re.escape(PLACEHOLDER)}"
)
"""An ``Authorization`` value that is a placeholder, not a credential (``DUMMY``)."""
_CLIENT_SECRET = re.compile(
    r"client_secret\\*['\"]?\s*[:=]\s*\\*['\"]?([^'\"\\,}&\s]*)", re.IGNORECASE
)

Finding = tuple[Path, int, str]

REFUSED = "refused, not audited: "
"""How a finding begins when the file could not be audited safely (line 0)."""


def cassette_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The YAML files named, and those under the directories named."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            yield path


def _scalars(text: str) -> Iterator[tuple[int, str, str | None]]:
    """Each YAML scalar as (line, decoded value, the mapping key it is the value of).

    Works on the parsed text, so quoting, escapes and folded lines are already undone;
    nothing is constructed, so no tag can run code. A ``!!binary`` scalar (a body that was not
    UTF-8) is given in every way it plausibly reads as text: decompressed, in any charset.
    """
    import base64
    import binascii

    import yaml

    from pytest_radix.bounded_yaml import compose

    root = compose(text)
    todo: list[tuple[yaml.Node, str | None]] = [] if root is None else [(root, None)]
    while todo:
        node, key = todo.pop()
        if isinstance(node, yaml.ScalarNode):
            line = node.start_mark.line + 1
            yield line, str(node.value), key
            if node.tag == "tag:yaml.org,2002:binary":
                try:
                    data = base64.b64decode(str(node.value))
                except (binascii.Error, ValueError):
                    continue
                yield from ((line, text, key) for text in plausible_texts(data))
        elif isinstance(node, yaml.SequenceNode):
            todo.extend((item, key) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            for name, value in node.value:
                label = str(name.value) if isinstance(name, yaml.ScalarNode) else None
                todo.extend([(name, None), (value, label)])


def audit_file(path: Path, secret: str | None = None) -> list[Finding]:
    """Every finding in one file, with its line number."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        return [(path, 0, f"cannot be read: {error.strerror or type(error).__name__}")]
    secrets = frozenset({secret} if secret else ())
    try:
        scalars = list(_scalars(text))
    except AliasBombError as error:
        return [(path, 0, f"{REFUSED}{error}")]
    except Exception:  # not YAML: audit it line by line
        scalars = [(n, line, None) for n, line in enumerate(text.splitlines(), 1)]
    found: set[Finding] = set()
    for number, value, key in scalars:
        if key is not None and key.lower() == "authorization" and _credential(value):
            found.add((path, number, "Authorization header with a value"))
        if key == "client_secret" and value.strip() and value != PLACEHOLDER:
            found.add((path, number, "client_secret that is not the placeholder"))
        line = _AUTH_LINE.match(value) if key is None else None
        if line is not None and _credential(line.group(1).strip("'\"")):
            found.add((path, number, "Authorization header with a value"))
        if any(signed_jwt_in(form) for form in _unescaped(value)):
            found.add((path, number, "JWT with a signature that is not the placeholder"))
        if any(m.group(1) and m.group(1) != PLACEHOLDER for m in _CLIENT_SECRET.finditer(value)):
            found.add((path, number, "client_secret that is not the placeholder"))
        if secrets and secret_in(value, secrets):
            found.add((path, number, "the value of RADIX_CLIENT_SECRET"))
    return sorted(found, key=lambda finding: (finding[1], finding[2]))


_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unescaped(value: str) -> Iterator[str]:
    """``value``, and how it reads with JSON ``\\uXXXX``, URL and HTML escapes undone (a token
    no scrubber knew may be stored escaped by another tool)."""
    import html
    from urllib.parse import unquote_plus

    yield value
    if "\\u" in value:
        yield _JSON_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), value)
    if "%" in value:
        yield unquote_plus(value)
    if "&" in value:
        yield html.unescape(value)


def _credential(value: str) -> bool:
    """Whether an ``Authorization`` value may be a credential: not empty, and not a placeholder
    such as pytest-recording users' ``DUMMY``, ``<REDACTED>``, ``***`` or pytest-radix's own."""
    value = value.strip()
    return bool(value) and _PLACEHOLDER_AUTH.fullmatch(value) is None


def audit_paths(paths: Iterable[Path], secret: str | None = None) -> list[Finding]:
    """Every finding in the files named and under the directories named."""
    return [finding for path in cassette_files(paths) for finding in audit_file(path, secret)]


def default_cassette_dir(start: Path) -> Path:
    """The cassette directory as pytest-radix resolves it, without starting pytest:
    ``$RADIX_CASSETTE_DIR``, else ``radix_cassette_dir`` of the nearest pytest configuration
    file (relative to it), else ``tests/cassettes`` beside that file (or under ``start``)."""
    from_env = os.environ.get("RADIX_CASSETTE_DIR", "").strip()
    if from_env:
        return start / Path(from_env).expanduser()
    project, value = _project(start)
    return project / (value or "tests/cassettes")


def _project(start: Path) -> tuple[Path, str | None]:
    """The directory of the nearest pytest configuration file (else ``start``), and its
    ``radix_cassette_dir``."""
    for directory in (start, *start.parents):
        for name, section in _CONFIG_FILES:
            found, value = _ini_value(directory / name, section)
            if found:
                return directory, value
    return start, None


def default_paths(start: Path) -> list[Path]:
    """What ``audit`` checks without a path: the cassette directory, and every other directory
    named ``cassettes`` in the project (pytest-recording keeps its cassettes in one beside each
    test file), outside hidden, virtual environment and ``node_modules`` directories."""
    own = Path(os.path.normpath(default_cassette_dir(start)))
    found: list[Path] = []
    for root, directories, _ in os.walk(_project(start)[0]):
        kept = []
        for name in sorted(directories):
            path = Path(root, name)
            if name.startswith(".") or name == "node_modules" or path == own:
                continue
            if (path / "pyvenv.cfg").exists():
                continue
            if name == "cassettes":
                found.append(path)
            else:
                kept.append(name)
        directories[:] = kept
    if own.exists() and not any(own.is_relative_to(other) for other in found):
        return [own, *found]
    return found or [own]


_CONFIG_FILES = (
    ("pytest.ini", "pytest"),
    (".pytest.ini", "pytest"),
    ("pyproject.toml", "tool.pytest.ini_options"),
    ("tox.ini", "pytest"),
    ("setup.cfg", "tool:pytest"),
)


def _ini_value(path: Path, section: str) -> tuple[bool, str | None]:
    """Whether ``path`` is a pytest configuration file, and its ``radix_cassette_dir``."""
    if not path.is_file():
        return False, None
    if path.suffix == ".toml":
        try:
            tomllib = importlib.import_module("tomllib")
        except ImportError:  # Python 3.10, where pytest itself depends on tomli
            tomllib = importlib.import_module("tomli")
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False, None
        options = table.get("tool", {}).get("pytest", {}).get("ini_options")
        if not isinstance(options, dict):
            return False, None
        value = options.get("radix_cassette_dir")
        return True, str(value) if value else None
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return False, None
    if not parser.has_section(section):
        return path.name in ("pytest.ini", ".pytest.ini"), None
    return True, parser.get(section, "radix_cassette_dir", fallback=None) or None


def main(arguments: list[str]) -> int:
    """Audit the paths (default: the cassette directories, see :func:`default_paths`);
    exit 1 on findings, 2 when a path does not exist."""
    paths = [Path(a) for a in arguments] or default_paths(Path.cwd())
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"pytest-radix audit: no such file or directory: {', '.join(missing)}")
        return 2
    secret = os.environ.get("RADIX_CLIENT_SECRET", "").strip() or None
    findings = audit_paths(paths, secret)
    for path, line, what in findings:
        print(f"{path}:{line}: {what}")
    files = len(list(cassette_files(paths)))
    refused = sum(what.startswith(REFUSED) for _, _, what in findings)
    if findings:
        counts = [f"{len(findings) - refused} secret(s) found"] * (len(findings) > refused)
        counts += [f"{refused} file(s) refused"] * (refused > 0)
        print(f"pytest-radix audit: {', '.join(counts)} in {files} file(s)")
        return 1
    print(f"pytest-radix audit: {files} file(s) clean")
    return 0
