"""Drive many promotions through the real registry and `hoist serve` while SIGKILLing the
service at random moments; then check nothing was lost or duplicated. With several
replicas on one PostgreSQL, the registry's notifications go through a balancer to random
replicas, and random replicas are killed and restarted. Used by small tests and by
bench/crash.py and bench/chaos.py for the full runs."""

from __future__ import annotations

import json
import random
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text

from bot.adapters.git_local import log_messages
from bot.adapters.store import Store
from bot.core.render import parse_trailers
from bot.demo.manifests import EXAMPLE, make_manifests_repo
from bot.demo.registry import LocalRegistry, free_port, write_oci_layout
from tests.replicas import Balancer, Replicas
from tests.support import git

FINAL = ("promoted", "superseded", "noop", "failed", "aborted", "reverted")


@dataclass
class CrashReport:
    pushes: int
    kills: int
    events: int
    promotions: int
    by_state: dict[str, int]
    problems: list[str]
    folded: int = 0  # pushes handled in the same pass as a newer push of their image
    settle_seconds: float = 0.0  # from the last push to every promotion final


def _example(root: Path, images: int) -> Path:
    """manifests-example with auto-approved environments; with images > 1, that many
    images (svc0, svc1, ...) each with a Deployment per environment."""
    source = root / "example"
    shutil.copytree(EXAMPLE, source)
    config = source / "demo" / "hoist.yaml"
    if images == 1:
        config.write_text(config.read_text().replace("approval: manual", "approval: none"))
        return source
    lines = ["images:"]
    for i in range(images):
        lines += [f"  svc{i}:", f"    repository: localhost:5000/acme/svc{i}",
                  '    tags: {semver: ">=1.0.0 <2.0.0", prerelease: false}',
                  "    pin: tag@digest"]
    lines.append("environments:")
    for env, after in (("dev", None), ("staging", "dev"), ("prod", "staging")):
        lines += [f"  - name: {env}", "    branch: main", "    approval: none"]
        lines += [f"    after: {after}"] if after else []
        lines.append("    targets:")
        for i in range(images):
            lines.append(f"      - {{file: apps/svc{i}/{env}.yaml, image: svc{i}}}")
            path = source / "apps" / f"svc{i}" / f"{env}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc{i}\n"
                            f"spec:\n  template:\n    spec:\n      containers:\n"
                            f"        - name: app\n"
                            f"          image: localhost:5000/acme/svc{i}:1.0.0\n")
    config.write_text("\n".join(lines) + "\n")
    return source


def run_crash_harness(root: Path, pushes: int, kills: int, seed: int = 7, replicas: int = 1,
                      database_url: str | None = None, images: int = 1,
                      lease_seconds: float = 5.0) -> CrashReport:
    rng = random.Random(seed)
    reg_port = free_port()
    url = make_manifests_repo(root / "origin", f"localhost:{reg_port}", _example(root, images))
    origin = Path(url.removeprefix("file://"))
    token = secrets.token_hex(16)
    env = {"HOIST_MANIFESTS_REPO": url, "HOIST_WEBHOOK_SECRET": token,
           "HOIST_POLL_INTERVAL": "0.1", "HOIST_LOG_FORMAT": "json",
           "HOIST_LEASE_SECONDS": str(lease_seconds)}
    store_url = database_url or f"sqlite:///{root / 'replica-0' / 'hoist.db'}"
    if database_url:
        env["HOIST_DATABASE_URL"] = database_url
    group = Replicas(root, replicas, env)
    balancer = Balancer(group, seed).start()
    registry = LocalRegistry(root / "registry", reg_port,
                             f"{balancer.url}/webhooks/registry/distribution", token)
    group.start()
    registry.start()
    kill_at = sorted(rng.sample(range(1, pushes), min(kills, pushes - 1)))
    killed = 0
    settle = 0.0
    try:
        for i in range(pushes):
            image, k = (i % images, i // images)
            name = "acme/guestbook" if images == 1 else f"acme/svc{image}"
            tag = f"1.{k // 10}.{k % 10}"
            layout = root / "layout" / str(image)
            write_oci_layout(layout, tag, f"harness {name} {tag}")
            registry.push(layout, tag, name)
            if kill_at and i == kill_at[0]:
                kill_at.pop(0)
                time.sleep(rng.uniform(0.0, 0.4))  # somewhere in the middle of the work
                victim = rng.choice(group.alive())
                group.kill(victim)
                killed += 1
                victim.start()
        pushed = time.monotonic()
        deadline = pushed + 120 + pushes
        while time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                data = httpx.get(f"{balancer.url}/api/promotions?limit=1000", timeout=10).json()
                metrics = httpx.get(f"{balancer.url}/metrics", timeout=10).text
            except (httpx.TransportError, ValueError):
                continue
            settled = all(p["state"] in FINAL for p in data["promotions"])
            if settled and "hoist_inbox_pending 0.0" in metrics:
                settle = time.monotonic() - pushed
                break
    finally:
        registry.stop()
        group.stop()
        balancer.stop()
    return _check(store_url, origin, pushes, killed, settle)


def _check(store_url: str, origin: Path, pushes: int, kills: int,
           settle: float) -> CrashReport:
    store = Store(store_url)
    problems: list[str] = []
    with store.engine.connect() as db:
        def rows(sql: str) -> list[tuple[object, ...]]:
            return [tuple(r) for r in db.execute(text(sql)).all()]

        stored = rows("SELECT key, repository, processed_at FROM events")
        unprocessed = sum(1 for _, _, at in stored if at is None)
        if unprocessed:
            problems.append(f"{unprocessed} stored events never processed")
        found = rows("SELECT id, state, environment, digest FROM promotions")
        by_state: dict[str, int] = {}
        for _, state, _, _ in found:
            by_state[str(state)] = by_state.get(str(state), 0) + 1
        active = {s: n for s, n in by_state.items() if s not in FINAL}
        if active:
            problems.append(f"promotions not final: {active}")
        # Every stored push either started its own promotion or was folded into a newer
        # push of the same image handled in the same pass (a burst yields the newest).
        started = {k for (k,) in rows("SELECT event_key FROM promotions"
                                      " WHERE event_key IS NOT NULL")}
        passes: dict[tuple[object, object], set[object]] = {}
        for key, repository, at in stored:
            passes.setdefault((repository, at), set()).add(key)
        lost = [key for key, repository, at in stored
                if key not in started and not passes[(repository, at)] & started]
        if lost:
            problems.append(f"{len(lost)} pushes neither promoted nor folded into a newer one")
        folded = sum(1 for key, _, _ in stored if key not in started) - len(lost)
        twice = rows("SELECT event_key, environment FROM promotions WHERE event_key IS NOT"
                     " NULL GROUP BY event_key, environment HAVING COUNT(*) > 1")
        if twice:
            problems.append(f"a push started two promotions in one environment: {twice[:3]}")
        keys = [(env, digest) for _, _, env, digest in found]
        if len(keys) != len(set(keys)):
            problems.append("duplicate promotions for one digest and environment")
        crs = rows("SELECT promotion_id, COUNT(*) FROM change_requests GROUP BY promotion_id"
                   " HAVING COUNT(*) > 1")
        if crs:
            problems.append(f"duplicate change requests: {crs}")
        promoted_twice = rows("SELECT promotion_id FROM transitions WHERE to_state='promoted'"
                              " GROUP BY promotion_id HAVING COUNT(*) > 1")
        if promoted_twice:
            problems.append(f"promoted twice: {promoted_twice[:3]}")
    store.close()
    landed = [parse_trailers(m).get("Hoist-Promotion")
              for _, _, _, m in log_messages(origin, "main")]
    landed = [p for p in landed if p]
    if len(landed) != len(set(landed)):
        problems.append("a promotion landed twice on main")
    if git(origin, "rev-list", "--merges", "main").strip():
        problems.append("main has merge commits: history is not linear")
    fsck = subprocess.run(["git", "-C", str(origin), "fsck", "--no-progress"],
                          capture_output=True, text=True)
    if fsck.returncode != 0:
        problems.append(f"git fsck: {fsck.stderr.strip()[:200]}")
    return CrashReport(pushes, kills, len(stored), len(found), by_state, problems, folded,
                       round(settle, 1))


if __name__ == "__main__":  # pragma: no cover
    import sys
    import tempfile

    report = run_crash_harness(Path(tempfile.mkdtemp()), int(sys.argv[1]), int(sys.argv[2]))
    print(json.dumps(report.__dict__, indent=2))
