"""Who may see which project: the seam between the pages (web/projects.py) and whoever
decides. web/people.py's SignedInViewers implements it: everyone while neither
HOIST_UI_TOKEN nor HOIST_SIGNIN is set; HOIST_UI_TOKEN's holders every project; a person
signed in with the forge the projects whose repository the forge lets them read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fastapi import Request
from fastapi.responses import Response


class Viewers(Protocol):
    async def page_refusal(self, request: Request, project: str) -> Response | None:
        """None when the viewer may see this project's pages; else the response to send
        (a sign-in page/redirect, or a 403 page)."""
        ...

    async def api_refusal(self, request: Request, project: str) -> Response | None:
        """None when the viewer may read this project's API and event stream; else a
        401/403 JSON response."""
        ...

    async def anonymous_refusal(self, request: Request) -> Response | None:
        """None when someone is known (reads open, a token, a session); else the sign-in
        page or a redirect to it."""
        ...

    async def visible(self, request: Request, projects: Sequence[str]) -> list[str]:
        """The names in `projects` this viewer may see (all of them for an
        administrator, a HOIST_UI_TOKEN holder, or when reads are open)."""
        ...
