"""The audit core: entries from commit messages, revert links, filters and the table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.audit import audit_entries, format_table, parse_since, select

PROMOTE = """chore(deploy): promote web to 1.2.0 in prod

ghcr.io/acme/web 1.1.0 → 1.2.0@sha256:aa
apps/web/prod.yaml

Hoist-Promotion: 01P
Hoist-Image: ghcr.io/acme/web:1.2.0@sha256:aa
Hoist-Environment: prod
Hoist-Approved-By: alice, bob
"""
STEP = """chore(deploy): canary web 1.2.0 at 50% in prod

Hoist-Promotion: 01P
Hoist-Image: ghcr.io/acme/web:1.2.0@sha256:aa
Hoist-Environment: prod
Hoist-Step: 50%
"""
REVERT = """revert(deploy): roll back web in prod

Reverts "chore(deploy): promote web to 1.2.0 in prod" (c1c1c1c1c1c1).

Hoist-Promotion: 01P
Hoist-Image: ghcr.io/acme/web:1.2.0@sha256:aa
Hoist-Environment: prod
Hoist-Reverts: c1
Hoist-Evidence: error-rate 0.31 > 0.05
Hoist-Evidence: /healthz 503
"""
HUMAN = "fix: bump replicas\n\nSigned-off-by: someone\n"

COMMITS = [
    ("c3", "2026-11-03T10:00:00+00:00", "hoist", REVERT),
    ("c2", "2026-11-02T10:00:00+00:00", "hoist", STEP),
    ("h1", "2026-11-02T09:00:00+00:00", "carol", HUMAN),
    ("c1", "2026-11-01T10:00:00+00:00", "hoist", PROMOTE),
]


def test_entries_carry_who_what_and_why_and_link_reverts() -> None:
    revert, step, promote = audit_entries(COMMITS)
    assert (promote.kind, step.kind, revert.kind) == ("promote", "step", "revert")
    assert promote.approved_by == ("alice", "bob")
    assert (promote.from_version, promote.to_version) == ("1.1.0", "1.2.0@sha256:aa")
    assert promote.reverted_by == "c3" and step.reverted_by is None
    assert revert.reverts == "c1"
    assert revert.evidence == ("error-rate 0.31 > 0.05", "/healthz 503")
    assert step.step == "50%"
    assert revert.to_json()["evidence"] == ["error-rate 0.31 > 0.05", "/healthz 503"]


def test_commits_without_hoist_trailers_are_not_promotions() -> None:
    assert [e.commit for e in audit_entries(COMMITS)] == ["c3", "c2", "c1"]


def test_filters_by_environment_image_and_since() -> None:
    entries = audit_entries(COMMITS)
    assert select(entries, environment="dev") == []
    assert len(select(entries, image="acme/web")) == 3
    assert [e.commit for e in select(entries, since=parse_since("2026-11-02"))] == ["c3", "c2"]
    assert [e.commit for e in select(entries, since=parse_since("2026-11-02T10:00:01"))] == ["c3"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2026", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-11", datetime(2026, 11, 1, tzinfo=UTC)),
    ("2026-11-05T08:30", datetime(2026, 11, 5, 8, 30, tzinfo=UTC)),
    ("2026-11-05T08:30:00Z", datetime(2026, 11, 5, 8, 30, tzinfo=UTC)),
])
def test_since_accepts_iso_prefixes(text: str, expected: datetime) -> None:
    assert parse_since(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "11/05/2026", ""])
def test_since_refuses_what_is_not_an_iso_date(text: str) -> None:
    with pytest.raises(ValueError, match="ISO date"):
        parse_since(text)


def test_table_is_aligned_and_says_why_a_revert_happened() -> None:
    header, revert, step, promote = format_table(audit_entries(COMMITS)).splitlines()
    assert header.index("ENV") == revert.index("prod") == promote.index("prod")
    assert "revert of c1: error-rate 0.31 > 0.05; /healthz 503" in revert
    assert "canary 50%" in step
    assert "1.1.0 → 1.2.0@sha256:aa" in promote and "reverted by c3" in promote
    assert "alice, bob" in promote


TRAIN = """chore(deploy): promote shop in prod: api 1.1.0, web 1.2.0

ghcr.io/acme/api 1.0.0 → 1.1.0
ghcr.io/acme/web 1.0.0 → 1.2.0@sha256:bbbbbbbbbbbbbbbbbbbbbbbb
apps/shop/prod.yaml

Hoist-Promotion: 01T
Hoist-Train: shop
Hoist-Image: ghcr.io/acme/api:1.1.0
Hoist-Image: ghcr.io/acme/web:1.2.0@sha256:bbbbbbbbbbbbbbbbbbbbbbbb
Hoist-Environment: prod
"""
TRAIN_REVERT = """revert(deploy): roll back shop in prod

Reverts "chore(deploy): promote shop in prod: api 1.1.0, web 1.2.0" (t1).

Hoist-Promotion: 01T
Hoist-Train: shop
Hoist-Image: ghcr.io/acme/api:1.1.0
Hoist-Image: ghcr.io/acme/web:1.2.0@sha256:bbbbbbbbbbbbbbbbbbbbbbbb
Hoist-Environment: prod
Hoist-Reverts: t1
Hoist-Evidence: error-rate 0.4 > 0.05
"""
TRAIN_COMMITS = [("t2", "2026-11-05T10:00:00+00:00", "hoist", TRAIN_REVERT),
                 ("t1", "2026-11-04T10:00:00+00:00", "hoist", TRAIN), *COMMITS]


def test_a_train_commit_shows_every_image_with_its_versions() -> None:
    revert, promote = audit_entries(TRAIN_COMMITS)[:2]
    assert promote.train == "shop" and promote.reverted_by == "t2"
    assert [(i.image, i.from_version, i.to_version) for i in promote.images] == [
        ("ghcr.io/acme/api:1.1.0", "1.0.0", "1.1.0"),
        ("ghcr.io/acme/web:1.2.0@sha256:bbbbbbbbbbbbbbbbbbbbbbbb", "1.0.0",
         "1.2.0@sha256:bbbbbbbbbbbbbbbbbbbbbbbb")]
    data = promote.to_json()
    assert data["train"] == "shop" and len(data["images"]) == 2
    assert data["images"][1]["to_version"] == "1.2.0@sha256:bbbbbbbbbbbbbbbbbbbbbbbb"
    assert [i.image for i in revert.images] == [i.image for i in promote.images]
    # A one-image commit is the one-image case of the same shape.
    single = audit_entries(COMMITS)[-1]
    assert single.train is None and [i.image for i in single.images] == [single.image]


def test_image_filter_finds_the_train_that_moved_it() -> None:
    entries = audit_entries(TRAIN_COMMITS)
    assert [e.commit for e in select(entries, image="acme/web")] == ["t2", "t1", "c3", "c2", "c1"]
    assert [e.commit for e in select(entries, image="acme/api")] == ["t2", "t1"]


def test_table_lists_each_image_of_a_train_under_its_commit() -> None:
    lines = format_table(audit_entries(TRAIN_COMMITS)[:2]).splitlines()
    _, revert, revert_web, promote, promote_web = lines
    assert "shop: ghcr.io/acme/api" in promote and "1.0.0 → 1.1.0" in promote
    assert "ghcr.io/acme/web" in promote_web and "1.0.0 → 1.2.0@sha256:bbbbbbbbbbbb…" in promote_web
    assert promote_web.index("ghcr.io/acme/web") == promote.index("ghcr.io/acme/api")
    assert "revert of t1: error-rate 0.4 > 0.05" in revert and "→" not in revert_web
    assert promote_web.split() == ["ghcr.io/acme/web:1.2.0", "1.0.0", "→",
                                   "1.2.0@sha256:bbbbbbbbbbbb…"]
