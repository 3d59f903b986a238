"""What keeps the page's sign-in and the API docs from being worked by strangers: a token
bucket per client address for `POST /ui/signin`, and `/docs`, `/redoc`, `/openapi.json`
behind HOIST_UI_TOKEN when it is set."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import JSONResponse, Response

from ..settings import Settings
from .access import may_read
from .errors import error


class TokenBucket:
    """Per-key buckets of `burst` tokens refilled at `rate` tokens a second; at most `keys`
    keys remembered (the least recently seen forgotten first). In-process: each replica
    limits on its own."""

    def __init__(self, burst: int = 5, rate: float = 1 / 6, keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.rate, self.keys, self.clock = burst, rate, keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0.0 when a token was taken for key, else the seconds until one is there."""
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self.keys:
                self._buckets.popitem(last=False)
            return wait


def too_many(wait: float) -> JSONResponse:
    """429 with the seconds to wait, in the body and in Retry-After."""
    seconds = max(1, math.ceil(wait))
    response = error(429, f"too many sign-in attempts from this address; retry in {seconds} s")
    response.headers["Retry-After"] = str(seconds)
    return response


def guard_docs(app: FastAPI, settings: Settings, sign_in: Callable[[Request], Response]) -> None:
    """Serve /docs, /redoc and /openapi.json only to readers once HOIST_UI_TOKEN is set
    (the app must be made with docs_url, redoc_url and openapi_url None)."""

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> Response:
        if not may_read(settings, request):
            return error(401, "the API description needs HOIST_UI_TOKEN as a bearer token")
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        if not may_read(settings, request):
            return sign_in(request)
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Hoist API")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> Response:
        if not may_read(settings, request):
            return sign_in(request)
        return get_redoc_html(openapi_url="/openapi.json", title="Hoist API")
