"""The README says what the code does: its options table, quick start and examples."""

from __future__ import annotations

import re
from pathlib import Path

from pytest_radix.config import OPTIONS

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_option_is_in_the_options_table_with_its_three_names() -> None:
    rows = [line for line in README.splitlines() if line.startswith("| `--")]
    for option in OPTIONS:
        flag = option.flag if not option.boolean else "--[no-]" + option.flag.removeprefix("--")
        (row,) = [r for r in rows if f"`{flag}" in r]
        assert f"`{option.env}`" in row
        assert f"`{option.ini}`" in row


def test_the_table_names_no_option_that_does_not_exist() -> None:
    flags = set(re.findall(r"^\| `(--[a-z\[\]-]+)", README, flags=re.M))
    known = {o.flag if not o.boolean else "--[no-]" + o.flag[2:] for o in OPTIONS}
    assert flags == known


def quick_start_commands() -> list[str]:
    """The command lines of the README's quick start, comments dropped."""
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = quick.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_ci_runs_the_quick_start_commands_word_for_word() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert commands[0].endswith("&& pip install . && pytest examples")
    assert commands[1].endswith('&& pip install -e ".[test]" && pytest --cov --cov-fail-under=90')
    for command in commands:
        assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && ")
        assert "python -m pytest" not in command  # a user types bare pytest
        assert f"'{command}'" in CI  # .ci/run holds the very string, and checks the README's


def test_the_readme_has_no_placeholders() -> None:
    """It is the package's long description: what PyPI would show."""
    assert not re.search(r"<(this repository|tag|your [a-z ]+)>", README)


def test_the_fixtures_table_lists_every_fixture() -> None:
    import pytest_radix.fixtures as fixtures

    names = {name for name in fixtures.__all__ if name.startswith("radix_")}
    table = README.split("## Fixtures", 1)[1].split("How they depend", 1)[0]
    assert set(re.findall(r"^\| `(radix_\w+)`", table, flags=re.M)) == names


def test_the_ci_recipe_workflow_parses_and_runs_the_readmes_commands() -> None:
    import yaml

    workflow = yaml.safe_load(
        (ROOT / "examples" / "github-actions" / "radix-cassettes.yml").read_text(encoding="utf-8")
    )
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare on as True
    assert set(triggers) == {"pull_request", "schedule", "workflow_dispatch"}
    section = README.split("## Keeping cassettes honest", 1)[1].split("\n## ", 1)[0]
    recipe = section.split("```bash", 1)[1].split("```", 1)[0]
    documented = [line for line in recipe.splitlines() if line and not line.startswith("#")]
    commands = {
        name: [step["run"] for step in job["steps"] if "run" in step]
        for name, job in workflow["jobs"].items()
    }
    assert commands == {
        "replay": documented[:2],
        "verify": [documented[0], documented[2]],
    }
    assert "secrets.RADIX_CLIENT_SECRET" in str(workflow["jobs"]["verify"]["env"])
    assert "env" not in workflow["jobs"]["replay"]
    assert documented[3:] == ["pytest --radix-record-mode=all", "pytest --radix-prune"]
