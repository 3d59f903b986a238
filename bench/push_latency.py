"""Time from a registry notification being received to its change request being recorded.

Runs Hoist in-process against a throw-away manifests repo, pushes N images one after the
other (through a real docker-registry + skopeo when installed, else synthetic notifications),
and reports median and worst latency, plus the ratio to a baseline measured in the same run:
one plain `git commit` + `git push` to the same kind of file:// remote (the floor of what any
git-based promotion must pay on this machine right now).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import structlog

from bot import log
from bot.demo import registry
from bot.demo.manifests import distribution_envelope, make_manifests_repo
from bot.demo.stack import LocalStack, wait_until


def git_baseline(root: Path, rounds: int, files: int) -> list[float]:
    """Seconds for `git commit` + `git push` of a one-line change, `rounds` times."""
    url = make_manifests_repo(root / "baseline", "localhost:5000", extra_files=files)
    work = root / "baseline-clone"
    subprocess.run(["git", "clone", "-q", url, str(work)], check=True)
    times = []
    for i in range(rounds):
        started = time.perf_counter()
        (work / "bench.txt").write_text(f"{i}\n")
        for args in (["add", "bench.txt"], ["-c", "user.name=b", "-c", "user.email=b@b",
                                             "commit", "-qm", f"bench {i}"], ["push", "-q"]):
            subprocess.run(["git", "-C", str(work), *args], check=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--files", type=int, default=0,
                        help="pad the manifests repo with this many unrelated files")
    parser.add_argument("--back-to-back", action="store_true",
                        help="push as soon as the previous change request exists, while the bot "
                             "is still promoting it through staging and prod (queueing included)")
    args = parser.parse_args()
    log.configure("json")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    root = Path(tempfile.mkdtemp(prefix="hoist-bench-"))
    reg_port = registry.free_port()
    real = registry.available()
    latencies: list[float] = []
    with LocalStack(root, f"localhost:{reg_port}", args.files) as stack:
        hook = f"{stack.url}/webhooks/registry/distribution"
        reg = None
        if real:
            reg = registry.LocalRegistry(root / "registry", reg_port, hook, stack.token)
            reg.start()
        store = stack.services.store
        try:
            for i in range(args.pushes):
                tag = f"1.0.{i + 1}"
                if reg is not None:
                    registry.write_oci_layout(root / "layout", tag, f"bench {tag}")
                    reg.push(root / "layout", tag, "acme/guestbook")
                else:
                    digest = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
                    httpx.post(hook, json=distribution_envelope(f"localhost:{reg_port}",
                                                                "acme/guestbook", tag, digest),
                               headers={"Authorization": f"Bearer {stack.token}"},
                               timeout=10).raise_for_status()

                def recorded(tag: str = tag) -> bool:
                    return any(p.tag == tag and p.environment == "dev" and p.change_request
                               for p in store.promotions(10))

                wait_until(recorded, f"the change request for {tag}")
                p = next(p for p in store.promotions(10) if p.tag == tag and p.environment == "dev")
                cr = store.change_request(p.id)
                assert cr is not None
                latencies.append(cr.created_at - p.received_at)
                print(f"push {i + 1:2d}/{args.pushes}: {tag} {latencies[-1] * 1000:7.1f} ms",
                      file=sys.stderr)
                if not args.back_to_back:  # each push meets an idle bot: latency, not queueing
                    wait_until(lambda tag=tag: any(  # type: ignore[misc]
                        p.tag == tag and p.environment == "prod" and p.change_request
                        for p in store.promotions(10)), f"prod's change request for {tag}")
        finally:
            if reg is not None:
                reg.stop()
    baseline = statistics.median(git_baseline(root, 10, args.files))
    shutil.rmtree(root, ignore_errors=True)
    median, worst = statistics.median(latencies), max(latencies)
    print(f"source: {'docker-registry + skopeo' if real else 'synthetic notifications'}")
    print(f"pushes: {len(latencies)}{' back to back' if args.back_to_back else ', each to an idle bot'}")
    p99 = sorted(latencies)[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"manifests repo: {args.files} extra files")
    print(f"notification received -> change request recorded: median {median * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms, worst {worst * 1000:.1f} ms")
    print(f"baseline (git commit + push, median of 10): {baseline * 1000:.1f} ms")
    print(f"ratio to baseline: median {median / baseline:.2f}x, worst {worst / baseline:.2f}x")
    # The service (web app and worker) runs in this process; git's children are counted apart.
    print(f"peak RSS of the service: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
