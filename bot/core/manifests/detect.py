"""Detectors for the shapes image references take in Kubernetes, Kustomize, Helm values and
Argo CD Applications. Each looks at one mapping node and returns the sites it holds."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..images import InvalidReference, parse_image_ref
from .nodes import (
    MappingNode,
    Node,
    Path,
    Scalar,
    ScalarNode,
    SequenceNode,
    get,
    mapping_items,
    scalar,
)
from .sites import Field, ImageSite

Detector = Callable[[int, Path, MappingNode, dict[str, Node], str], list[ImageSite]]
_IMAGE_KEY = re.compile(r"(?:^|[a-z_])[iI]mage$")
_KUSTOMIZE_ROLES = {"newTag": "tag", "digest": "digest"}


def _ref_name(value: str, needs_version: bool = False) -> str | None:
    """The name of a reference string, or None if it is not one (templates, placeholders)."""
    try:
        ref = parse_image_ref(value)
    except InvalidReference:
        return None
    if needs_version and not (ref.tag or ref.digest):
        return None
    return ref.name


def image_values(doc: int, path: Path, node: MappingNode, keys: dict[str, Node],
             text: str) -> list[ImageSite]:
    """`image: repo:tag` (pod-spec containers, and Helm-style `image`/`fooImage` keys)."""
    in_containers = len(path) >= 2 and path[-2] in (
        "containers", "initContainers", "ephemeralContainers")
    sites = []
    for key, value in keys.items():
        if not _IMAGE_KEY.search(key):
            continue
        found = scalar(value, text)
        if found is None:
            continue
        # A block scalar is found so that editing it is refused with a reason, not skipped.
        spelled = found.value.strip() if found.style in ("|", ">") else found.value
        name = _ref_name(spelled, needs_version=not in_containers)
        if name is not None:
            kind = "container" if in_containers else "value"
            sites.append(ImageSite(doc, (*path, key), kind, name,
                                   (Field("ref", found, (*path, key)),)))
    return sites


def kustomize_images(doc: int, path: Path, node: MappingNode, keys: dict[str, Node],
             text: str) -> list[ImageSite]:
    """Kustomize `images:` entries (kustomization.yaml, Flux Kustomization spec.images)."""
    images = keys.get("images")
    if not isinstance(images, SequenceNode):
        return []
    sites = []
    for i, entry in enumerate(images.value):
        if not isinstance(entry, MappingNode):
            continue
        values = {k: scalar(v, text) for k, v in mapping_items(entry)}
        name_scalar, new_name = values.get("name"), values.get("newName")
        if name_scalar is None or not {"newName", "newTag", "digest"} & values.keys():
            continue
        name = _ref_name((new_name or name_scalar).value)
        if name is None:
            continue
        here = (*path, "images", i)
        fields = tuple(Field(role, s, (*here, key)) for key, role in _KUSTOMIZE_ROLES.items()
                       if (s := values.get(key)) is not None)
        sites.append(ImageSite(doc, here, "kustomize", name, fields, entry, "newTag", "digest"))
    return sites


def helm_image_maps(doc: int, path: Path, node: MappingNode, keys: dict[str, Node],
             text: str) -> list[ImageSite]:
    """Helm values `{registry?, repository, tag?, digest?}` mappings, at any depth. Hoist
    never adds a key to them: which keys a chart reads is the chart's choice."""
    if "tag" not in keys and "digest" not in keys:
        return []
    name_key = "repository"
    if name_key not in keys and path and _IMAGE_KEY.search(str(path[-1])):
        name_key = "name"  # `image: {name: repo, tag: 1.0}`
    repository = scalar(keys.get(name_key), text)
    if repository is None:
        return []
    registry = scalar(keys.get("registry"), text)
    name = f"{registry.value}/{repository.value}" if registry and registry.value else repository.value
    if _ref_name(name) is None:
        return []
    fields = [Field("name", repository, (*path, name_key))]
    for key in ("tag", "digest"):
        value_node = keys.get(key)
        found = scalar(value_node, text) if value_node is not None else None
        if found is None and isinstance(value_node, ScalarNode):  # `tag:` left empty
            return []
        if found is not None:
            fields.append(Field(key, found, (*path, key)))
    return [ImageSite(doc, path, "helm", name, tuple(fields))]


_SIBLING_TAG_KEYS = ("tag", "imageTag", "version")


def image_with_sibling_tag(doc: int, path: Path, node: MappingNode, keys: dict[str, Node],
                           text: str) -> list[ImageSite]:
    """`image: repo` (no tag) with its tag beside it in `tag`, `imageTag` or `version`, and
    maybe a `digest` (charts such as redis-ha's exporter)."""
    image = scalar(keys.get("image"), text)
    if image is None or image.style in ("|", ">") or (len(path) >= 2 and path[-2] in (
            "containers", "initContainers", "ephemeralContainers")):
        return []
    tag_key = next((k for k in _SIBLING_TAG_KEYS if k in keys), None)
    if tag_key is None:
        return []
    try:
        ref = parse_image_ref(image.value)
    except InvalidReference:
        return []
    tag = scalar(keys[tag_key], text)
    if ref.tag or ref.digest or tag is None:
        return []
    fields = [Field("name", image, (*path, "image")), Field("tag", tag, (*path, tag_key))]
    if (digest := scalar(keys.get("digest"), text)) is not None:
        fields.append(Field("digest", digest, (*path, "digest")))
    return [ImageSite(doc, path, "helm", ref.name, tuple(fields))]


def argocd_parameters(doc: int, path: Path, node: MappingNode, keys: dict[str, Node],
             text: str) -> list[ImageSite]:
    """Argo CD `helm.parameters` lists: `image.repository` + `image.tag` pairs, or a whole
    reference in one parameter."""
    params = keys.get("parameters")
    if not isinstance(params, SequenceNode):
        return []
    named: dict[str, tuple[int, Scalar, MappingNode]] = {}
    for i, item in enumerate(params.value):
        param_name = scalar(get(item, "name"), text)
        param_value = scalar(get(item, "value"), text)
        if param_name is not None and param_value is not None and isinstance(item, MappingNode):
            named[param_name.value] = (i, param_value, item)
    sites = []
    for param, (i, value, item) in named.items():
        here = (*path, "parameters", i, "value")
        prefix, _, last = param.rpartition(".")
        if last == "repository":
            fields = [Field("name", value, here)]
            for role in ("tag", "digest"):
                if (found := named.get(f"{prefix}.{role}" if prefix else role)) is not None:
                    fields.append(Field(role, found[1], (*path, "parameters", found[0], "value"),
                                        entry=found[2]))
            if len(fields) > 1 and _ref_name(value.value) is not None:
                sites.append(ImageSite(doc, here, "argocd-parameters", value.value, tuple(fields)))
        elif _IMAGE_KEY.search(last) and (name := _ref_name(value.value, True)) is not None:
            sites.append(ImageSite(doc, here, "argocd-parameters", name,
                                   (Field("ref", value, here, entry=item),)))
    return sites


def argocd_kustomize_images(doc: int, path: Path, node: MappingNode, keys: dict[str, Node],
             text: str) -> list[ImageSite]:
    """Argo CD `kustomize.images` strings: `[old=]name[:tag][@digest]`."""
    kustomize = keys.get("kustomize")
    images = get(kustomize, "images") if isinstance(kustomize, MappingNode) else None
    if not isinstance(images, SequenceNode):
        return []
    sites = []
    for i, item in enumerate(images.value):
        value = scalar(item, text)
        if value is None:
            continue
        old, eq, new = value.value.rpartition("=")
        name = _ref_name(new)
        if name is None:
            continue
        here = (*path, "kustomize", "images", i)
        sites.append(ImageSite(doc, here, "argocd-kustomize", name,
                               (Field("ref", value, here, prefix=old + eq if eq else ""),)))
    return sites


_TRIGGERS = frozenset({"images", "tag", "digest", "parameters", "kustomize"})


def could_hold_image(keys: dict[str, Node]) -> bool:
    """A cheap test that most mappings (metadata, ports, resources) fail: only mappings
    with one of these keys can hold a reference any detector recognises."""
    return not _TRIGGERS.isdisjoint(keys) or any(_IMAGE_KEY.search(k) for k in keys)


DETECTORS: tuple[Detector, ...] = (
    image_values, kustomize_images, helm_image_maps, image_with_sibling_tag, argocd_parameters,
    argocd_kustomize_images,
)
