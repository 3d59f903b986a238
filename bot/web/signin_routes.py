"""Signing in with the forge: `GET /signin` (the choice), `GET /signin/start` (off to the
provider with state and PKCE), `GET /signin/callback` (back: a session begins) and
`POST /signout` (the session ends on the server). The rules are core/signin.py's; the
provider is adapters/signin's; sessions are the store's (installation-wide)."""

from __future__ import annotations

import os

import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from ..adapters.signin import Provider, SignInError
from ..adapters.signin.seal import seal
from ..adapters.store.sessions import SessionRecord, SignInRecord
from ..core import signin
from ..settings import Settings
from .forms import cookie_rules, form_problem, read_form
from .guards import TokenBucket, too_many
from .people import SignedInViewers

log = structlog.get_logger()


def _browser_cookie(rules: signin.CookieRules) -> signin.CookieRules:
    """The cookie binding a sign-in under way to the browser that started it."""
    return signin.CookieRules(rules.name.replace("session", "signin"), rules.secure)


def signin_router(settings: Settings, viewers: SignedInViewers, provider: Provider
                  ) -> APIRouter:
    """The routes; `settings.public_url` is where the provider sends people back."""
    router = APIRouter(include_in_schema=False)
    callback = f"{(settings.public_url or '').rstrip('/')}/signin/callback"
    starts = TokenBucket(burst=20, rate=1.0)  # per address: sign-ins started

    @router.get("/signin")
    async def choose(request: Request) -> Response:
        return viewers.sign_in_page(request, 200)

    @router.get("/signin/start")
    async def start(request: Request) -> Response:
        wait = starts.take(request.client.host if request.client else "")
        if wait:
            return too_many(wait)
        rules = _browser_cookie(cookie_rules(settings, request))
        state, browser = signin.opaque(os.urandom(32)), signin.opaque(os.urandom(32))
        verifier, nonce = signin.verifier(os.urandom(32)), signin.opaque(os.urandom(16))
        now = viewers.clock()
        await run_in_threadpool(viewers.store.start_signin, signin.digest(state), SignInRecord(
            signin.digest(browser), verifier, nonce,
            signin.safe_next(request.query_params.get("next")), now),
            now - signin.PENDING_SECONDS)
        try:
            url = await run_in_threadpool(provider.authorize_url, callback, state,
                                          signin.challenge(verifier), nonce)
        except SignInError as exc:
            return viewers.sign_in_page(request, exc.status, problem=exc.reason)
        response = RedirectResponse(url, 302)
        response.headers.append("set-cookie", signin.set_cookie_header(
            rules, browser, signin.PENDING_SECONDS))
        return response

    @router.get("/signin/callback")
    async def back(request: Request) -> Response:
        query = request.query_params
        rules = cookie_rules(settings, request)
        browser_rules = _browser_cookie(rules)
        state = query.get("state") or ""
        browser = request.cookies.get(browser_rules.name, "")
        pending = await run_in_threadpool(viewers.store.take_signin, signin.digest(state),
                                          signin.digest(browser)) if state and browser else None
        problem = None
        if pending is None:
            problem = "that sign-in was not started in this browser, or is over; sign in again"
        elif signin.expired(pending.created_at, viewers.clock(), signin.PENDING_SECONDS):
            problem = "that sign-in took longer than 10 minutes; sign in again"
        elif query.get("error"):
            problem = ("you cancelled the sign-in" if query.get("error") == "access_denied"
                       else f"the provider refused the sign-in ({query.get('error')})")
        elif not query.get("code"):
            problem = "the provider sent no code back; sign in again"
        if problem is not None or pending is None:
            log.warning("signin.refused", provider=provider.name, reason=problem,
                        error=query.get("error"))
            return viewers.sign_in_page(request, 403, problem=problem)
        try:
            token = await run_in_threadpool(provider.exchange, query["code"], callback,
                                            pending.verifier, pending.nonce)
            person = await run_in_threadpool(provider.person, token)
        except SignInError as exc:
            return viewers.sign_in_page(request, exc.status, problem=exc.reason)
        sid = signin.opaque(os.urandom(32))
        now = viewers.clock()
        await run_in_threadpool(viewers.store.add_session, SessionRecord(
            signin.digest(sid), person.login, provider.name, person.groups, seal(sid, token),
            now, now + signin.SESSION_SECONDS))
        log.info("signin.signed_in", provider=provider.name, login=person.login)
        response = RedirectResponse(pending.next, 303)
        response.headers.append("set-cookie", signin.set_cookie_header(
            rules, sid, signin.SESSION_SECONDS))
        response.headers.append("set-cookie", signin.set_cookie_header(browser_rules, "", 0))
        return response

    @router.post("/signout")
    async def sign_out(request: Request) -> Response:
        sid = viewers.session_id(request)
        form = await read_form(request)
        problem = form_problem(settings, request, form, sid or "")
        if problem is not None:
            return viewers.denied_page(request, 403, problem)
        if sid:
            await run_in_threadpool(viewers.store.end_session, signin.digest(sid))
            viewers.forget(sid)
        response = RedirectResponse("/signin", 303)
        response.headers.append("set-cookie", signin.set_cookie_header(
            cookie_rules(settings, request), "", 0))
        return response

    return router
