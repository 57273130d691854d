"""pytest-radix: authenticate once, record and replay offline, for the Radix Data API.

The client (``RadixCredentials``, ``authenticate``, ``RadixAuth``, ``RadixSession``, the errors)
works without pytest. Names load on first use, so ``import pytest_radix`` stays cheap.

PYTEST_DONT_REWRITE: the package holds no test assertions, so pytest leaves it as written,
whichever way pytest was started and whether or not it saw the package before importing it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pytest_radix._version import __version__

if TYPE_CHECKING:
    import pytest

    from pytest_radix.auth import RadixAuth, authenticate
    from pytest_radix.credentials import RadixCredentials
    from pytest_radix.errors import (
        RadixAuthError,
        RadixCassetteError,
        RadixConfigError,
        RadixError,
        RadixResponseError,
        RadixTransportError,
        RadixWarning,
    )
    from pytest_radix.session import RadixSession
    from pytest_radix.token import RadixToken

__all__ = [
    "RadixAuth",
    "RadixAuthError",
    "RadixCassetteError",
    "RadixConfigError",
    "RadixCredentials",
    "RadixError",
    "RadixResponseError",
    "RadixSession",
    "RadixToken",
    "RadixTransportError",
    "RadixWarning",
    "__version__",
    "authenticate",
]

_HOMES = {
    "RadixAuth": "auth",
    "authenticate": "auth",
    "RadixCredentials": "credentials",
    "RadixSession": "session",
    "RadixToken": "token",
    **dict.fromkeys(
        (
            "RadixAuthError",
            "RadixCassetteError",
            "RadixConfigError",
            "RadixError",
            "RadixResponseError",
            "RadixTransportError",
            "RadixWarning",
        ),
        "errors",
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pytest_radix' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pytest_radix.{home}"), name)
    globals()[name] = value
    return value


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """``pytest -p pytest_radix`` loads the plugin, as ``-p radix`` (its entry point) does."""
    plugin = importlib.import_module("pytest_radix.plugin")
    if not pluginmanager.is_registered(plugin) and not pluginmanager.is_blocked("radix"):
        pluginmanager.register(plugin, "radix")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
