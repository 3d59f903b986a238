"""The store's rendered differences: one JSON record per promotion (core/rendering/model.py
`Rendered.to_json()`), written when the promotion is planned, read by the change request,
the page and the API."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from .base import StoreBase
from .engine import upsert
from .tables import rendered


class Renders(StoreBase):
    def record_rendered(self, promotion_id: str, data: dict[str, Any]) -> None:
        """Keep (or replace) the rendered difference of a promotion."""
        with self._tx() as db:
            db.execute(upsert(self.engine, rendered, ["promotion_id"], {
                "promotion_id": promotion_id, "data": json.dumps(data), "at": time.time()}))

    def rendered(self, promotion_id: str) -> dict[str, Any] | None:
        """The rendered difference of a promotion, if it was rendered."""
        with self._read() as db:
            row = db.execute(select(rendered.c.data).where(
                rendered.c.promotion_id == promotion_id)).first()
        return json.loads(row.data) if row else None
