"""Names several plugin modules share, kept here so that their imports go one way."""

from __future__ import annotations

import pytest

__all__ = ["AUTH_CASSETTE", "FAILED"]

AUTH_CASSETTE = "radix_auth.yaml"
"""The cassette of the run's authentication exchange, in the cassette directory."""

FAILED = pytest.StashKey[bool]()
"""Set on a test item when one of its phases failed: its cassette is not saved."""
