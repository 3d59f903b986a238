"""Rewrite the bytes of image scalars and nothing else, then prove it by re-parsing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from yaml.resolver import Resolver

from ..images import ImageRef, normalize_name, validate_digest, validate_tag
from .find import find_in_documents, sites_at
from .nodes import ManifestError, Path, Scalar, ScalarNode, compose
from .sites import ImageSite
from .verify import Expected, verify_edit

_RESOLVER = Resolver()


@dataclass(frozen=True)
class Change:
    """One value Hoist changes in a file: the YAML path, the old and new values."""

    document: int
    path: Path
    old: str | None
    new: str

    @property
    def dotted_path(self) -> str:
        """The path as `spec.template.spec.containers[0].image`."""
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text


@dataclass(frozen=True)
class EditResult:
    text: str
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()
    references: int = 0  # how many references to the image the text holds


@dataclass(frozen=True)
class _Splice:
    start: int
    end: int
    replacement: str


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


def reads_back_as_string(value: str) -> bool:
    """True when a plain scalar `value` is a string under YAML 1.1 (what Kubernetes and
    PyYAML resolve); 1.10, yes, 1e3 or 2024-01-01 are not."""
    resolved: str = _RESOLVER.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return resolved == "tag:yaml.org,2002:str"


def render_scalar(old_style: str, value: str) -> str:
    """value spelled in the old scalar's style; a plain value that would not read back as
    the same string is double-quoted."""
    if old_style in ('"', "'"):
        return f"{old_style}{value}{old_style}"
    if old_style == "":
        return value if reads_back_as_string(value) else f'"{value}"'
    raise ManifestError(f"will not rewrite a {old_style!r} block scalar")


def _insert_key(text: str, site: ImageSite, key: str, value: str) -> _Splice:
    """Add `key: value` to the site's mapping, in its own layout (block or flow)."""
    entry = site.mapping
    if entry is None or not entry.value:
        raise ManifestError(f"{site.name} at {_dotted(site.path)} has no {key} to set")
    rendered = value if reads_back_as_string(value) else f'"{value}"'
    offset = 1 if text.startswith("\ufeff") else 0
    if entry.flow_style:
        close = text.rindex("}", 0, entry.end_mark.index + offset)
        return _Splice(close, close, f", {key}: {rendered}")
    column = entry.value[0][0].start_mark.column
    last_end = entry.value[-1][1].end_mark.index + offset
    line_end = text.find("\n", last_end)
    if line_end == -1:
        line_end = len(text)
    elif text[line_end - 1] == "\r":
        line_end -= 1
    newline = "\r\n" if "\r\n" in text else "\n"
    return _Splice(line_end, line_end, f"{newline}{' ' * column}{key}: {rendered}")


def _dotted(path: Path) -> str:
    return Change(0, path, None, "").dotted_path


def _site_changes(text: str, site: ImageSite, tag: str | None, digest: str | None,
                  known_digest: str | None) -> tuple[list[_Splice], list[Change]]:
    """Splices for one site. A digest field the file already fills is kept current with
    known_digest even when the pin would not write one: a stale digest would win."""
    splices: list[_Splice] = []
    changes: list[Change] = []

    def put(old: Scalar, path: Path, new: str, prefix: str = "") -> None:
        if old.value == prefix + new:
            return
        splices.append(_Splice(old.start, old.end, render_scalar(old.style, prefix + new)))
        changes.append(Change(site.document, path, old.value, prefix + new))

    ref = site.field("ref")
    if ref is not None:
        put(ref.scalar, ref.path, str(ImageRef(site.name, tag, digest)), ref.prefix)
    for role, wanted, key in (("tag", tag, site.tag_key), ("digest", digest, site.digest_key)):
        field = site.field(role)
        if role == "digest" and wanted is None and field is not None and field.scalar.value:
            wanted = known_digest
            if wanted is None:
                raise ManifestError(f"{site.name} at {_dotted(field.path)} pins a digest, "
                                    "but the push has none to write")
        if wanted is None:
            continue
        if field is not None:
            put(field.scalar, field.path, wanted)
        elif ref is None and site.mapping is not None:
            splices.append(_insert_key(text, site, key, wanted))
            changes.append(Change(site.document, (*site.path, key), None, wanted))
    return splices, changes


def _alias_plan(matched: list[ImageSite]) -> tuple[list[ImageSite], dict[Path, list[Path]],
                                                   list[str]]:
    """Sites to edit (aliases dropped), alias paths per anchor path, and notes. A reference
    reached only through an alias of something that is not a matching image is refused."""
    anchors = {f.path for s in matched for f in s.fields if f.alias_of is None}
    to_edit: list[ImageSite] = []
    aliases: dict[Path, list[Path]] = {}
    notes: list[str] = []
    for site in matched:
        aliased = [f for f in site.fields if f.alias_of is not None]
        for f in aliased:
            assert f.alias_of is not None
            if f.alias_of not in anchors:
                raise ManifestError(f"{_dotted(f.path)} is an alias of {_dotted(f.alias_of)}, "
                                    "which is not a reference to this image; edit it by hand")
            aliases.setdefault(f.alias_of, []).append(f.path)
            notes.append(f"{_dotted(f.path)} is an alias of {_dotted(f.alias_of)} and changes "
                         "with it")
        if not aliased:
            to_edit.append(site)
    return to_edit, aliases, notes


def set_image(text: str, name: str, tag: str | None, digest: str | None, pin: str = "tag",
              paths: Sequence[Path] = ()) -> EditResult:
    """Point every reference to image `name` in text at tag/digest, per the pin setting;
    `paths` adds explicit locations (hoist.yaml `path:`) to what is found by shape."""
    known_digest = digest
    tag, digest = written_version(tag, digest, pin)
    if tag is None and digest is None:
        raise ManifestError("nothing to write: neither a tag nor a digest")
    docs = compose(text)
    all_sites = find_in_documents(text, docs)
    if paths:
        explicit = sites_at(text, list(paths), name)
        taken = {f.scalar.start for s in explicit for f in s.fields}
        all_sites = explicit + [s for s in all_sites
                                if not taken & {f.scalar.start for f in s.fields}]
    wanted = normalize_name(name)
    matched = [s for s in all_sites if _normal(s.name) == wanted]
    if not matched:
        return EditResult(text, ())
    to_edit, aliases, notes = _alias_plan(matched)
    splices: list[_Splice] = []
    changes: list[Change] = []
    for site in to_edit:
        more_splices, more_changes = _site_changes(text, site, tag, digest, known_digest)
        splices += more_splices
        changes += more_changes
    if not changes:
        return EditResult(text, (), tuple(notes), len(matched))
    new_text = text
    for splice in sorted(splices, key=lambda s: s.start, reverse=True):
        new_text = new_text[: splice.start] + splice.replacement + new_text[splice.end :]
    expected: dict[tuple[int, Path], Expected] = {
        (c.document, p): c.new for c in changes for p in (c.path, *aliases.get(c.path, ()))}
    verify_edit(docs, new_text, expected)
    return EditResult(new_text, tuple(changes), tuple(notes), len(matched))


def _normal(name: str) -> str:
    try:
        return normalize_name(name)
    except ValueError:
        return name
