"""Prometheus metrics Hoist exports on /metrics."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .. import telemetry
from ..adapters.store import Store


class StoreCollector(Collector):
    """Gauges read from the store at scrape time: promotions by state, inbox depth, the
    forge budget left."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        states = GaugeMetricFamily("hoist_promotions", "Promotions by state", labels=["state"])
        for state, count in sorted(self.store.state_counts().items()):
            states.add_metric([state], count)
        yield states
        inbox = GaugeMetricFamily("hoist_inbox_pending", "Pushes and comments not yet handled")
        inbox.add_metric([], self.store.inbox_depth())
        yield inbox
        budget = GaugeMetricFamily(
            "hoist_forge_rate_remaining", "Forge requests left, shared by every replica: "
            "primary (as the forge last reported) and content-creating writes per window",
            labels=["forge", "limit"])
        for (forge, limit), left in sorted(self.store.budget().items()):
            budget.add_metric([forge, limit], left)
        yield budget


class Metrics:
    """One registry per app, so tests and several apps in a process stay apart."""

    def __init__(self, store: Store | None = None) -> None:
        self.registry = CollectorRegistry()
        if store is not None:
            self.registry.register(StoreCollector(store))
        telemetry.register(self.registry)  # git, GitHub, registries, rollouts
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
