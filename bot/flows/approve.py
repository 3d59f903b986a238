"""A person approves a promotion that waits for approval (CLI, API, or ChatOps)."""

from __future__ import annotations

import structlog

from ..adapters.store import Promotion, Store
from ..core.render import name_problem

log = structlog.get_logger()


class NotApprovable(ValueError):
    """The promotion is not waiting for approval, or this person already approved it."""


class BadName(NotApprovable):
    """The approver's name cannot be recorded in a trailer; the message says why."""


def approve(store: Store, promotion_id: str, who: str) -> Promotion:
    """Record an approval; once enough people approved, the worker merges. KeyError for an
    unknown id; BadName for a name with a comma, newline or control character."""
    problem = name_problem(who)
    if problem:
        raise BadName(f"X-Hoist-User / --by {who!r}: {problem}")
    try:
        p = store.add_approval(promotion_id, who)
    except ValueError as exc:
        raise NotApprovable(str(exc)) from None
    log.info("promotion.approved", id=p.id, env=p.environment, by=who,
             approvals=len(p.approved_by))
    return p
