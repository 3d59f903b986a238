"""One forge request budget for every replica, kept in the store.

GitHub's primary limit is what its `X-RateLimit-Remaining` / `X-RateLimit-Reset` headers
last said; its secondary limits allow at most 80 content-creating requests a minute and 500
an hour ("Rate limits for the REST API", docs.github.com). Every replica counts its writes
here before making them, so together they stay inside both."""

from __future__ import annotations

import time

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from .base import StoreBase
from .engine import insert_ignoring, upsert
from .tables import forge_writes, rate_limits

# (window in seconds, content-creating requests allowed in it)
SECONDARY_LIMITS = ((60.0, 80), (3600.0, 500))


class RateBudget(StoreBase):
    def take_write(self, forge: str, now: float | None = None,
                   limits: tuple[tuple[float, int], ...] = SECONDARY_LIMITS) -> float:
        """Count one content-creating request to `forge` if every window has room: 0.0.
        Otherwise count nothing and return the seconds to wait before asking again."""
        now = time.time() if now is None else now
        with self._tx() as db:
            self._lock(db, forge, now)
            wait = 0.0
            for window, quota in limits:
                times = db.execute(select(forge_writes.c.at).where(
                    self._mine(forge_writes), forge_writes.c.forge == forge,
                    forge_writes.c.at > now - window)
                    .order_by(forge_writes.c.at)).scalars().all()
                if len(times) >= quota:  # room again once the oldest counted one leaves
                    wait = max(wait, times[len(times) - quota] + window - now)
            if wait > 0:
                return wait
            db.execute(insert(forge_writes).values(project=self.project, forge=forge, at=now))
            db.execute(delete(forge_writes).where(self._mine(forge_writes),
                                                  forge_writes.c.forge == forge,
                                                  forge_writes.c.at < now - 3600.0))
        return 0.0

    def _lock(self, db: Connection, forge: str, now: float) -> None:
        """Serialize budget checks across replicas on the forge's row (SQLite's write lock
        already does)."""
        db.execute(insert_ignoring(self.engine, rate_limits).values(
            project=self.project, forge=forge, quota=None, remaining=None, reset_at=None, updated_at=now))
        db.execute(select(rate_limits.c.forge).where(self._mine(rate_limits),
                                                     rate_limits.c.forge == forge)
                   .with_for_update())

    def observe_primary(self, forge: str, remaining: int, quota: int, reset_at: float) -> None:
        """Record the forge's primary limit as its last response reported it."""
        with self._tx() as db:
            db.execute(upsert(self.engine, rate_limits, ["project", "forge"], {
                "project": self.project, "forge": forge, "quota": quota, "remaining": remaining,
                "reset_at": reset_at,
                "updated_at": time.time()}))

    def primary_wait(self, forge: str, now: float | None = None) -> float:
        """Seconds until the primary limit resets, when the forge said none is left; else 0."""
        now = time.time() if now is None else now
        with self._read() as db:
            row = db.execute(select(rate_limits.c.remaining, rate_limits.c.reset_at)
                             .where(self._mine(rate_limits), rate_limits.c.forge == forge)
                             ).first()
        if row is None or row.remaining is None or row.remaining > 0 or row.reset_at is None:
            return 0.0
        return max(0.0, float(row.reset_at) - now)

    def budget(self, now: float | None = None,
               limits: tuple[tuple[float, int], ...] = SECONDARY_LIMITS
               ) -> dict[tuple[str, str], float]:
        """What is left, by (forge, limit): `primary` as last reported, and
        `secondary_60s` / `secondary_3600s` for the content-creating windows."""
        now = time.time() if now is None else now
        found: dict[tuple[str, str], float] = {}
        with self._read() as db:
            for row in db.execute(select(rate_limits).where(self._mine(rate_limits))).mappings():
                if row["remaining"] is not None:
                    found[(row["forge"], "primary")] = float(row["remaining"])
                for window, quota in limits:
                    used = db.execute(select(func.count()).select_from(forge_writes).where(
                        self._mine(forge_writes), forge_writes.c.forge == row["forge"],
                        forge_writes.c.at > now - window)).scalar_one()
                    found[(row["forge"], f"secondary_{window:g}s")] = float(quota - used)
        return found
