"""The HTTP transport shared by authentication and data requests: retries, adapters, errors.

The adapter's connection pools use urllib3's own connection classes, taken when this module is
imported, so vcrpy's patching (pytest-recording's ``@pytest.mark.vcr``, ``radix_vcr``) never
sees Radix traffic: it is recorded, scrubbed, by pytest-radix's cassettes alone.
"""

from __future__ import annotations

from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3 import connection, connectionpool
from urllib3.poolmanager import PoolManager, ProxyManager
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from pytest_radix.errors import RadixTransportError
from pytest_radix.urls import origin_of

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRIES",
    "NotSentAgain",
    "RadixAdapter",
    "RadixRetry",
    "RetryAfterTooLong",
    "describe_failure",
    "make_adapter",
    "request_failed",
]

RETRIES = 3
"""Retries after the first attempt, so at most four attempts per request."""

MAX_RETRY_AFTER = 60.0
"""The longest ``Retry-After`` honoured; a longer one fails the request at once."""

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses retried (on ``/auth`` and idempotent requests)."""


class RetryAfterTooLong(RadixTransportError):
    """A ``Retry-After`` over :data:`MAX_RETRY_AFTER`; the sender adds the method and URL."""


class RadixRetry(Retry):
    """urllib3's ``Retry``, refusing to sleep for a ``Retry-After`` over :data:`MAX_RETRY_AFTER`."""

    def sleep_for_retry(self, response: BaseHTTPResponse) -> bool:
        """Sleep as ``Retry-After`` asks, or raise when it asks for too long."""
        wait = self.get_retry_after(response)
        if wait is not None and wait > MAX_RETRY_AFTER:
            raise RetryAfterTooLong(
                f"answered {response.status} with Retry-After: "
                f"{response.headers.get('Retry-After')} ({wait:.0f} s), longer than the "
                f"{MAX_RETRY_AFTER:.0f} s pytest-radix waits; try again later"
            )
        return super().sleep_for_retry(response)


_C = TypeVar("_C", bound=type)


def _unpatched(cls: _C) -> _C:
    """urllib3's class itself, also when this module is imported inside a vcrpy cassette (its
    stand-ins name the class they replace in ``_baseclass``)."""
    base: _C = getattr(cls, "_baseclass", cls)
    return base


class _HTTPConnectionPool(connectionpool.HTTPConnectionPool):
    ConnectionCls = _unpatched(connection.HTTPConnection)


class _HTTPSConnectionPool(connectionpool.HTTPSConnectionPool):
    ConnectionCls = _unpatched(connection.HTTPSConnection)


_POOLS = {"http": _HTTPConnectionPool, "https": _HTTPSConnectionPool}


class NotSentAgain(requests.exceptions.ConnectionError):
    """A request not sent: an earlier one to its origin got no answer on any attempt."""


class RadixAdapter(HTTPAdapter):
    """requests' ``HTTPAdapter`` whose pools (direct or through an HTTP proxy) keep urllib3's
    connection classes while vcrpy patches them: HTTP mocking libraries never see its traffic.

    Once a request got no answer within its timeout on any attempt, the adapter sends nothing
    more to that origin (:class:`NotSentAgain`): a server that accepts connections and never
    answers costs one request's attempts, not every request's.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unanswered: dict[tuple[str, str, int | None], str] = {}

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Send ``request``, unless its origin went unanswered earlier."""
        origin = origin_of(request.url or "")
        first = self._unanswered.get(origin)
        if first is not None:
            raise NotSentAgain(
                f"{first} got no answer on any attempt earlier in this run; nothing more is "
                "sent to that server",
                request=request,
            )
        try:
            return super().send(request, *args, **kwargs)
        except requests.RequestException as error:
            if timed_out(error):
                self._unanswered.setdefault(origin, f"{request.method} {request.url}")
            raise

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """requests' pool manager, with pools of urllib3's own connections."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> PoolManager:
        """requests' proxy manager, with pools of urllib3's own connections."""
        manager: PoolManager = super().proxy_manager_for(proxy, **kwargs)
        if isinstance(manager, ProxyManager):  # not SOCKS, which has its own classes
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


def make_adapter(*, retry_post: bool = False, pool_maxsize: int = 32) -> HTTPAdapter:
    """An adapter retrying 429/5xx and connection errors; POST too when ``retry_post``."""
    methods = Retry.DEFAULT_ALLOWED_METHODS | ({"POST"} if retry_post else set())
    retry = RadixRetry(
        total=RETRIES,
        connect=RETRIES,
        read=RETRIES,
        status=RETRIES,
        other=0,
        redirect=0 if retry_post else None,
        allowed_methods=frozenset(methods),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.1,
        backoff_max=2.0,
        raise_on_status=False,
        raise_on_redirect=False,
        respect_retry_after_header=True,
    )
    return RadixAdapter(max_retries=retry, pool_connections=4, pool_maxsize=pool_maxsize)


def request_failed(
    method: str, url: str, error: BaseException, *, timeout: float
) -> RadixTransportError:
    """The error for a request that got no usable answer, naming its method and URL."""
    if isinstance(error, RetryAfterTooLong):
        return RadixTransportError(f"{method} {url} {error}")
    if isinstance(error, NotSentAgain):
        return RadixTransportError(f"{method} {url} was not sent: {error}", sent=False)
    reason = describe_failure(error, timeout=timeout)
    return RadixTransportError(f"{method} {url} failed: {reason}", timed_out=timed_out(error))


def timed_out(error: BaseException) -> bool:
    """Whether a failed request got no answer within its timeout."""
    text = " ".join(str(r) for r in _chain(error)).lower()
    return isinstance(error, requests.exceptions.Timeout) or "timed out" in text


def describe_failure(error: BaseException, *, timeout: float) -> str:
    """Say in a few words what went wrong with a request, without quoting any payload."""
    reasons = _chain(error)
    text = " ".join(str(r) for r in reasons).lower()
    if isinstance(error, requests.exceptions.SSLError) or "ssl" in text or "tls" in text:
        return "the TLS handshake failed (is it an https URL for a plain http server?)"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return f"no connection within {timeout:g} s per attempt"
    if isinstance(error, requests.exceptions.ReadTimeout) or "read timed out" in text:
        return f"no answer within {timeout:g} s per attempt"
    if "refused" in text:
        return "the connection was refused (is the server running, is the port right?)"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "the host name does not resolve"
    if isinstance(error, requests.exceptions.ChunkedEncodingError) or any(
        word in text for word in ("incomplete", "closed", "aborted", "reset", "remotedisconnected")
    ):
        return "the connection was closed before the response was complete"
    return f"the request failed ({type(reasons[-1]).__name__})"


def _chain(error: BaseException) -> list[BaseException]:
    """The error, its causes and the reasons urllib3 wraps inside it."""
    found: list[BaseException] = []
    todo: list[Any] = [error]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or item in found or len(found) > 20:
            continue
        found.append(item)
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return found
