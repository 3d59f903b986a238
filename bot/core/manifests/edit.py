"""Rewrite the bytes of image scalars and nothing else, then prove it by re-parsing."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from ruamel.yaml.nodes import MappingNode

from ..images import ImageRef, same_repository, validate_digest, validate_tag
from .find import ImageSite, find_references
from .nodes import ManifestError, Path, Scalar, load_all


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


def _plain_is_string(value: str) -> bool:
    loaded = load_all(f"k: {value}\n")
    return isinstance(loaded[0], dict) and loaded[0].get("k") == value


def render_scalar(old: Scalar, value: str) -> str:
    """value spelled in the old scalar's style; plain values that YAML would not read
    back as the same string (1.10, true, 1e3) are double-quoted."""
    if old.style in ('"', "'"):
        return f"{old.style}{value}{old.style}"
    if old.style is None or old.style == "":
        return value if _plain_is_string(value) else f'"{value}"'
    raise ManifestError(f"will not rewrite a {old.style!r} block scalar")


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _insert_key(text: str, site: ImageSite, key: str, value: str) -> _Splice:
    """Add `key: value` to a Kustomize images entry, in its own layout."""
    entry = site.node
    if not isinstance(entry, MappingNode) or not entry.value:
        raise ManifestError(f"cannot add {key} to the images entry at {site.path}")
    rendered = value if _plain_is_string(value) else f'"{value}"'
    if entry.flow_style:
        close = text.rindex("}", entry.start_mark.index, entry.end_mark.index)
        return _Splice(close, close, f", {key}: {rendered}")
    column = entry.value[0][0].start_mark.column
    last_end = entry.value[-1][1].end_mark.index
    line_end = text.find("\n", last_end)
    if line_end == -1:
        line_end = len(text)
    elif text[line_end - 1] == "\r":
        line_end -= 1
    return _Splice(line_end, line_end, f"{_newline(text)}{' ' * column}{key}: {rendered}")


def _site_edits(
    text: str, site: ImageSite, tag: str | None, digest: str | None
) -> tuple[list[_Splice], list[Change]]:
    splices: list[_Splice] = []
    changes: list[Change] = []

    def put(key: str, path: Path, new: str) -> None:
        old = site.fields.get(key)
        if old is not None and old.value == new:
            return
        if old is not None and old.anchored:
            raise ManifestError(f"{key} at {'/'.join(map(str, path))} is an anchor shared by aliases")
        if old is None:
            splices.append(_insert_key(text, site, key, new))
        else:
            splices.append(_Splice(old.start, old.end, render_scalar(old, new)))
        changes.append(Change(site.document, path, old.value if old else None, new))

    if site.kind == "container":
        new_ref = str(ImageRef(site.name, tag, digest))
        put("image", site.path, new_ref)
    else:
        if tag is not None:
            put("newTag", (*site.path, "newTag"), tag)
        if digest is not None:
            put("digest", (*site.path, "digest"), digest)
        elif "digest" in site.fields:
            raise ManifestError(f"images entry {site.name} pins a digest but the push has none")
    return splices, changes


def _set_path(data: object, path: Path, value: str) -> None:
    for part in path[:-1]:
        data = data[part]  # type: ignore[index]
    data[path[-1]] = value  # type: ignore[index]


def _verify(before: str, after: str, changes: list[Change]) -> None:
    """The edited text must parse to the original data with exactly the changes applied."""
    expected = copy.deepcopy(load_all(before))
    for change in changes:
        _set_path(expected[change.document], change.path, change.new)
    try:
        actual = load_all(after)
    except ManifestError as exc:
        raise ManifestError(f"edit would break the file ({exc}); nothing written") from None
    if actual != expected:
        raise ManifestError("edit would change more than the image values; nothing written")


def set_image(
    text: str, name: str, tag: str | None, digest: str | None, pin: str = "tag"
) -> EditResult:
    """Point every reference to image `name` in text at tag/digest, per the pin setting."""
    tag, digest = written_version(tag, digest, pin)
    if tag is None and digest is None:
        raise ManifestError("nothing to write: neither a tag nor a digest")
    splices: list[_Splice] = []
    changes: list[Change] = []
    for site in find_references(text):
        if same_repository(site.name, name):
            more_splices, more_changes = _site_edits(text, site, tag, digest)
            splices += more_splices
            changes += more_changes
    if not changes:
        return EditResult(text, ())
    new_text = text
    for splice in sorted(splices, key=lambda s: s.start, reverse=True):
        new_text = new_text[: splice.start] + splice.replacement + new_text[splice.end :]
    _verify(text, new_text, changes)
    return EditResult(new_text, tuple(changes))
