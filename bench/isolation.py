"""Isolation: while the GitHub double answers one image's calls in 2 s each, how long does
a push of another image take to reach its pull request? Measured against the same push with
GitHub answering everything at once, in the same run, with HOIST_WORKERS threads (default
4) and with one worker thread (everything behind the slow image, as before the pool)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.demo.manifests import distribution_envelope, make_manifests_repo
from bot.demo.registry import free_port
from tests.crash_harness import _example
from tests.github_double import GitHubDouble
from tests.support import ServiceProcess

TOKEN = "bench-token"


def post(service: ServiceProcess, image: str, tag: str) -> None:
    digest = "sha256:" + (tag.replace(".", "") * 64)[:64]
    body = json.dumps(distribution_envelope("localhost:5000", f"acme/{image}", tag, digest))
    answer = httpx.post(f"{service.url}/webhooks/registry/distribution", content=body,
                        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    answer.raise_for_status()


def pull_request_seconds(double: GitHubDouble, service: ServiceProcess, image: str,
                         tag: str, timeout: float = 120) -> float:
    """Seconds from the push of image:tag to its dev pull request existing."""
    started = time.monotonic()
    post(service, image, tag)
    while time.monotonic() - started < timeout:
        if any(p["head"] == f"hoist/dev/{image}" and tag in p["title"]
               for p in list(double.pulls.values())):
            return time.monotonic() - started
        time.sleep(0.02)
    raise TimeoutError(f"{image}:{tag} never reached its pull request")


def measure(root: Path, workers: int, delay: float) -> dict[str, Any]:
    url = make_manifests_repo(root / "origin", "localhost:5000", _example(root, 2))
    double = GitHubDouble(Path(url.removeprefix("file://"))).start()
    service = ServiceProcess(free_port(), {
        "HOIST_MANIFESTS_REPO": url, "HOIST_DATA_DIR": str(root / "data"),
        "HOIST_WEBHOOK_SECRET": TOKEN, "HOIST_GITHUB_TOKEN": "ghs_bench",
        "HOIST_GITHUB_API_URL": double.url, "HOIST_GITHUB_REPOSITORY": "acme/manifests",
        "HOIST_GITHUB_PACE": "0", "HOIST_POLL_INTERVAL": "0.05", "HOIST_LOG_FORMAT": "json",
        "HOIST_WORKERS": str(workers)}, root / "hoist.log")
    service.start()
    try:
        pull_request_seconds(double, service, "svc1", "1.0.1")  # warm: caches, connections
        unloaded = min(pull_request_seconds(double, service, "svc1", f"1.0.{n}")
                       for n in (2, 3))
        double.slow_branches = {"hoist/dev/svc0": delay, "hoist/staging/svc0": delay}
        post(service, "svc0", "1.0.1")  # its calls now take `delay` seconds each
        time.sleep(1.0)  # svc0 is in the middle of its slow calls
        loaded = pull_request_seconds(double, service, "svc1", "1.0.4")
    finally:
        service.stop()
        double.stop()
    return {"workers": workers, "unloaded_s": round(unloaded, 2), "loaded_s": round(loaded, 2),
            "ratio": round(loaded / unloaded, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--delay", type=float, default=2.0, help="seconds per slow call")
    args = parser.parse_args()
    results = []
    for workers in (args.workers, 1):
        root = Path(tempfile.mkdtemp(prefix="hoist-isolation-"))
        try:
            results.append(measure(root, workers, args.delay))
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps({"slow_call_s": args.delay, "goal_ratio": 1.5, "pool": results[0],
                      "one_thread": results[1]}, indent=2))
    return 0 if results[0]["ratio"] <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
