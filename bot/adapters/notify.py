"""Slack-compatible incoming-webhook notifications (promoted, failed, reverted), retried."""

from __future__ import annotations

import httpx
import structlog
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from ..telemetry import MeteredTransport

log = structlog.get_logger()


class _Retry(Exception):
    pass


class Notifier:
    """Posts `{"text": ...}` to an incoming-webhook URL; failures are logged, never raised:
    a chat outage must not stop a rollout."""

    def __init__(self, url: str | None, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self.http = httpx.Client(timeout=10, transport=MeteredTransport("notify", transport))

    def __call__(self, text: str) -> None:
        if not self.url:
            return
        try:
            self._post(text)
        except (_Retry, httpx.HTTPError) as exc:
            log.warning("notify.failed", error=type(exc).__name__)

    @retry(retry=retry_if_exception_type((_Retry, httpx.TransportError)),
           stop=stop_after_attempt(4), wait=wait_exponential(multiplier=0.5, max=5), reraise=True)
    def _post(self, text: str) -> None:
        assert self.url is not None
        response = self.http.post(self.url, json={"text": text})
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retry(str(response.status_code))
        response.raise_for_status()
