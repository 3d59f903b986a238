"""`render:` on a hoist.yaml target and `kubernetes:` on an environment: which renderer shows
a change's rendered objects, and which Kubernetes schemas check them (issue 26).

```yaml
targets:
  - file: apps/guestbook/overlays/prod/kustomization.yaml
    image: guestbook
    render: {kustomize: apps/guestbook/overlays/prod}      # the overlay that renders it
  - file: charts/shop/values-prod.yaml
    image: shop
    render: {helm: {chart: charts/shop, values: [charts/shop/values-prod.yaml],
                    release: shop, namespace: prod}, allow_other_changes: true}
  - file: legacy/cronjob.yaml
    image: batch
    render: none                                           # never rendered
```

Without `render:` the renderer is found from the repository (core/rendering/choose.py)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from .rollout_config import _Model


def _relative(value: str) -> str:
    if not value or value.startswith("/") or ".." in value.split("/"):
        raise ValueError("must be a path relative to the repository root, without '..'")
    return value.rstrip("/")


class HelmRender(_Model):
    """A chart in the repository rendered with values files, as `helm template` would."""

    chart: str  # the chart's directory (holding Chart.yaml)
    values: list[str] = []  # values files, in order (later ones win), relative to the root
    release: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    namespace: str | None = None

    @field_validator("chart")
    @classmethod
    def _chart(cls, value: str) -> str:
        return _relative(value)

    @field_validator("values")
    @classmethod
    def _values(cls, value: list[str]) -> list[str]:
        return [_relative(v) for v in value]


class Render(_Model):
    """How a target renders: `kustomize: DIR`, `helm: {...}`, or neither (found from the
    repository) with only `allow_other_changes`; `none` is read as `off: true`."""

    kustomize: str | None = None
    helm: HelmRender | None = None
    off: bool = False
    allow_other_changes: bool = False  # objects without a moved image may change too

    @model_validator(mode="before")
    @classmethod
    def _none(cls, value: Any) -> Any:
        if value == "none" or value is False:
            return {"off": True}
        return value

    @field_validator("kustomize")
    @classmethod
    def _dir(cls, value: str | None) -> str | None:
        return None if value is None else _relative(value)

    @model_validator(mode="after")
    def _one(self) -> Render:
        if self.kustomize is not None and self.helm is not None:
            raise ValueError("name one renderer: kustomize or helm, not both")
        return self


KUBERNETES_VERSION = r"^1\.[0-9]{1,2}(\.[0-9]{1,3})?$"
