"""Run the app under uvicorn with limits against slow or many clients.

uvicorn (0.55) bounds an idle keep-alive connection but not the time a client takes to send
a request's headers: a client trickling one header line every few seconds would hold its
connection forever. `GuardedH11Protocol` closes a connection whose request line and headers
are not complete within `header_timeout` seconds of its first byte (or of the connection),
with a 408; and refuses connections beyond `max_connections` with a 503 at once.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


def _refusal(status: str, reason: str, extra: str = "") -> bytes:
    """A whole HTTP/1.1 response closing the connection, with a JSON reason."""
    body = f'{{"error": "{reason}"}}'.encode()
    return (f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n"
            f"{extra}content-length: {len(body)}\r\n\r\n").encode() + body


_TIMEOUT = _refusal("408 Request Timeout", "request headers took too long")
_BUSY = _refusal("503 Service Unavailable", "too many connections; retry later",
                 "retry-after: 1\r\n")


@dataclass(frozen=True)
class Limits:
    """header_timeout: seconds for a request's line and headers; max_connections: open
    connections at once (uvicorn's limit_concurrency too); keep_alive: idle seconds."""

    header_timeout: float = 10.0
    max_connections: int = 256
    keep_alive: int = 10


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header-phase deadline and a connection cap."""

    limits = Limits()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        if len(self.connections) > self.limits.max_connections:
            transport.write(_BUSY)
            transport.close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # h11 stays IDLE until a request's headers are complete.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self._header_timer is None:
                self._arm()
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()  # the next request's clock starts with its first byte

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._expire)

    def _disarm(self) -> None:
        if getattr(self, "_header_timer", None) is not None:
            assert self._header_timer is not None
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.write(_TIMEOUT)
            self.transport.close()


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts. OSError (EADDRINUSE) when
    something listens there already."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT is no owner
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def server(app: Any, limits: Limits) -> uvicorn.Server:
    """A uvicorn server for app with these limits; headers at most 64 KiB. Run it with
    `.run(sockets=[bind(...)])` until SIGTERM/SIGINT or `.should_exit`."""
    protocol = type("HoistH11Protocol", (GuardedH11Protocol,), {"limits": limits})
    return uvicorn.Server(uvicorn.Config(
        app, log_level="warning", http=protocol, h11_max_incomplete_event_size=64 * 1024,
        timeout_keep_alive=limits.keep_alive, limit_concurrency=limits.max_connections + 1))
