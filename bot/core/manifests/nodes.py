"""Compose YAML text into position-carrying nodes; locate a scalar's exact bytes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]
_PROPERTY_RE = re.compile(r"(?:[&!]\S*\s+)+")


class ManifestError(ValueError):
    """A manifest that cannot be read or edited safely; the message says why."""


@dataclass(frozen=True)
class Scalar:
    """A scalar's value and where its text (without anchor or tag) sits in the file."""

    value: str
    start: int
    end: int
    style: str | None
    anchored: bool


def compose(text: str) -> list[Node]:
    """Every document's root node; ManifestError for text that is not valid YAML."""
    try:
        return [doc for doc in YAML(typ="rt").compose_all(text) if doc is not None]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise ManifestError(f"not valid YAML: {where}{exc.problem or exc}") from None
    except YAMLError as exc:
        raise ManifestError(f"not valid YAML: {exc}") from None


def load_all(text: str) -> list[object]:
    """Plain data of every document, refusing duplicate keys."""
    try:
        return list(YAML(typ="safe", pure=True).load_all(text))
    except YAMLError as exc:
        raise ManifestError(f"not valid YAML: {exc}") from None


def scalar(node: Node, text: str) -> Scalar | None:
    """The scalar at node with its exact text span, or None if node is not a scalar."""
    if not isinstance(node, ScalarNode) or str(node.tag).endswith(":null"):
        return None
    start, end = node.start_mark.index, node.end_mark.index
    prefix = _PROPERTY_RE.match(text, start, end)
    if prefix:
        start = prefix.end()
    return Scalar(str(node.value), start, end, node.style, node.anchor is not None)


def mapping_items(node: Node) -> Iterator[tuple[str, Node]]:
    """(key, value node) pairs of a mapping node with scalar keys."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                yield str(key.value), value


def get(node: Node, key: str) -> Node | None:
    """The value node under key in a mapping node, if present."""
    for k, v in mapping_items(node):
        if k == key:
            return v
    return None


def walk(node: Node, path: Path = ()) -> Iterator[tuple[Path, Node]]:
    """Every node under node with its path, parents before children; aliases once."""
    seen: set[int] = set()
    stack: list[tuple[Path, Node]] = [(path, node)]
    while stack:
        here, current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield here, current
        if isinstance(current, MappingNode):
            children = [((*here, k), v) for k, v in mapping_items(current)]
        elif isinstance(current, SequenceNode):
            children = [((*here, i), v) for i, v in enumerate(current.value)]
        else:
            children = []
        stack.extend(reversed(children))
