"""The signature, provenance and attestation gate before each hop, and Hoist's signed
attestation after each promoted hop (issue 27).

Before planning an environment (the first one at ingest, each later one again, so a
removed signature or a rotated key is noticed), every image of the promotion with a
`verify:` policy, and every image of an environment with `requires: {attestation: ENV}`,
is checked in its registry (adapters/verify/). Missing evidence holds the promotion with
the reason (`/hoist retry` checks again); invalid evidence fails it, quarantines the
digest and tells people (announce). What was verified is the note of the `planned`
transition (the page shows it), a paragraph of the change request, and the commit's
`Hoist-Verified` trailer.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import structlog

from ..adapters.registry import RegistryError
from ..adapters.store import Promotion
from ..adapters.verify.attest import attest
from ..adapters.verify.keys import KeyProblem
from ..core.config import Config, Environment
from ..core.machine import State
from ..core.maturity import stamp
from ..core.members import Member
from ..core.tags import valid_digest
from ..core.verification import VERIFIED, Finding, decide, promotion_statement
from ..core.verify_config import Verify, verify_of
from ..core.ways import how_to
from .services import Services

log = structlog.get_logger()

UNVERIFIED = "unverified: "  # how the reason of a promotion held for evidence starts


def verify_hop(services: Services, config: Config, env: Environment, p: Promotion,
               members: list[Member], base: str) -> tuple[Promotion | None, str]:
    """(None, what was verified) when the hop may go on; (the promotion, "") when it was
    held or refused. Registry trouble is raised: the promotion stays received and is tried
    again on the next pass."""
    required = env.requires.attestation if env.requires else None
    findings: list[Finding] = []
    digests: list[tuple[str, str]] = []
    for member in members:
        image = config.images[member.image_key]
        policy = verify_of(config, image)
        if policy is None and required is None:
            continue
        if services.verifier is None or services.registry is None:
            return _hold(services, p, "verification is configured but Hoist has no registry "
                                      "client"), ""
        digest = member.digest if member.digest and valid_digest(member.digest) else \
            services.registry.resolve(image.repository, member.tag or "latest")
        digests.append((image.repository, digest))
        try:
            key = _key_text(services, policy, base)
        except KeyProblem as exc:
            return _hold(services, p, str(exc)), ""
        found = services.verifier.check(image.repository, digest, policy or Verify(), key,
                                        required)
        prefix = f"{member.image_key} " if len(members) > 1 else ""
        findings += [Finding(prefix + f.what, f.status, f.detail) for f in found]
    decision = decide(findings)
    if decision.action == "hold":
        return _hold(services, p, decision.reason), ""
    if decision.action == "refuse":
        for repository, digest in digests:
            services.store.quarantine(repository, digest, f"verification failed: {decision.reason}")
        log.warning("verify.refused", id=p.id, env=p.environment, reason=decision.reason)
        return services.store.transition(p.id, State.FAILED,
                                         reason=f"refused: {decision.reason}"), ""
    if decision.verified:
        log.info("verify.passed", id=p.id, env=p.environment, verified=decision.verified)
    return None, decision.verified


def _key_text(services: Services, policy: Verify | None, base: str) -> str | None:
    """The PEM public key of the policy: inline, or read from the manifests repo at base."""
    signature = policy.signature if policy else None
    if signature is None or signature.key is None:
        return None
    if signature.is_inline_key:
        return signature.key
    text = services.git.read(base, signature.key)
    if text is None:
        raise KeyProblem(f"the verify key file {signature.key} is not in the manifests repository")
    return text


def _hold(services: Services, p: Promotion, reason: str) -> Promotion:
    log.info("verify.held", id=p.id, env=p.environment, reason=reason)
    return services.store.transition(
        p.id, State.HELD, reason=f"{UNVERIFIED}{reason}; once it is there, "
                                 f"{how_to('retry', p.id, services.forge.name)} to check again")


def verified_of(services: Services, p: Promotion) -> str | None:
    """What was verified before this hop (the `planned` note), or None."""
    for t in reversed(services.store.transitions(p.id)):
        if (t["note"] or "").startswith(VERIFIED):
            return str(t["note"]).removeprefix(VERIFIED)
    return None


def attest_hop(services: Services, p: Promotion) -> None:
    """Sign and attach Hoist's promotion attestation for each digest of a promoted hop,
    when an attestation key is configured. Trouble is logged (`attestation.failed`), never
    raised: an environment that requires the attestation holds until it is there."""
    verifier = services.verifier
    if verifier is None or verifier.attestation_key is None or services.registry is None:
        return
    history = services.store.transitions(p.id)
    merged = next((t["at"] for t in history if t["to_state"] == State.MERGED.value), None)
    verdicts = [{"state": t["to_state"], "detail": t["note"]} for t in history
                if t["note"] and t["to_state"] in (State.ANALYZING.value, State.PROMOTED.value)]
    promoted = next((t["at"] for t in reversed(history)
                     if t["to_state"] == State.PROMOTED.value), time.time())
    times = {"received": stamp(datetime.fromtimestamp(p.received_at, UTC)),
             "promoted": stamp(datetime.fromtimestamp(promoted, UTC))}
    if merged is not None:
        times["merged"] = stamp(datetime.fromtimestamp(merged, UTC))
    for member in p.members:
        if not valid_digest(member.digest):
            log.warning("attestation.failed", id=p.id, image=member.image_key,
                        error="no digest to attest")
            continue
        assert member.digest is not None
        statement = promotion_statement(member.repository, member.digest, p.environment, p.id,
                                        p.merge_sha, p.approved_by, verdicts, times,
                                        verified_of(services, p) or "")
        try:
            where = attest(services.registry, verifier.attestation_key, member.repository,
                           member.digest, statement)
        except (RegistryError, KeyProblem) as exc:
            log.warning("attestation.failed", id=p.id, image=member.image_key, error=str(exc))
            continue
        log.info("attestation.attached", id=p.id, env=p.environment, image=member.image_key,
                 where=where)


def recheck_held(services: Services, lane: str) -> int:
    """A push to the lane (an image key or a train) checks its promotions held for
    missing evidence again: they go back to `received`. Returns how many."""
    count = 0
    for env in services.config().environments:
        for p in services.store.lane_promotions(lane, env.name):
            if p.state is State.HELD and (p.reason or "").startswith(UNVERIFIED):
                services.store.transition(p.id, State.RECEIVED, note="pushed again: checks "
                                                                     "its evidence again")
                count += 1
    return count
