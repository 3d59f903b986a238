"""Find signatures and attestations of a digest the ways cosign stores them, and attach
Hoist's attestations, over the OCI distribution API (adapters/registry.py's client).

- The tag scheme (sigstore/cosign specs/SIGNATURE_SPEC.md, ATTESTATION_SPEC.md): the
  digest `sha256:<hex>` has its signatures in the manifest tagged `sha256-<hex>.sig`, one
  layer per signature (`application/vnd.dev.cosign.simplesigning.v1+json`, the signature
  base64 in the `dev.cosignproject.cosign/signature` annotation), and its attestations in
  `sha256-<hex>.att`, one DSSE envelope per layer (`application/vnd.dsse.envelope.v1+json`).
- The OCI 1.1 referrers API (distribution-spec v1.1 "Listing Referrers":
  `GET /v2/<name>/referrers/<digest>`), with a Sigstore bundle per referrer
  (`application/vnd.dev.sigstore.bundle.v0.3+json`, cosign's `--new-bundle-format`) or a
  DSSE envelope (what Hoist attaches). A registry without it answers 404 (Debian's
  docker-registry does): then the referrers are read from the index tagged
  `sha256-<hex>` (the spec's "Referrers Tag Schema", where cosign writes them), and Hoist
  attaches its own in the `.att` tag.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from ..registry import RegistryClient, RegistryError, RepositoryUnknown

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
BUNDLE_TYPES = ("application/vnd.dev.sigstore.bundle.v0.3+json",
                "application/vnd.dev.sigstore.bundle+json;version=0.3")
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
Kind = Literal["simple", "dsse", "bundle"]


@dataclass(frozen=True)
class Evidence:
    """One signature or attestation found for a digest. `kind` says what `body` holds:
    `simple` a simple signing payload (with its `signature`), `dsse` a DSSE envelope's
    JSON, `bundle` a Sigstore bundle's JSON. `where` says where it was found."""

    kind: Kind
    body: bytes
    signature: bytes | None
    where: str


def tag_of(digest: str, suffix: str) -> str:
    """`sha256-<hex>.sig` for `sha256:<hex>` (cosign's tag scheme)."""
    return digest.replace(":", "-") + f".{suffix}"


def _manifest(client: RegistryClient, image: str, reference: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = client.send("GET", image, f"manifests/{reference}",
                                            f"{OCI_MANIFEST}, {OCI_INDEX}").json()
    except RepositoryUnknown:
        return None
    return found


def _blob(client: RegistryClient, image: str, digest: str) -> bytes:
    body = client.send("GET", image, f"blobs/{digest}").content
    if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
        raise RegistryError(f"blob {digest} does not match its digest")
    return body


def referrers(client: RegistryClient, image: str, digest: str) -> list[dict[str, Any]] | None:
    """The referrers index's descriptors of `digest`, or None without the referrers API."""
    try:
        response = client.send("GET", image, f"referrers/{digest}", OCI_INDEX)
    except RepositoryUnknown:
        return None
    if "json" not in response.headers.get("content-type", "json"):
        return None
    manifests: list[dict[str, Any]] = response.json().get("manifests") or []
    return manifests


def _from_tag(client: RegistryClient, image: str, digest: str, suffix: str,
              media_type: str) -> list[Evidence]:
    tag = tag_of(digest, suffix)
    manifest = _manifest(client, image, tag)
    found = []
    for layer in (manifest or {}).get("layers") or []:
        if layer.get("mediaType") != media_type:
            continue
        note = (layer.get("annotations") or {}).get(SIGNATURE_ANNOTATION)
        try:
            signature = base64.b64decode(note, validate=True) if note else None
        except ValueError:
            signature = b""
        kind: Kind = "simple" if suffix == "sig" else "dsse"
        found.append(Evidence(kind, _blob(client, image, layer["digest"]), signature,
                              f"tag {tag}"))
    return found


def listed_referrers(client: RegistryClient, image: str, digest: str) -> list[dict[str, Any]]:
    """The referrers API's list, else the index tagged `sha256-<hex>` (distribution-spec
    v1.1 "Referrers Tag Schema", what cosign writes where the API is missing)."""
    found = referrers(client, image, digest)
    if found is not None:
        return found
    index = _manifest(client, image, digest.replace(":", "-")) or {}
    listed: list[dict[str, Any]] = index.get("manifests") or []
    return listed


def _from_referrers(client: RegistryClient, image: str, digest: str) -> list[Evidence]:
    found = []
    for entry in listed_referrers(client, image, digest):
        artifact = entry.get("artifactType") or ""
        if artifact not in (*BUNDLE_TYPES, DSSE_ENVELOPE):
            continue
        manifest = _manifest(client, image, entry["digest"]) or {}
        for layer in manifest.get("layers") or []:
            kind: Kind = "dsse" if artifact == DSSE_ENVELOPE else "bundle"
            found.append(Evidence(kind, _blob(client, image, layer["digest"]), None,
                                  f"referrer {entry['digest']}"))
    return found


def signatures(client: RegistryClient, image: str, digest: str) -> list[Evidence]:
    """Every signature of `digest`: the `.sig` tag's layers, then referrers' bundles."""
    return _from_tag(client, image, digest, "sig", SIMPLE_SIGNING) + \
        _from_referrers(client, image, digest)


def attestations(client: RegistryClient, image: str, digest: str) -> list[Evidence]:
    """Every attestation of `digest`: the `.att` tag's envelopes, then referrers'."""
    return _from_tag(client, image, digest, "att", DSSE_ENVELOPE) + \
        _from_referrers(client, image, digest)


def push_blob(client: RegistryClient, image: str, data: bytes) -> dict[str, Any]:
    """Upload a blob (POST then PUT, distribution-spec "Pushing a blob monolithically");
    returns its descriptor without a media type."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    try:
        client.send("HEAD", image, f"blobs/{digest}")
        return {"digest": digest, "size": len(data)}
    except RepositoryUnknown:
        pass
    started = client.send("POST", image, "blobs/uploads/", content=b"")
    location = started.headers.get("location", "")
    rest = location.split("/blobs/uploads/", 1)[-1]
    glue = "&" if "?" in rest else "?"
    client.send("PUT", image, f"blobs/uploads/{rest}{glue}digest={digest}", content=data,
                content_type="application/octet-stream")
    return {"digest": digest, "size": len(data)}


def push_manifest(client: RegistryClient, image: str, manifest: dict[str, Any],
                  reference: str | None = None, media_type: str = OCI_MANIFEST) -> str:
    """PUT an OCI image manifest (or index) by tag, or by its own digest; returns its
    digest."""
    body = json.dumps(manifest, separators=(",", ":")).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    client.send("PUT", image, f"manifests/{reference or digest}", content=body,
                content_type=media_type)
    return digest


def attach(client: RegistryClient, image: str, digest: str, envelope: bytes,
           annotations: dict[str, str]) -> str:
    """Attach a DSSE envelope to `digest`: as a referrer where the registry has the
    referrers API, else as one more layer of the `sha256-<hex>.att` manifest (cosign's
    scheme, which `cosign verify-attestation`, Kyverno and policy-controller read).
    Returns where it went."""
    layer = {"mediaType": DSSE_ENVELOPE, **push_blob(client, image, envelope),
             "annotations": annotations}
    if referrers(client, image, digest) is not None:
        empty = {"mediaType": EMPTY_CONFIG, **push_blob(client, image, b"{}")}
        head = client.send("HEAD", image, f"manifests/{digest}", f"{OCI_MANIFEST}, {OCI_INDEX}")
        subject = {"mediaType": head.headers.get("content-type", OCI_MANIFEST).split(";")[0],
                   "digest": digest, "size": int(head.headers.get("content-length") or 0)}
        return "referrer " + push_manifest(client, image, {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": DSSE_ENVELOPE,
            "config": empty, "layers": [layer], "subject": subject})
    tag = tag_of(digest, "att")
    old = _manifest(client, image, tag)
    config = {"mediaType": "application/vnd.oci.image.config.v1+json",
              **push_blob(client, image, b'{"architecture":"","os":"","rootfs":'
                                         b'{"type":"layers","diff_ids":[]},"config":{}}')}
    layers = [x for x in (old or {}).get("layers") or [] if x.get("digest") != layer["digest"]]
    push_manifest(client, image, {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                                  "config": config, "layers": [*layers, layer]}, tag)
    return f"tag {tag}"
