"""Every error the service answers is JSON: {"error": "<what is wrong>"}."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

log = structlog.get_logger()


def error(status: int, reason: str) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse({"error": reason}, status_code=status)


class LoggedRefusals(APIRoute):
    """A webhook route whose refusals (4xx but 401, logged where it is decided) are logged
    with their source and reason: a sender misconfigured is found in the log."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def logged(request: Request) -> Response:
            response = await handler(request)
            if 400 <= response.status_code < 500 and response.status_code != 401:
                try:
                    reason = json.loads(bytes(response.body)).get("error")
                except (ValueError, AttributeError):
                    reason = None
                source = request.path_params.get("source") or \
                    request.url.path.rstrip("/").rsplit("/", 1)[-1]
                log.warning("webhook.refused", source=source, status=response.status_code,
                            reason=reason)
            return response

        return logged
