"""Check a digest's signatures, provenance and Hoist attestations in its registry, with a
cache per digest: a digest verified under the same policy is not fetched again for
`ttl` seconds (so a removed signature or a rotated key is noticed after at most that).
Only successes are cached: missing evidence may appear any time."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from ...core.verification import (
    PROMOTION_PREDICATE,
    SLSA_V02,
    SLSA_V1,
    Finding,
    pae,
    promotion_problem,
    provenance_facts,
    provenance_problem,
    simple_signing_problem,
    statement_of,
    subject_problem,
)
from ...core.verify_config import SignaturePolicy, Verify
from ..registry import RegistryClient
from . import keys, oci
from .keyless import KeylessProblem, KeylessVerifier

Statement = dict[str, Any]
_NOT_SIGNATURES = (SLSA_V02, SLSA_V1, PROMOTION_PREDICATE)


class Verifier:
    """One per process: the registry client, Hoist's attestation key (public half used to
    check `requires: {attestation: ENV}`), the trusted root for keyless bundles."""

    def __init__(self, registry: RegistryClient, root_path: str | None = None,
                 attestation_key: ec.EllipticCurvePrivateKey | None = None,
                 ttl: float = 300.0) -> None:
        self.registry = registry
        self.root_path = root_path
        self.attestation_key = attestation_key
        self.ttl = ttl
        self._keyless: KeylessVerifier | None = None
        self._cache: dict[tuple[str, ...], tuple[float, list[Finding]]] = {}

    @property
    def keyless(self) -> KeylessVerifier:
        """The Sigstore verifier, made on first use (reading the trusted root)."""
        if self._keyless is None:
            self._keyless = KeylessVerifier(self.root_path)
        return self._keyless

    def check(self, repository: str, digest: str, policy: Verify, key_pem: str | None,
              required: str | None = None) -> list[Finding]:
        """Findings for the policy (and the attestation of environment `required`)."""
        cache_key = (repository, digest, policy.model_dump_json(), key_pem or "", required or "")
        cached = self._cache.get(cache_key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        findings: list[Finding] = []
        if policy.signature is not None:
            findings.append(self._signature(repository, digest, policy.signature, key_pem))
            if policy.provenance is not None:
                findings.append(self._provenance(repository, digest, policy, key_pem))
        if required is not None:
            findings.append(self.attested(repository, digest, required))
        if all(f.status == "verified" for f in findings):
            self._cache[cache_key] = (time.monotonic(), findings)
        return findings

    def _signature(self, repository: str, digest: str, policy: SignaturePolicy,
                   key_pem: str | None) -> Finding:
        found = oci.signatures(self.registry, repository, digest)
        problems: list[str] = []
        unreadable = ""
        for evidence in found:
            if evidence.kind == "simple" and key_pem is None:
                # cosign 2's keyless `.sig` layers carry a certificate and a Rekor bundle,
                # not a Sigstore bundle: not evidence against the image, just unread.
                unreadable = (f"; a keyless signature in {evidence.where} is in cosign 2's "
                              "format: sign with cosign's --new-bundle-format")
                continue
            if evidence.kind == "simple":
                problem, who = self._simple(evidence, repository, digest, policy, key_pem)
            else:
                statement, who, problem = self._statement(evidence, policy, key_pem)
                if statement is not None and statement.get("predicateType") in _NOT_SIGNATURES:
                    continue
                problem = problem or (subject_problem(statement, digest) if statement else
                                      "the bundle holds no in-toto statement")
            if problem is None:
                return Finding("signature", "verified", who)
            problems.append(f"{problem} ({evidence.where})")
        if not problems:
            return Finding("signature", "missing", f"no cosign signature of {digest} (looked at "
                                                   f"tag {oci.tag_of(digest, 'sig')} and "
                                                   f"referrers){unreadable}")
        return Finding("signature", "invalid", problems[0])

    def _simple(self, evidence: oci.Evidence, repository: str, digest: str,
                policy: SignaturePolicy, key_pem: str | None) -> tuple[str | None, str]:
        assert key_pem is not None
        key = keys.public_key(key_pem)
        who = f"key={keys.key_id(key)}"
        if not keys.signature_valid(key, evidence.signature or b"", evidence.body):
            return f"the signature does not verify with {who}", who
        return simple_signing_problem(evidence.body, repository, digest), who

    def _statement(self, evidence: oci.Evidence, policy: SignaturePolicy | None,
                   key_pem: str | None,
                   hoist: bool = False) -> tuple[Statement | None, str, str | None]:
        """(statement, signer, problem) of a DSSE envelope or a bundle."""
        try:
            if evidence.kind == "bundle" and key_pem is None and policy is not None:
                kind, payload, who = self.keyless.verify(evidence.body, policy)
                return statement_of(kind, payload), f"identity={who}", None
            doc = json.loads(evidence.body)
            envelope = doc.get("dsseEnvelope", doc) if evidence.kind == "bundle" else doc
            kind = str(envelope["payloadType"])
            payload = base64.b64decode(envelope["payload"])
            signatures = [base64.b64decode(s["sig"]) for s in envelope.get("signatures", [])]
        except KeylessProblem as exc:
            return None, "", str(exc)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None, "", "an envelope Hoist cannot read"
        key = self.attestation_key.public_key() if hoist and self.attestation_key else \
            keys.public_key(key_pem) if key_pem else None
        if key is None:
            return None, "", "a DSSE envelope without a certificate cannot be checked keyless"
        who = f"key={keys.key_id(key)}"
        if not any(keys.signature_valid(key, s, pae(kind, payload)) for s in signatures):
            return statement_of(kind, payload), who, f"the envelope does not verify with {who}"
        return statement_of(kind, payload), who, None

    def _provenance(self, repository: str, digest: str, policy: Verify,
                    key_pem: str | None) -> Finding:
        assert policy.provenance is not None
        problems: list[str] = []
        for evidence in oci.attestations(self.registry, repository, digest):
            statement, _, problem = self._statement(evidence, policy.signature, key_pem)
            facts = provenance_facts(statement) if statement else None
            if facts is None:
                continue  # another kind of attestation, or one we cannot read
            assert statement is not None
            problem = problem or subject_problem(statement, digest) or \
                provenance_problem(facts, policy.provenance)
            if problem is None:
                return Finding("provenance", "verified", f"builder={facts[0]}")
            problems.append(f"{problem} ({evidence.where})")
        if not problems:
            return Finding("provenance", "missing", f"no SLSA provenance attestation of {digest}")
        return Finding("provenance", "invalid", problems[0])

    def attested(self, repository: str, digest: str, environment: str) -> Finding:
        """Does the digest carry Hoist's valid promotion attestation for `environment`?"""
        what = f"attestation {environment}"
        if self.attestation_key is None:
            return Finding(what, "missing", "no HOIST_ATTESTATION_KEY to check it with")
        problems: list[str] = []
        for evidence in oci.attestations(self.registry, repository, digest):
            statement, who, problem = self._statement(evidence, None, None, hoist=True)
            if statement is None or statement.get("predicateType") != PROMOTION_PREDICATE:
                continue
            problem = problem or promotion_problem(statement, digest, environment)
            if problem is None:
                return Finding(what, "verified", who)
            if "does not verify" in problem:
                problems.append(f"{problem} ({evidence.where})")
        if problems:
            return Finding(what, "invalid", problems[0])
        return Finding(what, "missing", f"{digest} was never promoted in {environment} by Hoist")
