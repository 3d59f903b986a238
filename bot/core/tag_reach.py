"""Can a tag policy admit any tag at all? (pure) A policy that refuses every tag promotes
nothing, silently, forever: `hoist check` warns about it. The question is undecidable for
regexes in general, so it is answered by example: common tag shapes, the versions a range
names and their neighbours, and strings generated from the policy's own regex (`rstr`,
seeded, so the answer is the same on every run)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import rstr

from .config import Config, ImageConfig
from .patterns import search
from .tags import decide_tag

# Tags as people write them: SemVer with and without `v`, prereleases, calendar versions,
# build numbers, commit SHAs, branch-sha and distribution-suffixed tags.
COMMON = ("1.0.0", "v1.0.0", "0.1.0", "1.2.3", "2.0.0", "10.20.30", "1.2.3-rc.1",
          "v2.3.4-beta.2", "1.2.3-release-candidate", "1.0", "v1", "2024.01.15", "20240115",
          "1234", "42", "abc1234", "0a1b2c3d4e5f", "main-abc1234", "release-1.2.3",
          "1.2.3-alpine", "1.2.3-snapshot-abc1234", "latest")
SAMPLES = 300
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")
_DIGEST = "sha256:" + "0" * 64


def policy_warnings(config: Config) -> list[tuple[tuple[str | int, ...], str]]:
    """(field location, warning) for each image whose tag policy admits no tag."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for key, image in config.images.items():
        why = admits_nothing(image)
        if why:
            found.append((("images", key, "tags"), why))
    return found


def admits_nothing(image: ImageConfig) -> str | None:
    """None when some tag passes `image`'s policy; else why none does, from the example
    that came closest (one the regex matches, when there is a regex)."""
    regex = image.tags.regex
    closest, matched = "", False
    for tag in _candidates(image):
        decision = decide_tag(image, tag, _DIGEST)
        if decision.allowed:
            return None
        matches = regex is not None and search(regex, tag) is not None
        if not closest or (matches and not matched):
            closest, matched = decision.reason, matches
    return f"no tag can pass this policy (for example, {closest})"


def _candidates(image: ImageConfig) -> Iterator[str]:
    policy = image.tags
    yield from COMMON
    if policy.semver:
        yield from _around(policy.semver)
    if policy.regex:
        generator = rstr.Rstr(random.Random(0))
        for _ in range(SAMPLES):
            yield generator.xeger(policy.regex)


def _around(text: str) -> Iterator[str]:
    """Every version a range names, its neighbours (patch, minor, major, one up and one
    down) and their prereleases: a range that admits anything admits one of them."""
    for match in _VERSION.finditer(text):
        major, minor, patch = (int(part or 0) for part in match.groups())
        for m, n, p in ((major, minor, patch), (major, minor, patch + 1),
                        (major, minor + 1, 0), (major + 1, 0, 0),
                        (major, minor, max(patch - 1, 0)), (major, max(minor - 1, 0), 0),
                        (max(major - 1, 0), 0, 0)):
            for suffix in ("", "-0", "-rc.1"):
                yield f"{m}.{n}.{p}{suffix}"
                yield f"v{m}.{n}.{p}{suffix}"
