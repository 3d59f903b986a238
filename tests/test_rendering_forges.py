"""The rendered section on the forges (issue 26): on the GitHub, GitLab and Gitea doubles a
change request body stays within each forge's limit, a diff too long for it cut with a link
to the page; through `hoist serve`, the API carries the title and body as proposed and the
rendered diff, and the page shows all of it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.core.machine import State
from bot.demo.manifests import distribution_envelope
from bot.demo.registry import free_port
from bot.flows.services import Services
from tests.forges import adapter, start_double
from tests.render_repos import (
    KUSTOMIZE,
    bare_repo,
    need_renderers,
    policy,
    promote,
    rendering_services,
)
from tests.support import ServiceProcess, wait_for
from tests.test_rendering import LONG, OVERLAY

LIMITS = {"github": 65_536, "gitlab": 1_000_000, "gitea": 65_535}


@pytest.fixture
def long_diff(tmp_path: Path) -> Iterator[Services]:
    need_renderers()
    services = rendering_services(tmp_path, LONG)
    services.public_url = "https://hoist.example.com"
    yield services
    services.store.close()


@pytest.mark.parametrize("kind", sorted(LIMITS))
def test_the_body_stays_within_each_forges_limit(long_diff: Services, kind: str) -> None:
    double = start_double(kind, Path(long_diff.git.url.removeprefix("file://")))
    try:
        long_diff.forge = adapter(kind, long_diff.store, double)
        long_diff.bot_login = double.bot_login
        assert long_diff.forge.body_limit == LIMITS[kind]
        p = promote(long_diff)
        assert p.state == State.PROPOSED
        [pull] = double.pulls.values()
        body = pull["body"]
        assert len(body) <= LIMITS[kind]
        stored = long_diff.store.rendered(p.id)
        assert stored is not None
        full = sum(len(str(c["diff"])) for c in stored["apps"][0]["changes"])
        link = f"(https://hoist.example.com/ui/promotions/{p.id})"
        if full > LIMITS[kind]:
            assert body.endswith(f"[the promotion's page]{link} shows all of it._")
            assert f"the forge's limit of {LIMITS[kind]:,} characters" in body
        else:  # GitLab takes a megabyte: all of it, nothing cut
            assert body.count("<details>") == 201 and link not in body
    finally:
        double.stop()


def test_the_api_and_the_page_show_what_was_proposed_and_rendered(tmp_path: Path) -> None:
    need_renderers()
    url = bare_repo(tmp_path / "origin", {**KUSTOMIZE, "hoist.yaml": policy(OVERLAY)})
    token = secrets.token_hex(16)
    service = ServiceProcess(free_port(), {
        "HOIST_MANIFESTS_REPO": url, "HOIST_DATA_DIR": str(tmp_path / "data"),
        "HOIST_WEBHOOK_SECRET": token, "HOIST_POLL_INTERVAL": "0.2", "HOIST_RENDER": "on",
        "HOIST_LOG_FORMAT": "json"}, tmp_path / "hoist.log")
    service.start()
    try:
        envelope = distribution_envelope("localhost:5000", "acme/app", "1.4.2", "sha256:" + "a" * 64)
        assert httpx.post(f"{service.url}/webhooks/registry/distribution",
                          content=json.dumps(envelope).encode(),
                          headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 202
        found = wait_for(lambda: service.promotion_in("prod", "proposed"), "a proposed promotion")
        data = httpx.get(f"{service.url}/api/promotions/{found['id']}", timeout=10).json()
        assert data["proposed"]["title"] == "chore(deploy): promote app to 1.4.2 in prod"
        assert data["proposed"]["body"].endswith(
            "Only the image reference changes, in `Deployment/prod/web`.")
        [app] = data["rendered"]["apps"]
        assert app["changes"][0]["object"] == "Deployment/prod/web" and data["rendered"]["hold"] is None
        page = httpx.get(f"{service.url}/ui/promotions/{found['id']}", timeout=10).text
        assert "Rendered changes" in page
        assert "+      - image: localhost:5000/acme/app:1.4.2" in page
    finally:
        service.stop()
