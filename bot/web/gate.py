"""The ASGI app `serve` listens with while it is not ready: /healthz answers 200 (the
process lives), /readyz and every other path 503 with the reason (a webhook sender retries
later rather than hand Hoist what it cannot act on yet). Once the checks pass, the real
app is opened and answers everything."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi.concurrency import run_in_threadpool

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class Gate:
    """`reason` says why it is not ready; `open(app)` hands every request to app from then
    on; `on_stop` runs (in a thread) when the server shuts down."""

    def __init__(self, role: str, reason: str = "starting") -> None:
        self.role = role
        self.reason = reason
        self.app: App | None = None
        self.on_stop: list[Callable[[], None]] = []

    def open(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if self.app is not None:
            return await self.app(scope, receive, send)
        if scope["type"] != "http":
            return
        if scope.get("path") == "/healthz":
            return await _json(send, 200, {"status": "ok"})
        await _json(send, 503, {"status": "not ready", "role": self.role,
                                "error": self.reason}, retry_after=True)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for stop in self.on_stop:
                    await run_in_threadpool(stop)
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _json(send: Send, status: int, data: dict[str, Any], retry_after: bool = False
                ) -> None:
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", b"5"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
