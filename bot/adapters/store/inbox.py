"""The store's inbox: registry pushes stored durably, once per key, until handled."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from ...core.events import ImagePushed
from .base import StoreBase
from .engine import insert_ignoring
from .tables import comments, events


class Inbox(StoreBase):
    # With a route, a push is stored in the inbox of each project it names (a registry
    # webhook shared by every project, Store.routed); else in this view's project's.
    route: Callable[[ImagePushed], list[str]] | None = None

    def add_events(self, pushes: list[ImagePushed], received_at: float) -> int:
        """Store pushes durably; those already seen (same key) are ignored. Returns new count."""
        return self.add_event_batches([(pushes, received_at)])[0]

    def add_event_batches(self, batches: list[tuple[list[ImagePushed], float]]) -> list[int]:
        """Several webhooks' pushes in one transaction (group commit); new counts for each.
        StoreUnavailable when the store cannot write."""
        rows: dict[tuple[str, str], dict[str, object]] = {}
        for pushes, received_at in batches:
            for p in pushes:
                for project in (self.route(p) if self.route else [self.project]):
                    rows.setdefault((project, p.key), {
                        "project": project, "key": p.key, "source": p.source,
                        "registry": p.registry, "repository": p.repository, "tag": p.tag,
                        "digest": p.digest, "received_at": received_at, "processed_at": None,
                        "pushed_at": p.pushed_at})
        if not rows:
            return [0] * len(batches)
        # One statement for the batch (every project's rows: one transaction); the keys it
        # returns are the rows that were new.
        stmt = insert_ignoring(self.engine, events).returning(events.c.key)
        with self._tx() as db:
            new = set(db.execute(stmt, list(rows.values())).scalars())
        counts = []
        for pushes, _ in batches:  # a key new in this batch counts for its first webhook
            counts.append(sum(1 for p in pushes if p.key in new))
            new -= {p.key for p in pushes}
        return counts

    def pending_events(self) -> list[tuple[ImagePushed, float]]:
        """Unprocessed pushes with their receive time (epoch seconds), oldest first."""
        with self._read() as db:
            rows = db.execute(select(events).where(self._mine(events),
                                                   events.c.processed_at.is_(None))
                              .order_by(events.c.received_at, events.c.key)).mappings().all()
        return [
            (ImagePushed(r["source"], r["key"].split(":", 1)[1], r["registry"], r["repository"],
                         r["tag"], r["digest"], r["pushed_at"]), r["received_at"])
            for r in rows
        ]

    def skip_events(self, keys: list[str]) -> None:
        """Mark pushes handled that start nothing (images Hoist does not deploy). Not waited
        onto the disk: after a power cut they are only read, and skipped, again."""
        with self._tx(durable=False) as db:
            self._mark_processed(db, keys, time.time())

    def _mark_processed(self, db: Connection, keys: list[str], now: float) -> None:
        if keys:
            db.execute(update(events).where(self._mine(events), events.c.key.in_(keys))
                       .values(processed_at=now))

    def inbox_depth(self) -> int:
        """Pushes and comments stored but not yet handled."""
        return sum(self.pending_counts())

    def pending_counts(self) -> tuple[int, int]:
        """(pushes, comments) stored but not yet handled."""
        with self._read() as db:
            pushes = db.execute(select(func.count()).select_from(events)
                                .where(self._mine(events), events.c.processed_at.is_(None))
                                ).scalar_one()
            said = db.execute(select(func.count()).select_from(comments)
                              .where(self._mine(comments), comments.c.processed_at.is_(None))
                              ).scalar_one()
        return int(pushes), int(said)
