"""Composing YAML with a bound on its aliases: a "billion laughs" file is refused.

An alias points to a node composed already, so composing a file costs time and memory linear in
its size; but walking the composed document as a tree — as a loader's constructor, the cassette
reader, the scrubber and ``audit`` do — visits an alias's target once per alias, and a few nested
aliases make that exponential (a 2.5 KB file expands to billions of nodes). The expanded size is
counted here, once per node, before anything walks the document; a text without ``&`` has no
anchor, hence no alias, and is not counted.
"""

from __future__ import annotations

import yaml

__all__ = ["AliasBombError", "compose", "expanded_size"]

NODES_PER_CHARACTER = 10
"""How far aliases may expand a document: this many nodes per character of its text (a
document without aliases has fewer nodes than characters), and at least ``MIN_NODES``."""

MIN_NODES = 100_000


class AliasBombError(ValueError):
    """A YAML document whose aliases expand it far beyond its size, or into a loop."""


def compose(text: str) -> yaml.Node | None:
    """The node graph of a one-document YAML text (libyaml's composer when installed); nothing
    is constructed, so no tag runs code.

    Raises :class:`AliasBombError` when its aliases expand it past ``NODES_PER_CHARACTER`` nodes
    per character (or make it contain itself), and ``yaml.YAMLError`` when it is not YAML.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is not None and "&" in text:  # no "&": no anchor, no alias, a tree
        limit = max(MIN_NODES, NODES_PER_CHARACTER * len(text))
        size = expanded_size(node, limit)
        if size > limit:
            raise AliasBombError(
                f"its YAML aliases expand it to more than {limit} nodes (a 'billion laughs' "
                "file?); pytest-radix never writes aliases like these"
            )
    return node


def expanded_size(root: yaml.Node, limit: int) -> int:
    """How many nodes ``root`` has once its aliases are expanded, counting up to just past
    ``limit``; each node of the graph is visited once."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    todo: list[tuple[yaml.Node, bool]] = [(root, False)]
    while todo:
        node, children_done = todo.pop()
        key = id(node)
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            sizes[key] = min(limit + 1, 1 + sum(sizes[id(child)] for child in children))
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
