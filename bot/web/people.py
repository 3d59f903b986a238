"""Who is looking at the page, and what they may see: `SignedInViewers`, the page's and the
read API's doorkeeper for every project.

- An administrator or a machine (HOIST_UI_TOKEN, or HOIST_API_TOKEN, as a bearer token, or
  the UI token's cookie) sees every project; so does everyone when reads are open (neither
  HOIST_UI_TOKEN nor HOIST_SIGNIN set).
- A person signed in with the forge (HOIST_SIGNIN) sees a project when the forge, asked with
  their own token, says they can read its repository; the answer is remembered for
  `CACHE_SECONDS` per session and project.

It implements the `Viewers` protocol (page_refusal, api_refusal, visible) structurally."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import structlog
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ..adapters.signin import Person, Provider, SignInError
from ..adapters.signin.seal import unseal
from ..adapters.store import Store
from ..core import signin
from ..core.commands import permission_reaches
from ..flows.services import Services
from ..settings import Settings
from .access import may_read
from .errors import error
from .forms import anonymous_token, cookie_rules, csrf_key

log = structlog.get_logger()
CACHE_SECONDS = 60.0
_CACHE_SIZE = 10_000
_AT_ONCE = 8  # forge reads at once for one viewer's list of projects


@dataclass(frozen=True)
class Viewer:
    """A person signed in: their session id (from the cookie), login and groups, token."""

    session: str
    person: Person
    token: str


class SignedInViewers:
    """`services_of(project)` is that project's Services (its forge and repository), None
    for a project that does not exist. `provider` is None without HOIST_SIGNIN."""

    def __init__(self, settings: Settings, store: Store, provider: Provider | None,
                 services_of: Callable[[str], Services | None],
                 templates: Jinja2Templates | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings, self.store, self.provider = settings, store, provider
        self.services_of, self.templates, self.clock = services_of, templates, clock
        self._cache: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()

    # who ----------------------------------------------------------------------------------

    def open(self) -> bool:
        """Reads are open: no HOIST_UI_TOKEN and no sign-in."""
        return self.settings.ui_token is None and self.provider is None

    def administrator(self, request: Request) -> bool:
        """The request carries HOIST_UI_TOKEN or HOIST_API_TOKEN (bearer) or the UI token's
        cookie."""
        if self.settings.ui_token is not None:
            return may_read(self.settings, request)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        api = self.settings.api_token
        return scheme.lower() == "bearer" and bool(api) and bool(given) and \
            signin.same(given, api or "")

    def session_id(self, request: Request) -> str | None:
        """The session id the browser's cookie holds, if any."""
        if self.provider is None:
            return None
        return request.cookies.get(cookie_rules(self.settings, request).name) or None

    async def viewer(self, request: Request) -> Viewer | None:
        """The person signed in on this request; None without a live session."""
        sid = self.session_id(request)
        if not sid:
            return None
        found = await run_in_threadpool(self.store.session_of, signin.digest(sid),
                                        self.clock())
        token = unseal(sid, found.token) if found else None
        if found is None or token is None:
            return None
        return Viewer(sid, Person(found.login, found.groups), token)

    async def permission(self, viewer: Viewer, project: str) -> str:
        """The viewer's rung on the project's repository, asked with their token (cached
        for CACHE_SECONDS); "none" for an unknown project or when the forge cannot say."""
        key = (signin.digest(viewer.session), project)
        now = self.clock()
        cached = self._cache.get(key)
        if cached is not None and now - cached[1] < CACHE_SECONDS:
            return cached[0]
        services = self.services_of(project)
        if services is None or self.provider is None:
            return "none"
        provider = self.provider
        try:
            rung = await run_in_threadpool(provider.permission, viewer.token, viewer.person,
                                           services.forge)
        except (SignInError, OSError) as exc:
            log.warning("signin.permission_unknown", project=project,
                        login=viewer.person.login, error=str(exc))
            if isinstance(exc, SignInError) and exc.status == 401:  # revoked or expired
                await run_in_threadpool(self.store.end_session, key[0])
            return "none"
        self._cache[key] = (rung, now)
        self._cache.move_to_end(key)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return rung

    async def acting_permission(self, viewer: Viewer, project: str) -> str | None:
        """The rung to act with when it does not come from the forge's own people (an
        OIDC sign-in: from the groups claim); None: ask the forge, as ChatOps does."""
        if self.provider is not None and self.provider.name == "oidc":
            return await self.permission(viewer, project)
        return None

    def forget(self, session: str) -> None:
        """Drop what was remembered of a session (at sign-out)."""
        for key in [k for k in self._cache if k[0] == signin.digest(session)]:
            del self._cache[key]

    # the Viewers protocol -------------------------------------------------------------------

    async def _reader(self, request: Request, project: str) -> tuple[bool, Viewer | None]:
        """(may read, the person signed in)."""
        if self.open() or self.administrator(request):
            return True, None
        viewer = await self.viewer(request)
        if viewer is None:
            return False, None
        if permission_reaches(await self.permission(viewer, project), "read"):
            return True, viewer
        # The forge no longer takes their token (the session was ended): sign in again.
        return False, await self.viewer(request)

    async def page_refusal(self, request: Request, project: str) -> Response | None:
        """None when the viewer may see this project's pages; else the sign-in page (the
        token form, 401), a redirect to sign in with the forge (303), or a 403 page."""
        allowed, viewer = await self._reader(request, project)
        if allowed:
            return None
        if viewer is None:
            return self._to_sign_in(request)
        return self.denied_page(request, 403, f"@{viewer.person.login} cannot read this "
                                f"project's repository on the forge, so its promotions are "
                                f"not shown.", viewer=viewer)

    async def anonymous_refusal(self, request: Request) -> Response | None:
        """None when someone is known (reads open, a token, a session); else the sign-in
        page (401) or a redirect to sign in with the forge (303)."""
        if self.open() or self.administrator(request) or await self.viewer(request):
            return None
        return self._to_sign_in(request)

    def _to_sign_in(self, request: Request) -> Response:
        if self.provider is None or request.headers.get("x-hoist-fragment") == "1":
            return self.sign_in_page(request, 401)
        return RedirectResponse(f"/signin?next={quote(request.url.path)}", 303)

    async def api_refusal(self, request: Request, project: str) -> Response | None:
        """None when the viewer may read this project's API and event stream; else 401
        (nobody signed in) or 403 (signed in, no read permission), as JSON."""
        allowed, viewer = await self._reader(request, project)
        if allowed:
            return None
        if viewer is None:
            return error(401, "reads need a session (sign in at /signin) or HOIST_UI_TOKEN "
                              "as a bearer token" if self.provider else
                         "reads need HOIST_UI_TOKEN as a bearer token")
        return error(403, f"{viewer.person.login} cannot read project {project}'s repository")

    async def visible(self, request: Request, projects: Sequence[str]) -> list[str]:
        """The names in `projects` this viewer may see, in their order."""
        if self.open() or self.administrator(request):
            return list(projects)
        viewer = await self.viewer(request)
        if viewer is None:
            return []
        gate = asyncio.Semaphore(_AT_ONCE)

        async def rung(project: str) -> str:
            async with gate:
                return await self.permission(viewer, project)

        rungs = await asyncio.gather(*(rung(p) for p in projects))
        return [p for p, rung in zip(projects, rungs, strict=True)
                if permission_reaches(rung, "read")]

    # pages --------------------------------------------------------------------------------

    def sign_in_page(self, request: Request, status: int = 401, wrong: bool = False,
                     problem: str | None = None) -> Response:
        """The sign-in page: the forge's button (HOIST_SIGNIN) and the HOIST_UI_TOKEN form
        (when set), each form with its CSRF token."""
        assert self.templates is not None
        holder = Response()
        csrf = anonymous_token(self.settings, request, holder) if self.settings.ui_token \
            else ""
        response = self.templates.TemplateResponse(request, "signin.html", {
            "next": signin.safe_next(request.query_params.get("next") or request.url.path),
            "wrong": wrong, "problem": problem, "token_form": bool(self.settings.ui_token),
            "provider": _NAMES.get(self.provider.name, "") if self.provider else None,
            "csrf": csrf}, status_code=status, headers=_HEADERS)
        for cookie in holder.headers.getlist("set-cookie"):
            response.headers.append("set-cookie", cookie)
        return response

    def denied_page(self, request: Request, status: int, reason: str,
                    back: str | None = None, viewer: Viewer | None = None) -> Response:
        """A page saying why not, with a link `back` (and, for a person signed in, the
        sign-out form: whoever may read nothing can still leave)."""
        assert self.templates is not None
        csrf = signin.csrf_token(csrf_key(self.settings), viewer.session) if viewer else ""
        return self.templates.TemplateResponse(request, "denied.html", {
            "reason": reason, "back": back, "me": viewer.person.login if viewer else None,
            "csrf": csrf},
                                               status_code=status, headers=_HEADERS)


_NAMES = {"github": "GitHub", "gitlab": "GitLab", "gitea": "Gitea", "oidc": "single sign-on"}
_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; "
                                       "form-action 'self'; base-uri 'none'"}
