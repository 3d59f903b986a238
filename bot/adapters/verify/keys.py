"""cosign's key-based signatures with `cryptography`: ECDSA P-256 over SHA-256 (the scheme
sigstore/cosign specs/SIGNATURE_SPEC.md requires), public keys in PEM, private keys in
PEM (PKCS#8 or SEC1 `EC PRIVATE KEY`) or cosign's own encrypted format.

cosign's encrypted private key (`cosign generate-key-pair`; `ENCRYPTED SIGSTORE PRIVATE
KEY`, formerly `ENCRYPTED COSIGN PRIVATE KEY`) is a PEM block holding JSON:
`{"kdf": {"name": "scrypt", "params": {"N", "r", "p"}, "salt"}, "cipher": {"name":
"nacl/secretbox", "nonce"}, "ciphertext"}` (base64 fields, from
github.com/secure-systems-lab/go-securesystemslib encrypted/encrypted.go): the key is
scrypt(passphrase, salt, N, r, p, 32 bytes), the plaintext a PKCS#8 DER private key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import nacl.exceptions
import nacl.secret
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

if TYPE_CHECKING:
    from ...core.config import Config
    from ...core.verify_config import Verify

_ENCRYPTED = re.compile(
    r"-----BEGIN (ENCRYPTED (?:SIGSTORE|COSIGN) PRIVATE KEY)-----(.*?)-----END \1-----", re.S)


class KeyProblem(ValueError):
    """A key cannot be read or used; the message says why, never the key or passphrase."""


def public_key(pem: str) -> ec.EllipticCurvePublicKey:
    """An ECDSA P-256 public key from PEM (SubjectPublicKeyInfo); KeyProblem otherwise."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError):
        raise KeyProblem("not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise KeyProblem("not an ECDSA P-256 public key (cosign's signature scheme)")
    return key


def key_id(key: ec.EllipticCurvePublicKey) -> str:
    """`SHA256:<base64>` of the DER SubjectPublicKeyInfo, unpadded (as ssh-keygen -l prints
    fingerprints): a short, stable name for a key in trailers and logs."""
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")


def signature_valid(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    """True when `signature` (ASN.1 DER ECDSA) signs `data` with SHA-256 under `key`."""
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def private_key(text: str, passphrase: str | None) -> ec.EllipticCurvePrivateKey:
    """An ECDSA P-256 private key from PKCS#8 PEM, SEC1 PEM, or cosign's encrypted PEM
    (needs `passphrase`; cosign allows an empty one); KeyProblem when it cannot be read."""
    found = _ENCRYPTED.search(text)
    try:
        if found is not None:
            der = _decrypt(base64.b64decode("".join(found.group(2).split())), passphrase)
            key = serialization.load_der_private_key(der, None)
        else:
            secret = passphrase.encode() if passphrase and "ENCRYPTED" in text else None
            key = serialization.load_pem_private_key(text.strip().encode(), secret)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, KeyProblem):
            raise
        raise KeyProblem("not a PEM, PKCS#8, SEC1 or cosign private key, or a wrong "
                         "passphrase") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KeyProblem("not an ECDSA P-256 private key")
    return key


def _decrypt(blob: bytes, passphrase: str | None) -> bytes:
    try:
        doc = json.loads(blob)
        kdf, cipher = doc["kdf"], doc["cipher"]
        params = kdf["params"]
        if kdf["name"] != "scrypt" or cipher["name"] != "nacl/secretbox":
            raise KeyProblem(f"cosign key uses {kdf['name']}/{cipher['name']}, not "
                             "scrypt/nacl/secretbox")
        salt, nonce = base64.b64decode(kdf["salt"]), base64.b64decode(cipher["nonce"])
        sealed = base64.b64decode(doc["ciphertext"])
        secret = Scrypt(salt=salt, length=32, n=int(params["N"]), r=int(params["r"]),
                        p=int(params["p"])).derive((passphrase or "").encode())
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, KeyProblem):
            raise
        raise KeyProblem("a cosign encrypted key whose JSON cannot be read") from None
    try:
        return bytes(nacl.secret.SecretBox(secret).decrypt(sealed, nonce))
    except nacl.exceptions.CryptoError:
        raise KeyProblem("cannot decrypt the cosign key: wrong HOIST_ATTESTATION_PASSPHRASE?") \
            from None


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 / SHA-256 signature of `data`, ASN.1 DER (what cosign writes)."""
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """The private key's public half as PEM (what `cosign public-key` prints)."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_problems(config: Config, root: Path) -> list[tuple[tuple[str | int, ...], str]]:
    """(location, message) for each `verify.signature.key` that is not an ECDSA P-256
    public key: inline PEM, or a file under `root` (the manifests repository's checkout,
    for `hoist check`). Identities and issuers are checked by the config model."""
    blocks: list[tuple[tuple[str | int, ...], Verify | None]] = [(("verify",), config.verify)]
    blocks += [(("images", name, "verify"), image.verify) for name, image in config.images.items()]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for loc, block in blocks:
        signature = block.signature if block else None
        if signature is None or signature.key is None:
            continue
        text: str | None = signature.key
        if not signature.is_inline_key:
            path = root / signature.key
            text = path.read_text(errors="replace") if path.is_file() else None
            if text is None:
                problems.append(((*loc, "signature", "key"), f"no file {signature.key}"))
                continue
        try:
            public_key(text or "")
        except KeyProblem as exc:
            problems.append(((*loc, "signature", "key"), str(exc)))
    return problems
