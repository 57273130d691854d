"""The fast cassette reader gives exactly what vcrpy's loader gives, or defers to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from vcr.serializers import yamlserializer

from pytest_radix.cassette_files import NOT_PLAIN, plain_yaml

EXAMPLES = Path(__file__).parent.parent / "examples" / "tests" / "cassettes"


@pytest.mark.parametrize(
    "path", sorted(EXAMPLES.rglob("*.yaml")), ids=lambda p: str(p.relative_to(EXAMPLES))
)
def test_example_cassettes_read_the_same_as_with_vcrpy(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert plain_yaml(text) == yamlserializer.deserialize(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [x, 'y', \"z\\u00fc\"]\nc: ~\nd: null\ne: yes\nf: Off\ng: ''\n",
        "list:\n- 1\n- -2\n- 1_000\n- {k: v}\n",
        "folded: >\n  one\n  two\nliteral: |\n  three\n",
        "anchor: &a {x: 1}\nalias: *a\n",
    ],
)
def test_plain_documents_read_the_same_as_with_vcrpy(text: str) -> None:
    assert plain_yaml(text) == yamlserializer.deserialize(text)


@pytest.mark.parametrize(
    "text",
    [
        "body: !!binary aGVsbG8=\n",
        "ratio: 1.5\n",
        "hex: 0x1A\n",
        "base: &b {x: 1}\nmerged:\n  <<: *b\n",
        "body: !!python/tuple [1, 2]\n",
        "? [a, b]\n: c\n",
    ],
)
def test_anything_else_is_left_to_vcrpy(text: str) -> None:
    assert plain_yaml(text) is NOT_PLAIN


def test_a_dangerous_tag_is_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    text = f"x: !!python/object/apply:os.system ['touch {marker}']\n"
    assert plain_yaml(text) is NOT_PLAIN
    assert not marker.exists()
