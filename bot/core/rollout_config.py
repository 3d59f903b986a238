"""hoist.yaml's rollout part: canary steps, how traffic is shifted, what analysis checks."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .durations import Duration


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VersionCheck(_Model):
    json_field: str = Field(alias="json")  # the field of the health JSON holding the version
    equals: str = "{tag}"


class HealthCheck(_Model):
    url: str
    timeout: Duration = 5.0
    max_latency: Duration | None = None
    version: VersionCheck | None = None  # the step's clock starts once this matches


class MetricCheck(_Model):
    name: str
    query: str  # PromQL; {tag}, {env}, {image} are filled in, escaped
    baseline: str | None = None
    max: float | None = None
    min: float | None = None
    max_ratio: float | None = None
    on_no_data: Literal["inconclusive", "fail", "pass"] = "inconclusive"


class Analysis(_Model):
    prometheus: str | None = None  # base URL, e.g. http://prometheus:9090
    interval: Duration = 30.0
    initial_delay: Duration = 0.0
    successes_to_advance: int = Field(default=1, ge=1)
    failure_limit: int = Field(default=0, ge=0)
    consecutive_error_limit: int = Field(default=4, ge=0)
    inconclusive_limit: int = Field(default=5, ge=0)
    sync_timeout: Duration = 600.0  # how long the new version may take to appear
    health: HealthCheck | None = None
    metrics: list[MetricCheck] = []

    @model_validator(mode="after")
    def _prometheus_for_metrics(self) -> Analysis:
        if self.metrics and not self.prometheus:
            raise ValueError("metrics need `prometheus: <url>`")
        return self


class Traffic(_Model):
    """How a step's weight reaches users: `none` (the whole environment runs the new image,
    steps only pace the bake), `httproute` (Gateway API backendRefs weights in `file`), or
    `replicas` (a stable and a canary Deployment in `file` share `replicas` pods)."""

    kind: Literal["none", "httproute", "replicas"] = "none"
    file: str | None = None
    stable: str | None = None  # backendRef (httproute) or Deployment (replicas) name
    canary: str | None = None
    replicas: int = Field(default=10, ge=1)  # total pods split between the two (replicas)

    @model_validator(mode="after")
    def _route(self) -> Traffic:
        if self.kind != "none" and not (self.file and self.stable and self.canary):
            raise ValueError(f"{self.kind} traffic needs file, stable and canary")
        return self


class Step(_Model):
    weight: int = Field(ge=0, le=100)
    bake: Duration = 0.0


class Canary(_Model):
    step_pull_requests: bool = False  # steps land as auto-merged change requests, not pushes
    traffic: Traffic = Traffic()
    steps: list[Step] = [Step(weight=100)]
    analysis: Analysis = Analysis()


class FreezeWindow(_Model):
    """No promotions between `start` and `end` (ISO times with a zone), or on `days`."""

    start: datetime | None = None
    end: datetime | None = None
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = []
    reason: str | None = None

    @model_validator(mode="after")
    def _window(self) -> FreezeWindow:
        if (self.start is None) != (self.end is None):
            raise ValueError("a freeze window needs both start and end")
        if self.start is None and not self.days:
            raise ValueError("a freeze window needs start/end or days")
        if self.start is not None and (self.start.tzinfo is None or self.end is None or
                                       self.end.tzinfo is None):
            raise ValueError("freeze times need a time zone, e.g. 2026-12-24T00:00:00Z")
        return self


class ArgoCdSync(_Model):
    server: str  # https://argocd.example.com
    app: str  # may name `{image_key}` and `{env}`, e.g. "{image_key}-{env}"

    def app_for(self, image_key: str, env: str) -> str:
        """The Application to watch for this image in this environment."""
        return self.app.replace("{image_key}", image_key).replace("{env}", env)


class Sync(_Model):
    """A step's clock starts only once the cluster runs our commit."""

    argocd: ArgoCdSync | None = None
    timeout: Duration = 600.0
