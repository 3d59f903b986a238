"""Prometheus metrics Hoist exports on /metrics."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .. import telemetry
from ..adapters.store import Store
from ..flows.dora_board import DoraBoard


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


class DoraCollector(Collector):
    """DORA's four keys per environment, from the git history (flows/dora_board.py)."""

    def __init__(self, board: DoraBoard) -> None:
        self.board = board

    def collect(self) -> Iterator[GaugeMetricFamily]:
        numbers = self.board.numbers()
        env = ["environment"]
        frequency = GaugeMetricFamily("hoist_dora_deployment_frequency_per_day",
                                      "Promotions merged per day", labels=env)
        promotions = GaugeMetricFamily("hoist_dora_promotions",
                                       "Promotions the DORA numbers stand on", labels=env)
        lead = GaugeMetricFamily("hoist_dora_lead_time_seconds", "Image pushed to merged in "
                                 "the environment (median and p90)", labels=[*env, "quantile"])
        failure = GaugeMetricFamily("hoist_dora_change_failure_rate", "Promotions reverted "
                                    "or aborted after merge, over promotions", labels=env)
        restore = GaugeMetricFamily("hoist_dora_time_to_restore_seconds", "Failed promotion "
                                    "to the next good one of that image (median)", labels=env)
        for name, found in sorted(numbers.items()):
            data = found.to_json()
            frequency.add_metric([name], data["deployment_frequency_per_day"])
            promotions.add_metric([name], found.promotions)
            for quantile, key in (("0.5", "median"), ("0.9", "p90")):
                if data["lead_time_seconds"][key] is not None:
                    lead.add_metric([name, quantile], data["lead_time_seconds"][key])
            if data["change_failure_rate"]["rate"] is not None:
                failure.add_metric([name], data["change_failure_rate"]["rate"])
            if data["time_to_restore_seconds"]["median"] is not None:
                restore.add_metric([name], data["time_to_restore_seconds"]["median"])
        yield from (frequency, promotions, lead, failure, restore)


class Metrics:
    """One registry per app, so tests and several apps in a process stay apart."""

    def __init__(self, store: Store | None = None, dora: DoraBoard | None = None) -> None:
        self.registry = CollectorRegistry()
        if store is not None:
            self.registry.register(StoreCollector(store))
        if dora is not None:  # processes that hold the git cache (not `web`)
            self.registry.register(DoraCollector(dora))
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
