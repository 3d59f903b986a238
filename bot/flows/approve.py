"""A person approves a promotion that waits for approval."""

from __future__ import annotations

import structlog

from ..adapters.store import Promotion, Store
from ..core.machine import State

log = structlog.get_logger()


class NotApprovable(ValueError):
    """The promotion is not waiting for approval."""


def approve(store: Store, promotion_id: str, who: str) -> Promotion:
    """Record an approval; the worker merges it next. KeyError for an unknown id."""
    p = store.promotion(promotion_id)
    if p.state is not State.PROPOSED:
        raise NotApprovable(f"promotion {promotion_id} is {p.state}, not waiting for approval")
    approvers = tuple(dict.fromkeys((*p.approved_by, who)))
    p = store.transition(p.id, State.APPROVED, note=f"approved by {who}", approved_by=approvers)
    log.info("promotion.approved", id=p.id, env=p.environment, by=who)
    return p
