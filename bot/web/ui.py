"""The timeline page: `GET /` and `GET /ui/promotions/{id}`, server-rendered with Jinja2, a
small stylesheet, and a few lines of script that swap in a fresh copy of the page's live
region whenever `/ui/events` (server-sent events) says something changed. Without script
the page reloads itself every 10 s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from ..flows.dora_board import DoraBoard
from ..flows.services import Services
from ..settings import Settings
from . import timeline
from .access import COOKIE, session_value, token_matches
from .dora_panel import dora_rows
from .forms import form_problem
from .guards import TokenBucket, guard_docs, too_many
from .page_actions import page_extras
from .people import SignedInViewers

HERE = Path(__file__).parent
# A stream ends after this long and the browser reconnects: an open page never holds up
# a graceful shutdown for longer.
STREAM_SECONDS = 15.0
POLL_SECONDS = 1.0
# The page loads only its own stylesheet and script: nothing inline, nothing from elsewhere.
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
           "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; "
                                      "form-action 'self'; base-uri 'none'"}
templates = Jinja2Templates(directory=HERE / "templates")
_FRAGMENTS = {"index.html": "_board.html", "promotion.html": "_promotion.html"}


def _codes(text: str | None) -> Markup:
    """Escape text and show its `backticked` parts as code (commands people type)."""
    parts = str(escape(text or "")).split("`")
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


templates.env.filters["codes"] = _codes


def _fragment(request: Request) -> bool:
    return request.headers.get("x-hoist-fragment") == "1"


def install_ui(app: FastAPI, settings: Settings, services: Services, viewers: SignedInViewers,
               dora: DoraBoard | None = None, project: str = "default") -> None:
    """Add the page's routes and its static files to `app`; `viewers` says who may see
    `project`'s page; `dora` gives the page its DORA panel (processes that hold the git
    cache)."""
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(ui_router(settings, services, viewers, dora, project))
    if settings.ui_token:
        guard_docs(app, settings, viewers.sign_in_page)


def ui_router(settings: Settings, services: Services, viewers: SignedInViewers,
              dora: DoraBoard | None = None, project: str = "default") -> APIRouter:
    router = APIRouter(include_in_schema=False)
    attempts = TokenBucket()  # sign-ins per client address: 5 at once, then one per 6 s

    def page(request: Request, name: str, context: dict[str, Any],
             status: int = 200) -> Response:
        if _fragment(request):  # the live region only, for the page's script to swap in
            name = _FRAGMENTS.get(name, name)
        # `base`: the project's prefix (`/p/<name>`) under which this page is served, or "".
        context = {**context, "events": request.url_for("events").path,
                   "base": request.scope.get("root_path", "")}
        return templates.TemplateResponse(request, name, context, status_code=status,
                                          headers=HEADERS)

    @router.get("/")
    async def index(request: Request) -> Response:
        if refused := await viewers.page_refusal(request, project):
            return refused
        before = request.query_params.get("before") or None  # a later page's cursor
        lanes, rows, seen = await run_in_threadpool(timeline.board, services, before)
        waiting = [r for r in rows if r.release]
        numbers = await run_in_threadpool(dora.numbers) if dora else {}
        older = rows[-1].id if len(rows) == timeline.LIST_LIMIT else None
        return page(request, "index.html", {"lanes": lanes, "rows": rows, "waiting": waiting,
                                            "seen": seen, "dora": dora_rows(numbers),
                                            "older": older,
                                            **await page_extras(viewers, request, project,
                                                                services)})

    @router.get("/ui/promotions/{pid}")
    async def promotion(request: Request, pid: str) -> Response:
        if refused := await viewers.page_refusal(request, project):
            return refused
        try:
            found, seen = await run_in_threadpool(timeline.detail, services, pid)
        except KeyError:
            return page(request, "missing.html", {"pid": pid, "seen": ""}, 404)
        extras = await page_extras(viewers, request, project, services, pid,
                                   bool(found.quarantined))
        return page(request, "promotion.html", {"p": found, "seen": seen, **extras})

    @router.get("/ui/events", name="events")
    async def events(request: Request) -> Response:
        if await viewers.api_refusal(request, project):
            return Response("sign in first\n", 401, media_type="text/plain")

        # What the browser last saw: the event id it reconnects with, else the page's own.
        seen = request.headers.get("last-event-id") or request.query_params.get("since", "")

        async def stream() -> AsyncIterator[str]:
            last = seen
            yield "retry: 1000\n\n"
            ends = time.monotonic() + STREAM_SECONDS
            while True:
                now = await run_in_threadpool(timeline.fingerprint, services)
                if now != last:
                    last = now
                    yield f"id: {now}\nevent: change\ndata: {now}\n\n"
                if time.monotonic() >= ends or await request.is_disconnected():
                    return
                await asyncio.sleep(POLL_SECONDS)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    @router.post("/ui/signin")
    async def sign_in(request: Request) -> Response:
        wait = attempts.take(request.client.host if request.client else "")
        if wait:
            return too_many(wait)
        body = await request.body()
        form = parse_qs(body[:4096].decode("utf-8", "replace"))
        target = (form.get("next") or ["/"])[0]
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # only back to this site
        problem = form_problem(settings, request, {k: v[0] for k, v in form.items()}, None)
        if problem is not None:
            return viewers.sign_in_page(request, 403, problem=problem)
        if not token_matches(settings, (form.get("token") or [""])[0]):
            return viewers.sign_in_page(request, 401, wrong=True)
        response = RedirectResponse(target, status_code=303)
        secure = request.url.scheme == "https" or \
            request.headers.get("x-forwarded-proto") == "https"
        assert settings.ui_token is not None
        response.set_cookie(COOKIE, session_value(settings.ui_token), httponly=True,
                            samesite="strict", secure=secure, max_age=30 * 24 * 3600)
        return response

    return router
