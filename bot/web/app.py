"""The HTTP service: registry webhooks in, promotions out through the API."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..adapters.store import StoreUnavailable
from ..adapters.store.records import iso_time
from ..flows.dora_board import DoraBoard
from ..flows.override import NotOverridable, override_window
from ..flows.services import Services
from ..settings import Settings
from ..sources import SOURCES, Source
from .commands_api import commands_router
from .errors import error
from .metrics import Metrics
from .openapi import API_OVERRIDE
from .people import SignedInViewers
from .people_wiring import people
from .projects import Catalog, ProjectApps, install_projects
from .ui import install_ui
from .webhooks import webhook_router

log = structlog.get_logger()


def _confirm_sns(url: str) -> None:
    """Confirm an SNS subscription (the URL is checked to be SNS's before this)."""
    httpx.get(url, timeout=10, follow_redirects=False).raise_for_status()


def create_app(
    settings: Settings,
    services: Services,
    wake: Callable[[], None] = lambda: None,
    lifespan_hooks: tuple[Callable[[], None], Callable[[], None]] | None = None,
    sources: dict[str, Source] | None = None,
    confirm_sns: Callable[[str], None] | None = None,
    role: str = "all",
    worker_alive: Callable[[], bool] | None = None,
    refresh: Callable[[], None] = lambda: None,
    viewers: SignedInViewers | None = None,
    project: str = "default",
    catalog: Catalog | None = None,
) -> FastAPI:
    """The FastAPI app; `wake` nudges the worker, `lifespan_hooks` start/stop it. A
    `worker` process serves health, metrics and the read API, but takes no webhooks;
    `worker_alive` says whether its worker threads still run (for /readyz); `refresh` is
    called when a forge push moved the manifests repo's default branch. The unprefixed page
    and read API are `project`'s; with a `catalog` (web/projects.py), each project's page,
    API, event stream and commands are served under `/p/<project>/`. All of them are behind
    `viewers` (web/people.py), made here (with the sign-in and page-command routes) unless a
    parent app shares its own."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if lifespan_hooks:
            lifespan_hooks[0]()
        yield
        if lifespan_hooks:
            await run_in_threadpool(lifespan_hooks[1])

    # With HOIST_UI_TOKEN set, the API description is for readers only (guards.guard_docs).
    closed = {"docs_url": None, "redoc_url": None, "openapi_url": None} if settings.ui_token \
        else {}
    app = FastAPI(title="Hoist", lifespan=lifespan, **closed)  # type: ignore[arg-type]
    # DORA from the git cache, where this process keeps one (not a `web` process).
    dora = DoraBoard(services) if role != "web" else None
    metrics = Metrics(services.store, dora)
    store = services.store
    # Who sees the page and the read API (`viewers`, shared by every project's app), else
    # this app's own, with the sign-in and page-command routes (web/people_wiring.py).
    if viewers is None:
        viewers = people(app, settings, store, catalog.services_of if catalog else (
            lambda name: services if name == project else None),
            catalog.wake_of if catalog else (lambda name: wake()))
    seen_by = viewers

    @app.exception_handler(StarletteHTTPException)
    async def httperror(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validationerror(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error(422, "; ".join(str(e.get("msg")) for e in exc.errors()))

    @app.exception_handler(StoreUnavailable)
    async def store_down(_: Request, exc: StoreUnavailable) -> JSONResponse:
        log.error("store.unavailable", error=str(exc))
        return error(503, "store unavailable; retry later")

    if catalog is not None:
        found = catalog

        def project_app(name: str, its: Services) -> FastAPI:
            return create_app(found.settings_of(name) or settings, its,
                              lambda: found.wake_of(name), role=role, viewers=seen_by,
                              project=name)

        install_projects(app, seen_by, ProjectApps(project_app, found.services_of),
                         found.names, found.route_forge if role != "worker" else None,
                         found.health_of)

    if role != "worker":
        app.include_router(webhook_router(settings, store, sources or SOURCES, metrics, wake,
                                          confirm_sns or _confirm_sns, refresh))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """200 when this process can do its job: the store answers (every role) and the
        worker threads run (worker and all); else 503 saying which part is down, in fixed
        words (the answer is unauthenticated: the driver's error goes to the log only)."""
        found = {"role": role, "engine": store.engine_name}
        try:
            await run_in_threadpool(store.ping)
        except Exception as exc:
            log.warning("readyz.store_unreachable", error=str(exc))  # redacted by log.py
            return JSONResponse({**found, "status": "not ready", "store": "unreachable",
                                 "error": "store unreachable"}, status_code=503)
        if worker_alive is not None and not worker_alive():
            return JSONResponse({**found, "status": "not ready", "store": "ok",
                                 "error": "worker threads stopped"}, status_code=503)
        return JSONResponse({**found, "status": "ready", "store": "ok"})

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/api/promotions")
    async def list_promotions(request: Request, limit: int = 100,
                              before: str | None = None) -> Response:
        """Newest first, `limit` (1-1000) a page; `next` is the next page's URL."""
        if refused := await seen_by.api_refusal(request, project):
            return refused
        limit = max(1, min(limit, 1000))
        found = await run_in_threadpool(store.promotions, limit, False, before)
        more = f"?limit={limit}&before={found[-1].id}" if len(found) == limit else None
        return JSONResponse({"promotions": [p.public() for p in found], "next": more})

    @app.get("/api/promotions/{pid}")
    async def get_promotion(request: Request, pid: str) -> Response:
        if refused := await seen_by.api_refusal(request, project):
            return refused
        try:
            p = await run_in_threadpool(store.promotion, pid)
        except KeyError:
            return error(404, f"no promotion {pid}")
        data = p.public()
        data["transitions"] = [{**t, "at": iso_time(t["at"])} for t in
                               await run_in_threadpool(store.transitions, pid)]
        cr = await run_in_threadpool(store.change_request, pid)  # as proposed (issue 26)
        data["proposed"] = {"title": cr.title, "body": cr.body} if cr else None
        data["rendered"] = await run_in_threadpool(store.rendered, pid)
        return JSONResponse(data)

    install_ui(app, settings, services, viewers, dora, project)


    @app.post("/api/promotions/{pid}/override-window", openapi_extra=API_OVERRIDE)
    async def override_promotion_window(pid: str, request: Request) -> JSONResponse:
        denied = _check_api_token(settings, request)
        if denied:
            return denied
        who = request.headers.get("x-hoist-user", "api")
        try:
            body = await request.json() if await request.body() else {}
        except ValueError:
            return error(400, "the body must be JSON: {\"reason\": \"...\"}")
        reason = body.get("reason") if isinstance(body, dict) else None
        if not isinstance(reason, str):
            return error(400, "give {\"reason\": \"...\"}: it is recorded in the merge commit")
        try:
            p = await run_in_threadpool(override_window, store, pid, who, reason)
        except KeyError:
            return error(404, f"no promotion {pid}")
        except NotOverridable as exc:
            return error(409, str(exc))
        wake()
        return JSONResponse(p.public())

    # After the routes above: `/api/promotions/{pid}/override-window` is matched before the
    # commands' `/api/promotions/{pid}/{command}`.
    app.include_router(commands_router(settings, services, wake, _check_api_token))
    return app


def _check_api_token(settings: Settings, request: Request) -> JSONResponse | None:
    """API writes need HOIST_API_TOKEN as a bearer token, except in a local demo."""
    if settings.api_token is None:
        if settings.insecure_demo:
            return None
        return error(403, "API writes are disabled: set HOIST_API_TOKEN to enable them")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.encode(), settings.api_token.encode()
    ):
        return error(401, "missing or wrong bearer token")
    return None
