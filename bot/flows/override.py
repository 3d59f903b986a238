"""A person with admin permission lets one promotion through its environment's windows
and freezes (ChatOps `/hoist override-window`, `hoist override-window`, the API). The merge
commit records it: `Hoist-Window-Override: <who>; <reason>`."""

from __future__ import annotations

import structlog

from ..adapters.store import Promotion, Store
from ..core.machine import State
from ..core.render import name_problem
from .waits import OVERRIDE

log = structlog.get_logger()

# Before the merge: afterwards there is no window left to pass.
OVERRIDABLE = frozenset({State.RECEIVED, State.PLANNED, State.PROPOSED, State.APPROVED,
                         State.HELD})


class NotOverridable(ValueError):
    """The promotion has merged or finished, or the name or reason cannot be recorded."""


def override_window(store: Store, promotion_id: str, who: str, reason: str) -> Promotion:
    """Record the override; the worker merges on its next pass (approvals still count).
    KeyError for an unknown id; NotOverridable with one line saying why otherwise."""
    problem = name_problem(who) or ("the name holds a semicolon (it ends the name in the "
                                    "trailer)" if ";" in who else None)
    if problem:
        raise NotOverridable(f"--by {who!r}: {problem}")
    said = " ".join(reason.split())  # one line: a newline would end the trailer
    if not said:
        raise NotOverridable("give a reason: it is recorded in the merge commit")
    try:
        store.remark(promotion_id, f"{OVERRIDE}{who}; {said}", OVERRIDABLE)
    except ValueError as exc:
        raise NotOverridable(f"{exc}: nothing left to override") from None
    p = store.promotion(promotion_id)
    log.info("promotion.window_overridden", id=p.id, env=p.environment, by=who, reason=said)
    return p
