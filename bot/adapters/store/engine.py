"""The database engine behind the store: SQLite (one file, WAL, synchronous=FULL) or
PostgreSQL (psycopg 3), chosen by URL. Only this module knows which engine runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry


class StoreUnavailable(RuntimeError):
    """The store cannot read or write (disk full, read-only, locked, server unreachable):
    callers should retry later."""


class BadDatabaseUrl(ValueError):
    """HOIST_DATABASE_URL is not a sqlite:/// or postgresql:// URL."""


def database_url(text: str | Path) -> URL:
    """A SQLAlchemy URL from `sqlite:///path`, `postgresql://user:pass@host:5432/db`
    (`postgres://` too) or a plain file path (SQLite). BadDatabaseUrl otherwise; the
    message never holds the password."""
    if isinstance(text, Path) or "://" not in text:
        return URL.create("sqlite", database=str(text))
    try:
        url = make_url(text)
    except ArgumentError:
        raise BadDatabaseUrl("HOIST_DATABASE_URL is not a URL (sqlite:///path or "
                             "postgresql://user:pass@host:5432/db)") from None
    userinfo = text.split("://", 1)[1].split("?", 1)[0].rpartition("@")[0]
    if url.password is not None and unquote(userinfo.partition(":")[2]) != url.password:
        # `postgresql://u:p@ss/w:rd@host/db` parses as password "p" at host "ss": refused, or
        # the rest of the password would show as a host and database in every error.
        raise BadDatabaseUrl("HOIST_DATABASE_URL: the password holds an unescaped '@', '/', "
                             "'?' or '#'; percent-encode it (@ as %40, / as %2F, ? as %3F)")
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and url.database:
        return url.set(drivername="sqlite")
    raise BadDatabaseUrl(f"HOIST_DATABASE_URL: unsupported {url.drivername!r}; use "
                         "sqlite:///path or postgresql://user:pass@host:5432/db")


def shown(url: URL) -> str:
    """The URL as it may appear in logs and errors: password hidden."""
    return url.render_as_string(hide_password=True)


def make_engine(url: URL, pool_size: int = 8) -> Engine:
    """An engine for url. SQLite: WAL, synchronous=FULL, a 30 s busy timeout, and every
    write transaction `BEGIN IMMEDIATE` (a reader never has to upgrade its lock, which
    SQLite would refuse with 'database is locked'). PostgreSQL: a pool whose connections
    are checked before use, and a 5 s connect timeout so /readyz answers promptly."""
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, pool_size=pool_size, max_overflow=64, pool_timeout=60,
                               connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # UTF-8 on the wire whatever the database's own encoding: on a SQL_ASCII database psycopg
    # would hand back bytes, which SQLAlchemy's first version check cannot read.
    return create_engine(url, pool_size=pool_size, max_overflow=16, pool_pre_ping=True,
                         pool_timeout=30,
                         connect_args={"connect_timeout": 5, "client_encoding": "utf8"})


def _sqlite_connect(dbapi: sqlite3.Connection, _: ConnectionPoolEntry) -> None:
    dbapi.isolation_level = None  # transactions are begun by _sqlite_begin, not the driver
    dbapi.execute("PRAGMA journal_mode=WAL")
    dbapi.execute("PRAGMA synchronous=FULL")


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get("hoist_write", False):
        # Lease bookkeeping need not survive a power cut (a lost lease is an expired one):
        # its commits skip the fsync; the next durable commit syncs the WAL with them.
        durable = options.get("hoist_durable", True)
        conn.exec_driver_sql(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def dialect(engine: Engine) -> str:
    """`sqlite` or `postgresql`."""
    name: str = engine.dialect.name
    return name


def insert_ignoring(engine: Engine, table: Any) -> Any:
    """INSERT that skips rows whose key exists (INSERT OR IGNORE / ON CONFLICT DO NOTHING)."""
    if dialect(engine) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def upsert(engine: Engine, table: Any, keys: list[str], values: dict[str, Any]) -> Any:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET the other values."""
    if dialect(engine) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table).values(**values)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values)
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={k: v for k, v in values.items() if k not in keys})
