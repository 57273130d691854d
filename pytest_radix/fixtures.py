"""The fixtures: settings, credentials, auth, token, sessions. Each can be overridden."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from pytest_radix.config import RadixConfig
from pytest_radix.credentials import RadixCredentials
from pytest_radix.run import RUN, missing_credentials

if TYPE_CHECKING:
    from pytest_radix.auth import RadixAuth
    from pytest_radix.session import RadixSession

__all__ = [
    "RadixSessionFactory",
    "radix_auth",
    "radix_config",
    "radix_credentials",
    "radix_session",
    "radix_session_factory",
    "radix_token",
]


@pytest.fixture(scope="session")
def radix_config(pytestconfig: pytest.Config) -> RadixConfig:
    """The resolved pytest-radix settings, each with its source (``.sources``)."""
    return pytestconfig.stash[RUN].config


@pytest.fixture(scope="session")
def radix_credentials(radix_config: RadixConfig) -> RadixCredentials:
    """``RadixCredentials`` from the settings; skips (or errors, if required) when missing."""
    credentials = radix_config.credentials
    if credentials is None:
        reason = missing_credentials(radix_config)
        if radix_config.require_credentials:
            pytest.fail(reason.replace("no credentials", "credentials required"), pytrace=False)
        pytest.skip(reason)
    return credentials


@pytest.fixture(scope="session")
def radix_auth(
    pytestconfig: pytest.Config, radix_config: RadixConfig, radix_credentials: RadixCredentials
) -> Generator[RadixAuth, None, None]:
    """The run's ``RadixAuth``: one token for the whole run, renewed when due."""
    from pytest_radix.auth import RadixAuth

    auth = RadixAuth(
        radix_credentials,
        base_url=radix_config.base_url,
        api_version=radix_config.api_version,
        timeout=radix_config.timeout,
        allow_http=radix_config.allow_http,
    )
    run = pytestconfig.stash[RUN]
    run.auth = auth
    yield auth
    auth.close()


@pytest.fixture(scope="session")
def radix_token(radix_auth: RadixAuth) -> str:
    """The bearer token as a ``str`` whose repr is masked (a snapshot: it is not renewed)."""
    return radix_auth.token.value


class RadixSessionFactory:
    """Makes ``RadixSession``s sharing the run's auth and connection pool."""

    def __init__(self, auth: RadixAuth, config: RadixConfig) -> None:
        from pytest_radix.transport import make_adapter

        self.auth = auth
        self.config = config
        self.adapter = make_adapter()
        self._sessions: list[RadixSession] = []

    def __call__(self) -> RadixSession:
        """A new ``RadixSession``: clean headers and cookies, shared auth and pool."""
        from pytest_radix.session import RadixSession

        session = RadixSession(
            self.auth,
            base_url=self.config.base_url,
            api_version=self.config.api_version,
            timeout=self.config.timeout,
            adapter=self.adapter,
        )
        self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close every session made and the shared pool."""
        for session in self._sessions:
            session.close()
        self.adapter.close()


@pytest.fixture(scope="session")
def radix_session_factory(
    radix_auth: RadixAuth, radix_config: RadixConfig
) -> Generator[RadixSessionFactory, None, None]:
    """``radix_session_factory()`` makes a ``RadixSession`` for fixtures of wider scope."""
    factory = RadixSessionFactory(radix_auth, radix_config)
    yield factory
    factory.close()


@pytest.fixture
def radix_session(
    radix_session_factory: RadixSessionFactory,
) -> Generator[RadixSession, None, None]:
    """A fresh ``RadixSession`` for this test, sharing the run's auth and connection pool."""
    session = radix_session_factory()
    yield session
    session.close()
