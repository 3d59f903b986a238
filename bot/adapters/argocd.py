"""The Argo CD API: is the application synced to our commit, and healthy?"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ..telemetry import MeteredTransport


class ArgoCdError(RuntimeError):
    """Argo CD could not be asked (unreachable, 5xx, timeout) or refused (401/403/404)."""


@dataclass(frozen=True)
class AppStatus:
    revision: str | None
    sync: str | None  # Synced | OutOfSync | Unknown
    phase: str | None  # operationState.phase: Running | Succeeded | Failed | Error
    health: str | None  # Healthy | Progressing | Degraded | Suspended | Missing | Unknown


class ArgoCdClient:
    def __init__(self, server: str, token: str | None, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.server = server.rstrip("/")
        self.http = httpx.Client(timeout=timeout, headers=headers,
                                 transport=MeteredTransport("argocd", transport))

    def status(self, app: str, refresh: bool = False) -> AppStatus:
        """The application's sync and health (`?refresh=normal` right after our commit)."""
        params = {"refresh": "normal"} if refresh else {}
        try:
            response = self.http.get(f"{self.server}/api/v1/applications/{app}", params=params)
        except httpx.HTTPError as exc:
            raise ArgoCdError(f"Argo CD unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ArgoCdError(f"Argo CD answered {response.status_code} for {app}")
        try:
            status = response.json().get("status") or {}
        except ValueError:
            raise ArgoCdError("Argo CD answered with something that is not JSON") from None
        sync = status.get("sync") or {}
        operation = status.get("operationState") or {}
        return AppStatus(sync.get("revision"), sync.get("status"), operation.get("phase"),
                         (status.get("health") or {}).get("status"))
