"""A real Prometheus (Debian's) scraping a tiny app whose error rate and version the test
controls, for the rollout tests."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bot.demo.registry import free_port


class CanaryApp:
    """Serves /metrics (requests by code, growing at `rate` per second with `error_ratio`
    of them 500s) and /healthz ({"version": version}, answered with `health_status`: 503
    is a health check that measured the new version bad). With `images` (repositories),
    each also has series of its own labelled `image`, failing at `image_errors[image]`."""

    def __init__(self, version: str = "1.0.0", images: tuple[str, ...] = (),
                 health_status: int = 200) -> None:
        self.version = version
        self.health_status = health_status
        self.error_ratio = 0.0
        self.rate = 100.0
        self.ok = 0.0
        self.errors = 0.0
        self.image_errors: dict[str, float] = dict.fromkeys(images, 0.0)
        self._by_image = {image: [0.0, 0.0] for image in images}  # ok, errors
        self._last = time.monotonic()
        self._lock = threading.Lock()
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                status = 200
                if self.path.startswith("/metrics"):
                    body = app.metrics().encode()
                    kind = "text/plain; version=0.0.4"
                else:
                    body = json.dumps({"version": app.version}).encode()
                    kind, status = "application/json", app.health_status
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def metrics(self) -> str:
        with self._lock:
            now = time.monotonic()
            requests = (now - self._last) * self.rate
            self._last = now
            self.errors += requests * self.error_ratio
            self.ok += requests * (1 - self.error_ratio)
            text = ("# TYPE http_requests_total counter\n"
                    f'http_requests_total{{app="guestbook",code="200"}} {self.ok}\n'
                    f'http_requests_total{{app="guestbook",code="500"}} {self.errors}\n')
            for image, counts in self._by_image.items():
                ratio = self.image_errors.get(image, 0.0)
                counts[0] += requests * (1 - ratio)
                counts[1] += requests * ratio
                text += (f'http_requests_total{{app="shop",image="{image}",code="200"}} '
                         f'{counts[0]}\n'
                         f'http_requests_total{{app="shop",image="{image}",code="500"}} '
                         f'{counts[1]}\n')
            return text

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Prometheus:
    """Debian's prometheus scraping targets every second on a free loopback port; with no
    targets it scrapes nothing and queries compute their values (`vector(0)/vector(0)` is
    NaN), so a test states its case in PromQL."""

    def __init__(self, workdir: Path, targets: list[str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.targets = targets
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Prometheus:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "prometheus.yml"
        config.write_text(json.dumps({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "app", "static_configs": [
                {"targets": self.targets}]}] if self.targets else [],
        }))
        log = (self.workdir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            ["prometheus", f"--config.file={config}",
             f"--storage.tsdb.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"], stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
