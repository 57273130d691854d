"""pytest-radix's settings as a user's suite sees them: every option at every level.

One precedence for all: command line > environment > ini (``-o`` counts as ini) > default. Each
test runs an inner pytest (``pytester``, in process) whose single test dumps ``radix_config`` to a
JSON file; lower levels are set to decoy values so that reading the wrong source is caught.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from helpers import output, run, unique_nasty_secret

# Imported here so that the in-process inner runs share these modules instead of importing
# their own copies on every run (pytester restores sys.modules after each run).
import pytest_radix.auth  # noqa: F401
import pytest_radix.session  # noqa: F401
from pytest_radix.testing import FakeRadixServer

USAGE_ERROR = pytest.ExitCode.USAGE_ERROR
CLIENT_ID = "5642c0b355d27c0e003b3f30"
BOOLEAN_WORDS = "use one of 1/true/yes/on or 0/false/no/off"
RECORD_MODES = "auto, live, none, once, new_episodes, all"
BOOLEANS = ("require_credentials", "token_cache", "allow_http", "prune")

DUMP_TEST = """
import hashlib
import json
from pathlib import Path

NAMES = (
    "client_id", "client_secret_file", "base_url", "api_version", "record_mode",
    "cassette_dir", "timeout", "require_credentials", "token_cache", "allow_http",
    "max_age", "prune", "verify", "drift_report",
)


def test_dump(radix_config):
    data = {}
    for name in NAMES:
        value = getattr(radix_config, name)
        data[name] = value if value is None or isinstance(value, (bool, float)) else str(value)
    secret = radix_config.client_secret
    data["secret_sha"] = None if secret is None else hashlib.sha256(
        str(secret).encode("utf-8")
    ).hexdigest()
    data["sources"] = dict(radix_config.sources)
    Path(__file__).with_name("radix-dump.json").write_text(json.dumps(data))
"""


def flag(name: str) -> str:
    return "--radix-" + name.replace("_", "-")


def env_var(name: str) -> str:
    return "RADIX_" + name.upper()


def ini_key(name: str) -> str:
    return "radix_" + name


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_ini(pytester: pytest.Pytester, values: Mapping[str, Any], style: str = "ini") -> None:
    """Write ``values`` as a tox.ini ``[pytest]`` section or a pyproject.toml table."""
    if style == "ini":
        pytester.makeini("[pytest]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))
    else:
        lines = "".join(f"{k} = {toml_value(v)}\n" for k, v in values.items())
        pytester.makepyprojecttoml("[tool.pytest.ini_options]\n" + lines)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def dump(pytester: pytest.Pytester, *args: str) -> dict[str, Any]:
    """Run the inner suite with ``args``; return what ``radix_config`` held."""
    test_file = pytester.makepyfile(test_dump=DUMP_TEST)
    out = test_file.with_name("radix-dump.json")
    out.unlink(missing_ok=True)
    result = run(pytester, str(test_file), *args)
    assert result.ret == pytest.ExitCode.OK, output(result)
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def usage_error(pytester: pytest.Pytester, *args: str) -> str:
    """Run the inner suite expecting a usage error; return stdout + stderr."""
    pytester.makepyfile(test_dump=DUMP_TEST)
    result = run(pytester, *args)
    text = output(result)
    assert result.ret == USAGE_ERROR, text
    assert "test_dump" not in text  # stopped at start-up: nothing collected, nothing run
    return text


# ---------------------------------------------------------------------------------------------
# Precedence: command line > environment > ini (-o counts as ini) > default


PRECEDENCE: dict[str, dict[str, Any]] = {
    "client_id": {
        "cli": "c1c1c1c1c1c1c1c1c1c1c1c1",
        "env": "e2e2e2e2e2e2e2e2e2e2e2e2",
        "ini": "a3a3a3a3a3a3a3a3a3a3a3a3",
        "o": "b4b4b4b4b4b4b4b4b4b4b4b4",
        "decoy_env": "DO_NOT_USE_env",
        "decoy_ini": "DO_NOT_USE_ini",
        "default": None,
    },
    "base_url": {
        "cli": "https://cli.radix.example",
        "env": "https://env.radix.example/api",
        "ini": "https://ini.radix.example/v1",
        "o": "https://o.radix.example:8443",
        "decoy_env": "https://do-not-use-env.invalid",
        "decoy_ini": "https://do-not-use-ini.invalid",
        "default": "https://api.radix.com",
    },
    "api_version": {
        "cli": "9.1.0",
        "env": "9.2.0",
        "ini": "9.3.0",
        "o": "9.4.0",
        "decoy_env": "DO_NOT_USE_env",
        "decoy_ini": "DO_NOT_USE_ini",
        "default": "1.0.0",
    },
    "record_mode": {
        "cli": "once",
        "env": "none",
        "ini": "new_episodes",
        "o": "all",
        "decoy_env": "live",
        "decoy_ini": "live",
        "default": "auto",
    },
    "timeout": {
        "cli": "11",
        "env": "12.5",
        "ini": "13",
        "o": "0.25",
        "decoy_env": "97",
        "decoy_ini": "98",
        "default": 30.0,
    },
    "cassette_dir": {
        "cli": "cli-cassettes",
        "env": "env-cassettes",
        "ini": "ini-cassettes",
        "o": "o-cassettes",
        "decoy_env": "DO_NOT_USE_env",
        "decoy_ini": "DO_NOT_USE_ini",
        "default": "tests/cassettes",
    },
    "max_age": {
        "cli": "7",
        "env": "14.5",
        "ini": "21",
        "o": "0.5",
        "decoy_env": "97",
        "decoy_ini": "98",
        "default": None,
    },
    "drift_report": {
        "cli": "cli-drift.json",
        "env": "env-drift.json",
        "ini": "ini-drift.json",
        "o": "o-drift.json",
        "decoy_env": "DO_NOT_USE_env.json",
        "decoy_ini": "DO_NOT_USE_ini.json",
        "default": None,
    },
    "client_secret_file": {
        "cli": "cli.key",
        "env": "env.key",
        "ini": "ini.key",
        "o": "o.key",
        "decoy_env": "DO_NOT_USE_env.key",
        "decoy_ini": "DO_NOT_USE_ini.key",
        "default": None,
    },
}
LEVELS = ("cli", "env", "ini", "toml", "o", "default")


def key_content(file_name: str) -> str:
    return f"key-from-{file_name.removesuffix('.key')}"


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", list(PRECEDENCE))
def test_precedence(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, name: str, level: str
) -> None:
    values = PRECEDENCE[name]
    args: list[str] = []
    ini: dict[str, str] = {}
    if level == "cli":
        args += [flag(name), values["cli"]]
        monkeypatch.setenv(env_var(name), values["decoy_env"])
        ini[ini_key(name)] = values["decoy_ini"]
    elif level == "env":
        monkeypatch.setenv(env_var(name), values["env"])
        ini[ini_key(name)] = values["decoy_ini"]
    elif level in ("ini", "toml"):
        ini[ini_key(name)] = values["ini"]
    elif level == "o":
        args += ["-o", f"{ini_key(name)}={values['o']}"]
        ini[ini_key(name)] = values["decoy_ini"]
    if ini:
        write_ini(pytester, ini, "toml" if level == "toml" else "ini")
    if name == "client_secret_file":
        for key in ("cli", "env", "ini", "o", "decoy_env", "decoy_ini"):
            # surrounding whitespace is stripped; decoys hold a different key
            text = "DO_NOT_USE" if key.startswith("decoy") else key_content(values[key])
            (pytester.path / values[key]).write_text(f"  {text} \n\n", encoding="utf-8")

    data = dump(pytester, *args)

    source = {"toml": "ini", "o": "ini"}.get(level, level)
    raw = values["ini" if level == "toml" else level]
    assert data["sources"][name] == source, data
    if name in ("timeout", "max_age") and raw is not None:
        assert data[name] == float(raw)
    elif name in ("cassette_dir", "drift_report") and raw is not None:
        assert Path(data[name]).resolve() == (pytester.path / raw).resolve()
    elif name == "client_secret_file":
        if raw is None:
            assert data[name] is None
            assert data["secret_sha"] is None
            assert data["sources"]["client_secret"] == "default"
        else:
            assert Path(data[name]).resolve() == (pytester.path / raw).resolve()
            assert data["secret_sha"] == sha(key_content(raw))
            assert data["sources"]["client_secret"] == source
    else:
        assert data[name] == raw
    # every other setting stayed at its default
    for other in PRECEDENCE:
        if other != name:
            assert data["sources"][other] == "default", (other, data)


def test_relative_paths_resolve_from_invocation_dir_and_ini_dir(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ini(pytester, {"radix_cassette_dir": "from-ini"})
    sub = pytester.mkdir("sub")
    monkeypatch.chdir(sub)
    data = dump(pytester, "--radix-cassette-dir", "from-cli")
    assert Path(data["cassette_dir"]).resolve() == (sub / "from-cli").resolve()
    data = dump(pytester)
    assert Path(data["cassette_dir"]).resolve() == (pytester.path / "from-ini").resolve()
    assert data["sources"]["cassette_dir"] == "ini"


def test_default_cassette_dir_is_under_rootdir_even_from_a_subdirectory(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ini(pytester, {"addopts": "-p no:cacheprovider"})
    sub = pytester.mkdir("sub")
    monkeypatch.chdir(sub)
    data = dump(pytester)
    assert Path(data["cassette_dir"]).resolve() == (pytester.path / "tests/cassettes").resolve()
    assert data["sources"]["cassette_dir"] == "default"


def test_equals_form_of_options(pytester: pytest.Pytester) -> None:
    data = dump(
        pytester,
        f"--radix-client-id={CLIENT_ID}",
        "--radix-timeout=2.5",
        "--radix-record-mode=live",
    )
    assert (data["client_id"], data["timeout"], data["record_mode"]) == (CLIENT_ID, 2.5, "live")
    assert {data["sources"][n] for n in ("client_id", "timeout", "record_mode")} == {"cli"}


# ---------------------------------------------------------------------------------------------
# Booleans


@pytest.mark.parametrize("name", BOOLEANS)
@pytest.mark.parametrize(("prefix", "expected"), [("--", True), ("--no-", False)])
def test_boolean_flags_beat_env_and_ini(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    prefix: str,
    expected: bool,
) -> None:
    monkeypatch.setenv(env_var(name), "0" if expected else "1")
    write_ini(pytester, {ini_key(name): "false" if expected else "yes"})
    data = dump(pytester, prefix + flag(name).removeprefix("--"))
    assert data[name] is expected
    assert data["sources"][name] == "cli"


TRUE_WORDS = ("1", "true", "TRUE", "True", "yes", "YES", "yEs", "on", "ON", "On")
FALSE_WORDS = ("0", "false", "FALSE", "False", "no", "NO", "nO", "off", "OFF", "oFf")
ENV_WORD_CASES = [
    (BOOLEANS[i % len(BOOLEANS)], word, word in TRUE_WORDS)
    for i, word in enumerate(TRUE_WORDS + FALSE_WORDS)
]


@pytest.mark.parametrize(("name", "word", "expected"), ENV_WORD_CASES)
def test_boolean_env_words(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    word: str,
    expected: bool,
) -> None:
    monkeypatch.setenv(env_var(name), word)
    write_ini(pytester, {ini_key(name): "off" if expected else "on"})  # decoy, opposite
    data = dump(pytester)
    assert data[name] is expected
    assert data["sources"][name] == "env"


INI_WORD_CASES = [
    (level, name, word, expected)
    for level, words in (
        ("ini", (("Yes", True), ("OFF", False))),
        ("toml", (("on", True), ("No", False))),
        ("o", (("TRUE", True), ("0", False))),
    )
    for name in BOOLEANS
    for word, expected in words
]


@pytest.mark.parametrize(("level", "name", "word", "expected"), INI_WORD_CASES)
def test_boolean_ini_words(
    pytester: pytest.Pytester, level: str, name: str, word: str, expected: bool
) -> None:
    args: list[str] = []
    if level == "o":
        args = ["-o", f"{ini_key(name)}={word}"]
        write_ini(pytester, {ini_key(name): "no" if expected else "yes"})  # decoy, opposite
    else:
        write_ini(pytester, {ini_key(name): word}, level)
    data = dump(pytester, *args)
    assert data[name] is expected
    assert data["sources"][name] == "ini"


def test_native_toml_values(pytester: pytest.Pytester) -> None:
    values = {"radix_allow_http": True, "radix_token_cache": False, "radix_timeout": 12}
    write_ini(pytester, values, "toml")
    data = dump(pytester)
    assert (data["allow_http"], data["token_cache"], data["timeout"]) == (True, False, 12.0)
    assert {data["sources"][n] for n in ("allow_http", "token_cache", "timeout")} == {"ini"}


BAD_BOOLEAN_CASES = [
    ("env", "require_credentials", "maybe"),
    ("env", "token_cache", "2"),
    ("env", "allow_http", "enabled"),
    ("ini", "require_credentials", "y"),
    ("toml", "token_cache", "nope"),
    ("o", "allow_http", "sometimes"),
    ("env", "prune", "sure"),
    ("ini", "verify", "maybe"),
]


@pytest.mark.parametrize(("level", "name", "word"), BAD_BOOLEAN_CASES)
def test_bad_boolean_word_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, level: str, name: str, word: str
) -> None:
    args: list[str] = []
    if level == "env":
        monkeypatch.setenv(env_var(name), word)
        label = f"{env_var(name)}={word!r} (environment)"
    else:
        if level == "o":
            args = ["-o", f"{ini_key(name)}={word}"]
        else:
            write_ini(pytester, {ini_key(name): word}, level)
        label = f"{ini_key(name)}={word!r} (ini)"
    text = usage_error(pytester, *args)
    assert f"pytest-radix: {label} is not a boolean; {BOOLEAN_WORDS}" in text


# ---------------------------------------------------------------------------------------------
# Bad values stop pytest with a usage error naming the option, the value and what is allowed


@pytest.mark.parametrize(
    ("level", "value"),
    [("cli", "bogus"), ("env", "replay"), ("ini", "record-all"), ("o", "sometimes")],
)
def test_unknown_record_mode(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, level: str, value: str
) -> None:
    args, label = set_level(pytester, monkeypatch, "record_mode", level, value)
    text = usage_error(pytester, *args)
    assert f"pytest-radix: {label} is not a record mode; use one of {RECORD_MODES}" in text


def set_level(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    level: str,
    value: str,
) -> tuple[list[str], str]:
    """Give ``name`` the ``value`` at ``level``; return the args and the label messages use."""
    if level == "cli":
        return [f"{flag(name)}={value}"], f"{flag(name)}={value!r} (command line)"
    if level == "env":
        monkeypatch.setenv(env_var(name), value)
        return [], f"{env_var(name)}={value!r} (environment)"
    if level == "o":
        return ["-o", f"{ini_key(name)}={value}"], f"{ini_key(name)}={value!r} (ini)"
    write_ini(pytester, {ini_key(name): value}, level)
    return [], f"{ini_key(name)}={value!r} (ini)"


@pytest.mark.parametrize(
    ("level", "value"),
    [
        ("cli", "api.radix.com"),
        ("env", "radix.example/api"),
        ("ini", "//radix.example"),
        ("o", "ftp://radix.example"),
    ],
)
def test_base_url_without_scheme(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, level: str, value: str
) -> None:
    args, label = set_level(pytester, monkeypatch, "base_url", level, value)
    text = usage_error(pytester, *args)
    assert (
        f"pytest-radix: {label} is not an absolute http(s) URL; give scheme and host, "
        "for example 'https://api.radix.com'"
    ) in text


PLAIN_HTTP = (
    "is plain http to a host that is not loopback: the API key would cross the network "
    "unencrypted; use https, or allow it with --radix-allow-http (RADIX_ALLOW_HTTP=1)"
)


@pytest.mark.parametrize(
    ("level", "value"),
    [("cli", "http://radix.example"), ("env", "http://10.0.0.5:8080/api"), ("ini", "http://h.io")],
)
def test_plain_http_to_a_remote_host_is_refused(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, level: str, value: str
) -> None:
    args, label = set_level(pytester, monkeypatch, "base_url", level, value)
    text = usage_error(pytester, *args)
    assert f"pytest-radix: {label} {PLAIN_HTTP}" in text


@pytest.mark.parametrize("allow", ["cli", "env", "ini", "o"])
def test_plain_http_to_a_remote_host_is_accepted_when_allowed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, allow: str
) -> None:
    args = ["--radix-base-url", "http://radix.example/api"]
    if allow == "cli":
        args.append("--radix-allow-http")
    elif allow == "env":
        monkeypatch.setenv("RADIX_ALLOW_HTTP", "1")
    elif allow == "ini":
        write_ini(pytester, {"radix_allow_http": "true"})
    else:
        args += ["-o", "radix_allow_http=yes"]
    data = dump(pytester, *args)
    assert data["base_url"] == "http://radix.example/api"
    assert data["allow_http"] is True
    assert data["sources"]["allow_http"] == {"o": "ini"}.get(allow, allow)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9", "http://localhost:9/api", "http://[::1]:9", "http://127.8.0.1"]
)
def test_plain_http_to_loopback_is_accepted(pytester: pytest.Pytester, url: str) -> None:
    data = dump(pytester, "--radix-base-url", url)
    assert data["base_url"] == url
    assert data["allow_http"] is False


@pytest.mark.parametrize(
    ("level", "value"),
    [("cli", "0"), ("cli", "-5"), ("env", "abc"), ("env", "0"), ("ini", "-0.5"), ("o", "nan")],
)
def test_bad_timeout(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, level: str, value: str
) -> None:
    args, label = set_level(pytester, monkeypatch, "timeout", level, value)
    text = usage_error(pytester, *args)
    assert f"pytest-radix: {label} is not a positive number of seconds; give for example 30" in text


@pytest.mark.parametrize(
    ("level", "value"),
    [("cli", "0"), ("cli", "-1"), ("env", "a week"), ("ini", "inf"), ("o", "nan")],
)
def test_bad_max_age(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, level: str, value: str
) -> None:
    args, label = set_level(pytester, monkeypatch, "max_age", level, value)
    text = usage_error(pytester, *args)
    assert f"pytest-radix: {label} is not a positive number of days; give for example 30" in text


@pytest.mark.parametrize(
    ("level", "value", "problem"),
    [
        ("cli", "reports", "is a directory; give a file name"),
        ("env", "a-file/drift.json", "cannot be written: {path}/a-file is not a directory"),
        ("ini", "a-file/new/drift.json", "cannot be written: {path}/a-file is not a directory"),
    ],
    ids=["a-directory", "in-a-file", "under-a-file"],
)
def test_a_drift_report_that_cannot_be_written_is_a_usage_error(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    level: str,
    value: str,
    problem: str,
) -> None:
    """Refused before a live run, not found out at its end."""
    (pytester.path / "reports").mkdir()
    (pytester.path / "a-file").write_text("", encoding="utf-8")
    args, label = set_level(pytester, monkeypatch, "drift_report", level, value)
    text = usage_error(pytester, *args)
    assert f"pytest-radix: {label} {problem.format(path=pytester.path)}" in text


def test_verify_without_credentials_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADIX_VERIFY", "yes")
    text = usage_error(pytester, "--radix-client-id", CLIENT_ID)
    assert (
        "pytest-radix: --radix-verify (environment) needs credentials (API key missing); set "
        "RADIX_CLIENT_ID (or --radix-client-id) and RADIX_CLIENT_SECRET (or "
        "--radix-client-secret-file)"
    ) in text
    monkeypatch.delenv("RADIX_VERIFY")
    text = usage_error(pytester, "-o", "radix_verify=on")
    assert "--radix-verify (ini) needs credentials (client id and API key missing)" in text


def test_verify_with_a_recording_mode_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = unique_nasty_secret()
    monkeypatch.setenv("RADIX_CLIENT_SECRET", secret)
    text = usage_error(
        pytester, "--radix-verify", "--radix-record-mode=all", "--radix-client-id", CLIENT_ID
    )
    assert (
        "pytest-radix: --radix-verify (command line) runs live and writes no cassette, so it "
        "cannot go with record mode all (command line); leave the record mode out"
    ) in text
    assert secret[4:16] not in text


def test_good_timeout_in_header(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_dump=DUMP_TEST)
    result = run(pytester, "--radix-timeout", "2.5")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["radix: api_key=* timeout=2.5s (cli) *"])


# ---------------------------------------------------------------------------------------------
# The secret file


@pytest.mark.parametrize("level", ["cli", "env", "ini"])
def test_missing_secret_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, level: str
) -> None:
    path = pytester.path / "missing.key"
    args, label = set_level(pytester, monkeypatch, "client_secret_file", level, str(path))
    text = usage_error(pytester, *args)
    assert (
        f"pytest-radix: {label} cannot be read: No such file or directory; "
        "give a readable file holding the API key"
    ) in text


def test_secret_file_that_is_a_directory(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pytester.mkdir("keys")
    args, label = set_level(pytester, monkeypatch, "client_secret_file", "env", str(path))
    text = usage_error(pytester, *args)
    assert (
        f"pytest-radix: {label} cannot be read: Is a directory; "
        "give a readable file holding the API key"
    ) in text


@pytest.mark.parametrize(("level", "content"), [("cli", ""), ("env", " \n\t\n"), ("ini", "\n")])
def test_empty_secret_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, level: str, content: str
) -> None:
    path = pytester.path / "empty.key"
    path.write_text(content)
    args, label = set_level(pytester, monkeypatch, "client_secret_file", level, str(path))
    text = usage_error(pytester, *args)
    assert f"pytest-radix: {label} is empty; it must hold the API key" in text


def test_secret_file_that_is_not_utf8(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pytester.path / "latin1.key"
    path.write_bytes(b"\xff\xfekey-bytes-7c3e9a1d5b")
    args, label = set_level(pytester, monkeypatch, "client_secret_file", "cli", str(path))
    text = usage_error(pytester, *args)
    assert f"pytest-radix: {label} " in text
    assert "key-bytes" not in text


EXPORT_TEST = """
def test_export(radix_session):
    response = radix_session.get("/export")
    assert response.status_code == 200
    assert response.json()[0]["propertyId"]
"""


@pytest.mark.parametrize("level", ["cli", "env", "ini"])
def test_secret_file_is_stripped_and_used(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    fake_radix: FakeRadixServer,
    level: str,
) -> None:
    secret_file = pytester.path / "radix.key"
    secret_file.write_text(f"\n  {fake_radix.client_secret}  \r\n\n", encoding="utf-8")
    monkeypatch.setenv("RADIX_CLIENT_ID", fake_radix.client_id)
    monkeypatch.setenv("RADIX_BASE_URL", fake_radix.url)
    args: list[str] = []
    if level == "cli":
        args = ["--radix-client-secret-file", str(secret_file)]
    elif level == "env":
        monkeypatch.setenv("RADIX_CLIENT_SECRET_FILE", str(secret_file))
    else:
        write_ini(pytester, {"radix_client_secret_file": "radix.key"})  # relative to the ini
    pytester.makepyfile(EXPORT_TEST)
    result = run(pytester, *args)
    result.assert_outcomes(passed=1)
    assert fake_radix.auth_count == 1
    (auth,) = fake_radix.requests_to("/auth")
    assert auth.json()["client_secret"] == fake_radix.client_secret
    result.stdout.fnmatch_lines([f"radix: api_key=from {secret_file} ({level}) *"])


def test_secret_file_on_command_line_beats_env_secret(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (pytester.path / "good.key").write_text("key-from-cli-file\n")
    monkeypatch.setenv("RADIX_CLIENT_SECRET", "DO_NOT_USE_env")
    data = dump(pytester, "--radix-client-secret-file", "good.key")
    assert data["secret_sha"] == sha("key-from-cli-file")
    assert data["sources"]["client_secret"] == "cli"


def test_env_secret_beats_ini_secret_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (pytester.path / "decoy.key").write_text("DO_NOT_USE_ini\n")
    write_ini(pytester, {"radix_client_secret_file": "decoy.key"})
    monkeypatch.setenv("RADIX_CLIENT_SECRET", "key-from-env")
    data = dump(pytester)
    assert data["secret_sha"] == sha("key-from-env")
    assert data["sources"]["client_secret"] == "env"


# ---------------------------------------------------------------------------------------------
# The API key is refused as an option or an ini key, and never echoed

REFUSED_VALUE = "Xq7-refused-3f9a1c5d-never-echo"


def fragments(text: str, size: int = 8) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


@pytest.mark.parametrize(
    "how", ["equals", "separate", "bare", "-o", "ini", "toml", "PYTEST_ADDOPTS", "addopts"]
)
def test_client_secret_option_is_refused_without_echo(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    args: list[str] = []
    if how == "equals":
        args = [f"--radix-client-secret={REFUSED_VALUE}"]
    elif how == "separate":
        args = ["--radix-client-secret", REFUSED_VALUE]
    elif how == "bare":
        args = ["--radix-client-secret"]
    elif how == "-o":
        args = ["-o", f"radix_client_secret={REFUSED_VALUE}"]
    elif how in ("ini", "toml"):
        write_ini(pytester, {"radix_client_secret": REFUSED_VALUE}, how)
    elif how == "PYTEST_ADDOPTS":
        monkeypatch.setenv("PYTEST_ADDOPTS", f"--radix-client-secret={REFUSED_VALUE}")
    else:
        write_ini(pytester, {"addopts": f"--radix-client-secret {REFUSED_VALUE}"})
    text = usage_error(pytester, *args)
    assert "RADIX_CLIENT_SECRET" in text
    assert re.search(r"radix[-_]client[-_]secret\b(?![-_]file)", text), text
    leaked = sorted(f for f in fragments(REFUSED_VALUE) if f in text)
    assert not leaked, text


def test_client_secret_refusal_message(pytester: pytest.Pytester) -> None:
    text = usage_error(pytester, f"--radix-client-secret={REFUSED_VALUE}")
    assert (
        "--radix-client-secret: the API key is never accepted as an option (it would show in "
        "the process list and shell history); set the RADIX_CLIENT_SECRET environment "
        "variable or use --radix-client-secret-file"
    ) in text


# ---------------------------------------------------------------------------------------------
# The report header and --help


def test_header_shows_each_value_and_source(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "hdr-s3cr3t-5b7d9f1e3a"
    monkeypatch.setenv("RADIX_API_VERSION", "2.1.0")
    monkeypatch.setenv("RADIX_CLIENT_SECRET", secret)
    monkeypatch.setenv("RADIX_TIMEOUT", "12.5")
    write_ini(pytester, {"radix_client_id": CLIENT_ID, "radix_allow_http": "off"})
    pytester.makepyfile(test_dump=DUMP_TEST)
    result = run(
        pytester,
        "--radix-base-url=https://radix.example/api",
        "--radix-record-mode",
        "once",
        "--radix-require-credentials",
    )
    assert result.ret == 0
    cassettes = pytester.path / "tests" / "cassettes"
    result.stdout.fnmatch_lines(
        [
            "radix: mode=once * base_url=https://radix.example/api (cli) "
            "api_version=2.1.0 (env) client_id=5642c0b3… (ini)",
            f"radix: api_key=set (env) cassette_dir={cassettes} (default) timeout=12.5s (env) "
            "require_credentials=on (cli) token_cache=off (default) allow_http=off (ini)",
        ]
    )
    assert not [f for f in fragments(secret) if f in output(result)]


def test_header_defaults(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_dump=DUMP_TEST)
    result = run(pytester)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "radix: mode=* (auto: *) base_url=https://api.radix.com (default) "
            "api_version=1.0.0 (default) client_id=* (default)",
            "radix: api_key=unset (default) cassette_dir=* (default) timeout=30s (default) "
            "require_credentials=off (default) token_cache=off (default) allow_http=off (default)",
            "radix: max_age=off (default) prune=off (default) verify=off (default) "
            "drift_report=unset (default)",
        ]
    )


def test_header_shows_the_lifecycle_settings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADIX_PRUNE", "on")
    write_ini(pytester, {"radix_drift_report": "out/drift.json"})
    pytester.makepyfile(test_dump=DUMP_TEST)
    result = run(pytester, "--radix-max-age=30")
    assert result.ret == 0
    report = pytester.path / "out" / "drift.json"
    result.stdout.fnmatch_lines(
        [
            "radix: max_age=30d (cli) prune=on (env) verify=off (default) "
            f"drift_report={report} (ini)",
        ]
    )


def test_help_works_despite_a_bad_setting(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADIX_TIMEOUT", "abc")
    result = run(pytester, "--help")
    assert result.ret == 0
    assert "--radix-timeout" in output(result)


def test_help_lists_options_with_env_and_ini_names(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--help")
    assert result.ret == 0
    text = output(result)
    for name in PRECEDENCE:
        assert flag(name) in text
        assert env_var(name) in text
        assert ini_key(name) in text
    for name in BOOLEANS:
        assert flag(name) in text
        assert "--no-" + flag(name).removeprefix("--") in text
    # the refused option is not advertised
    assert not re.search(r"--radix-client-secret(?!-file)", text)


@pytest.mark.parametrize(
    "args",
    [
        ["--radix-client-secret", "-SECRETDASH1234"],
        ["--radix-client-sec=SECRETABBR1234"],
        ["--radix-client-secre", "SECRETABBR5678"],
    ],
)
def test_the_key_is_refused_without_echo_even_abbreviated_or_dash_led(
    pytester: pytest.Pytester, args: list[str]
) -> None:
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = output(result)
    assert "RADIX_CLIENT_SECRET" in text
    assert "SECRET" + args[-1].split("SECRET")[-1] not in text
