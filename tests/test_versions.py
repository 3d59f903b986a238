"""Strict SemVer 2.0.0 and node-semver ranges (bot/core/versions.py), without doubles.

Precedence examples are semver.org's own (§11); the range table carries over the facts of
node-semver's public range test fixtures (test/fixtures/range-include.js, range-exclude.js)
as Hoist decides them: prereleases by full precedence (node-semver's includePrerelease)."""

from __future__ import annotations

import itertools

import pytest

from bot.core.versions import VersionError, parse_range, parse_version

SEMVER_ORG_PRECEDENCE = [  # semver.org §11, each lower than the next
    "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
    "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1",
]


def test_semver_org_precedence_examples() -> None:
    versions = [parse_version(v) for v in SEMVER_ORG_PRECEDENCE]
    for lower, higher in itertools.pairwise(versions):
        assert lower < higher, (str(lower), str(higher))
    assert parse_version("1.0.0-rc.10") > parse_version("1.0.0-rc.9")  # numerically (§11.4.1)
    # Build metadata does not take part in precedence (§10).
    assert parse_version("1.0.0+20130313144700").compare(parse_version("1.0.0+exp.sha.5114f85")) == 0


@pytest.mark.parametrize("tag", ["0.0.0", "1.2.3", "v1.2.3", "1.0.0-0A.is.legal",
                                 "1.0.0-x-y-z.--", "1.0.0-alpha+001", "1.2.3-rc.1+build.5",
                                 "2.0.300-5-g1a2b3c4d", "10.20.30"])
def test_valid_semantic_versions(tag: str) -> None:
    assert str(parse_version(tag)) == tag.removeprefix("v")


@pytest.mark.parametrize("tag", [
    "917005",         # an all-digit short SHA: one component, not 917005.0.0
    "1.24",           # a floating minor tag, not 1.24.0
    "2022.05",        # a date, not 2022.0.5
    "2022.05.01",     # leading zeros (§2)
    "01.2.3", "1.02.3", "1.2.03",
    "1.2.3.4", "1.2", "1", "",
    "1.0.0-rc.01",    # numeric prerelease identifiers have no leading zeros (§9)
    "1.0.0-", "1.0.0+", "1.0.0-alpha..1", "1.2.3-rc_1",
    "V1.2.3", "vv1.2.3", "=1.2.3", "a1b2c3d", "latest", "1.2.3 ",
])
def test_not_semantic_versions(tag: str) -> None:
    with pytest.raises(VersionError, match="not a semantic version"):
        parse_version(tag)


INCLUDED = [
    ("1.0.0 - 2.0.0", "1.2.3"), ("^1.2.3+build", "1.2.3"), ("^1.2.3+build", "1.3.0"),
    ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3"), ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3-pre.2"),
    ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "2.4.3-alpha"), ("1.2.3+asdf - 2.4.3+asdf", "1.2.3"),
    ("1.0.0", "1.0.0"), (">=*", "0.2.4"), ("", "1.0.0"), ("*", "1.2.3"), ("x", "1.2.3"),
    (">=1.0.0", "1.0.0"), (">=1.0.0", "1.1.0"), (">1.0.0", "1.0.1"), ("<=2.0.0", "2.0.0"),
    ("<=2.0.0", "0.2.9"), ("<2.0.0", "1.9999.9999"), (">= 1.0.0", "1.0.0"),
    (">=  1.0.0", "1.0.1"), (">   1.0.0", "1.0.1"), ("<=   2.0.0", "2.0.0"),
    ("0.1.20 || 1.2.4", "1.2.4"), (">=0.2.3 || <0.0.1", "0.0.0"), (">=0.2.3 || <0.0.1", "0.2.3"),
    ("||", "1.3.4"), ("2.x.x", "2.1.3"), ("1.2.x", "1.2.3"), ("1.2.x || 2.x", "2.1.3"),
    ("1.2.x || 2.x", "1.2.3"), ("2.*.*", "2.1.3"), ("1.2.*", "1.2.3"), ("2", "2.1.2"),
    ("2.3", "2.3.1"), ("~0.0.1", "0.0.2"), ("~x", "0.0.9"), ("~2", "2.0.9"), ("~2.4", "2.4.5"),
    ("~>3.2.1", "3.2.2"), ("~1", "1.2.3"), ("~>1", "1.2.3"), ("~> 1", "1.2.3"),
    ("~1.0", "1.0.2"), ("~ 1.0", "1.0.2"), ("~ 1.0.3", "1.0.12"), (">=1", "1.0.0"),
    (">= 1", "1.0.0"), ("<1.2", "1.1.1"), ("< 1.2", "1.1.1"), ("~v0.5.4-pre", "0.5.5"),
    ("~v0.5.4-pre", "0.5.4"), ("=0.7.x", "0.7.2"), ("<=0.7.x", "0.7.2"), (">=0.7.x", "0.7.2"),
    ("<=0.7.x", "0.6.2"), ("~1.2.1 >=1.2.3", "1.2.3"), ("~1.2.1 =1.2.3", "1.2.3"),
    ("~1.2.1 1.2.3", "1.2.3"), (">=1.2.1 1.2.3", "1.2.3"), (">=1.2", "1.2.8"),
    ("^1.2.3", "1.8.1"), ("^0.1.2", "0.1.2"), ("^0.1", "0.1.2"), ("^0.0.1", "0.0.1"),
    ("^1.2", "1.4.2"), ("^1.2 ^1", "1.4.2"), ("^1.2.3-alpha", "1.2.3-pre"),
    ("^0.0.1-alpha", "0.0.1-beta"), ("^0.0.1-alpha", "0.0.1"), ("^x", "1.2.3"),
    ("x - 1.0.0", "0.9.7"), ("x - 1.x", "0.9.7"), ("1.0.0 - x", "1.9.7"), ("1.x - x", "1.9.7"),
    ("<=7.x", "7.9.9"), ("v1.2.3", "1.2.3"), ("=v1.2.3", "1.2.3"),
    # Prereleases by full precedence (node-semver with includePrerelease).
    ("2.x", "2.0.0-pre.0"), ("2.x", "2.1.0-pre.0"), ("1.1.x", "1.1.0-a"), ("*", "1.0.0-rc1"),
    ("^1.0.0-0", "1.0.1-rc1"), ("^1.0.0-rc2", "1.0.1-rc1"), ("^1.0.0", "1.0.1-rc1"),
    ("^1.0.0", "1.1.0-rc1"), ("1 - 2", "2.0.0-pre"), ("1 - 2", "1.0.0-pre"),
    ("1.0 - 2", "1.0.0-pre"), ("=0.7.x", "0.7.0-asdf"), (">=0.7.x", "0.7.0-asdf"),
    ("<=0.7.x", "0.7.0-asdf"), (">=1.0.0 <=1.1.0", "1.1.0-pre"), ("<1.2.3", "1.2.3-beta"),
    (">=2.0.300", "2.0.330-63-gc1cfb686"), (">=2.0.300-0", "2.0.300-5-g1a2b3c4d"), (">1.2", "1.3.0-beta"),
]

EXCLUDED = [
    ("1.0.0 - 2.0.0", "2.2.3"), ("1.2.3+asdf - 2.4.3+asdf", "1.2.3-pre.2"),
    ("^1.2.3+build", "2.0.0"), ("^1.2.3+build", "1.2.0"), ("^1.2.3", "1.2.3-pre"),
    ("^1.2.3", "2.0.0-alpha"), ("^1.2.3", "1.2.2"), ("^1.2", "1.1.9"),
    ("1.0.0", "1.0.1"), (">=1.0.0", "0.0.0"), (">=1.0.0", "0.1.0"), (">1.0.0", "0.0.1"),
    ("<=2.0.0", "3.0.0"), ("<=2.0.0", "2.9999.9999"), ("<2.0.0", "2.2.9"), (">=0.1.97", "0.1.93"),
    ("0.1.20 || 1.2.4", "1.2.3"), (">=0.2.3 || <0.0.1", "0.0.3"), (">=0.2.3 || <0.0.1", "0.2.2"),
    ("2.x.x", "1.1.3"), ("2.x.x", "3.1.3"), ("1.2.x", "1.3.3"), ("1.2.x || 2.x", "3.1.3"),
    ("1.2.x || 2.x", "1.1.3"), ("2.*.*", "3.1.3"), ("1.2.*", "1.3.3"), ("2", "1.1.2"),
    ("2.3", "2.4.1"), ("~0.0.1", "0.1.0-alpha"), ("~0.0.1", "0.1.0"), ("~2.4", "2.5.0"),
    ("~2.4", "2.3.9"), ("~>3.2.1", "3.3.2"), ("~>3.2.1", "3.2.0"), ("~1", "0.2.3"),
    ("~1", "2.0.0"), ("~>1", "2.2.3"), ("~1.0", "1.1.0"), ("<1", "1.0.0"), (">=1.2", "1.1.1"),
    ("~v0.5.4-beta", "0.5.4-alpha"), ("=0.7.x", "0.8.2"), (">=0.7.x", "0.6.2"),
    ("<0.7.x", "0.7.2"), ("=1.2.3", "1.2.3-beta"), (">1.2", "1.2.8"), ("^0.0.1", "0.0.2"),
    ("^0.1.0 || ~3.0.1 || 5.0.0", "5.0.0-0"), ("^0.1.0 || ~3.0.1 || 5.0.0", "3.5.0"),
    ("x - 1.0.0", "1.0.1"), ("x - 1.x", "2.0.0"), ("1.0.0 - x", "0.9.9"), ("1.x - x", "0.9.9"),
    (">*", "1.0.0"), ("<*", "1.0.0"), ("~1.2.3", "1.3.0-rc.1"), ("1.x", "2.0.0-0"),
    # fluxcd/flux2#1298: a prerelease OF the bound orders below it; an exact version is exact.
    (">=2.0.300", "2.0.300-5-g1a2b3c4d"), ("2.0.330", "2.0.330-rc.1"),
]


@pytest.mark.parametrize(("text", "version"), INCLUDED)
def test_range_includes(text: str, version: str) -> None:
    assert parse_range(text).contains(parse_version(version))


@pytest.mark.parametrize(("text", "version"), EXCLUDED)
def test_range_excludes(text: str, version: str) -> None:
    assert not parse_range(text).contains(parse_version(version))


@pytest.mark.parametrize("text", [">=1.2.3.4", ">=01.2.3", "1.2.3 - ", "^abc", ">=1.0.0-rc.01",
                                  ">==1.0.0", "1.0.0 <>2", "latest"])
def test_invalid_ranges_say_what_is_wrong(text: str) -> None:
    with pytest.raises(VersionError, match="range"):
        parse_range(text)
