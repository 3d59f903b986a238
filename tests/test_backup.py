"""`hoist db backup` / `hoist db restore`: a backup taken mid-promotion (after a SIGKILL,
and online while Hoist runs) restored into an empty data directory resumes without
duplicates; bad input is refused in one line; PostgreSQL through pg_dump / pg_restore."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.cli import main
from bot.demo.manifests import distribution_envelope
from tests.postgres_server import PostgresServer
from tests.support import ROOT, git, need, wait_for
from tests.test_e2e import service_for, stop_after  # noqa: F401 (a fixture)


def hoist_db(command: str, file: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`hoist db COMMAND FILE` as a process, with these HOIST_* variables."""
    return subprocess.run([sys.executable, "-m", "bot", "db", command, str(file)], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120)


def states(db: Path) -> dict[str, str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return dict(conn.execute("SELECT environment, state FROM promotions").fetchall())


@pytest.mark.e2e
def test_backup_taken_mid_promotion_resumes_without_duplicates(
        tmp_path: Path, stop_after: Any) -> None:  # noqa: F811
    need("git")
    service, origin, token = service_for(tmp_path, "localhost:5000")
    envelope = json.dumps(distribution_envelope("localhost:5000", "acme/guestbook", "1.4.2",
                                                "sha256:" + "e" * 64)).encode()
    # Killed after dev's commit was pushed, before the store knew: the backup is mid-promotion.
    service.start({"HOIST_FAILPOINTS": "promotion.pushed"})
    stop_after(service)
    assert httpx.post(f"{service.url}/webhooks/registry/distribution", content=envelope,
                      headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 202
    assert service.wait_dead() == -9
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    made = hoist_db("backup", first, HOIST_DATA_DIR=str(tmp_path / "data"))
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().endswith(": 1 promotion, 1 unfinished")
    assert not Path(f"{first}-wal").exists()  # one self-contained file

    # Restored into an empty data directory (the git cache is rebuilt from the remote).
    restored = tmp_path / "restored"
    assert hoist_db("restore", first, HOIST_DATA_DIR=str(restored)).returncode == 0
    again = hoist_db("restore", first, HOIST_DATA_DIR=str(restored))
    assert again.returncode == 2 and "already exists: restore into an empty data" in again.stderr
    service.start({"HOIST_DATA_DIR": str(restored)})
    prod = wait_for(lambda: service.promotion_in("prod", "proposed"), "prod after restore")

    # Online, while Hoist runs and prod waits: then prod is approved and merged, and only
    # then is the backup restored, behind git.
    online = hoist_db("backup", second, HOIST_DATA_DIR=str(restored))
    assert online.returncode == 0, online.stderr
    assert online.stdout.strip().endswith(": 3 promotions, 1 unfinished")
    approve = {"Authorization": f"Bearer {service.env['HOIST_API_TOKEN']}",
               "X-Hoist-User": "alice"}
    url = f"{service.url}/api/promotions/{prod['id']}/approve"
    assert httpx.post(url, headers=approve, timeout=10).status_code == 200
    wait_for(lambda: service.promotion_in("prod", "promoted"), "prod promoted")
    service.stop()
    later = tmp_path / "later"
    assert hoist_db("restore", second, HOIST_DATA_DIR=str(later)).returncode == 0
    assert states(later / "hoist.db")["prod"] == "proposed"
    service.start({"HOIST_DATA_DIR": str(later)})
    assert httpx.post(url, headers=approve, timeout=10).status_code == 200
    wait_for(lambda: service.promotion_in("prod", "promoted"), "prod promoted again")

    # Each environment promoted once, one change request each, one commit each on main.
    assert sorted((p["environment"], p["state"]) for p in service.promotions()) == [
        ("dev", "promoted"), ("prod", "promoted"), ("staging", "promoted")]
    subjects = git(origin, "log", "--format=%s", "main").splitlines()
    assert subjects == [f"chore(deploy): promote guestbook to 1.4.2 in {env}"
                        for env in ("prod", "staging", "dev")] + ["chore: initial manifests"]
    assert sorted(git(origin, "branch", "--format=%(refname:short)").split()) == [
        "hoist/dev/guestbook", "hoist/prod/guestbook", "hoist/staging/guestbook", "main"]


def test_bad_backups_and_restores_are_refused_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HOIST_DATABASE_URL", raising=False)
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello\n" * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    cases = [
        (["backup", str(tmp_path / "b.db")], "no Hoist store at"),
        (["restore", str(tmp_path / "missing.db")], "no such file"),
        (["restore", str(not_sqlite)], "is not a SQLite backup"),
        (["restore", str(other)], "is a SQLite database but not a Hoist backup"),
    ]
    for args, reason in cases:
        assert main(["db", *args]) == 2
        err = capsys.readouterr().err
        assert reason in err and err.count("\n") == 1, err
    assert not (tmp_path / "data" / "hoist.db").exists()  # nothing half-restored
    (tmp_path / "data").mkdir()
    with sqlite3.connect(tmp_path / "data" / "hoist.db") as conn:
        conn.execute("CREATE TABLE promotions (state)")
    assert main(["db", "backup", str(tmp_path / "data" / "hoist.db")]) == 2
    assert "is the store itself" in capsys.readouterr().err


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(password="s3cret pass")
    server.start()
    yield server
    server.stop()


@pytest.mark.e2e
def test_postgresql_backup_and_restore_through_pg_dump(postgres: PostgresServer,
                                                       tmp_path: Path) -> None:
    postgres.sql("CREATE DATABASE hoist")
    postgres.sql("CREATE TABLE promotions (id text PRIMARY KEY, state text);"
                 "INSERT INTO promotions VALUES ('01J', 'proposed')", db="hoist")
    url = postgres.url("hoist", driver="+psycopg")
    dump = tmp_path / "hoist.dump"
    made = hoist_db("backup", dump, HOIST_DATABASE_URL=url)
    assert made.returncode == 0, made.stderr
    assert "s3cret" not in made.stdout + made.stderr
    postgres.sql("DROP DATABASE hoist")
    postgres.sql("CREATE DATABASE hoist")
    restored = hoist_db("restore", dump, HOIST_DATABASE_URL=url)
    assert restored.returncode == 0, restored.stderr
    assert postgres.sql("SELECT id, state FROM promotions", db="hoist") == "01J|proposed"
    into_full = hoist_db("restore", dump, HOIST_DATABASE_URL=url)  # not an empty database
    assert into_full.returncode == 2
    assert into_full.stderr.startswith("hoist: pg_restore failed: ")
    assert "s3cret" not in into_full.stderr
