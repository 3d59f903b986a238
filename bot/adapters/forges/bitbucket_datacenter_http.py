"""Bitbucket Data Center's REST API over httpx: one call with the shared retry policy and
request budget, its paged lists, and its error bodies.

Every REST path lives under `<base URL>/rest/` (the base URL keeps its context path, e.g.
`https://git.example.com/bitbucket`); HTTP access tokens go as `Authorization: Bearer`
("HTTP access tokens", Bitbucket Data Center docs). Errors come as
`{"errors": [{"message", "exceptionName", "vetoes"?: [{summaryMessage, detailedMessage}]}]}`
("Using the REST API: errors"); pages as `{values, isLastPage, nextPageStart}`
("Paged APIs"). Rate limiting ("Improving instance stability with rate limiting") answers
429 with `Retry-After`, and says `X-RateLimit-Remaining` / `X-RateLimit-Limit` of the
token bucket on responses; Hoist records them in the shared budget and waits while it is
empty."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import structlog

from ..store import Store
from .retry import Transient, call

log = structlog.get_logger()
PAGE = 100
SYSTEM = "bitbucket-datacenter"


class BitbucketError(RuntimeError):
    """A 4xx answer other than 429: never retried. `errors` is the body's error list."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.errors = errors

    @property
    def exception(self) -> str:
        """The Java exception name Bitbucket gives (e.g. `…PullRequestOutOfDateException`)."""
        return str(self.errors[0].get("exceptionName") or "") if self.errors else ""

    @property
    def reason(self) -> str:
        """The message, with each merge veto's summary and detail (merge checks, required
        builds and approvals say why in `vetoes`)."""
        vetoes = [v for e in self.errors for v in e.get("vetoes") or [] if isinstance(v, dict)]
        said = [f"{v.get('summaryMessage') or ''}: {v.get('detailedMessage') or ''}".strip(": ")
                for v in vetoes]
        return "; ".join(s for s in said if s) or self.message


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        return []
    found = data.get("errors") if isinstance(data, dict) else None
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


class BitbucketHttp:
    """Calls to one Bitbucket Data Center instance as one token's user."""

    def __init__(self, store: Store, url: str, token: str, timeout: float) -> None:
        self.store = store
        self.http = httpx.Client(base_url=f"{url.rstrip('/')}/rest", timeout=timeout,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Accept": "application/json"})
        self.user: str | None = None  # X-AUSERNAME: the token's user, as the server says

    def request(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        """One API call (path under /rest) with the retry policy, inside the shared budget:
        the decoded JSON body (None when empty); BitbucketError for a 4xx."""
        while (wait := self.store.primary_wait(SYSTEM)) > 0:
            log.info("bitbucket_datacenter.budget_wait", operation=operation,
                     seconds=round(wait, 1))
            time.sleep(min(wait, 60.0))

        def attempt() -> httpx.Response:
            response = self.http.request(method, path, **kwargs)
            self._observe(response)
            if response.status_code >= 500 or response.status_code == 429:
                raise Transient(response.status_code, response.headers, response.text[:200])
            return response

        response = call(SYSTEM, operation, attempt)
        if response.status_code >= 400:
            errors = _errors(response)
            message = str(errors[0].get("message") or "") if errors else ""
            raise BitbucketError(response.status_code, message or response.reason_phrase,
                                 errors)
        return response.json() if response.content.strip() else None

    def _observe(self, response: httpx.Response) -> None:
        """Remember the token's user and what is left of its rate-limit bucket."""
        self.user = response.headers.get("x-ausername") or self.user
        remaining = response.headers.get("x-ratelimit-remaining", "")
        limit = response.headers.get("x-ratelimit-limit", "")
        if remaining.isdigit() and limit.isdigit():
            retry_after = response.headers.get("retry-after", "")
            refill = float(retry_after) if retry_after.isdigit() else 1.0
            self.store.observe_primary(SYSTEM, int(remaining), int(limit), time.time() + refill)

    def pages(self, operation: str, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every value of a paged list, page by page (`start` = the last `nextPageStart`)."""
        start = 0
        while True:
            page = self.request(operation, "GET", path,
                                params={**params, "start": start, "limit": PAGE}) or {}
            yield from (v for v in page.get("values") or [] if isinstance(v, dict))
            if page.get("isLastPage", True) or page.get("nextPageStart") is None:
                return
            start = int(page["nextPageStart"])
