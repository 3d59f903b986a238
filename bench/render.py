"""Render time added to push → change request (issue 26).

Runs Hoist in-process (real git remote, SQLite store, local forge, the real renderers) and
times one promotion from the push being stored to its change request being recorded, with
rendering on and, as the baseline in the same run, off: interleaved rounds, each on a fresh
copy of the repository. Two repositories: manifests-example/ (a Kustomize overlay and, with
--helm, the Helm values file) and a generated monorepo of 200 Kustomize apps. Then a newer
push of the same app in the same store, whose "before" render comes from the cache.

Reports p50 and p90 with and without rendering, the p50 added and the ratio, and the cache's
hits. Goal: p50 added under 1 s for a typical Kustomize app.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import structlog

from bot import log
from bot.adapters.config_source import ConfigSource
from bot.adapters.forges.local import LocalForge
from bot.adapters.git import GitRepo
from bot.adapters.rendering import RenderEngine
from bot.adapters.store import Store
from bot.core.events import ImagePushed
from bot.demo.manifests import EXAMPLE, make_manifests_repo
from bot.flows.services import Services
from bot.worker import Worker


def example(dest: Path) -> tuple[str, str]:
    """manifests-example with every approval manual (the pass stops at the change request)."""
    source = dest / "source"
    shutil.copytree(EXAMPLE, source)
    policy = source / "demo" / "hoist.yaml"
    policy.write_text(policy.read_text().replace("approval: none", "approval: manual"))
    return make_manifests_repo(dest / "origin", "localhost:5000", source), "acme/guestbook"


def monorepo(dest: Path, apps: int = 200) -> tuple[str, str]:
    """`apps` Kustomize apps (base + dev overlay), one image each, all in one environment."""
    source = dest / "source"
    images, targets = [], []
    for i in range(apps):
        app = source / "apps" / f"app-{i:03d}"
        (app / "base").mkdir(parents=True)
        (app / "overlays" / "dev").mkdir(parents=True)
        (app / "base" / "deployment.yaml").write_text(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i:03d}\nspec:\n"
            f"  selector:\n    matchLabels: {{app: a{i}}}\n  template:\n    metadata:\n"
            f"      labels: {{app: a{i}}}\n    spec:\n      containers:\n        - name: app\n"
            f"          image: localhost:5000/acme/app-{i:03d}:1.0.0\n")
        (app / "base" / "service.yaml").write_text(
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: app-{i:03d}\nspec:\n"
            f"  selector: {{app: a{i}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n")
        (app / "base" / "kustomization.yaml").write_text(
            "resources:\n  - deployment.yaml\n  - service.yaml\n")
        (app / "overlays" / "dev" / "kustomization.yaml").write_text(
            f"namespace: dev\nresources:\n  - ../../base\nimages:\n"
            f"  - name: localhost:5000/acme/app-{i:03d}\n    newTag: \"1.0.0\"\n")
        images.append(f"  app-{i:03d}:\n    repository: localhost:5000/acme/app-{i:03d}\n")
        targets.append(f"      - {{file: apps/app-{i:03d}/overlays/dev/kustomization.yaml, "
                       f"image: app-{i:03d}}}\n")
    (source / "hoist.yaml").write_text(
        "images:\n" + "".join(images) + "environments:\n  - name: dev\n    approval: manual\n"
        "    targets:\n" + "".join(targets))
    (source / "demo").mkdir()
    shutil.copy(source / "hoist.yaml", source / "demo" / "hoist.yaml")
    return make_manifests_repo(dest / "origin", "localhost:5000", source), "acme/app-042"


def one_round(root: Path, make: Callable[[Path], tuple[str, str]], render: bool,
              again: bool) -> tuple[float, float | None, RenderEngine | None]:
    """Seconds from push to change request; with `again`, the same for a newer push of the
    same app right after (its unchanged "before" render cached)."""
    if root.exists():
        shutil.rmtree(root)
    url, repository = make(root)
    store = Store(f"sqlite:///{root / 'hoist.db'}")
    repo = GitRepo(url, root / "cache.git")
    repo.sync()
    services = Services(store, repo, LocalForge(store, repo), ConfigSource(repo, "hoist.yaml", None))
    engine = RenderEngine() if render else None
    services.renderer = engine
    Worker(services).run_once()  # config loaded, caches warm: only the promotion is timed
    times: list[float] = []
    for n, tag in enumerate(("1.4.2", "1.4.3")[:2 if again else 1]):
        started = time.perf_counter()
        digest = "sha256:" + "bc"[n] * 64  # a new image: the same digest is the same push
        store.add_events([ImagePushed("distribution", f"e{n}", "localhost:5000", repository, tag,
                                      digest)], time.time())
        worker = Worker(services)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(
                store.change_request(p.id) for p in store.promotions() if p.tag == tag):
            worker.run_once()
        times.append(time.perf_counter() - started)
    store.close()
    return times[0], times[1] if again else None, engine


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def measure(name: str, make: Callable[[Path], tuple[str, str]], rounds: int, work: Path) -> float:
    off: list[float] = []
    on: list[float] = []
    cached: list[float] = []
    hits = misses = 0
    for i in range(rounds):
        for render in (i % 2 == 0, i % 2 == 1):  # interleaved: neither mode always goes first
            first, second, engine = one_round(work / name, make, render, again=render)
            (on if render else off).append(first)
            if second is not None and engine is not None:
                cached.append(second)
                hits, misses = hits + engine.hits, misses + engine.misses
    added = statistics.median(on) - statistics.median(off)
    print(f"{name}: push → change request, {rounds} rounds each")
    print(f"  without rendering (baseline): p50 {statistics.median(off) * 1000:7.0f} ms   "
          f"p90 {p(off, 0.9) * 1000:7.0f} ms")
    print(f"  with rendering:               p50 {statistics.median(on) * 1000:7.0f} ms   "
          f"p90 {p(on, 0.9) * 1000:7.0f} ms")
    print(f"  newer push, before cached:    p50 {statistics.median(cached) * 1000:7.0f} ms")
    print(f"  added p50: {added * 1000:.0f} ms ({statistics.median(on) / statistics.median(off):.2f}× "
          f"the baseline); cache {hits} hits, {misses} renders; goal < 1000 ms: "
          f"{'met' if added < 1.0 else 'NOT met'}")
    return added


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--apps", type=int, default=200)
    args = parser.parse_args()
    log.configure("json")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    work = Path(tempfile.mkdtemp(prefix="hoist-bench-render-"))
    try:
        added = [measure("manifests-example (Kustomize overlay)", example, args.rounds, work),
                 measure(f"monorepo of {args.apps} Kustomize apps",
                         lambda dest: monorepo(dest, args.apps), args.rounds, work)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if max(added) < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
