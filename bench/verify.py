"""What signature verification and promotion attestations add to a hop (issue 27).

Against a real docker-registry (Debian's; images pushed with skopeo), measures per hop:
- verification of a cosign key signature and a signed SLSA provenance, uncached (a digest
  seen for the first time: every registry read) and cached (the same digest again, as the
  next environment checks it within the cache's five minutes);
- signing Hoist's promotion attestation and attaching it (cosign's `.att` tag: this
  registry has no referrers API);
against a baseline measured in the same run: an unsigned promotion's hop, from the
registry's notification to the change request recorded (`hoist serve` in process, the
demo's manifests repo, as bench/push_latency.py). Goal: verification under 100 ms per hop.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import structlog
from cryptography.hazmat.primitives.asymmetric import ec

from bot import log
from bot.adapters.registry import RegistryClient
from bot.adapters.verify import keys, oci
from bot.adapters.verify.attest import attest
from bot.adapters.verify.verifier import Verifier
from bot.core.verification import pae, promotion_statement
from bot.core.verify_config import ProvenancePolicy, SignaturePolicy, Verify
from bot.demo import registry
from bot.demo.stack import LocalStack, wait_until

REPO = "acme/guestbook"


def sign(client: RegistryClient, image: str, digest: str, key: ec.EllipticCurvePrivateKey) -> None:
    """A cosign key signature and a signed SLSA v1 provenance, as cosign stores them."""
    payload = json.dumps({"critical": {"identity": {"docker-reference": image},
                                       "image": {"docker-manifest-digest": digest},
                                       "type": "cosign container image signature"},
                          "optional": None}).encode()
    statement = json.dumps({
        "_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1",
        "subject": [{"name": image, "digest": {"sha256": digest.split(":")[1]}}],
        "predicate": {"buildDefinition": {"externalParameters": {"workflow": {
            "repository": "https://github.com/acme/guestbook", "ref": "refs/heads/main"}}},
            "runDetails": {"builder": {"id": "https://github.com/acme/ci"}}}}).encode()
    kind = "application/vnd.in-toto+json"
    envelope = json.dumps({"payloadType": kind, "payload": base64.b64encode(statement).decode(),
                           "signatures": [{"sig": base64.b64encode(keys.sign(
                               key, pae(kind, statement))).decode()}]}).encode()
    config = {"mediaType": "application/vnd.oci.image.config.v1+json",
              **oci.push_blob(client, image, b"{}")}
    for suffix, media_type, body, notes in (
            ("sig", oci.SIMPLE_SIGNING, payload,
             {oci.SIGNATURE_ANNOTATION: base64.b64encode(keys.sign(key, payload)).decode()}),
            ("att", oci.DSSE_ENVELOPE, envelope, {})):
        layer = {"mediaType": media_type, **oci.push_blob(client, image, body), "annotations": notes}
        oci.push_manifest(client, image, {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
                                          "config": config, "layers": [layer]},
                          oci.tag_of(digest, suffix))


def unsigned_hops(root: Path, pushes: int) -> list[float]:
    """Seconds from notification to dev's change request, for unsigned pushes."""
    port = registry.free_port()
    found: list[float] = []
    with LocalStack(root / "stack", f"localhost:{port}") as stack:
        reg = registry.LocalRegistry(root / "registry-stack", port,
                                     f"{stack.url}/webhooks/registry/distribution", stack.token)
        reg.start()
        store = stack.services.store
        try:
            for i in range(pushes):
                tag = f"1.0.{i + 1}"
                registry.write_oci_layout(root / "layout-stack", tag, f"bench {tag}")
                reg.push(root / "layout-stack", tag, REPO)

                def recorded(tag: str = tag) -> bool:
                    return any(p.tag == tag and p.environment == "dev" and p.change_request
                               for p in store.promotions(10))

                wait_until(recorded, f"the change request for {tag}")
                p = next(p for p in store.promotions(10) if p.tag == tag and p.environment == "dev")
                cr = store.change_request(p.id)
                assert cr is not None
                found.append(cr.created_at - p.received_at)
                wait_until(lambda tag=tag: any(  # type: ignore[misc]
                    p.tag == tag and p.environment == "prod" and p.change_request
                    for p in store.promotions(10)), f"prod's change request for {tag}")
        finally:
            reg.stop()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pushes", type=int, default=10)
    args = parser.parse_args()
    log.configure("json")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if not registry.available():
        print("needs docker-registry and skopeo", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="hoist-bench-verify-"))
    port = registry.free_port()
    reg = registry.LocalRegistry(root / "registry", port, None, "unused")
    reg.start()
    client = RegistryClient()
    image = f"{reg.host}/{REPO}"
    key = ec.generate_private_key(ec.SECP256R1())
    policy = Verify(signature=SignaturePolicy(key=keys.public_pem(key)),
                    provenance=ProvenancePolicy(builder="https://github.com/acme/ci",
                                                source="github.com/acme/guestbook",
                                                ref="refs/heads/main"))
    verifier = Verifier(client, attestation_key=key)
    uncached: list[float] = []
    cached: list[float] = []
    attesting: list[float] = []
    try:
        for i in range(args.pushes):
            tag = f"2.0.{i + 1}"
            digest = registry.write_oci_layout(root / "layout", tag, f"signed {tag}")
            reg.push(root / "layout", tag, REPO)
            sign(client, image, digest, key)
            for series in (uncached, cached):
                started = time.perf_counter()
                findings = verifier.check(image, digest, policy, keys.public_pem(key))
                series.append(time.perf_counter() - started)
                assert all(f.status == "verified" for f in findings), findings
            statement = promotion_statement(image, digest, "dev", f"P{i}", "0" * 40, [], [],
                                            {"promoted": "2026-12-06T00:00:00Z"})
            started = time.perf_counter()
            attest(client, key, image, digest, statement)
            attesting.append(time.perf_counter() - started)
        baseline = unsigned_hops(root, args.pushes)
    finally:
        reg.stop()
        shutil.rmtree(root, ignore_errors=True)
    base = statistics.median(baseline)
    print(f"registry: Debian docker-registry on loopback (no referrers API); {args.pushes} digests")
    print(f"baseline: unsigned promotion hop (notification -> change request), median "
          f"{base * 1000:.1f} ms")
    for name, series in (("verify signature + provenance, uncached", uncached),
                         ("verify signature + provenance, cached per digest", cached),
                         ("sign + attach promotion attestation (.att tag)", attesting)):
        median = statistics.median(series)
        print(f"{name}: median {median * 1000:.1f} ms, worst {max(series) * 1000:.1f} ms, "
              f"{median / base:.2f}x the unsigned hop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
