"""The store's change requests: the local forge's whole truth, and the forge's pull-request
numbers for the others."""

from __future__ import annotations

import time

from sqlalchemy import desc, select, update

from .base import StoreBase
from .engine import insert_ignoring
from .records import ChangeRequest
from .tables import change_requests

# Every column but `project` (the view's own): a ChangeRequest's fields.
_CR = select(*(c for c in change_requests.c if c.name != "project"))


class ChangeRequests(StoreBase):
    def change_request(self, promotion_id: str) -> ChangeRequest | None:
        """The change request of a promotion, if one was recorded."""
        with self._read() as db:
            row = db.execute(_CR.where(
                change_requests.c.promotion_id == promotion_id, self._mine(change_requests))
            ).mappings().first()
        return ChangeRequest(**row) if row else None

    def change_requests(self) -> list[ChangeRequest]:
        """All change requests, oldest first."""
        with self._read() as db:
            rows = db.execute(_CR.where(self._mine(change_requests))
                              .order_by(change_requests.c.id)
                              ).mappings().all()
        return [ChangeRequest(**r) for r in rows]

    def record_change_request(self, promotion_id: str, branch: str, base: str, title: str,
                              body: str, number: int | None = None,
                              url: str | None = None) -> ChangeRequest:
        """Find or create the change request of a promotion."""
        with self._tx() as db:
            db.execute(insert_ignoring(self.engine, change_requests).values(
                promotion_id=promotion_id, branch=branch, base=base, title=title, body=body,
                state="open", created_at=time.time(), number=number, url=url,
                project=self.project))
        found = self.change_request(promotion_id)
        assert found is not None
        return found

    def open_change_requests(self, number: int) -> list[ChangeRequest]:
        """Open change-request records of pull request `number` (one per promotion)."""
        with self._read() as db:
            rows = db.execute(_CR.where(
                change_requests.c.number == number, change_requests.c.state == "open",
                self._mine(change_requests))
                .order_by(change_requests.c.id)).mappings().all()
        return [ChangeRequest(**r) for r in rows]

    def open_change_request_on(self, branch: str, base: str) -> ChangeRequest | None:
        """The newest open change-request record of `branch` into `base`, if any."""
        with self._read() as db:
            row = db.execute(_CR.where(
                change_requests.c.branch == branch, change_requests.c.base == base,
                change_requests.c.state == "open", self._mine(change_requests))
                .order_by(desc(change_requests.c.id)).limit(1)).mappings().first()
        return ChangeRequest(**row) if row else None

    def change_request_history(self, number: int) -> list[ChangeRequest]:
        """Every change-request record of pull request `number`, open or not, oldest first:
        one per promotion it carried, each `created_at` when that promotion proposed its
        content there (epoch seconds)."""
        with self._read() as db:
            rows = db.execute(_CR.where(change_requests.c.number == number,
                                        self._mine(change_requests))
                              .order_by(change_requests.c.id)).mappings().all()
        return [ChangeRequest(**r) for r in rows]

    def promotion_id_for_number(self, number: int) -> str | None:
        """The id of the newest promotion whose change request is pull request `number`."""
        with self._read() as db:
            row = db.execute(select(change_requests.c.promotion_id)
                             .where(change_requests.c.number == number,
                                    self._mine(change_requests))
                             .order_by(desc(change_requests.c.id)).limit(1)).first()
        return row.promotion_id if row else None

    def close_change_request(self, promotion_id: str, state: str, merge_sha: str | None) -> None:
        """Mark a change request merged or closed."""
        with self._tx() as db:
            db.execute(update(change_requests)
                       .where(change_requests.c.promotion_id == promotion_id,
                              self._mine(change_requests))
                       .values(state=state, merged_at=time.time(), merge_sha=merge_sha))
