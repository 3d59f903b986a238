"""Rewrite the bytes of image scalars and nothing else, then prove it by re-parsing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..images import normalize_name, validate_digest, validate_tag
from .find import find_in_documents, sites_at
from .nodes import ManifestError, Path, compose
from .rewrite import Change, Splice, Wanted, dotted, site_edit
from .sites import ImageSite
from .verify import Expected, verify_edit

__all__ = ["Change", "EditResult", "set_image", "written_version"]


@dataclass(frozen=True)
class EditResult:
    text: str
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()
    references: int = 0  # how many references to the image the text holds


def written_version(tag: str | None, digest: str | None, pin: str) -> tuple[str | None, str | None]:
    """The (tag, digest) pair to write for a pin setting: tag, tag@digest or @digest."""
    if tag is not None:
        validate_tag(tag)
    if digest is not None:
        validate_digest(digest)
    if pin == "@digest" and digest:
        return None, digest
    if pin == "tag@digest":
        return tag, digest
    return tag, None


def _alias_plan(matched: list[ImageSite]) -> tuple[dict[Path, list[Path]], list[str]]:
    """Alias paths per anchor path, and notes. A site's literal fields are edited where
    they are; a value it reaches through an alias changes with its anchor, which must be a
    literal field of a reference to this image (else the edit is refused). Aliased names
    are never rewritten, so a reference whose repository is an alias is edited as usual."""
    anchors = {f.path for s in matched for f in s.fields if f.alias_of is None}
    aliases: dict[Path, list[Path]] = {}
    notes: list[str] = []
    for site in matched:
        for f in site.fields:
            if f.alias_of is None or f.role == "name":
                continue
            if f.alias_of not in anchors:
                raise ManifestError(f"{dotted(f.path)} is an alias of {dotted(f.alias_of)}, "
                                    "which is not a reference to this image; edit it by hand")
            aliases.setdefault(f.alias_of, []).append(f.path)
            notes.append(f"{dotted(f.path)} is an alias of {dotted(f.alias_of)} and changes "
                         "with it")
    return aliases, notes


def set_image(text: str, name: str, tag: str | None, digest: str | None, pin: str = "tag",
              paths: Sequence[Path] = ()) -> EditResult:
    """Point every reference to image `name` in text at tag/digest, per the pin setting;
    `paths` adds explicit locations (hoist.yaml `path:`) to what is found by shape."""
    written_tag, written_digest = written_version(tag, digest, pin)
    if written_tag is None and written_digest is None:
        raise ManifestError("nothing to write: neither a tag nor a digest")
    wanted = Wanted(written_tag, written_digest, tag, digest)
    docs = compose(text)
    all_sites = find_in_documents(text, docs)
    if paths:
        explicit = sites_at(text, list(paths), name)
        taken = {f.scalar.start for s in explicit for f in s.fields}
        all_sites = explicit + [s for s in all_sites
                                if not taken & {f.scalar.start for f in s.fields}]
    wanted_name = normalize_name(name)
    matched = [s for s in all_sites if _normal(s.name) == wanted_name]
    if not matched:
        return EditResult(text, ())
    aliases, notes = _alias_plan(matched)
    splices: list[Splice] = []
    changes: list[Change] = []
    expected: dict[tuple[int, Path], Expected] = {}
    for site in matched:
        edit = site_edit(text, site, wanted)
        splices += edit.splices
        changes += edit.changes
        expected.update(edit.expected)
    if not changes:
        return EditResult(text, (), tuple(notes), len(matched))
    new_text = text
    for splice in sorted(splices, key=lambda s: s.start, reverse=True):
        new_text = new_text[: splice.start] + splice.replacement + new_text[splice.end :]
    for (doc, path), value in list(expected.items()):
        for alias in aliases.get(path, ()):
            expected[(doc, alias)] = value
    verify_edit(docs, new_text, expected)
    return EditResult(new_text, tuple(changes), tuple(notes), len(matched))


def _normal(name: str) -> str:
    try:
        return normalize_name(name)
    except ValueError:
        return name
