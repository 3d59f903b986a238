"""Schema migrations (Alembic, scripts in migrations/versions): applied in one transaction
that also holds off other processes migrating at the same moment."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection

from .engine import dialect

# Every revision this Hoist knows, oldest first; the last is the schema its code expects.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011")
HEAD = REVISIONS[-1]
_LOCK = 0x486F697374  # "Hoist": PostgreSQL advisory lock key for migrations


class SchemaError(RuntimeError):
    """The store's schema is not one this Hoist can run against (newer than it knows, or
    not yet migrated while migrations are off)."""


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = conn
    return config


def revision(conn: Connection) -> str | None:
    """The schema revision of the store: None for an empty database, `legacy` for a data
    directory made before migrations (tables, no alembic_version)."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" in tables:
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return str(found) if found else None
    return "legacy" if "promotions" in tables else None


def check(engine: Engine, migrate: bool) -> str | None:
    """Bring the store to HEAD (migrate) or check it is there; returns the revision it
    was at. SchemaError with one line when it is newer than this Hoist knows, or behind
    while `migrate` is False."""
    with engine.connect().execution_options(hoist_write=migrate) as conn, conn.begin():
        if migrate and dialect(engine) == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        found = revision(conn)
        if found == HEAD:
            return found
        if found not in (None, "legacy", *REVISIONS):
            raise SchemaError(f"the store's schema is at revision {found}, newer than this "
                              f"Hoist knows (up to {HEAD}): run a newer Hoist")
        if not migrate:
            raise SchemaError(f"the store's schema is at revision {found or 'none'}, not "
                              f"{HEAD}: run `hoist db upgrade` (or serve without --no-migrate)")
        config = _config(conn)
        if found == "legacy":
            command.stamp(config, "0001")
        command.upgrade(config, "head")
        return found
