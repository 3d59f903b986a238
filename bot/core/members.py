"""The images a promotion carries (pure). A promotion of one image carries one member; a
release train's carries one per image that moved, and the same set travels down the chain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .config import TagPolicy
from .tags import newest


@dataclass(frozen=True)
class Member:
    """One image of a promotion: its key in hoist.yaml, its repository, the pushed tag and
    digest (either may be None, not both)."""

    image_key: str
    repository: str
    tag: str | None
    digest: str | None
    pushed_at: float | None = None  # the registry's push time, epoch seconds, if it said

    @property
    def version(self) -> str:
        """`tag@digest`, `tag` or `@digest`: what people read."""
        return "@".join(p for p in (self.tag or "", self.digest or "") if p) or "?"

    def to_json(self) -> dict[str, Any]:
        """A plain-data form for the store."""
        return {"image_key": self.image_key, "repository": self.repository, "tag": self.tag,
                "digest": self.digest, "pushed_at": self.pushed_at}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Member:
        """Inverse of to_json."""
        return cls(data["image_key"], data["repository"], data.get("tag"), data.get("digest"),
                   data.get("pushed_at"))


def merge_members(policies: Mapping[str, TagPolicy], older: Sequence[Member],
                  newer: Sequence[Member]) -> tuple[Member, ...]:
    """The set an open promotion carries once `newer` pushes join it: every image of both,
    in first-seen order; where both hold an image, the newest tag by that image's policy
    wins (the newer push among equals, so a re-pushed tag takes its new digest)."""
    merged: dict[str, Member] = {m.image_key: m for m in older}
    for member in newer:
        before = merged.get(member.image_key)
        policy = policies.get(member.image_key)
        if before is not None and policy is not None and before.tag and member.tag \
                and newest(policy, [before.tag, member.tag]) != member.tag:
            continue  # the open set already holds a newer tag of this image
        merged[member.image_key] = member
    return tuple(merged.values())


def describe_changes(older: Sequence[Member], newer: Sequence[Member]) -> list[str]:
    """What moved between two sets, one line per image: `api 1.2.0 → 1.2.1`, `web added at
    1.3.0`, `worker dropped`; nothing for images that stayed."""
    before = {m.image_key: m for m in older}
    after = {m.image_key: m for m in newer}
    lines = []
    for key, member in after.items():
        was = before.get(key)
        if was is None:
            lines.append(f"{key} added at {member.version}")
        elif was != member:
            lines.append(f"{key} {was.version} → {member.version}")
    lines.extend(f"{key} dropped" for key in before if key not in after)
    return lines


def versions(members: Sequence[Member], train: str | None) -> str:
    """What a promotion moves, for people: `1.4.2` for one image, `(api 1.2.0, web 1.3.0)`
    for a train's (each the tag, else the digest)."""
    if train is None and len(members) == 1:
        return members[0].tag or members[0].version
    return "(" + ", ".join(f"{m.image_key} {m.tag or m.version}" for m in members) + ")"
