"""The fixtures: settings, credentials, auth, token, sessions. Each can be overridden."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_radix.config import RadixConfig
from pytest_radix.credentials import RadixCredentials
from pytest_radix.masking import masked_value
from pytest_radix.run import RUN, missing_credentials

if TYPE_CHECKING:
    from requests.adapters import BaseAdapter

    from pytest_radix.auth import RadixAuth
    from pytest_radix.recording import Recorder
    from pytest_radix.session import RadixSession

__all__ = [
    "RadixSessionFactory",
    "radix_auth",
    "radix_config",
    "radix_credentials",
    "radix_session",
    "radix_session_factory",
    "radix_token",
    "radix_vcr_config",
    "record_testsuite_property",
    "record_xml_attribute",
]


@pytest.fixture(scope="session")
def radix_config(pytestconfig: pytest.Config) -> RadixConfig:
    """The resolved pytest-radix settings, each with its source (``.sources``)."""
    return pytestconfig.stash[RUN].config


@pytest.fixture(scope="session")
def radix_credentials(pytestconfig: pytest.Config, radix_config: RadixConfig) -> RadixCredentials:
    """``RadixCredentials``; in replay, the recorded client id and a placeholder key.

    Missing credentials skip the test (an error with ``--radix-require-credentials``).
    """
    recorder = pytestconfig.stash[RUN].recorder
    credentials = radix_config.credentials
    if recorder is not None and (
        recorder.mode == "none" or (credentials is None and recorder.can_replay_auth())
    ):
        return recorder.replay_credentials()
    if credentials is None:
        reason = missing_credentials(radix_config)
        if radix_config.require_credentials:
            pytest.fail(reason.replace("no credentials", "credentials required"), pytrace=False)
        pytest.skip(reason)
    return credentials


@pytest.fixture(scope="session")
def radix_auth(
    request: pytest.FixtureRequest, radix_config: RadixConfig, radix_credentials: RadixCredentials
) -> Generator[RadixAuth, None, None]:
    """The run's ``RadixAuth``: one token for the whole run (and its xdist workers), renewed
    when due; replayed from ``radix_auth.yaml`` when the cassettes allow."""
    from pytest_radix.auth import RadixAuth

    run = request.config.stash[RUN]
    if run.recorder is not None:  # the user's filters, before anything is recorded
        run.recorder.vcr_config = request.getfixturevalue("radix_vcr_config")
    fetch, discard = run.token_source(radix_credentials, radix_config)
    auth = RadixAuth(
        radix_credentials, **radix_config.client_settings(), fetch=fetch, discard=discard
    )
    yield auth
    auth.close()


@pytest.fixture(scope="session")
def radix_token(pytestconfig: pytest.Config, radix_auth: RadixAuth) -> str:
    """The bearer token as a ``str`` whose repr is masked (a snapshot: it is not renewed).

    While recording with credentials it is a live token, so other clients can send it."""
    recorder = pytestconfig.stash[RUN].recorder
    if recorder is not None:
        recorder.make_live(radix_auth)
    return radix_auth.token.value


@pytest.fixture(scope="session")
def radix_vcr_config() -> dict[str, Any]:
    """Extra cassette filters (override it): ``filter_headers``, ``filter_query_parameters``,
    ``filter_post_data_parameters``, ``before_record_request``, ``before_record_response``.

    They run before pytest-radix's own scrubbing, which they cannot turn off."""
    return {}


class RadixSessionFactory:
    """Makes ``RadixSession``s sharing the run's auth and connection pool.

    With cassettes, a session made while a wider-scope fixture is set up records into that
    fixture's cassette; any other into the current test's.
    """

    def __init__(
        self, auth: RadixAuth, config: RadixConfig, recorder: Recorder | None = None
    ) -> None:
        from pytest_radix.transport import make_adapter

        self.auth = auth
        self.config = config
        self.recorder = recorder
        self.adapter = make_adapter()
        self._sessions: weakref.WeakSet[RadixSession] = weakref.WeakSet()

    def __call__(self) -> RadixSession:
        """A new ``RadixSession``: clean headers and cookies, shared auth and pool."""
        from pytest_radix.session import RadixSession

        adapter: BaseAdapter = self.adapter
        if self.recorder is not None:
            adapter = self.recorder.adapter(self.adapter, self.auth)
        session = RadixSession(
            self.auth,
            base_url=self.config.base_url,
            api_version=self.config.api_version,
            timeout=self.config.timeout,
            adapter=adapter,
        )
        if self.recorder is not None:  # a redirect's hops to other origins are recorded too
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._sessions.add(session)
        return session

    def close(self) -> None:
        """Close every session made and the shared pool."""
        for session in list(self._sessions):
            session.close()
        self.adapter.close()


@pytest.fixture(scope="session")
def radix_session_factory(
    pytestconfig: pytest.Config, radix_auth: RadixAuth, radix_config: RadixConfig
) -> Generator[RadixSessionFactory, None, None]:
    """``radix_session_factory()`` makes a ``RadixSession`` for fixtures of wider scope."""
    factory = RadixSessionFactory(radix_auth, radix_config, pytestconfig.stash[RUN].recorder)
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


PropertyRecorder = Callable[[str, object], None]


def _masking(record: PropertyRecorder) -> PropertyRecorder:
    def masked(name: str, value: object) -> None:
        __tracebackhide__ = True
        record(masked_value(name), masked_value(value))

    return masked


@pytest.fixture(scope="session")
def record_testsuite_property(record_testsuite_property: PropertyRecorder) -> PropertyRecorder:
    """pytest's ``record_testsuite_property``, with secrets masked in what it writes."""
    return _masking(record_testsuite_property)


@pytest.fixture
def record_xml_attribute(record_xml_attribute: PropertyRecorder) -> PropertyRecorder:
    """pytest's ``record_xml_attribute``, with secrets masked in what it writes."""
    return _masking(record_xml_attribute)
