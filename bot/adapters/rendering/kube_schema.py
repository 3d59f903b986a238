"""The Kubernetes OpenAPI schemas (the kubernetes-validate package): rendered objects are
checked strictly (unknown fields too) against one Kubernetes version; kinds it has no
schema for (custom resources) are reported as skipped, not failed. The package's own
`validate` reads the schemas from disk on every call (about 60 ms an object); the validators
are built once per version and kind here, with its schema files and rules."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import jsonschema
import kubernetes_validate
from referencing import Registry, Resource

from ...core.rendering import ObjectId
from .errors import RenderFailed

_UTILS = kubernetes_validate.utils


def newest() -> str:
    """The newest Kubernetes version the installed schemas know, e.g. `1.37`."""
    return str(_UTILS.major_minor(str(kubernetes_validate.latest_version())))


@functools.lru_cache(maxsize=8)
def _schema_version(version: str) -> str:
    """The schemas' version for `version`: the newest not newer than it. RenderFailed for a
    version newer than any the package knows."""
    wanted = tuple(int(p) for p in _UTILS.major_minor(version).split("."))
    known = [v for v in _UTILS.all_versions()
             if tuple(int(p) for p in _UTILS.major_minor(v).split(".")) <= wanted]
    if not known or wanted > tuple(int(p) for p in newest().split(".")):
        raise RenderFailed(f"Kubernetes {version} is not a version the schemas know "
                           f"(newest: {newest()})")
    return str(known[-1])


@functools.lru_cache(maxsize=8)
def _definitions(directory: str, version: str) -> Resource[Any]:
    return Resource.from_contents(_UTILS.schema_contents(
        f"kubernetes-json-schema/{directory}/_definitions.json", version))


@functools.lru_cache(maxsize=1024)
def _validator(version: str, api_version: str, kind: str) -> Any:
    """A strict validator for (apiVersion, kind) at `version`; None when there is no schema."""
    directory = f"v{_schema_version(version)}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = _UTILS.schema_contents(
            f"kubernetes-json-schema/{directory}/{kind.lower()}-{group}.json", version)
    except (FileNotFoundError, OSError):
        return None
    registry: Registry[Any] = Resource.from_contents(schema) @ Registry()
    registry = _definitions(directory, version) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def check(objects: Mapping[ObjectId, dict[str, Any]], version: str | None,
          source: str) -> tuple[str, list[str]]:
    """(the version checked against, identities of objects skipped for want of a schema).
    RenderFailed naming the first invalid object, its field and the schema's complaint."""
    version = version or newest()
    skipped: list[str] = []
    for oid, obj in objects.items():
        validator = _validator(version, str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        if validator is None:
            skipped.append(str(oid))
            continue
        error = jsonschema.exceptions.best_match(validator.iter_errors(obj))
        if error is not None:
            field = ".".join(str(p) for p in error.path) or "(object)"
            message = str(error.message).splitlines()[0]
            raise RenderFailed(f"{source}: {oid} is invalid against Kubernetes {version}: "
                               f"{field}: {message}")
    return version, skipped
