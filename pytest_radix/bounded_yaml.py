"""Composing YAML with a bound on its aliases: a "billion laughs" file is refused.

An alias points to a node composed already, so composing a file costs time and memory linear in
its size; but walking the composed document as a tree — as a loader's constructor, the cassette
reader, the scrubber and ``audit`` do — visits an alias's target once per alias, and a few nested
aliases make that exponential (a 2.5 KB file expands to billions of nodes), or repeat one long
string until memory runs out. The expanded size — nodes and the characters of their scalars —
is counted here, once per node, before anything walks the document; a text without ``&`` has no
anchor, hence no alias, and is not counted.
"""

from __future__ import annotations

import yaml

__all__ = ["AliasBombError", "compose", "expanded_size"]

EXPANSION = 10
"""How far aliases may expand a document: its expanded size (nodes plus scalar characters) may
be this many times the length of its text (a document without aliases is at most about twice
its length), and at least ``MIN_SIZE``."""

MIN_SIZE = 100_000


class AliasBombError(ValueError):
    """A YAML document whose aliases expand it far beyond its size, or into a loop."""


def compose(text: str) -> yaml.Node | None:
    """The node graph of a one-document YAML text (libyaml's composer when installed); nothing
    is constructed, so no tag runs code.

    Raises :class:`AliasBombError` when its aliases expand it past ``EXPANSION`` times its
    length (or make it contain itself), and ``yaml.YAMLError`` when it is not YAML.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is not None and "&" in text:  # no "&": no anchor, no alias, a tree
        limit = max(MIN_SIZE, EXPANSION * len(text))
        size = expanded_size(node, limit)
        if size > limit:
            raise AliasBombError(
                f"its YAML aliases expand it more than {EXPANSION}-fold, past {limit} nodes and "
                "characters (a 'billion laughs' file?); pytest-radix never writes aliases like "
                "these"
            )
    return node


def expanded_size(root: yaml.Node, limit: int) -> int:
    """How many nodes and scalar characters ``root`` has once its aliases are expanded,
    counting up to just past ``limit``; each node of the graph is visited once."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    todo: list[tuple[yaml.Node, bool]] = [(root, False)]
    while todo:
        node, children_done = todo.pop()
        key = id(node)
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            own = len(node.value) if isinstance(node, yaml.ScalarNode) else 0
            sizes[key] = min(limit + 1, 1 + own + sum(sizes[id(child)] for child in children))
            if sizes[key] > limit:
                return sizes[key]
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise AliasBombError("its YAML aliases make it contain itself")
        open_nodes.add(key)
        todo.append((node, True))
        todo.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
