"""Backups of the store: SQLite through its online backup API (a consistent copy while
Hoist keeps writing), PostgreSQL through pg_dump / pg_restore. Never a half-written file:
each copy is made beside its destination and renamed into place."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

STORE_FILE = "hoist.db"
_UNFINISHED = ("('promoted','noop','superseded','failed','aborted','reverted')")


class BackupError(RuntimeError):
    """The backup or restore cannot be made; the message says why (never a password)."""


def backup(data_dir: Path, database_url: str | None, target: Path) -> str:
    """Copy the store to target, online; returns a one-line summary. The store is
    `$HOIST_DATA_DIR/hoist.db`, or the PostgreSQL database of a postgresql:// URL
    (dumped in pg_dump's custom format)."""
    if _is_postgres(database_url):
        assert database_url is not None
        return _pg_dump(database_url, target)
    store = _sqlite_path(data_dir, database_url)
    if not store.is_file():
        raise BackupError(f"no Hoist store at {store} (set HOIST_DATA_DIR)")
    if target.resolve() in {store.resolve(), Path(f"{store.resolve()}-wal")}:
        raise BackupError(f"{target} is the store itself: back up to another file")
    # The online backup API (sqlite.org/backup.html) copies a consistent snapshot; in WAL
    # mode Hoist's writers carry on meanwhile.
    with _replacing(target) as partial, \
            contextlib.closing(sqlite3.connect(store, timeout=30)) as source, \
            contextlib.closing(sqlite3.connect(partial)) as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        summary = _summary(copy)
    return f"backed up {store} to {target}: {summary}"


def restore(source: Path, data_dir: Path, database_url: str | None) -> str:
    """Restore a backup into an empty store (SQLite: no hoist.db in data_dir yet;
    PostgreSQL: an empty database); returns a one-line summary. Hoist resumes unfinished
    promotions from it on its next start."""
    if not source.is_file():
        raise BackupError(f"cannot read {source}: no such file")
    if _is_postgres(database_url):
        assert database_url is not None
        return _pg_restore(source, database_url)
    store = _sqlite_path(data_dir, database_url)
    if store.exists() or Path(f"{store}-wal").exists():
        raise BackupError(f"{store} already exists: restore into an empty data directory "
                          "(move the old store away first)")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as backup_db:
            check = backup_db.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in backup_db.execute("SELECT name FROM sqlite_master")}
            if check != "ok":
                raise BackupError(f"{source} is damaged: {check}")
            if not {"events", "promotions"} <= tables:
                raise BackupError(f"{source} is a SQLite database but not a Hoist backup")
            store.parent.mkdir(parents=True, exist_ok=True)
            with _replacing(store) as partial, \
                    contextlib.closing(sqlite3.connect(partial)) as copy:
                backup_db.backup(copy)
                summary = _summary(copy)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a SQLite backup ({exc})") from None
    return f"restored {source} into {store}: {summary}"


def _summary(db: sqlite3.Connection) -> str:
    promotions, unfinished = db.execute(
        f"SELECT COUNT(*), COALESCE(SUM(state NOT IN {_UNFINISHED}), 0) FROM promotions"
    ).fetchone()
    return f"{promotions} promotion{'' if promotions == 1 else 's'}, {unfinished} unfinished"


@contextlib.contextmanager
def _replacing(target: Path) -> Iterator[Path]:
    """A temporary path beside target, renamed onto it once the block succeeds (and
    removed if it fails), so target is either the old file or the whole new one."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        with open(partial, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _sqlite_path(data_dir: Path, database_url: str | None) -> Path:
    """hoist.db in the data directory, or the file of a sqlite:/// URL."""
    if database_url and database_url.startswith("sqlite:///"):
        return Path(database_url.removeprefix("sqlite:///").split("?")[0])
    return data_dir / STORE_FILE


# PostgreSQL ----------------------------------------------------------------------------------


def _is_postgres(url: str | None) -> bool:
    return bool(url) and urlsplit(url or "").scheme.split("+")[0] in ("postgresql", "postgres")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it (no SQLAlchemy `+driver`), with the password moved into
    PGPASSWORD: a command line is visible to every user of the machine."""
    parts = urlsplit(url)
    env = dict(os.environ)
    netloc = parts.netloc
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
        netloc = f"{user}@{parts.netloc.rsplit('@', 1)[1]}"
    return urlunsplit(("postgresql", netloc, parts.path, parts.query, "")), env


def _pg(program: str, args: list[str], env: dict[str, str], what: str) -> None:
    if shutil.which(program) is None:
        raise BackupError(f"{what} needs {program} (apt-get install postgresql-client)")
    done = subprocess.run([program, *args], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{program} failed: {lines[-1] if lines else done.returncode}")


def _pg_dump(url: str, target: Path) -> str:
    dsn, env = _libpq(url)
    with _replacing(target) as partial:
        _pg("pg_dump", ["--format=custom", "--no-owner", f"--file={partial}",
                        f"--dbname={dsn}"], env, "a PostgreSQL backup")
    return f"backed up the PostgreSQL store to {target} (pg_dump custom format)"


def _pg_restore(source: Path, url: str) -> str:
    dsn, env = _libpq(url)
    _pg("pg_restore", ["--exit-on-error", "--single-transaction", "--no-owner",
                       f"--dbname={dsn}", str(source)], env, "a PostgreSQL restore")
    return f"restored {source} into the PostgreSQL store"
