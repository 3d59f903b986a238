"""The store's registry-polling side: per repository, the tags already seen and when to
list them next (one row each, so replicas sharing the store take turns)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, select, update

from .base import StoreBase
from .engine import insert_ignoring
from .tables import poll_cursors


@dataclass(frozen=True)
class PollCursor:
    repository: str
    seen: dict[str, str | None] | None  # tag -> digest; None until the first listing
    failures: int  # failed listings in a row


class PollRecords(StoreBase):
    def _cursor(self, repository: str) -> ColumnElement[bool]:
        return and_(self._mine(poll_cursors), poll_cursors.c.repository == repository)

    def claim_poll(self, repository: str, now: float, until: float) -> PollCursor | None:
        """The repository's cursor if its poll is due (never polled, or next time <= now),
        with its next time moved to `until` so nobody else polls it meanwhile; None when
        it is not due or another worker claimed it first."""
        with self._read() as db:
            row = db.execute(select(poll_cursors.c.next_at)
                             .where(self._cursor(repository))).first()
        if row is not None and row.next_at > now:
            return None  # the common case, without taking the write lock
        with self._tx() as db:
            row = db.execute(select(poll_cursors.c.seen, poll_cursors.c.next_at,
                                    poll_cursors.c.failures)
                             .where(self._cursor(repository)).with_for_update()).first()
            if row is not None and row.next_at > now:
                return None
            if row is None:
                created = db.execute(insert_ignoring(self.engine, poll_cursors).values(
                    project=self.project, repository=repository, seen=None, next_at=until,
                    failures=0)
                    .returning(poll_cursors.c.repository)).first()
                if created is None:
                    return None  # another replica created it first, and polls now
            else:
                db.execute(update(poll_cursors).where(self._cursor(repository))
                           .values(next_at=until))
        if row is None:
            return PollCursor(repository, None, 0)
        seen = json.loads(row.seen) if row.seen is not None else None
        return PollCursor(repository, seen, row.failures)

    def finish_poll(self, repository: str, seen: dict[str, str | None], next_at: float) -> None:
        """Record a listing: the tags now seen, the next time, no failures."""
        with self._tx() as db:
            db.execute(update(poll_cursors).where(self._cursor(repository))
                       .values(seen=json.dumps(seen, sort_keys=True), next_at=next_at,
                               failures=0))

    def defer_poll(self, repository: str, next_at: float, failures: int) -> None:
        """Record a failed listing: try again at next_at."""
        with self._tx() as db:
            db.execute(update(poll_cursors).where(self._cursor(repository))
                       .values(next_at=next_at, failures=failures))
