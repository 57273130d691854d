"""``import pytest_radix`` and loading the plugin stay cheap: the heavy modules load on use."""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

import pytest_radix

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


def module_imports() -> dict[str, set[str]]:
    """Each package module's top-level imports of other package modules (``TYPE_CHECKING``
    blocks included: a cycle there still ties the two modules together)."""
    package = Path(pytest_radix.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        targets = graph.setdefault(path.stem, set())
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            blocks = node.body if isinstance(node, ast.If) else [node]
            for statement in blocks:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    module = statement.module
                    if module.startswith("pytest_radix."):
                        targets.add(module.split(".")[1])
    return graph


def test_the_package_modules_import_each_other_one_way() -> None:
    graph = module_imports()
    assert "recording" in graph["run"]  # the graph sees TYPE_CHECKING imports
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle
