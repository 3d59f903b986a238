"""Prometheus metrics Hoist exports on /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    """One registry per app, so tests and several apps in a process stay apart."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.webhooks = Counter(
            "hoist_webhooks_total", "Webhook deliveries by source and outcome",
            ["source", "outcome"], registry=self.registry,
        )
        self.pushes = Counter(
            "hoist_pushes_accepted_total", "Image pushes stored in the inbox", ["source"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hoist_webhook_seconds", "Time to verify, parse and store a webhook",
            ["source"], registry=self.registry,
        )
