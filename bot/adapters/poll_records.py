"""The store's registry-polling side: per repository, the tags already seen and when to
list them next (one row each, so replicas sharing the store take turns)."""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass


@dataclass(frozen=True)
class PollCursor:
    repository: str
    seen: dict[str, str | None] | None  # tag -> digest; None until the first listing
    failures: int  # failed listings in a row


class PollRecords:
    """Mixed into Store, which provides the connection and transactions."""

    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def claim_poll(self, repository: str, now: float, until: float) -> PollCursor | None:
        """The repository's cursor if its poll is due (never polled, or next time <= now),
        with its next time moved to `until` so nobody else polls it meanwhile; None when
        it is not due or another worker claimed it first."""
        row = self._db().execute("SELECT next_at FROM poll_cursors WHERE repository=?",
                                 (repository,)).fetchone()
        if row is not None and row["next_at"] > now:
            return None  # the common case, without taking the write lock
        with self._tx() as db:
            row = db.execute("SELECT seen, next_at, failures FROM poll_cursors WHERE"
                             " repository=?", (repository,)).fetchone()
            if row is not None and row["next_at"] > now:
                return None
            db.execute("INSERT INTO poll_cursors (repository, seen, next_at, failures)"
                       " VALUES (?, NULL, ?, 0) ON CONFLICT (repository) DO UPDATE SET"
                       " next_at=excluded.next_at", (repository, until))
        if row is None:
            return PollCursor(repository, None, 0)
        seen = json.loads(row["seen"]) if row["seen"] is not None else None
        return PollCursor(repository, seen, row["failures"])

    def finish_poll(self, repository: str, seen: dict[str, str | None], next_at: float) -> None:
        """Record a listing: the tags now seen, the next time, no failures."""
        with self._tx() as db:
            db.execute("UPDATE poll_cursors SET seen=?, next_at=?, failures=0 WHERE repository=?",
                       (json.dumps(seen, sort_keys=True), next_at, repository))

    def defer_poll(self, repository: str, next_at: float, failures: int) -> None:
        """Record a failed listing: try again at next_at."""
        with self._tx() as db:
            db.execute("UPDATE poll_cursors SET next_at=?, failures=? WHERE repository=?",
                       (next_at, failures, repository))
