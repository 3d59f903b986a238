"""Transactions over the engine, with every database failure turned into StoreUnavailable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import ColumnElement, Engine, Table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InternalError, OperationalError, TimeoutError

from .engine import StoreUnavailable


class StoreBase:
    """Holds the engine and the project this view of the store reads and writes (every
    query of the mixins (inbox, promotions, chatops, leases, budget) is scoped to it)."""

    engine: Engine
    project: str = "default"

    def _mine(self, table: Table) -> ColumnElement[bool]:
        """`table.project = <this view's project>`: in every query's WHERE."""
        return table.c.project == self.project

    @contextmanager
    def _tx(self, durable: bool = True) -> Iterator[Connection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite); committed on exit. Without
        `durable`, the commit does not wait for the disk (for leases: losing one in a power
        cut only makes it expire sooner)."""
        try:
            with self.engine.connect().execution_options(
                    hoist_write=True, hoist_durable=durable) as conn, conn.begin():
                if not durable and conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield conn
        except (OperationalError, InternalError, TimeoutError) as exc:
            # InternalError: e.g. PostgreSQL failed over to a read-only standby.
            raise StoreUnavailable(driver_message(exc)) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreUnavailable(driver_message(exc)) from exc
            raise

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read-only snapshot (rolled back on exit)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except (OperationalError, TimeoutError) as exc:
            raise StoreUnavailable(driver_message(exc)) from exc


def driver_message(exc: Exception) -> str:
    """The driver's own words on one line, without SQLAlchemy's statement and parameters
    dump (psycopg adds hints on lines of their own)."""
    inner = getattr(exc, "orig", None) or exc
    text = [line.strip() for line in str(inner).strip().splitlines() if line.strip()]
    return "; ".join(text) if text else type(inner).__name__
