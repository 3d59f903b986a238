"""What a promotion changes: per environment, which files and values; branch names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .config import Config, Target
from .images import ImageRef, InvalidReference, parse_image_ref
from .manifests import MAX_FILE, Change, ManifestError, set_image
from .manifests.edit import written_version
from .manifests.find import parse_path
from .members import Member
from .policy import targets_for
from .trains import lane


class PlanError(ValueError):
    """The promotion cannot be planned; the message says which file and why."""


@dataclass(frozen=True)
class FileEdit:
    file: str
    new_text: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class MovedImage:
    """One image a plan moves: the reference written and the versions from and to."""

    image_key: str
    repository: str
    image: str  # the reference written, e.g. ghcr.io/acme/guestbook:1.4.2@sha256:...
    old_version: str | None
    new_version: str


@dataclass(frozen=True)
class Plan:
    """The edits of one promotion in one environment: one commit for every image that
    moves. `name` is the train's, or the one image's key; it names the branch."""

    environment: str
    name: str
    images: tuple[MovedImage, ...]
    files: tuple[FileEdit, ...]
    train: str | None = None

    @property
    def is_noop(self) -> bool:
        """True when every target already points at the new image."""
        return not self.files

    @property
    def version_from(self) -> str | None:
        """What people read as the old version: the one image's, none for several."""
        return self.images[0].old_version if len(self.images) == 1 else None

    @property
    def version_to(self) -> str:
        """What people read as the new version: the one image's, else `N images`."""
        return self.images[0].new_version if len(self.images) == 1 else \
            f"{len(self.images)} images"

    def moved(self, image_key: str) -> MovedImage | None:
        """What the plan does to image_key, if it moves it."""
        return next((m for m in self.images if m.image_key == image_key), None)

    def to_json(self) -> dict[str, Any]:
        """A plain-data form for the store."""
        return {
            "environment": self.environment,
            "name": self.name,
            "train": self.train,
            "images": [vars(m).copy() for m in self.images],
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
        """Inverse of to_json; also reads the one-image plans stored before trains (their
        image fields at the top level)."""
        files = tuple(
            FileEdit(
                f["file"],
                f["new_text"],
                tuple(Change(c["document"], tuple(c["path"]), c["old"], c["new"]) for c in f["changes"]),
            )
            for f in data["files"]
        )
        if "images" not in data:
            moved = MovedImage(data["image_key"], data["repository"], data["image"],
                               data["old_version"], data["new_version"])
            return cls(data["environment"], moved.image_key, (moved,), files)
        images = tuple(MovedImage(**m) for m in data["images"])
        return cls(data["environment"], data["name"], images, files, data.get("train"))


def branch_name(name: str, environment: str) -> str:
    """The deterministic promotion branch for (image key or train name, environment)."""
    return f"hoist/{environment}/{lane(name)}"


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
    members: Sequence[Member],
    files: Mapping[str, str | None],
    train: str | None = None,
) -> Plan:
    """Edits that point every target of each member in environment at its tag/digest, the
    members' edits applied one after another to the same files: one plan, so one commit,
    however many images and files. Members without targets there are left out.

    `files` maps each candidate path (see candidate_files) to its text, None when missing.
    Raises PlanError for a target without a reference to its image (`FILE: no reference to
    IMAGE`: a named file that holds none, or a directory none of whose files does), for
    files that cannot be read or edited safely, and for edits the engine refuses.
    """
    env = config.environment(environment)
    texts: dict[str, str] = {}
    changes: dict[str, list[Change]] = {}  # in the order files were first edited
    moved: list[MovedImage] = []
    for member in members:
        image = config.images[member.image_key]
        written_tag, written_digest = written_version(member.tag, member.digest, image.pin)
        old_version: str | None = None
        edited = False
        for target in targets_for(env, member.image_key):
            paths = sorted(p for p in files if p.startswith(target.file)) \
                if target.is_directory else [target.file]
            referenced = False
            for path in paths:
                text = texts.get(path, files.get(path))
                if text is None:
                    raise PlanError(f"{path}: not a regular file in the manifests repository")
                if len(text) > MAX_FILE:
                    raise PlanError(f"{path}: larger than {MAX_FILE // (1 << 20)} MiB; refused")
                explicit = (parse_path(target.path),) if target.path else ()
                try:
                    result = set_image(text, image.repository, member.tag, member.digest,
                                       image.pin, explicit)
                except ManifestError as exc:
                    raise PlanError(f"{path}: {exc}") from None
                referenced = referenced or result.references > 0
                if result.changes:
                    old_version = old_version or version_of(result.changes[0])
                    texts[path] = result.text
                    changes.setdefault(path, []).extend(result.changes)
                    edited = True
            if not referenced:
                raise PlanError(f"{target.file}: no reference to {image.repository}")
        if edited:
            new_version = "@".join(p for p in (written_tag or "", written_digest or "") if p)
            moved.append(MovedImage(member.image_key, image.repository,
                                    str(ImageRef(image.repository, written_tag, written_digest)),
                                    old_version, new_version))
    edits = tuple(FileEdit(path, texts[path], tuple(found)) for path, found in changes.items())
    name = train or (members[0].image_key if members else "")
    return Plan(environment, name, tuple(moved), edits, train)
