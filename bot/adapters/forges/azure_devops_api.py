"""Azure DevOps REST API 7.1 over httpx: a personal access token as HTTP Basic (an empty
user name and the token: "Use personal access tokens", Microsoft Learn), the shared retry
policy, and the shared request budget.

Azure DevOps throttles by resource use and says so in `X-RateLimit-Remaining`,
`X-RateLimit-Limit` and `X-RateLimit-Reset` (epoch seconds) and a `Retry-After` on 429
("Rate and usage limits", Microsoft Learn): every replica records what the last answer
said in the store and waits out a spent limit before asking again. It publishes no limit
on content-creating requests, so writes are not counted apart."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import structlog

from ..store import Store
from .retry import Transient, call

log = structlog.get_logger()
API_VERSION = "7.1"
PREVIEW = "7.1-preview.1"  # labels, likes, policy evaluations, graph


class AzureDevOpsError(RuntimeError):
    """A 4xx answer other than 429: never retried. `message` is the answer's `message`
    (Azure's `TFnnnnnn: ...` text where it gives one)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def identity_url(url: str) -> str:
    """Where identities and Graph live: `vssps.dev.azure.com/{org}` for
    `dev.azure.com/{org}`, `{org}.vssps.visualstudio.com` for `{org}.visualstudio.com`, the
    collection URL itself on Azure DevOps Server."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "dev.azure.com":
        return f"{parts.scheme}://vssps.dev.azure.com{parts.path}"
    if host.endswith(".visualstudio.com") and not host.endswith(".vssps.visualstudio.com"):
        return f"{parts.scheme}://{host.split('.')[0]}.vssps.visualstudio.com"
    return url


class AzureDevOpsApi:
    """Calls on one organization (or Server collection) and one project's repository."""

    name = "azure-devops"

    def __init__(self, store: Store, url: str, repository: str, token: str,
                 timeout: float = 15) -> None:
        self.store = store
        self.url = url.rstrip("/")
        self.project, _, self.repository = repository.partition("/")
        self.project_url = f"{self.url}/{quote(self.project, safe='')}"
        self.repo = f"{self.project_url}/_apis/git/repositories/{quote(self.repository, safe='')}"
        self.identities = identity_url(self.url)
        self.http = httpx.Client(timeout=timeout, auth=httpx.BasicAuth("", token),
                                 headers={"Accept": "application/json"})

    def request(self, operation: str, method: str, url: str, *, version: str = API_VERSION,
                params: dict[str, Any] | None = None, json: Any = None,
                missing: tuple[int, ...] = ()) -> Any:
        """One call with the retry policy and the budget: the decoded JSON answer (None when
        empty, or when the status is one of `missing`); AzureDevOpsError for another 4xx."""
        while (wait := self.store.primary_wait(self.name)) > 0:
            log.info("azure_devops.budget_wait", operation=operation, seconds=round(wait, 1))
            time.sleep(min(wait, 60.0))

        def attempt() -> httpx.Response:
            response = self.http.request(method, url, params={**(params or {}),
                                                              "api-version": version},
                                         json=json)
            self._observe(response.headers)
            if response.status_code >= 500 or response.status_code == 429:
                raise Transient(response.status_code, response.headers, response.text[:200])
            return response

        response = call(self.name, operation, attempt)
        if response.status_code in missing:
            return None
        if response.status_code >= 400:
            raise AzureDevOpsError(response.status_code, _message(response))
        if method == "HEAD" or not response.content.strip():
            return None
        return response.json()

    def _observe(self, headers: httpx.Headers) -> None:
        remaining, limit = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-limit")
        reset = headers.get("x-ratelimit-reset")
        if remaining and limit and reset and remaining.isdigit() and limit.isdigit() and \
                reset.isdigit():
            self.store.observe_primary(self.name, int(remaining), int(limit), float(reset))


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase
    found = data.get("message") if isinstance(data, dict) else None
    return str(found or response.reason_phrase)
