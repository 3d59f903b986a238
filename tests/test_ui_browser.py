"""The timeline page in a real browser: Debian's chromium driven by Playwright for Python
(the system binary; no browser download), against `hoist serve` as a process. The page is
never reloaded by the tests: what changes, it shows by itself. Screenshots are saved under
$HOIST_TEST_ARTIFACTS (default test-artifacts/) in ui/; HOIST_CHROMIUM names another
binary (default /usr/bin/chromium)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.manifests import distribution_envelope
from bot.demo.registry import free_port, write_oci_layout
from tests.prometheus_stack import CanaryApp, Prometheus
from tests.support import ROOT, commit_file, need, wait_for
from tests.test_e2e import registry_for, service_for, stop_after  # noqa: F401 (a fixture)

CHROMIUM = os.environ.get("HOIST_CHROMIUM") or "/usr/bin/chromium"  # Debian's package
# Flags for a quiet headless browser in CI: no sandbox (root in a container), no GPU, no
# calls home (updates, sync, field trials).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("HOIST_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "ui"
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def shoot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def watch(page: Any) -> list[str]:
    """Every navigation of the main frame from now on (a reload would be one)."""
    seen: list[str] = []
    page.on("framenavigated", lambda frame: seen.append(frame.url)
            if frame == page.main_frame else None)
    return seen


@pytest.mark.e2e
def test_page_follows_a_real_push_to_prod_waiting_then_promoted_without_reloading(
        browser: Any, tmp_path: Path, stop_after: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    need("git", "docker-registry", "skopeo")
    reg_port = free_port()
    ui_token = "ui-" + secrets.token_hex(8)
    service, _, token = service_for(tmp_path, f"localhost:{reg_port}",
                                    env={"HOIST_UI_TOKEN": ui_token})
    service.start()
    stop_after(service)
    registry = registry_for(service, tmp_path, reg_port, token, stop_after)

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(service.url + "/")
    page.get_by_label("Token").fill(ui_token)  # HOIST_UI_TOKEN: the page asks for it
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Environments")).to_be_visible()
    expect(page.locator("#live-status")).to_have_text("Live", timeout=10_000)
    page.keyboard.press("Tab")  # from the keyboard: the first stop skips to the content
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    expect(page.locator(":focus")).to_have_attribute("id", "live")
    navigations = watch(page)

    write_oci_layout(tmp_path / "layout", "1.4.2", "guestbook 1.4.2")
    registry.push(tmp_path / "layout", "1.4.2", "acme/guestbook")
    prod_row = page.locator('tr[data-environment="prod"]')
    expect(prod_row).to_have_attribute("data-state", "proposed", timeout=WAIT_MS)
    expect(page.locator('tr[data-environment="dev"]')).to_have_attribute("data-state",
                                                                          "promoted")
    dev_lane = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="dev"))
    expect(dev_lane).to_contain_text("runs guestbook 1.4.2")
    waiting = page.get_by_role("region", name="Waiting for someone")
    expect(waiting).to_contain_text("guestbook 1.4.2 in prod")
    expect(waiting).to_contain_text("hoist approve")  # the local forge: the CLI, the API
    expect(waiting).not_to_contain_text("/hoist approve")
    page.set_viewport_size({"width": 1280, "height": 900})  # a laptop: the table fits
    assert page.locator("table").first.evaluate("t => t.scrollWidth <= t.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= 1280")
    page.set_viewport_size({"width": 1100, "height": 900})
    shoot(page, "prod-waiting.png")

    prod = wait_for(lambda: service.promotion_in("prod", "proposed"), "prod in the API")
    approved = httpx.post(f"{service.url}/api/promotions/{prod['id']}/approve", timeout=10,
                          headers={"Authorization": f"Bearer {service.env['HOIST_API_TOKEN']}",
                                   "X-Hoist-User": "alice"})
    assert approved.status_code == 200, approved.text
    expect(prod_row).to_have_attribute("data-state", "promoted", timeout=WAIT_MS)
    expect(prod_row).to_contain_text("alice")
    prod_lane = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="prod"))
    expect(prod_lane).to_contain_text("runs guestbook 1.4.2")
    expect(page.get_by_role("region", name="Waiting for someone")).to_have_count(0)
    assert navigations == []  # shown without a reload
    shoot(page, "prod-promoted.png")
    # The read API needs the token too, now.
    assert httpx.get(f"{service.url}/api/promotions", timeout=5).status_code == 401
    page.close()


def _canary_config(prometheus: str) -> str:
    return f"""\
images:
  guestbook:
    repository: localhost:5000/acme/guestbook
    tags: {{semver: ">=1.0.0 <2.0.0"}}
    pin: tag@digest
environments:
  - name: dev
    approval: none
    targets: [{{file: apps/guestbook/overlays/dev/kustomization.yaml, image: guestbook}}]
    canary:
      steps: [{{weight: 50, bake: 1s}}, {{weight: 100, bake: 5m}}]
      analysis:
        prometheus: {prometheus}
        interval: 1s
        inconclusive_limit: 60  # no data until Prometheus scraped the app
        metrics:
          - name: error-rate
            query: 'sum(http_requests_total{{code="500"}}) / sum(http_requests_total)'
            max: 0.05
  - name: staging
    after: dev
    approval: manual
    targets: [{{file: apps/guestbook/overlays/staging/kustomization.yaml, image: guestbook}}]
"""


@pytest.mark.e2e
def test_page_shows_canary_readings_then_the_revert_with_its_evidence(
        browser: Any, tmp_path: Path, stop_after: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    need("git", "prometheus")
    app = CanaryApp("1.4.2")
    stop_after(app)
    prometheus = Prometheus(tmp_path / "prometheus", [app.address]).start()
    stop_after(prometheus)
    service, origin, token = service_for(tmp_path, "localhost:5000")
    commit_file(f"file://{origin}", "hoist.yaml", _canary_config(prometheus.url),
                tmp_path / "cfg")
    service.start()
    stop_after(service)
    digest = "sha256:" + "d" * 64
    envelope = distribution_envelope("localhost:5000", "acme/guestbook", "1.4.2", digest)
    pushed = httpx.post(f"{service.url}/webhooks/registry/distribution", json=envelope,
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert pushed.status_code == 202
    dev = wait_for(lambda: service.promotion_in("dev", "analyzing"), "dev analyzing", 30)

    page = browser.new_page(viewport={"width": 1000, "height": 1100})
    page.goto(f"{service.url}/ui/promotions/{dev['id']}")
    navigations = watch(page)
    canary = page.get_by_role("region", name="Canary steps measured")
    expect(canary).to_contain_text("step 1 of 2 (50%) passed: error-rate: 0 within max 0.05",
                                   timeout=WAIT_MS)
    app.error_ratio = 1.0  # the canary breaks during its second step
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("reverted", timeout=WAIT_MS)
    evidence = page.get_by_role("region", name="Why it was reverted")
    expect(evidence).to_contain_text("analysis failed: error-rate:")
    expect(evidence).to_contain_text("> max 0.05")
    expect(evidence).to_contain_text(f"Digest {digest} is quarantined")
    expect(page.get_by_role("note")).to_contain_text("hoist unquarantine")
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text("analyzing → reverting")
    expect(history).to_contain_text("reverting → reverted")
    assert navigations == []
    shoot(page, "revert-evidence.png")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(service.url + "/")
    expect(page.locator('tr[data-environment="dev"]')).to_have_attribute("data-state",
                                                                          "reverted")
    shoot(page, "phone.png")
    page.close()
