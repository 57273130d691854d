"""Base URLs: validation, origins and joining relative paths (standard library only)."""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from pytest_radix.errors import RadixConfigError

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "check_base_url",
    "is_loopback",
    "join_url",
    "origin_of",
]

DEFAULT_BASE_URL = "https://api.radix.com"
DEFAULT_API_VERSION = "1.0.0"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost`` or a loopback address."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, *, allow_http: bool = False, label: str = "") -> str:
    """Return ``url`` normalised (no trailing slash), or raise :class:`RadixConfigError`.

    Only ``https`` is accepted, plus ``http`` to a loopback host or when ``allow_http``.
    """
    label = label or f"base_url={url!r}"
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RadixConfigError(
            f"{label} is not an absolute http(s) URL; "
            f"give scheme and host, for example {DEFAULT_BASE_URL!r}"
        )
    if parts.query or parts.fragment:
        raise RadixConfigError(f"{label} has a query or fragment; give only scheme, host and path")
    if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        raise RadixConfigError(
            f"{label} is plain http to a host that is not loopback: the API key would "
            "cross the network unencrypted; use https, or allow it with --radix-allow-http "
            "(RADIX_ALLOW_HTTP=1)"
        )
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise RadixConfigError(f"{label} has an invalid port") from None
    return url.strip().rstrip("/")


@functools.lru_cache(maxsize=512)
def origin_of(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of ``url``, with default ports made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def join_url(base_url: str, path: str) -> str:
    """Join ``path`` under ``base_url``'s path; an absolute URL is returned as it is."""
    if urlsplit(path).scheme:
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")
