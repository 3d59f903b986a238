"""Hoist with its wiring, served in this process on a free port: for the demo and bench."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import uvicorn

from ..flows.services import Services
from ..settings import Settings
from ..web.app import create_app
from ..wiring import build_services
from ..worker import Worker
from .manifests import make_manifests_repo
from .registry import free_port


def wait_until(check: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Poll check until truthy; TimeoutError naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)


class LocalStack:
    """A throw-away manifests repo under `root` and Hoist serving it on 127.0.0.1."""

    def __init__(self, root: Path, registry_host: str, extra_files: int = 0) -> None:
        self.root = root
        self.token = secrets.token_urlsafe(24)
        self.settings = Settings(
            manifests_repo=make_manifests_repo(root, registry_host, extra_files=extra_files),
            data_dir=root / "data",
            webhook_secret=self.token, insecure_demo=True, poll_interval=0.2,
        )
        self.services: Services = build_services(self.settings)
        self.worker = Worker(self.services, self.settings.poll_interval)
        self.port = free_port()
        app = create_app(self.settings, self.services, self.worker.wake,
                         (self.worker.start, self.worker.stop))
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> Path:
        """The bare manifests repository (the 'remote')."""
        return self.root / "manifests.git"

    def __enter__(self) -> LocalStack:
        threading.Thread(target=self.server.run, daemon=True).start()
        wait_until(lambda: self.server.started, "the service")
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None,
                                   TracebackType | None]) -> None:
        self.server.should_exit = True
        wait_until(lambda: not self.worker.running, "the worker to stop", 30)
