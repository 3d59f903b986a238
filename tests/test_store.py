"""The store on both engines: leases, the shared forge budget, migrations (from a data
directory made before them, and refusing a schema newer than this Hoist)."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot.adapters.store import HEAD, SchemaError, Store
from bot.adapters.store.tables import metadata
from bot.core.events import ImagePushed, PullRequestActivity
from bot.core.machine import State
from bot.core.members import Member
from tests.postgres_server import PostgresServer
from tests.support import DATA

BOTH_ENGINES = True  # this suite runs on SQLite and on PostgreSQL (conftest)


def test_migrations_build_exactly_the_tables_the_queries_use(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_a_lease_is_held_by_one_worker_until_released_or_expired(store: Store) -> None:
    assert store.claim(["lane:a/dev", "lane:b/dev"], "w1", ttl=30) == "lane:a/dev"
    assert store.claim(["lane:a/dev", "lane:b/dev"], "w2", ttl=30) == "lane:b/dev"
    assert store.claim(["lane:a/dev", "lane:b/dev"], "w3", ttl=30) is None
    store.release("lane:a/dev", "w1")
    assert store.claim(["lane:a/dev"], "w3", ttl=0.2) == "lane:a/dev"
    assert store.renew("w1", ["lane:a/dev"], 30) == ["lane:a/dev"]  # w1 lost it to w3
    time.sleep(0.3)  # w3 stopped renewing (died): its lease expires and w2 takes over
    assert store.claim(["lane:a/dev"], "w2", ttl=30) == "lane:a/dev"
    assert store.renew("w3", ["lane:a/dev"], 30) == ["lane:a/dev"]
    assert store.holders()["lane:a/dev"][0] == "w2"


def test_concurrent_claims_never_hand_one_lease_to_two_workers(store: Store) -> None:
    names = [f"lane:img{i}/dev" for i in range(6)]
    got: list[str | None] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        found = store.claim(names, f"w{n}", ttl=30)
        with lock:
            got.append(found)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held = [g for g in got if g is not None]
    assert sorted(held) == sorted(names)  # six leases, six holders, four workers left out


def test_a_periodic_pass_runs_once_per_interval_across_replicas(store: Store) -> None:
    now = time.time()
    assert store.claim(["reconcile"], "r1", 30, ran_before=now - 300) == "reconcile"
    store.release("reconcile", "r1", ran_at=now)
    assert store.claim(["reconcile"], "r2", 30, ran_before=time.time() - 300) is None
    assert store.claim(["reconcile"], "r2", 30, ran_before=time.time() + 1) == "reconcile"


def test_the_forge_budget_is_shared_and_counts_only_writes_it_allows(store: Store) -> None:
    limits = ((60.0, 3), (3600.0, 5))
    now = 1_000_000.0
    assert [store.take_write("github", now + i, limits) for i in range(3)] == [0.0] * 3
    assert store.take_write("github", now + 3, limits) == pytest.approx(57.0)
    assert [store.take_write("github", now + 61 + i, limits) for i in range(2)] == [0.0] * 2
    assert store.take_write("github", now + 70, limits) == pytest.approx(3600 - 70)
    left = store.budget(now + 70, limits)
    assert left[("github", "secondary_60s")] == 1 and left[("github", "secondary_3600s")] == 0
    store.observe_primary("github", 0, 5000, now + 100)
    assert store.primary_wait("github", now + 40) == pytest.approx(60.0)
    store.observe_primary("github", 4999, 5000, now + 3600)
    assert store.primary_wait("github", now + 40) == 0.0
    assert store.budget(now + 70, limits)[("github", "primary")] == 4999


def test_a_schema_newer_than_this_hoist_is_refused(store_url: str) -> None:
    store = Store(store_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    with pytest.raises(SchemaError, match="revision 9999, newer than this Hoist knows"):
        Store(store_url)
    with pytest.raises(SchemaError, match="newer"):
        Store(store_url, migrate=False)


def test_without_migrations_an_old_schema_is_refused_until_upgraded(store_url: str,
                                                                    engine: str,
                                                                    tmp_path: Path) -> None:
    if engine == "sqlite":  # a data directory from before migrations
        path = Path(store_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as db:
            db.executescript((DATA / "store-schema-bf71aac.sql").read_text())
    else:  # a database stopped at the first revision
        from alembic import command

        from bot.adapters.store.engine import database_url, make_engine
        from bot.adapters.store.migrate import _config

        with make_engine(database_url(store_url)).begin() as conn:
            command.upgrade(_config(conn), "0001")
    with pytest.raises(SchemaError, match="run `hoist db upgrade`"):
        Store(store_url, migrate=False)
    assert Store(store_url).migrated_from in ("legacy", "0001")
    assert Store(store_url, migrate=False).migrated_from == HEAD


def test_comments_waiting_at_0005_name_no_repository_and_new_ones_keep_theirs(
        store_url: str) -> None:
    """0007 adds where a comment came from; one stored before names no repository (the
    worker confirms it with the forge)."""
    from alembic import command

    from bot.adapters.store.engine import database_url, make_engine
    from bot.adapters.store.migrate import _config

    with make_engine(database_url(store_url)).begin() as conn:
        command.upgrade(_config(conn), "0005")
        conn.execute(text("INSERT INTO comments (key, number, comment_id, \"user\", body, kind,"
                          " received_at, written_at, promotion_id) VALUES ('github:comment:11',"
                          " 7, 11, 'carol', '/hoist approve', 'comment', 3.0, 2.0, '01OLD')"))
    store = Store(store_url)
    assert store.migrated_from == "0005"
    assert store.pending_comments() == [PullRequestActivity(
        "github:comment:11", 7, 11, "carol", "/hoist approve", "comment", 2.0, "01OLD")]
    store.comment_done("github:comment:11")
    review = PullRequestActivity("github:review:80", 7, None, "bob", "", "review",
                                 repository_id="186853002", review_id=80)
    assert store.add_comments([review], 4.0) == 1
    assert store.pending_comments() == [review]
    store.close()


@pytest.mark.parametrize("release", ["bf71aac", "22485a9"])
def test_a_data_directory_from_before_migrations_keeps_its_promotions(tmp_path: Path,
                                                                     release: str) -> None:
    """Built the way those releases' stores built it: their schema, their rows."""
    path = tmp_path / "data" / "hoist.db"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.executescript((DATA / f"store-schema-{release}.sql").read_text())
        db.execute("INSERT INTO events VALUES ('distribution:e1','distribution','localhost:5000',"
                   "'acme/guestbook','1.4.2','sha256:aa',1.0,2.0)")
        db.execute("INSERT INTO events VALUES ('distribution:e2','distribution','localhost:5000',"
                   "'acme/guestbook','1.4.3',NULL,3.0,NULL)")
        db.execute("INSERT INTO promotions (id, image_key, repository, tag, digest, version_key,"
                   " environment, state, event_key, received_at, created_at, updated_at,"
                   " approved_by) VALUES ('01OLD','guestbook','localhost:5000/acme/guestbook',"
                   "'1.4.2','sha256:aa','sha256:aa','prod','proposed','distribution:e1',1.0,2.0,"
                   "2.5,'[\"alice\"]')")
        for note in ("distribution:e1", None, None):
            db.execute("INSERT INTO transitions VALUES ('01OLD',?,?,?,?)",
                       (None if note else "received", "received" if note else "proposed",
                        2.0, note))
        db.execute("INSERT INTO change_requests (promotion_id, branch, base, title, body, state,"
                   " created_at, number) VALUES ('01OLD','hoist/prod/guestbook','main','t','b',"
                   "'open',2.0,7)")
        db.execute("INSERT INTO quarantine VALUES ('localhost:5000/acme/guestbook','sha256:bad',"
                   "'reverted',1.0)")
        db.execute("INSERT INTO comments VALUES ('d-1',7,11,'carol','/hoist approve','comment',"
                   "3.0,NULL)")
    store = Store(path)
    assert store.migrated_from == "legacy"
    old = store.promotion("01OLD")
    assert (old.state, old.approved_by, old.change_request) == (State.PROPOSED, ("alice",), 1)
    # A promotion from before release trains carries its one image.
    assert (old.train, old.members) == (None, (Member(
        "guestbook", "localhost:5000/acme/guestbook", "1.4.2", "sha256:aa"),))
    assert [t["to_state"] for t in store.transitions("01OLD")] == ["received", "proposed",
                                                                 "proposed"]
    assert [p.tag for p, _ in store.pending_events()] == ["1.4.3"]  # still waiting
    assert store.quarantined("localhost:5000/acme/guestbook", "sha256:bad") == "reverted"
    assert store.promotion_for_number(7) == old
    # A comment waiting from before: written at an unknown time, for the promotion found.
    assert store.pending_comments() == [PullRequestActivity("d-1", 7, 11, "carol",
                                                            "/hoist approve", "comment")]
    store.add_approval("01OLD", "bob")  # and it goes on being written
    assert store.promotion("01OLD").approved_by == ("alice", "bob")
    assert store.add_events([ImagePushed("distribution", "e3", "localhost:5000",
                                         "acme/guestbook", "1.4.4", None)], 4.0) == 1


def test_hoist_db_upgrade_migrates_and_then_has_nothing_to_do(
        store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    monkeypatch.setenv("HOIST_DATABASE_URL", store_url)
    assert main(["db", "upgrade"]) == 0
    assert f"to schema {HEAD}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"already at schema {HEAD}" in out and "password" not in out
    monkeypatch.setenv("HOIST_DATABASE_URL", "mysql://root:hunter2@db/hoist")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hoist: HOIST_DATABASE_URL: unsupported") and "hunter2" not in err


def test_a_newer_push_never_overtakes_a_lane_a_worker_is_moving(store: Store) -> None:
    """While a worker holds an image's lane (say, mid-merge), a newer push of the image is
    stored without superseding; the holder supersedes when it goes on."""
    from bot.adapters.store import NewPromotion

    def new(tag: str) -> NewPromotion:
        return NewPromotion("guestbook", "prod", "acme/guestbook", tag, None, time.time(), tag)

    [old] = store.ingest([], [new("1.0.1")])
    store.transition(old.id, State.PLANNED)
    assert store.claim(["lane:guestbook/prod"], "mover", ttl=30) == "lane:guestbook/prod"
    [newer] = store.ingest([], [new("1.0.2")])
    assert store.promotion(old.id).state is State.PLANNED  # not overtaken mid-flight
    assert store.supersede_waiting("guestbook", "prod") == 1
    assert store.promotion(old.id).state is State.SUPERSEDED
    assert store.transitions(old.id)[-1]["note"] == f"superseded by {newer.id}"
    store.release("lane:guestbook/prod", "mover")
    [newest] = store.ingest([], [new("1.0.3")])  # nobody holds the lane: at once
    assert store.promotion(newer.id).state is State.SUPERSEDED
    assert store.supersede_waiting("guestbook", "prod") == 0
    assert store.promotion(newest.id).state is State.RECEIVED


def test_serve_refuses_a_newer_schema_in_one_line(
        store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    store = Store(store_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    store.close()
    origin = tmp_path / "origin.git"  # a repository that passes the checks before the store's
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    for name, value in {"HOIST_DATABASE_URL": store_url,
                        "HOIST_MANIFESTS_REPO": f"file://{origin}",
                        "HOIST_WEBHOOK_SECRET": "s", "HOIST_DATA_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    # Logging set up for the captured stdout would outlive this test.
    monkeypatch.setattr("bot.log.configure", lambda *args: None)
    assert main(["serve", "--no-migrate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "revision 0099, newer than this Hoist knows" in err


def test_an_unreachable_database_is_one_line_without_its_password(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    from bot.demo.registry import free_port
    from bot.settings import Settings

    url = f"postgresql://hoist:hunter2@127.0.0.1:{free_port()}/hoist"
    monkeypatch.setenv("HOIST_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hoist: the store is unreachable") and err.count("\n") == 1
    assert "hunter2" not in err
    assert "hunter2" in Settings.from_env().secrets  # so the logs redact it too


def test_a_sql_ascii_database_works_like_a_utf8_one(postgres: PostgresServer) -> None:
    """A database created without an encoding on a C-locale server is SQL_ASCII; psycopg
    would hand back bytes there and the first connection died with a traceback."""
    postgres.sql("CREATE DATABASE hoist_ascii ENCODING 'SQL_ASCII' TEMPLATE template0")
    store = Store(postgres.url("hoist_ascii"))
    try:
        store.add_events([ImagePushed("distribution", "e1", "localhost:5000", "acme/guestbook",
                                      "1.4.2", None)], time.time())
        assert [e.tag for e, _ in store.pending_events()] == ["1.4.2"]
    finally:
        store.close()
