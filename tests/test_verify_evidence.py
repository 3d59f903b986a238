"""Keyless bundles, the referrers API, Hoist's attestations and cosign's key formats,
checked against published signed examples (tests/data/verify/SOURCES.md) and a loopback
registry with the OCI 1.1 referrers API (tests/oci_referrers_double.py)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.registry import RegistryClient
from bot.adapters.verify import keys, oci
from bot.adapters.verify.attest import envelope, load_attestation_key
from bot.adapters.verify.keyless import KeylessProblem, KeylessVerifier
from bot.adapters.verify.verifier import Verifier
from bot.core.verification import pae, promotion_statement, simple_signing_problem
from bot.core.verify_config import SignaturePolicy, Verify
from bot.demo.registry import LocalRegistry, free_port
from tests import cosign_maker as cosign
from tests.oci_referrers_double import ReferrersRegistry
from tests.support import need

DATA = Path(__file__).resolve().parent / "data" / "verify"
STAGING_ROOT = str(DATA / "staging_trusted_root.json")
PRODUCTION_ROOT = str(DATA / "production_trusted_root.json")
GITHUB_LOGIN = "https://github.com/login/oauth"
COSIGN_BUNDLE = (DATA / "cosign_oci_attestation.sigstore.json").read_bytes()
COSIGN_SUBJECT = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4"


@pytest.fixture
def double() -> Iterator[ReferrersRegistry]:
    registry = ReferrersRegistry()
    yield registry
    registry.stop()


def _artifact() -> tuple[bytes, bytes]:
    return (DATA / "bundle_v3.txt").read_bytes(), (DATA / "bundle_v3.txt.sigstore").read_bytes()


def test_published_keyless_bundle_verifies_for_its_identity_only() -> None:
    artifact, bundle = _artifact()
    verifier = KeylessVerifier(STAGING_ROOT)
    _, _, who = verifier.verify(bundle, SignaturePolicy(identity="william@yossarian.net",
                                                        issuer=GITHUB_LOGIN), artifact)
    assert who == "william@yossarian.net"
    verifier.verify(bundle, SignaturePolicy(identity="^.*@yossarian\\.net$", issuer=GITHUB_LOGIN),
                    artifact)
    with pytest.raises(KeylessProblem, match=r"signed by william@yossarian\.net, not"):
        verifier.verify(bundle, SignaturePolicy(identity="release@acme.example",
                                                issuer=GITHUB_LOGIN), artifact)
    with pytest.raises(KeylessProblem, match=r"(?i)issuer"):
        verifier.verify(bundle, SignaturePolicy(identity="william@yossarian.net",
                                                issuer="https://token.actions.githubusercontent.com"),
                        artifact)
    with pytest.raises(KeylessProblem):  # a tampered artifact
        verifier.verify(bundle, SignaturePolicy(identity="william@yossarian.net",
                                                issuer=GITHUB_LOGIN), artifact + b"!")


def test_expired_certificate_is_refused() -> None:
    """The log witnessed the signature an hour after the ten-minute Fulcio certificate
    expired: the chain does not hold at that time."""
    artifact, bundle = _artifact()
    late = json.loads(bundle)
    entry = late["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 3600)
    policy = SignaturePolicy(identity="william@yossarian.net", issuer=GITHUB_LOGIN)
    with pytest.raises(KeylessProblem, match="not valid at validation time"):
        KeylessVerifier(STAGING_ROOT).verify(json.dumps(late).encode(), policy, artifact)


def test_chain_to_another_root_is_refused(tmp_path: Path) -> None:
    """The staging CA is no longer trusted (revoked from the trusted root; production's CA
    stands in its place): the certificate chains to nothing trusted."""
    root = json.loads((DATA / "staging_trusted_root.json").read_text())
    production = json.loads((DATA / "production_trusted_root.json").read_text())
    root["certificateAuthorities"] = production["certificateAuthorities"]
    path = tmp_path / "revoked.json"
    path.write_text(json.dumps(root))
    artifact, bundle = _artifact()
    policy = SignaturePolicy(identity="william@yossarian.net", issuer=GITHUB_LOGIN)
    with pytest.raises(KeylessProblem, match="certificate chain"):
        KeylessVerifier(str(path)).verify(bundle, policy, artifact)


def test_cosign_keyless_bundle_through_the_referrers_api(double: ReferrersRegistry) -> None:
    client = RegistryClient()
    image = f"{double.host}/acme/app"
    ours = oci.push_manifest(client, image, {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
                                             "config": {"mediaType": oci.EMPTY_CONFIG,
                                                        **oci.push_blob(client, image, b"{}")},
                                             "layers": []}, "1.0.0")
    for subject in (COSIGN_SUBJECT, ours):  # the published bundle, as a referrer of each
        layer = {"mediaType": oci.BUNDLE_TYPES[0], **oci.push_blob(client, image, COSIGN_BUNDLE)}
        oci.push_manifest(client, image, {
            "schemaVersion": 2, "mediaType": oci.OCI_MANIFEST, "artifactType": oci.BUNDLE_TYPES[0],
            "config": {"mediaType": oci.EMPTY_CONFIG, **oci.push_blob(client, image, b"{}")},
            "layers": [layer], "subject": {"mediaType": oci.OCI_MANIFEST, "digest": subject,
                                           "size": 1}})
    verifier = Verifier(client, PRODUCTION_ROOT)
    cody = Verify(signature=SignaturePolicy(identity="cody@soyland.com", issuer=GITHUB_LOGIN))
    [found] = verifier.check(image, COSIGN_SUBJECT, cody, None)
    assert (found.status, found.detail) == ("verified", "identity=cody@soyland.com")
    [other_digest] = verifier.check(image, ours, cody, None)
    assert other_digest.status == "invalid"
    assert other_digest.detail.startswith(f"the attestation is about {COSIGN_SUBJECT}, not {ours}")
    acme = Verify(signature=SignaturePolicy(identity="^.*@acme\\.example$", issuer=GITHUB_LOGIN))
    [other_identity] = verifier.check(image, COSIGN_SUBJECT, acme, None)
    assert other_identity.status == "invalid"
    assert "signed by cody@soyland.com, not ^.*@acme\\.example$" in other_identity.detail


def test_hoist_attestation_through_referrers_and_the_cache(double: ReferrersRegistry) -> None:
    client = RegistryClient()
    image = f"{double.host}/acme/app"
    digest = oci.push_manifest(client, image, {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
                                               "config": {"mediaType": oci.EMPTY_CONFIG,
                                                          **oci.push_blob(client, image, b"{}")},
                                               "layers": []}, "2.0.0")
    key = cosign.new_key()
    statement = promotion_statement(image, digest, "staging", "01PROMO", "abc123", ["alice"],
                                    [], {"promoted": "2026-12-06T09:00:00Z"})
    where = oci.attach(client, image, digest, envelope(key, statement), {})
    assert where.startswith("referrer sha256:")
    verifier = Verifier(client, attestation_key=key)
    assert verifier.attested(image, digest, "staging").status == "verified"
    assert verifier.attested(image, digest, "prod").status == "missing"
    stranger = Verifier(client, attestation_key=cosign.new_key())
    assert stranger.attested(image, digest, "staging").status == "invalid"
    before = double.requests
    for _ in range(3):
        assert verifier.check(image, digest, Verify(), None, "staging")[0].status == "verified"
    after_first = double.requests
    assert after_first > before
    verifier.check(image, digest, Verify(), None, "staging")
    assert double.requests == after_first  # cached per digest


def test_envelope_matches_the_published_cosign_attestation_field_by_field() -> None:
    published = json.loads(COSIGN_BUNDLE)["dsseEnvelope"]
    published_statement = json.loads(base64.b64decode(published["payload"]))
    key = cosign.new_key()
    digest = "sha256:" + "ab" * 32
    ours = json.loads(envelope(key, promotion_statement(
        "localhost:5000/acme/app", digest, "staging", "01P", None, [], [], {})))
    assert set(ours) == set(published) == {"payloadType", "payload", "signatures"}
    assert ours["payloadType"] == published["payloadType"] == "application/vnd.in-toto+json"
    assert set(ours["signatures"][0]) == {"keyid", "sig"} >= set(published["signatures"][0])
    statement = json.loads(base64.b64decode(ours["payload"]))
    assert set(statement) == set(published_statement)
    assert set(statement["subject"][0]) == set(published_statement["subject"][0])
    assert statement["subject"][0]["digest"] == {"sha256": "ab" * 32}
    assert statement["predicateType"] == "https://hoist.dev/attestation/promotion/v1"
    signature = base64.b64decode(ours["signatures"][0]["sig"])
    assert keys.signature_valid(key.public_key(), signature,
                                pae(ours["payloadType"], base64.b64decode(ours["payload"])))


def test_the_spec_example_payload_is_read_field_by_field() -> None:
    example = (DATA / "cosign_simple_signing_spec_example.json").read_bytes()
    # The spec spells the key `Docker-manifest-digest` and elides the digest.
    assert simple_signing_problem(example, "testing/manifest", "sha256:20be...fe55") is None
    assert "not sha256:" in (simple_signing_problem(example, "testing/manifest",
                                                    "sha256:" + "0" * 64) or "")
    assert "repository" in (simple_signing_problem(example, "acme/other",
                                                   "sha256:20be...fe55") or "")
    made = cosign.simple_signing("localhost:5000/acme/app", "sha256:" + "0" * 64)
    assert json.loads(made)["critical"].keys() == json.loads(example)["critical"].keys()


@pytest.mark.parametrize("form", ["pkcs8", "sec1", "cosign"])
def test_attestation_key_formats(tmp_path: Path, form: str) -> None:
    from cryptography.hazmat.primitives import serialization

    key = cosign.new_key()
    text = {"pkcs8": cosign.pkcs8_pem(key),
            "sec1": key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()).decode(),
            "cosign": cosign.cosign_encrypted_pem(key, "s3cret")}[form]
    loaded = load_attestation_key(text, None, "s3cret")
    assert loaded is not None and keys.key_id(loaded.public_key()) == keys.key_id(key.public_key())
    if form == "cosign":
        with pytest.raises(keys.KeyProblem, match="wrong HOIST_ATTESTATION_PASSPHRASE") as caught:
            load_attestation_key(text, None, "wrong")
        assert "s3cret" not in str(caught.value)


def test_hoist_check_validates_keys_identities_and_issuers(tmp_path: Path) -> None:
    good = cosign.public_pem(cosign.new_key())
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "cosign.pub").write_text(good)
    (tmp_path / "keys" / "rsa.pub").write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")

    def check(verify: str) -> subprocess.CompletedProcess[str]:
        config = tmp_path / "hoist.yaml"
        config.write_text(f"{verify}\nimages:\n  web: {{repository: ghcr.io/acme/web}}\n"
                          "environments:\n  - name: dev\n    targets: [{file: a.yaml, image: web}]\n")
        return subprocess.run([sys.executable, "-m", "bot", "check", "--config", str(config)],
                              capture_output=True, text=True, timeout=60)

    assert check("verify: {signature: {key: keys/cosign.pub}}").returncode == 0
    missing = check("verify: {signature: {key: keys/none.pub}}")
    assert missing.returncode == 2 and "hoist.yaml:1: verify.signature.key: no file keys/none.pub" \
        in missing.stderr
    assert "not a PEM public key" in check("verify: {signature: {key: keys/rsa.pub}}").stderr
    issuer = check("verify: {signature: {identity: a@b.c, issuer: http://accounts.example}}")
    assert issuer.returncode == 2 and "is not an https:// OIDC issuer URL" in issuer.stderr
    half = check("verify: {signature: {identity: a@b.c}}")
    assert "keyless verification needs both identity and issuer" in half.stderr
    regex = check("verify: {signature: {identity: '^(a$', issuer: https://accounts.example}}")
    assert regex.returncode == 2


def test_cosign2_keyless_sig_tag_is_unread_not_refused(double: ReferrersRegistry) -> None:
    """cosign 2 stores keyless signatures in the `.sig` tag with a certificate and a Rekor
    bundle in annotations; Hoist reads Sigstore bundles only, and says so instead of
    treating the image as forged."""
    client = RegistryClient()
    image = f"{double.host}/acme/app"
    digest = "sha256:" + "c" * 64
    payload = cosign.simple_signing(image, digest)
    layer = {"mediaType": oci.SIMPLE_SIGNING, **oci.push_blob(client, image, payload),
             "annotations": {oci.SIGNATURE_ANNOTATION: "MEUCIQ==",
                             "dev.sigstore.cosign/certificate": "-----BEGIN CERTIFICATE-----"}}
    oci.push_manifest(client, image, {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
                                      "config": {"mediaType": oci.EMPTY_CONFIG,
                                                 **oci.push_blob(client, image, b"{}")},
                                      "layers": [layer]}, oci.tag_of(digest, "sig"))
    keyless = Verify(signature=SignaturePolicy(identity="a@acme.example", issuer=GITHUB_LOGIN))
    [found] = Verifier(client, PRODUCTION_ROOT).check(image, digest, keyless, None)
    assert found.status == "missing"
    assert "cosign 2's format: sign with cosign's --new-bundle-format" in found.detail


def test_a_rotated_key_is_noticed_despite_the_cache(double: ReferrersRegistry) -> None:
    client = RegistryClient()
    image = f"{double.host}/acme/app"
    digest = "sha256:" + "d" * 64
    old, new = cosign.new_key(), cosign.new_key()
    cosign.sign_image(double.host, "acme/app", digest, old)
    verifier = Verifier(client)

    def with_key(key: object) -> str:
        assert isinstance(key, type(old))
        policy = Verify(signature=SignaturePolicy(key=cosign.public_pem(key)))
        return verifier.check(image, digest, policy, cosign.public_pem(key))[0].status

    assert with_key(old) == "verified"
    assert with_key(new) == "invalid"  # hoist.yaml now names the new key: checked afresh
    assert with_key(old) == "verified"


@pytest.mark.e2e
def test_referrers_tag_schema_on_a_registry_without_the_api(tmp_path: Path) -> None:
    """Debian's docker-registry has no referrers API: cosign then lists a digest's
    referrers in an index tagged `sha256-<hex>`; the published bundle is found there."""
    need("docker-registry")
    local = LocalRegistry(tmp_path / "registry", free_port(), None, "unused")
    local.start()
    try:
        client = RegistryClient()
        image = f"{local.host}/acme/app"
        assert oci.referrers(client, image, COSIGN_SUBJECT) is None  # no API here
        layer = {"mediaType": oci.BUNDLE_TYPES[0], **oci.push_blob(client, image, COSIGN_BUNDLE)}
        config = {"mediaType": oci.EMPTY_CONFIG, **oci.push_blob(client, image, b"{}")}
        body = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
                "artifactType": oci.BUNDLE_TYPES[0], "config": config, "layers": [layer]}
        referrer = oci.push_manifest(client, image, body, "bundle")
        size = len(json.dumps(body, separators=(",", ":")))
        oci.push_manifest(client, image, {
            "schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": [
                {"mediaType": oci.OCI_MANIFEST, "digest": referrer, "size": size,
                 "artifactType": oci.BUNDLE_TYPES[0]}]},
            COSIGN_SUBJECT.replace(":", "-"), oci.OCI_INDEX)
        cody = Verify(signature=SignaturePolicy(identity="cody@soyland.com", issuer=GITHUB_LOGIN))
        [found] = Verifier(client, PRODUCTION_ROOT).check(image, COSIGN_SUBJECT, cody, None)
        assert (found.status, found.detail) == ("verified", "identity=cody@soyland.com")
    finally:
        local.stop()
