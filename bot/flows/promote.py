"""Drive one promotion forward: plan, propose, merge once approved, start the next
environment. Each state is written before the side effect that follows it, and each side
effect is find-or-create, so running this again after a crash never duplicates anything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import structlog

from ..adapters.errors import MergeBlocked
from ..adapters.git import Authored, MergeConflict
from ..adapters.store import Promotion
from ..core import render
from ..core.config import Config
from ..core.machine import State
from ..core.maturity import push_times
from ..core.members import Member, describe_changes, versions
from ..core.plan import Plan, PlanError, branch_name, candidate_files, plan_environment
from ..core.policy import targets_for
from ..core.tags import is_newer, valid_digest
from ..core.verification import VERIFIED, verified_section, with_verified_trailer
from ..core.ways import how_to
from ..failpoints import failpoint
from .announce import announce
from .rendering import check_render, proposed_body
from .revert import resume_revert
from .rollout import analyze, start_rollout
from .services import Services
from .verify import verified_of, verify_hop
from .waits import closed_window, done_waiting, frozen_by_hand, immature, window_override

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
    if immature(services, config, env, p) or frozen_by_hand(services, env, p, tell=False):
        return services.store.promotion(p.id)  # with its wait, for announce
    p = done_waiting(services, p)
    services.git.sync()
    base = services.git.tip(env.branch)
    if base is None:
        return services.store.transition(p.id, State.FAILED, reason=f"no branch {env.branch!r}")
    members = [_resolved(services, config, p, m) for m in p.members]
    held, verified = verify_hop(services, config, env, p, members, base)
    if held is not None:
        return held
    targets = [t for m in members for t in targets_for(env, m.image_key)]
    directories = list(dict.fromkeys(t.file for t in targets if t.is_directory))
    # Only files holding a repository's last name component can reference it.
    needles = [config.images[m.image_key].repository.rsplit("/", 1)[-1] for m in members]
    tree = services.git.grep_files(base, needles, directories) if directories else []
    files = services.git.read_many(base, candidate_files(targets, tree))
    try:
        plan = plan_environment(config, p.environment, members, files, p.train)
    except PlanError as exc:
        log.warning("promotion.plan_failed", id=p.id, reason=str(exc))
        return services.store.transition(p.id, State.FAILED, reason=str(exc))
    if plan.is_noop:
        log.info("promotion.noop", id=p.id, env=p.environment)
        return services.store.transition(p.id, State.NOOP, reason="already at this image")
    manual = _manual_change(services, p, plan, members)
    if manual:
        log.info("promotion.manual_change", id=p.id, env=p.environment, reason=manual)
        return services.store.transition(p.id, State.HELD, reason=manual)
    refused = check_render(services, config, base, plan, p.id)
    if refused:
        return services.store.transition(p.id, State.HELD, reason=refused)
    p = services.store.transition(p.id, State.PLANNED, VERIFIED + verified if verified else None,
                                  plan=plan.to_json(), base_sha=base, members=members)
    log.info("promotion.planned", id=p.id, env=p.environment,
             images=[m.image for m in plan.images][:20], files=[f.file for f in plan.files][:20])
    failpoint("promotion.planned")
    return p


def _resolved(services: Services, config: Config, p: Promotion, member: Member) -> Member:
    """The member with its digest, asking the registry when the push did not say (Docker
    Hub, Quay) and the image is pinned by digest. Trouble there is raised, and the
    promotion stays received to be tried again."""
    image = config.images[member.image_key]
    if image.pin == "tag" or valid_digest(member.digest) or not member.tag \
            or services.registry is None:
        return member
    digest = services.registry.resolve(image.repository, member.tag)
    log.info("promotion.digest_resolved", id=p.id, image=member.image_key, tag=member.tag,
             digest=digest)
    return replace(member, digest=digest)


def _propose(services: Services, p: Promotion) -> Promotion:
    assert p.plan is not None and p.base_sha is not None
    plan = Plan.from_json(p.plan)
    branch = branch_name(plan.name, p.environment)
    git = services.git
    current = git.tip(branch)
    if current is not None and render.parse_trailers(git.message(current)).get(
        "Hoist-Promotion"
    ) == p.id:
        commit = current
    else:
        others = [] if current is None or _branch_released(services, p) else \
            git.commits_by_others(current, p.base_sha)
        if others:
            return _hold_for_commits(services, p, plan, branch, others)
        files = {f.file: f.new_text for f in plan.files}
        commit = git.commit(p.base_sha, files, render.commit_message(
            plan, p.id, pushed_at=push_times(plan, p.members, p.received_at)), p.created_at)
        if not git.push(commit, branch, expect=current, force=True):
            return p  # the branch moved under us: the next pass finds or recreates it
    failpoint("promotion.pushed")
    env = services.config().environment(p.environment)
    body = proposed_body(services, p.id, render.change_request_body(plan, render.gate(
        env.approval, how_to("approve", p.id, services.forge.name)))
        + verified_section(verified_of(services, p)))
    cr = services.forge.propose(p.id, branch, env.branch, render.title(plan), body,
                                ("hoist", f"env:{p.environment}"))
    log.info("promotion.proposed", id=p.id, env=p.environment, change_request=cr.id,
             number=cr.number, branch=branch, forge=services.forge.name)
    moved = services.store.transition(p.id, State.PROPOSED, commit_sha=commit)
    _announce_supersession(services, moved)
    return moved


# Transition notes that release Hoist's branch to be replaced although people committed on
# it: `/hoist retry`, or its change request merged as it was.
RELEASED_BY = ("branch replaced by ", "branch merged by ")


FOREIGN_COMMITS = "the branch holds commits Hoist did not make:"


def _branch_released(services: Services, p: Promotion) -> bool:
    return any((t["note"] or "").startswith(RELEASED_BY)
               for t in services.store.transitions(p.id))


def _hold_for_commits(services: Services, p: Promotion, plan: Plan, branch: str,
                      others: list[Authored]) -> Promotion:
    """Hoist's branch holds commits a person made (renovatebot/renovate#9376): never push
    over them. The promotion takes over the branch's open change request (so a merge by
    hand reaches it), is held, and the thread names the commits and the ways on."""
    env = services.config().environment(p.environment)
    listed = ", ".join(f"{c.sha[:12]} ({c.author})" for c in others)
    log.warning("promotion.foreign_commits", id=p.id, env=p.environment, branch=branch,
                commits=[c.sha for c in others])
    open_cr = services.store.open_change_request_on(branch, env.branch)
    if open_cr is not None and open_cr.promotion_id != p.id:
        services.store.record_change_request(p.id, branch, env.branch, open_cr.title,
                                             open_cr.body, open_cr.number, open_cr.url)
        services.store.close_change_request(open_cr.promotion_id, "superseded", None)
    held = services.store.transition(
        p.id, State.HELD, reason=f"{FOREIGN_COMMITS} {listed}; "
                                 f"{how_to('retry', p.id, services.forge.name)} to replace "
                                 "them, or merge as it is")
    if open_cr is not None and open_cr.number is not None:
        services.forge.comment(open_cr.number, render.foreign_commits(
            branch, _versions_of(plan), [(c.sha, c.author, c.subject) for c in others]))
    return held


def _versions_of(plan: Plan) -> str:
    return ", ".join(f"{m.image_key} {m.new_version.split('@')[0]}" for m in plan.images)


def _announce_supersession(services: Services, p: Promotion) -> None:
    """The change request of the lane (an image or a train, in one environment) is reused
    for the newer set: say what changed in its thread, linking the promotion it replaced,
    and whose approvals were for the older set and no longer count (approvals belong to a
    promotion, so the newer one starts with none); say nothing when nothing did."""
    cr = services.store.change_request(p.id)
    if cr is None or cr.number is None:
        return
    approval = services.config().environment(p.environment).approval
    for older in services.store.open_change_requests(cr.number):
        if older.promotion_id == p.id:
            continue
        replaced = services.store.promotion(older.promotion_id)
        changes = describe_changes(replaced.members, p.members)
        said = [render.set_updated(p.id, replaced.id, changes)] if changes else []
        if replaced.approved_by:
            said.append(render.approvals_reset(
                replaced.approved_by, versions(replaced.members, replaced.train),
                versions(p.members, p.train), approval))
        if said:
            services.forge.comment(cr.number, "\n\n".join(said))
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
    if frozen_by_hand(services, env, p, tell=True) or closed_window(services, env, p):
        return services.store.promotion(p.id)  # with its wait, for announce
    p = done_waiting(services, p)
    assert p.commit_sha is not None
    message = render.commit_message(plan, p.id, approved_by=p.approved_by,
                                    pushed_at=push_times(plan, p.members, p.received_at),
                                    window_override=window_override(services, p))
    message = with_verified_trailer(message, verified_of(services, p))
    try:
        sha = services.forge.merge(p.id, p.commit_sha, env.branch, message, env.merge_method)
    except MergeConflict as exc:
        return services.store.transition(p.id, State.FAILED, reason=str(exc))
    except MergeBlocked as exc:
        cr = services.store.change_request(p.id)
        if cr is not None and cr.number is not None:
            services.forge.comment(cr.number, f"Hoist could not merge: {exc}. The promotion "
                                              "is held; fix the cause and "
                                              f"{how_to('resume', p.id, services.forge.name)}.")
        log.warning("promotion.merge_blocked", id=p.id, reason=str(exc))
        return services.store.transition(p.id, State.HELD, reason=f"merge refused: {exc}")
    log.info("promotion.merged", id=p.id, env=p.environment, sha=sha)
    return services.store.transition(p.id, State.MERGED, merge_sha=sha)


def _manual_change(services: Services, p: Promotion, plan: Plan,
                   members: list[Member]) -> str | None:
    """Someone changed an image in git by hand (a rollback, a pin): respect it until a tag
    newer than Hoist's last promotion arrives, or a person says `/hoist resume`."""
    if any((t["note"] or "").startswith("resumed by") for t in services.store.transitions(p.id)):
        return None
    policies = services.config().images
    for member in members:
        moved = plan.moved(member.image_key)
        last = services.store.current_tag(member.image_key, p.environment)
        in_git = ((moved.old_version if moved else None) or "").split("@")[0] or None
        if last is None or in_git is None or in_git == last or member.tag is None:
            continue
        if is_newer(policies[member.image_key].tags, member.tag, last):
            continue
        named = f"{member.image_key} " if p.train else ""
        return (f"{p.environment} runs {named}{in_git}, set by hand after Hoist promoted "
                f"{last}; {how_to('resume', p.id, services.forge.name)} to promote "
                f"{member.tag} anyway")
    return None




_STEPS: dict[State, Callable[[Services, Promotion], Promotion]] = {
    State.RECEIVED: _plan,
    State.PLANNED: _propose,
    State.PROPOSED: _gate,
    State.APPROVED: _merge,
    State.MERGED: start_rollout,
    State.ANALYZING: analyze,
    State.REVERTING: resume_revert,
}
