"""Leases: a unit of work (`lane:<image>/<environment>`, `inbox`, `reconcile`, ...) is held
by one worker until its lease expires, unless renewed. A worker that dies stops renewing,
and another takes the work over once the lease has expired."""

from __future__ import annotations

import time

from sqlalchemy import case, or_, select, update

from .base import StoreBase
from .engine import insert_ignoring
from .tables import leases


def lane_name(image_key: str, environment: str) -> str:
    """The lease of one image's promotions in one environment: whoever holds it is the only
    one moving them (and superseding them)."""
    return f"lane:{image_key}/{environment}"


class Leases(StoreBase):
    def claim(self, names: list[str], holder: str, ttl: float,
              ran_before: float | None = None) -> str | None:
        """The first of `names` (in the order given) that nobody holds, now held by `holder`
        for `ttl` seconds; None when every one is held. With `ran_before` (epoch seconds),
        only a lease whose work last ran before then (or never) is taken: a periodic pass.

        PostgreSQL reads the candidates `FOR UPDATE SKIP LOCKED`, so workers claiming at
        the same moment each get a different one without waiting on each other; SQLite
        runs the claim inside `BEGIN IMMEDIATE` (one writer at a time), which is as atomic.
        """
        if not names:
            return None
        now = time.time()
        if not self._any_free(names, holder, now, ran_before):
            return None  # all held: no write transaction (SQLite's one writer is busy enough)
        with self._tx(durable=False) as db:
            known = set(db.execute(select(leases.c.name).where(
                self._mine(leases), leases.c.name.in_(names)))
                        .scalars())
            missing = [n for n in dict.fromkeys(names) if n not in known]
            if missing:
                db.execute(insert_ignoring(self.engine, leases),
                           [{"project": self.project, "name": n, "holder": None, "expires_at": 0.0,
                             "last_run": None}
                            for n in missing])
            query = select(leases.c.name).where(
                self._mine(leases), leases.c.name.in_(names),
                or_(leases.c.expires_at < now, leases.c.holder == holder))
            if ran_before is not None:
                query = query.where(or_(leases.c.last_run.is_(None),
                                        leases.c.last_run < ran_before))
            rank = case({n: i for i, n in enumerate(names)}, value=leases.c.name)
            row = db.execute(query.order_by(rank).limit(1)
                             .with_for_update(skip_locked=True)).first()
            if row is None:
                return None
            db.execute(update(leases).where(self._mine(leases), leases.c.name == row.name)
                       .values(holder=holder, expires_at=now + ttl))
            return str(row.name)

    def _any_free(self, names: list[str], holder: str, now: float,
                  ran_before: float | None) -> bool:
        """A read-only look: might one of names be claimable? (A name without a row is.)"""
        with self._read() as db:
            rows = db.execute(select(leases.c.name, leases.c.holder, leases.c.expires_at,
                                     leases.c.last_run).where(
                self._mine(leases), leases.c.name.in_(names))).all()
        if len(rows) < len(set(names)):
            return True
        return any((r.expires_at < now or r.holder == holder) and
                   (ran_before is None or r.last_run is None or r.last_run < ran_before)
                   for r in rows)

    def renew(self, holder: str, names: list[str], ttl: float) -> list[str]:
        """Extend `holder`'s leases on names by ttl seconds from now; returns the names it
        no longer holds (taken over by another worker after expiring)."""
        if not names:
            return []
        with self._tx(durable=False) as db:
            db.execute(update(leases).where(self._mine(leases), leases.c.name.in_(names),
                                            leases.c.holder == holder)
                       .values(expires_at=time.time() + ttl))
            held = set(db.execute(select(leases.c.name).where(
                self._mine(leases), leases.c.name.in_(names), leases.c.holder == holder)).scalars())
        return [n for n in names if n not in held]

    def release(self, name: str, holder: str, ran_at: float | None = None) -> None:
        """Give a lease up (if still held by `holder`) so another worker may take it at
        once; `ran_at` records when its periodic work last ran."""
        values: dict[str, object] = {"holder": None, "expires_at": 0.0}
        if ran_at is not None:
            values["last_run"] = ran_at
        with self._tx(durable=False) as db:
            db.execute(update(leases).where(self._mine(leases), leases.c.name == name,
                                            leases.c.holder == holder)
                       .values(**values))

    def holders(self) -> dict[str, tuple[str | None, float]]:
        """Every lease: name -> (holder, expires_at). For tests and operators."""
        with self._read() as db:
            rows = db.execute(select(leases.c.name, leases.c.holder, leases.c.expires_at)
                              .where(self._mine(leases))).all()
        return {r.name: (r.holder, r.expires_at) for r in rows}
