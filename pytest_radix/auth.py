"""Authentication: one ``/auth`` exchange, and ``RadixAuth``, which keeps a token fresh."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.auth import AuthBase

from pytest_radix.credentials import RadixCredentials
from pytest_radix.errors import (
    NOT_SENT_AGAIN,
    RadixAuthError,
    RadixError,
    RadixResponseError,
    RadixTransportError,
)
from pytest_radix.masking import MaskedStr, mask
from pytest_radix.token import RadixToken, read_auth_response
from pytest_radix.transport import RetryAfterTooLong, make_adapter, request_failed
from pytest_radix.urls import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    check_base_url,
    join_url,
    origin_of,
)

__all__ = ["REFRESH_MARGIN", "RadixAuth", "auth_session", "authenticate", "needs_renewal"]

REFRESH_MARGIN = 60.0
"""A token is renewed when less than min(this, half its lifetime) remains."""

_MESSAGE_KEYS = ("message", "error_description", "error", "detail", "title", "msg")


def auth_session(adapter: BaseAdapter | None = None) -> requests.Session:
    """A ``requests.Session`` for ``/auth``: POST retried, no ``.netrc``, redirects not followed.

    ``adapter`` replaces the default transport (one that retries POST), e.g. with a cassette.
    """
    session = requests.Session()
    adapter = adapter or make_adapter(retry_post=True, pool_maxsize=4)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.auth = _no_auth  # an explicit auth keeps requests from reading ~/.netrc
    return session


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def authenticate(
    credentials: RadixCredentials,
    *,
    base_url: str = DEFAULT_BASE_URL,
    api_version: str = DEFAULT_API_VERSION,
    timeout: float = 30.0,
    allow_http: bool = False,
    session: requests.Session | None = None,
) -> RadixToken:
    """Exchange the credentials for a token with one ``POST {base_url}/auth``.

    Raises :class:`RadixAuthError` when the credentials are refused (one request, no retry),
    :class:`RadixTransportError` when no answer comes, :class:`RadixResponseError` when the
    answer holds no token or is a redirect (never followed: the key would go elsewhere).
    """
    base_url = check_base_url(base_url, allow_http=allow_http)
    url = join_url(base_url, "/auth")
    host = urlsplit(url).netloc
    http = session or auth_session()
    failure = None
    try:
        response = http.post(
            url,
            json={"client_id": credentials.client_id, "client_secret": credentials.client_secret},
            headers={"Content-Type": "application/json", "x-radix-version": api_version},
            timeout=timeout,
            allow_redirects=False,
        )
    except (RetryAfterTooLong, requests.RequestException) as error:
        failure = request_failed("POST", url, error, timeout=timeout)
    finally:
        if session is None:
            http.close()
    if failure is not None:  # raised here, not in the except: no __context__ holding the body
        raise failure
    return _token_from(response, credentials, url, host)


def _token_from(
    response: requests.Response, credentials: RadixCredentials, url: str, host: str
) -> RadixToken:
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("Location", "(no Location header)")
        raise RadixResponseError(
            f"POST {url} answered {status} redirecting to {location}; pytest-radix never "
            "follows a redirect from /auth (it would send the API key elsewhere): set the "
            "base URL to the right address"
        )
    if status in (400, 401, 403):
        raise RadixAuthError(
            f"POST {url} refused client id {credentials.client_id!r}: {status} "
            f"{response.reason or ''}".rstrip()
            + f": {_server_message(response)}",
            status=status,
        )
    if status == 429 or status >= 500:
        raise RadixTransportError(
            f"POST {url} answered {status} {response.reason or ''}".rstrip()
            + " on every attempt; the server is failing or rate limiting, try again later"
        )
    if status >= 400 or status in (204, 205):
        raise RadixResponseError(
            f"POST {url} answered {status} {response.reason or ''}".rstrip()
            + f": {_server_message(response)}; is the base URL right?"
        )
    # the body was read by the session (not streamed): a cut-off body failed in post() above
    return read_auth_response(response.headers.get("Content-Type", ""), response.content, host=host)


def _server_message(response: requests.Response) -> str:
    """The server's own explanation, cut to 200 characters and masked."""
    text = response.text.strip()
    try:
        document: Any = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        for key in _MESSAGE_KEYS:
            value = document.get(key)
            if isinstance(value, str) and value.strip():
                text = value.strip()
                break
    if "<html" in text[:200].lower():
        return "(an HTML page)"
    text = " ".join(text.split())
    return mask(text[:200] + ("…" if len(text) > 200 else "")) or "(no message)"


class RadixAuth(AuthBase):
    """Bearer authentication for requests to the Radix API, renewing the token when due.

    The token is fetched on first use, renewed when less than min(60 s, half its lifetime) is
    left (measured on the monotonic clock since receipt) and once when a request is answered
    401. Credentials refused once are not sent again: later uses raise the same
    :class:`RadixAuthError`. Thread-safe: concurrent callers wait for one renewal. The header
    is only attached to requests for the base URL's origin. ``fetch`` replaces the ``/auth``
    exchange (to share tokens between processes, say); ``discard`` is told of each token the
    API refused.
    """

    def __init__(
        self,
        credentials: RadixCredentials,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        allow_http: bool = False,
        session: requests.Session | None = None,
        fetch: Callable[[], RadixToken] | None = None,
        discard: Callable[[str], None] | None = None,
    ) -> None:
        self.credentials = credentials
        self.base_url = check_base_url(base_url, allow_http=allow_http)
        self.api_version = api_version
        self.timeout = timeout
        self.allow_http = allow_http
        self.auth_count = 0
        """``/auth`` requests sent for this auth (not replayed ones, not tokens shared by
        another xdist worker or taken from the token cache)."""
        self._origin = origin_of(self.base_url)
        self._session = session
        self._fetch = fetch or self._authenticate
        self._discard = discard
        self._token: RadixToken | None = None
        self._failed: RadixAuthError | RadixTransportError | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"RadixAuth(client_id={self.credentials.client_id!r}, base_url={self.base_url!r}, "
            f"auth_count={self.auth_count})"
        )

    def _authenticate(self) -> RadixToken:
        if self._session is None:
            self._session = auth_session()
        return authenticate(
            self.credentials,
            base_url=self.base_url,
            api_version=self.api_version,
            timeout=self.timeout,
            allow_http=self.allow_http,
            session=self._session,
        )

    @property
    def token(self) -> RadixToken:
        """A token with time left, fetched or renewed as needed."""
        token = self._token
        if token is not None and not needs_renewal(token):
            return token
        with self._lock:
            if self._failed is not None:  # refused credentials, or a server that never answers
                raise _again(self._failed)
            token = self._token
            if token is None or needs_renewal(token):
                try:
                    token = self._token = self._fetch()
                except (RadixAuthError, RadixTransportError) as error:
                    if isinstance(error, RadixAuthError) or error.timed_out:
                        self.auth_count += error.sent  # unless another worker sent it
                        self._failed = error
                    raise
                self.auth_count += token.source == "live"
            return token

    def invalidate(self, token: RadixToken | str | None = None) -> None:
        """Drop the held token (only if it is still ``token``) so the next use renews it."""
        with self._lock:
            held = self._token
            if held is not None and (token is None or str(held.value) == _value_of(token)):
                self._token = None

    def reject(self, token: RadixToken | str) -> None:
        """The API answered 401 to ``token``: drop it here and wherever it is shared."""
        self.invalidate(token)
        if self._discard is not None:
            self._discard(_value_of(token))

    def applies_to(self, url: str) -> bool:
        """Whether ``url`` is on the base URL's origin (the only place the token goes)."""
        return origin_of(url) == self._origin

    def header(self) -> str:
        """The ``Authorization`` value, ``Bearer <token>``, as a ``str`` whose repr is masked
        (``response.request.headers`` shows it)."""
        return MaskedStr(f"Bearer {self.token.value}")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Attach ``Authorization: Bearer …`` to a request for the base URL's origin."""
        if request.url and self.applies_to(request.url):
            request.headers["Authorization"] = self.header()
            request.register_hook("response", self._retry_on_401)  # type: ignore[no-untyped-call]
        return request

    def _retry_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """On a 401 from the base URL's origin, renew the token once and send the request again.

        (A redirect to another origin carries this hook along, but never the token.)
        """
        if response.status_code != 401 or not self.applies_to(response.request.url or ""):
            return response
        response.content  # noqa: B018 - read the body so the connection goes back to the pool
        response.close()
        sent = response.request
        used = (sent.headers.get("Authorization") or "").removeprefix("Bearer ")
        self.reject(used)
        retry = sent.copy()
        retry.hooks["response"] = [h for h in retry.hooks["response"] if h != self._retry_on_401]
        retry.headers["Authorization"] = self.header()
        again = response.connection.send(retry, **kwargs)
        again.history.append(response)
        again.request = retry
        return again

    def close(self) -> None:
        """Close the connection pool used for ``/auth``."""
        if self._session is not None:
            self._session.close()


def needs_renewal(token: RadixToken) -> bool:
    """Whether less than min(60 s, half its lifetime) is left on ``token``."""
    return token.expires_within(min(REFRESH_MARGIN, token.lifetime / 2))


def _again(error: RadixAuthError | RadixTransportError) -> RadixError:
    """The error for an ``/auth`` not sent because an earlier one failed that way."""
    if isinstance(error, RadixAuthError):
        return RadixAuthError(str(error), status=error.status, sent=False)
    message = str(error).removesuffix(NOT_SENT_AGAIN) + NOT_SENT_AGAIN
    return RadixTransportError(message, timed_out=True, sent=False)


def _value_of(token: RadixToken | str) -> str:
    return str(token.value) if isinstance(token, RadixToken) else str(token)
