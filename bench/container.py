"""The image and the Compose stack under a real engine, each number beside a baseline
measured in the same run on the same machine:

- build: `docker build` of the Dockerfile on a fresh engine (no layer cache; the stand-in base
  comes from its cache) vs `python -m venv` + `pip install .` of the project on the host;
- image size (absolute), and how much of it is the base;
- time to healthy: `docker run` (read-only, tmpfs /tmp, a volume) to the first 200 from
  /healthz vs `hoist serve` started as a host process to the same;
- push through the stack: a skopeo push to the Compose stack's localhost:5000 until dev is
  promoted (GET /api/promotions) vs the same push to docker-registry + `hoist serve` on the host.

Needs root and what the container tests need (tests/container_engine.py); `--rounds` sets how
many starts and pushes each median is taken over.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bot.demo.manifests import make_manifests_repo
from bot.demo.registry import LocalRegistry, free_port, write_oci_layout
from tests.compose_stack import ComposeStack
from tests.container_engine import HOIST_TAG, Engine, build_images
from tests.support import ROOT, ServiceProcess, wait_for


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def promoted(url: str, tag: str) -> bool:
    return any(p["environment"] == "dev" and p["tag"] == tag and p["state"] == "promoted"
               for p in httpx.get(f"{url}/api/promotions", timeout=5).json()["promotions"])


def host_install(root: Path) -> float:
    """Seconds for a fresh venv with the project installed: the builder stage, on the host."""
    venv = root / "venv"
    return timed(lambda: (subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True),
                          subprocess.run([str(venv / "bin" / "pip"), "install", "-q",
                                          "--no-cache-dir", str(ROOT)], check=True,
                                         capture_output=True)))


def container_start(engine: Engine, root: Path, round_: int) -> float:
    """Seconds from `docker run` to /healthz answering, read-only with a volume."""
    origin = Path(make_manifests_repo(root / f"origin-{round_}").removeprefix("file://"))
    subprocess.run(["chown", "-R", "10001:10001", str(origin)], check=True)
    port, name = free_port(), f"bench-{round_}"
    url = f"http://127.0.0.1:{port}"

    def start() -> None:
        engine.docker("run", "--detach", "--name", name, "--network", engine.network,
                      "--read-only", "--tmpfs", "/tmp", "--volume", f"{name}:/var/lib/hoist",
                      "--volume", f"{origin}:/srv/git/manifests.git",
                      "--publish", f"127.0.0.1:{port}:8080",
                      "--env", "HOIST_MANIFESTS_REPO=file:///srv/git/manifests.git",
                      "--env", f"HOIST_WEBHOOK_SECRET={secrets.token_hex(8)}", HOIST_TAG)
        wait_for(lambda: answers(url), "the container's /healthz", timeout=60)

    try:
        return timed(start)
    finally:
        engine.docker("rm", "--force", "--volumes", name, check=False)
        engine.docker("volume", "rm", name, check=False)


def host_start(root: Path, round_: int) -> float:
    """Seconds from starting `hoist serve` on the host to /healthz answering."""
    url = make_manifests_repo(root / f"host-origin-{round_}")
    service = ServiceProcess(free_port(), {
        "HOIST_MANIFESTS_REPO": url, "HOIST_DATA_DIR": str(root / f"host-data-{round_}"),
        "HOIST_WEBHOOK_SECRET": secrets.token_hex(8)}, root / "host.log")
    try:
        return timed(service.start)
    finally:
        service.stop()


def push(layout: Path, tag: str, destination: str) -> None:
    write_oci_layout(layout, tag, f"bench {tag}")
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
                    f"oci:{layout}:{tag}", f"docker://{destination}:{tag}"],
                   check=True, capture_output=True, timeout=60)


def pushes_through(url: str, destination: str, layout: Path, rounds: int) -> list[float]:
    """Seconds from each push's start until dev is promoted to it."""
    times = []
    for i in range(rounds):
        tag = f"1.{i + 1}.0"
        began = time.perf_counter()
        push(layout, tag, destination)
        wait_for(lambda: promoted(url, tag), f"dev promoted to {tag}", timeout=120)  # noqa: B023
        times.append(time.perf_counter() - began)
    return times


def host_pushes(root: Path, rounds: int) -> list[float]:
    """The same pushes to docker-registry and `hoist serve` running on the host."""
    port = free_port()
    url = make_manifests_repo(root / "host-push-origin", f"localhost:{port}")
    token = secrets.token_hex(8)
    service = ServiceProcess(free_port(), {
        "HOIST_MANIFESTS_REPO": url, "HOIST_DATA_DIR": str(root / "host-push-data"),
        "HOIST_WEBHOOK_SECRET": token}, root / "host-push.log")
    service.start()
    registry = LocalRegistry(root / "host-registry", port,
                             f"{service.url}/webhooks/registry/distribution", token)
    registry.start()
    try:
        return pushes_through(service.url, f"localhost:{port}/acme/guestbook",
                              root / "host-layout", rounds)
    finally:
        registry.stop()
        service.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hoist-bench-container-"))
    revision = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
    engine = Engine.started()
    stack: ComposeStack | None = None
    try:
        built = build_images(engine, revision)
        baseline_build = host_install(root)
        size, base = (int(engine.docker("image", "inspect", "--format", "{{.Size}}", tag).stdout)
                      for tag in (HOIST_TAG, "hoist-test/python-base:bookworm"))
        starts = [container_start(engine, root, i) for i in range(args.rounds)]
        host_starts = [host_start(root, i) for i in range(args.rounds)]
        stack = ComposeStack(engine, root / "stack")
        stack.prepare()
        began = time.perf_counter()
        stack.up()
        wait_for(stack.healthy, "the stack healthy", timeout=120)
        up = time.perf_counter() - began
        through = pushes_through(stack.hoist_url, "localhost:5000/acme/guestbook",
                                 root / "layout", args.rounds)
        direct = host_pushes(root, args.rounds)
    finally:
        if stack is not None:
            stack.down()
        engine.stop()
    median = statistics.median
    report = {
        "build_s": round(built["hoist"], 1), "host_install_s": round(baseline_build, 1),
        "build_ratio": round(built["hoist"] / baseline_build, 2),
        "base_import_s": round(built["base"], 1), "standins_build_s": round(built["standins"], 1),
        "image_mb": round(size / 1e6), "of_which_base_mb": round(base / 1e6),
        "healthy_s": round(median(starts), 2), "host_healthy_s": round(median(host_starts), 2),
        "healthy_ratio": round(median(starts) / median(host_starts), 2),
        "stack_up_to_healthy_s": round(up, 1),
        "push_through_stack_s": round(median(through), 2),
        "push_through_host_s": round(median(direct), 2),
        "push_ratio": round(median(through) / median(direct), 2),
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
