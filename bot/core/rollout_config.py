"""hoist.yaml's rollout part: canary steps, how traffic is shifted, what analysis checks."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .durations import Duration


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# scheme://host[:port][/path…]; the host a name, an IPv4 or a bracketed IPv6 address.
_URL = re.compile(r"https?://(?:[^@/?#\s]*@)?(?:\[[0-9A-Fa-f:.]+\]|[^:/?#\s\[\]@]+)"
                  r"(?::\d{1,5})?(?:[/?#]\S*)?")


def http_url(value: str) -> str:
    """value if it is an http(s) URL with a host; ValueError saying what is missing (a bare
    `127.0.0.1:9090` would only fail at run time, as a reading nobody can take)."""
    if not _URL.fullmatch(value):
        hint = f": e.g. http://{value}" if "://" not in value else ""
        raise ValueError(f"{value!r} is not a URL with a scheme and a host (http:// or "
                         f"https://){hint}")
    return value


class VersionCheck(_Model):
    json_field: str = Field(alias="json")  # the field of the health JSON holding the version
    equals: str = "{tag}"  # {tag} is the promoted tag


class HealthCheck(_Model):
    url: str
    timeout: Duration = 5.0
    max_latency: Duration | None = None  # slower answers fail the reading
    version: VersionCheck | None = None  # the step's clock starts once this matches

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)


NoData = Literal["inconclusive", "fail", "pass"]


class MetricCheck(_Model):
    """A PromQL check. Every series it returns is judged (`max`/`min` fail when any measured
    series is beyond them) unless `reduce` says how to make one value of them; `no_data` is
    what a result with no series means (`on_no_data` is its former name)."""

    name: str
    query: str  # PromQL; {tag}, {env}, {image} are filled in, escaped
    baseline: str | None = None  # the stable track's value, for max_ratio
    max: float | None = None  # fail above this
    min: float | None = None  # fail below this
    max_ratio: float | None = None  # fail above this multiple of the baseline
    reduce: Literal["max", "min", "avg", "sum"] | None = None
    no_data: NoData | None = None
    on_no_data: NoData | None = None

    @model_validator(mode="after")
    def _one_no_data(self) -> MetricCheck:
        if self.no_data and self.on_no_data and self.no_data != self.on_no_data:
            raise ValueError("no_data and on_no_data (its former name) disagree: keep no_data")
        return self

    @property
    def when_no_data(self) -> NoData:
        """The outcome of an empty result: `no_data`, else `on_no_data`, else inconclusive."""
        return self.no_data or self.on_no_data or "inconclusive"


class Analysis(_Model):
    prometheus: str | None = None  # base URL, e.g. http://prometheus:9090
    interval: Duration = 30.0  # between readings
    initial_delay: Duration = 0.0  # before the first reading of a step
    successes_to_advance: int = Field(default=1, ge=1)
    failure_limit: int = Field(default=0, ge=0)  # failed readings tolerated, cumulative
    consecutive_error_limit: int = Field(default=4, ge=0)  # outages in a row, then hold
    inconclusive_limit: int = Field(default=5, ge=0)  # no data / NaN readings, then hold
    sync_timeout: Duration = 600.0  # how long the new version may take to appear
    health: HealthCheck | None = None
    metrics: list[MetricCheck] = []

    @field_validator("prometheus")
    @classmethod
    def _prometheus_url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value)

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
    weight: int = Field(ge=0, le=100)  # percent of traffic (or pods) on the canary
    bake: Duration = 0.0  # how long the step is analysed before the next


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

    argocd: ArgoCdSync | None = None  # without it, the health endpoint's version is awaited
    timeout: Duration = 600.0
