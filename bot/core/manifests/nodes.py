"""Compose YAML text into position-carrying nodes with libyaml; find a scalar's exact text.

libyaml (PyYAML's C composer) is ~50x faster than a pure-Python parser, which matters when
one push touches hundreds of files. It does not reject duplicate keys, so `walk` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]
_PROPERTY_RE = re.compile(r"(?:[&!][^\s,\[\]{}]*\s+)+")
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVED: dict[tuple[str, tuple[bool, bool]], str] = {}


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """libyaml's parser with implicit tag resolution memoized: manifests repeat the same
    keys and values endlessly, and the resolver's regexes are the slowest Python left."""

    def resolve(self, kind: type[Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        if kind is not ScalarNode or value is None:
            return str(super().resolve(kind, value, implicit))
        key = (value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = str(super().resolve(kind, value, implicit))
            if len(_RESOLVED) < 100_000:
                _RESOLVED[key] = tag
        return tag

__all__ = ["MappingNode", "Node", "ScalarNode", "SequenceNode"]


class ManifestError(ValueError):
    """A manifest that cannot be read or edited safely; the message says why."""


@dataclass(frozen=True)
class Scalar:
    """A scalar's value and where its text (after any anchor or tag) sits in the file."""

    value: str
    start: int
    end: int
    line: int
    style: str  # "" plain, "'", '"', "|", ">"
    anchored: bool
    node_id: int


def _bom(text: str) -> int:
    # libyaml does not count a byte-order mark in its offsets.
    return 1 if text.startswith("\ufeff") else 0


def compose(text: str) -> list[Node]:
    """Every document's root node; ManifestError for text that is not valid YAML."""
    try:
        return [doc for doc in yaml.compose_all(text, Loader=_Loader) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise ManifestError(f"not valid YAML: {where}{exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"not valid YAML: {exc}") from None


def load_all(text: str) -> list[object]:
    """Plain data of every document."""
    try:
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        raise ManifestError(f"not valid YAML: {exc}") from None


def scalar(node: Node | None, text: str) -> Scalar | None:
    """The string scalar at node with its exact text span; None for anything else."""
    if not isinstance(node, ScalarNode) or node.tag.endswith(":null"):
        return None
    offset = _bom(text)
    start, end = node.start_mark.index + offset, node.end_mark.index + offset
    prefix = _PROPERTY_RE.match(text, start, end)
    anchored = False
    if prefix:
        anchored = "&" in prefix.group(0)
        start = prefix.end()
    return Scalar(str(node.value), start, end, node.start_mark.line, node.style or "", anchored,
                  id(node))


def key_line(node: Node) -> int:
    """0-based line where node starts."""
    return int(node.start_mark.line)


def mapping_items(node: Node | None) -> Iterator[tuple[str, Node]]:
    """(key, value node) pairs of a mapping node with scalar keys."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                yield str(key.value), value


def get(node: Node | None, key: str) -> Node | None:
    """The value node under key in a mapping node, if present."""
    for k, v in mapping_items(node):
        if k == key:
            return v
    return None


def _check_unique(node: MappingNode) -> None:
    seen: set[str] = set()
    for key, _ in node.value:
        if isinstance(key, ScalarNode):
            if key.value in seen and key.value != "<<":
                raise ManifestError(
                    f"duplicate key {key.value!r} at line {key.start_mark.line + 1}")
            seen.add(key.value)


def walk(node: Node, path: Path = ()) -> Iterator[tuple[Path, Node]]:
    """Every (path, node) in document order, aliases included; each collection's children
    are visited once (at its first, anchored, occurrence). Raises on duplicate keys."""
    expanded: set[int] = set()
    stack: list[tuple[Path, Node]] = [(path, node)]
    while stack:
        here, current = stack.pop()
        yield here, current
        if id(current) in expanded:
            continue
        if isinstance(current, MappingNode):
            expanded.add(id(current))
            _check_unique(current)
            children = [((*here, k), v) for k, v in mapping_items(current)]
        elif isinstance(current, SequenceNode):
            expanded.add(id(current))
            children = [((*here, i), v) for i, v in enumerate(current.value)]
        else:
            continue
        stack.extend(reversed(children))
