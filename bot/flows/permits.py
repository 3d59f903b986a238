"""Who may give a promotion a command — one rule for a `/hoist` comment (flows/chatops.py)
and a button on the page (flows/page_commands.py): the person's permission on the
repository as the forge reports it to Hoist, the teams the environment's `approval:` names
that they are in, then core/commands.authorize."""

from __future__ import annotations

from dataclasses import dataclass

from ..adapters.store import Promotion
from ..core import commands as chat
from ..core.config import Approval
from .services import Services


@dataclass(frozen=True)
class Standing:
    """A person's standing on the repository: their rung and the approval teams they are in."""

    user: str
    permission: str
    teams: tuple[str, ...]


def standing(services: Services, approval: Approval, user: str,
             permission: str | None = None) -> Standing:
    """Ask the forge once for `user`'s permission (unless `permission` is known otherwise:
    an OIDC sign-in's groups on a forge that keeps no people) and for the teams of
    `approval` they are in."""
    rung = permission if permission is not None else services.forge.permission(user)
    teams = services.forge.teams_of(user, approval.teams) if approval.teams else []
    return Standing(user, rung, tuple(teams))


def permit(services: Services, p: Promotion, command: chat.Command, who: Standing,
           approval: Approval) -> chat.Decision:
    """May `who` give `command` to promotion `p` now (core/commands.authorize)?"""
    return chat.authorize(command, who.user, who.permission, who.teams, approval,
                          services.bot_login, p.approved_by)
