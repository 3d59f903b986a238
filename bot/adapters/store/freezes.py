"""Ad-hoc freezes of environments, kept in the store so every replica sees them."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, select

from .base import StoreBase
from .engine import upsert
from .tables import freezes


@dataclass(frozen=True)
class Freeze:
    """An environment frozen by a person: who, why, since when (epoch seconds)."""

    environment: str
    by: str
    reason: str
    at: float


class Freezes(StoreBase):
    def freeze(self, environment: str, by: str, reason: str) -> Freeze:
        """Freeze `environment` (again: the newest reason wins); returns the freeze."""
        found = Freeze(environment, by, reason, time.time())
        with self._tx() as db:
            db.execute(upsert(self.engine, freezes, ["project", "environment"], {
                "project": self.project, "environment": environment, "by": by, "reason": reason,
                "at": found.at}))
        return found

    def unfreeze(self, environment: str) -> bool:
        """Lift the freeze; False when the environment was not frozen."""
        with self._tx() as db:
            gone = db.execute(delete(freezes).where(self._mine(freezes),
                                                      freezes.c.environment == environment))
        return bool(gone.rowcount)

    def freeze_of(self, environment: str) -> Freeze | None:
        """The environment's ad-hoc freeze, or None."""
        with self._read() as db:
            row = db.execute(select(freezes).where(self._mine(freezes),
                                                  freezes.c.environment == environment)
                             ).first()
        return None if row is None else Freeze(row.environment, row.by, row.reason, row.at)
