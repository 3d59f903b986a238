"""The Kubernetes OpenAPI schemas (the kubernetes-validate package): rendered objects are
checked strictly (unknown fields too) against one Kubernetes version; kinds it has no
schema for (custom resources) are reported as skipped, not failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kubernetes_validate

from ...core.rendering import ObjectId
from .errors import RenderFailed


def newest() -> str:
    """The newest Kubernetes version the installed schemas know, e.g. `1.37`."""
    return ".".join(str(kubernetes_validate.latest_version()).split(".")[:2])


def check(objects: Mapping[ObjectId, dict[str, Any]], version: str | None,
          source: str) -> tuple[str, list[str]]:
    """(the version checked against, identities of objects skipped for want of a schema).
    RenderFailed naming the first invalid object, its field and the schema's complaint."""
    version = version or newest()
    skipped: list[str] = []
    for oid, obj in objects.items():
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            skipped.append(str(oid))
        except kubernetes_validate.ValidationError as exc:
            field = ".".join(str(p) for p in exc.path) or "(object)"
            message = str(exc.message).splitlines()[0]
            raise RenderFailed(f"{source}: {oid} is invalid against Kubernetes {version}: "
                               f"{field}: {message}") from None
        except kubernetes_validate.utils.VersionNotSupportedError:
            raise RenderFailed(f"Kubernetes {version} is not a version the schemas know "
                               f"(newest: {newest()})") from None
    return version, skipped
