"""A command given from the page by a person signed in with the forge: authorized by the
same rule as a `/hoist` comment (flows/permits.py), carried out by the same code
(flows/commands.carry_out), and told on the change request's thread like a comment's reply,
saying it came from the page — so an approval from the page lands exactly as one from a
comment does (`Hoist-Approved-By` in git names the person)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from ..adapters.store import Promotion
from ..core import commands as chat
from ..core.machine import FINAL, State
from .announce import announce
from .commands import carry_out
from .permits import Standing, permit, standing
from .services import Services

log = structlog.get_logger()
PAGE_COMMANDS = ("approve", "hold", "retry", "abort", "unquarantine")
_HOLDABLE = {State.RECEIVED, State.PLANNED, State.PROPOSED, State.APPROVED}


@dataclass(frozen=True)
class PageOutcome:
    """allowed: the rule let the person give the command (else `reply` says why not);
    done: it took effect; `reply` in ChatOps's words."""

    allowed: bool
    done: bool
    reply: str


def fitting(p: Promotion, quarantined: bool) -> list[str]:
    """The page's commands that fit the promotion's state, in PAGE_COMMANDS order."""
    fits = {"approve": p.state is State.PROPOSED, "hold": p.state in _HOLDABLE,
            "retry": p.state in (State.FAILED, State.HELD),
            "abort": p.state not in FINAL, "unquarantine": quarantined}
    return [name for name in PAGE_COMMANDS if fits[name]]


def who_is(services: Services, p: Promotion, user: str,
           permission: str | None = None) -> Standing:
    """The person's standing for the promotion's environment (one forge read)."""
    approval = services.config().environment(p.environment).approval
    return standing(services, approval, user, permission)


def allowed(services: Services, p: Promotion, names: list[str], who: Standing) -> list[str]:
    """Which of `names` the person may give the promotion now."""
    approval = services.config().environment(p.environment).approval
    return [n for n in names if permit(services, p, chat.Command(n), who, approval).allowed]


def act(services: Services, promotion_id: str, name: str, user: str,
        permission: str | None = None) -> PageOutcome:
    """Give promotion `promotion_id` the command `name` as `user` from the page. KeyError for
    an unknown promotion; ValueError for a command the page does not offer."""
    if name not in PAGE_COMMANDS:
        raise ValueError(f"no command {name!r} on the page; one of {', '.join(PAGE_COMMANDS)}")
    p = services.store.promotion(promotion_id)
    approval = services.config().environment(p.environment).approval
    who = standing(services, approval, user, permission)
    decision = permit(services, p, chat.Command(name), who, approval)
    if not decision.allowed:
        log.info("page.refused", id=p.id, user=user, command=name, reason=decision.reason)
        return PageOutcome(False, False, f"refused: {decision.reason}.")
    reply, done = carry_out(services, p, chat.Command(name), user)
    log.info("page.command", id=p.id, user=user, command=name, outcome=reply)
    cr = services.store.change_request(p.id)
    if cr is not None and cr.number is not None:
        verb = {"approve": "approved", "hold": "held", "retry": "retried",
                "abort": "aborted", "unquarantine": "unquarantined"}[name]
        said = f"@{user} {verb} this from Hoist's page" if done else \
            f"@{user} asked Hoist's page to {name}"
        services.forge.comment(cr.number, f"{said}: {reply}")
    announce(services, p, services.store.promotion(p.id))
    return PageOutcome(True, done, reply)
