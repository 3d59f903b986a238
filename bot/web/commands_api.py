"""`POST /api/promotions/{id}/{command}` and `POST /api/environments/{env}/freeze|unfreeze`:
the ChatOps commands over HTTP, carried out by flows/commands.py (the same code as `/hoist`
comments and `hoist CMD`). Authorized by HOIST_API_TOKEN; the person is `X-Hoist-User`,
the reason an optional JSON body `{"reason": "..."}`. The answer is the reply ChatOps
would give and the promotion as it now is; a command that cannot be carried out is a 409."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ..flows.commands import (
    ENVIRONMENT_COMMANDS,
    PROMOTION_COMMANDS,
    BadName,
    Outcome,
    run,
    run_on_environment,
)
from ..flows.services import Services
from ..settings import Settings
from .errors import error
from .openapi import API_WRITE


def commands_router(settings: Settings, services: Services, wake: Callable[[], None],
                    check: Callable[[Settings, Request], JSONResponse | None]) -> APIRouter:
    """The command routes; `check` refuses a request without the API token."""
    router = APIRouter()

    @router.post("/api/promotions/{pid}/{command}", openapi_extra=API_WRITE)
    async def promotion_command(pid: str, command: str, request: Request) -> JSONResponse:
        if command not in PROMOTION_COMMANDS:
            return error(404, f"no command {command!r}; one of {', '.join(PROMOTION_COMMANDS)}")
        return await _answer(request, lambda who, why: run(services, pid, command, who, why),
                             f"no promotion {pid}")

    @router.post("/api/environments/{env}/{command}", openapi_extra=API_WRITE)
    async def environment_command(env: str, command: str, request: Request) -> JSONResponse:
        if command not in ENVIRONMENT_COMMANDS:
            return error(404, f"no command {command!r}; one of "
                              f"{', '.join(ENVIRONMENT_COMMANDS)}")
        return await _answer(request, lambda who, why: run_on_environment(
            services, env, command, who, why), f"no environment {env}")

    async def _answer(request: Request, act: Callable[[str, str], Outcome],
                      missing: str) -> JSONResponse:
        denied = check(settings, request)
        if denied:
            return denied
        reason = _reason(await request.body())
        if not isinstance(reason, str):
            return reason
        who = request.headers.get("x-hoist-user", "api")
        try:
            outcome = await run_in_threadpool(act, who, reason)
        except KeyError:
            return error(404, missing)
        except BadName as exc:
            return error(400, str(exc))
        if outcome.done:
            wake()
        data = outcome.promotion.public() if outcome.promotion else {}
        if not outcome.done:
            return JSONResponse({"error": outcome.reply, **_state(data)}, status_code=409)
        return JSONResponse({**data, "reply": outcome.reply})

    return router


def _state(data: dict[str, object]) -> dict[str, object]:
    return {"state": data["state"]} if "state" in data else {}


def _reason(body: bytes) -> str | JSONResponse:
    """The `reason` of a JSON body (empty without one), or a 400 saying what is wrong."""
    if not body.strip():
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return error(400, 'the body must be JSON: {"reason": "..."} or empty')
    reason = data.get("reason", "") if isinstance(data, dict) else None
    if not isinstance(reason, str):
        return error(400, '"reason" must be a string')
    return reason
