"""Notifications through Apprise to loopback receivers: a Slack-compatible incoming webhook
(HOIST_NOTIFY_URL), a Discord-style and a generic JSON webhook, and email through an SMTP
sink; a receiver that hangs or is down never holds up a promotion."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.notify import Notifier, slack_compatible
from bot.core.events import ImagePushed
from bot.core.machine import State
from bot.core.notices import Kind, Notice, Subject, lifted
from bot.demo.registry import free_port
from bot.flows.approve import approve
from bot.flows.services import Services
from bot.worker import Worker
from tests.chat_receivers import SmtpSink, WebhookReceiver
from tests.support import commit_file, wait_for

DIGEST = "sha256:" + "c" * 64
# Apprise's JSON payload map: Discord's webhook takes {"content": …}.
DISCORD_STYLE = "?:message=content&:title=&:version=&:attachments=&:type="


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, SmtpSink]]:
    web, smtp = WebhookReceiver(), SmtpSink()
    yield web, smtp
    web.stop()
    smtp.stop()


def _push(services: Services, key: str = "e1") -> None:
    services.store.add_events([ImagePushed("distribution", key, "localhost:5000",
                                           "acme/guestbook", "1.4.2", DIGEST)], time.time())


def test_every_receiver_hears_the_chain_and_a_hanging_one_holds_up_nothing(
        services: Services, receivers: tuple[WebhookReceiver, SmtpSink]) -> None:
    web, smtp = receivers
    web.slow_paths.add("/hangs")
    down = f"json://127.0.0.1:{free_port()}/down"  # nothing listens there
    notifier = Notifier([f"json://{web.address}/discord{DISCORD_STYLE}",
                         # Approvers get mail (Apprise spaces mails 5.5 s apart).
                         f"json://{web.address}/generic", "waiting=" + smtp.url(), down,
                         f"json://{web.address}/hangs",
                         f"failed,reverted=json://{web.address}/oncall"],
                        slack_url=f"http://{web.address}/slack")
    services.public_url = "https://hoist.example.com"
    services.notify = notifier
    _push(services)
    Worker(services).run_once()
    # The chain moved on while one receiver still hangs and another is down.
    assert web.waiting.wait(10)
    states = {p.environment: p.state for p in services.store.promotions()}
    assert states == {"dev": State.PROMOTED, "staging": State.PROMOTED, "prod": State.PROPOSED}
    prod = next(p for p in services.store.promotions() if p.environment == "prod")
    approve(services.store, prod.id, "alice")
    Worker(services).run_once()
    assert services.store.promotion(prod.id).state is State.PROMOTED
    web.hold.set()
    assert notifier.flush(30)

    slack = [body["text"] for body in web.bodies("/slack")]
    assert [text.split("\n")[0] for text in slack] == [
        "guestbook 1.4.2 promoted in dev", "guestbook 1.4.2 promoted in staging",
        "guestbook 1.4.2 waits for approval in prod", "guestbook 1.4.2 promoted in prod"]
    assert all(set(body) == {"text"} for body in web.bodies("/slack"))
    waiting = slack[2]
    assert "prod: localhost:5000/acme/guestbook 1.0.0 → 1.4.2@" + DIGEST in waiting
    assert "Why: 1 approval from people with write permission or above" in waiting
    assert f"Page: https://hoist.example.com/ui/promotions/{prod.id}" in waiting
    assert "Change request: local #" in waiting
    assert "Who: alice" in slack[3] and "Who: no approval needed" in slack[0]

    discord = web.bodies("/discord")
    assert len(discord) == 4 and set(discord[3]) == {"content"}
    assert discord[3]["content"].startswith("prod: localhost:5000/acme/guestbook 1.0.0 → 1.4.2")
    generic = web.bodies("/generic")
    assert [(g["title"], g["type"]) for g in generic] == [
        ("guestbook 1.4.2 promoted in dev", "success"),
        ("guestbook 1.4.2 promoted in staging", "success"),
        ("guestbook 1.4.2 waits for approval in prod", "info"),
        ("guestbook 1.4.2 promoted in prod", "success")]
    assert len(web.bodies("/hangs")) == 4  # it got them all once it answered
    assert web.bodies("/oncall") == []  # routed to failures only

    assert [m["Subject"] for m in smtp.messages] == ["guestbook 1.4.2 waits for approval in prod"]
    assert smtp.envelopes == [("hoist@example.com", ["ops@example.com"])]
    text = smtp.text(0)
    assert "Why: 1 approval from people with write permission or above" in text
    assert f"Page: https://hoist.example.com/ui/promotions/{prod.id}" in text


def test_a_revert_is_told_with_its_evidence_and_routed_to_on_call(
        services: Services, tmp_path: Path, receivers: tuple[WebhookReceiver, SmtpSink],
        unhealthy: str) -> None:
    web, _ = receivers
    text = (Path(__file__).parents[1] / "manifests-example/demo/hoist.yaml").read_text()
    text = text.replace("    approval: none             # merged as soon as it is proposed\n",
                        "    approval: none\n    canary:\n      analysis: {interval: 0s, "
                        f"consecutive_error_limit: 0, health: {{url: '{unhealthy}', "
                        "timeout: 1s}}\n", 1)
    commit_file(services.git.url, "hoist.yaml", text, tmp_path / "cfg")
    services.git.sync()
    notifier = Notifier([f"failed,reverted,quarantined=json://{web.address}/oncall"])
    services.notify = notifier
    _push(services)
    for _ in range(3):
        Worker(services).run_once()
    wait_for(lambda: web.bodies("/oncall") and len(web.bodies("/oncall")) == 3, "3 notices", 15)
    titles = [b["title"] for b in web.bodies("/oncall")]
    assert titles == ["guestbook 1.4.2 failed in dev", "guestbook 1.4.2 reverted in dev",
                      "guestbook 1.4.2 quarantined after dev"]
    failed = web.bodies("/oncall")[0]["message"]
    assert "Why: analysis failed: health: status 503" in failed and "reverting in git" in failed
    assert "run `hoist unquarantine " in web.bodies("/oncall")[2]["message"]


def test_lifted_quarantine_and_routing_by_event(receivers: tuple[WebhookReceiver, SmtpSink]
                                                ) -> None:
    web, _ = receivers
    notifier = Notifier([f"lifted=json://{web.address}/lifts", f"json://{web.address}/all"])
    subject = Subject("01J", "guestbook", "prod", "ghcr.io/acme/guestbook", "1.4.1",
                      "1.4.2@" + DIGEST, digest=DIGEST)
    notifier(lifted(subject, "carol"))
    notifier(Notice(Kind.HELD, subject, "bob", "held by bob: wait for the release notes"))
    assert notifier.flush(10)
    assert [b["title"] for b in web.bodies("/lifts")] == [
        "guestbook 1.4.2 released from quarantine"]
    assert "Who: carol" in web.bodies("/lifts")[0]["message"]
    assert [b["title"] for b in web.bodies("/all")] == [
        "guestbook 1.4.2 released from quarantine", "guestbook 1.4.2 held in prod"]


@pytest.mark.parametrize(("env", "reason"), [
    ({"HOIST_NOTIFY_URLS": "nosuchservice://x/y"}, "not one Apprise understands"),
    ({"HOIST_NOTIFY_URLS": "promoted,exploded=json://127.0.0.1/x"}, "unknown event 'exploded'"),
    ({"HOIST_NOTIFY_URL": "ftp://hooks.example.com/x"}, "http(s) incoming-webhook URL"),
])
def test_unusable_notification_urls_stop_serve_with_one_line(
        env: dict[str, str], reason: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    for name, value in {"HOIST_MANIFESTS_REPO": "file:///x", "HOIST_WEBHOOK_SECRET": "s",
                        **env}.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "0"]) == 2
    said = capsys.readouterr().err
    assert reason in said and said.count("\n") == 1
    assert "/x" not in said.replace("(s)", "")  # the URL itself is not repeated


def test_slack_compatible_urls_keep_their_query() -> None:
    assert slack_compatible("https://chat.example.com/hooks/abc?x=1") == (
        "jsons://chat.example.com/hooks/abc?x=1&:message=text&:title=&:version=&:attachments=&"
        ":type=")
