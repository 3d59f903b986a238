"""Rendered objects by identity, and their differences: a unified diff per object, and
whether an object differs only in the references of the images a promotion moves."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from .choose import documents
from .model import ObjectChange, ObjectId


class BadRender(ValueError):
    """Rendered output that is not a stream of Kubernetes objects; the message says which."""


@dataclass(frozen=True)
class Moved:
    """An image the promotion moves: its repository (as written in hoist.yaml) and the
    versions from and to (`tag`, `tag@digest` or `@digest`; old None when unknown)."""

    repository: str
    old: str | None
    new: str


def object_id(obj: dict[str, Any]) -> ObjectId:
    meta: dict[str, Any] = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
    return ObjectId(str(obj.get("kind", "")), str(meta.get("namespace") or ""),
                    str(meta.get("name") or meta.get("generateName") or ""))


def parse_objects(stream: str, source: str = "") -> dict[ObjectId, dict[str, Any]]:
    """The objects of a rendered YAML stream by identity (`List` items expanded). Raises
    BadRender naming `source` for YAML that does not parse or a document that is not an
    object with apiVersion and kind, and for two objects of one identity."""
    try:
        docs = [d for d in yaml.safe_load_all(stream) if d is not None]
    except yaml.YAMLError as exc:
        raise BadRender(f"{source}: rendered output is not YAML: {exc}") from None
    found: dict[ObjectId, dict[str, Any]] = {}
    while docs:
        doc = docs.pop(0)
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise BadRender(f"{source}: a rendered document is not a Kubernetes object")
        if str(doc["kind"]).endswith("List") and isinstance(doc.get("items"), list):
            docs[:0] = doc["items"]
            continue
        oid = object_id(doc)
        if oid in found:
            raise BadRender(f"{source}: {oid} is rendered twice")
        found[oid] = doc
    return found


def inline_values(text: str) -> dict[str, Any]:
    """The Helm values an Argo CD Application (`spec.source.helm.valuesObject`, merged over
    `values`, a YAML string) or a Flux HelmRelease (`spec.values`) holds; {} for none."""
    for doc in documents(text):
        spec = doc.get("spec") if isinstance(doc, dict) else None
        if not isinstance(spec, dict):
            continue
        if doc.get("kind") == "HelmRelease":
            return dict(spec.get("values") or {})
        source = spec.get("source") or next(iter(spec.get("sources") or []), None)
        helm = source.get("helm") if isinstance(source, dict) else None
        if isinstance(helm, dict):
            values: dict[str, Any] = {}
            if isinstance(helm.get("values"), str):
                loaded = yaml.safe_load(helm["values"])
                values = loaded if isinstance(loaded, dict) else {}
            if isinstance(helm.get("valuesObject"), dict):
                values = merge(values, helm["valuesObject"])
            return values
    return {}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of values: maps merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        out[key] = merge(old, value) if isinstance(old, dict) and isinstance(value, dict) \
            else value
    return out


def text_of(obj: dict[str, Any]) -> str:
    """An object as YAML with sorted keys: the same object always reads the same."""
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, width=1 << 16)


def _image_leaf(before: Any, after: Any, moved: Sequence[Moved]) -> bool:
    if not isinstance(before, str) or not isinstance(after, str):
        return False
    for m in moved:
        path = m.repository.split("/", 1)[-1] if "." in m.repository.split("/")[0] \
            else m.repository
        if path in before and path in after:
            return True
        new_tag = m.new.split("@")[0]
        old_tag = (m.old or "").split("@")[0]
        if old_tag and before in (m.old, old_tag) and after in (m.new, new_tag):
            return True
        if old_tag and before in (f"v{old_tag}", f"v{m.old}") and after in (f"v{new_tag}",
                                                                         f"v{m.new}"):
            return True  # a version label spelled with a v
    return False


def only_images(before: Any, after: Any, moved: Sequence[Moved]) -> bool:
    """True when `before` and `after` differ, and only at strings that reference a moved
    image (its repository), or that read its old version where the new one now is."""
    if isinstance(before, dict) and isinstance(after, dict):
        if before.keys() != after.keys():
            return False
        return all(before[k] == after[k] or only_images(before[k], after[k], moved) for k in before)
    if isinstance(before, list) and isinstance(after, list):
        return len(before) == len(after) and all(
            b == a or only_images(b, a, moved) for b, a in zip(before, after, strict=True))
    return before != after and _image_leaf(before, after, moved)


def touches_images(before: Any, after: Any, moved: Sequence[Moved]) -> bool:
    """True when some string that differs between `before` and `after` is a moved image's."""
    if isinstance(before, dict) and isinstance(after, dict):
        return any(touches_images(before[k], after[k], moved)
                   for k in before.keys() & after.keys() if before[k] != after[k])
    if isinstance(before, list) and isinstance(after, list):
        return any(b != a and touches_images(b, a, moved) for b, a in zip(before, after, strict=False))
    return before != after and _image_leaf(before, after, moved)


def unified(oid: ObjectId, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True),
                                        after.splitlines(keepends=True),
                                        f"a/{oid}", f"b/{oid}", n=3))


def diff_objects(before: dict[ObjectId, dict[str, Any]], after: dict[ObjectId, dict[str, Any]],
                 moved: Sequence[Moved]) -> list[ObjectChange]:
    """Every object that differs, in identity order: added, removed, image (only moved
    images' references differ), mixed (a moved image and other fields) or changed (no moved
    image); each with its unified diff."""
    out: list[ObjectChange] = []
    for oid in sorted(before.keys() | after.keys()):
        old, new = before.get(oid), after.get(oid)
        if old == new:
            continue
        old_text = text_of(old) if old is not None else ""
        new_text = text_of(new) if new is not None else ""
        change = "added" if old is None else "removed" if new is None else \
            "image" if only_images(old, new, moved) else \
            "mixed" if touches_images(old, new, moved) else "changed"
        out.append(ObjectChange(str(oid), change, unified(oid, old_text, new_text)))
    return out
