"""Projects on the web: `/p/<project>/…` serves one project's page, read API, event stream,
commands API and forge webhooks (each project's own app, made when first asked for);
`/` lists the projects the viewer may see; a forge webhook delivered to the unprefixed
`/webhooks/<forge>` goes to the project whose repository it is about, and one about a
repository no project names is acknowledged (202) and dropped (`webhook.not_ours`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from markupsafe import escape
from starlette.types import Message, Receive, Scope, Send

from ..flows.services import Services
from ..settings import Settings
from ..sources.ghcr import PACKAGE_EVENTS
from .bodies import read_limited
from .errors import error
from .viewers import Viewers

log = structlog.get_logger()

# The forge each `/webhooks/<route>` is from, as projects name it (core/projects.py).
FORGE_ROUTES = {"github": "github", "gitlab": "gitlab", "gitea": "gitea",
                "bitbucket": "bitbucket", "bitbucket-datacenter": "bitbucket-datacenter",
                "azure-devops": "azure-devops"}
_PAGE_SIZE = 50  # projects on one page of `/` and of GET /api/projects


def repository_of(kind: str, body: bytes) -> str | None:
    """The repository a forge's webhook body is about, as its projects name it (owner/name,
    group/project, PROJECT/repo, project/repository); None when the body names none."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None

    def at(*path: str) -> Any:
        node: Any = data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return node

    if kind == "gitlab":
        found = at("project", "path_with_namespace")
    elif kind == "bitbucket-datacenter":
        key, slug = at("repository", "project", "key"), at("repository", "slug")
        found = f"{key}/{slug}" if key and slug else None
    elif kind == "azure-devops":
        repo = at("resource", "repository") or at("resource", "pullRequest", "repository")
        project = repo.get("project", {}).get("name") if isinstance(repo, dict) else None
        found = f"{project}/{repo['name']}" if project and isinstance(repo, dict) and \
            repo.get("name") else None
    else:  # GitHub, Gitea/Forgejo, Bitbucket Cloud
        found = at("repository", "full_name")
    return str(found) if found else None


@dataclass
class Catalog:
    """The projects one app serves under `/p/<name>/`: each one's Services (None: unknown,
    404) and Settings; with `names`, `/` lists them; with `route_forge(kind, repository)`,
    unprefixed forge webhooks are routed to their project; `wake_of(name)` nudges one
    project's worker."""

    services_of: Callable[[str], Services | None]
    settings_of: Callable[[str], Settings | None] = lambda name: None
    names: Callable[[], Sequence[str]] | None = None
    route_forge: Callable[[str, str], str | None] | None = None
    wake_of: Callable[[str], None] = lambda name: None
    health_of: Callable[[str], str] = lambda name: "-"


class ProjectApps:
    """Each project's own app (create_app with its settings and Services), remade when its
    Services change (the project was restarted)."""

    def __init__(self, make: Callable[[str, Services], FastAPI],
                 services_of: Callable[[str], Services | None]) -> None:
        self.make, self.services_of = make, services_of
        self._apps: dict[str, tuple[Services, FastAPI]] = {}

    def get(self, name: str) -> FastAPI | None:
        services = self.services_of(name)
        if services is None:
            return None
        found = self._apps.get(name)
        if found is None or found[0] is not services:
            found = (services, self.make(name, services))
            self._apps[name] = found
        return found[1]


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def install_projects(app: FastAPI, viewers: Viewers, apps: ProjectApps,
                     names: Callable[[], Sequence[str]] | None,
                     route_forge: Callable[[str, str], str | None] | None,
                     health_of: Callable[[str], str] = lambda name: "-",
                     shared: FastAPI | None = None) -> None:
    """`/p/<project>/…` on `app`; with `names` (many projects) also `/` and
    GET /api/projects listing them (`?page=N`, 50 a page, each with its health); with
    `route_forge(kind, repository) -> project`, forge webhooks on the unprefixed routes are
    handed to their project's app (GitHub `package` events, GHCR pushes, go to `shared`:
    the registry side every project shares)."""

    async def project(scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path_params"]["project"]
        rest = scope["path"][len(scope["root_path"]):] if scope["type"] == "http" else ""
        request = Request(scope)
        api = rest.startswith(("/api/", "/ui/events"))
        # Who may look comes first, so a stranger learns nothing of which projects exist.
        if not rest.startswith("/webhooks/") and scope["type"] == "http":
            refusal = await (viewers.api_refusal if api else viewers.page_refusal)(
                request, name)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        sub = apps.get(name)
        if sub is None:
            known = names is not None and name in names()
            status, why = (503, f"project {name} is not ready: {health_of(name)}") if known \
                else (404, f"no project {name!r}")
            response: Response = error(status, why) if api or \
                rest.startswith("/webhooks/") else _page(status, why)
            await response(scope, receive, send)
            return
        # The project's app resolves its own route names (url_for) under the prefix.
        inner = {k: v for k, v in scope.items() if k != "router"}
        inner["app_root_path"] = scope["root_path"]
        await sub(inner, receive, send)

    app.mount("/p/{project}", project)
    if route_forge is not None:
        _forge_router(app, apps, route_forge, shared)
    if names is None:
        return

    async def listing(request: Request) -> list[dict[str, Any]]:
        shown = await viewers.visible(request, list(names()))
        page = max(1, int(request.query_params.get("page", "1") or 1))
        return [{"name": n, "url": f"/p/{n}/", "health": health_of(n)} for n in
                shown[(page - 1) * _PAGE_SIZE:page * _PAGE_SIZE]]

    @app.get("/api/projects")
    async def api_projects(request: Request) -> JSONResponse:
        try:
            return JSONResponse({"projects": await listing(request)})
        except ValueError:
            return error(400, "page must be a number")

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        if refused := await viewers.anonymous_refusal(request):
            return refused
        try:
            shown = await listing(request)
        except ValueError:
            return error(400, "page must be a number")
        items = "".join(f'<li><a href="{p["url"]}">{p["name"]}</a> '
                        f'<span class="health">{escape(p["health"])}</span></li>' for p in shown)
        return _page(200, "Projects", f"<ul class=\"projects\">{items}</ul>" if items
                     else "<p>No project you may see.</p>")


def _page(status: int, title: str, body: str = "") -> Response:
    from .ui import HEADERS

    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>'
            f'{escape(title)} · Hoist</title><link rel="stylesheet" href="/ui/static/hoist.css">'
            f'</head><body><main id="live"><h1>{escape(title)}</h1>{body}</main></body></html>')
    return Response(html, status, media_type="text/html", headers=HEADERS)


def _forge_router(app: FastAPI, apps: ProjectApps,
                  route_forge: Callable[[str, str], str | None],
                  shared: FastAPI | None) -> None:
    """POST /webhooks/<forge> handed to the app of the project whose repository it is
    about (which checks the project's own webhook secret), else 202 and dropped."""

    @app.post("/webhooks/{forge}", include_in_schema=False)
    async def route(forge: str, request: Request) -> Response:
        kind = FORGE_ROUTES.get(forge)
        if kind is None:
            return error(404, f"no webhook route /webhooks/{forge}")
        try:
            body = await read_limited(request)
        except TimeoutError:
            return error(408, "body not received in time")
        if body is None:
            return error(413, "body larger than 1 MiB")
        repository = repository_of(kind, body)
        name = await run_in_threadpool(route_forge, kind, repository) if repository else None
        sub: FastAPI | None = apps.get(name) if name else None
        if kind == "github" and request.headers.get("x-github-event") in PACKAGE_EVENTS:
            sub = shared  # a GHCR push: every project whose hoist.yaml names the image
        if sub is None:
            log.warning("webhook.not_ours", forge=kind, repository=repository)
            return JSONResponse({"ignored": "not ours", "repository": repository},
                                status_code=202)
        sent: list[Message] = []

        async def capture(message: Message) -> None:
            sent.append(message)

        await sub(dict(request.scope), _replay(body), capture)
        start = next(m for m in sent if m["type"] == "http.response.start")
        content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return Response(content, start["status"], headers={
            k.decode(): v.decode() for k, v in start["headers"] if k.lower() != b"content-length"})


__all__ = ["FORGE_ROUTES", "Catalog", "ProjectApps", "install_projects", "repository_of"]
