"""Flows against a real git remote and a real SQLite store; no HTTP, no doubles."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from bot.adapters.store import NewPromotion
from bot.core.events import ImagePushed
from bot.core.machine import State
from bot.flows.approve import NotApprovable, approve
from bot.flows.services import Services
from bot.worker import Worker
from tests.audit_check import assert_audit_reads_back
from tests.support import git

DIGEST = "sha256:" + "c" * 64
BOTH_ENGINES = True  # this suite runs on SQLite and on PostgreSQL (conftest)


def push(tag: str = "1.4.2", event_id: str = "e1", digest: str = DIGEST) -> ImagePushed:
    return ImagePushed("distribution", event_id, "localhost:5000", "acme/guestbook", tag, digest)


def run(services: Services, *pushes: ImagePushed) -> None:
    services.store.add_events(list(pushes), time.time())
    Worker(services).run_once()
    Worker(services).run_once()


def by_env(services: Services) -> dict[str, State]:
    return {p.environment: p.state for p in reversed(services.store.promotions())}


def origin(services: Services) -> str:
    return services.git.url.removeprefix("file://")


def test_push_promotes_dev_and_staging_and_waits_for_prod(services: Services) -> None:
    run(services, push())
    assert by_env(services) == {"dev": State.PROMOTED, "staging": State.PROMOTED,
                                "prod": State.PROPOSED}
    remote = origin(services)
    dev = git(remote, "show", "main:apps/guestbook/overlays/dev/kustomization.yaml")
    assert f'newTag: "1.4.2"   # managed by Hoist\n    digest: {DIGEST}\n' in dev
    prod_main = git(remote, "show", "main:apps/guestbook/overlays/prod/kustomization.yaml")
    assert 'newTag: "1.0.0"' in prod_main
    prod_branch = git(remote, "show", "hoist/prod/guestbook:apps/guestbook/overlays/prod/"
                      "kustomization.yaml")
    assert 'newTag: "1.4.2"' in prod_branch
    # Trailers are real git trailers.
    trailers = subprocess.run(["git", "-C", remote, "log", "-1", "--format=%(trailers:only)",
                               "hoist/prod/guestbook"], capture_output=True, text=True,
                              check=True).stdout
    assert "Hoist-Environment: prod" in trailers
    assert f"Hoist-Image: localhost:5000/acme/guestbook:1.4.2@{DIGEST}" in trailers
    [prod] = [p for p in services.store.promotions() if p.environment == "prod"]
    assert f"Hoist-Promotion: {prod.id}" in trailers
    cr = services.store.change_request(prod.id)
    assert cr is not None and cr.state == "open" and cr.branch == "hoist/prod/guestbook"

    approve(services.store, prod.id, "alice")
    Worker(services).run_once()
    assert by_env(services)["prod"] == State.PROMOTED
    message = git(remote, "log", "-1", "--format=%B", "main")
    assert message.startswith("chore(deploy): promote guestbook to 1.4.2 in prod\n")
    assert "Hoist-Approved-By: alice" in message
    assert git(remote, "rev-list", "--merges", "main") == ""  # linear history
    with pytest.raises(NotApprovable):
        approve(services.store, prod.id, "bob")


def test_same_push_twice_or_same_digest_again_is_one_promotion(services: Services) -> None:
    services.store.add_events([push()], time.time())
    services.store.add_events([push()], time.time())  # redelivery: same event id
    services.store.add_events([push(event_id="e2")], time.time())  # same digest, new id
    worker = Worker(services)
    worker.run_once()
    worker.run_once()
    assert len([p for p in services.store.promotions() if p.environment == "dev"]) == 1
    assert len(git(origin(services), "log", "--format=%H", "main").split()) == 3


def test_newer_push_supersedes_waiting_promotion_and_reuses_branch(services: Services) -> None:
    run(services, push())
    run(services, push("1.5.0", "e2", "sha256:" + "d" * 64))
    prods = [p for p in services.store.promotions() if p.environment == "prod"]
    assert sorted(p.state for p in prods) == [State.PROPOSED, State.SUPERSEDED]
    branch = git(origin(services), "show", "hoist/prod/guestbook:apps/guestbook/overlays/prod/"
                 "kustomization.yaml")
    assert 'newTag: "1.5.0"' in branch


def test_tag_outside_policy_creates_nothing(services: Services) -> None:
    run(services, push("2.0.0"), push("latest", "e3"))
    assert services.store.promotions() == []
    assert services.store.pending_events() == []


def test_already_at_image_is_noop(services: Services) -> None:
    run(services, push())
    run(services, push(event_id="again-but-new-env-key", digest=DIGEST))
    # The same digest is deduplicated; a promotion for the same image at a new digest would
    # plan; a push of the value that is already there is a noop.
    assert by_env(services)["dev"] == State.PROMOTED


def test_merge_retries_when_someone_else_pushed_first(services: Services, tmp_path: Path) -> None:
    run(services, push())
    [prod] = [p for p in services.store.promotions() if p.environment == "prod"]
    # Another writer changes an unrelated file on main after Hoist fetched.
    clone = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", services.git.url, str(clone)], check=True)
    (clone / "NOTES.md").write_text("hello\n")
    git(clone, "add", "NOTES.md")
    git(clone, "-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qm", "docs: notes")
    services.git.sync()
    git(clone, "push", "-q", "origin", "main")
    approve(services.store, prod.id, "alice")
    Worker(services).run_once()
    assert by_env(services)["prod"] == State.PROMOTED
    log = git(origin(services), "log", "--format=%s", "main").splitlines()
    assert log[:2] == ["chore(deploy): promote guestbook to 1.4.2 in prod", "docs: notes"]


def test_plan_fails_clearly_on_malformed_manifest(services: Services, tmp_path: Path) -> None:
    clone = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", services.git.url, str(clone)], check=True)
    target = clone / "apps/guestbook/overlays/dev/kustomization.yaml"
    target.write_text(target.read_text() + "images: [\n")
    git(clone, "-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qam", "break")
    git(clone, "push", "-q", "origin", "main")
    run(services, push())
    [dev] = services.store.promotions()
    assert dev.state == State.FAILED
    assert dev.reason is not None and "overlays/dev/kustomization.yaml: not valid YAML" in dev.reason
    assert git(origin(services), "branch", "--list", "hoist/*") == ""


def test_approve_cli(services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str], store_url: str) -> None:
    from bot.cli import main

    run(services, push())
    [prod] = [p for p in services.store.promotions() if p.environment == "prod"]
    monkeypatch.setenv("HOIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOIST_MANIFESTS_REPO", services.git.url)
    if store_url.startswith("postgresql"):
        monkeypatch.setenv("HOIST_DATABASE_URL", store_url)
    assert main(["approve", prod.id, "--by", "carol"]) == 0
    assert capsys.readouterr().out.endswith(f"{prod.id}: approval recorded (1 of 1); the "
                                            "promotion is proposed, merged next. (now "
                                            "proposed)\n")
    assert main(["approve", prod.id, "--by", "carol"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already approved" in err
    assert main(["approve", "nope"]) == 2
    Worker(services).run_once()
    assert "Hoist-Approved-By: carol" in git(origin(services), "log", "-1", "--format=%B", "main")


def test_git_reads_many_files_and_greps_a_commit(services: Services) -> None:
    repo = services.git
    base = repo.tip("main")
    assert base is not None
    texts = repo.read_many(base, ["hoist.yaml", "apps/guestbook/overlays/dev/kustomization.yaml",
                                  "missing.yaml"])
    assert texts["missing.yaml"] is None
    assert texts["hoist.yaml"] == repo.read(base, "hoist.yaml")
    assert repo.grep_files(base, "acme/guestbook", ["apps/guestbook/overlays/"]) == [
        "apps/guestbook/overlays/dev/kustomization.yaml",
        "apps/guestbook/overlays/prod-canary/kustomization.yaml",
        "apps/guestbook/overlays/prod/kustomization.yaml",
        "apps/guestbook/overlays/staging/kustomization.yaml"]


def _config_with(services: Services, tmp_path: Path, extra: str) -> None:
    from tests.support import commit_file

    text = (Path(__file__).parents[1] / "manifests-example/demo/hoist.yaml").read_text()
    text = text.replace("    pin: tag@digest", f"    pin: tag@digest\n{extra}")
    commit_file(services.git.url, "hoist.yaml", text, tmp_path / "cfg")
    services.git.sync()


def test_burst_within_coalesce_window_becomes_one_promotion_to_the_newest(
        services: Services, tmp_path: Path) -> None:
    from bot.flows.ingest import ingest_pending

    _config_with(services, tmp_path, "    coalesce: 10s")
    now = time.time()
    services.store.add_events([push("1.4.3", "a", "sha256:" + "3" * 64)], now)
    services.store.add_events([push("1.5.0", "b", "sha256:" + "5" * 64)], now + 1)
    services.store.add_events([push("1.4.9", "c", "sha256:" + "9" * 64)], now + 2)
    assert ingest_pending(services, now + 5) == 0  # the burst may still be going on
    assert len(services.store.pending_events()) == 3
    assert ingest_pending(services, now + 13) == 1
    assert services.store.pending_events() == []
    [dev] = services.store.promotions()
    assert (dev.tag, dev.digest) == ("1.5.0", "sha256:" + "5" * 64)


def test_downgrade_is_refused(services: Services) -> None:
    run(services, push("1.4.2"))
    run(services, push("1.3.0", "old", "sha256:" + "1" * 64))
    assert [p.tag for p in services.store.promotions() if p.environment == "dev"] == ["1.4.2"]


def test_required_platforms_are_checked_in_the_registry(services: Services,
                                                        tmp_path: Path) -> None:
    from tests.support import FakeRegistry

    _config_with(services, tmp_path, "    platforms: [linux/amd64, linux/arm64]")
    good, bad = "sha256:" + "6" * 64, "sha256:" + "7" * 64
    services.registry = FakeRegistry({good: {"linux/amd64", "linux/arm64/v8"},  # type: ignore[assignment]
                                      bad: {"linux/amd64"}})
    run(services, push("1.4.5", "x", bad))
    assert services.store.promotions() == []
    run(services, push("1.4.6", "y", good))
    assert [p.tag for p in services.store.promotions() if p.environment == "dev"] == ["1.4.6"]


def test_missing_digest_is_resolved_in_the_registry_when_pinning(services: Services) -> None:
    from tests.support import FakeRegistry

    services.registry = FakeRegistry({})  # type: ignore[assignment]
    run(services, ImagePushed("dockerhub", "h1", "localhost:5000", "acme/guestbook", "1.4.4",
                              None))
    dev = next(p for p in services.store.promotions() if p.environment == "dev")
    assert dev.digest == "sha256:" + "f" * 64
    text = git(origin(services), "show", "main:apps/guestbook/overlays/dev/kustomization.yaml")
    assert "digest: sha256:" + "f" * 64 in text


def test_audit_reads_the_trailers_back(services: Services,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    import json as jsonlib

    from bot.cli import main

    run(services, push())
    [prod] = [p for p in services.store.promotions() if p.environment == "prod"]
    approve(services.store, prod.id, "alice")
    approve(services.store, prod.id, "bob")
    Worker(services).run_once()
    capsys.readouterr()  # the worker's log lines
    assert main(["audit", "--repo", origin(services), "--json"]) == 0
    entries = [jsonlib.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["environment"] for e in entries] == ["prod", "staging", "dev"]
    assert entries[0]["approved_by"] == ["alice", "bob"]
    assert entries[0]["promotion"] == prod.id
    assert entries[0]["image"] == f"localhost:5000/acme/guestbook:1.4.2@{DIGEST}"
    assert (entries[0]["from_version"], entries[0]["to_version"]) == ("1.0.0", f"1.4.2@{DIGEST}")
    services.git.sync()  # the git cache `hoist serve` keeps (origin's branches only) reads the same
    assert main(["audit", "--repo", str(services.git.path), "--json"]) == 0
    assert [jsonlib.loads(line)["promotion"] for line in capsys.readouterr().out.splitlines()] \
        == [e["promotion"] for e in entries]
    assert main(["dora", "--repo", str(services.git.path), "--json"]) == 0
    assert jsonlib.loads(capsys.readouterr().out)["change_failure_rate"]["promotions"] == 3
    assert main(["audit", "--repo", origin(services), "--env", "dev", "--since", "2000-01-01"]) == 0
    [dev] = [jsonlib.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert dev["environment"] == "dev"
    assert main(["audit", "--repo", origin(services), "--since", "2999"]) == 0
    assert capsys.readouterr().out == ""
    from bot.adapters.git_local import log_messages
    from bot.core.audit import audit_entries, format_table

    header, prod_row, *_ = format_table(audit_entries(log_messages(Path(origin(services))))).splitlines()
    assert header.split()[:3] == ["TIME", "ENV", "IMAGE"]
    assert "alice, bob" in prod_row and f"1.0.0 → 1.4.2@{DIGEST[:19]}…" in prod_row
    assert main(["audit", "--repo", origin(services), "--since", "last tuesday"]) == 2
    assert assert_audit_reads_back(origin(services), services.store.promotions()) == 3
    assert main(["audit", "--repo", "/nonexistent"]) == 2
    assert main(["audit", "--repo", str(Path(origin(services)).parent)]) == 2


def test_a_rollback_by_hand_is_respected_until_a_newer_tag(services: Services,
                                                            tmp_path: Path) -> None:
    run(services, push("1.4.2"))
    # Someone rolls dev back to 1.3.0 by hand.
    clone = tmp_path / "hand"
    subprocess.run(["git", "clone", "-q", services.git.url, str(clone)], check=True)
    target = clone / "apps/guestbook/overlays/dev/kustomization.yaml"
    text = target.read_text()
    target.write_text(text.replace('newTag: "1.4.2"', 'newTag: "1.3.0"'))
    git(clone, "-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qam", "rollback")
    git(clone, "push", "-q", "origin", "main")
    # The same version again (here: through /hoist promote-like re-creation) is held.
    services.store.ingest([], [NewPromotion("guestbook", "dev", "localhost:5000/acme/guestbook",
                                            "1.4.2", "sha256:" + "9" * 64, time.time(), None)])
    Worker(services).run_once()
    held = [p for p in services.store.promotions() if p.state is State.HELD]
    assert len(held) == 1 and "set by hand" in (held[0].reason or "")
    # A newer tag goes ahead.
    run(services, push("1.4.3", "new", "sha256:" + "8" * 64))
    newest = next(p for p in services.store.promotions() if p.tag == "1.4.3"
                  and p.environment == "dev")
    assert newest.state is State.PROMOTED


def test_symlinked_target_is_refused(services: Services, tmp_path: Path) -> None:
    clone = tmp_path / "link"
    subprocess.run(["git", "clone", "-q", services.git.url, str(clone)], check=True)
    target = clone / "apps/guestbook/overlays/dev/kustomization.yaml"
    target.unlink()
    target.symlink_to("/etc/passwd")
    git(clone, "-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qam", "link")
    git(clone, "push", "-q", "origin", "main")
    run(services, push())
    [dev] = services.store.promotions()
    assert dev.state is State.FAILED and "not a regular file" in (dev.reason or "")


def test_read_only_store_answers_503_and_stores_nothing(services: Services, engine: str) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import event
    from sqlalchemy.engine import Connection

    from bot.settings import Settings
    from bot.web.app import create_app
    from tests.support import DATA

    full = {"disk": True}

    def read_only(conn: Connection) -> None:
        # While "full", the database refuses every write, as on a full disk (SQLite) or a
        # standby after a failover (PostgreSQL).
        if full["disk"]:
            conn.exec_driver_sql("PRAGMA query_only=ON" if engine == "sqlite"
                                 else "SET TRANSACTION READ ONLY")
        elif engine == "sqlite":
            conn.exec_driver_sql("PRAGMA query_only=OFF")

    client = TestClient(create_app(Settings(webhook_secret="s"), services))
    event.listen(services.store.engine, "begin", read_only)
    body = (DATA / "distribution-2.8-manifest-push.json").read_bytes()
    response = client.post("/webhooks/registry/distribution", content=body,
                           headers={"Authorization": "Bearer s"})
    assert response.status_code == 503 and "retry later" in response.json()["error"]
    full["disk"] = False
    assert services.store.pending_events() == []
    # The sender retries once the store is writable again, and the push is taken.
    assert client.post("/webhooks/registry/distribution", content=body,
                       headers={"Authorization": "Bearer s"}).status_code == 202


def test_registry_unreachable_while_resolving_keeps_the_promotion_for_later(
        services: Services) -> None:
    from bot.adapters.registry import RegistryError
    from tests.support import FakeRegistry

    class Flaky(FakeRegistry):
        down = True

        def resolve(self, image: str, tag: str) -> str:
            if self.down:
                raise RegistryError("localhost:5000 unreachable: ConnectError")
            return super().resolve(image, tag)

    registry = Flaky({})
    services.registry = registry  # type: ignore[assignment]
    run(services, ImagePushed("dockerhub", "h2", "localhost:5000", "acme/guestbook", "1.4.4",
                              None))
    [dev] = services.store.promotions()
    assert dev.state is State.RECEIVED  # nothing lost, nothing half-done
    assert git(origin(services), "branch", "--list", "hoist/*") == ""
    registry.down = False
    Worker(services).run_once()
    dev = services.store.promotion(dev.id)
    assert dev.state is State.PROMOTED and dev.digest == "sha256:" + "f" * 64


@pytest.mark.parametrize("target", ["apps/guestbook/base/service.yaml", "apps/podinfo/"])
def test_a_target_without_a_reference_fails_the_promotion_with_the_reason(
        services: Services, tmp_path: Path, target: str) -> None:
    from fastapi.testclient import TestClient

    from bot.settings import Settings
    from bot.web.app import create_app
    from tests.support import commit_file

    text = (Path(__file__).parents[1] / "manifests-example/demo/hoist.yaml").read_text()
    text = text.replace("      - {file: apps/guestbook/overlays/dev/kustomization.yaml, image: guestbook}",
                        "      - {file: apps/guestbook/overlays/dev/kustomization.yaml, image: guestbook}\n"
                        f"      - {{file: {target}, image: guestbook}}")
    commit_file(services.git.url, "hoist.yaml", text, tmp_path / "cfg")
    services.git.sync()
    run(services, push())
    [dev] = services.store.promotions()
    reason = f"{target}: no reference to localhost:5000/acme/guestbook"
    assert dev.state is State.FAILED and dev.reason == reason
    assert git(origin(services), "branch", "--list", "hoist/*") == ""
    client = TestClient(create_app(Settings(webhook_secret="s"), services))
    shown = client.get(f"/api/promotions/{dev.id}").json()
    assert (shown["state"], shown["reason"]) == ("failed", reason)
