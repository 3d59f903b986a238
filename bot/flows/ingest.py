"""Turn stored pushes into promotions: match images, apply each image's tag policy, let a
burst of pushes settle and keep the newest allowed one per image, check platforms, start
the first environments. The images of a release train settle together: every member pushed
within the train's window travels in one promotion per environment."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import replace

import structlog

from ..adapters.registry import RegistryError
from ..core.config import Config, ImageConfig
from ..core.events import ImagePushed
from ..core.members import Member
from ..core.policy import first_environments, matching_images
from ..core.tags import decide_tag, newest, valid_digest
from .services import Services
from .start import start_promotions
from .verify import recheck_held

log = structlog.get_logger()

Push = tuple[str, ImagePushed, float]  # (image key, push, received at)


def ingest_pending(services: Services, now: float | None = None) -> int:
    """Process every settled burst of pending pushes; returns how many promotions started.
    A burst of one image is settled once no push for it arrived within its `coalesce`; a
    train's, once its `window` has passed since the burst's first push."""
    now = time.time() if now is None else now
    config = services.config()
    bursts: dict[str, list[Push]] = defaultdict(list)  # by lane: a train's name or an image key
    unmatched: dict[str, str] = {}  # event key -> image name
    for pushed, received_at in services.store.pending_events():
        keys = matching_images(config, pushed)
        if not keys:
            unmatched[pushed.key] = pushed.image_name
        for key in keys:
            bursts[config.train_of(key) or key].append((key, pushed, received_at))
    if unmatched:  # one line per pass: a busy registry pushes many images Hoist ignores
        log.info("push.unmatched", count=len(unmatched), images=sorted(set(unmatched.values()))[:20])
        services.store.skip_events(list(unmatched))
    started = 0
    for lane, burst in bursts.items():
        if not _settled(config, lane, [received for _, _, received in burst], now):
            continue  # the burst may not be over yet
        started += _ingest_burst(services, config, lane, burst)
    return started


def _settled(config: Config, lane: str, received: list[float], now: float) -> bool:
    if lane in config.trains:
        return now - min(received) >= config.trains[lane].window
    return now - max(received) >= config.images[lane].coalesce


def _ingest_burst(services: Services, config: Config, lane: str, burst: list[Push]) -> int:
    members: list[Member] = []
    received_at, event_key = 0.0, None
    pushed_keys = {key for key, _, _ in burst}
    # A train's members in hoist.yaml's order, however their pushes arrived.
    order = config.train_members(lane) if lane in config.trains else [lane]
    for key in [k for k in order if k in pushed_keys]:
        found = _winner(services, key, config.images[key],
                        [(p, r) for k, p, r in burst if k == key])
        if found is not None:
            pushed, at = found
            members.append(Member(key, config.images[key].repository, pushed.tag,
                                  pushed.digest, pushed.pushed_at))
            if at >= received_at:
                received_at, event_key = at, pushed.key
    event_keys = list(dict.fromkeys(pushed.key for _, pushed, _ in burst))
    train = lane if lane in config.trains else None
    if train is not None and members:
        log.info("push.train_settled", train=train, images=[m.image_key for m in members],
                 pushes=len(event_keys))
    recheck_held(services, lane)  # a re-push checks signatures again (flows/verify.py)
    environments = first_environments(config, [m.image_key for m in members])
    created = start_promotions(services, members, environments, train, received_at, event_key,
                               event_keys, refuse_downgrades=True)
    for p in created:
        log.info("promotion.received", id=p.id, image=p.image_key, tag=p.tag, env=p.environment,
                 members=len(p.members))
    return len(created)


def _winner(services: Services, key: str, image: ImageConfig,
            burst: list[tuple[ImagePushed, float]]) -> tuple[ImagePushed, float] | None:
    """The push of the burst that moves image `key`: the newest its tag policy allows, not
    quarantined, offering every required platform; None when no push may move it."""
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
    if not allowed:
        return None
    winner_tag = newest(image.tags, [p.tag or "" for p, _ in allowed])
    pushed, received_at = [(p, r) for p, r in allowed if p.tag == winner_tag][-1]
    if len(burst) > 1:
        log.info("push.coalesced", image=key, pushes=len(burst), tag=winner_tag)
    if image.platforms and not _has_platforms(services, image, pushed):
        return None
    return pushed, received_at


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
