"""``import pytest_radix`` and loading the plugin stay cheap: the heavy modules load on use."""

from __future__ import annotations

import ast
import subprocess
import sys

HEAVY = ("requests", "urllib3", "jwt", "vcr", "yaml")


def loaded_after(statement: str) -> list[str]:
    code = f"import sys\n{statement}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    output = subprocess.check_output([sys.executable, "-c", code], text=True)
    names: list[str] = ast.literal_eval(output)
    return names


def test_importing_the_package_loads_nothing_heavy() -> None:
    assert loaded_after("import pytest_radix") == []


def test_loading_the_plugin_and_its_fixtures_loads_nothing_heavy() -> None:
    assert loaded_after("import pytest_radix.plugin, pytest_radix.fixtures") == []


def test_a_public_name_loads_its_module_on_first_use() -> None:
    assert loaded_after("import pytest_radix; pytest_radix.RadixCredentials") == []
    assert "requests" in loaded_after("import pytest_radix; pytest_radix.RadixSession")
