"""Live responses under ``@pytest.mark.radix_vcr`` reach the test as the server sends them.

vcrpy's stubs (``VCRConnection.getresponse``, and the httpx transport's ``handle_request``) read
a live body to its end before the client sees a byte of it, which holds back a slow stream and
never returns from an endless one. While a ``radix_vcr`` test records, :func:`streaming` has
them hand the client the real response instead (``http.client``'s, urllib3's around it, or
httpx's), so ``.raw``, ``iter_content``, ``iter_lines``, ``readline`` and httpx's ``iter_*``
behave as without recording. The body bytes are kept as the client reads them and recorded, in
the request's place, when the body ends or the response is closed (or when the cassette is
saved, for a response never closed): what the test read is what is recorded.

The live branch of those stubs is done here again (vcrpy 7-9 have no hook for it), with the
same calls; replay, and the requests vcrpy does not record, are left to vcrpy.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from http.client import HTTPResponse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vcr.request import Request

    from pytest_radix.cassettes import RadixCassette

__all__ = ["streaming"]

_URLLIB3_OPTIONS = ("preload_content", "decode_content", "enforce_content_length")
"""What urllib3's pool passes to ``request`` about the response (vcrpy's stub drops it)."""

_OPTIONS = "_radix_response_options"


@contextlib.contextmanager
def streaming(cassette: RadixCassette) -> Iterator[None]:
    """While in the block, vcrpy's connections (patched into ``cassette``) record live
    responses as the client reads them."""
    from unittest import mock

    from vcr.stubs import VCRConnection, httpx_stubs

    vcr_cassette = cassette.vcr_cassette()
    original_handle = httpx_stubs._vcr_handle_request
    original_handle_async = httpx_stubs._vcr_handle_async_request
    original_request, original_getresponse = VCRConnection.request, VCRConnection.getresponse

    def request(self: Any, *args: Any, **kwargs: Any) -> None:
        original_request(self, *args, **kwargs)
        self.__dict__[_OPTIONS] = {k: kwargs[k] for k in _URLLIB3_OPTIONS if k in kwargs}

    def getresponse(self: Any, *args: Any, **kwargs: Any) -> Any:
        options = self.__dict__.pop(_OPTIONS, {})
        if self.cassette is not vcr_cassette or not _goes_live(vcr_cassette, self._vcr_request):
            return original_getresponse(self, *args, **kwargs)
        return _live(self, self._vcr_request, options, cassette)

    def handle(vcr: Any, real: Any, transport: Any, request: Any, httpx: Any) -> Any:
        body = b"".join(request.stream)
        request.stream = httpx.ByteStream(body)
        recorded = httpx_stubs._make_vcr_request(request, body)
        if vcr is not vcr_cassette or not _goes_live(vcr, recorded):
            return original_handle(vcr, real, transport, request, httpx)
        return _teed_httpx(real(transport, request), recorded, cassette, httpx)

    async def handle_async(vcr: Any, real: Any, transport: Any, request: Any, httpx: Any) -> Any:
        body = b"".join([part async for part in request.stream])
        request.stream = httpx.ByteStream(body)
        recorded = httpx_stubs._make_vcr_request(request, body)
        if vcr is not vcr_cassette or not _goes_live(vcr, recorded):
            return await original_handle_async(vcr, real, transport, request, httpx)
        return _teed_httpx(await real(transport, request), recorded, cassette, httpx)

    with (
        mock.patch.object(VCRConnection, "request", request),
        mock.patch.object(VCRConnection, "getresponse", getresponse),
        mock.patch.object(httpx_stubs, "_vcr_handle_request", handle),
        mock.patch.object(httpx_stubs, "_vcr_handle_async_request", handle_async),
    ):
        yield


def _goes_live(vcr_cassette: Any, request: Request) -> bool:
    """Whether vcrpy would send ``request`` to the network and record it."""
    return not (
        vcr_cassette.write_protected
        or vcr_cassette.can_play_response_for(request)
        or vcr_cassette.filter_request(request) is None
    )


def _live(
    connection: Any, request: Request, options: dict[str, Any], cassette: RadixCassette
) -> Any:
    """Send ``request`` as vcrpy's ``getresponse`` does when it records, and return
    the live response unread, teed into ``cassette``."""
    import urllib3
    from vcr.patch import force_reset

    real = connection.real_connection
    with force_reset():  # vcrpy's own classes out of the way, the real ones back
        urllib3_connection = isinstance(real, urllib3.connection.HTTPConnection)
        deferred = connection.__dict__.get("_deferred_connect")
        if deferred:
            connection._deferred_connect = None
            real.connect(*deferred[0], **deferred[1])
        real.request(
            method=request.method,
            url=connection._url(request.uri),
            body=request.body_bytes,
            headers=request.headers,
            **({**options, "preload_content": False} if urllib3_connection else {}),
        )
    response = real.getresponse()
    plain = response if isinstance(response, HTTPResponse) else response._original_response
    _WireTee.install(plain, cassette, request)
    if urllib3_connection and options.get("preload_content", True):
        response.data  # noqa: B018 - urllib3 preloads when asked to: read it through the tee
    return response


class _WireTee:
    """The body bytes an ``http.client`` response reads from its socket file, kept as read
    (chunk framing included; :func:`unchunked` takes it off)."""

    def __init__(self, fp: Any) -> None:
        self._fp = fp
        self.parts: list[bytes] = []
        self.done: Callable[[], None] = lambda: None

    @classmethod
    def install(cls, response: Any, cassette: RadixCassette, request: Request) -> None:
        """Tee ``response``'s body (an ``http.client`` response's) and hold its place in
        ``cassette`` until it is read."""
        from vcr.stubs import serialize_headers

        tee = cls(response.fp)
        headers = serialize_headers(response)  # now: urllib replaces ``msg`` with the reason

        def recorded() -> dict[str, Any]:
            body = b"".join(tee.parts)
            return {
                "status": {"code": response.status, "message": response.reason},
                "headers": headers,
                "body": {"string": unchunked(body) if response.chunked else body},
            }

        tee.done = cassette.hold(request, recorded)
        if response.fp is None:  # nothing left to read
            tee.done()
        else:
            response.fp = tee

    def _keep(self, data: bytes) -> bytes:
        if data:
            self.parts.append(bytes(data))
        return data

    def read(self, *args: Any) -> bytes:
        """Read, keeping what was read."""
        return self._keep(self._fp.read(*args))

    def read1(self, *args: Any) -> bytes:
        """Read at most one buffer, keeping what was read."""
        return self._keep(self._fp.read1(*args))

    def readline(self, *args: Any) -> bytes:
        """Read a line, keeping it."""
        return self._keep(self._fp.readline(*args))

    def readinto(self, buffer: Any) -> int | None:
        """Read into ``buffer``, keeping what was read."""
        count: int | None = self._fp.readinto(buffer)
        if count:
            self._keep(memoryview(buffer)[:count].tobytes())
        return count

    def close(self) -> None:
        """The response is done (its body ended, or it was closed): record what was read."""
        try:
            self._fp.close()
        finally:
            self.done()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fp, name)


def unchunked(wire: bytes) -> bytes:
    """The data of a ``Transfer-Encoding: chunked`` body, as far as ``wire`` holds it."""
    data: list[bytes] = []
    at = 0
    while (end := wire.find(b"\n", at)) >= 0:
        size_field = wire[at:end].split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            break
        if size == 0:
            break
        start = end + 1
        data.append(wire[start : start + size])
        at = start + size + 2  # the CRLF after the chunk
    return b"".join(data)


def _teed_httpx(response: Any, request: Request, cassette: RadixCassette, httpx: Any) -> Any:
    """``response`` (httpx's, unread) with its body teed into ``cassette``."""
    from vcr.stubs import httpx_stubs

    tee = _httpx_tee(httpx)(response.stream)
    response.stream = tee
    tee.done = cassette.hold(
        request, lambda: httpx_stubs._serialize_response(response, b"".join(tee.parts))
    )
    return response


@functools.cache
def _httpx_tee(httpx: Any) -> Any:
    """A byte stream class of ``httpx`` (or a fork) that keeps what is read of another."""

    class Tee(httpx.SyncByteStream, httpx.AsyncByteStream):  # type: ignore[misc]
        def __init__(self, stream: Any) -> None:
            self._stream = stream
            self.parts: list[bytes] = []
            self.done: Callable[[], None] = lambda: None

        def __iter__(self) -> Iterator[bytes]:
            for part in self._stream:
                self.parts.append(part)
                yield part

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for part in self._stream:
                self.parts.append(part)
                yield part

        def close(self) -> None:
            try:
                self._stream.close()
            finally:
                self.done()

        async def aclose(self) -> None:
            try:
                await self._stream.aclose()
            finally:
                self.done()

    return Tee
