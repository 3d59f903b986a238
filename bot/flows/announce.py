"""Tell people and the forge what happened to a promotion. The flows call `announce` with a
promotion before and after a step; what was recorded in between becomes notices (chat,
email, …) and deployment statuses (the forge). Nothing here may stop a promotion: the sinks
queue their work and log their own failures, and a failure here is logged and dropped."""

from __future__ import annotations

import time

import structlog

from ..adapters.store import Promotion
from ..core import render
from ..core.images import readable_version
from ..core.machine import State
from ..core.notices import Move, Subject, deployment_updates, lifted, news
from ..core.plan import Plan
from ..core.ways import how_to
from ..telemetry import PROMOTION_SECONDS
from .services import Services

log = structlog.get_logger()


def page_url(services: Services, promotion_id: str) -> str | None:
    """The promotion on Hoist's page, when HOIST_PUBLIC_URL says where people reach it."""
    if not services.public_url:
        return None
    return f"{services.public_url.rstrip('/')}/ui/promotions/{promotion_id}"


def subject_of(services: Services, p: Promotion) -> Subject:
    """What a notice says about a promotion: versions, people, reason and links."""
    cr = services.store.change_request(p.id)
    link = None
    if cr is not None:
        link = cr.url or (f"#{cr.number}" if cr.number is not None else f"local #{cr.id}")
    gate = None
    try:
        env = services.config().environment(p.environment)
        gate = render.gate(env.approval, how_to("approve", p.id, services.forge.name)) \
            if env.gated else None
    except Exception:  # the environment left hoist.yaml, or the config cannot be read now
        pass
    plan = Plan.from_json(p.plan) if p.plan else None
    single = p.members[0] if p.train is None and len(p.members) == 1 else None
    # A train is named for itself; its digests are listed together.
    repository = single.repository if single else f"train {p.image_key}"
    digest = single.digest if single else \
        ", ".join(m.digest for m in p.members if m.digest) or None
    to = (plan.version_to if plan else None) or \
        ((single.tag or single.digest or "?") if single else f"{len(p.members)} images")
    moved: tuple[str, ...] = ()
    if single is None:  # a train: each image from → to (before planning, what was pushed)
        moved = tuple(f"{m.repository} {readable_version(m.old_version) or '(unset)'} → "
                      f"{m.new_version}"
                      for m in plan.images) if plan else \
            tuple(f"{m.repository} → {m.version}" for m in p.members)
    return Subject(p.id, p.image_key, p.environment, repository,
                   plan.version_from if plan else None, to, p.approved_by,
                   p.reason, digest, p.merge_sha, link, page_url(services, p.id), gate, moved,
                   services.forge.name)


def announce(services: Services, before: Promotion, after: Promotion) -> None:
    """Announce every transition recorded since `before` was read (several when one step
    went through several states, e.g. analyzing → reverting → reverted)."""
    if after.updated_at == before.updated_at and after.state == before.state:
        return
    try:
        moves = [Move(State(t["from_state"]) if t["from_state"] else None,
                      State(t["to_state"]), t["at"], t["note"])
                 for t in services.store.transitions(after.id) if t["at"] > before.updated_at]
        if not moves:
            return
        subject = subject_of(services, after)
        quarantined = next(filter(None, (services.store.quarantined(m.repository, m.digest)
                                         for m in after.members)), None)
        for notice in news(moves, subject, quarantined):
            services.notify(notice)
        if any(m.target is State.PROMOTED for m in moves):
            PROMOTION_SECONDS.labels(after.environment).observe(time.time() - after.received_at)
        updates = deployment_updates(moves, subject)
        if services.deployments is not None and after.merge_sha and updates:
            services.deployments.report(subject, updates)
    except Exception as exc:  # telling people must never stop the promotion itself
        log.warning("announce.failed", id=after.id, error=str(exc))


def announce_lifted(services: Services, p: Promotion, who: str) -> None:
    """A person lifted the quarantine of the promotion's digest."""
    try:
        services.notify(lifted(subject_of(services, p), who))
    except Exception as exc:
        log.warning("announce.failed", id=p.id, error=str(exc))
