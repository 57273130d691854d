"""Reading a cassette file as plain data, without vcrpy: its interactions as the file holds them
and its ``radix`` metadata, plus what both the replaying and the verifying side read from them
(a header, a body as bytes, the recording's base URL and API version).

A file is refused, naming it and the problem, when it is missing, empty, not UTF-8, not YAML,
an alias bomb, or not shaped as a vcrpy cassette.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from pytest_radix.bounded_yaml import AliasBombError, compose
from pytest_radix.errors import RadixCassetteError

__all__ = [
    "NOT_PLAIN",
    "MissingCassette",
    "body_bytes",
    "check_api_version",
    "header",
    "malformed",
    "moved_url",
    "plain_yaml",
    "read_cassette",
    "recorded_base",
]

Interaction = dict[str, Any]
"""``{"request": {...}, "response": {...}}`` as a cassette file holds it."""


class MissingCassette(RadixCassetteError):
    """The cassette file does not exist."""


def read_cassette(path: Path) -> tuple[list[Interaction], dict[str, Any]]:
    """The interactions of a cassette file (each checked to have a request's method, URI,
    headers and body and a response's status code, headers and body) and its ``radix``
    metadata (empty when the file has none).

    Raises :class:`MissingCassette` when there is no such file, :class:`RadixCassetteError`
    naming the file and the problem when it cannot be used; the file is left as it is.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise MissingCassette(f"cassette {path} does not exist") from None
    except UnicodeDecodeError:
        raise RadixCassetteError(f"cassette {path} is not UTF-8 text (corrupt?)") from None
    except OSError as error:
        raise RadixCassetteError(
            f"cassette {path} cannot be read: {error.strerror or type(error).__name__}"
        ) from None
    if not text.strip():
        raise RadixCassetteError(
            f"cassette {path} is empty; delete it and record again "
            "(--radix-record-mode=once), or restore it from version control"
        )
    try:
        data = plain_yaml(text)
        if data is NOT_PLAIN:  # a tag, a float...: vcrpy's own loader reads it
            from vcr.serializers import yamlserializer

            data = yamlserializer.deserialize(text)
    except AliasBombError as error:
        raise RadixCassetteError(f"cassette {path} is refused: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise RadixCassetteError(
            f"cassette {path} is not a readable vcrpy cassette: {problem}{where} "
            "(truncated, hand-edited, or holding a YAML tag that is not allowed?)"
        ) from None
    interactions = data.get("interactions") if isinstance(data, dict) else None
    if not isinstance(interactions, list):
        raise RadixCassetteError(
            f"cassette {path} is not a vcrpy cassette: it has no 'interactions' list"
        )
    for number, interaction in enumerate(interactions, 1):
        try:
            request, response = interaction["request"], interaction["response"]
            if not all(isinstance(request[key], str) for key in ("method", "uri")):
                raise TypeError("method and uri are text")
            request["body"], request["headers"].items()  # noqa: B018 - both present
            int(response["status"]["code"])
            response["headers"].items()
            response["body"].get("string")
        except (KeyError, TypeError, ValueError, AttributeError):
            raise malformed(path, number) from None
    metadata = data.get("radix")
    return interactions, metadata if isinstance(metadata, dict) else {}


def malformed(path: Path, number: int) -> RadixCassetteError:
    """The error for interaction ``number`` (from 1) of ``path`` not being one."""
    return RadixCassetteError(
        f"cassette {path}: interaction {number} is malformed (it needs request "
        "method/uri/headers/body and response status/headers/body)"
    )


NOT_PLAIN = object()
"""What :func:`plain_yaml` returns for a document it leaves to vcrpy's loader."""

_PLAIN_TAGS: dict[str, Callable[[str], Any]] = {
    "tag:yaml.org,2002:str": str,
    "tag:yaml.org,2002:int": int,
    "tag:yaml.org,2002:null": lambda value: None,
    "tag:yaml.org,2002:bool": lambda value: value.lower() in ("true", "yes", "on"),
}


def plain_yaml(text: str) -> Any:
    """Parse YAML made of mappings, sequences, strings, integers, booleans and nulls only
    (what cassettes hold), about twice as fast as constructing it; :data:`NOT_PLAIN` when
    anything else is there (another tag, a float, a merge key), for vcrpy's loader to read.

    Only libyaml's composer runs on the text: nothing is constructed from a tag. A document
    whose aliases expand too far raises :class:`AliasBombError` before anything walks it.
    """
    node = compose(text)
    try:
        return _plain_node(node) if node is not None else None
    except (KeyError, ValueError, TypeError, RecursionError):
        return NOT_PLAIN


def _plain_node(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return _PLAIN_TAGS[node.tag](node.value)
    if isinstance(node, yaml.SequenceNode) and node.tag == "tag:yaml.org,2002:seq":
        return [_plain_node(item) for item in node.value]
    if isinstance(node, yaml.MappingNode) and node.tag == "tag:yaml.org,2002:map":
        mapping = {}
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                raise ValueError("merge key")
            mapping[_plain_node(key)] = _plain_node(value)
        return mapping
    raise TypeError(type(node).__name__)


def header(headers: Mapping[str, Any], wanted: str) -> str | None:
    """A header's (first) value, whatever the case of its name (``wanted`` in lower case)."""
    for name, value in headers.items():
        if name.lower() == wanted:
            return str(value[0] if isinstance(value, list) and value else value)
    return None


def body_bytes(response: Mapping[str, Any]) -> bytes:
    """A recorded response's body as bytes."""
    body = response["body"].get("string") or b""
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def recorded_base(metadata: Mapping[str, Any], first_uri: str | None, base_url: str) -> str:
    """The base URL a cassette was recorded against: its metadata's, else (a file without
    pytest-radix's metadata) its first request's origin with this run's base path (a
    redirect's hops come after it), else this run's."""
    if metadata.get("base_url"):
        return str(metadata["base_url"])
    if first_uri is None:
        return base_url
    recorded = urlsplit(first_uri)
    return f"{recorded.scheme}://{recorded.netloc}{urlsplit(base_url).path}".rstrip("/")


def check_api_version(
    path: Path,
    metadata: Mapping[str, Any],
    request_headers: Iterable[Mapping[str, Any]],
    api_version: str,
) -> None:
    """Refuse a cassette recorded with another ``x-radix-version`` than this run's (read from
    its metadata, else from its requests' headers), saying how to replay or record it."""
    recorded = metadata.get("api_version") or next(
        (v for h in request_headers if (v := header(h, "x-radix-version")) is not None), None
    )
    if recorded and recorded != api_version:
        raise RadixCassetteError(
            f"cassette {path} was recorded with x-radix-version {recorded}, "
            f"this run uses {api_version}; replay it with --radix-api-version "
            f"{recorded}, or record it again with --radix-record-mode=all"
        )


def moved_url(url: str, base_url: str, recorded: str) -> str:
    """``url`` under this run's ``base_url`` moved under the ``recorded`` base URL (another
    URL as it is)."""
    base = base_url + "/"
    if url.startswith(base) or url == base_url:
        return recorded + "/" + url[len(base) :]
    return url
