"""Signatures, provenance and promotion attestations: the pure rules and decisions.

What a finding means for a promotion (issue 27): `missing` evidence holds it with the
reason (it may be signed later; a re-push, a poll or `/hoist retry` checks again);
`invalid` evidence (another digest, another identity, a broken chain, a tampered payload)
refuses it, quarantines the digest and tells people; `verified` lets it go on and says
what was verified in the `Hoist-Verified` trailer, the change request and the page.

Formats: DSSE (github.com/secure-systems-lab/dsse, protocol.md: PAE), in-toto Statement
v1 (github.com/in-toto/attestation spec/v1/statement.md), cosign's simple signing payload
(sigstore/cosign specs/SIGNATURE_SPEC.md, containers-signature(5)), SLSA provenance v0.2
and v1 (slsa.dev/provenance).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .images import normalize_name
from .verify_config import ProvenancePolicy, matches

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENTS = (STATEMENT_V1, "https://in-toto.io/Statement/v0.1")
PROMOTION_PREDICATE = "https://hoist.dev/attestation/promotion/v1"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_V1 = "https://slsa.dev/provenance/v1"
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"  # cosign v3's bundle signature
SIMPLE_SIGNING_TYPE = "cosign container image signature"
VERIFIED = "verified: "  # how the note of a verified hop starts

Status = Literal["verified", "missing", "invalid"]


@dataclass(frozen=True)
class Finding:
    """One check's outcome: `what` is `signature`, `provenance` or `attestation <env>`;
    `detail` is the evidence (`key=SHA256:ab12…`, `builder=…`) or the reason."""

    what: str
    status: Status
    detail: str


@dataclass(frozen=True)
class Decision:
    """What happens to the promotion: `go`, `hold` (missing) or `refuse` (invalid)."""

    action: Literal["go", "hold", "refuse"]
    reason: str
    verified: str  # the Hoist-Verified trailer's value; "" when nothing was checked


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's Pre-Authentication Encoding (DSSE protocol.md):
    `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimals."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def simple_signing_problem(payload: bytes, repository: str, digest: str) -> str | None:
    """Why a cosign simple signing payload does not sign `repository@digest`, or None.

    The spec's `critical.type` must be `cosign container image signature`, its
    `critical.image.docker-manifest-digest` the digest; Hoist also requires
    `critical.identity.docker-reference` (which cosign writes) to name the repository,
    so a signature copied from another repository does not count."""
    try:
        doc = json.loads(payload)
        critical = doc["critical"]
        kind, image, identity = critical["type"], critical["image"], critical["identity"]
    except (ValueError, KeyError, TypeError):
        return "the signed payload is not a cosign simple signing payload"
    if kind != SIMPLE_SIGNING_TYPE:
        return f"the signed payload's type is {kind!r}, not {SIMPLE_SIGNING_TYPE!r}"
    signed = {str(k).lower(): v for k, v in image.items()}.get("docker-manifest-digest")
    if signed != digest:
        return f"the signature is for digest {signed}, not {digest}"
    reference = str(identity.get("docker-reference") or "")
    if reference and not same_repository(reference, repository):
        return f"the signature is for repository {reference}, not {repository}"
    return None


def same_repository(reference: str, repository: str) -> bool:
    """True when an image reference (maybe with :tag or @digest) names the repository."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    try:
        return normalize_name(name) == normalize_name(repository)
    except ValueError:
        return False


def statement_of(payload_type: str, payload: bytes) -> dict[str, Any] | None:
    """The in-toto Statement a DSSE payload holds, or None when it holds something else."""
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        return None
    try:
        doc = json.loads(payload)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and doc.get("_type") in STATEMENTS else None


def subject_problem(statement: Mapping[str, Any], digest: str) -> str | None:
    """Why no subject of the Statement is `digest` (`sha256:<hex>`), or None."""
    algorithm, _, value = digest.partition(":")
    for subject in statement.get("subject") or []:
        if isinstance(subject, dict) and (subject.get("digest") or {}).get(algorithm) == value:
            return None
    named = [f"{algorithm}:{(s.get('digest') or {}).get(algorithm)}"
             for s in statement.get("subject") or [] if isinstance(s, dict)]
    return f"the attestation is about {', '.join(named) or 'nothing'}, not {digest}"


def provenance_facts(statement: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(builder id, source URI, ref) of a SLSA v0.2 or v1 provenance; None for others.

    v0.2: `builder.id`, `invocation.configSource.uri` (`git+https://…@refs/heads/main`).
    v1: `runDetails.builder.id`, `buildDefinition.externalParameters.workflow`
    (`repository`, `ref`; GitHub's buildType) or `…externalParameters.source`."""
    kind, predicate = statement.get("predicateType"), statement.get("predicate") or {}
    if kind == SLSA_V02:
        uri = str(((predicate.get("invocation") or {}).get("configSource") or {}).get("uri", ""))
        source, _, ref = uri.partition("@")
        return str((predicate.get("builder") or {}).get("id", "")), source, ref
    if kind == SLSA_V1:
        definition = predicate.get("buildDefinition") or {}
        external = definition.get("externalParameters") or {}
        workflow = external.get("workflow") or {}
        source = str(workflow.get("repository") or external.get("source") or "")
        ref = str(workflow.get("ref") or "")
        if "@" in source and not ref:
            source, _, ref = source.partition("@")
        builder = ((predicate.get("runDetails") or {}).get("builder") or {}).get("id", "")
        return str(builder), source, ref
    return None


def bare_source(uri: str) -> str:
    """`github.com/acme/app` from `git+https://github.com/acme/app.git` and the like."""
    text = uri.split("://", 1)[-1]
    return text.removesuffix(".git").rstrip("/")


def provenance_problem(facts: tuple[str, str, str], policy: ProvenancePolicy) -> str | None:
    """Why a provenance's (builder, source, ref) does not meet the policy, or None."""
    builder, source, ref = facts
    if policy.builder is not None and not matches(policy.builder, builder):
        return f"built by {builder or 'an unnamed builder'}, not {policy.builder}"
    if policy.source is not None and bare_source(source) != bare_source(policy.source):
        return f"built from {bare_source(source) or 'an unnamed source'}, not {policy.source}"
    if policy.ref is not None and ref != policy.ref:
        return f"built from {ref or 'an unnamed ref'}, not {policy.ref}"
    return None


def promotion_statement(repository: str, digest: str, environment: str, promotion_id: str,
                        commit: str | None, approvers: Sequence[str],
                        verdicts: Sequence[Mapping[str, Any]], times: Mapping[str, str],
                        verified: str = "") -> dict[str, Any]:
    """The in-toto v1 Statement Hoist signs when `environment` promoted the digest, with
    predicate type `https://hoist.dev/attestation/promotion/v1`. `times` are UTC ISO 8601
    (`received`, `merged`, `promoted`); `verdicts` are the analysis readings
    (`{"check", "outcome", "detail"}`)."""
    algorithm, _, value = digest.partition(":")
    return {
        "_type": STATEMENT_V1,
        "subject": [{"name": normalize_name(repository), "digest": {algorithm: value}}],
        "predicateType": PROMOTION_PREDICATE,
        "predicate": {
            "environment": environment, "promotion": promotion_id, "commit": commit,
            "approvers": list(approvers), "verdicts": [dict(v) for v in verdicts],
            "times": dict(times), "verified": verified,
        },
    }


def promotion_problem(statement: Mapping[str, Any], digest: str, environment: str) -> str | None:
    """Why a Statement is not Hoist's promotion of `digest` in `environment`, or None."""
    if statement.get("predicateType") != PROMOTION_PREDICATE:
        return "not a Hoist promotion attestation"
    wrong = subject_problem(statement, digest)
    if wrong:
        return wrong
    was = (statement.get("predicate") or {}).get("environment")
    return None if was == environment else f"it attests {was}, not {environment}"


def decide(findings: Sequence[Finding]) -> Decision:
    """Invalid evidence refuses; else missing evidence holds; else the hop goes on."""
    invalid = [f for f in findings if f.status == "invalid"]
    missing = [f for f in findings if f.status == "missing"]
    verified = "; ".join(f"{f.what} {f.detail}" for f in findings if f.status == "verified")
    if invalid:
        return Decision("refuse", "; ".join(f"{f.what}: {f.detail}" for f in invalid), verified)
    if missing:
        return Decision("hold", "; ".join(f"{f.what}: {f.detail}" for f in missing), verified)
    return Decision("go", "", verified)


def with_verified_trailer(message: str, verified: str | None) -> str:
    """The commit message with `Hoist-Verified: <what>` as its last trailer."""
    if not verified:
        return message
    return message.rstrip("\n") + f"\nHoist-Verified: {' '.join(verified.split())}\n"


def verified_section(verified: str | None) -> str:
    """The change request's paragraph saying what was verified ("" when nothing was)."""
    return f"\n\n**Verified**: {verified}" if verified else ""
