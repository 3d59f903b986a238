"""What a promotion changes: per environment, which files and values; branch names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import Config, Target
from .images import ImageRef, InvalidReference, parse_image_ref
from .manifests import Change, ManifestError, set_image
from .manifests.edit import written_version
from .manifests.find import parse_path
from .policy import targets_for

MAX_FILE = 4 << 20  # manifests are small; anything bigger is refused, not parsed


class PlanError(ValueError):
    """The promotion cannot be planned; the message says which file and why."""


@dataclass(frozen=True)
class FileEdit:
    file: str
    new_text: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Plan:
    environment: str
    image_key: str
    repository: str
    image: str  # the reference written, e.g. ghcr.io/acme/guestbook:1.4.2@sha256:...
    old_version: str | None
    new_version: str
    files: tuple[FileEdit, ...]

    @property
    def is_noop(self) -> bool:
        """True when every target already points at the new image."""
        return not self.files

    def to_json(self) -> dict[str, Any]:
        """A plain-data form for the store."""
        return {
            "environment": self.environment,
            "image_key": self.image_key,
            "repository": self.repository,
            "image": self.image,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "files": [
                {
                    "file": f.file,
                    "new_text": f.new_text,
                    "changes": [
                        {"document": c.document, "path": list(c.path), "old": c.old, "new": c.new}
                        for c in f.changes
                    ],
                }
                for f in self.files
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """Inverse of to_json."""
        files = tuple(
            FileEdit(
                f["file"],
                f["new_text"],
                tuple(Change(c["document"], tuple(c["path"]), c["old"], c["new"]) for c in f["changes"]),
            )
            for f in data["files"]
        )
        return cls(
            data["environment"], data["image_key"], data["repository"], data["image"], data["old_version"],
            data["new_version"], files,
        )


def branch_name(image_key: str, environment: str) -> str:
    """The deterministic promotion branch for (image, environment)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", image_key).strip("-.") or "image"
    return f"hoist/{environment}/{safe}"


def version_of(change: Change) -> str | None:
    """The old tag@digest a change replaces, whether it held a full reference or a tag."""
    if change.old is None or change.path[-1] != "image":
        return change.old
    try:
        ref = parse_image_ref(change.old)
    except InvalidReference:
        return change.old
    return "@".join(p for p in (ref.tag, ref.digest) if p) or None


def candidate_files(targets: list[Target], tree: list[str]) -> list[str]:
    """Which files of the repository tree the targets name (directories expand to their
    YAML files), in a stable order."""
    wanted: dict[str, None] = {}
    for target in targets:
        if target.is_directory:
            for path in tree:
                if path.startswith(target.file) and path.endswith((".yaml", ".yml")):
                    wanted[path] = None
        else:
            wanted[target.file] = None
    return list(wanted)


def plan_environment(
    config: Config,
    environment: str,
    image_key: str,
    tag: str | None,
    digest: str | None,
    files: Mapping[str, str | None],
) -> Plan:
    """Edits that point every target of image_key in environment at tag/digest: one plan,
    so one commit, however many files hold the image.

    `files` maps each candidate path (see candidate_files) to its text, None when missing.
    Raises PlanError for a target without a reference to the image (`FILE: no reference to
    IMAGE`: a named file that holds none, or a directory none of whose files does), for
    files that cannot be read or edited safely, and for edits the engine refuses.
    """
    env = config.environment(environment)
    image = config.images[image_key]
    written_tag, written_digest = written_version(tag, digest, image.pin)
    new_ref = ImageRef(image.repository, written_tag, written_digest)
    edits: list[FileEdit] = []
    old_version: str | None = None
    for target in targets_for(env, image_key):
        paths = sorted(p for p in files if p.startswith(target.file)) if target.is_directory \
            else [target.file]
        referenced = False
        for path in paths:
            text = files.get(path)
            if text is None:
                raise PlanError(f"{path}: not a regular file in the manifests repository")
            if len(text) > MAX_FILE:
                raise PlanError(f"{path}: larger than {MAX_FILE // (1 << 20)} MiB; refused")
            explicit = (parse_path(target.path),) if target.path else ()
            try:
                result = set_image(text, image.repository, tag, digest, image.pin, explicit)
            except ManifestError as exc:
                raise PlanError(f"{path}: {exc}") from None
            referenced = referenced or result.references > 0
            if result.changes and all(e.file != path for e in edits):
                old_version = old_version or version_of(result.changes[0])
                edits.append(FileEdit(path, result.text, result.changes))
        if not referenced:
            raise PlanError(f"{target.file}: no reference to {image.repository}")
    new_version = "@".join(p for p in (written_tag or "", written_digest or "") if p)
    return Plan(
        environment, image_key, image.repository, str(new_ref), old_version, new_version, tuple(edits)
    )
