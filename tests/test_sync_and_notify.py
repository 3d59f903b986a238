"""Argo CD sync checks, freeze windows, soak time, and being told once synced."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx

from bot.adapters.argocd import ArgoCdClient, ArgoCdError
from bot.core.analysis import Outcome, judge_sync
from bot.core.events import ImagePushed
from bot.core.freeze import freeze_rules
from bot.core.machine import State
from bot.core.notices import Kind, Notice
from bot.core.rollout_config import FreezeWindow
from bot.core.windows import entries, status
from bot.flows.services import Services
from bot.worker import Worker
from tests.support import commit_file

BOTH_ENGINES = True  # this suite runs on SQLite and on PostgreSQL (conftest)

APP = "https://argocd.test/api/v1/applications/guestbook-dev"
DIGEST = "sha256:" + "a" * 64


def app_json(revision: str, sync: str = "Synced", phase: str = "Succeeded",
             health: str = "Healthy") -> dict[str, object]:
    return {"metadata": {"name": "guestbook-dev"}, "status": {
        "sync": {"status": sync, "revision": revision}, "health": {"status": health},
        "operationState": {"phase": phase}}}


@respx.mock
def test_argocd_client_reads_status_and_reports_errors() -> None:
    route = respx.get(APP)
    route.mock(return_value=httpx.Response(200, json=app_json("abc")))
    client = ArgoCdClient("https://argocd.test", "tok")
    status = client.status("guestbook-dev", refresh=True)
    assert (status.revision, status.sync, status.phase, status.health) == (
        "abc", "Synced", "Succeeded", "Healthy")
    assert route.calls[0].request.url.params["refresh"] == "normal"
    assert route.calls[0].request.headers["authorization"] == "Bearer tok"
    for response in (httpx.Response(401), httpx.Response(404), httpx.Response(503),
                     httpx.Response(200, text="<html>"), httpx.ConnectTimeout("slow")):
        if isinstance(response, Exception):
            route.side_effect = response
        else:
            route.side_effect = None
            route.mock(return_value=response)
        with pytest.raises(ArgoCdError):
            client.status("guestbook-dev")


@pytest.mark.parametrize(("ours", "sync", "phase", "health", "outcome"), [
    (True, "Synced", "Succeeded", "Healthy", Outcome.PASS),
    (False, "Synced", "Succeeded", "Healthy", Outcome.INCONCLUSIVE),  # an older revision
    (True, "OutOfSync", "Running", "Healthy", Outcome.INCONCLUSIVE),
    (True, "Synced", "Succeeded", "Progressing", Outcome.INCONCLUSIVE),
    (True, "Synced", "Succeeded", "Degraded", Outcome.FAIL),
    (True, "Synced", "Failed", "Healthy", Outcome.FAIL),
    (True, "Synced", "Error", "Missing", Outcome.FAIL),
])
def test_sync_verdicts(ours: bool, sync: str, phase: str, health: str,
                       outcome: Outcome) -> None:
    assert judge_sync(ours, sync, phase, health).outcome is outcome


def test_freeze_windows() -> None:
    christmas = FreezeWindow(start=datetime(2026, 12, 24, tzinfo=UTC),
                             end=datetime(2026, 12, 27, tzinfo=UTC), reason="holidays")
    weekend = FreezeWindow(days=["sat", "sun"])
    def why(windows: list[FreezeWindow], at: datetime) -> str | None:
        return status(entries(None, freeze_rules(windows)), at).why

    assert why([christmas], datetime(2026, 12, 25, 12, tzinfo=UTC)) == "holidays"
    assert why([christmas], datetime(2026, 12, 28, tzinfo=UTC)) is None
    assert why([weekend], datetime(2026, 11, 22, tzinfo=UTC)) == "frozen on sat, sun"
    assert why([weekend], datetime(2026, 11, 23, tzinfo=UTC)) is None


def _config(services: Services, tmp_path: Path, dev_extra: str) -> None:
    text = (Path(__file__).parents[1] / "manifests-example/demo/hoist.yaml").read_text()
    text = text.replace("    approval: none             # merged as soon as it is proposed\n",
                        "    approval: none\n" + dev_extra, 1)
    commit_file(services.git.url, "hoist.yaml", text, tmp_path / "cfg")
    services.git.sync()


def _push(services: Services) -> None:
    services.store.add_events([ImagePushed("distribution", "e1", "localhost:5000",
                                           "acme/guestbook", "1.4.2", DIGEST)], time.time())


def _states(services: Services) -> dict[str, State]:
    return {p.environment: p.state for p in services.store.promotions()}


def test_soak_delays_the_next_environment(services: Services, tmp_path: Path) -> None:
    _config(services, tmp_path, "    soak: 1s\n")
    _push(services)
    Worker(services).run_once()
    assert _states(services) == {"dev": State.PROMOTED}
    time.sleep(1.1)
    Worker(services).run_once()
    assert _states(services)["staging"] is State.PROMOTED


def test_freeze_window_holds_promotions_where_they_are(services: Services,
                                                       tmp_path: Path) -> None:
    _config(services, tmp_path, "    freeze: [{days: [mon, tue, wed, thu, fri, sat, sun], "
                                "reason: change freeze}]\n")
    _push(services)
    Worker(services).run_once()
    # Proposed (approvals may come meanwhile), merged only when the freeze ends.
    assert _states(services) == {"dev": State.APPROVED}
    [dev] = services.store.promotions()
    assert (dev.reason or "").startswith("waiting: change freeze; window closed")


@respx.mock
def test_rollout_waits_for_argocd_to_sync_our_commit(services: Services,
                                                     tmp_path: Path) -> None:
    # The Application's name is made from the image key and the environment: guestbook-dev.
    _config(services, tmp_path, "    sync: {argocd: {server: 'https://argocd.test', "
                                "app: '{image_key}-{env}'}, timeout: 60s}\n")
    route = respx.get(APP)
    route.mock(return_value=httpx.Response(200, json=app_json("0" * 40, "OutOfSync",
                                                              "Running", "Progressing")))
    notes: list[Notice] = []
    services.notify = notes.append
    _push(services)
    Worker(services).run_once()
    [dev] = services.store.promotions()
    assert dev.state is State.ANALYZING and dev.merge_sha
    assert route.calls[0].request.url.params["refresh"] == "normal"
    route.mock(return_value=httpx.Response(200, json=app_json(dev.merge_sha)))
    time.sleep(1.05)
    Worker(services).run_once()
    assert _states(services)["dev"] is State.PROMOTED
    # Told once dev runs our commit (then staging follows).
    assert (notes[0].kind, notes[0].title) == (Kind.PROMOTED, "guestbook 1.4.2 promoted in dev")
