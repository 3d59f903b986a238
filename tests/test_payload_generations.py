"""The neighbours of each published payload generation: what GitHub, Harbor, Quay, ECR, GAR and
Artifactory send beside the documented push (other package types, other actions, untagged
versions, other partitions), and the ECR China case through `hoist parse-event` and
`hoist plan`."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from bot.cli import main
from bot.flows.services import Services
from bot.settings import Settings
from bot.sources import SOURCES, sns_confirmation_url
from bot.web.app import create_app
from tests.payloads import CASE_18, PAYLOADS, REG, push
from tests.support import DATA
from tests.test_sources import SECRET, auth_headers

GHCR_2025 = DATA / "github/package.published.container.2025.json"


def parse(source: str, document: Any, headers: dict[str, str] | None = None) -> list[Any]:
    body = json.dumps(document).encode()
    return [p.to_public_json() for p in SOURCES[source].parse(headers or {}, body)]


def load(path: Path) -> Any:
    return next(p for p in PAYLOADS if p.path == path).document()


def edited(document: Any, *edits: tuple[tuple[str, ...], Any]) -> Any:
    """A copy with each (path, value) set; a value of ... deletes the key."""
    doc = copy.deepcopy(document)
    for path, value in edits:
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if value is ...:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return doc


# --- GitHub ---------------------------------------------------------------------------

VERSION = ("package", "package_version")
WWW = push("ghcr.io", "theryangeary/www", "0e2a89b",
           "sha256:89160c587d0c36bf54090497a465445c14980ba48efbcf3b0d03c49b76f3feb8")


@pytest.mark.parametrize("kind", ["npm", "maven", "rubygems", "nuget", "NPM", "pypi"])
def test_packages_that_are_not_images_are_not_pushes(kind: str) -> None:
    doc = edited(load(GHCR_2025), (("package", "package_type"), kind),
                 (("package", "ecosystem"), kind), (("package", "registry", "type"), kind))
    assert parse("ghcr", doc, {"x-github-event": "package"}) == []


@pytest.mark.parametrize("action", ["updated", "deleted", "removed", None])
def test_only_publishes_are_pushes(action: str | None) -> None:
    doc = edited(load(GHCR_2025), (("action",), action))
    assert parse("ghcr", doc, {"x-github-event": "package"}) == []


def test_untagged_versions_of_a_multi_platform_push_are_not_pushes() -> None:
    # GitHub sends one event per manifest of a multi-platform image; only the index is tagged.
    child = edited(load(GHCR_2025), ((*VERSION, "container_metadata", "tag", "name"), ""),
                   ((*VERSION, "package_url"), "ghcr.io/theryangeary/www:"))
    assert parse("ghcr", child, {"x-github-event": "package"}) == []


def test_the_same_event_as_registry_package_and_without_the_event_header() -> None:
    doc = load(GHCR_2025)
    renamed = {("registry_package" if k == "package" else k): v for k, v in doc.items()}
    assert parse("ghcr", renamed, {"x-github-event": "registry_package"}) == [WWW]
    assert parse("ghcr", renamed) == [WWW]  # the body's key tells the event
    assert parse("ghcr", doc, {"x-github-event": "registry_package"}) == []  # no such key


def test_without_package_url_the_image_is_owner_and_name_on_ghcr() -> None:
    doc = edited(load(GHCR_2025), ((*VERSION, "package_url"), ...),
                 (("package", "owner", "login"), "TheRyanGeary"))
    assert parse("ghcr", doc, {"x-github-event": "package"}) == [WWW]
    nested = edited(load(GHCR_2025), ((*VERSION, "package_url"),
                                      "ghcr.io/theryangeary/cadence/api:sha-33cefd3"),
                    ((*VERSION, "container_metadata", "tag", "name"), "sha-33cefd3"))
    assert parse("ghcr", nested, {"x-github-event": "package"})[0]["repository"] == \
        "theryangeary/cadence/api"


@pytest.mark.parametrize("event", ["package", "registry_package"])
@pytest.mark.parametrize("version", ["1.4.2", "v2.0.0-rc.1", "latest", "sha-33cefd3"])
def test_a_version_that_is_not_a_digest_names_the_tag_in_every_generation(
        event: str, version: str) -> None:
    """Deliveries that name the version by its tag (no container_metadata tag, no tag in
    package_url): the tag is the version, whatever the generation; a digest never is."""
    doc = edited(load(GHCR_2025), ((*VERSION, "version"), version),
                 ((*VERSION, "container_metadata", "tag", "name"), ""),
                 ((*VERSION, "package_url"), "ghcr.io/theryangeary/www"))
    if event == "registry_package":
        doc = {("registry_package" if k == "package" else k): v for k, v in doc.items()}
    pushes = parse("ghcr", doc, {"x-github-event": event})
    assert [(p["repository"], p["tag"]) for p in pushes] == [("theryangeary/www", version)]
    for digest in ("sha256:" + "a" * 64, "sha512:" + "b" * 128):
        by_digest = edited(load(GHCR_2025), ((*VERSION, "version"), digest),
                           ((*VERSION, "container_metadata", "tag", "name"), ""),
                           ((*VERSION, "package_url"), "ghcr.io/theryangeary/www"))
        assert parse("ghcr", by_digest, {"x-github-event": "package"}) == []


def test_the_legacy_docker_registry_without_its_registry_url() -> None:
    path = DATA / "github/registry_package.published.docker.2019.json"
    doc = edited(load(path), (("registry_package", "registry"), ...))
    assert parse("ghcr", doc, {"x-github-event": "registry_package"}) == [
        push("docker.pkg.github.com", "dingggu/utaitebox/server", "1.2.3", None)]


def test_github_route_accepts_the_beta_package_v2_event(tmp_path: Path,
                                                       services: Services) -> None:
    settings = Settings(manifests_repo="unused", data_dir=tmp_path, webhook_secret="other",
                        github_webhook_secret=SECRET)
    client = TestClient(create_app(settings, services))
    body = (DATA / "github/package_v2.create.container.2020.json").read_bytes()
    headers = auth_headers("ghcr", body) | {"X-GitHub-Event": "package_v2"}
    response = client.post("/webhooks/github", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert [p["tag"] for p in response.json()["pushes"]] == ["3.2.1"]


# --- Harbor, Quay, GAR, Artifactory ---------------------------------------------------

@pytest.mark.parametrize("kind", ["pullImage", "deleteImage", "uploadChart", "scanningCompleted",
                                  "PULL_ARTIFACT", "DELETE_ARTIFACT", "harbor.artifact.deleted"])
def test_other_harbor_events_are_not_pushes(kind: str) -> None:
    doc = edited(load(DATA / "harbor/pushImage.1.x.keel.json"), (("type",), kind))
    assert parse("harbor", doc) == []


def test_quay_build_notification_is_not_a_push() -> None:
    assert parse("quay", load(DATA / "quay/build_success.jsonc")) == []


def test_quay_image_from_homepage_when_docker_url_is_missing() -> None:
    doc = edited(load(DATA / "quay/repo_push.updated_tags-object.json"), (("docker_url",), ...))
    assert parse("quay", doc) == [push("quay.io", "mynamespace/repository", "latest", None)]
    self_hosted = edited(doc, (("homepage",), "https://quay.example.com/repository/a/b"),
                         (("updated_tags",), {"1.0": "x", "1.1": "y"}))
    assert [(p["registry"], p["repository"], p["tag"]) for p in parse("quay", self_hosted)] == [
        ("quay.example.com", "a/b", "1.0"), ("quay.example.com", "a/b", "1.1")]


@pytest.mark.parametrize("message", [
    {"action": "INSERT", "digest": "gcr.io/my-project/hello-world@sha256:6ec128e26cd5..."},
    {"action": "DELETE", "tag": "gcr.io/my-project/hello-world:1.1"},
    {"action": "INSERT", "digest": "gcr.io/p/i@sha256:00", "tag": ""},
])
def test_untagged_inserts_and_deletes_are_not_pushes(message: dict[str, str]) -> None:
    assert parse("gar", message) == []


@pytest.mark.parametrize("event_type", ["deleted", "promoted"])
def test_other_artifactory_docker_events_are_not_pushes(event_type: str) -> None:
    doc = load(DATA / "artifactory/docker-pushed.docs-data.json")
    assert parse("artifactory", edited(doc, (("event_type",), event_type))) == []


@pytest.mark.parametrize("action", ["chart_push", "chart_delete", "delete", "quarantine"])
def test_other_acr_events_are_not_pushes(action: str) -> None:
    assert parse("acr", edited(load(REG / "acr/push.json"), (("action",), action))) == []


# --- ECR in every partition ------------------------------------------------------------

ECR_EVENT = REG / "ecr/image_push.json"


@pytest.mark.parametrize(("region", "arn_partition", "host"), [
    ("us-west-2", None, "123456789012.dkr.ecr.us-west-2.amazonaws.com"),
    ("il-central-1", None, "123456789012.dkr.ecr.il-central-1.amazonaws.com"),
    ("cn-north-1", None, "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
    ("cn-northwest-1", "aws-cn", "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn"),
    ("us-gov-west-1", "aws-us-gov", "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com"),
    ("us-gov-east-1", None, "123456789012.dkr.ecr.us-gov-east-1.amazonaws.com"),
    ("us-iso-east-1", None, "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"),
    ("us-isob-east-1", "aws-iso-b", "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov"),
    ("eu-isoe-west-1", None, "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk"),
    ("us-isof-south-1", None, "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov"),
    ("eusc-de-east-1", None, "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu"),
    # A region no partition lists yet: the ARN's partition decides, else aws (as the SDKs).
    ("cn-south-9", None, "123456789012.dkr.ecr.cn-south-9.amazonaws.com.cn"),
    ("xy-central-1", "aws-iso-f", "123456789012.dkr.ecr.xy-central-1.csp.hci.ic.gov"),
    ("xy-central-1", None, "123456789012.dkr.ecr.xy-central-1.amazonaws.com"),
    # Not a region, or not an account: no host rather than a wrong one.
    ("../evil.example/x", None, None),
])
def test_ecr_registry_host_in_every_partition(region: str, arn_partition: str | None,
                                              host: str | None) -> None:
    resources = [f"arn:{arn_partition}:ecr:{region}:123456789012:repository/my-repository-name"] \
        if arn_partition else []
    doc = edited(load(ECR_EVENT), (("region",), region), (("resources",), resources))
    [pushed] = parse("ecr", doc)
    assert pushed["registry"] == host


def test_ecr_account_that_is_not_an_account_id_gives_no_host() -> None:
    doc = edited(load(ECR_EVENT), (("account",), "evil.example/x"))
    assert parse("ecr", doc)[0]["registry"] is None


@pytest.mark.parametrize(("url", "followed"), [
    ("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=a", True),
    ("https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription&Token=a", True),
    ("https://sns.us-gov-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=a", True),
    ("https://sns.us-iso-east-1.c2s.ic.gov/?Action=ConfirmSubscription&Token=a", True),
    ("https://sns.us-west-2.amazonaws.com.cn/?Action=ConfirmSubscription&Token=a", False),
    ("https://sns.cn-north-1.amazonaws.com/?Action=ConfirmSubscription&Token=a", False),
    ("https://sns.us-west-2.amazonaws.com.evil.example/?Action=ConfirmSubscription&T=a", False),
    ("https://sns.us-west-2.amazonaws.com@evil.example/?Action=ConfirmSubscription&T=a", False),
    ("http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=a", False),
])
def test_sns_confirmations_are_followed_only_to_sns_in_the_regions_partition(
        url: str, followed: bool) -> None:
    body = json.dumps({"Type": "SubscriptionConfirmation", "SubscribeURL": url}).encode()
    assert (sns_confirmation_url(body) == url) is followed


def test_ecr_china_case_prints_the_expected_lines_and_plans_the_china_image(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """shared/cases/policy/18 as shipped: its cmd.sh runs `hoist parse-event` on both
    payloads and compares the output with expected-*.jsonl; each printed push, given to
    `hoist plan`, moves exactly the image its scenario names."""
    case = tmp_path / "case"
    shutil.copytree(CASE_18, case)
    hoist = Path(sys.executable).with_name("hoist")
    run = subprocess.run(["sh", str(case / "cmd.sh")], capture_output=True, text=True,
                         env={"HOIST": str(hoist), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    for expected in sorted(case.glob("expected-*.jsonl")):
        name = expected.name.removeprefix("expected-").removesuffix(".jsonl")
        assert main(["parse-event", "--source", "ecr", str(case / f"{name}.json")]) == 0
        assert capsys.readouterr().out.encode() == expected.read_bytes()  # byte for byte
    scenario = yaml.safe_load((case / "scenario.yaml").read_text())
    for step in scenario["steps"]:
        pushed = json.loads((case / step["match_jsonl"]).read_text())
        ref = f"{pushed['registry']}/{pushed['repository']}:{pushed['tag']}@{pushed['digest']}"
        assert main(["plan", "--no-render", "--config", str(case / scenario["config"]),
                     "--image", ref]) == 0
        plan = capsys.readouterr().out
        moved = [line.split()[2] for line in plan.splitlines() if line.startswith("# dev: ")]
        assert moved == step["expect"], plan
        assert f"+    newTag: {pushed['tag']}" in plan
        registry_line = f"  - name: {pushed['registry']}/{pushed['repository']}\n-    newTag: 1.6.0"
        assert registry_line in plan  # the pushed registry's entry is the one edited
