"""Tag policy (pure): is a pushed tag allowed, how tags order, which of a burst wins."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import nodesemver

from .config import ImageConfig, TagPolicy
from .images import InvalidReference, validate_digest, validate_tag


@dataclass(frozen=True)
class TagDecision:
    allowed: bool
    reason: str


def decide_tag(image: ImageConfig, tag: str | None, digest: str | None = None) -> TagDecision:
    """Apply the image's tag policy to a pushed tag (and its digest, for mutable tags)."""
    if tag is None:
        return TagDecision(False, "the push has no tag")
    try:
        validate_tag(tag)
    except InvalidReference as exc:
        return TagDecision(False, str(exc))
    policy = image.tags
    if any(re.search(pattern, tag) for pattern in policy.ignore):
        return TagDecision(False, f"tag {tag!r} is ignored by the policy")
    if tag in policy.mutable and (image.pin == "tag" or not valid_digest(digest)):
        return TagDecision(False, f"tag {tag!r} is mutable: promote it only with "
                                  "pin: tag@digest (or @digest) and a pushed digest")
    if policy.regex is not None and not re.search(policy.regex, tag):
        return TagDecision(False, f"tag {tag!r} does not match {policy.regex!r}")
    if policy.semver is not None:
        try:
            version = nodesemver.make_semver(tag, loose=True)
        except (ValueError, TypeError):
            return TagDecision(False, f"tag {tag!r} is not a semantic version")
        if version.prerelease and not policy.prerelease:
            return TagDecision(False, f"tag {tag!r} is a prerelease")
        if not nodesemver.satisfies(tag, policy.semver, loose=True,
                                    include_prerelease=policy.prerelease):
            return TagDecision(False, f"tag {tag!r} is outside {policy.semver!r}")
    if policy.order == "numeric" and _numeric_key(policy, tag) is None:
        return TagDecision(False, f"tag {tag!r} has no numeric sort key")
    return TagDecision(True, "allowed")


def valid_digest(digest: str | None) -> bool:
    """True for a well-formed digest (vendors' examples hold masked or truncated ones)."""
    if digest is None:
        return False
    try:
        validate_digest(digest)
    except InvalidReference:
        return False
    return True


def _numeric_key(policy: TagPolicy, tag: str) -> int | None:
    match = re.search(policy.regex or r"(\d+)", tag)
    if match is None:
        return None
    group = match.group(1) if match.groups() else match.group(0)
    return int(group) if group and group.isdigit() else None


def compare_tags(policy: TagPolicy, a: str, b: str) -> int:
    """-1, 0 or 1 as tag a orders before, with, or after tag b under the policy."""
    order = policy.order
    if order == "semver":
        try:
            return int(nodesemver.compare(a, b, loose=True))
        except (ValueError, TypeError):
            order = "alphabetical"
    if order == "numeric":
        ka, kb = _numeric_key(policy, a), _numeric_key(policy, b)
        if ka is not None and kb is not None:
            return (ka > kb) - (ka < kb)
    return (a > b) - (a < b)


def newest(policy: TagPolicy, tags: Iterable[str]) -> str:
    """The tag that orders last; among equals, the one seen last (the latest push)."""
    def order(x: tuple[int, str], y: tuple[int, str]) -> int:
        return compare_tags(policy, x[1], y[1]) or (x[0] > y[0]) - (x[0] < y[0])

    return sorted(enumerate(tags), key=functools.cmp_to_key(order))[-1][1]


def is_downgrade(policy: TagPolicy, new: str, current: str | None) -> bool:
    """True when new orders before the version the environment runs (and that is refused)."""
    if current is None or policy.allow_downgrade or current in policy.mutable:
        return False
    return compare_tags(policy, new, current) < 0
