"""Several `hoist serve` replicas on one store, and a load balancer in front of them that
sends each request to a random live replica (as a Kubernetes Service would)."""

from __future__ import annotations

import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bot.demo.registry import free_port
from tests.support import ServiceProcess


class Replicas:
    """n replicas sharing `env` (and so HOIST_DATABASE_URL), each with its own data
    directory (git cache) and log under root."""

    def __init__(self, root: Path, n: int, env: dict[str, str]) -> None:
        self.members = [
            ServiceProcess(free_port(), {**env, "HOIST_DATA_DIR": str(root / f"replica-{i}")},
                           root / f"replica-{i}.log") for i in range(n)]

    def start(self) -> None:
        for member in self.members:
            member.start()

    def alive(self) -> list[ServiceProcess]:
        return [m for m in self.members if m.process is not None and m.process.poll() is None]

    def kill(self, member: ServiceProcess) -> None:
        """SIGKILL, as a node failure would."""
        assert member.process is not None
        member.process.kill()
        member.process.wait()

    def stop(self) -> None:
        for member in self.members:
            member.stop()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client (the registry) that hung up early is not the test's business


class Balancer:
    """POSTs and GETs forwarded to a random live replica; the next one when it refuses."""

    def __init__(self, replicas: Replicas, seed: int = 11) -> None:
        self.replicas = replicas
        self.rng = random.Random(seed)
        self.port = free_port()
        self.server = _QuietServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Balancer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def forward(self, method: str, path: str, headers: dict[str, str],
                body: bytes) -> tuple[int, bytes]:
        members = self.replicas.alive()
        self.rng.shuffle(members)
        for member in members:
            try:
                answer = httpx.request(method, member.url + path, headers=headers,
                                       content=body, timeout=10)
            except httpx.TransportError:
                continue  # died under us: the next replica takes it
            return answer.status_code, answer.content
        return 503, b'{"error": "no replica answered"}'

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                status, payload = balancer.forward(method, self.path, headers, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler
