"""The store's ChatOps side: comments waiting to be handled, and quarantined digests."""

from __future__ import annotations

import time

from sqlalchemy import delete, select, update

from ...core.events import PullRequestActivity
from .base import StoreBase
from .engine import insert_ignoring, upsert
from .tables import comments, quarantine


class ChatOpsRecords(StoreBase):
    def add_comments(self, said: list[PullRequestActivity], received_at: float) -> int:
        """Store ChatOps comments durably, once per key (PullRequestActivity.key); returns
        how many were new."""
        stmt = insert_ignoring(self.engine, comments).returning(comments.c.key)
        with self._tx() as db:
            return sum(len(db.execute(stmt, {
                "project": self.project, "key": c.key, "number": c.number,
                "comment_id": c.comment_id, "user": c.user,
                "body": c.body, "kind": c.kind, "received_at": received_at,
                "processed_at": None, "written_at": c.written_at,
                "promotion_id": c.promotion_id, "repository_id": c.repository_id,
                "review_id": c.review_id}).all()) for c in said)

    def pending_comments(self) -> list[PullRequestActivity]:
        """Unprocessed comments, oldest first."""
        with self._read() as db:
            rows = db.execute(select(comments).where(self._mine(comments),
                                                     comments.c.processed_at.is_(None))
                              .order_by(comments.c.received_at, comments.c.key)).mappings().all()
        return [PullRequestActivity(r["key"], r["number"], r["comment_id"], r["user"], r["body"],
                                    r["kind"], r["written_at"], r["promotion_id"],
                                    r["repository_id"], r["review_id"])
                for r in rows]

    def comment_done(self, key: str) -> None:
        """Mark a comment processed."""
        with self._tx() as db:
            db.execute(update(comments).where(self._mine(comments), comments.c.key == key)
                       .values(processed_at=time.time()))

    def quarantine(self, repository: str, digest: str, reason: str) -> None:
        """No later push of this digest is promoted until unquarantined."""
        with self._tx() as db:
            db.execute(upsert(self.engine, quarantine, ["project", "repository", "digest"], {
                "project": self.project, "repository": repository, "digest": digest, "reason": reason,
                "at": time.time()}))

    def unquarantine(self, repository: str, digest: str) -> bool:
        """Lift a quarantine; False if there was none."""
        with self._tx() as db:
            return db.execute(delete(quarantine).where(
                self._mine(quarantine), quarantine.c.repository == repository,
                quarantine.c.digest == digest)).rowcount > 0

    def quarantined(self, repository: str, digest: str | None) -> str | None:
        """Why this digest is quarantined, or None."""
        if digest is None:
            return None
        with self._read() as db:
            row = db.execute(select(quarantine.c.reason).where(
                self._mine(quarantine), quarantine.c.repository == repository,
                quarantine.c.digest == digest)).first()
        return row.reason if row else None
