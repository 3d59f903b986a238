"""Issue 27 through the public contracts: Debian's docker-registry notifying `hoist serve`,
skopeo pushing images, cosign-format signatures and attestations pushed to the registry
(tests/cosign_maker.py), and what Hoist says in the API and in git trailers."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bot.adapters.registry import RegistryClient
from bot.adapters.verify import oci
from bot.adapters.verify.keys import key_id
from bot.demo.manifests import EXAMPLE, distribution_envelope, make_manifests_repo
from bot.demo.registry import LocalRegistry, free_port, write_oci_layout
from tests import cosign_maker as cosign
from tests.chat_receivers import WebhookReceiver
from tests.oci_referrers_double import ReferrersRegistry
from tests.support import ServiceProcess, git, need, wait_for

REPO = "acme/guestbook"
DEV_FILE = "apps/guestbook/overlays/dev/kustomization.yaml"


def hoist_yaml(verify: str, staging: str = "approval: none",
               prod: str = "after: staging") -> str:
    """The demo's chain (dev → staging → prod, prod approved by hand) with a verify block."""
    def target(env: str) -> str:
        return f"      - {{file: apps/guestbook/overlays/{env}/kustomization.yaml, image: guestbook}}"
    return "\n".join([
        "images:", "  guestbook:", "    repository: localhost:5000/acme/guestbook",
        '    tags: {semver: ">=1.0.0 <2.0.0", prerelease: false}', "    pin: tag@digest",
        textwrap.indent(verify, "    ") if verify else "",
        "environments:",
        "  - name: dev", "    approval: none", "    targets:", target("dev"),
        "  - name: staging", "    after: dev", f"    {staging}", "    targets:", target("staging"),
        "  - name: prod", f"    {prod}", "    approval: manual", "    targets:", target("prod"),
        ""])


def key_block(key: ec.EllipticCurvePrivateKey) -> str:
    return "verify:\n  signature:\n    key: |\n" + textwrap.indent(cosign.public_pem(key), "      ")


class Stack:
    """hoist serve + docker-registry notifying it, with a manifests repo on disk."""

    def __init__(self, tmp_path: Path, config: str, env: dict[str, str] | None = None) -> None:
        need("git", "docker-registry", "skopeo")
        self.tmp = tmp_path
        self.on_stop: list[Callable[[], None]] = []
        port = free_port()
        self.host = f"localhost:{port}"
        source = tmp_path / "example"
        shutil.copytree(EXAMPLE, source)
        (source / "demo" / "hoist.yaml").write_text(config)
        url = make_manifests_repo(tmp_path / "origin", self.host, source)
        self.origin = Path(url.removeprefix("file://"))
        token = "t0ken-" + tmp_path.name[-8:]
        self.api = "api-" + token
        self.service = ServiceProcess(free_port(), {
            "HOIST_MANIFESTS_REPO": url, "HOIST_DATA_DIR": str(tmp_path / "data"),
            "HOIST_WEBHOOK_SECRET": token, "HOIST_API_TOKEN": self.api,
            "HOIST_POLL_INTERVAL": "0.2", "HOIST_LOG_FORMAT": "json", **(env or {})},
            tmp_path / "hoist.log")
        self.service.start()
        self.registry = LocalRegistry(tmp_path / "registry", port,
                                      f"{self.service.url}/webhooks/registry/distribution", token)
        self.registry.start()

    def image(self, tag: str) -> str:
        """Write an OCI layout holding `tag`; returns its digest (not pushed yet)."""
        return write_oci_layout(self.tmp / "layout", tag, f"guestbook {tag}")

    def push(self, tag: str) -> None:
        self.registry.push(self.tmp / "layout", tag, REPO)

    def wait(self, env: str, state: str, tag: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((p for p in self.service.promotions() if p["environment"] == env
                         and p["state"] == state and p["tag"] == tag), None)
        result: dict[str, Any] = wait_for(found, f"{env} {tag} to be {state}", timeout=45)
        return result

    def command(self, pid: str, name: str) -> httpx.Response:
        return httpx.post(f"{self.service.url}/api/promotions/{pid}/{name}", timeout=20,
                          headers={"Authorization": f"Bearer {self.api}", "X-Hoist-User": "alice"})

    def stop(self) -> None:
        self.registry.stop()
        self.service.stop()
        for stop in self.on_stop:
            stop()


@pytest.fixture
def stacks() -> Iterator[list[Stack]]:
    made: list[Stack] = []
    yield made
    for stack in made:
        stack.stop()


@pytest.mark.e2e
def test_signed_digest_moves_and_unsigned_is_held_until_signed(
        tmp_path: Path, stacks: list[Stack]) -> None:
    key = cosign.new_key()
    stack = Stack(tmp_path, hoist_yaml(key_block(key)))
    stacks.append(stack)
    digest = stack.image("1.4.2")
    cosign.sign_image(stack.host, REPO, digest, key)
    stack.push("1.4.2")
    stack.wait("staging", "promoted", "1.4.2")
    message = git(stack.origin, "log", "-1", "--format=%B", "main")
    assert "in staging" in message.splitlines()[0]
    assert f"Hoist-Verified: signature key={key_id(key.public_key())}\n" in message
    audit = subprocess.run([sys.executable, "-m", "bot", "audit", "--repo", str(stack.origin),
                            "--json"], capture_output=True, text=True, check=True, timeout=60)
    entries = [json.loads(line) for line in audit.stdout.splitlines()]
    assert {e["verified"] for e in entries} == {f"signature key={key_id(key.public_key())}"}

    unsigned = stack.image("1.4.3")
    stack.push("1.4.3")
    held = stack.wait("dev", "held", "1.4.3")
    assert held["reason"].startswith("unverified: signature: no cosign signature of "
                                     f"{unsigned}")
    assert f"digest: {unsigned}" not in git(stack.origin, "show", f"main:{DEV_FILE}")
    # CI signs a little later: the registry's notification of the `.sig` tag is a push to
    # the repository, and checks the held promotion again.
    cosign.sign_image(stack.host, REPO, unsigned, key)
    promoted = stack.wait("dev", "promoted", "1.4.3")
    assert promoted["id"] == held["id"]
    assert f"digest: {unsigned}" in git(stack.origin, "show", f"main:{DEV_FILE}")
    # The API and the page say what was verified (the `planned` transition's note).
    detail = httpx.get(f"{stack.service.url}/api/promotions/{promoted['id']}", timeout=10).json()
    said = f"verified: signature key={key_id(key.public_key())}"
    assert said in [t["note"] for t in detail["transitions"]]
    assert f"**Verified**: signature key={key_id(key.public_key())}" in \
        detail["proposed"]["body"]  # the change request says it too
    page = httpx.get(f"{stack.service.url}/ui/promotions/{promoted['id']}", timeout=10)
    assert said in page.text



def _another_digest(stack: Stack, key: ec.EllipticCurvePrivateKey, digest: str) -> None:
    other = "sha256:" + "0" * 64
    cosign.sign_image(stack.host, REPO, digest, key,
                      payload=cosign.simple_signing(f"{stack.host}/{REPO}", other))


def _another_repository(stack: Stack, key: ec.EllipticCurvePrivateKey, digest: str) -> None:
    cosign.sign_image(stack.host, REPO, digest, key,
                      payload=cosign.simple_signing(f"{stack.host}/acme/other", digest))


def _tampered(stack: Stack, key: ec.EllipticCurvePrivateKey, digest: str) -> None:
    honest = cosign.simple_signing(f"{stack.host}/{REPO}", "sha256:" + "1" * 64)
    cosign.sign_image(stack.host, REPO, digest, key, signed=honest,
                      payload=cosign.simple_signing(f"{stack.host}/{REPO}", digest))


def _another_key(stack: Stack, key: ec.EllipticCurvePrivateKey, digest: str) -> None:
    cosign.sign_image(stack.host, REPO, digest, cosign.new_key())


@pytest.mark.e2e
@pytest.mark.parametrize(("sign", "said"), [
    (_another_key, "the signature does not verify with key="),
    (_another_digest, "the signature is for digest sha256:0000"),
    (_another_repository, "/acme/other, not "),
    (_tampered, "the signature does not verify with key="),
])
def test_invalid_signature_refuses_and_quarantines(tmp_path: Path, stacks: list[Stack],
                                                   sign: Any, said: str) -> None:
    key = cosign.new_key()
    receiver = WebhookReceiver()
    stack = Stack(tmp_path, hoist_yaml(key_block(key)),
                  {"HOIST_NOTIFY_URLS": f"json://{receiver.address}/notices"})
    stacks.append(stack)
    stack.on_stop.append(receiver.stop)
    digest = stack.image("1.4.2")
    sign(stack, key, digest)
    stack.push("1.4.2")
    failed = stack.wait("dev", "failed", "1.4.2")
    assert failed["reason"].startswith("refused: signature: ")
    assert said in failed["reason"]
    assert len(git(stack.origin, "log", "--format=%H", "main").split()) == 1  # nothing merged
    # Quarantined: a retry is refused again, and the digest stays out of git.
    reply = stack.command(failed["id"], "unquarantine")
    assert reply.status_code == 200 and digest in reply.json()["reply"]
    # People were told, with the reason.
    told = wait_for(lambda: [b for b in receiver.bodies("/notices") if said in json.dumps(b)],
                    "the failure notice")
    assert "failed in dev" in json.dumps(told[0])


@pytest.mark.e2e
def test_provenance_from_another_builder_or_branch_is_refused(tmp_path: Path,
                                                              stacks: list[Stack]) -> None:
    key = cosign.new_key()
    policy = key_block(key) + ("  provenance: {builder: \"^https://github.com/acme/.*$\", "
                               "source: github.com/acme/guestbook, ref: refs/heads/main}\n")
    stack = Stack(tmp_path, hoist_yaml(policy))
    stacks.append(stack)
    name = f"{stack.host}/{REPO}"
    builds = {
        "1.4.2": ("https://github.com/acme/ci/.github/workflows/build.yml@refs/heads/main",
                  "refs/heads/main"),
        "1.4.3": ("https://github.com/acme/ci/.github/workflows/build.yml@refs/heads/main",
                  "refs/heads/feature"),
        "1.4.4": ("https://ci.example.net/builder", "refs/heads/main"),
    }
    for tag, (builder, ref) in builds.items():
        digest = stack.image(tag)
        cosign.sign_image(stack.host, REPO, digest, key)
        cosign.attest_image(stack.host, REPO, digest, [cosign.dsse(key, cosign.provenance(
            name, digest, builder, "https://github.com/acme/guestbook", ref))])
        stack.push(tag)
        if tag == "1.4.2":
            stack.wait("dev", "promoted", tag)
            message = git(stack.origin, "log", "-1", "--format=%B", "main")
            assert f"Hoist-Verified: signature key={key_id(key.public_key())}; provenance " \
                   f"builder={builder}\n" in message
    assert "built from refs/heads/feature, not refs/heads/main" in \
        stack.wait("dev", "failed", "1.4.3")["reason"]
    assert "built by https://ci.example.net/builder, not" in \
        stack.wait("dev", "failed", "1.4.4")["reason"]


@pytest.mark.e2e
def test_prod_requires_hoists_staging_attestation(tmp_path: Path, stacks: list[Stack]) -> None:
    hoist_key = cosign.new_key()
    key_file = tmp_path / "cosign.key"
    key_file.write_text(cosign.cosign_encrypted_pem(hoist_key, "correct horse"))
    stack = Stack(tmp_path, hoist_yaml("", staging="approval: manual",
                                       prod="after: dev\n    requires: {attestation: staging}"),
                  {"HOIST_ATTESTATION_KEY_FILE": str(key_file),
                   "HOIST_ATTESTATION_PASSPHRASE": "correct horse"})
    stacks.append(stack)
    digest = stack.image("1.4.2")
    stack.push("1.4.2")
    # prod follows dev here: the digest reaches prod without having passed staging.
    held = stack.wait("prod", "held", "1.4.2")
    assert held["reason"].startswith(f"unverified: attestation staging: {digest} was never "
                                     "promoted in staging by Hoist")
    stack.wait("dev", "promoted", "1.4.2")
    client = RegistryClient()
    found = oci.attestations(client, f"{stack.host}/{REPO}", digest)
    assert [e.where for e in found] == [f"tag {digest.replace(':', '-')}.att"]  # no referrers API

    # `/hoist retry` checks again (a push to the repository, Hoist's own dev attestation
    # among them, does too: a retry may meet it mid-check and be told so with a 409).
    wait_for(lambda: stack.command(held["id"], "retry").status_code == 200, "a retry")

    def notes() -> list[str]:
        detail = httpx.get(f"{stack.service.url}/api/promotions/{held['id']}", timeout=10).json()
        return [str(t["note"]) for t in detail["transitions"]] if detail["state"] == "held" else []
    assert "retried by alice" in wait_for(notes, "prod held again after the retry")

    staging = stack.wait("staging", "proposed", "1.4.2")
    assert stack.command(staging["id"], "approve").status_code == 200
    promoted = stack.wait("staging", "promoted", "1.4.2")  # its attestation's push checks prod

    def staging_statements() -> list[dict[str, Any]]:
        statements = [json.loads(base64.b64decode(json.loads(e.body)["payload"]))
                      for e in oci.attestations(client, f"{stack.host}/{REPO}", digest)]
        return [s for s in statements if s["predicate"]["environment"] == "staging"]
    [ours] = wait_for(staging_statements, "Hoist's staging attestation in the registry")
    assert ours["_type"] == "https://in-toto.io/Statement/v1"
    assert ours["predicateType"] == "https://hoist.dev/attestation/promotion/v1"
    assert ours["subject"] == [{"name": f"{stack.host}/{REPO}",
                                "digest": {"sha256": digest.removeprefix("sha256:")}}]
    predicate = ours["predicate"]
    assert (predicate["promotion"], predicate["commit"], predicate["approvers"]) == (
        promoted["id"], promoted["merge_sha"], ["alice"])
    assert set(predicate["times"]) == {"received", "merged", "promoted"}
    prod = stack.wait("prod", "proposed", "1.4.2")
    assert prod["id"] == held["id"]
    assert stack.command(prod["id"], "approve").status_code == 200
    stack.wait("prod", "promoted", "1.4.2")
    message = git(stack.origin, "log", "-1", "--format=%B", "main")
    assert f"Hoist-Verified: attestation staging key={key_id(hoist_key.public_key())}\n" in message


COSIGN_BUNDLE = (cosign.DATA / "cosign_oci_attestation.sigstore.json").read_bytes()
COSIGN_SUBJECT = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4"


@pytest.mark.e2e
@pytest.mark.parametrize(("identity", "state", "root"), [
    ("cody@soyland.com", "promoted", "production"),
    ("^.*@acme\\.example$", "failed", "production"),
    ("cody@soyland.com", "failed", "revoked"),  # its CA no longer in the trusted root
])
def test_keyless_bundle_through_referrers_into_serve(tmp_path: Path, identity: str,
                                                     state: str, root: str) -> None:
    """A registry with the referrers API (the loopback double) holding cosign's published
    keyless bundle for the pushed digest; the push arrives as a distribution webhook."""
    need("git")
    double = ReferrersRegistry()
    service: ServiceProcess | None = None
    try:
        client = RegistryClient()
        image = f"{double.host}/{REPO}"
        layer = {"mediaType": oci.BUNDLE_TYPES[0], **oci.push_blob(client, image, COSIGN_BUNDLE)}
        oci.push_manifest(client, image, {
            "schemaVersion": 2, "mediaType": oci.OCI_MANIFEST, "artifactType": oci.BUNDLE_TYPES[0],
            "config": {"mediaType": oci.EMPTY_CONFIG, **oci.push_blob(client, image, b"{}")},
            "layers": [layer],
            "subject": {"mediaType": oci.OCI_MANIFEST, "digest": COSIGN_SUBJECT, "size": 1}})
        source = tmp_path / "example"
        shutil.copytree(EXAMPLE, source)
        policy = (f"verify:\n  signature:\n    identity: '{identity}'\n"
                  "    issuer: https://github.com/login/oauth\n")
        (source / "demo" / "hoist.yaml").write_text(hoist_yaml(policy))
        url = make_manifests_repo(tmp_path / "origin", double.host, source)
        service = ServiceProcess(free_port(), {
            "HOIST_MANIFESTS_REPO": url, "HOIST_DATA_DIR": str(tmp_path / "data"),
            "HOIST_WEBHOOK_SECRET": "s3cret-hook", "HOIST_POLL_INTERVAL": "0.2",
            "HOIST_SIGSTORE_TRUSTED_ROOT": _trusted_root(tmp_path, root)},
            tmp_path / "hoist.log")
        service.start()
        envelope = distribution_envelope(double.host, REPO, "1.4.2", COSIGN_SUBJECT)
        assert httpx.post(f"{service.url}/webhooks/registry/distribution", json=envelope,
                          headers={"Authorization": "Bearer s3cret-hook"},
                          timeout=10).status_code == 202
        found = wait_for(lambda: service.promotion_in("dev", state) if service else None,
                         f"dev to be {state}")
        origin = Path(url.removeprefix("file://"))
        if state == "promoted":
            message = git(origin, "log", "-1", "--format=%B", "main")
            assert "Hoist-Verified: signature identity=cody@soyland.com\n" in message
        elif root == "revoked":
            assert found["reason"].startswith("refused: signature: ")
            assert "certificate chain" in found["reason"]
        else:
            assert found["reason"].startswith("refused: signature: signed by cody@soyland.com, "
                                              f"not {identity} (referrer sha256:")
            assert len(git(origin, "log", "--format=%H", "main").split()) == 1
    finally:
        if service is not None:
            service.stop()
        double.stop()


def _trusted_root(tmp_path: Path, which: str) -> str:
    """Sigstore production's published trusted root, or one whose certificate authorities
    are staging's (production's CA revoked from it)."""
    if which == "production":
        return str(cosign.DATA / "production_trusted_root.json")
    root = json.loads((cosign.DATA / "production_trusted_root.json").read_text())
    staging = json.loads((cosign.DATA / "staging_trusted_root.json").read_text())
    root["certificateAuthorities"] = staging["certificateAuthorities"]
    path = tmp_path / "revoked_root.json"
    path.write_text(json.dumps(root))
    return str(path)
