"""Drive one promotion forward: plan, propose, merge once approved, start the next
environment. Each state is written before the side effect that follows it, and each side
effect is find-or-create, so running this again after a crash never duplicates anything."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from ..adapters.errors import MergeBlocked
from ..adapters.git import MergeConflict
from ..adapters.store import Promotion
from ..core import render
from ..core.config import Environment, TagPolicy
from ..core.freeze import frozen
from ..core.machine import State
from ..core.plan import Plan, PlanError, branch_name, candidate_files, plan_environment
from ..core.policy import targets_for
from ..core.tags import is_newer, valid_digest
from ..failpoints import failpoint
from .announce import announce
from .rollout import analyze, resume_revert, start_rollout
from .services import Services

log = structlog.get_logger()


def advance(services: Services, promotion: Promotion) -> Promotion:
    """Take every step that needs no one; stop when waiting for a person or final."""
    while True:
        step = _STEPS.get(promotion.state)
        if step is None:
            return promotion
        moved = step(services, promotion)
        announce(services, promotion, moved)
        if moved.state == promotion.state:
            return moved
        promotion = moved


def _plan(services: Services, p: Promotion) -> Promotion:
    config = services.config()
    env = config.environment(p.environment)
    if _frozen(env, p):
        return p
    services.git.sync()
    base = services.git.tip(env.branch)
    if base is None:
        return services.store.transition(p.id, State.FAILED, reason=f"no branch {env.branch!r}")
    targets = targets_for(env, p.image_key)
    image = config.images[p.image_key]
    directories = [t.file for t in targets if t.is_directory]
    # Only files holding the repository's last name component can reference it.
    tree = services.git.grep_files(base, image.repository.rsplit("/", 1)[-1], directories) \
        if directories else []
    files = services.git.read_many(base, candidate_files(targets, tree))
    digest = p.digest
    if image.pin != "tag" and not valid_digest(digest) and p.tag and services.registry:
        # The push did not say which digest (Docker Hub, Quay): ask the registry. Trouble
        # there is raised, and the promotion stays received to be tried again.
        digest = services.registry.resolve(image.repository, p.tag)
        log.info("promotion.digest_resolved", id=p.id, tag=p.tag, digest=digest)
    try:
        plan = plan_environment(config, p.environment, p.image_key, p.tag, digest, files)
    except PlanError as exc:
        log.warning("promotion.plan_failed", id=p.id, reason=str(exc))
        return services.store.transition(p.id, State.FAILED, reason=str(exc))
    if plan.is_noop:
        log.info("promotion.noop", id=p.id, env=p.environment)
        return services.store.transition(p.id, State.NOOP, reason="already at this image")
    manual = _manual_change(services, p, plan, config.images[p.image_key].tags)
    if manual:
        log.info("promotion.manual_change", id=p.id, env=p.environment, reason=manual)
        return services.store.transition(p.id, State.HELD, reason=manual)
    p = services.store.transition(p.id, State.PLANNED, plan=plan.to_json(), base_sha=base,
                                  digest=digest)
    log.info("promotion.planned", id=p.id, env=p.environment, image=plan.image,
             files=[f.file for f in plan.files])
    failpoint("promotion.planned")
    return p


def _propose(services: Services, p: Promotion) -> Promotion:
    assert p.plan is not None and p.base_sha is not None
    plan = Plan.from_json(p.plan)
    branch = branch_name(p.image_key, p.environment)
    git = services.git
    current = git.tip(branch)
    if current is not None and render.parse_trailers(git.message(current)).get(
        "Hoist-Promotion"
    ) == p.id:
        commit = current
    else:
        files = {f.file: f.new_text for f in plan.files}
        commit = git.commit(p.base_sha, files, render.commit_message(plan, p.id), p.created_at)
        if not git.push(commit, branch, expect=current, force=True):
            return p  # the branch moved under us: the next pass finds or recreates it
    failpoint("promotion.pushed")
    env = services.config().environment(p.environment)
    cr = services.forge.propose(p.id, branch, env.branch, render.title(plan),
                                render.change_request_body(plan, render.gate(env.approval)),
                                ("hoist", f"env:{p.environment}"))
    log.info("promotion.proposed", id=p.id, env=p.environment, change_request=cr.id,
             number=cr.number, branch=branch, forge=services.forge.name)
    moved = services.store.transition(p.id, State.PROPOSED, commit_sha=commit)
    _announce_supersession(services, moved, plan)
    return moved


def _announce_supersession(services: Services, p: Promotion, plan: Plan) -> None:
    """The pull request of (image, environment) is reused for the newer image: say so in
    its thread, linking the promotion it replaced."""
    cr = services.store.change_request(p.id)
    if cr is None or cr.number is None:
        return
    for older in services.store.open_change_requests(cr.number):
        if older.promotion_id == p.id:
            continue
        replaced = services.store.promotion(older.promotion_id)
        services.forge.comment(cr.number, f"Superseded: promotion `{replaced.id}` "
                                          f"({replaced.tag}) was replaced by `{p.id}` "
                                          f"({plan.image}); this pull request now proposes "
                                          "the newer image.")
        services.store.close_change_request(replaced.id, "superseded", None)


def _gate(services: Services, p: Promotion) -> Promotion:
    env = services.config().environment(p.environment)
    if not env.gated:
        return services.store.transition(p.id, State.APPROVED, note="no approval needed")
    if len(p.approved_by) >= env.approval.required:
        return services.store.transition(p.id, State.APPROVED,
                                         note=f"approved by {', '.join(p.approved_by)}")
    return p


def _merge(services: Services, p: Promotion) -> Promotion:
    assert p.plan is not None and p.commit_sha is not None
    plan = Plan.from_json(p.plan)
    env = services.config().environment(p.environment)
    if _frozen(env, p):
        return p
    message = render.commit_message(plan, p.id, approved_by=p.approved_by)
    try:
        sha = services.forge.merge(p.id, p.commit_sha, env.branch, message, env.merge_method)
    except MergeConflict as exc:
        return services.store.transition(p.id, State.FAILED, reason=str(exc))
    except MergeBlocked as exc:
        cr = services.store.change_request(p.id)
        if cr is not None and cr.number is not None:
            services.forge.comment(cr.number, f"Hoist could not merge: {exc}. The promotion "
                                              "is held; fix the cause and comment "
                                              "`/hoist resume`.")
        log.warning("promotion.merge_blocked", id=p.id, reason=str(exc))
        return services.store.transition(p.id, State.HELD, reason=f"merge refused: {exc}")
    log.info("promotion.merged", id=p.id, env=p.environment, sha=sha)
    return services.store.transition(p.id, State.MERGED, merge_sha=sha)


def _manual_change(services: Services, p: Promotion, plan: Plan,
                   policy: TagPolicy) -> str | None:
    """Someone changed the image in git by hand (a rollback, a pin): respect it until a tag
    newer than Hoist's last promotion arrives, or a person says `/hoist resume`."""
    last = services.store.current_tag(p.image_key, p.environment)
    in_git = (plan.old_version or "").split("@")[0] or None
    if last is None or in_git is None or in_git == last or p.tag is None:
        return None
    if is_newer(policy, p.tag, last):
        return None
    if any((t["note"] or "").startswith("resumed by") for t in services.store.transitions(p.id)):
        return None
    return (f"{p.environment} runs {in_git}, set by hand after Hoist promoted {last}; "
            f"comment `/hoist resume` to promote {p.tag} anyway")


def _frozen(env: Environment, p: Promotion) -> bool:
    """A freeze window blocks planning and merging; the promotion waits where it is."""
    reason = frozen(env.freeze, time.time())
    if reason:
        log.info("promotion.frozen", id=p.id, env=p.environment, reason=reason)
    return reason is not None


_STEPS: dict[State, Callable[[Services, Promotion], Promotion]] = {
    State.RECEIVED: _plan,
    State.PLANNED: _propose,
    State.PROPOSED: _gate,
    State.APPROVED: _merge,
    State.MERGED: start_rollout,
    State.ANALYZING: analyze,
    State.REVERTING: resume_revert,
}
