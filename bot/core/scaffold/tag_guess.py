"""Guess an image's tag policy and pin from the references in use (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..config import MUTABLE_TAGS
from ..versions import VersionError, parse_version

_SHA = re.compile(r"(?:(?P<prefix>.+)-)?(?P<sha>[0-9a-f]{7,40})")
_SHOWN = 3  # tags quoted in a guess comment


@dataclass(frozen=True)
class TagGuess:
    """A `tags:` policy as ordered (field, value) pairs (values are str or bool), and the
    comment that says it was guessed and from what."""

    fields: tuple[tuple[str, str | bool], ...]
    note: str


def _shown(tags: Sequence[str]) -> str:
    more = f", … {len(tags) - _SHOWN} more" if len(tags) > _SHOWN else ""
    return ", ".join(tags[:_SHOWN]) + more


def guess_tags(in_use: Sequence[str]) -> TagGuess:
    """The policy the tags in use suggest, newest-looking first in the note.

    SemVer tags → a range from the lowest major in use up to (not including) the next
    major when only one is in use (`prerelease: true` when one in use is a prerelease);
    commit-SHA tags (optionally `prefix-<sha>`) → that regex with `sort: pushed`; build
    numbers → a numeric regex; anything else (or only mutable tags such as `latest`) →
    `sort: pushed`, the latest push wins, with a note asking for a real policy.
    """
    tags = list(dict.fromkeys(t for t in in_use if t))
    usable = [t for t in tags if t not in MUTABLE_TAGS]
    if not usable:
        why = f"only mutable tags in use ({_shown(tags)})" if tags else "no tag in use"
        return TagGuess((("sort", "pushed"),), f"{why}: the latest push wins; set tags.semver "
                        "or tags.regex")
    semver = _semver(usable)
    if semver is not None:
        return semver
    sha = _sha(usable)
    if sha is not None:
        return sha
    if all(t.isdigit() for t in usable):
        return TagGuess((("regex", r"^(\d+)$"), ("sort", "numeric")),
                        f"build-number tags in use ({_shown(usable)})")
    return TagGuess((("sort", "pushed"),), f"the tags in use ({_shown(usable)}) follow no "
                    "pattern Hoist knows: the latest push wins; set tags.semver or tags.regex")


def _semver(tags: list[str]) -> TagGuess | None:
    try:
        versions = sorted((parse_version(t), t) for t in tags)
    except VersionError:
        return None
    majors = sorted({v.major for v, _ in versions})
    low = majors[0]
    span = f">={low}.0.0 <{low + 1}.0.0" if len(majors) == 1 else f">={low}.0.0"
    fields: list[tuple[str, str | bool]] = [("semver", span)]
    if any(v.prerelease for v, _ in versions):
        fields.append(("prerelease", True))
    newest_first = [t for _, t in reversed(versions)]
    return TagGuess(tuple(fields), f"tag policy from the tags in use ({_shown(newest_first)})")


def _sha(tags: list[str]) -> TagGuess | None:
    matches = [_SHA.fullmatch(t) for t in tags]
    if not all(matches) or not any(re.search("[a-f]", t) for t in tags):
        return None
    prefixes = {m.group("prefix") for m in matches if m}
    if len(prefixes) != 1:
        return None
    prefix = prefixes.pop()
    regex = f"^{re.escape(prefix)}-[0-9a-f]{{7,40}}$" if prefix else "^[0-9a-f]{7,40}$"
    return TagGuess((("regex", regex), ("sort", "pushed")),
                    f"commit-SHA tags in use ({_shown(tags)}): the latest push wins")


def guess_pin(versions: Sequence[tuple[str | None, str | None]]) -> tuple[str, str | None]:
    """(pin, note) from the (tag, digest) pairs in use: `tag@digest` when a digest is in
    use beside tags, `@digest` when references carry digests only, else `tag` (no note)."""
    with_digest = [(t, d) for t, d in versions if d]
    if not with_digest:
        return "tag", None
    if all(not t for t, _ in versions):
        return "@digest", "digests without tags are in use"
    return "tag@digest", "digests are in use"
