"""Drive many promotions through the real registry and `hoist serve` while SIGKILLing the
service at random moments; then check nothing was lost or duplicated. Used by a small test
and by bench/crash.py for the full run."""

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

from bot.adapters.git import log_messages
from bot.core.render import parse_trailers
from bot.demo.manifests import EXAMPLE, make_manifests_repo
from bot.demo.registry import LocalRegistry, free_port, write_oci_layout
from tests.support import ServiceProcess, git


@dataclass
class CrashReport:
    pushes: int
    kills: int
    events: int
    promotions: int
    by_state: dict[str, int]
    problems: list[str]
    folded: int = 0  # pushes handled in the same pass as a newer push of their image


def run_crash_harness(root: Path, pushes: int, kills: int, seed: int = 7) -> CrashReport:
    rng = random.Random(seed)
    source = root / "example"
    shutil.copytree(EXAMPLE, source)
    config = source / "demo" / "hoist.yaml"
    config.write_text(config.read_text().replace("approval: manual", "approval: none"))
    reg_port = free_port()
    url = make_manifests_repo(root / "origin", f"localhost:{reg_port}", source)
    origin = Path(url.removeprefix("file://"))
    token = secrets.token_hex(16)
    service = ServiceProcess(free_port(), {
        "HOIST_MANIFESTS_REPO": url, "HOIST_DATA_DIR": str(root / "data"),
        "HOIST_WEBHOOK_SECRET": token, "HOIST_POLL_INTERVAL": "0.1",
        "HOIST_LOG_FORMAT": "json"}, root / "hoist.log")
    registry = LocalRegistry(root / "registry", reg_port,
                             f"{service.url}/webhooks/registry/distribution", token)
    service.start()
    registry.start()
    kill_at = sorted(rng.sample(range(1, pushes), min(kills, pushes - 1)))
    killed = 0
    try:
        for i in range(pushes):
            tag = f"1.{i // 10}.{i % 10}"
            write_oci_layout(root / "layout", tag, f"harness {tag}")
            registry.push(root / "layout", tag, "acme/guestbook")
            if kill_at and i == kill_at[0]:
                kill_at.pop(0)
                time.sleep(rng.uniform(0.0, 0.4))  # somewhere in the middle of the work
                assert service.process is not None
                service.process.kill()
                service.process.wait()
                killed += 1
                service.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.5)
            data = httpx.get(f"{service.url}/api/promotions?limit=1000", timeout=10).json()
            metrics = httpx.get(f"{service.url}/metrics", timeout=10).text
            settled = all(p["state"] in ("promoted", "superseded", "noop", "failed", "aborted",
                                         "reverted") for p in data["promotions"])
            if settled and "hoist_inbox_pending 0.0" in metrics:
                break
    finally:
        registry.stop()
        service.stop()
    return _check(root / "data" / "hoist.db", origin, pushes, killed)


def _check(db_path: Path, origin: Path, pushes: int, kills: int) -> CrashReport:
    import sqlite3

    db = sqlite3.connect(db_path)
    problems: list[str] = []
    events = db.execute("SELECT COUNT(*), SUM(processed_at IS NULL) FROM events").fetchone()
    if events[1]:
        problems.append(f"{events[1]} stored events never processed")
    rows = db.execute("SELECT id, state, environment, digest FROM promotions").fetchall()
    by_state: dict[str, int] = {}
    for _, state, _, _ in rows:
        by_state[state] = by_state.get(state, 0) + 1
    active = {s: n for s, n in by_state.items() if s not in (
        "promoted", "superseded", "noop", "failed", "aborted", "reverted")}
    if active:
        problems.append(f"promotions not final: {active}")
    # Every stored push either started its own promotion or was folded into a newer push of
    # the same image handled in the same pass (a burst yields the newest): none is lost.
    started = {k for (k,) in db.execute("SELECT event_key FROM promotions WHERE event_key IS NOT NULL")}
    passes: dict[tuple[str, float], set[str]] = {}
    stored = db.execute("SELECT key, repository, processed_at FROM events").fetchall()
    for key, repository, at in stored:
        passes.setdefault((repository, at), set()).add(key)
    lost = [key for key, repository, at in stored
            if key not in started and not passes[(repository, at)] & started]
    if lost:
        problems.append(f"{len(lost)} pushes neither promoted nor folded into a newer one")
    folded = sum(1 for key, _, _ in stored if key not in started) - len(lost)
    twice = db.execute("SELECT event_key, environment FROM promotions WHERE event_key IS NOT NULL"
                       " GROUP BY event_key, environment HAVING COUNT(*) > 1").fetchall()
    if twice:
        problems.append(f"a push started two promotions in one environment: {twice[:3]}")
    keys = [(env, digest) for _, _, env, digest in rows]
    if len(keys) != len(set(keys)):
        problems.append("duplicate promotions for one digest and environment")
    crs = db.execute("SELECT promotion_id, COUNT(*) FROM change_requests GROUP BY promotion_id"
                     " HAVING COUNT(*) > 1").fetchall()
    if crs:
        problems.append(f"duplicate change requests: {crs}")
    landed = [parse_trailers(m).get("Hoist-Promotion") for _, _, _, m in log_messages(origin,
                                                                                       "main")]
    landed = [p for p in landed if p]
    if len(landed) != len(set(landed)):
        problems.append("a promotion landed twice on main")
    if git(origin, "rev-list", "--merges", "main").strip():
        problems.append("main has merge commits: history is not linear")
    fsck = subprocess.run(["git", "-C", str(origin), "fsck", "--no-progress"],
                          capture_output=True, text=True)
    if fsck.returncode != 0:
        problems.append(f"git fsck: {fsck.stderr.strip()[:200]}")
    branches = git(origin, "branch", "--format=%(refname:short)").split()
    if sorted(b for b in branches if b.startswith("hoist/")) != sorted(set(
            b for b in branches if b.startswith("hoist/"))):
        problems.append("duplicate branches")
    return CrashReport(pushes, kills, int(events[0]), len(rows), by_state, problems, folded)


if __name__ == "__main__":  # pragma: no cover
    import sys
    import tempfile

    report = run_crash_harness(Path(tempfile.mkdtemp()), int(sys.argv[1]), int(sys.argv[2]))
    print(json.dumps(report.__dict__, indent=2))
