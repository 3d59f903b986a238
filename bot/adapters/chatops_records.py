"""The store's ChatOps side: comments waiting to be handled, and quarantined digests."""

from __future__ import annotations

import sqlite3
import time
from contextlib import AbstractContextManager

from ..core.events import PullRequestActivity


class ChatOpsRecords:
    """Mixed into Store, which provides the connection and transactions."""

    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def add_comments(self, comments: list[PullRequestActivity], received_at: float) -> int:
        """Store ChatOps comments durably, once per key (the delivery id)."""
        with self._tx() as db:
            return sum(db.execute(
                "INSERT OR IGNORE INTO comments VALUES (?,?,?,?,?,?,?,NULL)",
                (c.key, c.number, c.comment_id, c.user, c.body, c.kind, received_at)).rowcount
                for c in comments)

    def pending_comments(self) -> list[PullRequestActivity]:
        """Unprocessed comments, oldest first."""
        rows = self._db().execute("SELECT * FROM comments WHERE processed_at IS NULL"
                                  " ORDER BY received_at, key").fetchall()
        return [PullRequestActivity(r["key"], r["number"], r["comment_id"], r["user"], r["body"], r["kind"])
                for r in rows]

    def comment_done(self, key: str) -> None:
        """Mark a comment processed."""
        with self._tx() as db:
            db.execute("UPDATE comments SET processed_at=? WHERE key=?", (time.time(), key))

    def quarantine(self, repository: str, digest: str, reason: str) -> None:
        """No later push of this digest is promoted until unquarantined."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO quarantine VALUES (?,?,?,?)",
                       (repository, digest, reason, time.time()))

    def unquarantine(self, repository: str, digest: str) -> bool:
        """Lift a quarantine; False if there was none."""
        with self._tx() as db:
            return db.execute("DELETE FROM quarantine WHERE repository=? AND digest=?",
                              (repository, digest)).rowcount > 0

    def quarantined(self, repository: str, digest: str | None) -> str | None:
        """Why this digest is quarantined, or None."""
        if digest is None:
            return None
        row = self._db().execute("SELECT reason FROM quarantine WHERE repository=? AND digest=?",
                                 (repository, digest)).fetchone()
        return row["reason"] if row else None
