"""The commands people give a promotion or an environment — one implementation for the
three ways to give them: a `/hoist` comment (flows/chatops.py), `hoist CMD ID` (the CLI)
and `POST /api/promotions/{id}/{command}` (the API). Each answers what happened, in the
same words everywhere, and the promotion as it now is."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from ..adapters.store import Promotion
from ..core import commands as chat
from ..core.analysis import stopped_by_analysis
from ..core.machine import FINAL, State
from ..core.members import versions
from ..core.policy import targets_for
from ..core.render import name_problem
from ..core.ways import how_to
from .announce import announce_lifted
from .approve import BadName, NotApprovable, approve
from .override import NotOverridable, override_window
from .promote import FOREIGN_COMMITS
from .revert import revert
from .rollout import resume_analysis
from .services import Services
from .start import start_promotions
from .verify import UNVERIFIED

__all__ = ["ENVIRONMENT_COMMANDS", "PROMOTION_COMMANDS", "BadName", "Outcome", "carry_out",
           "run", "run_on_environment"]

log = structlog.get_logger()
_HOLDABLE = {State.RECEIVED, State.PLANNED, State.PROPOSED, State.APPROVED}
# What the CLI and the API offer for one promotion, and for one environment.
PROMOTION_COMMANDS = ("approve", "retry", "abort", "hold", "resume", "unquarantine")
ENVIRONMENT_COMMANDS = ("freeze", "unfreeze")


@dataclass(frozen=True)
class Outcome:
    """What a command did: the reply (as ChatOps words it), whether it took effect, and
    the promotion afterwards (None for an environment command)."""

    reply: str
    done: bool
    promotion: Promotion | None = None


def run(services: Services, promotion_id: str, name: str, user: str,
        reason: str = "") -> Outcome:
    """Give promotion `promotion_id` the command `name` as `user` (CLI and API: whoever
    reaches them is trusted). KeyError for an unknown id; BadName for a name that cannot
    be recorded."""
    _check_name(user)
    p = services.store.promotion(promotion_id)
    reply, done = carry_out(services, p, chat.Command(name, reason), user)
    log.info("command.done", id=p.id, user=user, command=name, outcome=reply)
    return Outcome(reply, done, services.store.promotion(p.id))


def run_on_environment(services: Services, environment: str, name: str, user: str,
                       reason: str = "") -> Outcome:
    """`freeze` or `unfreeze` an environment; KeyError when hoist.yaml has no such one."""
    _check_name(user)
    services.config().environment(environment)  # KeyError: not an environment
    reply, done = _freeze(services, environment, name, user, reason)
    log.info("command.done", env=environment, user=user, command=name, outcome=reply)
    return Outcome(reply, done)


def _check_name(user: str) -> None:
    problem = name_problem(user)
    if problem:
        raise BadName(f"X-Hoist-User / --by {user!r}: {problem}")


def carry_out(services: Services, p: Promotion, command: chat.Command,
              user: str) -> tuple[str, bool]:
    """Carry out one authorized command; (what to reply, whether it took effect)."""
    store, forge = services.store, services.forge.name
    name, argument = command.name, command.argument
    if name == "approve":
        return _approve(services, p, user)
    if name in ENVIRONMENT_COMMANDS:
        return _freeze(services, p.environment, name, user, argument)
    if name == "hold":
        if p.state not in _HOLDABLE:
            return f"cannot hold: the promotion is {p.state}.", False
        store.transition(p.id, State.HELD, note=f"held by {user}",
                         reason=f"held by {user}: {argument or 'no reason given'}")
        return f"held; {how_to('resume', p.id, forge)} to go on.", True
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
        return _abort(services, p, user, argument)
    if name == "retry":
        if p.state is State.HELD and (p.reason or "").startswith(FOREIGN_COMMITS):
            store.transition(p.id, State.RECEIVED, note=f"branch replaced by {user} "
                                                        "(retry)")
            return "retrying: the branch will be replaced.", True
        if p.state is not State.FAILED and not (p.state is State.HELD and
                                                (p.reason or "").startswith(UNVERIFIED)):
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


def _approve(services: Services, p: Promotion, user: str) -> tuple[str, bool]:
    """Record the approval; the reply says how many count and where the promotion is."""
    try:
        approved = approve(services.store, p.id, user)
    except NotApprovable as exc:
        return f"not approved: {exc}.", False
    required = services.config().environment(p.environment).approval.required
    count = len(approved.approved_by)
    nxt = "merged next" if count >= required else f"waiting for {required - count} more"
    return (f"approval recorded ({count} of {required}); the promotion is "
            f"{approved.state}, {nxt}.", True)


def _abort(services: Services, p: Promotion, user: str, argument: str) -> tuple[str, bool]:
    store = services.store
    why = f"aborted by {user}: {argument or 'no reason given'}"
    if p.state in (State.ANALYZING, State.MERGED):  # already in git: revert it there
        p = store.transition(p.id, State.REVERTING, note=f"aborted by {user}", reason=why)
        revert(services, p, [why])
        return "aborted and reverted in git.", True
    if p.state in FINAL:
        return f"cannot abort: the promotion is {p.state}.", False
    store.transition(p.id, State.ABORTED, note=f"aborted by {user}", reason=why)
    cr = store.change_request(p.id)
    if cr is not None and cr.number is not None:
        services.forge.close(cr.number, f"Aborted by @{user}: {argument or 'no reason'}.")
    return "aborted.", True


def _freeze(services: Services, environment: str, name: str, user: str,
            reason: str) -> tuple[str, bool]:
    """An ad-hoc freeze: no planning and no merging in `environment` until unfrozen."""
    store = services.store
    if name == "freeze":
        store.freeze(environment, user, reason or "no reason given")
        log.warning("environment.frozen", env=environment, by=user, reason=reason)
        return (f"{environment} is frozen: nothing is planned or merged there until "
                f"`unfreeze`.", True)
    if store.unfreeze(environment):
        log.info("environment.unfrozen", env=environment, by=user)
        return f"{environment} is unfrozen.", True
    return f"{environment} is not frozen.", False


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
