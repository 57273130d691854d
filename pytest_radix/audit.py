"""``python -m pytest_radix audit``: find secrets left in cassette files.

Reports ``file:line`` for every ``Authorization`` value, JWT whose signature is not the
placeholder, ``client_secret`` that is not the placeholder, and the value of
``RADIX_CLIENT_SECRET`` (when set) in any escaped form. Never prints the values themselves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from pytest_radix.masking import escaped_forms
from pytest_radix.scrubbing import PLACEHOLDER

__all__ = ["Finding", "audit_file", "audit_paths", "cassette_files"]

_AUTH_KEY = re.compile(r"^(\s*-?\s*)['\"]?authorization['\"]?\s*:\s*(.*)$", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*-\s*(.+)$")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.([A-Za-z0-9_-]*)")
_CLIENT_SECRET = re.compile(
    r"client_secret\\*['\"]?\s*[:=]\s*\\*['\"]?([^'\"\\,}&\s]*)", re.IGNORECASE
)

Finding = tuple[Path, int, str]


def cassette_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The YAML files named, and those under the directories named."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            yield path


def audit_file(path: Path, secret: str | None = None) -> list[Finding]:
    """Every finding in one file, with its line number."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        return [(path, 0, f"cannot be read: {error.strerror or type(error).__name__}")]
    forms = sorted(escaped_forms(secret), key=len, reverse=True) if secret else []
    found: list[Finding] = []
    for number, line in enumerate(lines, 1):
        header = _AUTH_KEY.match(line)
        if header is not None:
            value = header.group(2).strip()
            if value and value not in ("[]", "''", '""', "null", "~"):
                found.append((path, number, "Authorization header with a value"))
            elif number < len(lines) and _LIST_ITEM.match(lines[number]):
                found.append((path, number + 1, "Authorization header with a value"))
        for match in _JWT.finditer(line):
            if match.group(1) != PLACEHOLDER:
                found.append((path, number, "JWT with a signature that is not the placeholder"))
        for match in _CLIENT_SECRET.finditer(line):
            if match.group(1) and match.group(1) != PLACEHOLDER:
                found.append((path, number, "client_secret that is not the placeholder"))
        if any(form in line for form in forms):
            found.append((path, number, "the value of RADIX_CLIENT_SECRET"))
    return found


def audit_paths(paths: Iterable[Path], secret: str | None = None) -> list[Finding]:
    """Every finding in the files named and under the directories named."""
    return [finding for path in cassette_files(paths) for finding in audit_file(path, secret)]


def main(arguments: list[str]) -> int:
    """Audit the paths (default: ``$RADIX_CASSETTE_DIR`` or ``tests/cassettes``); 1 on findings."""
    default = os.environ.get("RADIX_CASSETTE_DIR", "").strip() or "tests/cassettes"
    paths = [Path(a) for a in arguments] or [Path(default)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"pytest-radix audit: no such file or directory: {', '.join(missing)}")
        return 2
    secret = os.environ.get("RADIX_CLIENT_SECRET", "").strip() or None
    findings = audit_paths(paths, secret)
    for path, line, what in findings:
        print(f"{path}:{line}: {what}")
    files = len(list(cassette_files(paths)))
    if findings:
        print(f"pytest-radix audit: {len(findings)} secret(s) found in {files} file(s)")
        return 1
    print(f"pytest-radix audit: {files} file(s) clean")
    return 0
