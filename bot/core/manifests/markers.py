"""Marker comments that point Hoist at a scalar no detector knows:
Flux's `# {"$imagepolicy": "ns:policy[:tag|:name|:digest]"}` and `# hoist: IMAGE[:tag|:name|:digest]`."""

from __future__ import annotations

import re
from collections import defaultdict

from ..images import InvalidReference, parse_image_ref
from .nodes import Path, Scalar
from .sites import Field, ImageSite

_FLUX = re.compile(r'#\s*\{\s*"\$imagepolicy"\s*:\s*"([^"]+)"\s*\}')
_HOIST = re.compile(r"#\s*hoist:\s*(\S+)")
_ROLES = {"tag": "tag", "name": "name", "digest": "digest"}


def _split(marker: str) -> tuple[str, str]:
    """('subject', role) from 'subject[:tag|:name|:digest]'."""
    subject, _, suffix = marker.rpartition(":")
    if suffix in _ROLES and subject:
        return subject, _ROLES[suffix]
    return marker, "ref"


def marker_sites(doc: int, text: str, line_starts: list[int],
                 scalars_by_line: dict[int, list[tuple[Path, Scalar]]]) -> list[ImageSite]:
    """Sites named by marker comments on the lines of one document's scalars."""
    groups: dict[tuple[str, str], list[Field]] = defaultdict(list)
    for line, found in scalars_by_line.items():
        end = line_starts[line + 1] if line + 1 < len(line_starts) else len(text)
        rest = text[line_starts[line]:end]
        for kind, pattern in (("flux", _FLUX), ("hoist", _HOIST)):
            match = pattern.search(rest)
            if match is None:
                continue
            before = [(p, s) for p, s in found if s.end <= line_starts[line] + match.start()]
            if not before:
                continue
            path, value = before[-1]
            subject, role = _split(match.group(1))
            groups[(kind, subject)].append(Field(role, value, path))
    sites = []
    for (kind, subject), fields in groups.items():
        name = subject if kind == "hoist" else _flux_name(fields)
        if name is None:
            continue
        try:
            parse_image_ref(name)
        except InvalidReference:
            continue
        sites.append(ImageSite(doc, fields[0].path, "marker", name, tuple(fields)))
    return sites


def _flux_name(fields: list[Field]) -> str | None:
    """A Flux policy names no image: take it from the marked reference or `:name` value."""
    for f in fields:
        if f.role == "name":
            return f.scalar.value
        if f.role == "ref":
            try:
                return parse_image_ref(f.scalar.value).name
            except InvalidReference:
                return None
    return None
