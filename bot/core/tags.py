"""Tag policy (pure): is a pushed tag allowed, how tags order, which of a burst wins."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from .config import ImageConfig, TagPolicy
from .images import InvalidReference, validate_digest, validate_tag
from .patterns import search
from .versions import VersionError, parse_range, parse_version


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
    if tag in policy.mutable and (image.pin == "tag" or not valid_digest(digest)):
        return TagDecision(False, f"tag {tag!r} is mutable: promote it only with "
                                  "pin: tag@digest (or @digest) and a pushed digest")
    refusal = _refusal(policy, tag)
    return TagDecision(refusal is None, refusal or "allowed")


def _refusal(policy: TagPolicy, tag: str) -> str | None:
    """Why the policy's filters refuse tag, or None when they allow it."""
    if any(search(pattern, tag) for pattern in policy.ignore):
        return f"tag {tag!r} is ignored by the policy"
    if policy.regex is not None and not search(policy.regex, tag):
        return f"tag {tag!r} does not match {policy.regex!r}"
    if policy.order == "semver" or policy.semver is not None:
        try:
            version = parse_version(tag)
        except VersionError as exc:
            return f"tag {exc}"
        if version.prerelease and policy.refuses_prereleases:
            return f"tag {tag!r} is a prerelease (set prerelease: true to allow them)"
        if policy.semver is not None and not parse_range(policy.semver).contains(version):
            return f"tag {tag!r} is outside {policy.semver!r}"
    elif policy.refuses_prereleases and _is_prerelease(tag):
        # Refused under every ordering, not only semver ones.
        return f"tag {tag!r} is a prerelease (set prerelease: true to allow them)"
    if policy.order == "numeric" and _numeric_key(policy, tag) is None:
        return f"tag {tag!r} has no numeric sort key"
    return None


def _is_prerelease(tag: str) -> bool:
    try:
        return bool(parse_version(tag).prerelease)
    except VersionError:
        return False


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
    """The regex's sort key as a number: the group named `key`, else its only group, else the
    first run of digits."""
    match = search(policy.regex or r"(\d+)", tag)
    if match is None:
        return None
    if "key" in match.re.groupindex:
        group = match.group("key")
    else:
        group = match.group(1) if match.groups() else match.group(0)
    return int(group) if group and group.isdigit() else None


def compare_tags(policy: TagPolicy, a: str, b: str) -> int:
    """-1, 0 or 1 as tag a orders before, with, or after tag b under the policy; both must
    be allowed by it (`sort: pushed` tags have no order of their own: always 0)."""
    order = policy.order
    if order == "pushed":
        return 0
    if order == "semver":
        return parse_version(a).compare(parse_version(b))
    if order == "numeric":
        ka, kb = _numeric_key(policy, a), _numeric_key(policy, b)
        if ka is not None and kb is not None:
            return (ka > kb) - (ka < kb)
    return (a > b) - (a < b)


def newest(policy: TagPolicy, tags: Iterable[str]) -> str:
    """The tag that orders last; among equals, the one seen last (the latest push), so under
    `sort: pushed` the last push of a burst wins."""
    def order(x: tuple[int, str], y: tuple[int, str]) -> int:
        return compare_tags(policy, x[1], y[1]) or (x[0] > y[0]) - (x[0] < y[0])

    return sorted(enumerate(tags), key=functools.cmp_to_key(order))[-1][1]


def _comparable(policy: TagPolicy, current: str | None) -> bool:
    """Can a new tag be compared with the one an environment runs? Not when nothing runs,
    when it is mutable, or when today's policy does not allow it (the policy changed since:
    `link-1234` under a new `semver:` policy) or cannot order it (`sort: pushed`)."""
    return (current is not None and current not in policy.mutable and policy.order != "pushed"
            and _refusal(policy, current) is None)


def is_downgrade(policy: TagPolicy, new: str, current: str | None) -> bool:
    """True when new orders before the version the environment runs (and that is refused)."""
    if policy.allow_downgrade or not _comparable(policy, current):
        return False
    assert current is not None
    return compare_tags(policy, new, current) < 0


def is_newer(policy: TagPolicy, new: str, current: str | None) -> bool:
    """True when new orders after current, or current cannot be compared (see is_downgrade);
    a later push is newer under `sort: pushed`."""
    if not _comparable(policy, current):
        return True
    assert current is not None
    return compare_tags(policy, new, current) > 0
