"""`hoist demo`: a whole promotion on this machine, with real parts where they exist."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx

from .. import log
from ..adapters.git_local import log_messages
from ..adapters.store import Promotion, Store
from ..core.audit import audit_entries, format_table
from ..core.machine import State
from ..flows.approve import approve
from . import registry
from .manifests import distribution_envelope
from .stack import LocalStack, wait_until

REPOSITORY = "acme/guestbook"
TAG = "1.4.2"


def _say(text: str) -> None:
    print(f"==> {text}", flush=True)


def _in_state(store: Store, env: str, state: State) -> Promotion | None:
    return next((p for p in store.promotions() if p.environment == env and p.state == state), None)


def _push(stack: LocalStack, reg_port: int, tmp: Path) -> registry.LocalRegistry | None:
    """A real push through docker-registry when installed, else a synthetic notification."""
    host = f"localhost:{reg_port}"
    hook = f"{stack.url}/webhooks/registry/distribution"
    if not registry.available():
        digest = "sha256:" + hashlib.sha256(b"guestbook 1.4.2").hexdigest()
        _say("docker-registry and skopeo are not installed: posting a synthetic notification "
             "instead (apt-get install docker-registry skopeo for the real one)")
        httpx.post(hook, json=distribution_envelope(host, REPOSITORY, TAG, digest),
                   headers={"Authorization": f"Bearer {stack.token}"}, timeout=10
                   ).raise_for_status()
        return None
    reg = registry.LocalRegistry(tmp / "registry", reg_port, hook, stack.token)
    reg.start()
    _say(f"docker-registry on {host}, notifications -> {hook}")
    digest = registry.write_oci_layout(tmp / "layout", TAG, "guestbook 1.4.2")
    reg.push(tmp / "layout", TAG, REPOSITORY)
    _say(f"pushed {host}/{REPOSITORY}:{TAG} ({digest}) with skopeo")
    return reg


def _report(stack: LocalStack) -> None:
    _say("change requests (local forge):")
    for cr in stack.services.store.change_requests():
        print(f"  #{cr.id} [{cr.state}] {cr.title}  ({cr.branch} -> {cr.base})")
    git = ["git", "-C", str(stack.origin), "--no-pager"]
    first = subprocess.run([*git, "rev-list", "--max-parents=0", "main"], check=True,
                           capture_output=True, text=True).stdout.strip()
    _say("diff of main since the initial commit:")
    subprocess.run([*git, "diff", first, "main"], check=True)
    _say("git log of the manifests repo:")
    subprocess.run([*git, "log", "main"], check=True)
    _say(f"what `hoist audit --repo {stack.origin}` reads back from those trailers:")
    print(format_table(audit_entries(log_messages(stack.origin, "main"))))


def run_demo(keep: bool = False) -> int:
    """Run the demo end to end, print what happened, stop everything it started."""
    tmp = Path(tempfile.mkdtemp(prefix="hoist-demo-"))
    log.configure("console")
    reg: registry.LocalRegistry | None = None
    try:
        reg_port = registry.free_port()
        with LocalStack(tmp, f"localhost:{reg_port}") as stack:
            _say(f"manifests repo (from manifests-example/): {stack.settings.manifests_repo}")
            _say(f"Hoist listening on {stack.url}")
            reg = _push(stack, reg_port, tmp)
            store = stack.services.store
            wait_until(lambda: _in_state(store, "prod", State.PROPOSED),
                       "dev and staging to be promoted and prod to be proposed")
            waiting = _in_state(store, "prod", State.PROPOSED)
            assert waiting is not None
            _say(f"dev and staging promoted; prod waits for approval: promotion {waiting.id}")
            _say(f"approving prod as 'demo' (what `hoist approve {waiting.id}` does)")
            approve(store, waiting.id, "demo")
            stack.worker.wake()
            wait_until(lambda: _in_state(store, "prod", State.PROMOTED), "prod to be promoted")
            _report(stack)
        _say(f"files kept in {tmp}" if keep else "done; everything it started is stopped")
        return 0
    finally:
        if reg is not None:
            reg.stop()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
