"""What one found reference's scalars become: the file's own conventions decide the form
(a tag field carrying `tag@digest`, a separate digest field, a whole reference), and a
digest pin is never dropped silently."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..images import ImageRef
from .nodes import ManifestError, MappingNode, Path, get, scalar
from .scalars import helm_set_reads_as_string, reads_back_as_string, render_scalar
from .sites import Field, ImageSite
from .verify import Expected

BOOL = "tag:yaml.org,2002:bool"


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


def dotted(path: Path) -> str:
    """A path as `a.b[0].c`."""
    return Change(0, path, None, "").dotted_path


@dataclass(frozen=True)
class Splice:
    """Replace text[start:end] with replacement."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Wanted:
    """What a push asks for. `tag`/`digest` are what the pin writes (tag, tag@digest or
    @digest); `pushed_tag`/`pushed_digest` are what the push said, used where the file
    pins a digest the pin would not write, or where a tag field must carry `tag@digest`."""

    tag: str | None
    digest: str | None
    pushed_tag: str | None
    pushed_digest: str | None


@dataclass
class SiteEdit:
    splices: list[Splice] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    expected: dict[tuple[int, Path], Expected] = field(default_factory=dict)


def pinned_by_digest(site: ImageSite) -> Field | None:
    """The field that pins the reference to a digest today (`name@sha256:…`, a tag field
    holding `tag@digest`, a filled digest field), or None."""
    for f in site.fields:
        if (f.role in ("ref", "tag") and "@" in f.scalar.value) or (
                f.role == "digest" and f.scalar.value):
            return f
    return None


def site_edit(text: str, site: ImageSite, wanted: Wanted) -> SiteEdit:
    """Splices, changes and the values verification expects for one site. Fields that are
    aliases are not written: they change with their anchor.

    Raises ManifestError when the reference is pinned by digest and no digest is given (a
    tag alone would drop the pin), when a tag field must carry `tag@digest` and no tag is
    known, or when the shape has no field that can hold the new version."""
    out = SiteEdit()
    where = f"{site.name} at {dotted(site.path)}"
    digest = wanted.digest
    pin = pinned_by_digest(site)
    if pin is not None and digest is None:
        digest = wanted.pushed_digest
        if digest is None:
            raise ManifestError(
                f"{where} is pinned by digest ({pin.scalar.value}); moving it by tag alone "
                "would drop the pin: give the digest too (NAME:TAG@DIGEST)")
    ref, tag_field, digest_field = site.field("ref"), site.field("tag"), site.field("digest")
    if ref is not None:
        _put(text, site, ref, str(ImageRef(site.name, wanted.tag, digest)), out)
    if digest_field is not None and digest is not None:
        _put(text, site, digest_field, digest, out)
    if tag_field is not None:
        # The digest rides in the tag field when the file spells it so, or when the shape
        # has nowhere else for it (Helm values, Argo CD parameters, markers).
        if digest is not None and ("@" in tag_field.scalar.value or (
                digest_field is None and site.mapping is None)):
            tag = wanted.tag or wanted.pushed_tag
            if tag is None:
                raise ManifestError(f"{where} keeps its digest in the tag field "
                                    f"{dotted(tag_field.path)}: give the tag too (TAG@DIGEST)")
            _put(text, site, tag_field, f"{tag}@{digest}", out)
        elif wanted.tag is not None:
            _put(text, site, tag_field, wanted.tag, out)
    elif ref is None and wanted.tag is not None and site.mapping is not None:
        _add_key(text, site, site.tag_key, wanted.tag, out)
    if (digest_field is None and ref is None and digest is not None and site.mapping is not None
            and not (tag_field is not None and "@" in tag_field.scalar.value)):
        _add_key(text, site, site.digest_key, digest, out)
    if ref is None and tag_field is None and digest_field is None and site.mapping is None:
        raise ManifestError(f"{where} has no field to hold the version; edit it by hand")
    if ref is None and tag_field is None and digest is None and site.mapping is None:
        raise ManifestError(f"{where} has only a digest field and no digest was given")
    return out


def _put(text: str, site: ImageSite, f: Field, new: str, out: SiteEdit) -> None:
    """Point field f at new (after its prefix); aliases are left to their anchor."""
    value = f.prefix + new
    if f.alias_of is not None:
        return
    if f.scalar.value != value:
        try:
            rendered = render_scalar(f.scalar.style, value)
        except ValueError as exc:
            raise ManifestError(f"{site.name} at {dotted(f.path)}: {exc}") from None
        out.splices.append(Splice(f.scalar.start, f.scalar.end, rendered))
        out.changes.append(Change(site.document, f.path, f.scalar.value, value))
        out.expected[(site.document, f.path)] = value
    if f.entry is not None and not helm_set_reads_as_string(new):
        _force_string(text, site, f, out)


def _force_string(text: str, site: ImageSite, f: Field, out: SiteEdit) -> None:
    """Argo CD hands a `helm.parameters` entry to Helm as `--set` unless it says
    `forceString: true` (then `--set-string`); a value `--set` would type gets it."""
    assert f.entry is not None
    path = (*f.path[:-1], "forceString")
    current = scalar(get(f.entry, "forceString"), text)
    if current is not None and current.value == "true" and current.style == "":
        return
    if current is not None:
        out.splices.append(Splice(current.start, current.end, "true"))
    else:
        out.splices.append(insert_key(text, f.entry, "forceString", "true"))
    out.changes.append(Change(site.document, path, current.value if current else None, "true"))
    out.expected[(site.document, path)] = (BOOL, "true")


def _add_key(text: str, site: ImageSite, key: str, value: str, out: SiteEdit) -> None:
    assert site.mapping is not None
    if not site.mapping.value:
        raise ManifestError(f"{site.name} at {dotted(site.path)} has no {key} to set")
    rendered = value if reads_back_as_string(value) else f'"{value}"'
    out.splices.append(insert_key(text, site.mapping, key, rendered))
    path = (*site.path, key)
    out.changes.append(Change(site.document, path, None, value))
    out.expected[(site.document, path)] = value


def insert_key(text: str, mapping: MappingNode, key: str, rendered: str) -> Splice:
    """Add `key: rendered` at the end of a non-empty mapping, in its own layout (block or
    flow), indentation and line endings."""
    offset = 1 if text.startswith("\ufeff") else 0
    if mapping.flow_style:
        close = text.rindex("}", 0, mapping.end_mark.index + offset)
        return Splice(close, close, f", {key}: {rendered}")
    column = mapping.value[0][0].start_mark.column
    last_end = mapping.value[-1][1].end_mark.index + offset
    line_end = text.find("\n", last_end)
    if line_end == -1:
        line_end = len(text)
    elif text[line_end - 1] == "\r":
        line_end -= 1
    newline = "\r\n" if "\r\n" in text else "\n"
    return Splice(line_end, line_end, f"{newline}{' ' * column}{key}: {rendered}")


