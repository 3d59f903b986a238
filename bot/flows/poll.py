"""Registry polling, for registries that cannot call and for webhook deliveries that were
lost: list each due repository's tags, resolve new tags' digests and feed them into the
same inbox as webhooks. A push that arrives both ways is one promotion: promotions are
unique per repository, version and environment (store.ingest)."""

from __future__ import annotations

import time

import structlog

from ..adapters.registry import RegistryBusy, RegistryError, RepositoryUnknown
from ..adapters.store import PollCursor
from ..core.events import ImagePushed
from ..core.polling import backoff, new_tags, poll_intervals
from .services import Services

log = structlog.get_logger()

# New tags resolved per repository and pass: a first poll after a long outage (hundreds of
# CI tags) is spread over several passes instead of one long burst of HEAD requests.
MAX_NEW_PER_PASS = 50


def poll_registries(services: Services, now: float | None = None) -> int:
    """Poll every repository whose time has come (HOIST_POLL_REGISTRIES on, and the image's
    `poll:` or the default interval); returns how many pushes were fed to the inbox.
    Registry trouble backs that repository off (logged) instead of raising."""
    if not services.polling.enabled or services.registry is None:
        return 0
    now = time.time() if now is None else now
    fed = 0
    for repository, interval in poll_intervals(services.config(), services.polling).items():
        # Claimed until one interval from now: a process that dies mid-poll is not retried
        # sooner, and a replica sharing the store skips it meanwhile.
        cursor = services.store.claim_poll(repository, now, now + interval)
        if cursor is not None:
            fed += _poll(services, cursor, interval, now)
    return fed


def _poll(services: Services, cursor: PollCursor, interval: float, now: float) -> int:
    assert services.registry is not None
    repository = cursor.repository
    try:
        listed = services.registry.tags(repository)
        if cursor.seen is None:
            # The first listing is the baseline: tags pushed before Hoist polled are history,
            # not pushes (a webhook would not have told of them either).
            services.store.finish_poll(repository, dict.fromkeys(listed), now + interval)
            log.info("poll.baseline", repository=repository, tags=len(listed))
            return 0
        fresh = new_tags(cursor.seen, listed)
        pushes = _resolve(services, repository, fresh[:MAX_NEW_PER_PASS])
    except RegistryError as exc:
        retry_after = exc.retry_after if isinstance(exc, RegistryBusy) else None
        wait = backoff(interval, cursor.failures + 1, retry_after)
        services.store.defer_poll(repository, now + wait, cursor.failures + 1)
        log.warning("poll.backoff", repository=repository, reason=str(exc),
                    seconds=round(wait, 1), failures=cursor.failures + 1)
        return 0
    # Inbox first, cursor second: a crash in between feeds the same pushes again, and the
    # inbox ignores a push it already holds (same key).
    fed = services.store.add_events(pushes, now) if pushes else 0
    seen = {tag: cursor.seen.get(tag) for tag in listed if tag in cursor.seen}
    seen |= {p.tag: p.digest for p in pushes if p.tag is not None}
    more = len(fresh) > MAX_NEW_PER_PASS
    services.store.finish_poll(repository, seen, now if more else now + interval)
    if pushes:
        log.info("poll.found", repository=repository, tags=[p.tag for p in pushes][:20],
                 new=fed, more=more)
    return fed


def _resolve(services: Services, repository: str, tags: list[str]) -> list[ImagePushed]:
    """A push per tag with its digest (one HEAD each); a tag deleted meanwhile is skipped."""
    assert services.registry is not None
    host, _, path = repository.partition("/")
    pushes = []
    for tag in tags:
        try:
            digest = services.registry.digest(repository, tag)
        except RepositoryUnknown:
            continue
        pushes.append(ImagePushed("poll", f"{repository}:{tag}@{digest}", host, path, tag,
                                  digest))
    return pushes
