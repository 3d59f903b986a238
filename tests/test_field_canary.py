"""Canary analysis from the field, through the public contracts: `hoist serve` as a process,
its HTTP API and page, the manifests repository in git, the GitHub double for the change
request, a notification receiver, and Debian's Prometheus with no scrape targets (each case
states its series in PromQL).

Several series are judged one by one (argoproj/argo-rollouts#363, fluxcd/flagger#1095), and
an outage of what measures the canary holds it (or reverts it) without quarantining a
digest that no reading showed bad."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.manifests import distribution_envelope
from bot.demo.registry import free_port
from tests.chat_receivers import WebhookReceiver
from tests.forge_double import ForgeDouble
from tests.forges import comment_webhook, service_env, start_double
from tests.prometheus_stack import Prometheus
from tests.support import ServiceProcess, git, need, wait_for

REGISTRY = "registry.example.com"
IMAGE = f"{REGISTRY}/acme/guestbook"
DIGEST = "sha256:" + "ab" * 32
SETTLED = ("promoted", "reverted", "held", "failed", "aborted")


def pods(*values: str) -> str:
    """A query answering one series per pod: pods("0.5", "0.999") is pod a 0.5, pod b 0.999."""
    return " or ".join(f'label_replace({v}, "pod", "{chr(97 + i)}", "", "")'
                       for i, v in enumerate(values))


def kustomization(tag: str) -> str:
    return (f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n"
            f"  - name: {IMAGE}\n    newTag: \"{tag}\"\n")


def environment(name: str, analysis: str, extra: str = "", after: str | None = None) -> str:
    """One environment on its own branch with a one-step canary (interval 1s, bake 1s) and
    low limits: two errors in a row or two inconclusive intervals settle it."""
    return (f"  - name: {name}\n    branch: {name}\n    approval: none\n"
            + (f"    after: {after}\n" if after else "") + extra
            + "    canary:\n      steps: [{weight: 100, bake: 1s}]\n      analysis:\n"
              "        interval: 1s\n        failure_limit: 0\n"
              "        consecutive_error_limit: 1\n        inconclusive_limit: 1\n"
            + "".join(f"        {line}\n" for line in analysis.strip("\n").split("\n"))
            + f"    targets: [{{file: apps/{name}/kustomization.yaml, image: guestbook}}]\n")


def metric(prometheus: str, name: str, query: str, rule: str) -> str:
    return (f"prometheus: {prometheus}\nmetrics:\n  - name: {name}\n"
            f"    query: '{query}'\n    {rule}")


@dataclass
class Stack:
    """hoist serve over a seeded manifests repository with each environment on its branch,
    the GitHub double and a notification receiver."""

    bare: Path
    double: ForgeDouble
    service: ServiceProcess
    receiver: WebhookReceiver
    token: str
    hook_secret: str
    names: list[str] = field(default_factory=list)

    def push(self, tag: str = "1.1.0", digest: str = DIGEST) -> None:
        response = httpx.post(f"{self.service.url}/webhooks/registry/distribution",
                              json=distribution_envelope(REGISTRY, "acme/guestbook", tag, digest),
                              headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        assert response.status_code < 300, response.text

    def settled(self, env: str, timeout: float = 40) -> dict[str, Any]:
        """The environment's promotion once settled, with its transitions."""
        found = wait_for(lambda: next((p for p in self.service.promotions()
                                       if p["environment"] == env and p["state"] in SETTLED),
                                      None), f"{env} to settle", timeout)
        return dict(httpx.get(f"{self.service.url}/api/promotions/{found['id']}",
                              timeout=5).json())

    def pull(self, env: str) -> int:
        return int(wait_for(lambda: next((n for n, p in self.double.pulls.items()
                                          if p["head"] == f"hoist/{env}/guestbook"), None),
                            f"the change request of {env}"))

    def bot_comments(self, env: str) -> list[str]:
        return [c["body"] for c in self.double.comments.get(self.pull(env), [])
                if c["user"] == self.double.bot_login]

    def comment(self, env: str, user: str, text: str) -> None:
        number = self.pull(env)
        comment_id = self.double.add_comment(number, text, user)
        route, headers, body = comment_webhook("github", number, user, text, comment_id,
                                               self.hook_secret)
        response = httpx.post(f"{self.service.url}{route}", content=body, timeout=10,
                              headers={**headers, "Content-Type": "application/json"})
        assert response.status_code < 300, response.text

    def notices(self, env: str) -> list[dict[str, Any]]:
        return [b for b in self.receiver.bodies("/notices")
                if b["title"].endswith((f" in {env}", f" after {env}"))]

    def reverts(self, env: str) -> list[str]:
        messages = git(self.bare, "log", "--format=%B%x00", env).split("\x00")
        return [m.strip() for m in messages if m.strip().startswith("revert(deploy)")]

    def page(self, promotion_id: str) -> str:
        return httpx.get(f"{self.service.url}/ui/promotions/{promotion_id}", timeout=5).text

    def log_events(self, event: str) -> list[dict[str, Any]]:
        lines = self.service.log_path.read_text(errors="replace").splitlines()
        found = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("event") == event:
                found.append(entry)
        return found

    def stop(self) -> None:
        self.service.stop()
        self.double.stop()
        self.receiver.stop()


def start_stack(workdir: Path, environments: list[str]) -> Stack:
    """Seed a bare repository (hoist.yaml on every branch), start the double, the receiver
    and `hoist serve`."""
    names = [e.split("\n", 1)[0].removeprefix("  - name: ") for e in environments]
    hoist_yaml = ("images:\n  guestbook:\n"
                  f"    repository: {IMAGE}\n    tags: {{semver: \">=1.0.0 <2.0.0\"}}\n"
                  "    pin: tag@digest\nenvironments:\n" + "".join(environments))
    bare, seed = workdir / "origin" / "manifests.git", workdir / "seed"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    seed.mkdir(parents=True)
    git(seed, "init", "-q", "-b", "main")
    (seed / "hoist.yaml").write_text(hoist_yaml)
    for name in names:
        (seed / "apps" / name).mkdir(parents=True)
        (seed / "apps" / name / "kustomization.yaml").write_text(kustomization("1.0.0"))
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=seed", "-c", "user.email=seed@example.com", "commit", "-qm",
        "chore: initial manifests")
    for branch in ["main", *names]:
        git(seed, "push", "-q", str(bare), f"HEAD:refs/heads/{branch}")
    double = start_double("github", bare)
    double.permissions.update(dana="write")
    receiver = WebhookReceiver()
    token, hook_secret = secrets.token_hex(8), secrets.token_hex(8)
    env = {"HOIST_MANIFESTS_REPO": f"file://{bare}", "HOIST_DATA_DIR": str(workdir / "data"),
           "HOIST_WEBHOOK_SECRET": token, "HOIST_POLL_INTERVAL": "0.2",
           "HOIST_LOG_FORMAT": "json", "HOIST_WORKERS": "4", "HOIST_RECONCILE_INTERVAL": "2",
           "HOIST_NOTIFY_URLS": f"json://{receiver.address}/notices",
           **service_env("github", double, hook_secret)}
    service = ServiceProcess(free_port(), env, workdir / "hoist.log")
    stack = Stack(bare, double, service, receiver, token, hook_secret, names)
    try:
        service.start()
    except BaseException:
        stack.stop()
        raise
    return stack


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    need("prometheus", "git")
    server = Prometheus(tmp_path_factory.mktemp("prometheus"), []).start()
    yield server
    server.stop()


@dataclass(frozen=True)
class Case:
    env: str
    query: str
    rule: str
    state: str
    evidence: str  # in the revert commit, the API's reason, the comment and the notice

    @property
    def metric(self) -> str:
        return "success-rate" if "min:" in self.rule else "error-rate"


CASES = [
    # field/canary/04: one pod fails half its requests; the largest value hid it.
    Case("several-series-min-threshold", pods("vector(0.5)", "vector(0.999)"), "min: 0.99",
         "reverted", 'success-rate{pod="a"}: 0.5 < min 0.99'),
    # field/canary/05: pod a has no traffic (NaN), pod b fails 50 %: the NaN hides nothing.
    Case("several-series-nan-first", pods("vector(0) / vector(0)", "vector(0.5)"),
         "max: 0.05", "reverted", 'error-rate{pod="b"}: 0.5 > max 0.05'),
    Case("failing-series-last", pods("vector(0.01)", "vector(1) / 0", "vector(0.2)"),
         "max: 0.05", "reverted", 'error-rate{pod="c"}: 0.2 > max 0.05'),
    # Only measured series count: one NaN beside one pass is a pass.
    Case("nan-beside-a-pass", pods("vector(0) / vector(0)", "vector(0.999)"), "min: 0.99",
         "promoted", "success-rate: 1 of 2 series within min 0.99 (0.999); 1 without a value"),
    Case("every-series-nan", pods("vector(0) / vector(0)", "-vector(1) / 0"), "min: 0.99",
         "held", 'no series has a value: {pod="a"} nan, {pod="b"} -inf'),
    Case("reduce-avg", pods("vector(0.5)", "vector(0.999)"), "min: 0.99\n    reduce: avg",
         "reverted", "success-rate (avg of 2 series): 0.7495 < min 0.99"),
    Case("reduce-max", pods("vector(0.5)", "vector(0.999)"), "min: 0.99\n    reduce: max",
         "promoted", "success-rate (max of 2 series): 0.999 within min 0.99"),
    # Error counts that are absent when there are no errors.
    Case("no-data-pass", 'up{job="none"}', "max: 0\n    no_data: pass", "promoted",
         "error-rate: no data"),
    Case("no-data", 'up{job="none"}', "max: 0", "held", "error-rate: no data"),
]


@pytest.fixture(scope="module")
def judged(prometheus: Prometheus, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Stack, dict[str, dict[str, Any]]]]:
    """One push moving every case's environment at once; each settled promotion by env."""
    stack = start_stack(tmp_path_factory.mktemp("judged"), [
        environment(c.env, metric(prometheus.url, c.metric, c.query, c.rule))
        for c in CASES])
    try:
        stack.push()
        yield stack, {c.env: stack.settled(c.env) for c in CASES}
    finally:
        stack.stop()


@pytest.mark.e2e
@pytest.mark.parametrize("case", CASES, ids=[c.env for c in CASES])
def test_every_series_is_judged(judged: tuple[Stack, dict[str, dict[str, Any]]],
                                case: Case) -> None:
    stack, settled = judged
    promotion = settled[case.env]
    assert promotion["state"] == case.state, promotion
    passed = [t["note"] for t in promotion["transitions"] if (t["note"] or "").startswith("step")]
    if case.state == "promoted":
        assert any(case.evidence in note for note in passed), passed
        assert not stack.reverts(case.env)
        return
    assert case.evidence in promotion["reason"]
    assert any(case.evidence in (n["message"] or "") for n in stack.notices(case.env))
    comments = "\n".join(stack.bot_comments(case.env))
    assert case.evidence in comments
    if case.state == "held":  # cannot tell: nothing reverted (the digest is quarantined by
        # the other cases here; the outage tests below show a hold quarantines nothing)
        assert not stack.reverts(case.env) and "/hoist retry" in comments
        return
    [revert] = stack.reverts(case.env)  # a measured failing series: reverted, quarantined
    assert f"Hoist-Evidence: {case.evidence}" in revert
    assert "quarantined" in comments and "is quarantined" in stack.page(promotion["id"])
    assert f"guestbook 1.1.0 quarantined after {case.env}" in [
        n["title"] for n in stack.notices(case.env)]
    assert 'newTag: "1.0.0"' in git(stack.bare, "show",
                                    f"{case.env}:apps/{case.env}/kustomization.yaml")


def outage_environments(analysis: str, on_inconclusive: str) -> list[str]:
    """prod canaries with `analysis`; qa follows prod and is promoted by hand to show the
    digest is still promotable."""
    return [environment("prod", analysis, f"    on_inconclusive: {on_inconclusive}\n"),
            "  - name: qa\n    branch: qa\n    approval: manual\n    after: prod\n"
            "    targets: [{file: apps/qa/kustomization.yaml, image: guestbook}]\n"]


def assert_still_promotable(stack: Stack, promotion: dict[str, Any]) -> None:
    """Nothing quarantined the digest: the page says so and `/hoist promote qa` starts qa."""
    assert "is quarantined" not in stack.page(promotion["id"])
    assert not [n for n in stack.notices("prod") if "quarantined" in n["title"]]
    stack.comment("prod", "dana", "/hoist promote qa")
    qa = wait_for(lambda: stack.service.promotion_in("qa", "proposed"), "qa proposed", 30)
    assert DIGEST in qa["image"]


@pytest.mark.e2e
def test_prometheus_on_a_closed_port_holds_and_quarantines_nothing_until_retried(
        prometheus: Prometheus, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    stack = start_stack(tmp_path, outage_environments(
        metric(closed, "error-rate", "vector(0.01)", "max: 0.05"), "hold"))
    try:
        stack.push()
        held = stack.settled("prod")
        assert held["state"] == "held", held
        unread = f"error-rate: query failed: Prometheus at {closed} unreachable: ConnectError"
        assert held["reason"].startswith("analysis inconclusive at step 1 of 1 (100%)")
        assert unread in held["reason"] and "/hoist retry" in held["reason"]
        assert held["transitions"][-1]["note"] == "held at step 1 of 1 (100%)"
        comments = "\n".join(stack.bot_comments("prod"))
        assert unread in comments and "/hoist retry" in comments and "/hoist abort" in comments
        [notice] = [n for n in stack.notices("prod") if n["title"] == "guestbook 1.1.0 held in prod"]
        assert unread in notice["message"]
        assert not stack.reverts("prod")
        assert 'newTag: "1.1.0"' in git(stack.bare, "show", "prod:apps/prod/kustomization.yaml")
        warnings = stack.log_events("prometheus.unreachable")
        assert warnings and warnings[0]["level"] == "warning" and warnings[0]["url"] == closed
        assert "ConnectError" in warnings[0]["reason"]
        assert_still_promotable(stack, held)
        # Prometheus is reachable again (hoist.yaml fixed): a retry analyses the held step
        # again from a fresh count, and the canary is promoted.
        text = git(stack.bare, "show", "main:hoist.yaml").replace(closed, prometheus.url)
        fix = tmp_path / "fix"
        git(tmp_path, "clone", "-q", str(stack.bare), str(fix))
        (fix / "hoist.yaml").write_text(text)
        git(fix, "-c", "user.name=dana", "-c", "user.email=dana@example.com", "commit", "-qam",
            "fix(hoist): the Prometheus URL")
        git(fix, "push", "-q", "origin", "HEAD:main")
        stack.comment("prod", "dana", "/hoist retry")
        wait_for(lambda: stack.service.promotion_in("prod", "promoted"), "prod promoted", 40)
        assert any("analysing step 1 again" in c for c in stack.bot_comments("prod"))
    finally:
        stack.stop()


@pytest.mark.e2e
def test_on_inconclusive_revert_reverts_in_git_without_quarantine(tmp_path: Path) -> None:
    need("git")
    down = f"http://127.0.0.1:{free_port()}/healthz"  # refused: down, not failing
    stack = start_stack(tmp_path, outage_environments(
        f'health: {{url: "{down}", timeout: 1s}}', "revert"))
    try:
        stack.push()
        reverted = stack.settled("prod")
        assert reverted["state"] == "reverted", reverted
        assert "reverted without quarantine" in reverted["reason"]
        assert "health: unreachable" in reverted["reason"]
        [revert] = stack.reverts("prod")
        assert "no reading showed the image bad, so its digest is not quarantined" in revert
        assert "Hoist-Evidence: health: unreachable" in revert
        assert 'newTag: "1.0.0"' in git(stack.bare, "show", "prod:apps/prod/kustomization.yaml")
        assert "Nothing is quarantined" in "\n".join(stack.bot_comments("prod"))
        assert_still_promotable(stack, reverted)
    finally:
        stack.stop()


@pytest.mark.e2e
def test_a_health_endpoint_answering_503_is_a_measured_failure(unhealthy: str,
                                                                tmp_path: Path) -> None:
    need("git")
    stack = start_stack(tmp_path, outage_environments(
        f'health: {{url: "{unhealthy}", timeout: 1s}}', "hold"))
    try:
        stack.push()
        reverted = stack.settled("prod")
        assert reverted["state"] == "reverted", reverted
        assert reverted["reason"] == "analysis failed: health: status 503"
        assert "is quarantined" in stack.page(reverted["id"])
    finally:
        stack.stop()
