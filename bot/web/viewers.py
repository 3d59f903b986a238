"""Who may see which project: the seam between the pages and whoever decides. TokenViewers
is today's rule (bot/web/access.py): everyone while HOIST_UI_TOKEN is unset, else whoever
holds it (bearer token or the page's sign-in cookie), for every project alike. A sign-in
with the forge implements the same Protocol with each person's own projects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fastapi import Request
from fastapi.responses import Response

from ..settings import Settings
from .access import may_read
from .errors import error


class Viewers(Protocol):
    async def page_refusal(self, request: Request, project: str) -> Response | None:
        """None when the viewer may see this project's pages; else the response to send
        (a sign-in page/redirect, or a 403 page)."""
        ...

    async def api_refusal(self, request: Request, project: str) -> Response | None:
        """None when the viewer may read this project's API and event stream; else a
        401/403 JSON response."""
        ...

    async def visible(self, request: Request, projects: Sequence[str]) -> list[str]:
        """The names in `projects` this viewer may see (all of them for an
        administrator, a HOIST_UI_TOKEN holder, or when reads are open)."""
        ...


class TokenViewers:
    """HOIST_UI_TOKEN for every project: reads are open without it; with it, a request
    carrying it (or HOIST_API_TOKEN) as a bearer token, or the sign-in cookie, sees every
    project and any other sees none."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def page_refusal(self, request: Request, project: str) -> Response | None:
        if may_read(self.settings, request):
            return None
        from .ui import sign_in_page

        refusal: Response = sign_in_page(request)
        return refusal

    async def api_refusal(self, request: Request, project: str) -> Response | None:
        if may_read(self.settings, request):
            return None
        return error(401, "reads need HOIST_UI_TOKEN as a bearer token")

    async def visible(self, request: Request, projects: Sequence[str]) -> list[str]:
        return list(projects) if may_read(self.settings, request) else []
