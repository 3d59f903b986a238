"""Webhook routes: verify, parse, store durably, answer; the worker does the rest."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ..adapters.store import Store
from ..adapters.store.group_commit import GroupCommit
from ..core.events import ImagePushed, PullRequestActivity
from ..settings import Settings
from ..sources import (
    AuthError,
    PayloadError,
    Source,
    azure_devops_events,
    bitbucket_datacenter_events,
    bitbucket_events,
    gitea_events,
    gitlab_events,
    lower_headers,
    sns_confirmation_url,
)
from ..sources.base import QUERY_TOKEN_HEADER
from ..sources.forge_push import BranchPushed, branch_pushed
from ..sources.ghcr import GhcrSource
from ..sources.github_events import pull_request_activity
from .bodies import BODY_TIMEOUT, REFUSED_TYPES, json_kind, read_limited
from .errors import LoggedRefusals, error
from .metrics import Metrics
from .openapi import (
    AZURE_DEVOPS_WEBHOOK,
    BITBUCKET_DC_WEBHOOK,
    BITBUCKET_WEBHOOK,
    GITEA_WEBHOOK,
    GITHUB_WEBHOOK,
    GITLAB_WEBHOOK,
    REGISTRY_WEBHOOK,
)

log = structlog.get_logger()


def webhook_router(settings: Settings, store: Store, sources: dict[str, Source],
                   metrics: Metrics, wake: Callable[[], None],
                   confirm_sns: Callable[[str], None],
                   refresh: Callable[[], None] = lambda: None) -> APIRouter:
    """Routes /webhooks/registry/{source}, /webhooks/github, /webhooks/gitlab,
    /webhooks/gitea, /webhooks/bitbucket, /webhooks/bitbucket-datacenter and
    /webhooks/azure-devops; `refresh` is called when a forge push moved a default branch."""
    router = APIRouter(route_class=LoggedRefusals)

    async def read(request: Request, source: str) -> tuple[dict[str, str], bytes] | JSONResponse:
        content_type = request.headers.get("content-type", "").lower()
        if content_type.startswith(REFUSED_TYPES):
            metrics.webhooks.labels(source, "bad_content_type").inc()
            return error(400, f"content type {content_type!r} is not JSON; "
                              "configure the webhook to send application/json")
        try:
            body = await read_limited(request)
        except TimeoutError:
            metrics.webhooks.labels(source, "timeout").inc()
            return error(408, f"body not received within {BODY_TIMEOUT:g} s")
        if body is None:
            metrics.webhooks.labels(source, "too_large").inc()
            return error(413, "body larger than 1 MiB")
        headers = lower_headers(request.headers.items())
        if "token" in request.query_params:  # for senders that cannot set a header
            headers[QUERY_TOKEN_HEADER] = request.query_params["token"]
        return headers, body

    def verify(handler: Source, source: str, headers: dict[str, str], body: bytes,
               secret: str | None) -> JSONResponse | None:
        if secret is None:
            return None  # only in a local demo (settings refuse to start otherwise)
        try:
            handler.verify(headers, body, secret)
        except AuthError as exc:
            metrics.webhooks.labels(source, "unauthorized").inc()
            log.warning("webhook.unauthorized", source=source, reason=str(exc))
            return error(401, str(exc))
        return None

    def stored(batch: list[tuple[list[ImagePushed], float]], added: list[int]) -> None:
        # One line per write, not per webhook: at thousands of deliveries a second the log
        # would cost more than the store. Redeliveries are counted in metrics only.
        if sum(added):
            log.info("webhook.accepted", new=sum(added), deliveries=len(batch),
                     sources=sorted({p.source for pushes, _ in batch for p in pushes}))

    # Concurrent webhooks share one transaction and one fsync (group commit).
    inbox: GroupCommit[tuple[list[ImagePushed], float], int] = GroupCommit(
        store.add_event_batches, written=stored)

    async def accept(source: str, pushes: list[ImagePushed], started: float) -> JSONResponse:
        added = await inbox.submit((pushes, time.time()))
        metrics.webhooks.labels(source, "accepted").inc()
        metrics.pushes.labels(source).inc(added)
        metrics.latency.labels(source).observe(time.monotonic() - started)
        if added:
            wake()
        return JSONResponse({"accepted": added, "duplicates": len(pushes) - added,
                             "pushes": [p.to_public_json() for p in pushes]}, status_code=202)

    @router.post("/webhooks/registry/{source}", status_code=202, openapi_extra=REGISTRY_WEBHOOK)
    async def registry_webhook(source: str, request: Request) -> JSONResponse:
        handler = sources.get(source)
        if handler is None:
            return error(404, f"unknown source {source!r}; known: {', '.join(sorted(sources))}")
        started = time.monotonic()
        read_result = await read(request, source)
        if isinstance(read_result, JSONResponse):
            return read_result
        headers, body = read_result
        refused = verify(handler, source, headers, body, settings.webhook_secret)
        if refused:
            return refused
        try:
            pushes = handler.parse(headers, body)
        except PayloadError as exc:
            metrics.webhooks.labels(source, "bad_payload").inc()
            return error(400, str(exc))
        url = sns_confirmation_url(body) if source == "ecr" else None
        if url is not None:
            await run_in_threadpool(confirm_sns, url)
            log.info("webhook.sns_confirmed", source=source)
            return JSONResponse({"confirmed": True})
        return await accept(source, pushes, started)

    @router.post("/webhooks/github", status_code=202, openapi_extra=GITHUB_WEBHOOK)
    async def github_webhook(request: Request) -> JSONResponse:
        secret = settings.github_webhook_secret
        if secret is None and not settings.insecure_demo:
            return error(404, "GitHub webhooks are not enabled: set HOIST_GITHUB_WEBHOOK_SECRET")
        started = time.monotonic()
        read_result = await read(request, "github")
        if isinstance(read_result, JSONResponse):
            return read_result
        headers, body = read_result
        handler = GhcrSource()
        refused = verify(handler, "github", headers, body, secret)
        if refused:
            return refused
        event = headers.get("x-github-event", "")
        if not event:
            return error(400, "missing X-GitHub-Event header")
        if event == "ping":
            return JSONResponse({"pong": True})
        if event == "push":
            return branch_moved("github", body)
        if event in ("issue_comment", "pull_request", "pull_request_review"):
            try:
                activity = pull_request_activity(headers, body)
            except PayloadError as exc:
                return error(400, f"unexpected {event} payload: {exc}")
            return await chatops("github", activity, event)
        if event not in handler.events:
            return JSONResponse({"ignored": event}, status_code=202)
        try:
            pushes = handler.parse(headers, body)
        except PayloadError as exc:
            return error(400, str(exc))
        return await accept("github", pushes, started)

    async def chatops(source: str, activity: list[PullRequestActivity],
                      event: str) -> JSONResponse:
        """Store activity on change requests Hoist opened, each with the promotion its
        change request carries now (what its author may have seen); anything else is
        acknowledged and dropped, with nothing stored."""
        def store_known() -> int:
            known = [replace(a, promotion_id=p.id) for a in activity
                     if (p := store.promotion_for_number(a.number)) is not None]
            return store.add_comments(known, time.time()) if known else 0

        added = await run_in_threadpool(store_known)
        metrics.webhooks.labels(source, "accepted").inc()
        if added:
            wake()
        return JSONResponse({"accepted": added, "event": event}, status_code=202)

    def branch_moved(source: str, body: bytes,
                     parse: Callable[[bytes], BranchPushed | None] = branch_pushed
                     ) -> JSONResponse:
        """A forge push: hoist.yaml is fetched again when the default branch moved."""
        try:
            pushed = parse(body)
        except PayloadError as exc:
            return error(400, f"unexpected push payload: {exc}")
        moved = pushed is not None and pushed.moved_default
        if pushed is not None and moved:
            log.info("webhook.branch_moved", source=source, branch=pushed.branch,
                     repository=pushed.repository, after=pushed.after)
            refresh()
        return JSONResponse({"refreshed": moved}, status_code=202)

    async def forge_request(request: Request, source: str, forge: str, variable: str,
                            secret: str | None,
                            check: Callable[[dict[str, str], bytes, str], None]
                            ) -> tuple[dict[str, str], bytes] | JSONResponse:
        """A forge webhook's headers and body once enabled, read and authenticated; else the
        404/4xx/401 response to send."""
        if secret is None and not settings.insecure_demo:
            return error(404, f"{forge} webhooks are not enabled: set {variable}")
        read_result = await read(request, source)
        if isinstance(read_result, JSONResponse) or secret is None:  # no secret: a local demo
            return read_result
        headers, body = read_result
        try:
            check(headers, body, secret)
        except AuthError as exc:
            metrics.webhooks.labels(source, "unauthorized").inc()
            log.warning("webhook.unauthorized", source=source, reason=str(exc))
            return error(401, str(exc))
        return headers, body

    @router.post("/webhooks/gitlab", status_code=202, openapi_extra=GITLAB_WEBHOOK)
    async def gitlab_webhook(request: Request) -> JSONResponse:
        received = await forge_request(request, "gitlab_forge", "GitLab",
                                       "HOIST_GITLAB_WEBHOOK_SECRET",
                                       settings.gitlab_webhook_secret, gitlab_events.verify)
        if isinstance(received, JSONResponse):
            return received
        headers, body = received
        if headers.get("x-gitlab-event") == "Push Hook":
            return branch_moved("gitlab_forge", body)
        try:
            activity = gitlab_events.merge_request_activity(headers, body)
        except PayloadError as exc:
            return error(400, f"unexpected GitLab payload: {exc}")
        # Routed on the body: X-Gitlab-Event may say Service Hook or System Hook.
        kind = json_kind(body)
        return await chatops("gitlab_forge", activity, kind)

    @router.post("/webhooks/gitea", status_code=202, openapi_extra=GITEA_WEBHOOK)
    async def gitea_webhook(request: Request) -> JSONResponse:
        received = await forge_request(request, "gitea", "Gitea", "HOIST_GITEA_WEBHOOK_SECRET",
                                       settings.gitea_webhook_secret, gitea_events.verify)
        if isinstance(received, JSONResponse):
            return received
        headers, body = received
        event = headers.get("x-forgejo-event") or headers.get("x-gitea-event") or ""
        if not event:
            return error(400, "missing X-Gitea-Event (or X-Forgejo-Event) header")
        if event == "push":
            return branch_moved("gitea", body)
        try:
            activity = gitea_events.pull_request_activity(headers, body)
        except PayloadError as exc:
            return error(400, f"unexpected {event} payload: {exc}")
        return await chatops("gitea", activity, event)

    @router.post("/webhooks/bitbucket-datacenter", status_code=202,
                 openapi_extra=BITBUCKET_DC_WEBHOOK)
    async def bitbucket_datacenter_webhook(request: Request) -> JSONResponse:
        events = bitbucket_datacenter_events
        received = await forge_request(request, "bitbucket_datacenter", "Bitbucket Data Center",
                                       "HOIST_BITBUCKET_DC_WEBHOOK_SECRET",
                                       settings.bitbucket_dc_webhook_secret, events.verify)
        if isinstance(received, JSONResponse):
            return received
        headers, body = received
        event = events.event_key(headers, body)
        if not event:
            return error(400, "missing X-Event-Key header")
        if event == events.PING:
            return JSONResponse({"pong": True})
        if event == "repo:refs_changed":
            return branch_moved("bitbucket_datacenter", body, events.branches_pushed)
        try:
            activity = events.pull_request_activity(headers, body)
        except PayloadError as exc:
            return error(400, f"unexpected {event} payload: {exc}")
        return await chatops("bitbucket_datacenter", activity, event)

    @router.post("/webhooks/bitbucket", status_code=202, openapi_extra=BITBUCKET_WEBHOOK)
    async def bitbucket_webhook(request: Request) -> JSONResponse:
        received = await forge_request(request, "bitbucket", "Bitbucket",
                                       "HOIST_BITBUCKET_WEBHOOK_SECRET",
                                       settings.bitbucket_webhook_secret, bitbucket_events.verify)
        if isinstance(received, JSONResponse):
            return received
        headers, body = received
        event = headers.get("x-event-key", "")
        if event == "repo:push":
            return branch_moved("bitbucket", body, bitbucket_events.branch_pushed)
        try:
            activity = bitbucket_events.pull_request_activity(headers, body)
        except PayloadError as exc:
            return error(400, f"unexpected {event or 'Bitbucket'} payload: {exc}")
        return await chatops("bitbucket", activity, event)

    @router.post("/webhooks/azure-devops", status_code=202, openapi_extra=AZURE_DEVOPS_WEBHOOK)
    async def azure_devops_webhook(request: Request) -> JSONResponse:
        received = await forge_request(request, "azure_devops", "Azure DevOps",
                                       "HOIST_AZURE_DEVOPS_WEBHOOK_SECRET",
                                       settings.azure_devops_webhook_secret,
                                       azure_devops_events.verify)
        if isinstance(received, JSONResponse):
            return received
        headers, body = received
        try:  # routed on the body's eventType: service hooks send no event header
            event = azure_devops_events.event_type(body)
            if event == azure_devops_events.PUSH_EVENT:
                return branch_moved("azure_devops", body, azure_devops_events.branch_pushed)
            activity = azure_devops_events.pull_request_activity(headers, body)
        except PayloadError as exc:
            return error(400, f"unexpected Azure DevOps payload: {exc}")
        return await chatops("azure_devops", activity, event)

    return router
