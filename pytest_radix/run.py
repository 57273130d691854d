"""The state of one pytest run: resolved settings, the chosen mode, shared auth and counters."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_radix.config import RadixConfig
from pytest_radix.credentials import RadixCredentials
from pytest_radix.errors import RadixWarning
from pytest_radix.usage import Usage

if TYPE_CHECKING:
    from pytest_radix.recording import Recorder
    from pytest_radix.token import RadixToken

__all__ = ["RUN", "SKIP_PREFIX", "RadixRun", "missing_credentials"]

SKIP_PREFIX = "radix: no credentials"
"""Every skip for missing credentials starts with this, so the summary can count them."""


@dataclass
class RadixRun:
    """What the plugin keeps for one run (in ``config.stash``)."""

    config: RadixConfig
    mode: str
    mode_reason: str
    recorder: Recorder | None = None
    handover: Path | None = None
    """On an xdist worker, the run's hand-over directory (tokens shared with the others)."""
    radix_tests: int = 0
    skipped_for_credentials: int = 0
    worker_counts: dict[str, int] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    """What this process and its xdist workers did with the cassettes."""
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    auth_sent: int = 0
    """``/auth`` requests this process sent (counted as they go out: one cut short by a
    timeout, an interrupt or a failure counts too; replayed ones do not)."""
    flush: Callable[[], None] | None = None
    """Called after each ``/auth`` sent (an xdist worker keeps its counts on disk)."""

    def note_auth_sent(self) -> None:
        """An ``/auth`` request is going out."""
        self.auth_sent += 1
        if self.flush is not None:
            self.flush()

    def local_counts(self) -> dict[str, int]:
        """This process's ``/auth`` requests (replays not counted) and cassette counts."""
        cassettes = self.recorder.counts() if self.recorder else {}
        return {
            "auth": self.auth_sent,
            **{name: cassettes.get(name, 0) for name in ("replayed", "recorded", "unsaved")},
        }

    def counts(self) -> dict[str, int]:
        """The run's counts: this process's plus those of its xdist workers."""
        local = self.local_counts()
        return {name: local[name] + self.worker_counts.get(name, 0) for name in local}

    def token_source(
        self, credentials: RadixCredentials, config: RadixConfig
    ) -> tuple[Callable[[], RadixToken], Callable[[str], None] | None]:
        """How ``radix_auth`` gets tokens for ``config``'s client settings (the ``radix_config``
        fixture's, which a conftest may override): replayed or live, shared with the other
        xdist workers through the hand-over file, and (live mode, opt-in) through the token
        cache. Returns the ``fetch`` and ``discard`` callables for ``RadixAuth``."""
        from pytest_radix.auth import authenticate, needs_renewal
        from pytest_radix.sharing import SharedTokenSource, cache_file, lock_wait, token_file

        client = (config.base_url, credentials.client_id, config.api_version)
        wait = lock_wait(config.timeout)
        stores = [token_file(self.handover, *client, lock_timeout=wait)] if self.handover else []
        recorder = self.recorder
        if recorder is not None:  # cassettes: the token cache is not used while recording
            shared = None
            if stores:
                record = functools.partial(recorder.live_token, credentials, config)
                shared = SharedTokenSource(record, stores, needs_renewal)
            fetch = functools.partial(recorder.fetch, credentials, config, shared)
            return fetch, shared.discard if shared is not None else None

        def live() -> RadixToken:
            self.note_auth_sent()
            return authenticate(credentials, **config.client_settings())

        if config.token_cache:
            cache = cache_file(*client, lock_timeout=wait)
            problem = cache.unusable()
            if problem is None:
                stores.append(cache)
            else:
                warnings.warn(
                    RadixWarning(f"pytest-radix: the token cache is not used: {problem}"),
                    stacklevel=2,
                )
        if not stores:
            return live, None
        source = SharedTokenSource(live, stores, needs_renewal)
        return source.fetch, source.discard


RUN = pytest.StashKey[RadixRun]()
"""Where the run's :class:`RadixRun` is kept in ``config.stash``."""


def missing_credentials(config: RadixConfig) -> str:
    """The reason a test needing credentials cannot run, and how to configure them."""
    missing = [
        name
        for name, value in (("client id", config.client_id), ("API key", config.client_secret))
        if not value
    ]
    notes = f"; {'; '.join(config.notes)}" if config.notes else ""
    return (
        f"{SKIP_PREFIX} ({' and '.join(missing)} missing{notes}): set RADIX_CLIENT_ID (or "
        "--radix-client-id) and RADIX_CLIENT_SECRET (or --radix-client-secret-file), or "
        "replay recorded cassettes"
    )
