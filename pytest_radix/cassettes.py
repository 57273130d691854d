"""Record and replay Radix traffic at ``RadixSession``'s transport, in vcrpy's cassette format.

No HTTP library is patched: a :class:`~pytest_radix.replay.CassetteAdapter` is mounted on the
session and either plays a recorded response from a :class:`RadixCassette` or sends the request
live and records it there. Cassettes are vcrpy YAML
(its serializer, ``Request`` and matchers) with one extra top-level key, ``radix``, holding the
base URL and API version of the recording and its provenance. Requests are matched on method,
the path relative to the base URL and the query, so a suite recorded against one base URL
replays under another.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from vcr import matchers
from vcr.cassette import Cassette
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request
from vcr.serializers import compat, yamlserializer

from pytest_radix.bodies import decompress
from pytest_radix.cassette_files import (
    MissingCassette,
    check_api_version,
    header,
    malformed,
    moved_url,
    read_cassette,
    recorded_base,
)
from pytest_radix.errors import RadixCassetteError
from pytest_radix.files import atomic_write, os_reason
from pytest_radix.masking import known_secrets
from pytest_radix.matching import MATCH_ON
from pytest_radix.provenance import stamp
from pytest_radix.replay import DROPPED_RESPONSE_HEADERS
from pytest_radix.scrubbing import PLACEHOLDER, find_leak, scrub_body, scrub_text
from pytest_radix.urls import origin_of

__all__ = [
    "FORMAT_VERSION",
    "RadixCassette",
    "load_cassette_file",
    "save_cassette_file",
]

FORMAT_VERSION = 1
"""vcrpy's cassette format version, written in every cassette."""

SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
"""Request headers never recorded."""

Filter = Callable[[Any], Any]
"""A vcrpy ``before_record_request``/``before_record_response`` hook."""


class _Persister:
    """vcrpy's persister interface (loading only) over :func:`load_cassette_file`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.metadata: dict[str, Any] = {}
        self.found = False

    def load_cassette(self, cassette_path: str | Path, serializer: Any) -> tuple[list[Any], ...]:
        try:
            interactions, self.metadata = load_cassette_file(self.path)
        except MissingCassette:
            raise CassetteNotFoundError() from None
        self.found = True
        return [i[0] for i in interactions], [i[1] for i in interactions]


class _VcrCassette(Cassette):  # type: ignore[misc]
    """vcrpy's ``Cassette``, taking the interactions it loads as they are: they were scrubbed
    when saved and nothing else holds them, so they are neither filtered nor copied again."""

    reading = True
    """Whether ``append`` is still being called by the load (set to ``False`` after it)."""

    def append(self, request: Request, response: dict[str, Any]) -> None:
        """Add an interaction: as read while loading, else through vcrpy's filters."""
        if self.reading:
            self.data.append((request, response))
        else:
            super().append(request, response)


def load_cassette_file(path: Path) -> tuple[list[tuple[Request, dict[str, Any]]], dict[str, Any]]:
    """Read a cassette: its interactions, as vcrpy's ``Request`` and response dict, and its
    ``radix`` metadata (see :func:`~pytest_radix.cassette_files.read_cassette`)."""
    interactions, metadata = read_cassette(path)
    loaded = []
    for number, interaction in enumerate(interactions, 1):
        try:
            request = Request._from_dict(interaction["request"])
        except TypeError:  # a key vcrpy's Request does not take
            raise malformed(path, number) from None
        loaded.append((request, compat.convert_to_bytes(interaction["response"])))
    return loaded, metadata


def save_cassette_file(
    path: Path,
    interactions: list[tuple[Request, dict[str, Any]]],
    metadata: Mapping[str, Any],
    *,
    scrubbed: Collection[int] = (),
) -> None:
    """Write a cassette atomically, after checking it holds no known secret.

    Each interaction is scrubbed again (secrets learnt since it was recorded go too), but for
    the responses whose ``id`` is in ``scrubbed``: those were scrubbed with every secret known
    now. The text goes to a temp file beside ``path``; only when it is clean does it replace
    ``path``. On a hit the temp file is removed, the old cassette stays, and
    :class:`RadixCassetteError` says what kind of secret was found (never the value).
    """
    entries = [
        {
            "request": compat.convert_to_unicode(scrub_request(request)._to_dict()),
            "response": compat.convert_to_unicode(
                _decoded(path, response if id(response) in scrubbed else scrub_response(response))
            ),
        }
        for request, response in interactions
    ]
    data: dict[str, Any] = {"interactions": entries, "version": FORMAT_VERSION}
    if metadata:
        data["radix"] = dict(metadata)
    # Checked before writing: all of it but the text bodies just scrubbed by the same search
    # (it cannot find in them what it replaced; the written file is checked whole below).
    before_writing = [
        _without_text_body(entry) if id(response) in scrubbed else entry
        for entry, (_, response) in zip(entries, interactions, strict=True)
    ]
    text = yamlserializer.serialize(data)

    def refuse(document: Any, content: str = "") -> None:
        leak = find_leak(document, content)
        if leak is not None:
            raise RadixCassetteError(
                f"cassette {path} was not saved: after scrubbing it still held {leak} "
                "(a user filter or an unusual encoding kept it); the previous file is unchanged"
            )

    def check(temp: Path) -> None:  # the text as written: YAML's own escapes included
        with temp.open(encoding="utf-8") as stream:  # in overlapping pieces: less memory
            tail = ""
            while piece := stream.read(_CHECKED_PIECE):
                refuse(None, tail + piece)
                tail = piece[-_CHECK_OVERLAP:]

    refuse([before_writing, data.get("radix")])  # a leak is never written, not even to a temp file
    try:
        atomic_write(path, text, check=check)
    except OSError as error:
        raise RadixCassetteError(
            f"cassette {path} could not be written: {os_reason(error)}; the previous file, "
            "if any, is unchanged"
        ) from None


def _decoded(path: Path, response: dict[str, Any]) -> dict[str, Any]:
    """``response`` (scrubbed), refused when its body is still compressed: a coding with no
    decoder here (zstd, br without brotli) leaves bytes that no check can read."""
    coding = header(response["headers"], "content-encoding")
    if coding and coding.strip().lower() != "identity" and response["body"].get("string"):
        raise RadixCassetteError(
            f"cassette {path} was not saved: a response body is in Content-Encoding "
            f"{coding!r}, which pytest-radix cannot decode here to check it for secrets; "
            "install its decoder (brotli for br, zstandard for zstd) and record again"
        )
    return response


def _without_text_body(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` without its response body when that is text (bytes stay: only the check before
    writing looks inside them)."""
    response = entry["response"]
    if not isinstance(response["body"].get("string"), str):
        return entry
    return {**entry, "response": {**response, "body": {}}}


_CHECKED_PIECE = 8 * 1024 * 1024
_CHECK_OVERLAP = 64 * 1024  # longer than any encoded secret or JWT


def scrub_request(request: Request) -> Request:
    """A copy of ``request`` without secret headers, ``client_secret`` or any known secret."""
    request = copy.copy(request)
    request.headers = {
        name: scrub_text(str(value))
        for name, value in request.headers.items()
        if name.lower() not in SECRET_HEADERS
    }
    body = request.body
    if isinstance(body, bytes):
        body = _decompressed(body, request.headers)
    request.body = body = scrub_body(body, header(request.headers, "content-type"))
    request.uri = scrub_text(request.uri)
    _fix_length(request.headers, body, lambda size: size)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``response`` decompressed, with cookies' values made the placeholder, tokens
    made look-alikes and known secrets replaced (in the body's charset)."""
    response = {**response, "body": dict(response["body"])}
    headers = response["headers"] = {
        name: [
            _cookie_placeholder(str(v)) if name.lower() == "set-cookie" else scrub_text(str(v))
            for v in (values if isinstance(values, list) else [values])
        ]
        for name, values in response["headers"].items()
    }
    body = response["body"].get("string")
    if isinstance(body, bytes):
        body = _decompressed(body, headers)
    if body is not None:
        body = response["body"]["string"] = scrub_body(body, header(headers, "content-type"))
    _fix_length(headers, body, lambda size: [size])
    return response


def _cookie_placeholder(value: str) -> str:
    """A ``Set-Cookie`` value keeping the cookie's name and attributes, with the placeholder as
    its value (so replay still sets the cookie)."""
    pair, separator, attributes = value.partition(";")
    name = pair.partition("=")[0].strip()
    return f"{scrub_text(name)}={PLACEHOLDER}{separator}{scrub_text(attributes)}"


def _decompressed(body: bytes, headers: MutableMapping[str, Any]) -> bytes:
    """``body`` with its ``Content-Encoding`` undone and that header removed, so that it is
    stored, scrubbed and replayed as plain text; as it is when it cannot be decoded here."""
    coding = header(headers, "content-encoding")
    if coding is None:
        return body
    plain = decompress(body, coding)
    if plain is None:
        return body
    for name in [n for n in headers if n.lower() == "content-encoding"]:
        del headers[name]
    return plain


def _fix_length(
    headers: MutableMapping[str, Any], body: bytes | str | None, value: Callable[[str], Any]
) -> None:
    """Make a ``Content-Length`` header agree with a body that scrubbing changed (an empty
    body, as HEAD's, keeps the header as sent)."""
    if not body:
        return
    size = len(body.encode("utf-8") if isinstance(body, str) else body or b"")
    for name in list(headers):
        if name.lower() == "content-length":
            headers[name] = value(str(size))


def _chain(user: Filter | None, ours: Filter) -> Filter:
    """The user's filter first, then ours: a user filter can add scrubbing, never undo it."""
    if user is None:
        return ours

    def both(item: Any) -> Any:
        item = user(item)
        return None if item is None else ours(item)

    return both


class RadixCassette:
    """One cassette file: what to replay, what to record, and when to save.

    ``mode`` is one of ``none``, ``once``, ``new_episodes`` and ``all`` (``verify`` has its own
    :class:`~pytest_radix.verifying.VerifiedCassette`). The file is
    read on first use, so a test that makes no request touches nothing. While ``paused()`` is true,
    vcrpy's patching neither matches nor records anything here (the run's own ``/auth``).
    A file whose ``radix`` key ``expired()`` rejects is recorded again as if it were missing.
    """

    def __init__(
        self,
        path: Path,
        mode: str,
        *,
        base_url: str,
        api_version: str,
        record_command: str | Callable[[], str],
        repeats: bool = False,
        recorded_this_run: Callable[[], bool] = lambda: False,
        paused: Callable[[], bool] | None = None,
        expired: Callable[[Mapping[str, Any]], bool] | None = None,
        before_record_request: Filter | None = None,
        before_record_response: Filter | None = None,
    ) -> None:
        self.path = path
        self.mode = mode
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self._record_command = record_command
        self._repeats = repeats
        self._recorded_this_run = recorded_this_run
        self._paused = paused
        self._expired = expired
        self._request_filter = _chain(before_record_request, scrub_request)
        self._response_filter = _chain(before_record_response, scrub_response)
        self._last: tuple[Any, Any] = (None, None)
        self._lock = threading.RLock()
        self._cassette: Cassette | None = None
        self._recorded_base = self.base_url
        self._scrubbed: dict[int, tuple[Any, frozenset[str]]] = {}
        self._streams: list[_Held] = []
        self.match_on = (*MATCH_ON, self._same_origin)
        self.existed = False
        self._loaded_count = 0
        self.recorded = 0
        self.metadata: dict[str, Any] = {}
        """The ``radix`` key of the file as loaded (empty when it was not read)."""

    def vcr_cassette(self) -> Cassette:
        """The vcrpy ``Cassette`` behind this one, loaded (for vcrpy's own patching)."""
        with self._lock:
            return self._load()

    @property
    def played(self) -> int:
        """Responses replayed from this cassette (by the session or by vcrpy's patching)."""
        return int(self._cassette.play_count) if self._cassette is not None else 0

    @property
    def loaded(self) -> bool:
        """Whether the cassette was used (its file read, or recording started)."""
        return self._cassette is not None

    @property
    def loaded_count(self) -> int:
        """How many interactions the file held when it was read."""
        return self._loaded_count

    def played_indexes(self) -> set[int]:
        """The indexes of the file's interactions replayed so far."""
        if self._cassette is None:
            return set()
        counts = self._cassette.play_counts
        return {index for index, count in counts.items() if count and index < self._loaded_count}

    @property
    def pending(self) -> bool:
        """Whether there is recorded traffic not saved yet."""
        return self.recorded > 0 or bool(self._cassette is not None and self._cassette.dirty)

    def _load(self) -> Cassette:
        if self._cassette is not None:
            return self._cassette
        persister = _Persister(self.path)
        options: dict[str, Any] = {
            "path": str(self.path),
            "match_on": self.match_on,
            "before_record_request": self._filter_request,
            "before_record_response": self._filter_response,
            "allow_playback_repeats": self._repeats,
            "persister": persister,
            "serializer": yamlserializer,
        }
        if self.mode != "all":
            cassette = _VcrCassette.load(record_mode=self.mode, **options)
            self.existed = persister.found
            if self.existed and self._expired is not None and self._expired(persister.metadata):
                self.mode, self.existed, persister.metadata = "all", False, {}
        if self.mode == "all":  # recorded from nothing
            cassette = _VcrCassette(record_mode="all", **options)
        cassette.reading = False
        self.metadata = persister.metadata
        made = cassette.requests
        check_api_version(self.path, self.metadata, (r.headers for r in made), self.api_version)
        first = made[0].uri if made else None
        self._recorded_base = recorded_base(self.metadata, first, self.base_url)
        self._loaded_count = len(cassette.data)
        self._cassette = cassette
        return cassette

    def _same_origin(self, r1: Request, r2: Request) -> None:
        """vcrpy matcher: requests to the base URL (this run's or the recording's) match each
        other; one to another origin (a redirect's hop) matches only that origin."""
        bases = {origin_of(self.base_url), origin_of(self._recorded_base)}
        first, second = origin_of(r1.uri), origin_of(r2.uri)
        if first != second and not (first in bases and second in bases):
            raise AssertionError(f"{r1.uri} is not on the origin of {r2.uri}")

    def _filter_response(self, response: Any) -> Any:
        """Scrub a response before it is recorded, remembering the secrets it was scrubbed of
        (saving scrubs it again only when more are known by then)."""
        scrubbed = self._response_filter(response)
        if scrubbed is not None:
            self._scrubbed[id(scrubbed)] = (scrubbed, known_secrets())
        return scrubbed

    def _filter_request(self, request: Any) -> Any:
        """Scrub a request before it is matched or recorded (once per request object); none
        while ``paused()`` says so (vcrpy then neither matches nor records it)."""
        if self._paused is not None and self._paused():
            return None
        if getattr(request, "_radix_scrubbed", False):
            return request
        last, scrubbed = self._last
        if last is request:
            return scrubbed
        scrubbed = self._request_filter(request)
        if scrubbed is not None:
            scrubbed._radix_scrubbed = True
        self._last = (request, scrubbed)
        return scrubbed

    @property
    def replay_only(self) -> bool:
        """Whether an unrecorded request is an error rather than recorded (in ``once``: the
        cassette existed before this run; one written during it may be added to)."""
        if self.mode == "once" and self.existed:
            return not self._recorded_this_run()
        return self.mode == "none"

    @property
    def record_command(self) -> str:
        """The command that records what this cassette misses."""
        command = self._record_command
        return command if isinstance(command, str) else command()

    def to_recorded(self, request: requests.PreparedRequest, *, to_match: bool = False) -> Request:
        """The request as vcrpy sees it, its URL moved under the recording's base URL.

        ``to_match``: only what matching looks at (method, path, query), which is cheaper.
        """
        url = moved_url(request.url or "", self.base_url, self._recorded_base)
        if to_match:
            return Request(request.method or "GET", url, None, {})
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        return Request(request.method or "GET", url, body, dict(request.headers))

    def play(self, request: requests.PreparedRequest) -> dict[str, Any] | None:
        """The recorded response for ``request``, or ``None`` when it must go live.

        Raises :class:`RadixCassetteError` when it is not recorded and may not be.
        """
        with self._lock:
            cassette = self._load()
            recorded = self.to_recorded(request, to_match=True)
            if self.mode != "all" and cassette.can_play_response_for(recorded):
                return dict(cassette.play_response(recorded))
            if self.replay_only:
                raise RadixCassetteError(self._unrecorded(request))
            return None

    def _unrecorded(self, request: requests.PreparedRequest) -> str:
        parts = urlsplit(request.url or "")
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        state = "is not in" if self.existed else "cannot be replayed: there is no"
        return (
            f"{request.method} {target} {state} cassette {self.path}; "
            f"record it with: {self.record_command}"
        )

    def record(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        *,
        stream: bool = False,
    ) -> None:
        """Add the live exchange (scrubbed by the cassette's filters).

        vcrpy's own patching (``@pytest.mark.radix_vcr``) never records it too: the live
        transport is invisible to it. A ``stream`` response is left for the test to read as
        the server sends it; what the test read by the time the cassette is saved is recorded,
        in its place.
        """
        with self._lock:
            cassette = self._load()
            if stream:
                tee = _Tee(response)
                self.hold(self.to_recorded(request), lambda: _recorded_response(response, tee))
            else:
                cassette.append(self.to_recorded(request), _recorded_response(response))
                self.recorded += 1

    def hold(self, request: Request, response: Callable[[], dict[str, Any]]) -> Callable[[], None]:
        """Keep the next place in the cassette for a response still being read (a stream).

        ``response`` makes vcrpy's dict of what was read so far. The returned function records
        it in its place (once, when the test is done reading); what is still held when the
        cassette is saved is recorded then.
        """
        with self._lock:
            held = _Held(len(self._load().data) + len(self._streams), request, response)
            self._streams.append(held)
            self.recorded += 1

        def done() -> None:
            with self._lock:
                if held in self._streams and self._cassette is not None:
                    self._streams.remove(held)
                    self._add_stream(self._cassette, held)

        return done

    def _add_streams(self, cassette: Cassette) -> None:
        """Record what the tests read of their streamed responses, each in its place."""
        for held in self._streams:
            self._add_stream(cassette, held)
        self._streams.clear()

    @staticmethod
    def _add_stream(cassette: Cassette, held: _Held) -> None:
        before = len(cassette.data)
        cassette.append(held.request, held.response())
        if len(cassette.data) > before:
            cassette.data.insert(held.place, cassette.data.pop())

    def release(self) -> None:
        """Let go of the loaded interactions (they are read again if used again)."""
        with self._lock:
            self._cassette = None
            self._last = (None, None)
            self._scrubbed.clear()
            self._streams.clear()
            self.recorded = 0

    def save(self, *, merge: bool = False) -> bool:
        """Write the cassette if anything was recorded; returns whether it was written.

        ``merge``: another process wrote the file meanwhile; keep what it holds and add what
        this one recorded that it does not have.
        """
        with self._lock:
            cassette = self._cassette
            if cassette is None or not self.pending:
                return False
            self._add_streams(cassette)
            previous = self.metadata
            interactions = list(cassette.data)
            if merge and self.path.exists():
                current, previous = load_cassette_file(self.path)
                interactions = current + [
                    new
                    for new in interactions[self._loaded_count :]
                    if not any(
                        matchers.requests_match(new[0], old[0], self.match_on) for old in current
                    )
                ]
            metadata = {"base_url": self._recorded_base, "api_version": self.api_version}
            secrets = known_secrets()
            scrubbed = {key for key, (_, known) in self._scrubbed.items() if known == secrets}
            save_cassette_file(
                self.path, interactions, metadata | stamp(previous), scrubbed=scrubbed
            )
            self.recorded = 0
            cassette.dirty = False
            return True


@dataclasses.dataclass(eq=False)
class _Held:
    """A streamed response's place in the cassette, until the test is done reading it."""

    place: int
    request: Request
    response: Callable[[], dict[str, Any]]


class _Tee:
    """What a test reads of a streamed live response, kept as it is read (``.raw.read``,
    ``iter_content`` and ``iter_lines`` all read through urllib3's ``read``/``read_chunked``)."""

    def __init__(self, response: requests.Response) -> None:
        self.parts: list[bytes] = []
        self.decoded = True
        raw = response.raw
        read, read_chunked = raw.read, raw.read_chunked

        def teed_read(*args: Any, **kwargs: Any) -> bytes:
            data: bytes = read(*args, **kwargs)
            self._add(data, kwargs.get("decode_content"), raw.decode_content)
            return data

        def teed_chunks(*args: Any, **kwargs: Any) -> Iterator[bytes]:
            for data in read_chunked(*args, **kwargs):
                self._add(data, kwargs.get("decode_content"), raw.decode_content)
                yield data

        setattr(raw, "read", teed_read)  # noqa: B010 - on this response only
        setattr(raw, "read_chunked", teed_chunks)  # noqa: B010 - on this response only

    def _add(self, data: bytes, decode: bool | None, default: bool) -> None:
        if data:
            self.parts.append(data)
            self.decoded &= default if decode is None else decode


def _recorded_response(response: requests.Response, tee: _Tee | None = None) -> dict[str, Any]:
    """vcrpy's dict for a live response: its body decoded (so no Content-Encoding), or what the
    test read of a streamed one (``tee``), as it read it."""
    body = response.content if tee is None else b"".join(tee.parts)
    dropped = DROPPED_RESPONSE_HEADERS
    if tee is not None and not tee.decoded:  # read raw: still encoded as the header says
        dropped = dropped - {"content-encoding"}
    headers: dict[str, list[str]] = {}
    raw_headers: Any = getattr(response.raw, "headers", None) or response.headers
    for name, value in getattr(raw_headers, "iteritems", raw_headers.items)():
        if name.lower() not in dropped:
            headers.setdefault(name, []).append(value)
    for name in list(headers):
        if name.lower() == "content-length" and body:  # HEAD's stays as sent
            headers[name] = [str(len(body))]
    return {
        "status": {"code": response.status_code, "message": response.reason or ""},
        "headers": headers,
        "body": {"string": body},
    }
