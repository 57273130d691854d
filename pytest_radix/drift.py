"""How a live answer drifted from the recorded one: status, media type, and the structure of a
JSON body (each path with its JSON types; values are never compared and never shown).

Breaking kinds: ``status``, ``media-type``, ``removed``, ``type``. Additive kinds: ``added``,
``nullable`` (a type became or stopped being null), ``unrecorded`` (a request the cassette
lacks), ``unmade`` (a recorded request not made). No pytest here.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "ADDITIVE",
    "BREAKING",
    "Answer",
    "Change",
    "compare",
    "compare_structure",
    "drift_report",
    "request_label",
    "structure",
]

BREAKING = frozenset({"status", "media-type", "removed", "type"})
ADDITIVE = frozenset({"added", "nullable", "unrecorded", "unmade"})
ITEMS = "[*]"
"""The path segment of an array's elements (all elements merged)."""
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")

Path = tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """One difference between a recorded answer and the live one."""

    request: str
    """The request, as ``GET /export`` (path relative to the base URL, with its query)."""
    kind: str
    path: str | None = None
    """The JSON path (``$[*].compsAverage``), for structure changes."""
    recorded: str | None = None
    """The recorded type(s), status or media type (``None``: absent)."""
    live: str | None = None
    """The live type(s), status or media type (``None``: absent)."""

    @property
    def breaking(self) -> bool:
        """Whether the change can break a client (else it is additive)."""
        return self.kind in BREAKING

    def to_json(self) -> dict[str, Any]:
        """``{"request", "kind", "path", "recorded", "live"}``."""
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """What matters of a response for drift: status, ``Content-Type`` and body."""

    status: int
    content_type: str | None
    body: bytes


def request_label(method: str, url: str, base_url: str) -> str:
    """``GET /export?page=2``: the path relative to ``base_url``'s path, and the query."""
    parts = urlsplit(url)
    prefix = urlsplit(base_url).path.rstrip("/")
    path = parts.path[len(prefix) :] if parts.path.startswith(prefix + "/") else parts.path
    return f"{method.upper()} {path or '/'}" + (f"?{parts.query}" if parts.query else "")


def media_type(content_type: str | None) -> str | None:
    """``application/json`` of ``Application/JSON; charset=utf-8``."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _json_body(answer: Answer) -> tuple[bool, Any]:
    """Whether ``answer`` holds JSON, and the document."""
    kind = media_type(answer.content_type) or ""
    if not (kind == "application/json" or kind.endswith("+json")):
        return False, None
    try:
        return True, json.loads(answer.body)
    except (ValueError, RecursionError):
        return False, None


_TYPES: dict[type, str] = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def json_type(value: Any) -> str:
    """The JSON type of a decoded value: object, array, string, number, boolean or null."""
    return _TYPES.get(type(value)) or _slow_type(value)


def _slow_type(value: Any) -> str:
    for kind, name in _TYPES.items():
        if isinstance(value, kind):
            return name
    return "string"


@functools.lru_cache(maxsize=4096)
def _segment(key: str) -> str:
    """The path segment of an object key: ``.key``, or ``["odd key"]``."""
    return f".{key}" if _NAME.fullmatch(key) else f"[{json.dumps(key)}]"


def structure(document: Any) -> dict[Path, set[str]]:
    """Every path of ``document`` with the JSON types found there (array elements merged)."""
    types: dict[Path, set[str]] = {}

    def walk(value: Any, path: Path) -> None:
        kind = json_type(value)
        found = types.get(path)
        if found is None:
            types[path] = {kind}
        else:
            found.add(kind)
        if kind == "object":
            for key, child in value.items():
                walk(child, (*path, _segment(key)))
        elif kind == "array":
            items = (*path, ITEMS)
            for child in value:
                walk(child, items)

    walk(document, ())
    return types


def format_path(path: Path) -> str:
    """``$`` followed by the segments: ``$[*].createdAt.$date``."""
    return "$" + "".join(path)


def _types(types: set[str] | None) -> str | None:
    return "|".join(sorted(types)) if types else None


def _unknown_elements(path: Path, side: Mapping[Path, set[str]]) -> bool:
    """Whether ``path`` lies inside an array that is always empty on ``side`` (its elements'
    structure is unknown there, not changed)."""
    return any(
        segment == ITEMS and path[: i + 1] not in side and "array" in side.get(path[:i], ())
        for i, segment in enumerate(path)
    )


def compare_structure(request: str, recorded: Any, live: Any) -> list[Change]:
    """The structure changes from the ``recorded`` JSON document to the ``live`` one; a change
    of a path explains those under it, which are not listed again."""
    old, new = structure(recorded), structure(live)
    if old == new:
        return []
    changes: list[Change] = []
    explained: set[Path] = set()
    for path in sorted(old.keys() | new.keys(), key=lambda p: (len(p), p)):
        if any(path[:i] in explained for i in range(1, len(path))):
            continue
        before, after = old.get(path), new.get(path)
        if before is None or after is None:
            if _unknown_elements(path, old if before is None else new):
                continue
            kind = "added" if before is None else "removed"
        else:
            solid_before, solid_after = before - {"null"}, after - {"null"}
            if solid_before and solid_after and solid_before != solid_after:
                kind = "type"
            elif ("null" in before) != ("null" in after):
                kind = "nullable"
            else:
                continue
        changes.append(Change(request, kind, format_path(path), _types(before), _types(after)))
        if kind != "nullable":
            explained.add(path)
    return changes


def compare(request: str, recorded: Answer, live: Answer) -> list[Change]:
    """The changes from a recorded answer to the live one: the status, else the media type,
    else (both JSON, and not the same bytes) the structure."""
    if recorded.status != live.status:
        return [Change(request, "status", None, str(recorded.status), str(live.status))]
    before, after = media_type(recorded.content_type), media_type(live.content_type)
    if before != after:
        return [Change(request, "media-type", None, before, after)]
    if recorded.body == live.body:  # the same bytes: the same structure, nothing to parse
        return []
    old_json, old = _json_body(recorded)
    new_json, new = _json_body(live)
    if old_json and new_json:
        try:
            return compare_structure(request, old, new)
        except RecursionError:  # nested deeper than Python recurses: left uncompared
            return []
    return []


def _order(change: Mapping[str, Any]) -> tuple[str, bool, str, str]:
    """Per request, breaking changes first, then by path."""
    return change["request"], change["kind"] not in BREAKING, change["path"] or "", change["kind"]


def drift_report(findings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The drift report of a run, from its findings (``{"path", "test", "changes"}`` each, as
    xdist workers send them): one entry per cassette (tests and changes combined, duplicates
    dropped), sorted by path (changes by request, breaking first), and the totals of breaking
    and additive changes."""
    cassettes: dict[str, dict[str, Any]] = {}
    for finding in findings:
        entry = cassettes.setdefault(finding["path"], {"tests": [], "changes": []})
        if finding["test"] and finding["test"] not in entry["tests"]:
            entry["tests"].append(finding["test"])
        for change in finding["changes"]:
            if change not in entry["changes"]:
                entry["changes"].append(dict(change))
    listed = [
        {
            "path": path,
            "test": ", ".join(entry["tests"]),
            "changes": sorted(entry["changes"], key=_order),
        }
        for path, entry in sorted(cassettes.items())
        if entry["changes"]
    ]
    kinds = [change["kind"] for entry in listed for change in entry["changes"]]
    return {
        "cassettes": listed,
        "breaking": sum(kind in BREAKING for kind in kinds),
        "additive": sum(kind in ADDITIVE for kind in kinds),
    }
