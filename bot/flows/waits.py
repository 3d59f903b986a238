"""Gates that make a promotion wait with nobody to ask: promotion windows and freezes
before a merge, image maturity (`min_age`) before planning. A wait is recorded once (the
API `reason`, a note on the page and in chat) and said once on the change request; the
worker looks again on every pass, so the promotion goes on by itself when the wait ends."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import structlog

from ..adapters.registry import RegistryError
from ..adapters.store import Promotion
from ..core.config import Config, Environment
from ..core.freeze import freeze_rules
from ..core.maturity import Wait, maturity_wait, min_age
from ..core.windows import entries, status
from .services import Services

log = structlog.get_logger()

WAITING = "waiting: "  # how a wait's reason and note start (notices.py tells it)
OVERRIDE = "window override: "  # the note a person's override leaves: `who; reason`


def window_override(services: Services, p: Promotion) -> str | None:
    """`alice; hotfix for incident 42` when a person let this promotion through its
    windows, else None."""
    for t in reversed(services.store.transitions(p.id)):
        if (t["note"] or "").startswith(OVERRIDE):
            return str(t["note"]).removeprefix(OVERRIDE)
    return None


def closed_window(services: Services, env: Environment, p: Promotion) -> bool:
    """True (the wait recorded) while the environment's windows or freezes keep this
    promotion from merging and nobody overrode them for it."""
    rules = entries(env.windows, freeze_rules(env.freeze))
    if not rules or window_override(services, p) is not None:
        return False
    found = status(rules, datetime.now(UTC))
    if found.open:
        return False
    _record(services, p, Wait(found.reason or "window closed", found.opens_at), tell=True)
    return True


def frozen_by_hand(services: Services, env: Environment, p: Promotion, tell: bool) -> bool:
    """True (the wait recorded; said on the change request when `tell`) while a person froze
    the environment (`hoist freeze`, `/hoist freeze`) and nobody overrode it for this
    promotion. It blocks planning and merging; `hoist unfreeze` lifts it."""
    freeze = services.store.freeze_of(env.name)
    if freeze is None or window_override(services, p) is not None:
        return False
    _record(services, p, Wait(f"frozen by {freeze.by}: {freeze.reason or 'no reason given'}",
                              None), tell=tell)
    return True


def immature(services: Services, config: Config, env: Environment, p: Promotion) -> bool:
    """True (the wait recorded) while an image of the promotion is younger than its
    `min_age`. Its age counts from the registry's push time, else the image's build time
    (its config blob), else Hoist's receipt of the push."""
    ages = []
    for member in p.members:
        need = min_age(config, env, member.image_key)
        if need:
            ages.append((member.image_key, _born(services, config, p, member.image_key), need))
    wait = maturity_wait(ages, time.time()) if ages else None
    if wait is None:
        return False
    _record(services, p, wait, tell=False)  # before planning: no change request yet
    return True


def _born(services: Services, config: Config, p: Promotion, image_key: str) -> float:
    member = next(m for m in p.members if m.image_key == image_key)
    if member.pushed_at is not None:
        return member.pushed_at
    if services.registry is not None and (member.digest or member.tag):
        try:
            built = services.registry.created(config.images[image_key].repository,
                                              member.digest or member.tag or "")
        except RegistryError as exc:
            log.warning("promotion.age_unknown", id=p.id, image=image_key, error=str(exc))
            built = None
        if built is not None:
            return built
    return p.received_at


def _record(services: Services, p: Promotion, wait: Wait, tell: bool) -> None:
    if not services.store.wait(p.id, WAITING + wait.reason, wait.key):
        return
    log.info("promotion.waiting", id=p.id, env=p.environment, reason=wait.reason)
    cr = services.store.change_request(p.id) if tell else None
    if cr is not None and cr.number is not None:
        services.forge.comment(cr.number, f"Hoist waits to merge: {wait.reason}. It merges "
                                          "on its own then; someone with admin permission "
                                          "may comment `/hoist override-window <reason>` "
                                          "to merge now.")


def done_waiting(services: Services, p: Promotion) -> Promotion:
    """The promotion with a wait's reason cleared, once it goes on."""
    if (p.reason or "").startswith(WAITING):
        return services.store.update(p.id, reason=None)
    return p
