"""YAML from outside, parsed within bounds and without silent surprises.

PyYAML's SafeLoader is safe from code execution but not from exhaustion, and it is lenient:
- an alias (``*a``) refers to a node instead of copying it, so a few kilobytes of nested
  aliases ("billion laughs") stand for 10⁹ nodes, and whatever walks the data walks them all;
  we count the nodes as expanded and refuse more than MAX_NODES (any alias count that stays
  under it is fine: ordinary anchors for shared lists keep working);
- a node may contain an alias to itself (``&a [*a]``): refused;
- composing is recursive, so ``[[[[…]]]]`` deep enough ends in RecursionError; we refuse
  nesting deeper than MAX_DEPTH while composing, and again with aliases expanded (an alias
  inside nested lists to another such can stack depth the composer never saw);
- a key given twice in one mapping silently keeps the last value; we refuse it (the merge key
  ``<<`` still lets an explicit key override a merged one, as YAML intends).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_DEPTH = 32             # the catalogue nests 11 deep, settings 5
MAX_NODES = 100_000        # nodes with every alias expanded: the shipped catalogue has 5,164;
                           # validation errors grow with nodes (a million cost 1 GB)
MERGE = "tag:yaml.org,2002:merge"


class YamlRefused(yaml.YAMLError):
    """Well-formed YAML we do not take; ``line`` is 1-based (0: unknown)."""

    def __init__(self, zh: str, en: str, mark: Any = None) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en
        self.line = mark.line + 1 if mark is not None else 0


def parse_yaml(text: str) -> tuple[Any, Node | None]:
    """The data of a one-document YAML text and its root node (for line numbers), or
    YamlRefused / yaml.YAMLError."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_expanded(node, 1, {})
        return loader.construct_document(node), node
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._nodes = 0        # as written (an alias is one); _check_expanded counts them out

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH or self._nodes > MAX_NODES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _too_deep(mark) if self._depth > MAX_DEPTH else _too_many(mark)
            node: Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == MERGE:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:      # an unhashable key: the constructor below says so
                continue
            if duplicate:
                raise YamlRefused(f"键 `{key}` 重复出现", f"key `{key}` appears twice",
                                  key_node.start_mark)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


def _check_expanded(node: Node, depth: int, seen: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(nodes, height) of ``node`` with every alias copied out; refuses more than MAX_NODES,
    deeper than MAX_DEPTH (aliases can stack nesting the composer never saw), or a node that
    contains itself. Each node is walked once (``seen``), so this costs the nodes in the file,
    and the recursion stops at MAX_DEPTH."""
    key = id(node)
    if key in seen:
        size, height = seen[key]
        if size < 0:
            raise YamlRefused("别名指向包含它自身的节点", "an alias refers to a node that "
                              "contains it", node.start_mark)
    else:
        if depth > MAX_DEPTH:
            raise _too_deep(node.start_mark)
        seen[key] = (-1, 0)
        children: list[Node] = []
        if isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, SequenceNode):
            children = list(node.value)
        size, height = 1, 1
        for child in children:
            child_size, child_height = _check_expanded(child, depth + 1, seen)
            size, height = size + child_size, max(height, child_height + 1)
        seen[key] = (size, height)
    if size > MAX_NODES:
        raise _too_many(node.start_mark)
    if depth + height - 1 > MAX_DEPTH:
        raise _too_deep(node.start_mark)
    return size, height


def _too_deep(mark: Any) -> YamlRefused:
    return YamlRefused(f"嵌套超过 {MAX_DEPTH} 层", f"nested deeper than {MAX_DEPTH} levels", mark)


def _too_many(mark: Any) -> YamlRefused:
    return YamlRefused(f"超过 {MAX_NODES:,} 个节点（别名展开后）",
                       f"more than {MAX_NODES:,} nodes (aliases expanded)", mark)
