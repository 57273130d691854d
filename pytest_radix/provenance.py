"""When and by what a cassette was recorded (its ``radix:`` key), and whether it is stale."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pytest_radix._version import __version__

__all__ = ["age_days", "recorded_at", "stamp"]

_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def stamp(previous: Mapping[str, Any]) -> dict[str, str]:
    """The provenance of a cassette written now: ``recorded_at`` and ``plugin_version``; one
    that adds to a recording (``previous`` holds its ``recorded_at``) keeps that and sets
    ``updated_at``."""
    now = _now().strftime(_FORMAT)
    kept = previous.get("recorded_at")
    if isinstance(kept, str) and recorded_at(previous) is not None:
        return {"recorded_at": kept, "updated_at": now, "plugin_version": __version__}
    return {"recorded_at": now, "plugin_version": __version__}


def recorded_at(metadata: Mapping[str, Any]) -> dt.datetime | None:
    """The cassette's ``recorded_at``, or ``None`` when it has none (or not a readable one)."""
    value = metadata.get("recorded_at")
    try:
        parsed = dt.datetime.strptime(str(value), _FORMAT)
    except ValueError:
        return None
    return parsed.replace(tzinfo=dt.timezone.utc)


def age_days(metadata: Mapping[str, Any]) -> float:
    """How many days ago the cassette was recorded (infinite without ``recorded_at``)."""
    when = recorded_at(metadata)
    if when is None:
        return float("inf")
    return (_now() - when).total_seconds() / 86400
