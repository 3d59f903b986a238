"""Hoist's signed promotion attestations: an in-toto Statement signed as a DSSE envelope
with Hoist's attestation key and attached to the digest in the registry (oci.attach:
referrers API, else cosign's `.att` tag), so `cosign verify-attestation --key hoist.pub
--type https://hoist.dev/attestation/promotion/v1`, Kyverno and policy-controller can
require it.

The key is `HOIST_ATTESTATION_KEY` (the key text) or `HOIST_ATTESTATION_KEY_FILE`: ECDSA
P-256 in PEM (PKCS#8 or SEC1) or cosign's encrypted format (`HOIST_ATTESTATION_PASSPHRASE`).
DSSE envelope: github.com/secure-systems-lab/dsse envelope.md; the signature is over PAE.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from ...core.verification import IN_TOTO_PAYLOAD_TYPE, PROMOTION_PREDICATE, pae
from ..registry import RegistryClient
from . import keys, oci


def load_attestation_key(text: str | None, path: Path | None,
                         passphrase: str | None) -> ec.EllipticCurvePrivateKey | None:
    """The attestation key from its text or its file, or None when neither is set;
    KeyProblem when it cannot be read (the message never holds the key)."""
    if text is None and path is None:
        return None
    if text is None:
        assert path is not None
        try:
            text = path.read_text()
        except OSError as exc:
            raise keys.KeyProblem(f"cannot read HOIST_ATTESTATION_KEY_FILE: "
                                  f"{exc.strerror or exc}") from None
    return keys.private_key(text, passphrase)


def envelope(key: ec.EllipticCurvePrivateKey, statement: dict[str, Any]) -> bytes:
    """The DSSE envelope JSON of the statement, signed over PAE with `key`; its `keyid` is
    the key's `SHA256:` fingerprint."""
    payload = json.dumps(statement, separators=(",", ":"), sort_keys=True).encode()
    signature = keys.sign(key, pae(IN_TOTO_PAYLOAD_TYPE, payload))
    return json.dumps({
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": keys.key_id(key.public_key()),
                        "sig": base64.b64encode(signature).decode()}],
    }).encode()


def attest(client: RegistryClient, key: ec.EllipticCurvePrivateKey, repository: str,
           digest: str, statement: dict[str, Any]) -> str:
    """Sign the statement and attach it to `repository@digest`; returns where it went.
    RegistryError when the registry refuses."""
    return oci.attach(client, repository, digest, envelope(key, statement),
                      {"predicateType": PROMOTION_PREDICATE})
