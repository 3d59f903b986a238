"""Signatures and attestations made the way cosign makes them, written from the published
specifications (sigstore/cosign specs/SIGNATURE_SPEC.md and ATTESTATION_SPEC.md, DSSE
envelope.md and protocol.md, in-toto Statement v1, SLSA provenance v1) and pushed with
plain HTTP calls of the OCI distribution API: independent of Hoist's own code."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from nacl.secret import SecretBox

DATA = Path(__file__).resolve().parent / "data" / "verify"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh ECDSA P-256 key, what `cosign generate-key-pair` makes."""
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def pkcs8_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def cosign_encrypted_pem(key: ec.EllipticCurvePrivateKey, passphrase: str) -> str:
    """cosign.key as `cosign generate-key-pair` writes it: scrypt (N=32768, r=8, p=1) and
    nacl/secretbox over the PKCS#8 DER key, in an ENCRYPTED SIGSTORE PRIVATE KEY block."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    salt, nonce = os.urandom(32), os.urandom(24)
    secret = Scrypt(salt=salt, length=32, n=32768, r=8, p=1).derive(passphrase.encode())
    sealed = SecretBox(secret).encrypt(der, nonce).ciphertext
    doc = {"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1},
                   "salt": base64.b64encode(salt).decode()},
           "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
           "ciphertext": base64.b64encode(sealed).decode()}
    body = base64.encodebytes(json.dumps(doc).encode()).decode()
    label = "ENCRYPTED SIGSTORE PRIVATE KEY"
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n"


def simple_signing(reference: str, digest: str) -> bytes:
    """cosign's simple signing payload (SIGNATURE_SPEC.md "Simple Signing")."""
    return json.dumps({"critical": {"identity": {"docker-reference": reference},
                                    "image": {"docker-manifest-digest": digest},
                                    "type": "cosign container image signature"},
                       "optional": None}, separators=(",", ":")).encode()


def ecdsa(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def dsse(key: ec.EllipticCurvePrivateKey, statement: dict[str, Any]) -> bytes:
    """A DSSE envelope (envelope.md) signed over PAE (protocol.md)."""
    payload = json.dumps(statement).encode()
    kind = b"application/vnd.in-toto+json"
    signed = b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)
    return json.dumps({"payloadType": kind.decode(),
                       "payload": base64.b64encode(payload).decode(),
                       "signatures": [{"keyid": "", "sig": base64.b64encode(
                           ecdsa(key, signed)).decode()}]}).encode()


def provenance(name: str, digest: str, builder: str, repository: str, ref: str) -> dict[str, Any]:
    """An in-toto v1 Statement with a SLSA v1 predicate: the published example (DATA /
    slsa_predicate_v1_0.json) with this builder, repository and ref."""
    predicate = json.loads((DATA / "slsa_predicate_v1_0.json").read_text())
    predicate["buildDefinition"]["externalParameters"]["workflow"].update(
        repository=repository, ref=ref)
    predicate["runDetails"]["builder"]["id"] = builder
    return {"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": name, "digest": {"sha256": digest.split(":")[1]}}],
            "predicateType": "https://slsa.dev/provenance/v1", "predicate": predicate}


def _blob(base: str, repo: str, data: bytes) -> dict[str, Any]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    started = httpx.post(f"{base}/v2/{repo}/blobs/uploads/")
    assert started.status_code == 202, started.text
    location = httpx.URL(base).join(started.headers["location"])
    done = httpx.put(location.copy_merge_params({"digest": digest}), content=data,
                     headers={"Content-Type": "application/octet-stream"})
    assert done.status_code == 201, done.text
    return {"digest": digest, "size": len(data)}


def push_layers(host: str, repo: str, tag: str, layers: list[tuple[str, bytes, dict[str, str]]]
                ) -> None:
    """PUT an OCI manifest tagged `tag` whose layers are (media type, data, annotations)."""
    base = f"http://{host}"
    config = {"mediaType": "application/vnd.oci.image.config.v1+json",
              **_blob(base, repo, b'{"architecture":"","os":"","config":{}}')}
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config,
                "layers": [{"mediaType": kind, **_blob(base, repo, data), "annotations": notes}
                           for kind, data, notes in layers]}
    put = httpx.put(f"{base}/v2/{repo}/manifests/{tag}", content=json.dumps(manifest),
                    headers={"Content-Type": MANIFEST})
    assert put.status_code == 201, put.text


def sign_image(host: str, repo: str, digest: str, key: ec.EllipticCurvePrivateKey,
               payload: bytes | None = None, signed: bytes | None = None) -> None:
    """`cosign sign --key`: the `sha256-<hex>.sig` tag with one simple signing layer.
    `payload` replaces what is stored, `signed` what the signature is over (to tamper)."""
    payload = payload or simple_signing(f"{host}/{repo}", digest)
    signature = base64.b64encode(ecdsa(key, signed or payload)).decode()
    push_layers(host, repo, digest.replace(":", "-") + ".sig", [
        ("application/vnd.dev.cosign.simplesigning.v1+json", payload,
         {"dev.cosignproject.cosign/signature": signature})])


def attest_image(host: str, repo: str, digest: str, envelopes: list[bytes]) -> None:
    """`cosign attest --key`: the `sha256-<hex>.att` tag, one DSSE envelope per layer."""
    push_layers(host, repo, digest.replace(":", "-") + ".att", [
        ("application/vnd.dsse.envelope.v1+json", e,
         {"predicateType": json.loads(base64.b64decode(json.loads(e)["payload"]))["predicateType"]})
        for e in envelopes])
