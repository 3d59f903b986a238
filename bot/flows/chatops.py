"""Apply what people say on pull requests: `/hoist` commands, approving reviews, and pull
requests merged or closed by hand. Every command is acknowledged with a reaction and a
reply that says what happened, or why not."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import structlog

from ..adapters.store import Promotion
from ..core import commands as chat
from ..core import render
from ..core.analysis import stopped_by_analysis
from ..core.events import PullRequestActivity
from ..core.machine import FINAL, State
from ..core.members import versions
from ..core.policy import targets_for
from .announce import announce, announce_lifted
from .approve import NotApprovable, approve
from .origin import about_our_repository
from .override import NotOverridable, override_window
from .promote import FOREIGN_COMMITS
from .revert import revert
from .rollout import resume_analysis
from .services import Services
from .start import start_promotions

log = structlog.get_logger()
_HOLDABLE = {State.RECEIVED, State.PLANNED, State.PROPOSED, State.APPROVED}


def handle_comments(services: Services,
                    hold: Callable[[Promotion], AbstractContextManager[bool]] | None = None
                    ) -> int:
    """Process pending comments in arrival order; returns how many. `hold(promotion)`
    claims the promotion's work for the comment (False: another worker has it now): that
    comment, and later ones on the same pull request, wait for a later pass."""
    done, waiting = 0, set()
    for comment in services.store.pending_comments():
        if comment.number in waiting:
            continue
        promotion = services.store.promotion_for_number(comment.number)
        with hold(promotion) if hold and promotion else nullcontext(True) as held:
            if not held:
                waiting.add(comment.number)
                continue
            if promotion is not None:  # read again: it may have moved before we held it
                promotion = services.store.promotion(promotion.id)
            _handle(services, promotion, comment)
            if promotion is not None:
                announce(services, promotion, services.store.promotion(promotion.id))
            services.store.comment_done(comment.key)
            done += 1
    return done


def _handle(services: Services, promotion: Promotion | None,
            comment: PullRequestActivity) -> None:
    if promotion is None:
        log.info("chatops.unknown_pull_request", number=comment.number)
    elif not about_our_repository(services.forge, comment):
        return  # never acted on, never replied to: it may be about someone else's thread
    elif comment.kind == "merged":
        _merged_by_hand(services, promotion, comment)
    elif comment.kind == "closed":
        _closed_by_hand(services, promotion, comment)
    else:
        _commands(services, promotion, comment)


def _merged_by_hand(services: Services, p: Promotion, comment: PullRequestActivity) -> None:
    confirmed = _confirm(services, p, comment)
    if confirmed is None:
        return
    if confirmed.state == "closed":
        _closed_by_hand(services, p, comment)
        return
    if p.state is State.HELD and p.commit_sha is None:
        # Held before Hoist pushed its change (people's commits on the branch): what merged
        # is the branch as it was, not this promotion; plan it again on top of it, in a
        # change request of its own.
        services.store.replan(p.id, note=f"branch merged by {comment.user} as it was")
        log.info("chatops.merged_as_it_was", id=p.id, by=comment.user)
        return
    if p.state in (State.PROPOSED, State.APPROVED, State.HELD):
        services.store.transition(p.id, State.MERGED, note=f"merged by {comment.user}",
                                  merge_sha=confirmed.sha or comment.body or None)
        log.info("chatops.merged_by_hand", id=p.id, by=comment.user)


def _closed_by_hand(services: Services, p: Promotion, comment: PullRequestActivity) -> None:
    if comment.kind == "closed":
        confirmed = _confirm(services, p, comment)
        if confirmed is None:
            return
        if confirmed.state == "merged":
            _merged_by_hand(services, p, comment)
            return
    if p.state not in FINAL and p.state is not State.MERGED:
        services.store.transition(p.id, State.ABORTED, note=f"pull request closed by "
                                                            f"{comment.user}")
        log.info("chatops.closed_by_hand", id=p.id, by=comment.user)


@dataclass(frozen=True)
class _Confirmed:
    state: str  # merged | closed
    sha: str | None


def _confirm(services: Services, p: Promotion,
             activity: PullRequestActivity) -> _Confirmed | None:
    """A webhook's "merged" or "closed" is a hint: read the change request back from the
    forge and act on what it says, never on the body (which another repository's signed
    event, or a replay, can carry). Merged counts only when the merge commit is on the
    environment branch. None, with a warning, when the forge does not confirm it; the local
    forge keeps no state of its own (the store is its truth), so its word stands."""
    found = services.forge.pull_state(activity.number)
    if found is None:
        return _Confirmed(activity.kind, activity.body or None)
    state, sha = found
    if state not in ("merged", "closed"):
        log.warning("chatops.not_confirmed", id=p.id, number=activity.number,
                    kind=activity.kind, forge_state=state)
        return None
    if state == "merged" and sha:
        branch = services.config().environment(p.environment).branch
        services.git.sync()
        tip = services.git.tip(branch)
        if tip is None or not services.git.contains(tip, sha):
            log.warning("chatops.merge_not_on_branch", id=p.id, number=activity.number,
                        sha=sha, branch=branch)
            return None
    return _Confirmed(state, sha)


def _commands(services: Services, p: Promotion, comment: PullRequestActivity) -> None:
    env = services.config().environment(p.environment)
    found = chat.parse_commands(comment.body)  # a review's body is a comment too
    if comment.kind == "review" and env.approval.reviews and \
            all(c.name != "approve" for c in found):
        found.insert(0, chat.Command("approve"))  # one approval per review, however said
    if not found:
        return
    permission = services.forge.permission(comment.user)
    teams = services.forge.teams_of(comment.user, env.approval.teams) if env.approval.teams \
        else []
    replies, ok = [], True
    for command in found:
        p = services.store.promotion(p.id)
        decision = chat.authorize(command, comment.user, permission, teams, env.approval,
                                  services.bot_login, p.approved_by)
        if not decision.allowed:
            ok = False
            replies.append(f"`/hoist {command.name}` refused: {decision.reason}.")
            log.info("chatops.refused", id=p.id, user=comment.user, command=command.name,
                     reason=decision.reason)
            continue
        older = _written_for_older(services, p, comment) if command.name == "approve" \
            else None
        if older is not None:
            ok = False
            replies.append(render.stale_approval(versions(older.members, older.train),
                                                 versions(p.members, p.train), env.approval))
            log.info("chatops.stale_approval", id=p.id, user=comment.user,
                     written_for=older.id)
            continue
        outcome, done = _apply(services, p, command, comment.user)
        ok = ok and done
        replies.append(outcome)
        log.info("chatops.command", id=p.id, user=comment.user, command=command.name,
                 outcome=outcome)
    if comment.comment_id is not None:
        services.forge.react(comment.number, comment.comment_id, "+1" if ok else "confused")
    services.forge.comment(comment.number, f"@{comment.user}: " + "\n".join(replies))


def _written_for_older(services: Services, p: Promotion,
                       comment: PullRequestActivity) -> Promotion | None:
    """The older promotion an approval was written for (commands.written_for), or None when
    it was written for `p`'s content. Only approvals are held to what their author saw:
    hold and abort stop whatever the change request holds now, the safe way."""
    # A canary step's or a revert's change request (`<id>/...`) counts for its promotion.
    proposed = [(cr.promotion_id.split("/", 1)[0], cr.created_at)
                for cr in services.store.change_request_history(comment.number)]
    target = chat.written_for(proposed, comment.promotion_id, comment.written_at)
    return None if target is None or target == p.id else services.store.promotion(target)


def _apply(services: Services, p: Promotion, command: chat.Command,
           user: str) -> tuple[str, bool]:
    """Carry out one authorized command; (what to reply, whether it took effect)."""
    store = services.store
    name, argument = command.name, command.argument
    if name == "approve":
        try:
            approved = approve(store, p.id, user)
        except NotApprovable as exc:
            return f"not approved: {exc}.", False
        env = services.config().environment(p.environment)
        return (f"approval recorded ({len(approved.approved_by)} of "
                f"{env.approval.required}).", True)
    if name == "hold":
        if p.state not in _HOLDABLE:
            return f"cannot hold: the promotion is {p.state}.", False
        store.transition(p.id, State.HELD, note=f"held by {user}",
                         reason=f"held by {user}: {argument or 'no reason given'}")
        return "held. Comment `/hoist resume` to go on.", True
    if name in ("resume", "retry") and p.state is State.HELD and \
            stopped_by_analysis(p.reason):  # analyse the held step again, from zero
        resume_analysis(services, p, user)
        return f"analysing step {(p.step or 0) + 1} again with a fresh count.", True
    if name == "resume":
        if p.state is not State.HELD:
            return f"nothing to resume: the promotion is {p.state}.", False
        store.transition(p.id, State.PROPOSED if p.commit_sha else State.RECEIVED,
                         note=f"resumed by {user}")
        return "resumed.", True
    if name == "abort":
        if p.state in (State.ANALYZING, State.MERGED):  # already in git: revert it there
            why = f"aborted by {user}: {argument or 'no reason given'}"
            p = store.transition(p.id, State.REVERTING, note=f"aborted by {user}", reason=why)
            revert(services, p, [why])
            return "aborted and reverted in git.", True
        if p.state in FINAL:
            return f"cannot abort: the promotion is {p.state}.", False
        store.transition(p.id, State.ABORTED, note=f"aborted by {user}",
                         reason=f"aborted by {user}: {argument or 'no reason given'}")
        cr = store.change_request(p.id)
        if cr is not None and cr.number is not None:
            services.forge.close(cr.number, f"Aborted by @{user}: {argument or 'no reason'}.")
        return "aborted.", True
    if name == "retry":
        if p.state is State.HELD and (p.reason or "").startswith(FOREIGN_COMMITS):
            store.transition(p.id, State.RECEIVED, note=f"branch replaced by {user} "
                                                        "(/hoist retry)")
            return "retrying: the branch will be replaced.", True
        if p.state is not State.FAILED:
            return f"nothing to retry: the promotion is {p.state}.", False
        store.transition(p.id, State.RECEIVED, note=f"retried by {user}")
        return "retrying.", True
    if name == "promote":
        return _promote_to(services, p, argument)
    if name == "unquarantine":
        lifted = [m for m in p.members if m.digest and store.unquarantine(m.repository, m.digest)]
        if lifted:
            announce_lifted(services, p, user)
            return ", ".join(f"`{m.digest}`" for m in lifted) + " may be promoted again.", True
        return "that digest is not quarantined." if len(p.members) == 1 else \
            "none of those digests is quarantined.", False
    if name == "status":
        return (f"promotion `{p.id}`: {p.image_key} {versions(p.members, p.train)} in "
                f"{p.environment} is {p.state}; approved by {', '.join(p.approved_by) or 'nobody yet'}"
                f"{'; ' + p.reason if p.reason else ''}."), True
    if name == "help":
        return chat.HELP, True
    if name == "override-window":
        try:
            override_window(store, p.id, user, argument)
        except NotOverridable as exc:
            return f"not overridden: {exc}.", False
        return "window overridden for this promotion: it merges once approved.", True
    return f"unknown command `{name.removeprefix('unknown:')}`; `/hoist help` lists them.", False


def _promote_to(services: Services, p: Promotion, target: str) -> tuple[str, bool]:
    config = services.config()
    try:
        env = config.environment(target)
    except KeyError:
        return f"no environment `{target}`.", False
    if not any(targets_for(env, m.image_key) for m in p.members):
        return f"`{target}` does not deploy {p.image_key}.", False
    for member in p.members:
        quarantined = services.store.quarantined(member.repository, member.digest)
        if quarantined:
            return f"`{member.digest}` is quarantined ({quarantined}).", False
    created = start_promotions(services, p.members, [env], p.train, p.received_at, None)
    moved = f"{p.image_key} {versions(p.members, p.train)}"
    if not created:
        return f"{moved} is already promoted to or proposed for {target}.", False
    return f"promoting {moved} to {target}: promotion `{created[0].id}`.", True


def reconcile(services: Services) -> None:
    """Catch up with the forge for promotions waiting on a change request: one merged or
    closed by hand while its webhook was lost is noticed here."""
    waiting = (State.PROPOSED, State.APPROVED, State.HELD)
    for p in services.store.promotions(active_only=True):
        cr = services.store.change_request(p.id) if p.state in waiting else None
        if cr is None or cr.number is None or cr.state != "open":
            continue
        found = services.forge.pull_state(cr.number)
        if found is None or found[0] == "open":
            continue
        state, sha = found
        activity = PullRequestActivity(f"reconcile:{p.id}:{state}", cr.number, None,
                                       "(reconcile)", sha or "", state)
        if services.store.add_comments([activity], 0.0):
            log.info("chatops.reconciled", id=p.id, number=cr.number, state=state)
