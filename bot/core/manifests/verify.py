"""Prove an edit: the edited text's node tree must equal the original's, value for value,
type for type, alias for alias, except exactly at the changed paths."""

from __future__ import annotations

from collections import defaultdict

from .nodes import ManifestError, MappingNode, Node, Path, ScalarNode, SequenceNode, compose

EMBEDDED = "|"  # in a path: what follows is inside the YAML text of the block scalar before
STR = "tag:yaml.org,2002:str"


class _Mismatch(Exception):
    pass


Expected = str | tuple[str, str]  # a string value, or (YAML tag, value) for other types


def verify_edit(before: list[Node], after_text: str,
                expected: dict[tuple[int, Path], Expected]) -> None:
    """Raise ManifestError unless after_text parses to `before` with the expected values
    (keyed by document and path) set, and nothing else different."""
    try:
        after = compose(after_text)
    except ManifestError as exc:
        raise ManifestError(f"edit would break the file ({exc}); nothing written") from None
    try:
        _compare_documents(before, after, expected)
    except _Mismatch as exc:
        raise ManifestError(f"edit would change more than the image values ({exc}); "
                            "nothing written") from None


def _compare_documents(before: list[Node], after: list[Node],
                       expected: dict[tuple[int, Path], Expected]) -> None:
    if len(before) != len(after):
        raise _Mismatch("document count")
    by_doc: dict[int, dict[Path, Expected]] = defaultdict(dict)
    for (doc, path), value in expected.items():
        by_doc[doc][path] = value
    for doc, (b, a) in enumerate(zip(before, after, strict=True)):
        _Comparison(by_doc.get(doc, {})).compare(b, a, ())


class _Comparison:
    def __init__(self, expected: dict[Path, Expected]) -> None:
        self.expected = {p: v for p, v in expected.items() if EMBEDDED not in p}
        self.embedded: dict[Path, dict[Path, Expected]] = defaultdict(dict)
        for path, value in expected.items():
            if EMBEDDED in path:
                cut = path.index(EMBEDDED)
                self.embedded[path[:cut]][path[cut + 1:]] = value
        self.pairs: dict[int, int] = {}

    def compare(self, b: Node | None, a: Node, path: Path) -> None:
        if path in self.expected:
            wanted = self.expected[path]
            tag, value = wanted if isinstance(wanted, tuple) else (STR, wanted)
            if not (isinstance(a, ScalarNode) and a.tag == tag and a.value == value):
                raise _Mismatch(f"value at {path}")
            return
        if b is None:
            raise _Mismatch(f"unexpected new node at {path}")
        if id(b) in self.pairs:  # an alias: must still be the same node
            if self.pairs[id(b)] != id(a):
                raise _Mismatch(f"alias at {path}")
            return
        self.pairs[id(b)] = id(a)
        if type(a) is not type(b) or a.tag != b.tag:
            raise _Mismatch(f"type at {path}")
        if isinstance(b, ScalarNode):
            if path in self.embedded:
                _compare_documents(compose(b.value), compose(a.value),
                                   {(0, p): v for p, v in self.embedded[path].items()})
            elif a.value != b.value:
                raise _Mismatch(f"value at {path}")
        elif isinstance(b, SequenceNode):
            if len(a.value) != len(b.value):
                raise _Mismatch(f"length at {path}")
            for i, (bi, ai) in enumerate(zip(b.value, a.value, strict=True)):
                self.compare(bi, ai, (*path, i))
        elif isinstance(b, MappingNode):
            old = {k.value: (k, v) for k, v in b.value}
            for k, v in a.value:
                key_path = (*path, k.value)
                before_pair = old.pop(k.value, None)
                if before_pair is not None:
                    self.compare(before_pair[0], k, (*path, "<key>", k.value))
                self.compare(before_pair[1] if before_pair else None, v, key_path)
            if old:
                raise _Mismatch(f"keys lost at {path}")
