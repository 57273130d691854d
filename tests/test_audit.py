"""``python -m pytest_radix audit``: exit 0 on clean cassettes, 1 listing ``file:line`` for every
secret left, 2 for a missing path — and never the secret itself in its output."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
import yaml
from helpers import INNER_ARGS, interactions
from vcr.serializers import yamlserializer

# Imported here so that the in-process inner runs share these modules (see test_fixtures.py).
import pytest_radix.auth  # noqa: F401
import pytest_radix.cassettes  # noqa: F401
import pytest_radix.session  # noqa: F401
from pytest_radix import __version__
from pytest_radix.__main__ import main as cli
from pytest_radix.audit import audit_paths, default_cassette_dir
from pytest_radix.scrubbing import PLACEHOLDER
from pytest_radix.testing import FakeRadixServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ASCII_SECRET = "sk_live_audit-ascii-0f1e2d3c4b5a6978"
FRAGMENT = 12


def audit(*args: str | Path, secret: str | None = None, cwd: Path | None = None) -> tuple[int, str]:
    """Run ``python -m pytest_radix audit ARGS`` in a subprocess; its exit code and output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADIX_")}
    if secret is not None:
        env["RADIX_CLIENT_SECRET"] = secret
    completed = subprocess.run(
        [sys.executable, "-m", "pytest_radix", "audit", *map(str, args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return completed.returncode, completed.stdout + completed.stderr


def audit_in_process(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """The same command in this process (faster, for the many small cases)."""
    code = cli(["audit", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def fragments(value: str) -> set[str]:
    forms = {value, json.dumps(value)[1:-1], repr(value)[1:-1], ascii(value)[1:-1]}
    return {f[i : i + FRAGMENT] for f in forms for i in range(len(f) - FRAGMENT + 1)}


def assert_never_shown(text: str, *values: str) -> None:
    for value in values:
        assert value not in text
        shown = [fragment for fragment in fragments(value) if fragment in text]
        assert not shown, "the audit output shows part of a secret"


def cassette(
    request_body: str | None,
    *,
    headers: dict[str, list[str]] | None = None,
    response_body: str = "[]",
    uri: str = "https://api.radix.com/export",
) -> str:
    """A cassette as vcrpy's serializer writes it."""
    return yamlserializer.serialize(
        {
            "interactions": [
                {
                    "request": {
                        "body": request_body,
                        "headers": headers or {"x-radix-version": ["1.0.0"]},
                        "method": "POST" if request_body else "GET",
                        "uri": uri,
                    },
                    "response": {
                        "status": {"code": 200, "message": "OK"},
                        "headers": {"Content-Type": ["application/json"]},
                        "body": {"string": response_body},
                    },
                }
            ],
            "version": 1,
        }
    )


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in {path}")


def real_jwt() -> str:
    return jwt.encode({"sub": "5642c0b355d27c0e003b3f30", "iat": 1}, "audit-signing-key" * 2)


# ---------------------------------------------------------------------------------------------
# clean cassettes


def test_the_example_cassettes_are_clean() -> None:
    code, text = audit(EXAMPLES / "tests" / "cassettes")
    assert code == 0, text
    assert re.search(r"\b3 file\(s\) clean", text), text


def test_the_default_path_is_the_cassette_dir(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "tests" / "cassettes", tmp_path / "tests" / "cassettes")
    code, text = audit(cwd=tmp_path)
    assert code == 0, text
    assert "3 file(s) clean" in text
    (tmp_path / "tests" / "cassettes" / "dirty.yaml").write_text(
        cassette(None, headers={"Authorization": ["Bearer opaque-value-123"]}), "utf-8"
    )
    code, text = audit(cwd=tmp_path)
    assert code == 1, text
    assert "dirty.yaml:" in text


def test_the_default_paths_include_pytest_recordings_cassette_dirs(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", "utf-8")
    dirty = cassette(None, headers={"Authorization": ["Bearer opaque-value-123"]})
    beside_tests = tmp_path / "cassettes" / "test_api" / "test_both.yaml"  # pytest-recording's
    deeper = tmp_path / "src" / "pkg" / "tests" / "cassettes" / "test_x" / "test_y.yaml"
    ignored = [
        tmp_path / ".venv" / "lib" / "cassettes" / "a.yaml",
        tmp_path / "env" / "lib" / "cassettes" / "b.yaml",  # a virtual environment
        tmp_path / "node_modules" / "x" / "cassettes" / "c.yaml",
    ]
    (tmp_path / "env" / "pyvenv.cfg").parent.mkdir()
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n", "utf-8")
    for path in (beside_tests, deeper, *ignored):
        path.parent.mkdir(parents=True)
        path.write_text(dirty, "utf-8")
    code, text = audit(cwd=tmp_path)
    assert code == 1, text
    assert f"{beside_tests}:" in text and f"{deeper}:" in text
    assert "2 secret(s) found in 2 file(s)" in text, text


@pytest.mark.parametrize(
    "value", ["DUMMY", "REDACTED", "<AUTH_TOKEN>", "***", "Bearer scrubbed-by-pytest-radix"]
)
def test_a_placeholder_authorization_value_is_not_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    (tmp_path / "vcrpy.yaml").write_text(cassette(None, headers={"Authorization": [value]}))
    (tmp_path / "inline.txt").write_text(f"authorization: {value}\n[not yaml", "utf-8")
    code, text = audit_in_process(capsys, tmp_path / "vcrpy.yaml", tmp_path / "inline.txt")
    assert code == 0, text


def test_freshly_recorded_cassettes_are_clean(
    pytester: pytest.Pytester, radix_env: FakeRadixServer
) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(
        **{
            "tests/test_api": """
            import pytest

            @pytest.fixture(scope="session")
            def data(radix_session_factory):
                return radix_session_factory().get("/export").json()

            def test_one(radix_session, radix_token, data):
                assert radix_session.get("/export", params={"t": str(radix_token)}).ok
                assert data
            """
        }
    )
    result = pytester.runpytest(*INNER_ARGS, "--radix-record-mode=once")
    result.assert_outcomes(passed=1)
    directory = pytester.path / "tests" / "cassettes"
    assert len(list(directory.rglob("*.yaml"))) == 3
    code, text = audit(directory, secret=radix_env.client_secret)
    assert code == 0, text
    assert "3 file(s) clean" in text
    assert_never_shown(text, radix_env.client_secret, *radix_env.issued_tokens)


# ---------------------------------------------------------------------------------------------
# findings


def test_every_kind_of_secret_is_listed_with_file_and_line(tmp_path: Path) -> None:
    token = real_jwt()
    files = {
        "authorization.yaml": cassette(
            None, headers={"Authorization": [f"Bearer {token}"], "x-radix-version": ["1.0.0"]}
        ),
        "jwt.yaml": cassette(None, response_body=json.dumps({"access_token": token})),
        "client_secret.yaml": cassette(
            json.dumps({"client_id": "5642c0b355d27c0e003b3f30", "client_secret": "hunter2-x"})
        ),
        "env_secret.yaml": cassette(None, response_body=f"echo {ASCII_SECRET} echo"),
        "clean.yaml": cassette(
            json.dumps({"client_id": "5642c0b355d27c0e003b3f30", "client_secret": PLACEHOLDER}),
            response_body=json.dumps({"access_token": token.rsplit(".", 1)[0] + "." + PLACEHOLDER}),
        ),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    code, text = audit(tmp_path, secret=ASCII_SECRET)
    assert code == 1, text
    expected = {
        "authorization.yaml": ("Authorization", "Bearer"),
        "jwt.yaml": (token, token),
        "client_secret.yaml": ("hunter2-x", "hunter2-x"),
        "env_secret.yaml": (ASCII_SECRET, ASCII_SECRET),
    }
    for name, (header_needle, value_needle) in expected.items():
        path = tmp_path / name
        lines = {line_of(path, header_needle), line_of(path, value_needle)}
        assert any(f"{path}:{n}:" in text for n in lines), (name, lines, text)
    assert "clean.yaml" not in text
    assert_never_shown(text, token, token.rsplit(".", 1)[1], "hunter2-x", ASCII_SECRET)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Bearer opaque-value-123", id="list"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic"),
    ],
)
def test_an_authorization_value_in_any_layout(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    layouts = {
        "vcrpy.yaml": cassette(None, headers={"Authorization": [value]}),
        "inline.yaml": f"interactions:\n- request:\n    headers:\n      authorization: {value}\n",
        "quoted.yaml": f"interactions:\n- request:\n    headers:\n      'AUTHORIZATION':\n"
        f"      - '{value}'\n",
    }
    for name, text in layouts.items():
        (tmp_path / name).write_text(text, "utf-8")
    code, text = audit_in_process(capsys, tmp_path)
    assert code == 1
    for name in layouts:
        path = tmp_path / name
        lines = {line_of(path, value), line_of(path, value) - 1}
        assert any(f"{path}:{n}:" in text for n in lines), (name, text)
    assert value.split()[1] not in text


def test_empty_authorization_values_are_not_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.yaml").write_text(
        "interactions:\n- request:\n    headers:\n      Authorization: []\n"
        "      X-Other:\n      - value\n",
        "utf-8",
    )
    code, text = audit_in_process(capsys, tmp_path)
    assert code == 0, text


def test_the_api_key_as_vcrpy_writes_it_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """vcrpy's YAML escapes ``"``, ``\\`` and non-ASCII (``\\xFC``) in the key it leaked."""
    secret = 'sk_"quo\\te/slash-ünïcødé-9c1f0e77b2d4a6e8'  # conftest.NASTY_SECRET
    path = tmp_path / "leak.yaml"
    path.write_text(cassette(None, response_body=f"echo {secret}"), "utf-8")
    assert secret not in path.read_text("utf-8"), "precondition: the YAML escapes it"
    assert interactions(path)[0]["response"]["body"]["string"] == f"echo {secret}"
    monkeypatch.setenv("RADIX_CLIENT_SECRET", secret)
    code, text = audit_in_process(capsys, path)
    assert code == 1, text
    assert f"{path}:{line_of(path, '9c1f0e77b2d4a6e8')}:" in text
    assert_never_shown(text, secret)


@pytest.mark.parametrize(
    "form",
    ["raw", "json", "url"],
)
def test_the_api_key_is_found_in_escaped_forms(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    form: str,
) -> None:
    from urllib.parse import quote_plus

    secret = 'sk_"quo\\te/slash-9c1f0e77b2d4a6e8'
    written = {"raw": secret, "json": json.dumps(secret)[1:-1], "url": quote_plus(secret)}[form]
    path = tmp_path / "leak.yaml"
    path.write_text(
        f"interactions:\n- response:\n    body:\n      string: 'x {written}'\n", "utf-8"
    )
    monkeypatch.setenv("RADIX_CLIENT_SECRET", secret)
    code, text = audit_in_process(capsys, path)
    assert code == 1, text
    assert f"{path}:4:" in text
    assert_never_shown(text, secret)


@pytest.mark.parametrize(
    "form", ["all-json-escaped", "first-json-escaped", "url-dots", "html-dots"]
)
def test_a_token_stored_escaped_by_another_tool_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    """audit does not know the live tokens: it finds a signed JWT by its shape, also escaped."""
    token = real_jwt()
    written = {
        "all-json-escaped": "".join(f"\\u{ord(c):04x}" for c in token),
        "first-json-escaped": f"\\u{ord(token[0]):04x}{token[1:]}",
        "url-dots": token.replace(".", "%2E"),
        "html-dots": token.replace(".", "&#46;"),
    }[form]
    path = tmp_path / "leak.yaml"
    path.write_text(cassette(None, response_body=f'{{"t": "{written}"}}'), "utf-8")
    code, text = audit_in_process(capsys, path)
    assert code == 1, text
    assert "JWT with a signature that is not the placeholder" in text
    assert_never_shown(text, token)


def test_a_client_secret_folded_onto_the_next_line_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """vcrpy's YAML folds long bodies at spaces, also the one after ``"client_secret":``."""
    for pad in range(200):
        body = json.dumps({"padding": "a " * pad, "client_secret": "folded-secret-value"})
        text = cassette(body)
        if not any('"client_secret": "folded' in line for line in text.splitlines()):
            break
    else:
        raise AssertionError("precondition: no padding folds the body after client_secret")
    path = tmp_path / "folded.yaml"
    path.write_text(text, "utf-8")
    assert json.loads(yaml.safe_load(text)["interactions"][0]["request"]["body"]) == {
        "padding": "a " * pad,
        "client_secret": "folded-secret-value",
    }
    code, output = audit_in_process(capsys, path)
    assert code == 1, output
    lines = {line_of(path, "client_secret"), line_of(path, "folded-secret-value")}
    assert any(f"{path}:{n}:" in output for n in lines), output
    assert "folded-secret-value" not in output


def test_the_client_secret_placeholder_and_look_alike_tokens_are_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = real_jwt()
    path = tmp_path / "clean.yaml"
    path.write_text(
        cassette(
            json.dumps({"client_secret": PLACEHOLDER, "nested": {"client_secret": PLACEHOLDER}}),
            response_body=json.dumps({"token": token.rsplit(".", 1)[0] + "." + PLACEHOLDER}),
        ),
        "utf-8",
    )
    code, text = audit_in_process(capsys, path)
    assert code == 0, text


def test_the_output_never_shows_the_secret_even_on_many_findings(tmp_path: Path) -> None:
    secret = 'sk_"quo\\te/slash-ünïcødé-9c1f0e77b2d4a6e8'
    lines = [f"# {secret}", f"x: '{json.dumps(secret)}'", f"client_secret={secret}"]
    (tmp_path / "many.yaml").write_text("\n".join(lines) + "\n", "utf-8")
    code, text = audit(tmp_path, secret=secret)
    assert code == 1, text
    assert_never_shown(text, secret)
    assert f"{tmp_path / 'many.yaml'}:1:" in text


# ---------------------------------------------------------------------------------------------
# usage


def test_a_missing_path_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "cassettes"
    code, text = audit(missing)
    assert code == 2, text
    assert str(missing) in text


def test_a_missing_path_among_existing_ones_exits_2(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(cassette(None), "utf-8")
    code, text = audit(tmp_path / "ok.yaml", tmp_path / "gone.yaml")
    assert code == 2, text
    assert "gone.yaml" in text


def test_the_command_line_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli([]) == 2
    assert "usage: python -m pytest_radix" in capsys.readouterr().out
    assert cli(["--help"]) == 0
    assert "audit" in capsys.readouterr().out
    assert cli(["scrub"]) == 2
    assert "invalid choice: 'scrub'" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_audit_help_prints_its_usage_rather_than_auditing_a_path(flag: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_radix", "audit", flag],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m pytest_radix audit [-h] [PATH ...]")
    assert "exits 1 if any" in done.stdout
    assert "no such file" not in done.stdout + done.stderr


def test_the_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"pytest-radix {__version__}"


def test_the_pre_commit_hook_runs_the_audit() -> None:
    hooks = yaml.safe_load(
        (Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text("utf-8")
    )
    (hook,) = [h for h in hooks if "audit" in h["id"]]
    assert hook["entry"] == "python -m pytest_radix audit"
    assert re.search(hook["files"], "tests/cassettes/tests/test_api/test_one.yaml")
    assert re.search(hook["files"], "tests/cassettes/radix_auth.yml")
    assert not re.search(hook["files"], "tests/test_api.py")


def test_a_client_secret_stored_as_a_mapping_value_is_found(tmp_path: Path) -> None:
    path = tmp_path / "cassette.yaml"
    path.write_text("interactions:\n- request:\n    client_secret: hunter2-is-not-scrubbed\n")
    findings = audit_paths([path])
    assert [(line, what) for _, line, what in findings] == [
        (3, "client_secret that is not the placeholder")
    ]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("pytest.ini", "[pytest]\nradix_cassette_dir = recorded\n", "recorded"),
        ("tox.ini", "[pytest]\nradix_cassette_dir = from-tox\n", "from-tox"),
        ("setup.cfg", "[tool:pytest]\nradix_cassette_dir = from-cfg\n", "from-cfg"),
        (
            "pyproject.toml",
            '[tool.pytest.ini_options]\nradix_cassette_dir = "from-toml"\n',
            "from-toml",
        ),
        ("pytest.ini", "[pytest]\n", "tests/cassettes"),
    ],
)
def test_the_default_path_is_the_cassette_dir_of_the_nearest_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: str, expected: str
) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    inner = tmp_path / "tests" / "deeper"
    inner.mkdir(parents=True)
    assert default_cassette_dir(inner) == tmp_path / expected
    monkeypatch.setenv("RADIX_CASSETTE_DIR", "elsewhere")
    assert default_cassette_dir(inner) == inner / "elsewhere"
