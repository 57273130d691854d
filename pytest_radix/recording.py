"""The pytest side of cassettes: naming them, binding sessions to them, saving them, and the
authentication exchange (replayed from ``radix_auth.yaml`` or recorded live when needed)."""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import inspect
import re
import shlex
import threading
import warnings
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pytest

from pytest_radix.credentials import RadixCredentials
from pytest_radix.errors import (
    RadixAuthError,
    RadixCassetteError,
    RadixConfigError,
    RadixTransportError,
    RadixWarning,
)
from pytest_radix.files import remove_stale_temps
from pytest_radix.names import AUTH_CASSETTE, FAILED
from pytest_radix.provenance import age_days, recorded_at
from pytest_radix.scrubbing import PLACEHOLDER
from pytest_radix.sharing import LOCK_TIMEOUT
from pytest_radix.usage import Usage

if TYPE_CHECKING:
    from typing import TypeAlias

    import requests
    from requests.adapters import BaseAdapter

    from pytest_radix.auth import RadixAuth
    from pytest_radix.cassettes import Filter, RadixCassette
    from pytest_radix.config import RadixConfig
    from pytest_radix.sharing import SharedTokenSource
    from pytest_radix.token import RadixToken
    from pytest_radix.verifying import VerifiedCassette

    AnyCassette: TypeAlias = RadixCassette | VerifiedCassette
    """A test's or fixture's cassette: recording or replaying, or verifying."""

__all__ = ["CassettePlugin", "Recorder", "cassette_name", "sanitise", "selectable_id"]

REPLAY_LIFETIME = 100 * 365 * 24 * 3600.0
"""A replayed token never expires: replay ignores the recorded expiry."""

MAX_NAME = 120
"""The longest cassette file name (without ``.yaml``); longer ones are cut and hashed."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]=+,@]")
VCR_CONFIG_KEYS = frozenset(
    {
        "before_record_request",
        "before_record_response",
        "filter_headers",
        "filter_query_parameters",
        "filter_post_data_parameters",
    }
)
"""What ``radix_vcr_config`` may hold: filters that add to the built-in scrubbing."""


def sanitise(name: str) -> str:
    """A file-name-safe version of ``name``, capped at 120 characters.

    When characters had to be replaced, or the name cut, a hash of the original is appended, so
    two names never share a file (``a/b`` and ``a_b`` do not).
    """
    safe = _UNSAFE.sub("_", name).strip(".") or "_"
    if safe != name or len(safe) > MAX_NAME:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
        safe = f"{safe[: MAX_NAME - 13]}-{digest}"
    return safe


@functools.lru_cache(maxsize=1024)
def _relative_stem(path: Path, rootdir: Path) -> tuple[str, ...]:
    """``path`` relative to ``rootdir`` (or its name alone outside it), without ``.py``."""
    try:
        relative = path.resolve().relative_to(rootdir.resolve())
    except ValueError:
        relative = Path(path.name)
    return tuple(sanitise(part) for part in relative.with_suffix("").parts)


def cassette_name(item: pytest.Item, rootdir: Path) -> Path:
    """``<test file, without .py>/<[Class.]test name[param id]>.yaml`` for a test."""
    marker = item.get_closest_marker("radix_cassette")
    if marker is not None:
        name = marker.args[0] if marker.args else marker.kwargs.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RadixConfigError(
                f"@pytest.mark.radix_cassette on {item.nodeid} needs a cassette name, "
                'for example @pytest.mark.radix_cassette("export")'
            )
        return _marked_name(name, item.nodeid)
    test = ".".join(selectable_id(item).split("::")[1:]) or item.name
    return Path(*_relative_stem(item.path, rootdir), sanitise(test) + ".yaml")


def _marked_name(name: str, nodeid: str) -> Path:
    """The cassette path a ``radix_cassette`` marker names, refusing names that would leave
    the cassette dir, name no file, or replace the authentication cassette."""
    where = f"@pytest.mark.radix_cassette({name!r}) on {nodeid}"
    if name.startswith(("/", "\\")) or PurePosixPath(name).is_absolute() or ":" in name[:3]:
        raise RadixConfigError(
            f"{where}: the name is absolute; give a path relative to the cassette dir, for "
            'example "export/list"'
        )
    if any(part in ("..", ".") for part in name.split("/")):
        raise RadixConfigError(f"{where}: the name must stay inside the cassette dir")
    parts = [sanitise(part) for part in name.removesuffix(".yaml").split("/") if part]
    if not parts:
        raise RadixConfigError(f'{where}: the name names no file; give one such as "export"')
    path = Path(*parts[:-1], parts[-1] + ".yaml")
    if path.as_posix().lower() == AUTH_CASSETTE:
        raise RadixConfigError(
            f"{where}: {AUTH_CASSETTE} is the run's authentication cassette; choose another name"
        )
    return path


REPEAT_FIXTURE = "__pytest_repeat_step_number"
"""The fixture pytest-repeat parametrizes to run a test again (ids ``1-N`` … ``N-N``)."""


def selectable_id(item: pytest.Item) -> str:
    """The test's node id without what other plugins add to it for one run: xdist's
    ``@group`` (``--dist loadgroup``) and pytest-repeat's ``[i-N]``. It selects the test in a
    plain ``pytest`` run, and names its cassette, so repeated runs share their recordings."""
    name = item.name
    callspec = getattr(item, "callspec", None)
    step = callspec.params.get(REPEAT_FIXTURE) if callspec is not None else None
    if isinstance(step, int):
        found = re.search(rf"([\[-]){step + 1}-[0-9]+\]$", name)
        if found is not None:
            name = name[: found.start()] + ("]" if found.group(1) == "-" else "")
    parent = item.parent.nodeid if item.parent is not None else ""
    return f"{parent}::{name}" if parent else name


def _fixture_cassette_name(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest, rootdir: Path
) -> Path:
    """``fixtures/<defining file>/<fixture>[<param id>][@<scope node>].yaml``."""
    try:
        # the user's function, not a wrapper (pytest-asyncio's, in its own file)
        source = Path(inspect.getsourcefile(inspect.unwrap(fixturedef.func)) or "unknown")
    except TypeError:
        source = Path("unknown")
    name = fixturedef.argname
    if fixturedef.params is not None:
        index = getattr(request, "param_index", 0)
        ids = fixturedef.ids
        param_id = (
            str(ids[index])
            if isinstance(ids, (list, tuple)) and index < len(ids) and ids[index] is not None
            else str(getattr(request, "param", index))
        )
        name += f"[{param_id}]"
    if fixturedef.scope != "session":
        name += "@" + request.node.nodeid.removesuffix(".py").replace(".py::", "::")
    return Path("fixtures", *_relative_stem(source, rootdir), sanitise(name) + ".yaml")


@dataclass
class _FixtureScope:
    """A wider-scope fixture being set up, and the cassette its sessions use (named and made
    only when the fixture makes a session)."""

    fixturedef: pytest.FixtureDef[Any]
    request: pytest.FixtureRequest
    cassette: AnyCassette | None = None
    failed: bool = False


class Recorder:
    """The cassettes of one run in one process, and the authentication for them."""

    def __init__(
        self,
        config: RadixConfig,
        mode: str,
        rootdir: Path,
        handover: Path | None = None,
        usage: Usage | None = None,
        on_auth_sent: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.on_auth_sent = on_auth_sent
        """Called as each live ``/auth`` goes out."""
        self.mode = mode
        self.rootdir = rootdir
        self.directory = config.cassette_dir
        self.auth_path = self.directory / AUTH_CASSETTE
        self.item: pytest.Item | None = None
        self.stack: list[_FixtureScope] = []
        self.item_cassettes: dict[str, AnyCassette] = {}
        self.fixture_scopes: dict[tuple[int, str, int], _FixtureScope] = {}
        self.recorded_paths: set[Path] = set()  # cassettes written in this run
        self.vcr_config: Mapping[str, Any] = {}
        self.outcomes: dict[str, str] = {}  # (owner, cassette) -> what it did
        self.narrowed = False
        """Whether the run leaves tests out (deselected, or paths and node ids named)."""
        self.old_interactions: dict[Path, list[tuple[Any, dict[str, Any]]]] = {}
        """In ``all`` on a narrowed run: what shared cassettes held before this run."""
        self.live = mode in ("all", "verify")
        self.unsaved_auth: RadixCassetteError | None = None
        """Why ``radix_auth.yaml`` could not be written (its live ``/auth`` is not repeated)."""
        self.handover = handover
        self.usage = usage if usage is not None else Usage()
        self._auth_expired: bool | None = None
        self._lock = threading.RLock()
        self._thread = threading.local()  # .authenticating: this thread's live /auth is on

    # -- authentication ---------------------------------------------------------------------

    def record_command(self, target: str = "", mode: str = "once") -> str:
        """How to record what is missing (the key goes in the environment, not the command)."""
        where = f" {shlex.quote(target)}" if target else ""
        return (
            "export RADIX_CLIENT_ID and RADIX_CLIENT_SECRET (or use --radix-client-secret-file), "
            f"then run: pytest --radix-record-mode={mode}{where}"
        )

    def _record_hint(self, path: Path, target: str) -> str:
        return self.record_command(target, "new_episodes" if path.exists() else "once")

    def replay_credentials(self) -> RadixCredentials:
        """The recorded client id and a placeholder key, for replay without credentials."""
        from pytest_radix.cassettes import load_cassette_file

        if not self.auth_path.exists():
            raise self._missing_auth_cassette()
        client_id = self.config.client_id or "unknown"
        for request, _ in load_cassette_file(self.auth_path)[0]:
            client_id = _client_id_in(request.body) or client_id
        return RadixCredentials(client_id, PLACEHOLDER)

    def can_replay_auth(self) -> bool:
        """Whether ``radix_auth.yaml`` may be replayed in this mode (not when it is stale and
        this run records)."""
        if self.mode in ("all", "verify") or not self.auth_path.exists():
            return False
        if self._auth_expired is None:  # the file is read for its age only when one is set
            from pytest_radix.cassettes import load_cassette_file

            self._auth_expired = bool(self.config.max_age) and self._expired(
                load_cassette_file(self.auth_path)[1]
            )
        return not self._auth_expired

    def _expired(self, metadata: Mapping[str, Any]) -> bool:
        """Whether a recording is stale and this run records stale ones again (``once`` and
        ``new_episodes``, with credentials)."""
        max_age = self.config.max_age
        return bool(
            max_age
            and self.mode in ("once", "new_episodes")
            and self.config.credentials is not None
            and age_days(metadata) > max_age
        )

    def _note(self, cassette: AnyCassette, owner: str = "") -> None:
        """Remember what the run did with ``cassette`` (for ``owner``, a test or a fixture):
        used, written, or replayed (which of its requests, and whether it is stale), or in
        ``verify`` how the live answers drifted from it."""
        if not cassette.loaded:
            return
        name = cassette.path.relative_to(self.directory).as_posix()
        usage = self.usage
        from pytest_radix.verifying import VerifiedCassette

        if isinstance(cassette, VerifiedCassette):
            usage.used.add(name)
            if cassette.path != self.auth_path:  # its other /auth exchanges are not "unmade"
                usage.note_replayed(name, cassette.loaded_count, cassette.played_indexes())
            changes = [change.to_json() for change in cassette.drift]
            usage.drift.append({"path": name, "test": owner, "changes": changes})
            return
        if self._recorded_this_run(cassette.path) or not cassette.existed:
            usage.used.add(name)
            usage.written.add(name)
            return
        # radix_auth.yaml is replayed as often as needed; a file without the radix key is
        # not one of ours: neither is ever pruned
        if cassette.path != self.auth_path and cassette.metadata:
            usage.note_replayed(name, cassette.loaded_count, cassette.played_indexes())
        usage.used.add(name)
        max_age = self.config.max_age
        if max_age and cassette.played and age_days(cassette.metadata) > max_age:
            when = recorded_at(cassette.metadata)
            usage.stale[name] = when.strftime("%Y-%m-%d") if when else None

    def fetch(
        self,
        credentials: RadixCredentials,
        config: RadixConfig,
        shared: SharedTokenSource | None = None,
    ) -> RadixToken:
        """A token for ``config``'s client settings: replayed from ``radix_auth.yaml``, or
        live (and recorded) when needed, through ``shared`` (other xdist workers) if given."""
        with self._lock:
            if self.mode == "none" or (not self.live and self.can_replay_auth()):
                return self._replayed_token(credentials, config)
            if self.unsaved_auth is not None:
                raise RadixCassetteError(str(self.unsaved_auth))
            token = shared.fetch() if shared else self.live_token(credentials, config)
            self.live = True
            return token

    def _replayed_token(self, credentials: RadixCredentials, config: RadixConfig) -> RadixToken:
        from pytest_radix.auth import auth_session, authenticate
        from pytest_radix.replay import CassetteAdapter

        if not self.auth_path.exists():
            raise self._missing_auth_cassette()
        cassette = self._cassette(self.auth_path, "none", repeats=True)
        session = auth_session(CassetteAdapter(cassette, _no_live(cassette)))
        answers: list[requests.Response] = []
        session.hooks["response"].append(lambda response, **_: answers.append(response))
        with session, warnings.catch_warnings():
            warnings.simplefilter("ignore", RadixWarning)  # replay ignores the recorded expiry
            try:
                token = authenticate(credentials, **config.client_settings(), session=session)
            except (RadixTransportError, RadixAuthError) as error:
                # a recorded 429/5xx or refusal (replay-only: every request got an answer)
                answer = answers[-1]
                why = "refusing the credentials" if isinstance(error, RadixAuthError) else "failing"
                failure = RadixCassetteError(
                    f"the authentication cassette {self.auth_path} holds an /auth answer "
                    f"{answer.status_code} {answer.reason}, recorded while the server was {why}; "
                    "nothing was sent now. Delete it and record it again: " + self.record_command()
                )
            else:
                self._note(cassette)
                return replace(token, lifetime=REPLAY_LIFETIME, source="replayed")
        raise failure

    def _missing_auth_cassette(self) -> RadixCassetteError:
        return RadixCassetteError(
            f"the authentication cassette {self.auth_path} is missing, so nothing can be "
            f"replayed; record it with: {self.record_command()}"
        )

    def live_token(self, credentials: RadixCredentials, config: RadixConfig) -> RadixToken:
        """Authenticate live with ``config``'s client settings, recording the exchange into
        ``radix_auth.yaml``."""
        from pytest_radix.auth import auth_session, authenticate
        from pytest_radix.replay import CassetteAdapter
        from pytest_radix.transport import make_adapter

        if credentials.client_secret == PLACEHOLDER:
            raise RadixCassetteError(
                "recording needs credentials: a request is not in its cassette and must go to "
                f"the API; set RADIX_CLIENT_ID and RADIX_CLIENT_SECRET (mode {self.mode})"
            )
        cassette = self._cassette(self.auth_path, "verify" if self.mode == "verify" else "all")
        live = make_adapter(retry_post=True, pool_maxsize=4)
        self._thread.authenticating = True  # radix_vcr's patching must not record it again
        self.on_auth_sent()
        try:
            with auth_session(CassetteAdapter(cassette, live)) as session:
                token = authenticate(credentials, **config.client_settings(), session=session)
        finally:
            self._thread.authenticating = False
        live.close()
        if self.mode == "verify":
            self._note(cassette, "authentication")
            return token
        try:
            cassette.save()
        except RadixCassetteError as error:
            self.unsaved_auth = RadixCassetteError(
                f"{error}; recording needs it, so the tests that use Radix fail, and /auth is "
                "not sent again in this run"
            )
            raise self.unsaved_auth from None
        self._auth_expired = False
        self.usage.used.add(AUTH_CASSETTE)
        self.usage.written.add(AUTH_CASSETTE)
        return token

    def make_live(self, auth: RadixAuth) -> None:
        """While recording with credentials, make ``auth`` hold a live token (the replayed
        one is a look-alike that the API refuses)."""
        recording = self.mode in ("once", "new_episodes", "all")
        if recording and auth.credentials.client_secret != PLACEHOLDER:
            self._live_from_now(auth)

    def _live_from_now(self, auth: RadixAuth) -> None:
        with self._lock:
            if not self.live:
                self.live = True
                auth.invalidate()

    def go_live(self, auth: RadixAuth, request: requests.PreparedRequest) -> None:
        """Before a request goes live: make sure its bearer token is a live one."""
        if "Authorization" not in request.headers:
            return
        self._live_from_now(auth)
        request.headers["Authorization"] = auth.header()

    # -- cassettes of tests and fixtures ----------------------------------------------------

    def _cassette(
        self,
        path: Path,
        mode: str,
        *,
        repeats: bool = False,
        vcr_config: Mapping[str, Any] | None = None,
    ) -> AnyCassette:
        if mode == "verify":
            from pytest_radix.verifying import VerifiedCassette

            settings = {"base_url": self.config.base_url, "api_version": self.config.api_version}
            return VerifiedCassette(path, **settings)
        from pytest_radix.cassettes import RadixCassette

        user = self.vcr_config if vcr_config is None else vcr_config
        return RadixCassette(
            path,
            mode,
            base_url=self.config.base_url,
            api_version=self.config.api_version,
            record_command=functools.partial(
                self._record_hint, path, selectable_id(self.item) if self.item is not None else ""
            ),
            repeats=repeats,
            recorded_this_run=functools.partial(self._recorded_this_run_settled, path),
            paused=None if path == self.auth_path else self._authenticating,
            expired=None if path == self.auth_path else self._expired,
            before_record_request=_user_request_filter(user),
            before_record_response=user.get("before_record_response"),
        )

    def _authenticating(self) -> bool:
        return bool(getattr(self._thread, "authenticating", False))

    def _mode_for(self, path: Path) -> str:
        """The mode for one cassette: one that this run already wrote (shared by several tests,
        or xdist workers) is appended to in ``once`` and ``all``, not replayed only or replaced
        again. Until then, ``all`` records from nothing: no interaction older than the run is
        ever loaded, even when an earlier user of the cassette failed and left the old file."""
        if self.mode in ("once", "all") and self._recorded_this_run(path):
            return "new_episodes"
        return self.mode

    def _marker(self, kind: str, path: Path) -> Path | None:
        """A file in the xdist hand-over directory standing for ``kind`` of ``path``."""
        if self.handover is None:
            return None
        digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
        return self.handover / f"{kind}-{digest}"

    def _recorded_this_run(self, path: Path) -> bool:
        marker = self._marker("recorded", path)
        return path in self.recorded_paths or (marker is not None and marker.exists())

    def _recorded_this_run_settled(self, path: Path) -> bool:
        """:meth:`_recorded_this_run`, asked again under the cassette's lock when it says no:
        another xdist worker may be between writing the file and marking it written."""
        if self._recorded_this_run(path):
            return True
        with self._locked(path):
            return self._recorded_this_run(path)

    def _first_to(self, kind: str, path: Path) -> bool:
        """Whether this process is the run's first to do ``kind`` to ``path`` (it is, without
        xdist)."""
        marker = self._marker(kind, path)
        if marker is None:
            return True
        try:
            marker.touch(exist_ok=False)
        except FileExistsError:
            return False
        return True

    def current_cassette(self) -> AnyCassette:
        """The cassette a session made now belongs to: the fixture being set up, or the test."""
        with self._lock:
            if self.stack:
                scope = self.stack[-1]
                if scope.cassette is None:
                    name = _fixture_cassette_name(scope.fixturedef, scope.request, self.rootdir)
                    path = self.directory / name
                    scope.cassette = self._cassette(path, self._mode_for(path))
                return scope.cassette
            if self.item is None:
                raise RadixCassetteError(
                    "a RadixSession was made outside any test or fixture, so no cassette "
                    "can hold its traffic; make it inside a fixture or a test"
                )
            return self.item_cassette(self.item)

    def item_cassette(
        self, item: pytest.Item, vcr_config: Mapping[str, Any] | None = None
    ) -> AnyCassette:
        """The cassette of the test ``item``, made on first use (with the filters of
        ``vcr_config``, else those of the run's ``radix_vcr_config``)."""
        with self._lock:
            cassette = self.item_cassettes.get(item.nodeid)
            if cassette is None:
                path = self.directory / cassette_name(item, self.rootdir)
                mode = self._mode_for(path)
                if mode == "all" and item.get_closest_marker("radix_cassette") is not None:
                    self._remember_old(path)
                cassette = self._cassette(path, mode, vcr_config=vcr_config)
                self.item_cassettes[item.nodeid] = cassette
            return cassette

    def _remember_old(self, path: Path) -> None:
        """Before ``all`` rewrites a cassette that tests may share, on a narrowed run, keep
        what it holds: the tests that do not run must not lose their recordings."""
        if not self.narrowed or path in self.old_interactions or not path.exists():
            return
        from pytest_radix.cassettes import load_cassette_file

        # Under the cassette's lock: every worker passes here before its first save in `all`,
        # so the file is read before any of them rewrites it.
        with self._locked(path):
            if not self._first_to("remembered", path):
                return  # another xdist worker keeps it
            with contextlib.suppress(RadixCassetteError):  # a corrupt file holds nothing to keep
                self.old_interactions[path] = load_cassette_file(path)[0]

    def restore_unrecorded(self) -> None:
        """After a narrowed run in ``all``: add back to each shared cassette the old
        interactions that no test of this run recorded again."""
        if not self.old_interactions:
            return
        from vcr import matchers

        from pytest_radix.cassettes import load_cassette_file, save_cassette_file
        from pytest_radix.matching import MATCH_ON

        for path, old in self.old_interactions.items():
            with self._locked(path):
                if not path.exists():
                    continue
                current, metadata = load_cassette_file(path)
                kept = [
                    interaction
                    for interaction in old
                    if not any(
                        matchers.requests_match(interaction[0], new[0], MATCH_ON) for new in current
                    )
                ]
                if kept:
                    save_cassette_file(path, current + kept, metadata)
        self.old_interactions.clear()

    def adapter(self, live: BaseAdapter, auth: RadixAuth) -> BaseAdapter:
        """A transport for a new session, bound to :meth:`current_cassette`."""
        from pytest_radix.replay import CassetteAdapter

        return CassetteAdapter(
            self.current_cassette(), live, before_live=lambda r: self.go_live(auth, r)
        )

    def close(
        self,
        cassette: AnyCassette | None,
        failed: bool,
        *,
        shared: bool = False,
        owner: str = "",
    ) -> None:
        """Save a cassette (unless its test or fixture failed) and count it; ``owner`` is the
        test or fixture that used it.

        The count is kept per owner and cassette: a test run again (pytest-rerunfailures)
        counts once, as its last attempt went. A ``shared`` cassette (a wider-scope fixture's,
        set up by every xdist worker) is saved by the first worker only.
        """
        if cassette is None:
            return
        path = cassette.path
        key = f"{owner}\0{path}"
        outcome = None
        try:
            if self.mode == "verify":  # nothing written, nothing counted
                return
            if shared and cassette.pending and not failed and not self._first_to("saved", path):
                return
            if failed:
                outcome = "unsaved" if cassette.pending else "replayed" if cassette.played else None
                return
            with self._locked(path):
                if cassette.save(merge=self._recorded_this_run(path)):
                    self.recorded_paths.add(path)
                    marker = self._marker("recorded", path)
                    if marker is not None:
                        marker.touch()
                    outcome = "recorded"
                elif cassette.played:
                    outcome = "replayed"
        finally:
            self._note(cassette, owner)
            cassette.release()
            if outcome is None:
                self.outcomes.pop(key, None)
            else:
                self.outcomes[key] = outcome

    def counts(self) -> dict[str, int]:
        """How many tests and fixtures replayed, recorded, or did not save their cassette."""
        tally = collections.Counter(self.outcomes.values())
        return {name: tally[name] for name in ("replayed", "recorded", "unsaved")}

    def _locked(self, path: Path) -> contextlib.AbstractContextManager[object]:
        """Under xdist, a lock on ``path`` across the workers; else nothing."""
        marker = self._marker("lock", path)
        if marker is None:
            return contextlib.nullcontext()
        import filelock

        return filelock.FileLock(str(marker), timeout=LOCK_TIMEOUT)


def _clash_with_pytest_recording(item: pytest.Item, cassette: AnyCassette | None) -> str | None:
    """Why pytest-recording writes this test's cassette file too (``None``: it does not).

    Asked once the test is torn down, when ``item.funcargs`` holds pytest-recording's ``vcr``
    cassette (``None`` unless the test has the ``vcr`` marker: then it writes nothing) and its
    ``vcr_cassette_dir``; its file name follows pytest-recording's rule (the
    ``default_cassette`` marker, else the test's class and name).
    """
    funcargs = getattr(item, "funcargs", {})
    directory = funcargs.get("vcr_cassette_dir")
    if cassette is None or funcargs.get("vcr") is None or not isinstance(directory, str):
        return None
    marker = item.get_closest_marker("default_cassette")
    if marker is not None and marker.args:
        name = str(marker.args[0])
    else:
        try:
            from pytest_recording.plugin import get_default_cassette_name
        except ImportError:  # those fixtures come from another plugin (pytest-vcr, say)
            return None
        name = get_default_cassette_name(getattr(item, "cls", None), item.name)
    if Path(directory, f"{name}.yaml").resolve() != cassette.path.resolve():
        return None
    return (
        f"pytest-radix and pytest-recording both write {cassette.path} for {item.nodeid}, each "
        "over the other's recording; give radix_cassette_dir a directory of its own, such as "
        "cassettes/radix (pytest-radix's cassette was not saved)"
    )


def _no_live(cassette: AnyCassette) -> BaseAdapter:
    """A live transport that refuses: replay-only cassettes never reach the network."""
    from requests.adapters import BaseAdapter

    class _Refuse(BaseAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
            raise RadixCassetteError(f"{cassette.path} is replay-only")

        def close(self) -> None:
            """Nothing to close."""

    return _Refuse()


def _client_id_in(body: bytes | str | None) -> str | None:
    import json

    try:
        document = json.loads(body) if body else None
    except (ValueError, TypeError):
        return None
    value = document.get("client_id") if isinstance(document, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def _user_request_filter(config: Mapping[str, Any]) -> Filter | None:
    """The user's request filters from ``radix_vcr_config``, as one function (or ``None``)."""
    unknown = set(config) - VCR_CONFIG_KEYS
    if unknown:
        raise RadixConfigError(
            f"radix_vcr_config has unknown keys {sorted(unknown)}; it can only add filters: "
            f"{', '.join(sorted(VCR_CONFIG_KEYS))}"
        )
    if not any(config.get(key) for key in VCR_CONFIG_KEYS - {"before_record_response"}):
        return None
    from vcr import filters

    def apply(request: Any) -> Any:
        if config.get("filter_headers"):
            request = filters.replace_headers(request, _pairs(config["filter_headers"]))
        if config.get("filter_query_parameters"):
            pairs = _pairs(config["filter_query_parameters"])
            request = filters.replace_query_parameters(request, pairs)
        if config.get("filter_post_data_parameters"):
            pairs = _pairs(config["filter_post_data_parameters"])
            request = filters.replace_post_data_parameters(request, pairs)
        hook = config.get("before_record_request")
        return hook(request) if hook is not None else request

    return apply


def _pairs(items: Any) -> list[tuple[str, Any]]:
    return [item if isinstance(item, tuple) else (item, None) for item in items]


class CassettePlugin:
    """Hooks that bind sessions to test and fixture cassettes and save them when done."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    @pytest.hookimpl(trylast=True)  # after the radix marker went to the tests using Radix
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Hook vcrpy's patching in only when a test asks for it; such a test gets
        ``radix_vcr_config`` (its filters apply even when no Radix fixture set them)."""
        marked = [item for item in items if item.get_closest_marker("radix_vcr")]
        for item in marked:  # a new list: parametrized siblings share the old one
            names = getattr(item, "fixturenames", None)
            if names is not None and "radix_vcr_config" not in names:
                item.fixturenames = [*names, "radix_vcr_config"]  # type: ignore[attr-defined]
        if marked and self.recorder.mode != "verify":  # verify: other clients go live
            config.pluginmanager.register(VcrPatching(self.recorder), "radix-vcr")
        from pytest_radix.housekeeping import narrowing  # it imports run, which names us

        if narrowing(config):
            self.recorder.narrowed = True

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        """``-k``, ``-m``, ``--lf``, ``--deselect`` or another plugin left tests out."""
        if items:
            self.recorder.narrowed = True

    def pytest_sessionfinish(self) -> None:
        """Give shared cassettes rewritten in ``all`` back what tests that did not run
        recorded in them; after a recording run (on the xdist controller, or without xdist),
        remove the temp files that killed writers left in the cassette dir."""
        recorder = self.recorder
        recorder.restore_unrecorded()
        if recorder.mode != "none" and recorder.handover is None and recorder.directory.is_dir():
            remove_stale_temps(recorder.directory.rglob(".*.tmp"))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Make ``item`` the test whose cassette new sessions use (until its teardown ends)."""
        self.recorder.item = item

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Once the test is torn down, save its cassette, unless a phase failed (teardown
        included); a cassette that cannot be saved fails the teardown."""
        report = yield
        if call.when == "teardown":
            self.recorder.item = None
            cassette = self.recorder.item_cassettes.pop(item.nodeid, None)
            clash = _clash_with_pytest_recording(item, cassette)
            try:
                failed = report.failed or item.stash.get(FAILED, False) or clash is not None
                self.recorder.close(cassette, failed, owner=item.nodeid)
                if clash is not None:
                    raise RadixCassetteError(clash)
            except RadixCassetteError as error:
                report.outcome = "failed"
                report.longrepr = f"{type(error).__name__}: {error}"
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
    ) -> Generator[None, Any, Any]:
        """While a wider-scope fixture is set up, new sessions use that fixture's cassette."""
        if fixturedef.scope == "function":
            return (yield)
        key = _fixture_key(fixturedef, request)
        scope = _FixtureScope(fixturedef, request)
        self.recorder.fixture_scopes[key] = scope
        self.recorder.stack.append(scope)
        try:
            return (yield)
        except BaseException:
            scope.failed = True
            raise
        finally:
            self.recorder.stack.remove(scope)

    def pytest_fixture_post_finalizer(
        self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
    ) -> None:
        """A wider-scope fixture is torn down: save its cassette."""
        if fixturedef.scope == "function":
            return
        scope = self.recorder.fixture_scopes.pop(_fixture_key(fixturedef, request), None)
        if scope is not None:
            owner = f"fixture {fixturedef.argname}"
            self.recorder.close(scope.cassette, scope.failed, shared=True, owner=owner)


class VcrPatching:
    """``@pytest.mark.radix_vcr``: vcrpy's full patching, into the test's cassette, while the
    test function runs (traffic of other HTTP clients is recorded and replayed too)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        """Patch while a ``radix_vcr`` test runs."""
        if item.get_closest_marker("radix_vcr") is None:
            return (yield)
        from vcr.patch import CassettePatcherBuilder

        from pytest_radix.cassettes import RadixCassette
        from pytest_radix.vcr_streams import streaming

        filters = getattr(item, "funcargs", {}).get("radix_vcr_config")
        cassette = self.recorder.item_cassette(item, filters)
        # never registered under --radix-verify, whose cassettes vcrpy cannot patch into
        assert isinstance(cassette, RadixCassette), "radix_vcr patching while verifying"
        with contextlib.ExitStack() as patches:
            for patcher in CassettePatcherBuilder(cassette.vcr_cassette()).build():
                patches.enter_context(patcher)
            patches.enter_context(streaming(cassette))
            return (yield)


def _fixture_key(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> tuple[int, str, int]:
    return id(fixturedef), request.node.nodeid, getattr(request, "param_index", 0)
