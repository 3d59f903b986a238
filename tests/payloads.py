"""Every published registry payload the tests hold (shared fixtures and tests/data, sources in
their SOURCES.md), with the pushes `hoist parse-event` must print for it. Parsing tests and
the fuzz seeds read this one table."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import DATA, FIXTURES, SHARED

REG = FIXTURES / "registry"
GH = FIXTURES / "github"
CASE_18 = SHARED / "cases" / "policy" / "18-ecr-china-region-host"


def push(registry: str | None, repository: str, tag: str | None,
         digest: str | None) -> dict[str, Any]:
    """One line of `hoist parse-event`."""
    return {"registry": registry, "repository": repository, "tag": tag, "digest": digest}


@dataclass(frozen=True)
class Payload:
    source: str
    path: Path
    expected: list[dict[str, Any]] | None  # None: refused, the body as published is not JSON
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.source}:{self.path.parent.name}/{self.path.name}"

    def document(self) -> Any:
        """The body as JSON (whole-line `//` comments dropped, as the parsers allow)."""
        text = re.sub(r"^\s*//.*$|\s//\s*Optional$", "", self.path.read_text(), flags=re.M)
        return json.loads(text)


NOTHING: list[dict[str, Any]] = []
EVENT = "X-GitHub-Event"

PAYLOADS = [
    # Docker Hub: one shape since 2014; no digest.
    Payload("dockerhub", REG / "dockerhub/push.json",
            [push("docker.io", "svendowideit/testhook", "latest", None)]),
    Payload("dockerhub", DATA / "dockerhub/push.2017.keel.json",
            [push("docker.io", "karolisr/keel", "0.1.7", None)]),
    # Harbor 2.x Default and CloudEvents, Harbor 1.9/1.10 `pushImage`.
    Payload("harbor", REG / "harbor/push_artifact.default.json",
            [push("hub.harbor.com", "test-webhook/debian", "latest",
                  "sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8")]),
    Payload("harbor", REG / "harbor/push_artifact.cloudevents.jsonc",
            [push("localhost", "harbor/alpine", None,
                  "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4")]),
    Payload("harbor", DATA / "harbor/pushImage.1.x.tencent-tcr-docs.json",
            [push("xxx-bj.tencentcloudcr.com", "public/nginx", "v1.10.0",
                  "sha256:89a42c3ba15f09a3fbe39856bddacdf9e94cd03df7403cad4fc105xxxx268fc9")]),
    Payload("harbor", DATA / "harbor/pushImage.1.x.keel.json",
            [push("quay.io", "mynamespace/repository", "1.2.3",
                  "sha256:b4758aaed11c155a476b9857e1178f157759c99cb04c907a04993f5481eff848")]),
    # Harbor 1.10's docs show a different body, and not valid JSON: Harbor never sent it.
    Payload("harbor", DATA / "harbor/harbor-1.10-docs-push-image.not-json.txt", None),
    # Quay: `updated_tags` as a list (Red Hat Quay 3.x, quay-docs 2017) or an object (older).
    Payload("quay", REG / "quay/repo_push.json", [push("quay.io", "dgangaia/test", "latest", None)]),
    Payload("quay", DATA / "quay/repo_push.updated_tags-list.json",
            [push("quay.io", "mynamespace/repository", "latest", None)]),
    Payload("quay", DATA / "quay/repo_push.updated_tags-object.json",
            [push("quay.io", "mynamespace/repository", "latest", None)]),
    Payload("quay", DATA / "quay/webhook.glossary-2014.json",
            [push("quay.io", "devtable/ubuntu", "latest", None)]),
    # A build notification: documented with trailing `// Optional` notes, so not JSON as
    # published; without them it is not a push (test_payload_generations).
    Payload("quay", DATA / "quay/build_success.jsonc", None),
    # Azure Container Registry.
    Payload("acr", REG / "acr/push.json",
            [push("myregistry.azurecr.io", "hello-world", "v1",
                  "sha256:xxxxd5c8786bb9e621a45ece0dbxxxx1cdc624ad20da9fe62e9d25490f33xxxx")]),
    # ECR through EventBridge: the published event, and the case's aws and aws-cn pushes.
    Payload("ecr", REG / "ecr/image_push.json",
            [push("123456789012.dkr.ecr.us-west-2.amazonaws.com", "my-repository-name", "latest",
                  "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234")]),
    Payload("ecr", CASE_18 / "ecr-us-west-2.json",
            [push("123456789012.dkr.ecr.us-west-2.amazonaws.com", "team/app", "1.7.0",
                  "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678")]),
    Payload("ecr", CASE_18 / "ecr-cn-north-1.json",
            [push("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "team/app", "1.7.0",
                  "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678")]),
    # Artifact Registry and GCR (Pub/Sub).
    Payload("gar", REG / "gar/artifact_registry.insert_tag.json",
            [push("us-west1-docker.pkg.dev", "my-project/my-repo/hello-world", "1.1",
                  "sha256:6ec128e26cd5...")]),
    Payload("gar", DATA / "gar/gcr.insert-tag.json",
            [push("gcr.io", "my-project/hello-world", "1.1", "sha256:6ec128e26cd5...")]),
    Payload("gar", REG / "gar/pubsub_push_envelope.json", NOTHING),  # data is not an AR message
    # JFrog Artifactory: the platform's envelope, and the `data` object the docs show.
    Payload("artifactory", REG / "artifactory/docker_pushed.json",
            [push("example.jfrog.io", "docker-remote-cache/library/ubuntu", "latest",
                  "sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce")]),
    Payload("artifactory", DATA / "artifactory/docker-pushed.docs-data.json",
            [push(None, "docker-remote-cache/library/ubuntu", "latest",
                  "sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce")]),
    # CNCF Distribution and GitLab (the same envelope).
    Payload("distribution", REG / "distribution/push_envelope.json", NOTHING),
    Payload("gitlab", REG / "distribution/push_envelope.json", NOTHING),
    Payload("distribution", DATA / "distribution-2.8-manifest-push.json",
            [push("localhost:5000", "acme/guestbook", "1.4.2",
                  "sha256:0b2dd1712a2061cebb7a7120bf2961c4417300ebb51ad35f0ef0b65336be05e5")]),
    Payload("distribution", DATA / "distribution-2.8-blob-push.json", NOTHING),
    # GitHub Packages, oldest first. docker.pkg.github.com (2019): the tag is the version.
    Payload("ghcr", DATA / "github/registry_package.published.docker.2019.json",
            [push("docker.pkg.github.com", "dingggu/utaitebox/server", "1.2.3", None)],
            {EVENT: "registry_package"}),
    # The Container registry's beta (2020): event package_v2, action create.
    Payload("ghcr", DATA / "github/package_v2.create.container.2020.json",
            [push("ghcr.io", "utaitebox/utaitebox-server", "3.2.1",
                  "sha256:7d3848ba2f2e7f69bebb4b576e5fad0379b64a0b1512aee6ad0ec9e7c6319fed")],
            {EVENT: "package_v2"}),
    # ghcr.io today: the version is the digest, the tag in container_metadata and package_url.
    Payload("ghcr", DATA / "github/package.published.container.2025.json",
            [push("ghcr.io", "theryangeary/www", "0e2a89b",
                  "sha256:89160c587d0c36bf54090497a465445c14980ba48efbcf3b0d03c49b76f3feb8")],
            {EVENT: "package"}),
    # octokit's examples: package_type npm (the "docker" ones have no tag either).
    Payload("ghcr", GH / "package.published.json", NOTHING, {EVENT: "package"}),
    Payload("ghcr", GH / "registry_package.published.json", NOTHING, {EVENT: "registry_package"}),
    Payload("ghcr", DATA / "github/package.published.npm.json", NOTHING, {EVENT: "package"}),
    Payload("ghcr", GH / "ping.json", NOTHING, {EVENT: "ping"}),
]
