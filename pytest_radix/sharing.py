"""One token for many processes and runs: a hand-over file for pytest-xdist workers, and the
opt-in token cache across runs.

Mechanism: the first process that needs a token takes a file lock (``filelock``), reads the
token file, and only if it holds no token with time left does it authenticate and write the new
token there (atomically, mode 0600). Every other process waits on the lock and then reads that
token. The file holds the token, its lifetime and when it was received — never the API key.
Renewals go the same way, so a run makes one ``/auth`` per token lifetime whatever the number of
workers. A process that dies holding the lock releases it with its file descriptor; a lock that is
still held after ``LOCK_TIMEOUT`` seconds fails the request naming the lock file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pytest_radix.errors import (
    NOT_SENT_AGAIN,
    RadixAuthError,
    RadixCassetteError,
    RadixError,
    RadixTransportError,
    RadixWarning,
)
from pytest_radix.files import atomic_write, os_reason
from pytest_radix.token import MAX_LIFETIME, RadixToken

__all__ = [
    "LOCK_TIMEOUT",
    "SharedTokenSource",
    "TokenFile",
    "cache_directory",
    "cache_file",
    "lock_wait",
    "token_file",
]

LOCK_TIMEOUT = 120.0
"""Seconds to wait for another process holding the token lock before failing."""


class TokenFile:
    """A token kept in a 0600 file, guarded by a lock file beside it."""

    def __init__(
        self, path: Path, *, source: str = "shared", lock_timeout: float = LOCK_TIMEOUT
    ) -> None:
        self.path = path
        self.source = source
        self.lock_path = path.with_name(path.name + ".lock")
        self.lock_timeout = lock_timeout

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the lock; fail, naming the lock file, after ``lock_timeout`` seconds."""
        import filelock

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = filelock.FileLock(str(self.lock_path), timeout=self.lock_timeout, mode=0o600)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise RadixTransportError(
                f"waited {self.lock_timeout:g} s for the token lock {self.lock_path}: another "
                "pytest process (an xdist worker of this run, or a run sharing the token cache) "
                "held it all that time, authenticating; /auth is answering very slowly. Do not "
                "delete the lock: a process that ends releases it"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def load(self) -> RadixToken | None:
        """The stored token with its remaining lifetime, or ``None`` if absent or unreadable."""
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
            value, lifetime = str(data["token"]), float(data["lifetime"])
            age = time.time() - float(data["received"])
            claims = data.get("claims") or {}
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None
        if not value or not isinstance(claims, dict):
            return None
        if not (0 <= age < MAX_LIFETIME and 0 < lifetime <= MAX_LIFETIME):  # nan, inf, 1e999
            return None
        return RadixToken(value, lifetime, claims, time.monotonic() - age, self.source)

    def unusable(self) -> str | None:
        """Why this file must not hold a token (a token cache others could read or replace),
        or ``None``. Its directory is made (0700) if missing."""
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            info = directory.stat()
        except OSError as error:
            return f"{directory} cannot be made: {os_reason(error)}"
        if not os.access(directory, os.W_OK | os.X_OK):  # read-only, or not ours to write
            return f"{directory} cannot be written"
        if not hasattr(os, "getuid"):  # no POSIX owners and modes to check
            return None
        if info.st_uid != os.getuid():
            return f"{directory} belongs to another user (uid {info.st_uid})"
        if info.st_mode & 0o022:
            return (
                f"{directory} can be written by others (mode {stat.S_IMODE(info.st_mode):04o}); "
                f"run: chmod 700 {directory}"
            )
        for path in (self.path, self.lock_path):
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            except OSError as error:
                return f"{path} cannot be read: {os_reason(error)}"
            if not stat.S_ISREG(info.st_mode):
                return f"{path} is not a regular file; delete it"
            if info.st_uid != os.getuid():
                return f"{path} belongs to another user (uid {info.st_uid}); delete it"
            if info.st_mode & 0o077:
                return (
                    f"{path} can be read by others (mode {stat.S_IMODE(info.st_mode):04o}); "
                    f"run: chmod 600 {path}, or delete it"
                )
        return None

    def save(self, token: RadixToken) -> None:
        """Store ``token`` (value, lifetime, receipt time, claims)."""
        received = time.time() - (time.monotonic() - token.received_at)
        document = {
            "token": str(token.value),
            "lifetime": token.lifetime,
            "received": received,
            "claims": dict(token.claims),
        }
        atomic_write(self.path, json.dumps(document), private=True)

    @property
    def _refusal_path(self) -> Path:
        return self.path.with_name(self.path.name + ".refused")

    def remember_refusal(self, error: RadixError) -> None:
        """Keep a failure no other worker of the run should meet again — refused credentials,
        an ``/auth`` that went unanswered, a ``radix_auth.yaml`` that could not be written — for
        the others (hand-over files only: the token cache must not remember a failure into the
        next run)."""
        kind = _FAILURE_KINDS.get(type(error))
        if self.source != "shared" or kind is None:
            return
        if isinstance(error, RadixTransportError) and not error.timed_out:
            return
        document = {"kind": kind, "status": getattr(error, "status", None), "message": str(error)}
        atomic_write(self._refusal_path, json.dumps(document), private=True)

    def refusal(self) -> RadixError | None:
        """The failure another worker met and remembered, if any."""
        try:
            document: Any = json.loads(self._refusal_path.read_text(encoding="utf-8"))
            message, status, kind = (
                str(document["message"]),
                document.get("status"),
                document.get("kind"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if kind == "timeout":
            return RadixTransportError(message + NOT_SENT_AGAIN, timed_out=True, sent=False)
        if kind == "cassette":
            return RadixCassetteError(message)
        return RadixAuthError(message, status=status, sent=False)

    def remove(self) -> None:
        """Delete the stored token."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


_FAILURE_KINDS: dict[type[RadixError], str] = {
    RadixAuthError: "refused",
    RadixTransportError: "timeout",
    RadixCassetteError: "cassette",
}


def cache_directory() -> Path:
    """``$XDG_CACHE_HOME/pytest-radix`` or ``~/.cache/pytest-radix``. A relative
    ``XDG_CACHE_HOME`` (``.cache``, an unexpanded ``~/.cache``) is ignored, as the XDG rules
    say: it would put the token in the project tree."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "pytest-radix"


def lock_wait(timeout: float) -> float:
    """How long to wait for the token lock: at least as long as its holder can take for one
    ``/auth`` (every attempt, each after the longest ``Retry-After`` honoured)."""
    from pytest_radix.transport import MAX_RETRY_AFTER, RETRIES

    return max(LOCK_TIMEOUT, (RETRIES + 1) * (timeout + MAX_RETRY_AFTER))


def token_file(
    directory: Path,
    base_url: str,
    client_id: str,
    api_version: str,
    *,
    source: str = "shared",
    lock_timeout: float = LOCK_TIMEOUT,
) -> TokenFile:
    """The token file in ``directory`` for one base URL, client id and API version."""
    key = hashlib.sha256(f"{base_url}\n{client_id}\n{api_version}".encode()).hexdigest()[:32]
    return TokenFile(directory / f"token-{key}.json", source=source, lock_timeout=lock_timeout)


def cache_file(
    base_url: str, client_id: str, api_version: str, *, lock_timeout: float = LOCK_TIMEOUT
) -> TokenFile:
    """The token cache for one base URL, client id and API version."""
    return token_file(
        cache_directory(),
        base_url,
        client_id,
        api_version,
        source="cache",
        lock_timeout=lock_timeout,
    )


class SharedTokenSource:
    """Fetches tokens through token files: reuse one with time left, else authenticate once.

    ``fetch`` makes a live token; ``stores`` are tried in order (the first store's lock is held
    while authenticating). ``is_due`` says whether a stored token is too close to expiry.
    """

    def __init__(
        self,
        fetch: Callable[[], RadixToken],
        stores: Sequence[TokenFile],
        is_due: Callable[[RadixToken], bool],
    ) -> None:
        self._fetch = fetch
        self.stores = list(stores)
        self._is_due = is_due
        self._rejected: set[str] = set()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the first store's lock (a token cache whose lock cannot be made is dropped)."""
        with self._lock, contextlib.ExitStack() as held:
            while self.stores:
                try:
                    held.enter_context(self.stores[0].locked())
                    break
                except OSError as error:
                    self._drop(self.stores[0], error)
            yield

    def fetch(self) -> RadixToken:
        """A token with time left: a stored one, or a new one that is then stored."""
        if not self.stores:
            return self._fetch()
        with self._locked():
            if not self.stores:  # the one store, a token cache, was dropped: its lock failed
                return self._fetch()
            for store in self.stores:
                token = store.load()
                if token is not None and not self._usable(token):
                    token = None
                if token is not None:
                    for other in list(self.stores):
                        if other is not store:
                            self._save(other, token)
                    return token
            first = self.stores[0]
            refused = first.refusal()
            if refused is not None:  # another worker's credentials were refused: same ones
                raise refused
            try:
                token = self._fetch()
            except RadixError as error:
                first.remember_refusal(error)
                raise
            for store in list(self.stores):
                self._save(store, token)
            return token

    def _save(self, store: TokenFile, token: RadixToken) -> None:
        """Store ``token``; a token cache that cannot be written is dropped with a warning."""
        try:
            store.save(token)
        except OSError as error:
            self._drop(store, error)

    def _drop(self, store: TokenFile, error: OSError) -> None:
        """Go on without a token cache that cannot be written (warning); any other store's
        failure is an error naming it."""
        if store.source != "cache":
            raise RadixError(
                f"could not store the token in {store.path}: {os_reason(error)}"
            ) from None
        self.stores.remove(store)
        warnings.warn(
            RadixWarning(
                f"pytest-radix: the token cache {store.path} cannot be written "
                f"({os_reason(error)}); running without it"
            ),
            stacklevel=3,
        )

    def _usable(self, token: RadixToken) -> bool:
        return str(token.value) not in self._rejected and not self._is_due(token)

    def discard(self, value: str) -> None:
        """The API refused the token ``value``: never hand it out again, drop stored copies."""
        self._rejected.add(value)
        if not self.stores:
            return
        with self._locked():
            for store in self.stores:
                stored = store.load()
                if stored is not None and str(stored.value) == value:
                    store.remove()
