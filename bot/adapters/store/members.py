"""The images each promotion carries (one, or a release train's members), in a table of
their own: which version of an image an environment runs is answered whatever carried it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, desc, insert, select, update
from sqlalchemy.engine import Connection

from ...core.machine import State
from ...core.members import Member
from .base import StoreBase
from .records import Promotion, row_to_promotion
from .tables import promotion_members, promotions

_CHUNK = 500  # ids per IN (...): under SQLite's bound-parameter limit


class Members(StoreBase):
    @staticmethod
    def _write_members(db: Connection, pid: str, members: Sequence[Member]) -> None:
        """Replace the promotion's members; a promotion of one image (not a train) keeps
        its own tag and digest columns in step (the API shows them)."""
        db.execute(delete(promotion_members).where(promotion_members.c.promotion_id == pid))
        db.execute(insert(promotion_members), [
            {"promotion_id": pid, "position": i, "image_key": m.image_key,
             "repository": m.repository, "tag": m.tag, "digest": m.digest,
             "pushed_at": m.pushed_at}
            for i, m in enumerate(members)])
        if len(members) == 1:
            db.execute(update(promotions).where(promotions.c.id == pid,
                                                promotions.c.train.is_(None))
                       .values(tag=members[0].tag, digest=members[0].digest))

    @staticmethod
    def _with_members(db: Connection, rows: Sequence[Mapping[Any, Any]]) -> list[Promotion]:
        """The promotions of these rows, each with its members."""
        ids = [row["id"] for row in rows]
        found: dict[str, list[Member]] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            for m in db.execute(select(promotion_members)
                                .where(promotion_members.c.promotion_id.in_(chunk))
                                .order_by(promotion_members.c.promotion_id,
                                          promotion_members.c.position)).mappings():
                found.setdefault(m["promotion_id"], []).append(
                    Member(m["image_key"], m["repository"], m["tag"], m["digest"],
                           m["pushed_at"]))
        return [row_to_promotion(row, found.get(row["id"], ())) for row in rows]

    def current_tag(self, image_key: str, environment: str) -> str | None:
        """The tag last merged for an image in an environment, if any, whether it moved
        alone or in a train."""
        with self._read() as db:
            row = db.execute(
                select(promotion_members.c.tag)
                .join(promotions, promotions.c.id == promotion_members.c.promotion_id)
                .where(promotion_members.c.image_key == image_key, self._mine(promotions),
                       promotions.c.environment == environment,
                       promotions.c.state.in_((State.MERGED.value, State.PROMOTED.value)))
                .order_by(desc(promotions.c.updated_at)).limit(1)).first()
        return row.tag if row else None
