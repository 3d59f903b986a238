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
