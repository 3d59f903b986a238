"""Acting from the page: `POST /ui/promotions/{id}/{command}` (the single project) and
`POST /p/{project}/ui/promotions/{id}/{command}`, for approve, hold, retry, abort and
unquarantine, by a person signed in with the forge. Each post carries the session's CSRF
token and comes from Hoist's own origin; the person must see the project, and the command
is authorized and carried out by flows/page_commands.py (the ChatOps rule). The promotion
page's "Act on it" buttons show only the commands the person may give."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from ..core import signin
from ..flows import page_commands
from ..flows.services import Services
from ..settings import Settings
from .forms import csrf_key, form_problem, read_form
from .people import SignedInViewers


def promotion_path(project: str, pid: str) -> str:
    """The promotion's page: `/ui/promotions/{id}` for `default`, else under `/p/{project}`."""
    return f"/ui/promotions/{pid}" if project == "default" else f"/p/{project}/ui/promotions/{pid}"


async def page_extras(viewers: SignedInViewers, request: Request, project: str,
                      services: Services, pid: str | None = None,
                      quarantined: bool = False) -> dict[str, Any]:
    """What the page adds for a person signed in: who they are and the sign-out form's
    token; on a promotion's page (`pid`), the commands they may give it now."""
    viewer = await viewers.viewer(request)
    if viewer is None:
        return {"me": None, "actions": []}
    token = signin.csrf_token(csrf_key(viewers.settings), viewer.session)
    extras: dict[str, Any] = {"me": viewer.person.login, "csrf": token, "actions": []}
    if pid is None:
        return extras
    permission = await viewers.acting_permission(viewer, project)

    def offered() -> list[str]:
        p = services.store.promotion(pid)
        names = page_commands.fitting(p, quarantined)
        if not names:
            return []
        who = page_commands.who_is(services, p, viewer.person.login, permission)
        return page_commands.allowed(services, p, names, who)

    try:
        extras["actions"] = await run_in_threadpool(offered)
    except Exception:  # the forge cannot say now: no buttons; acting still checks again
        extras["actions"] = []
    extras["act_base"] = promotion_path(project, pid)
    return extras


def actions_router(settings: Settings, viewers: SignedInViewers,
                   services_of: Callable[[str], Services | None],
                   wake_of: Callable[[str], None] = lambda name: None) -> APIRouter:
    """The page's command routes for every project `services_of` knows; `wake_of(project)`
    nudges that project's worker once a command took effect."""
    router = APIRouter(include_in_schema=False)

    @router.post("/ui/promotions/{pid}/{command}")
    async def act_default(request: Request, pid: str, command: str) -> Response:
        return await _act(request, "default", pid, command)

    @router.post("/p/{project}/ui/promotions/{pid}/{command}")
    async def act_in(request: Request, project: str, pid: str, command: str) -> Response:
        return await _act(request, project, pid, command)

    async def _act(request: Request, project: str, pid: str, command: str) -> Response:
        services = services_of(project)
        back = promotion_path(project, pid)
        if services is None or command not in page_commands.PAGE_COMMANDS:
            return viewers.denied_page(request, 404, "no such project or command")
        viewer = await viewers.viewer(request)
        if viewer is None:
            return RedirectResponse(f"/signin?next={back}", 303)
        problem = form_problem(settings, request, await read_form(request), viewer.session)
        if problem is not None:
            return viewers.denied_page(request, 403, problem)
        refused = await viewers.page_refusal(request, project)
        if refused is not None:
            return refused
        permission = await viewers.acting_permission(viewer, project)
        try:
            outcome = await run_in_threadpool(page_commands.act, services, pid, command,
                                              viewer.person.login, permission)
        except KeyError:
            return viewers.denied_page(request, 404, f"no promotion {pid}")
        if not outcome.allowed:
            return viewers.denied_page(request, 403, f"You may not {command} this promotion: "
                                       f"{outcome.reply}", back)
        if not outcome.done:
            return viewers.denied_page(request, 409, outcome.reply, back)
        wake_of(project)
        return RedirectResponse(back, 303)

    return router
