"""Turn stored pushes into promotions: match images, apply the tag policy, let a burst of
pushes settle and keep the newest allowed one, check platforms, start the first
environments."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import replace

import structlog

from ..adapters.registry import RegistryError
from ..adapters.store import NewPromotion
from ..core.config import ImageConfig
from ..core.events import ImagePushed
from ..core.policy import first_environments, matching_images
from ..core.tags import decide_tag, is_downgrade, newest, valid_digest
from .services import Services

log = structlog.get_logger()


def ingest_pending(services: Services, now: float | None = None) -> int:
    """Process every settled burst of pending pushes; returns how many promotions started.
    A burst is settled once no push for its image arrived within the image's `coalesce`."""
    now = time.time() if now is None else now
    config = services.config()
    bursts: dict[str, list[tuple[ImagePushed, float]]] = defaultdict(list)
    unmatched: dict[str, str] = {}  # event key -> image name
    for pushed, received_at in services.store.pending_events():
        keys = matching_images(config, pushed)
        if not keys:
            unmatched[pushed.key] = pushed.image_name
        for key in keys:
            bursts[key].append((pushed, received_at))
    if unmatched:  # one line per pass: a busy registry pushes many images Hoist ignores
        log.info("push.unmatched", count=len(unmatched), images=sorted(set(unmatched.values()))[:20])
        services.store.skip_events(list(unmatched))
    started = 0
    for key, burst in bursts.items():
        image = config.images[key]
        if now - max(received for _, received in burst) < image.coalesce:
            continue  # the burst may not be over yet
        started += _ingest_burst(services, key, image, burst)
    return started


def _ingest_burst(services: Services, key: str, image: ImageConfig,
                  burst: list[tuple[ImagePushed, float]]) -> int:
    allowed: list[tuple[ImagePushed, float]] = []
    for pushed, received_at in burst:
        # Vendors' payloads can hold masked or truncated digests: never write those.
        if pushed.digest is not None and not valid_digest(pushed.digest):
            pushed = replace(pushed, digest=None)
        decision = decide_tag(image, pushed.tag, pushed.digest)
        quarantined = services.store.quarantined(image.repository, pushed.digest)
        if quarantined:
            log.info("push.refused", image=key, tag=pushed.tag,
                     reason=f"digest quarantined: {quarantined}")
        elif decision.allowed:
            allowed.append((pushed, received_at))
        else:
            log.info("push.refused", image=key, tag=pushed.tag, reason=decision.reason)
    event_keys = [pushed.key for pushed, _ in burst]
    if not allowed:
        services.store.ingest(event_keys, [])
        return 0
    winner_tag = newest(image.tags, [p.tag or "" for p, _ in allowed])
    pushed, received_at = [(p, r) for p, r in allowed if p.tag == winner_tag][-1]
    if len(burst) > 1:
        log.info("push.coalesced", image=key, pushes=len(burst), tag=winner_tag)
    if image.platforms and not _has_platforms(services, image, pushed):
        services.store.ingest(event_keys, [])
        return 0
    new = []
    for env in first_environments(services.config(), key):
        current = services.store.current_tag(key, env.name)
        if is_downgrade(image.tags, winner_tag, current):
            log.info("push.downgrade_refused", image=key, env=env.name, tag=winner_tag,
                     current=current)
            continue
        new.append(NewPromotion(key, env.name, image.repository, pushed.tag, pushed.digest,
                                received_at, pushed.key))
    created = services.store.ingest(event_keys, new)
    for p in created:
        log.info("promotion.received", id=p.id, image=p.image_key, tag=p.tag, env=p.environment)
    return len(created)


def _has_platforms(services: Services, image: ImageConfig, pushed: ImagePushed) -> bool:
    """Does the pushed image offer every required platform? Registry trouble is raised, so
    the pushes stay pending and are tried again."""
    if services.registry is None:
        raise RegistryError("platforms are required but no registry client is configured")
    offered = services.registry.platforms(image.repository, pushed.digest or pushed.tag or "")
    missing = [p for p in image.platforms
               if not any(o == p or o.startswith(p + "/") for o in offered)]
    if missing:
        log.info("push.refused", image=pushed.image_name, tag=pushed.tag,
                 reason=f"missing platforms {missing}; offers {sorted(offered)}")
        return False
    return True
