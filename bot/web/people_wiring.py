"""Plugging people into today's single-project app: the doorkeeper (`SignedInViewers` over
the one project, `default`), and with HOIST_SIGNIN the sign-in routes and the page's
command routes. A multi-project app builds the same parts with its own `services_of`."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from ..adapters.signin import make_provider
from ..adapters.store import Store
from ..flows.services import Services
from ..settings import Settings
from .page_actions import actions_router
from .people import SignedInViewers
from .signin_routes import signin_router
from .ui import templates


def people(app: FastAPI, settings: Settings, store: Store,
           services_of: Callable[[str], Services | None],
           wake_of: Callable[[str], None] = lambda name: None) -> SignedInViewers:
    """The app's doorkeeper over the projects `services_of` knows (today: `default` only);
    the sign-in and page-command routes added to `app` when HOIST_SIGNIN is set (before
    any `/p/{project}` mount, so `POST /p/{project}/ui/promotions/…` reaches them);
    `wake_of(project)` nudges that project's worker after a command. Sessions live in
    `store` (installation-wide)."""
    provider = make_provider(settings.signin, settings.forge_timeout) if settings.signin \
        else None
    viewers = SignedInViewers(settings, store, provider, services_of, templates)
    if provider is not None:
        app.include_router(signin_router(settings, viewers, provider))
        app.include_router(actions_router(settings, viewers, services_of, wake_of))
    return viewers
