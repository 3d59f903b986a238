"""What signing in costs the projects index (`GET /`) of a person who may see 50 projects:
the first view asks the forge, with the person's token, about each project's repository
(in parallel, over loopback to the Gitea OAuth double); later views within a minute use
what it answered. Each as a ratio to an administrator's view (HOIST_API_TOKEN: no forge
reads) measured in the same run. Goal (issue 24): the page under 200 ms for a viewer of 50
projects; bar here: a warm signed-in view under 2x the administrator's.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi.testclient import TestClient

from bot.adapters.store import Store
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.projects import Catalog
from bot.wiring import build_web_services

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.oauth_double import OAuthDouble

PROJECTS, RUNS = 50, 20
PUBLIC = "http://127.0.0.1:8080"


def median_ms(client: TestClient, headers: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        answer = client.get("/", headers=headers or {})
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200 and answer.text.count('href="/p/') == PROJECTS
    return statistics.median(times) * 1000


def main() -> None:
    people = OAuthDouble("gitea").start()
    names = [f"team-{i:02}" for i in range(PROJECTS)]
    people.add("alice", {f"acme/{n}": "read" for n in names})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.from_env({"HOIST_DATA_DIR": tmp, "HOIST_WEBHOOK_SECRET": "w",
                                          "HOIST_API_TOKEN": "api", "HOIST_PUBLIC_URL": PUBLIC,
                                          **people.env()})
            store = Store(f"sqlite:///{tmp}/hoist.db")
            services = {n: build_web_services(settings, store.scoped(n)) for n in names}
            for name, found in services.items():
                found.forge.repo = f"/repos/acme/{name}"  # type: ignore[attr-defined]
            app = create_app(settings, build_web_services(settings, store), role="web",
                             catalog=Catalog(services.get, names=lambda: names))
            client = TestClient(app, base_url=PUBLIC, follow_redirects=False)
            admin = median_ms(client, {"Authorization": "Bearer api"})
            people.signing_in = "alice"
            start = client.get("/signin/start")
            back = urlsplit(httpx.get(start.headers["location"]).headers["location"])
            assert client.get(f"{back.path}?{back.query}").status_code == 303
            started = time.perf_counter()
            assert client.get("/").text.count('href="/p/') == PROJECTS
            cold = (time.perf_counter() - started) * 1000
            warm = median_ms(client)
            store.close()
        print(f"projects index, {PROJECTS} projects: administrator {admin:.1f} ms (baseline, "
              f"median of {RUNS})")
        print(f"signed in, first view ({PROJECTS} forge reads): {cold:.1f} ms = "
              f"{cold / admin:.2f}x ({'under' if cold < 200 else 'over'} the 200 ms goal)")
        print(f"signed in, later views (cached a minute): {warm:.1f} ms = {warm / admin:.2f}x "
              f"({'ok' if warm / admin < 2 else 'over the 2x bar'})")
    finally:
        people.stop()


if __name__ == "__main__":
    main()
