"""``RadixSession``: a ``requests.Session`` for the Radix API."""

from __future__ import annotations

import os
from typing import Any

import requests
from requests.adapters import BaseAdapter

from pytest_radix.auth import RadixAuth
from pytest_radix.errors import RadixConfigError
from pytest_radix.transport import RetryAfterTooLong, make_adapter, request_failed
from pytest_radix.urls import check_base_url, join_url, origin_of

__all__ = ["RadixSession"]

_ENVIRONMENT_VARIABLES = tuple(
    name
    for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "requests_ca_bundle")
    for name in (base, base.upper())
) + ("CURL_CA_BUNDLE",)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ENVIRONMENT_SETTINGS: dict[tuple[Any, ...], Any] = {}


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
        if base_url is None or base_url == auth.base_url:
            self.base_url = auth.base_url  # checked by RadixAuth already
        else:
            self.base_url = check_base_url(base_url, allow_http=auth.allow_http)
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
        netloc = f"[{host}]" if ":" in host else host
        self.mount(f"{scheme}://{netloc}:{port}/", self.adapter)
        if port == _DEFAULT_PORTS[scheme]:
            self.mount(f"{scheme}://{netloc}/", self.adapter)

    def __repr__(self) -> str:
        return f"RadixSession(base_url={self.base_url!r}, api_version={self.api_version!r})"

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: Any,
        stream: Any,
        verify: Any,
        cert: Any,
    ) -> Any:
        """requests' lookup of proxy and CA settings in the environment (which scans every
        variable on every request), remembered while those variables stay the same."""
        if not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        key = (
            origin_of(str(url or "")),
            tuple(os.environ.get(name) for name in _ENVIRONMENT_VARIABLES),
            repr(proxies),
            stream,
            repr(verify),
            repr(cert),
        )
        settings = _ENVIRONMENT_SETTINGS.get(key)
        if settings is None:
            if len(_ENVIRONMENT_SETTINGS) > 256:
                _ENVIRONMENT_SETTINGS.clear()
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            _ENVIRONMENT_SETTINGS[key] = settings
        return dict(settings)

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
        except (RetryAfterTooLong, requests.RequestException) as error:
            method, url = str(request.method), str(request.url)
            failure = request_failed(method, url, error, timeout=kwargs["timeout"])
        raise failure  # outside the except: no __context__ holding the request's headers
