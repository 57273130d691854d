"""However a user names the plugin, it loads once: autoloaded, ``-p radix`` (its entry point),
``-p pytest_radix`` or ``-p pytest_radix.plugin``, with plugin autoloading on or off."""

from __future__ import annotations

import pytest
from helpers import output

from pytest_radix.testing import FakeRadixServer

SUITE = """
def test_export(radix_session):
    assert radix_session.get("/export").status_code == 200
"""


NAMES = {"p-radix": "radix", "p-pytest_radix": "pytest_radix", "p-module": "pytest_radix.plugin"}
WAYS = [
    pytest.param(True, (), id="autoload"),
    *(pytest.param(True, ("-p", name), id=f"autoload-{key}") for key, name in NAMES.items()),
    *(pytest.param(False, ("-p", name), id=f"no-autoload-{key}") for key, name in NAMES.items()),
]


@pytest.mark.parametrize(("autoload", "args"), WAYS)
def test_the_plugin_loads_once_however_it_is_named(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    radix_env: FakeRadixServer,
    autoload: bool,
    args: tuple[str, ...],
) -> None:
    if not autoload:
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    text = output(result)
    result.assert_outcomes(passed=1)
    assert [line for line in result.outlines if line.startswith("radix: mode=")] == [
        "radix: mode=live (auto: credentials found) "
        f"base_url={radix_env.url} (env) api_version=1.0.0 (default) "
        f"client_id={radix_env.client_id[:8]}… (env)"
    ], text
    summaries = [line for line in result.outlines if line.startswith("radix: 1 authentication")]
    assert len(summaries) == 1, text
    assert radix_env.auth_count == 1


def test_blocking_the_entry_point_name_turns_the_plugin_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:radix")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'radix_session' not found*"])
    assert "radix: " not in output(result)
