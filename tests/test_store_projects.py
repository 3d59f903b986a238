"""Projects in the store (migration 0009): a single-repository store migrated in place
with nothing lost, on SQLite and PostgreSQL, and each project's view of the store sees and
moves only its own rows."""

from __future__ import annotations

import time

from sqlalchemy import text

from bot.adapters.store import Store
from bot.adapters.store.engine import database_url, make_engine
from bot.adapters.store.leases import lane_name
from bot.adapters.store.records import NewPromotion
from bot.core.events import ImagePushed, PullRequestActivity
from bot.core.machine import State
from bot.core.members import Member

BOTH_ENGINES = True  # this suite runs on SQLite and on PostgreSQL (conftest)

TABLES = ("events", "promotions", "promotion_members", "transitions", "change_requests",
          "comments", "quarantine", "leases", "rate_limits", "forge_writes", "poll_cursors",
          "freezes")
ROWS_0008 = [
    "INSERT INTO events VALUES ('distribution:e1','distribution','localhost:5000',"
    "'acme/web','1.4.2','sha256:aa',1.0,2.0,0.5)",
    "INSERT INTO events VALUES ('distribution:e2','distribution','localhost:5000',"
    "'acme/web','1.4.3',NULL,3.0,NULL,NULL)",
    "INSERT INTO promotions (id, image_key, repository, tag, digest, version_key, environment,"
    " state, event_key, received_at, created_at, updated_at, approved_by) VALUES ('01OLD',"
    "'web','localhost:5000/acme/web','1.4.2','sha256:aa','sha256:aa','prod','proposed',"
    "'distribution:e1',1.0,2.0,2.5,'[\"alice\"]')",
    "INSERT INTO promotion_members VALUES ('01OLD',0,'web','localhost:5000/acme/web','1.4.2',"
    "'sha256:aa',0.5)",
    "INSERT INTO transitions (promotion_id, from_state, to_state, at, note) VALUES"
    " ('01OLD',NULL,'received',2.0,'distribution:e1'),('01OLD','received','proposed',2.2,NULL)",
    "INSERT INTO change_requests (promotion_id, branch, base, title, body, state, created_at,"
    " number) VALUES ('01OLD','hoist/prod/web','main','t','b','open',2.0,7)",
    "INSERT INTO comments (key, number, comment_id, \"user\", body, kind, received_at)"
    " VALUES ('github:comment:11',7,11,'carol','/hoist approve','comment',3.0)",
    "INSERT INTO quarantine VALUES ('localhost:5000/acme/web','sha256:bad','reverted',1.0)",
    "INSERT INTO leases VALUES ('reconcile',NULL,0,5.0)",
    "INSERT INTO rate_limits VALUES ('github',5000,4999,9e9,1.0)",
    "INSERT INTO forge_writes (forge, at) VALUES ('github',{now})",
    "INSERT INTO poll_cursors VALUES ('localhost:5000/acme/web','{{}}',9e9,2)",
    "INSERT INTO freezes VALUES ('prod','dave','incident 42',4.0)",
]


def _counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as db:
        return {t: int(db.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in TABLES}


def test_a_single_repository_store_becomes_project_default_with_nothing_lost(
        store_url: str) -> None:
    from alembic import command

    from bot.adapters.store.migrate import _config

    now = time.time()
    with make_engine(database_url(store_url)).begin() as conn:
        command.upgrade(_config(conn), "0008")
        for row in ROWS_0008:
            conn.execute(text(row.format(now=now)))
    store = Store(store_url)
    assert store.migrated_from == "0008"
    assert set(_counts(store).values()) == {1, 2} and _counts(store)["events"] == 2
    old = store.promotion("01OLD")
    assert (old.state, old.approved_by, old.change_request, old.members) == (
        State.PROPOSED, ("alice",), 1,
        (Member("web", "localhost:5000/acme/web", "1.4.2", "sha256:aa", 0.5),))
    assert [t["to_state"] for t in store.transitions("01OLD")] == ["received", "proposed"]
    assert [p.tag for p, _ in store.pending_events()] == ["1.4.3"]
    assert store.promotion_for_number(7) == old
    assert [c.key for c in store.pending_comments()] == ["github:comment:11"]
    assert store.quarantined("localhost:5000/acme/web", "sha256:bad") == "reverted"
    assert store.claim(["reconcile"], "w1", ttl=30, ran_before=4.0) is None  # ran at 5.0
    assert store.primary_wait("github") == 0.0
    assert store.budget(now)[("github", "secondary_60s")] == 79.0
    assert store.claim_poll("localhost:5000/acme/web", now, now + 60) is None  # not due
    freeze = store.freeze_of("prod")
    assert freeze is not None and freeze.reason == "incident 42"
    assert store.project_names() == ["default"]
    # Nothing of it belongs to another project.
    other = store.scoped("shop")
    assert other.promotions() == [] and other.pending_events() == []
    assert other.promotion_for_number(7) is None and other.freeze_of("prod") is None
    assert other.quarantined("localhost:5000/acme/web", "sha256:bad") is None
    assert other.pending_comments() == [] and other.budget(now) == {}
    store.add_approval("01OLD", "bob")  # and the default project goes on being written
    assert store.promotion("01OLD").approved_by == ("alice", "bob")
    store.close()


def _push(tag: str) -> ImagePushed:
    return ImagePushed("distribution", f"push-{tag}", "localhost:5000", "acme/base", tag,
                       None)


def test_each_project_sees_and_moves_only_its_own_promotions(store: Store) -> None:
    shop, pay = store.scoped("shop"), store.scoped("pay")
    # One push reaches both inboxes under the same key: each stores it once.
    assert shop.add_events([_push("2.0.0")], 1.0) == 1
    assert pay.add_events([_push("2.0.0")], 1.0) == 1
    assert shop.add_events([_push("2.0.0")], 1.0) == 0
    member = Member("base", "localhost:5000/acme/base", "2.0.0", None)
    made = {}
    for view in (shop, pay):
        new = NewPromotion.of([member], "prod", None, 1.0, "distribution:push-2.0.0")
        (made[view.project],) = view.ingest(["distribution:push-2.0.0"], [new])
        assert view.pending_events() == []
    # Same image, version and environment: one promotion in each project.
    assert [p.id for p in shop.promotions()] == [made["shop"].id]
    assert [p.id for p in pay.promotions()] == [made["pay"].id]
    assert store.project_names() == ["pay", "shop"]
    # One project's lane, lease, pull request number and freeze are not the other's.
    lane = lane_name("base", "prod")
    assert shop.claim([lane], "w1", ttl=30) == lane
    assert pay.claim([lane], "w2", ttl=30) == lane
    shop.record_change_request(made["shop"].id, "hoist/prod/base", "main", "t", "b", number=3)
    pay.record_change_request(made["pay"].id, "hoist/prod/base", "main", "t", "b", number=3)
    assert shop.promotion_for_number(3) == shop.promotion(made["shop"].id)
    assert pay.promotion_for_number(3) == pay.promotion(made["pay"].id)
    shop.freeze("prod", "dave", "shop only")
    assert pay.freeze_of("prod") is None
    # A command in one project cannot reach another's promotion, even by id.
    try:
        pay.add_approval(made["shop"].id, "mallory")
        raise AssertionError("approved another project's promotion")
    except KeyError:
        pass
    assert shop.promotion(made["shop"].id).approved_by == ()
    shop.add_comments([PullRequestActivity("c1", 3, 1, "carol", "/hoist hold", "comment")], 2.0)
    assert [c.key for c in shop.pending_comments()] == ["c1"] and pay.pending_comments() == []
