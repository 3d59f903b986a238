"""Start the promotions of a set of images (one image, or the members of a release train)
in some environments: one promotion per environment, carrying the members deployed there.
Where the lane's change request is still open, the new promotion carries that set merged
with this one (the newest allowed tag per image) and replaces it on the same branch."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from ..adapters.store import NewPromotion, Promotion
from ..core.config import Environment
from ..core.machine import can_supersede
from ..core.members import Member, merge_members
from ..core.policy import targets_for
from ..core.tags import is_downgrade
from .services import Services

log = structlog.get_logger()


def start_promotions(services: Services, members: Sequence[Member],
                     environments: list[Environment], train: str | None, received_at: float,
                     event_key: str | None, event_keys: Sequence[str] = (),
                     refuse_downgrades: bool = False) -> list[Promotion]:
    """Create the promotions and mark `event_keys` processed, in one transaction; returns
    those created (none for a set an environment already has). An environment that deploys
    none of the members is skipped; one that deploys some carries the whole set, so the
    environments after it receive every member that passed. With `refuse_downgrades` (fresh
    pushes), an image whose tag orders before the one its environment runs is left out
    there."""
    config = services.config()
    policies = {key: image.tags for key, image in config.images.items()}
    new: list[NewPromotion] = []
    for env in environments:
        here = [m for m in members
                if not (refuse_downgrades and _downgrade(services, m, env.name))]
        if not any(targets_for(env, m.image_key) for m in here):
            continue
        lane = train or here[0].image_key
        waiting = open_promotion(services, lane, env.name)
        if waiting is not None:
            here = list(merge_members(policies, waiting.members, here))
        new.append(NewPromotion.of(here, env.name, train, received_at, event_key))
    return services.store.ingest(list(event_keys), new)


def open_promotion(services: Services, lane: str, environment: str) -> Promotion | None:
    """The newest promotion of the lane (an image key or a train's name) in environment that
    a newer set may still replace: not yet merged."""
    waiting = [p for p in services.store.lane_promotions(lane, environment)
               if can_supersede(p.state)]
    return waiting[-1] if waiting else None


def _downgrade(services: Services, member: Member, environment: str) -> bool:
    image = services.config().images[member.image_key]
    current = services.store.current_tag(member.image_key, environment)
    if member.tag is not None and is_downgrade(image.tags, member.tag, current):
        log.info("push.downgrade_refused", image=member.image_key, env=environment,
                 tag=member.tag, current=current)
        return True
    return False
