"""The state of one pytest run: resolved settings, the chosen mode, shared auth and counters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from pytest_radix.config import RadixConfig

if TYPE_CHECKING:
    from pytest_radix.auth import RadixAuth
    from pytest_radix.recording import Recorder

__all__ = ["RUN", "SKIP_PREFIX", "RadixRun", "missing_credentials"]

SKIP_PREFIX = "radix: no credentials"
"""Every skip for missing credentials starts with this, so the summary can count them."""


@dataclass
class RadixRun:
    """What the plugin keeps for one run (in ``config.stash``)."""

    config: RadixConfig
    mode: str
    mode_reason: str
    auth: RadixAuth | None = None
    recorder: Recorder | None = None
    radix_tests: int = 0
    skipped_for_credentials: int = 0
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    @property
    def auth_requests(self) -> int:
        """``/auth`` requests this process sent to the network (replays are not counted)."""
        if self.recorder is not None:
            return self.recorder.live_auth
        return self.auth.auth_count if self.auth is not None else 0


RUN = pytest.StashKey[RadixRun]()


def missing_credentials(config: RadixConfig) -> str:
    """The reason a test needing credentials cannot run, and how to configure them."""
    missing = []
    if not config.client_id:
        missing.append("a client id (RADIX_CLIENT_ID or --radix-client-id)")
    if not config.client_secret:
        missing.append("an API key (RADIX_CLIENT_SECRET or --radix-client-secret-file)")
    notes = f" ({'; '.join(config.notes)})" if config.notes else ""
    return f"{SKIP_PREFIX}: set {' and '.join(missing)}{notes}, or replay recorded cassettes"
