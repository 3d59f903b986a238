"""Turn a stored push into promotions for the environments it starts."""

from __future__ import annotations

import structlog

from ..adapters.store import NewPromotion, Promotion
from ..core.events import ImagePushed
from ..core.policy import decide_tag, first_environments, matching_images
from .services import Services

log = structlog.get_logger()


def ingest_push(services: Services, pushed: ImagePushed, received_at: float) -> list[Promotion]:
    """Create a promotion per (image, first environment) the push moves; mark it processed."""
    config = services.config()
    new: list[NewPromotion] = []
    for key in matching_images(config, pushed):
        decision = decide_tag(config.images[key], pushed.tag)
        if not decision.allowed:
            log.info("push.ignored", image=key, tag=pushed.tag, reason=decision.reason)
            continue
        new += [
            NewPromotion(key, env.name, config.images[key].repository, pushed.tag, pushed.digest,
                         received_at, pushed.key)
            for env in first_environments(config, key)
        ]
    if not new:
        log.info("push.unmatched", image=pushed.image_name, tag=pushed.tag)
    created = services.store.ingest(pushed.key, new)
    for p in created:
        log.info("promotion.received", id=p.id, image=p.image_key, tag=p.tag, env=p.environment)
    return created
