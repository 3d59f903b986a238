"""Semantic versions, strictly per SemVer 2.0.0, and the node-semver range syntax over them.

Parsing and precedence come from the `semver` library (python-semver 3), which implements
semver.org exactly: MAJOR.MINOR.PATCH, no leading zeros (§2, §9), build metadata ignored for
precedence (§10), prerelease identifiers compared numerically or lexically (§11). Hoist adds
only what tags need: an optional leading `v`, and ranges.

Ranges follow node-semver's documented grammar (https://github.com/npm/node-semver#ranges):
comparators `<`, `<=`, `>`, `>=`, `=` joined by spaces (all must hold), alternatives joined
by `||`, X-ranges (`1.x`, `1.2.*`, `*`, and partial versions like `1.2`), hyphen ranges
(`1.2.3 - 2.3.4`), tilde (`~1.2.3`: patch updates) and caret (`^1.2.3`: no change to the
left-most non-zero part). Prereleases are decided by full precedence, as node-semver does
with `includePrerelease`: `2.0.300-5` orders below `2.0.300`, so `>=2.0.300` excludes it, and
an exact `2.0.330` admits only 2.0.330 itself. Whether prereleases are wanted at all is the
tag policy's `prerelease` flag, not the range's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import semver

Version = semver.Version
Op = Literal["<", "<=", ">", ">=", "="]


class VersionError(ValueError):
    """A tag or range that is not valid SemVer 2.0.0 / range syntax; the message says why."""


def parse_version(text: str) -> Version:
    """The semantic version a tag spells: `1.2.3`, `v1.2.3-rc.1+build.5`.

    Raises VersionError for anything else: partial (`1.24`), all-digit (`917005`), leading
    zeros (`2022.05.1`, `1.0.0-rc.01`), four parts, empty identifiers (semver.org §2, §9).
    """
    body = text[1:] if text.startswith("v") else text
    try:
        return Version.parse(body)
    except (ValueError, TypeError):
        raise VersionError(f"{text!r} is not a semantic version "
                           "(MAJOR.MINOR.PATCH[-prerelease][+build], semver.org §2)") from None


@dataclass(frozen=True)
class Comparator:
    """One `op version` test, e.g. `>= 1.2.0-0`."""

    op: Op
    version: Version

    def test(self, version: Version) -> bool:
        """True when version satisfies this comparator by full precedence (§11)."""
        order = version.compare(self.version)
        return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0,
                "=": order == 0}[self.op]


@dataclass(frozen=True)
class Range:
    """A parsed range: alternatives (`||`), each a set of comparators that must all hold."""

    text: str
    alternatives: tuple[tuple[Comparator, ...], ...]

    def contains(self, version: Version) -> bool:
        """True when version satisfies some alternative (prereleases by full precedence)."""
        return any(all(c.test(version) for c in group) for group in self.alternatives)


_ANY: tuple[Comparator, ...] = ()
_NONE = (Comparator("<", Version(0, 0, 0, "0")),)  # nothing orders below 0.0.0-0
_IDENT = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_XR = r"[xX*]|0|[1-9][0-9]*"
_PARTIAL = re.compile(rf"v?(?P<M>{_XR})(?:\.(?P<m>{_XR})(?:\.(?P<p>{_XR})"
                      rf"(?:-(?P<pre>{_IDENT}))?(?:\+{_IDENT})?)?)?")
_OPERATOR = re.compile(r"(<=|>=|<|>|=|~>|~|\^)?(.*)")
_PRIMITIVES: dict[str, Op] = {"": "=", "=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(frozen=True)
class _Partial:
    """A version in a range, possibly with missing or wildcard parts (None)."""

    major: int | None
    minor: int | None
    patch: int | None
    prerelease: str | None

    @property
    def full(self) -> bool:
        return self.patch is not None

    def floor(self) -> Version:
        """The lowest version it covers: itself when full, else X.Y.0-0 (the lowest
        prerelease, so a wildcard covers the prereleases of its versions too)."""
        if self.full:
            return Version(self.major or 0, self.minor or 0, self.patch or 0, self.prerelease)
        return Version(self.major or 0, self.minor or 0, 0, "0")

    def ceiling(self) -> Version:
        """The lowest version above every version it covers (for a partial: 2.0.0-0 for 1.x)."""
        major = self.major or 0
        if self.minor is None:
            return Version(major + 1, 0, 0, "0")
        if self.patch is None:
            return Version(major, self.minor + 1, 0, "0")
        return Version(major, self.minor, self.patch + 1, "0")


def _partial(text: str, whole: str) -> _Partial:
    match = _PARTIAL.fullmatch(text)
    if match is None:
        raise VersionError(f"range {whole!r}: {text!r} is not a version")
    parts: list[int | None] = []
    for name in ("M", "m", "p"):
        value = match.group(name)
        # A wildcard makes every later part a wildcard too (node-semver: 1.x.3 is 1.x).
        if value is None or value in "xX*" or (parts and parts[-1] is None):
            parts.append(None)
        else:
            parts.append(int(value))
    partial = _Partial(parts[0], parts[1], parts[2], match.group("pre"))
    if partial.full:
        try:
            partial.floor()
        except ValueError as exc:
            raise VersionError(f"range {whole!r}: {text!r}: {exc}") from None
        if partial.prerelease and not Version.is_valid(f"0.0.0-{partial.prerelease}"):
            raise VersionError(f"range {whole!r}: {text!r} has an invalid prerelease")
    return partial


def _primitive(op: Op, p: _Partial) -> tuple[Comparator, ...]:
    """Desugar one `op partial` (node-semver's X-range rules)."""
    if p.major is None:  # `*`: everything, or nothing for a strict bound
        return _NONE if op in ("<", ">") else _ANY
    if p.full:
        return (Comparator(op, p.floor()),)
    if op == "=":
        return (Comparator(">=", p.floor()), Comparator("<", p.ceiling()))
    if op == ">=":
        return (Comparator(">=", p.floor()),)
    if op == ">":
        return (Comparator(">=", p.ceiling()),)
    if op == "<":
        return (Comparator("<", p.floor()),)
    return (Comparator("<", p.ceiling()),)  # <=


def _tilde(p: _Partial) -> tuple[Comparator, ...]:
    """~1.2.3 := >=1.2.3 <1.3.0-0; ~1.2 := 1.2.x; ~1 := 1.x (patch-level changes)."""
    if p.major is None:
        return _ANY
    upper = Version(p.major + 1, 0, 0, "0") if p.minor is None else Version(p.major, p.minor + 1, 0, "0")
    return (Comparator(">=", p.floor()), Comparator("<", upper))


def _caret(p: _Partial) -> tuple[Comparator, ...]:
    """^1.2.3 := >=1.2.3 <2.0.0-0; ^0.2.3 := <0.3.0-0; ^0.0.3 := <0.0.4-0 (the left-most
    non-zero part stays)."""
    if p.major is None:
        return _ANY
    if p.major > 0 or p.minor is None:
        upper = Version(p.major + 1, 0, 0, "0")
    elif p.minor > 0 or p.patch is None:
        upper = Version(0, p.minor + 1, 0, "0")
    else:
        upper = Version(0, 0, (p.patch or 0) + 1, "0")
    return (Comparator(">=", p.floor()), Comparator("<", upper))


def _hyphen(low: _Partial, high: _Partial) -> tuple[Comparator, ...]:
    """1.2.3 - 2.3.4 := >=1.2.3 <=2.3.4; a partial upper end covers its whole X-range."""
    lower = () if low.major is None else (Comparator(">=", low.floor()),)
    if high.major is None:
        return lower
    upper = Comparator("<=", high.floor()) if high.full else Comparator("<", high.ceiling())
    return (*lower, upper)


def parse_range(text: str) -> Range:
    """Parse a node-semver range (see the module docstring). Raises VersionError."""
    alternatives = []
    for alternative in text.split("||"):
        part = re.sub(r"(<=|>=|<|>|=|~>|~|\^)\s+", r"\1", alternative.strip())
        hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", part)
        if hyphen:
            alternatives.append(_hyphen(_partial(hyphen[1], text), _partial(hyphen[2], text)))
            continue
        group: list[Comparator] = []
        for token in part.split():
            match = _OPERATOR.fullmatch(token)
            assert match is not None  # the pattern matches any token
            op, rest = match.group(1) or "", match.group(2)
            partial = _partial(rest, text)
            if op in ("~", "~>"):
                group += _tilde(partial)
            elif op == "^":
                group += _caret(partial)
            else:
                group += _primitive(_PRIMITIVES[op], partial)
        alternatives.append(tuple(group))
    return Range(text, tuple(alternatives))
