"""The store: the durable inbox of pushes and comments, promotions and their transitions,
change requests, leases on work and the shared forge budget — on SQLite (one file, the
embedded default) or PostgreSQL (several replicas), through one interface. Flows never see
which engine runs; only engine.py knows."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import URL

from ...core.events import ImagePushed
from .budget import RateBudget
from .change_requests import ChangeRequests
from .chatops import ChatOpsRecords
from .engine import BadDatabaseUrl, StoreUnavailable, database_url, dialect, make_engine, shown
from .freezes import Freeze, Freezes
from .leases import Leases
from .migrate import HEAD, SchemaError, check
from .poll import PollCursor, PollRecords
from .promotions import Promotions
from .records import ChangeRequest, NewPromotion, Promotion
from .remarks import Remarks
from .renders import Renders
from .sessions import Sessions
from .tables import promotions

__all__ = ["HEAD", "BadDatabaseUrl", "ChangeRequest", "Freeze", "NewPromotion", "PollCursor",
           "Promotion", "SchemaError", "Store", "StoreUnavailable"]


class Store(Promotions, ChangeRequests, ChatOpsRecords, Leases, RateBudget, PollRecords,
            Remarks, Freezes, Renders, Sessions):
    """One store over SQLite or PostgreSQL; every write is one transaction.

    `target` is a file path (SQLite) or a URL (`sqlite:///path`,
    `postgresql://user:pass@host:5432/db`). With `migrate` the schema is created or
    upgraded at once; without, it must already be current. Raises SchemaError (newer than
    this Hoist, or behind without migrate), StoreUnavailable (unreachable, read-only) and
    BadDatabaseUrl."""

    def __init__(self, target: Path | str | URL, migrate: bool = True,
                 pool_size: int = 8) -> None:
        self.url = target if isinstance(target, URL) else database_url(target)
        self.engine = make_engine(self.url, pool_size)
        try:
            self.migrated_from = check(self.engine, migrate)
        except SchemaError:
            self.engine.dispose()
            raise
        except Exception as exc:
            self.engine.dispose()
            if isinstance(exc, StoreUnavailable):
                raise
            from sqlalchemy.exc import OperationalError

            from .base import driver_message

            if isinstance(exc, OperationalError):
                raise StoreUnavailable(f"{shown(self.url)}: {driver_message(exc)}") from None
            raise

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None on PostgreSQL."""
        return Path(self.url.database) if self.engine_name == "sqlite" and self.url.database \
            else None

    @property
    def engine_name(self) -> str:
        """`sqlite` or `postgresql`."""
        return dialect(self.engine)

    def scoped(self, project: str) -> Store:
        """This store as one project sees it: the same engine and pool, every read and
        write scoped to `project` (its promotions, inbox, leases, lanes, freezes, budget).
        Closing a view closes the store."""
        view = copy.copy(self)
        view.project = project
        return view

    def routed(self, route: Callable[[ImagePushed], list[str]]) -> Store:
        """A view whose add_events/add_event_batches store each push in the inbox of every
        project `route(push)` names, all in one transaction (no project: not stored)."""
        view = copy.copy(self)
        view.route = route
        return view

    def project_names(self) -> list[str]:
        """Every project with promotions stored, sorted (a removed project's history stays
        readable by its name)."""
        with self._read() as db:
            return sorted(db.execute(select(promotions.c.project).distinct()).scalars())

    def ping(self) -> None:
        """One round trip to the database; StoreUnavailable if it does not answer."""
        with self._read() as db:
            db.execute(text("SELECT 1"))

    def promotion_for_number(self, number: int) -> Promotion | None:
        """The newest promotion whose change request is pull request `number` (a canary
        step's or a revert's change request counts for its promotion)."""
        pid = self.promotion_id_for_number(number)
        if pid is None:
            return None
        try:
            return self.promotion(pid.split("/", 1)[0])
        except KeyError:
            return None

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
