"""Undo a promotion in git: revert every commit it landed on the environment branch (newest
first, pushed, or through change requests where the branch takes no pushes), quarantine
every digest it carried, and say so in its change request."""

from __future__ import annotations

import time

import structlog

from ..adapters.git import MergeConflict
from ..adapters.store import Promotion
from ..core import render
from ..core.analysis import unmeasured
from ..core.config import Environment
from ..core.machine import State
from ..core.members import Member
from ..core.plan import Plan, branch_name
from ..core.ways import how_to
from .services import Services

log = structlog.get_logger()


def land_by_pull_request(services: Services, p: Promotion, env: Environment, what: str,
                         commit: str, message: str) -> None:
    """A step or a revert as a change request that merges at once (for branches that take
    no pushes); its record is keyed `<promotion>/<what>`, so a retry finds it."""
    key = f"{p.id}/{what}"
    branch = f"{branch_name(p.image_key, p.environment)}-{what.split('-')[0]}"
    current = services.git.tip(branch)
    if not services.git.push(commit, branch, expect=current, force=True):
        raise RuntimeError(f"could not push {branch}")
    services.forge.propose(key, branch, env.branch, message.split("\n", 1)[0], message,
                           ("hoist", f"env:{p.environment}"))
    sha = services.forge.merge(key, commit, env.branch, message, env.merge_method)
    log.info("rollout.landed", id=p.id, env=p.environment, what=what, sha=sha, via="pr")


def revert(services: Services, p: Promotion, evidence: list[str],
           quarantine: bool | None = None) -> Promotion:
    """REVERTING: revert every commit of the promotion (newest first) on the environment
    branch, push, quarantine every digest it carried (one image's, or all of a train's) —
    unless analysis could not tell (`quarantine` False; None: read from the promotion's
    reason, so a revert resumed after a restart decides the same). Idempotent: reverts
    already pushed are found."""
    if quarantine is None:
        quarantine = not unmeasured(p.reason)
    assert p.plan is not None
    env = services.config().environment(p.environment)
    plan = Plan.from_json(p.plan)
    via_pull_requests = env.canary is not None and env.canary.step_pull_requests
    for _ in range(20):
        services.git.sync()
        commits = services.git.promotion_commits(env.branch, p.id)
        already = {render.parse_trailers(services.git.message(c)).get("Hoist-Reverts")
                   for c in commits}
        todo = [c for c in commits if c not in already and not render.parse_trailers(
            services.git.message(c)).get("Hoist-Reverts")]
        if not todo:
            break
        # Through change requests, one revert each (each built on the then current tip).
        batch = todo[:1] if via_pull_requests else todo
        messages = [render.revert_message(plan, p.id, c,
                                          services.git.message(c).split("\n", 1)[0], evidence,
                                          quarantine)
                    for c in batch]
        try:
            head = services.git.revert(env.branch, batch, messages, time.time())
        except MergeConflict as exc:
            tell(services, p, f"Could not revert automatically: {exc}. Revert by hand.")
            return services.store.transition(p.id, State.HELD, reason=str(exc))
        if via_pull_requests:
            land_by_pull_request(services, p, env, f"revert-{batch[0][:12]}", head,
                                 messages[0])
        elif services.git.push(head, env.branch):
            log.info("rollout.reverted", id=p.id, env=p.environment, commits=todo, sha=head)
            break
    digests = [m for m in p.members if m.digest] if quarantine else []
    for member in digests:
        services.store.quarantine(member.repository, member.digest or "",
                                  p.reason or "reverted")
    tell(services, p, "Reverted in git: " + "; ".join(evidence) + (
        _quarantined(digests, how_to('unquarantine', p.id, services.forge.name))
        if quarantine else
        ". Nothing is quarantined: analysis could not tell, no reading showed the image bad."))
    return services.store.transition(p.id, State.REVERTED)


def _quarantined(members: list[Member], how: str) -> str:
    if not members:
        return "."
    if len(members) == 1:
        return f". Digest `{members[0].digest}` is quarantined; {how} to lift it."
    return (f". {len(members)} digests are quarantined; {how} to lift it:"
            + "".join(f"\n- {m.image_key} `{m.digest}`" for m in members))


def resume_revert(services: Services, p: Promotion) -> Promotion:
    """REVERTING after a restart: finish the revert with the recorded reason."""
    return revert(services, p, [p.reason or "reverting"])


def tell(services: Services, p: Promotion, text: str) -> None:
    """Say something in the promotion's change request, if it has one."""
    cr = services.store.change_request(p.id)
    if cr is not None and cr.number is not None:
        services.forge.comment(cr.number, text)
