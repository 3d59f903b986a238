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
from ..core.events import PullRequestActivity
from ..core.machine import FINAL, State
from ..core.members import versions
from .announce import announce
from .commands import carry_out
from .origin import about_our_repository
from .permits import permit, standing
from .services import Services

log = structlog.get_logger()


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
    who = standing(services, env.approval, comment.user)
    replies, ok = [], True
    for command in found:
        p = services.store.promotion(p.id)
        decision = permit(services, p, command, who, env.approval)
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
        outcome, done = carry_out(services, p, command, comment.user)
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
