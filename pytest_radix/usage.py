"""What a run did with its cassettes, and what that says about them: which are stale, which
files and recorded requests no test used, and how to prune those.

Paths are kept relative to the cassette directory (POSIX form), so that the findings of xdist
workers travel as JSON and add up on the controller. No pytest here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Usage", "is_radix_cassette", "stale_summary"]

_RADIX_KEY = re.compile(rb"^radix:", re.MULTILINE)


@dataclass
class Usage:
    """Cassettes used by a run (or by one xdist worker), and what was found about them."""

    used: set[str] = field(default_factory=set)
    """Cassettes a test, a fixture or the authentication loaded or wrote."""
    written: set[str] = field(default_factory=set)
    """Cassettes written in this run (all their requests are new)."""
    played: dict[str, set[int]] = field(default_factory=dict)
    """For each replayed cassette, the indexes of its recorded requests that were replayed."""
    sizes: dict[str, int] = field(default_factory=dict)
    """For each replayed cassette, how many requests it held."""
    stale: dict[str, str | None] = field(default_factory=dict)
    """Replayed cassettes older than the maximum age: the date each was recorded (if known)."""
    drift: list[dict[str, Any]] = field(default_factory=list)
    """What ``--radix-verify`` found, per cassette (see :mod:`pytest_radix.drift`)."""
    narrowed: set[str] = field(default_factory=set)
    """Why this process ran part of the suite only (tests deselected by a plugin)."""

    def note_replayed(self, name: str, size: int, played: set[int]) -> None:
        """``name`` was loaded holding ``size`` requests, of which ``played`` were replayed."""
        self.used.add(name)
        self.sizes[name] = size
        self.played.setdefault(name, set()).update(played)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able copy (what an xdist worker sends to the controller)."""
        return {
            "used": sorted(self.used),
            "written": sorted(self.written),
            "played": {name: sorted(indexes) for name, indexes in self.played.items()},
            "sizes": self.sizes,
            "stale": self.stale,
            "drift": self.drift,
            "narrowed": sorted(self.narrowed),
        }

    def merge(self, data: dict[str, Any]) -> None:
        """Add what another process found (:meth:`to_json`'s form)."""
        self.used.update(data.get("used", ()))
        self.written.update(data.get("written", ()))
        for name, indexes in data.get("played", {}).items():
            self.played.setdefault(name, set()).update(indexes)
        self.sizes.update(data.get("sizes", {}))
        self.stale.update(data.get("stale", {}))
        self.drift.extend(data.get("drift", ()))
        self.narrowed.update(data.get("narrowed", ()))

    def unreplayed(self) -> dict[str, list[int]]:
        """For each replayed cassette not written in this run, its requests never replayed."""
        found: dict[str, list[int]] = {}
        for name, size in self.sizes.items():
            if name in self.written:
                continue
            missed = [index for index in range(size) if index not in self.played.get(name, ())]
            if missed:
                found[name] = missed
        return found

    def unused(self, directory: Path) -> list[str]:
        """The pytest-radix cassettes under ``directory`` that nothing in this run used (only
        those files are read)."""
        return [
            name
            for name in _yaml_files(directory)
            if name not in self.used and is_radix_cassette(directory / name)
        ]


def _yaml_files(directory: Path) -> Iterator[str]:
    """The YAML files under ``directory`` (no hidden temp file, no symlink), relative to it."""
    for path in sorted(directory.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or path.name.startswith("."):
            continue
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(directory).as_posix()


def is_radix_cassette(path: Path) -> bool:
    """Whether ``path`` is a pytest-radix cassette: YAML with a top-level ``radix:`` key (other
    files, another plugin's cassettes among them, are never reported or touched)."""
    try:
        return _RADIX_KEY.search(path.read_bytes()) is not None
    except OSError:
        return False


def stale_summary(stale: dict[str, str | None], max_age: float) -> str:
    """``radix: K stale cassettes (older than D days; oldest <path> recorded <date>)``; a
    cassette recorded on an unknown date counts as the oldest."""
    oldest = min(stale, key=lambda name: (stale[name] or "", name))
    when = stale[oldest] or "on an unknown date"
    count = len(stale)
    return (
        f"radix: {count} stale cassette{'' if count == 1 else 's'} (older than {max_age:g} "
        f"day{'' if max_age == 1 else 's'}; oldest {oldest} recorded {when})"
    )
