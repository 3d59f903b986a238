"""Many projects in one Hoist (issue 24), each measured against one project in the same run.

- fan-out: `hoist serve` with P projects (each its own manifests repo of I images on the
  local forge, all naming the shared image svc0) takes one push of svc0; the seconds until
  all P dev change requests exist, and each project's first change request against a
  single project's (goal: all within 10 s; each no later than the single one + 1 s). On one
  replica over SQLite, and on three replicas over PostgreSQL.
- memory per idle project: the serve process's RSS with P projects open and idle, less
  with one, divided by P - 1 (goal < 2 MB).
- the page: `/`, a project's board and its API for a viewer of P projects with N stored
  promotions, against one project holding its share (goal < 200 ms).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.adapters.store import Store
from bot.demo.manifests import distribution_envelope, make_manifests_repo
from bot.demo.registry import free_port
from tests.crash_harness import _example
from tests.postgres_server import PostgresServer
from tests.replicas import Replicas
from tests.support import ServiceProcess

TOKEN = "bench-token"
_rounds = iter(range(1, 1000))  # each measurement pushes versions of its own: 1.<round>.x


def repos(root: Path, projects: int, images: int) -> list[str]:
    """`projects` bare manifests repos, each of `images` images svc0... (auto-approved)."""
    source = _example(root, images)
    return [make_manifests_repo(root / f"repo-{i}", "localhost:5000", source)
            for i in range(projects)]


def projects_file(path: Path, urls: list[str]) -> Path:
    path.write_text("projects:\n" + "".join(
        f"  - name: p{i:02d}\n    repo: {url}\n    forge: {{kind: local}}\n"
        for i, url in enumerate(urls)))
    return path


def env_for(root: Path, projects: Path, database: str | None) -> dict[str, str]:
    env = {"HOIST_PROJECTS": str(projects), "HOIST_DATA_DIR": str(root / "data"),
           "HOIST_WEBHOOK_SECRET": TOKEN,
           "HOIST_LOG_FORMAT": "json", "HOIST_WORKERS": "1",
           "HOIST_RECONCILE_INTERVAL": "3600"}
    if database:
        env["HOIST_DATABASE_URL"] = database
    return env


def push(url: str, image: str, tag: str) -> float:
    digest = "sha256:" + (tag.replace(".", "") * 64)[:64]
    body = json.dumps(distribution_envelope("localhost:5000", f"acme/{image}", tag, digest))
    sent = time.time()
    httpx.post(f"{url}/webhooks/registry/distribution", content=body, timeout=30,
               headers={"Authorization": f"Bearer {TOKEN}"}).raise_for_status()
    return sent


def first_crs(store: Store, tag: str, image: str) -> dict[str, float]:
    """Project -> when its dev change request for image:tag was recorded (epoch s)."""
    from sqlalchemy import text

    with store.engine.connect() as db:
        rows = db.execute(text(
            "SELECT p.project, min(c.created_at) FROM promotions p JOIN change_requests c"
            " ON c.promotion_id = p.id WHERE p.tag = :tag AND p.environment = 'dev'"
            " AND p.image_key = :image GROUP BY p.project"), {"tag": tag, "image": image})
        return {r[0]: float(r[1]) for r in rows}


def settle(store: Store, timeout: float = 600) -> None:
    """Wait until no promotion is unfinished (the warm-up's later environments done)."""
    from sqlalchemy import text

    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        with store.engine.connect() as db:
            busy = db.execute(text("SELECT count(*) FROM promotions WHERE state NOT IN "
                                   "('promoted', 'noop', 'superseded', 'reverted', "
                                   "'aborted', 'failed')")).scalar_one()
        if not busy:
            return
        time.sleep(0.2)
    raise TimeoutError("promotions never settled")


def wait_ready(url: str, count: int, timeout: float = 600) -> None:
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        try:
            rows = httpx.get(f"{url}/api/projects?page=1", timeout=5).json()["projects"]
            rows += httpx.get(f"{url}/api/projects?page=2", timeout=5).json()["projects"]
            if len(rows) == count and all(r["health"] == "ready" for r in rows):
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{count} projects never all ready at {url}")


def fan_out(url: str, store: Store, count: int, tag: str, image: str = "svc0",
            timeout: float = 300) -> list[float]:
    """Seconds from one push to each project's dev change request, sorted."""
    sent = push(url, image, tag)
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        found = first_crs(store, tag, image)
        if len(found) >= count:
            return sorted(at - sent for at in found.values())
        time.sleep(0.05)
    raise TimeoutError(f"only {len(first_crs(store, tag, image))} of {count} change requests")


def rss_mb(service: ServiceProcess) -> float:
    assert service.process is not None
    status = Path(f"/proc/{service.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("VmRSS:"))) / 1024


def one_replica(root: Path, urls: list[str]) -> dict[str, Any]:
    """Single project, then all of them, on one `hoist serve` over SQLite."""
    found: dict[str, Any] = {}
    for label, chosen in (("single", urls[:1]), ("all", urls)):
        where = root / f"sqlite-{label}"
        where.mkdir()
        service = ServiceProcess(free_port(), env_for(
            where, projects_file(where / "projects.yaml", chosen), None), where / "hoist.log")
        service.start()
        try:
            wait_ready(service.url, len(chosen))
            time.sleep(2.0)  # settled: every project's checkout and config read
            found[f"{label}_idle_rss_mb"] = round(rss_mb(service), 1)
            store = Store(where / "data" / "hoist.db")
            n = next(_rounds)
            fan_out(service.url, store, len(chosen), f"1.{n}.1", "svc1")  # warm
            settle(store)
            times = fan_out(service.url, store, len(chosen), f"1.{n}.2")
            found[f"{label}_first_cr_s"] = round(times[0], 2)
            found[f"{label}_median_cr_s"] = round(statistics.median(times), 2)
            found[f"{label}_last_cr_s"] = round(times[-1], 2)
            found[f"{label}_times"] = times
            store.close()
        finally:
            service.stop()
    per_project = (found["all_idle_rss_mb"] - found["single_idle_rss_mb"]) / (len(urls) - 1)
    found["idle_mb_per_project"] = round(per_project, 2)
    return summarize(found)


def three_replicas(root: Path, urls: list[str]) -> dict[str, Any]:
    """Single project, then all of them, on three replicas sharing PostgreSQL."""
    server = PostgresServer().start()
    found: dict[str, Any] = {}
    try:
        for label, chosen in (("single", urls[:1]), ("all", urls)):
            where = root / f"pg-{label}"
            where.mkdir()
            database = server.database()
            replicas = Replicas(where, 3, env_for(
                where, projects_file(where / "projects.yaml", chosen), database))
            replicas.start()
            try:
                for member in replicas.members:
                    wait_ready(member.url, len(chosen))
                store = Store(database)
                url, n = replicas.members[0].url, next(_rounds)
                fan_out(url, store, len(chosen), f"1.{n}.1", "svc1")  # warm
                settle(store)
                times = fan_out(url, store, len(chosen), f"1.{n}.2")
                found[f"{label}_first_cr_s"] = round(times[0], 2)
                found[f"{label}_median_cr_s"] = round(statistics.median(times), 2)
                found[f"{label}_last_cr_s"] = round(times[-1], 2)
                found[f"{label}_times"] = times
                store.close()
            finally:
                replicas.stop()
    finally:
        server.stop()
    return summarize(found)


def page(root: Path, projects: int, promotions: int) -> dict[str, Any]:
    """Milliseconds for `/`, a board and the API: P projects sharing N promotions, against
    one project holding N / P."""
    from fastapi.testclient import TestClient
    from sqlalchemy import insert

    from bot.adapters.store.tables import promotions as table
    from bot.flows.services import Services
    from bot.settings import Settings
    from bot.web.app import create_app
    from bot.web.projects import Catalog
    from bot.wiring import build_web_services

    found: dict[str, Any] = {}
    for label, count, total in (("single", 1, promotions // projects),
                                ("all", projects, promotions)):
        store = Store(root / f"page-{label}.db")
        now = time.time()
        rows = [{"project": f"p{i % count:02d}", "id": f"01BENCH{i:019d}",
                 "image_key": f"svc{i % 20}", "repository": f"localhost:5000/acme/svc{i % 20}",
                 "tag": f"1.0.{i}", "digest": None, "version_key": f"1.0.{i}",
                 "environment": ("dev", "staging", "prod")[i % 3], "state": "promoted",
                 "received_at": now - total + i, "created_at": now - total + i,
                 "updated_at": now - total + i} for i in range(total)]
        with store.engine.begin() as db:
            for start in range(0, total, 5000):
                db.execute(insert(table), rows[start:start + 5000])
        settings = Settings(data_dir=root / f"page-{label}", webhook_secret="w")
        names = [f"p{i:02d}" for i in range(count)]
        services = {n: build_web_services(settings, store.scoped(n)) for n in names}

        def services_of(name: str, found: dict[str, Services] = services) -> Services | None:
            return found.get(name)

        def listed(names: list[str] = names) -> list[str]:
            return names

        client = TestClient(create_app(settings, build_web_services(settings, store),
                                       role="web", catalog=Catalog(services_of, names=listed)))
        for path in ("/", "/p/p00/", "/p/p00/api/promotions?limit=100"):
            client.get(path).raise_for_status()  # warm
            times = []
            for _ in range(10):
                started = time.perf_counter()
                client.get(path).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            found[f"{label} {path}"] = round(statistics.median(times), 1)
        store.close()
    for path in ("/", "/p/p00/", "/p/p00/api/promotions?limit=100"):
        found[f"ratio {path}"] = round(found[f"all {path}"] / found[f"single {path}"], 2)
    return found


def summarize(found: dict[str, Any]) -> dict[str, Any]:
    """Ratios against the single project, and how many projects missed single + 1 s."""
    single, times = found.pop("single_times")[0], found.pop("all_times")
    found["last_cr_vs_single"] = round(found["all_last_cr_s"] / single, 2)
    found["median_cr_vs_single"] = round(found["all_median_cr_s"] / single, 2)
    found["projects_later_than_single_plus_1s"] = sum(1 for t in times if t > single + 1.0)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--promotions", type=int, default=100_000)
    parser.add_argument("--skip", action="append", default=[],
                        choices=("sqlite", "postgres", "page"))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hoist-bench-projects-"))
    report: dict[str, Any] = {"projects": args.projects, "images": args.images}
    try:
        if "page" not in args.skip:
            report["page_ms"] = page(root, args.projects, args.promotions)
            print(json.dumps({"page_ms": report["page_ms"]}), flush=True)
        urls = repos(root, args.projects, args.images)
        if "sqlite" not in args.skip:
            report["one_replica_sqlite"] = one_replica(root, urls)
            print(json.dumps({"one_replica_sqlite": report["one_replica_sqlite"]}), flush=True)
        if "postgres" not in args.skip:
            report["three_replicas_postgres"] = three_replicas(root, urls)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
