"""Check a built wheel: the package and py.typed only, the pytest11 entry point, the metadata."""

from __future__ import annotations

import configparser
import sys
import zipfile
from email.parser import Parser


def problems(path: str) -> list[str]:
    """What is wrong with the wheel at ``path`` (nothing, when it is right)."""
    found: list[str] = []
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        strays = [n for n in names if not n.startswith(("pytest_radix/", info + "/"))]
        if strays:
            found.append(f"files outside the package: {strays}")
        package = {n for n in names if n.startswith("pytest_radix/")}
        others = [n for n in package if not n.endswith((".py", "/py.typed"))]
        if others:
            found.append(f"files in the package that are not modules or py.typed: {others}")
        for needed in (
            "pytest_radix/py.typed",
            "pytest_radix/plugin.py",
            f"{info}/licenses/LICENSE",
        ):
            if needed not in names:
                found.append(f"missing: {needed}")
        points = configparser.ConfigParser()
        points.read_string(wheel.read(f"{info}/entry_points.txt").decode("utf-8"))
        if dict(points["pytest11"]) != {"radix": "pytest_radix.plugin"}:
            found.append(f"pytest11 entry points: {dict(points['pytest11'])}")
        metadata = Parser().parsestr(wheel.read(f"{info}/METADATA").decode("utf-8"))
        expected = {
            "Name": "pytest-radix",
            "License-Expression": "MIT",
            "Requires-Python": ">=3.10",
        }
        for key, value in expected.items():
            if metadata[key] != value:
                found.append(f"metadata {key}: {metadata[key]!r}, expected {value!r}")
        if "Framework :: Pytest" not in metadata.get_all("Classifier", []):
            found.append("classifier Framework :: Pytest missing")
        if "<this repository>" in metadata.get_payload() or "<tag>" in metadata.get_payload():
            found.append("the long description holds a placeholder")
    return found


if __name__ == "__main__":
    failures = [f"{path}: {p}" for path in sys.argv[1:] for p in problems(path)]
    print("\n".join(failures) or f"wheel checked: {', '.join(sys.argv[1:])}")
    sys.exit(1 if failures else 0)
