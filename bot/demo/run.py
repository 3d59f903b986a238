"""`hoist demo`: a whole promotion on this machine, with real parts where they exist."""

from __future__ import annotations

import hashlib
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn

from .. import log
from ..adapters.store import Promotion, Store
from ..core.machine import State
from ..flows.approve import approve
from ..settings import Settings
from ..web.app import create_app
from ..wiring import build_services
from ..worker import Worker
from . import registry
from .manifests import distribution_envelope, make_manifests_repo

REPOSITORY = "acme/guestbook"
TAG = "1.4.2"


def _say(text: str) -> None:
    print(f"==> {text}", flush=True)


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _in_state(store: Store, env: str, *states: State) -> Promotion | None:
    for p in store.promotions():
        if p.environment == env and p.state in states:
            return p
    return None


def run_demo(keep: bool = False) -> int:
    """Run the demo end to end, print what happened, stop everything it started."""
    tmp = Path(tempfile.mkdtemp(prefix="hoist-demo-"))
    log.configure("console")
    reg: registry.LocalRegistry | None = None
    server: uvicorn.Server | None = None
    try:
        use_registry = registry.available()
        reg_port = registry.free_port()
        host = f"localhost:{reg_port}"
        url = make_manifests_repo(tmp, host)
        _say(f"manifests repo (from manifests-example/): {url}")
        token = secrets.token_urlsafe(24)
        settings = Settings(manifests_repo=url, data_dir=tmp / "data", webhook_secret=token,
                            insecure_demo=True, poll_interval=0.2)
        services = build_services(settings)
        worker = Worker(services, settings.poll_interval)
        port = registry.free_port()
        app = create_app(settings, services, worker.wake, (worker.start, worker.stop))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        _wait_for(lambda: server is not None and server.started, "the service")
        hook = f"http://127.0.0.1:{port}/webhooks/registry/distribution"
        _say(f"Hoist listening on http://127.0.0.1:{port}")

        if use_registry:
            reg = registry.LocalRegistry(tmp / "registry", reg_port, hook, token)
            reg.start()
            _say(f"docker-registry on {host}, notifications -> {hook}")
            digest = registry.write_oci_layout(tmp / "layout", TAG, "guestbook 1.4.2")
            reg.push(tmp / "layout", TAG, REPOSITORY)
            _say(f"pushed {host}/{REPOSITORY}:{TAG} ({digest}) with skopeo")
        else:
            digest = "sha256:" + hashlib.sha256(b"guestbook 1.4.2").hexdigest()
            _say("docker-registry and skopeo are not installed: posting a synthetic "
                 "notification instead (apt-get install docker-registry skopeo for the real one)")
            envelope = distribution_envelope(host, REPOSITORY, TAG, digest)
            httpx.post(hook, json=envelope, headers={"Authorization": f"Bearer {token}"},
                       timeout=10).raise_for_status()

        store = services.store
        _wait_for(lambda: _in_state(store, "prod", State.PROPOSED) is not None,
                  "dev and staging to be promoted and prod to be proposed")
        waiting = _in_state(store, "prod", State.PROPOSED)
        assert waiting is not None
        _say(f"dev and staging promoted; prod waits for approval: promotion {waiting.id}")
        _say(f"approving prod as 'demo' (what `hoist approve {waiting.id}` does)")
        approve(store, waiting.id, "demo")
        worker.wake()
        _wait_for(lambda: _in_state(store, "prod", State.PROMOTED) is not None, "prod")

        _say("change requests (local forge):")
        for cr in store.change_requests():
            print(f"  #{cr.id} [{cr.state}] {cr.title}  ({cr.branch} -> {cr.base})")
        git = ["git", "-C", str(tmp / "manifests.git")]
        _say("diff of main since the initial commit:")
        first = subprocess.run([*git, "rev-list", "--max-parents=0", "main"], check=True,
                               capture_output=True, text=True).stdout.strip()
        subprocess.run([*git, "--no-pager", "diff", first, "main"], check=True)
        _say("git log of the manifests repo:")
        subprocess.run([*git, "--no-pager", "log", "main"], check=True)
        _say(f"promotions: GET http://127.0.0.1:{port}/api/promotions (while it runs)")
        _say(f"files kept in {tmp}" if keep else "done; everything it started is stopped")
        return 0
    finally:
        if server is not None:
            server.should_exit = True
            time.sleep(0.5)
        if reg is not None:
            reg.stop()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
