"""Notifications through Apprise (Slack, Microsoft Teams, Discord, Mattermost, Rocket.Chat,
email, ntfy, Matrix, generic JSON webhooks and 100 more: https://appriseit.com/services/).

Each URL gets its own outbox (a queue and a thread): a receiver that is slow or down delays only its own
messages, never a promotion and never the other receivers. Sends time out (Apprise's socket
timeouts, 4 s by default) and failures are logged and counted, never raised."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

import apprise
import structlog

from ..core.notices import Kind, Notice
from ..settings import SettingsError
from ..telemetry import CALL_ERRORS, timed_call
from .outbox import Outbox

log = structlog.get_logger()
# Apprise logs through the stdlib in plain text (and may name hosts): Hoist logs its own
# `notify.failed` lines instead, through the redacting structlog set-up.
logging.getLogger("apprise").addHandler(logging.NullHandler())
logging.getLogger("apprise").propagate = False
# `failed,reverted=mailto://…` sends only those events to that URL.
_ROUTED = re.compile(r"^(?P<kinds>[a-z]+(?:,[a-z]+)*)=(?P<url>[a-z][a-z0-9+.-]*://.+)$")
_TYPES = {Kind.PROMOTED: apprise.NotifyType.SUCCESS, Kind.FAILED: apprise.NotifyType.FAILURE,
          Kind.REVERTED: apprise.NotifyType.FAILURE, Kind.QUARANTINED: apprise.NotifyType.WARNING,
          Kind.HELD: apprise.NotifyType.WARNING, Kind.WAITING: apprise.NotifyType.INFO,
          Kind.LIFTED: apprise.NotifyType.INFO}


def slack_compatible(url: str) -> str:
    """The Apprise URL that posts `{"text": …}` to a Slack-compatible incoming webhook
    (Slack, Mattermost, Rocket.Chat), as HOIST_NOTIFY_URL always did."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError("HOIST_NOTIFY_URL must be an http(s) incoming-webhook URL")
    scheme = "jsons" if parts.scheme == "https" else "json"
    keep = f"{parts.query}&" if parts.query else ""
    # Apprise's JSON payload map: rename `message` to `text`, drop every other key.
    return (f"{scheme}://{parts.netloc}{parts.path or '/'}?{keep}"
            ":message=text&:title=&:version=&:attachments=&:type=")


class _Receiver:
    """One Apprise URL, the events it wants, and the outbox that feeds it."""

    def __init__(self, url: str, kinds: frozenset[Kind] | None, title_in_body: bool,
                 capacity: int) -> None:
        self.apprise = apprise.Apprise()
        if not self.apprise.add(url):
            raise SettingsError("a notification URL is not one Apprise understands "
                                f"(scheme {url.split('://')[0]!r}); see appriseit.com/services")
        self.service = self.apprise[0].service_name
        self.kinds = kinds
        self.title_in_body = title_in_body  # Slack-compatible payloads have no title field
        self.outbox: Outbox[Notice] = Outbox(f"notify-{self.service}", self._send, capacity)

    def offer(self, notice: Notice) -> None:
        if self.kinds is None or notice.kind in self.kinds:
            self.outbox.offer(notice)

    def _send(self, notice: Notice) -> None:
        body = f"{notice.title}\n{notice.text}" if self.title_in_body else notice.text
        try:
            with timed_call("notify", notice.kind.value):
                sent = bool(self.apprise.notify(body=body, title=notice.title,
                                                notify_type=_TYPES[notice.kind]))
        except Exception as exc:  # a plugin's own bug must not kill the thread
            sent, error = False, type(exc).__name__
        else:
            error = "refused or unreachable"
        if not sent:
            CALL_ERRORS.labels("notify", notice.kind.value).inc()
            log.warning("notify.failed", service=self.service, kind=notice.kind.value,
                        error=error)


class Notifier:
    """Sends each notice to every URL whose events include it; `__call__` only queues."""

    def __init__(self, urls: Sequence[str] = (), slack_url: str | None = None,
                 capacity: int = 1000) -> None:
        self.receivers: list[_Receiver] = []
        for item in urls:
            routed = _ROUTED.match(item)
            kinds = None
            if routed:
                names = routed.group("kinds").split(",")
                unknown = sorted(set(names) - {k.value for k in Kind})
                if unknown:
                    raise SettingsError(f"HOIST_NOTIFY_URLS: unknown event {unknown[0]!r}; "
                                        f"events: {', '.join(k.value for k in Kind)}")
                kinds, item = frozenset(Kind(n) for n in names), routed.group("url")
            self.receivers.append(_Receiver(item, kinds, False, capacity))
        if slack_url:
            self.receivers.append(_Receiver(slack_compatible(slack_url), None, True, capacity))

    def __call__(self, notice: Notice) -> None:
        for receiver in self.receivers:
            receiver.offer(notice)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued notice was sent or given up on; False on timeout."""
        return all(r.outbox.join(timeout) for r in self.receivers)


def check_urls(urls: Sequence[str], slack_url: str | None) -> None:
    """Raise SettingsError unless every notification URL is usable (for `serve`)."""
    Notifier(urls, slack_url, capacity=1)
