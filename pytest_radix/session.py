"""``RadixSession``: a ``requests.Session`` for the Radix API."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import BaseAdapter

from pytest_radix.auth import RadixAuth
from pytest_radix.errors import RadixConfigError, RadixError, RadixTransportError
from pytest_radix.transport import describe_failure, make_adapter
from pytest_radix.urls import check_base_url, join_url, origin_of

__all__ = ["RadixSession"]


class RadixSession(requests.Session):
    """A ``requests.Session`` bound to the Radix API.

    Paths are relative to the base URL (``session.get("/export")``), every request carries
    ``x-radix-version`` and the timeout (per attempt), the bearer token goes only to the base
    URL's origin, and idempotent requests are retried on 429/500/502/503/504 and connection
    errors (``Retry-After`` honoured up to 60 s). After the last attempt the last response is
    returned. ``base_url``, ``api_version`` and ``timeout`` default to those of ``auth``;
    ``adapter`` lets several sessions share one connection pool.
    """

    def __init__(
        self,
        auth: RadixAuth,
        *,
        base_url: str | None = None,
        api_version: str | None = None,
        timeout: float | None = None,
        adapter: BaseAdapter | None = None,
    ) -> None:
        super().__init__()
        self.base_url = check_base_url(base_url or auth.base_url, allow_http=auth.allow_http)
        if origin_of(self.base_url) != origin_of(auth.base_url):
            raise RadixConfigError(
                f"RadixSession base_url {self.base_url!r} is not on the origin of the "
                f"RadixAuth's base_url {auth.base_url!r}; the token only goes where it came from"
            )
        self.api_version = api_version or auth.api_version
        self.timeout = auth.timeout if timeout is None else timeout
        self.auth = auth
        self.headers["x-radix-version"] = self.api_version
        self.adapter = adapter or make_adapter()
        self._owns_adapter = adapter is None
        scheme, host, port = origin_of(self.base_url)
        self.mount(f"{scheme}://{host}:{port}/", self.adapter)
        self.mount(f"{scheme}://{host}/", self.adapter)

    def __repr__(self) -> str:
        return f"RadixSession(base_url={self.base_url!r}, api_version={self.api_version!r})"

    def close(self) -> None:
        """Close the session; a pool passed in as ``adapter`` stays open for its other users."""
        for adapter in {id(a): a for a in self.adapters.values()}.values():
            if adapter is not self.adapter or self._owns_adapter:
                adapter.close()

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Send a request; ``url`` may be a path relative to the base URL."""
        if isinstance(url, bytes):
            url = url.decode()
        return super().request(method, join_url(self.base_url, url), *args, **kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send a prepared request with the session's timeout, naming the host on failure."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        try:
            return super().send(request, **kwargs)
        except RadixError:
            raise
        except requests.RequestException as error:
            what = describe_failure(error, timeout=kwargs["timeout"])
            raise RadixTransportError(f"{request.method} {request.url} failed: {what}") from None
