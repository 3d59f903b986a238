"""Remarks on a promotion that leave its state as it is: why it waits (a window, image
maturity), and a person's window override. Each is a transition row from a state to
itself, like an approval, so the page, the notices and the audit trail see it."""

from __future__ import annotations

import time
from collections.abc import Collection

from sqlalchemy import insert, select, update

from ...core.machine import State
from .base import StoreBase
from .tables import promotions, transitions


class Remarks(StoreBase):
    def wait(self, pid: str, reason: str, key: str) -> bool:
        """Record that the promotion waits (its `reason`, and a note saying so), unless its
        reason already holds `key` (the same wait, told once). True when recorded; KeyError
        for an unknown id."""
        now = time.time()
        with self._tx() as db:
            row = db.execute(select(promotions.c.state, promotions.c.reason)
                             .where(promotions.c.id == pid, self._mine(promotions))
                             .with_for_update()).first()
            if row is None:
                raise KeyError(pid)
            if row.reason and key in row.reason:
                return False
            db.execute(update(promotions).where(promotions.c.id == pid)
                       .values(reason=reason, updated_at=now))
            db.execute(insert(transitions).values(promotion_id=pid, from_state=row.state,
                                                  to_state=row.state, at=now, note=reason))
        return True

    def remark(self, pid: str, note: str, states: Collection[State]) -> None:
        """Record `note` on a promotion in one of `states`; KeyError for an unknown id,
        ValueError naming its state otherwise."""
        now = time.time()
        with self._tx() as db:
            row = db.execute(select(promotions.c.state).where(
                promotions.c.id == pid, self._mine(promotions)).with_for_update()).first()
            if row is None:
                raise KeyError(pid)
            if State(row.state) not in states:
                raise ValueError(f"promotion {pid} is {row.state}")
            db.execute(update(promotions).where(promotions.c.id == pid).values(updated_at=now))
            db.execute(insert(transitions).values(promotion_id=pid, from_state=row.state,
                                                  to_state=row.state, at=now, note=note))
