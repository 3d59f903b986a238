"""Find every image reference a YAML file holds, in any of the formats Hoist knows."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

from ..images import InvalidReference, normalize_name, parse_image_ref
from .detect import DETECTORS, could_hold_image
from .markers import marker_sites
from .nodes import (
    ManifestError,
    MappingNode,
    Node,
    Path,
    Scalar,
    ScalarNode,
    SequenceNode,
    compose,
    get,
    mapping_items,
    scalar,
    walk,
)
from .sites import Field, ImageSite
from .verify import EMBEDDED

_LINE_START = re.compile(r"^", re.MULTILINE)


def line_starts(text: str) -> list[int]:
    """Offset of the first character of every line."""
    return [m.start() for m in _LINE_START.finditer(text)]


def find_references(text: str, embedded: bool = True) -> list[ImageSite]:
    """Every image reference in the text, in document order. Raises ManifestError for text
    that is not valid YAML or has duplicate keys."""
    return find_in_documents(text, compose(text), embedded)


def find_in_documents(text: str, docs: list[Node], embedded: bool = True) -> list[ImageSite]:
    """find_references over documents already composed from text."""
    starts = line_starts(text)
    has_markers = "$imagepolicy" in text or "hoist:" in text
    sites: list[ImageSite] = []
    for doc, root in enumerate(docs):
        by_line: dict[int, list[tuple[Path, Scalar]]] = defaultdict(list)
        first_path: dict[int, Path] = {}
        doc_start = len(sites)
        for path, node in walk(root):
            if isinstance(node, MappingNode):
                keys = dict(mapping_items(node))
                if could_hold_image(keys):
                    for detect in DETECTORS:
                        sites.extend(detect(doc, path, node, keys, text))
            elif isinstance(node, ScalarNode) and path:
                first_path.setdefault(id(node), path)
                is_block = embedded and node.style == "|" and path[-2:] == ("helm", "values")
                if not (has_markers or is_block):
                    continue
                found = scalar(node, text)
                if found is None:
                    continue
                by_line[found.line].append((path, found))
                if is_block:
                    sites.extend(_embedded_sites(doc, path, found, text, starts))
        sites.extend(marker_sites(doc, text, starts, by_line))
        sites[doc_start:] = [_mark_aliases(s, first_path) for s in sites[doc_start:]]
    return _unique(sites)


def _mark_aliases(site: ImageSite, first_path: dict[int, Path]) -> ImageSite:
    """Note which of the site's scalars are aliases (reached again after their anchor)."""
    fields = tuple(
        replace(f, alias_of=first_path[f.scalar.node_id])
        if first_path.get(f.scalar.node_id, f.path) != f.path else f
        for f in site.fields
    )
    return replace(site, fields=fields)


def _unique(sites: list[ImageSite]) -> list[ImageSite]:
    """Drop sites whose scalars an earlier site already claimed (a marked container image)."""
    claimed: set[tuple[int, int]] = set()
    kept = []
    for site in sites:
        spans = {(f.scalar.start, f.scalar.node_id) for f in site.fields if f.alias_of is None}
        if spans & claimed:
            continue
        claimed |= spans
        kept.append(site)
    return kept


def _embedded_sites(doc: int, path: Path, block: Scalar, text: str,
                    starts: list[int]) -> list[ImageSite]:
    """Sites inside an Argo CD `helm.values` literal block, mapped to the file's offsets."""
    inner = block.value
    try:
        inner_sites = find_references(inner, embedded=False)
    except ManifestError as exc:
        raise ManifestError(f"in the helm.values block at line {block.line + 1}: {exc}") from None
    first_line = block.line + 1  # content starts on the line after the `|` indicator
    content = text[starts[first_line]:] if first_line < len(starts) else ""
    first = next((ln for ln in content.splitlines() if ln.strip()), "")
    indent = len(first) - len(first.lstrip(" "))
    inner_starts = line_starts(inner)
    mapped = []
    for site in inner_sites:
        fields = []
        for f in site.fields:
            s = f.scalar
            line = _line_of(inner_starts, s.start)
            column = s.start - inner_starts[line]
            outer_line = first_line + line
            if outer_line >= len(starts):
                raise ManifestError(f"cannot map the helm.values block at line {block.line + 1}")
            start = starts[outer_line] + indent + column
            end = start + (s.end - s.start)
            if text[start:end] != inner[s.start:s.end]:
                raise ManifestError(f"cannot map the helm.values block at line {block.line + 1}")
            fields.append(Field(f.role, replace(s, start=start, end=end, line=outer_line),
                                (*path, EMBEDDED, *f.path), f.prefix))
        mapped.append(replace(site, document=doc, path=(*path, EMBEDDED, *site.path),
                              fields=tuple(fields), mapping=None))
    return mapped


def _line_of(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def parse_path(dotted: str) -> Path:
    """`backend.image.tag` or `spec.values.images[0].tag` as a path tuple."""
    parts: list[str | int] = []
    for piece in re.findall(r"[^.\[\]]+|\[\d+\]", dotted):
        parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
    if not parts:
        raise ManifestError(f"empty path {dotted!r}")
    return tuple(parts)


def sites_at(text: str, paths: list[Path], name: str) -> list[ImageSite]:
    """Sites for explicit paths (from hoist.yaml): a whole reference if the value there is
    one, otherwise a tag. A path that is in no document is an error."""
    sites: list[ImageSite] = []
    docs = compose(text)
    for path in paths:
        found = None
        for doc, root in enumerate(docs):
            node: Node | None = root
            for part in path:
                node = _child(node, part)
                if node is None:
                    break
            value = scalar(node, text) if node is not None else None
            if value is not None:
                found = (doc, value)
                break
        if found is None:
            raise ManifestError(f"no scalar at {'.'.join(map(str, path))}")
        doc, value = found
        role = "ref" if _is_ref_of(value.value, name) else "tag"
        sites.append(ImageSite(doc, path, "explicit", name, (Field(role, value, path),)))
    return sites


def _child(node: Node | None, part: str | int) -> Node | None:
    if isinstance(part, int):
        return node.value[part] if isinstance(node, SequenceNode) and part < len(node.value) else None
    return get(node, part)


def _is_ref_of(value: str, name: str) -> bool:
    try:
        ref = parse_image_ref(value)
        return bool(ref.tag or ref.digest) and normalize_name(ref.name) == normalize_name(name)
    except InvalidReference:
        return False
