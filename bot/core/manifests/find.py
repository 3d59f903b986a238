"""Find the image references a manifest holds: pod-spec containers and Kustomize images."""

from __future__ import annotations

from dataclasses import dataclass, field

from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from ..images import InvalidReference, parse_image_ref
from .nodes import Path, Scalar, compose, get, mapping_items, scalar, walk

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
KUSTOMIZE_FIELDS = ("name", "newName", "newTag", "digest")


@dataclass(frozen=True)
class ImageSite:
    """One image reference: where it is, what kind, and the scalars that spell it."""

    document: int
    path: Path
    kind: str  # "container" | "kustomize"
    name: str  # the image name as written
    fields: dict[str, Scalar] = field(default_factory=dict)
    node: Node | None = field(default=None, compare=False, repr=False)


def _container_sites(doc: int, path: Path, node: Node, text: str) -> list[ImageSite]:
    sites = []
    for key, seq in mapping_items(node):
        if key not in CONTAINER_LISTS or not isinstance(seq, SequenceNode):
            continue
        for i, container in enumerate(seq.value):
            value_node = get(container, "image")
            image = scalar(value_node, text) if value_node is not None else None
            if image is None:
                continue
            try:
                ref = parse_image_ref(image.value)
            except InvalidReference:
                continue  # a template or placeholder, not a reference we can edit
            sites.append(ImageSite(doc, (*path, key, i, "image"), "container", ref.name,
                                   {"image": image}, container))
    return sites


def _kustomize_sites(doc: int, path: Path, node: Node, text: str) -> list[ImageSite]:
    images = get(node, "images")
    if not isinstance(images, SequenceNode):
        return []
    sites = []
    for i, entry in enumerate(images.value):
        if not isinstance(entry, MappingNode):
            continue
        fields: dict[str, Scalar] = {}
        for key in KUSTOMIZE_FIELDS:
            value_node = get(entry, key)
            found = scalar(value_node, text) if value_node is not None else None
            if found is not None:
                fields[key] = found
        if "name" not in fields or not {"newName", "newTag", "digest"} & fields.keys():
            continue
        name = (fields.get("newName") or fields["name"]).value
        try:
            parse_image_ref(name)
        except InvalidReference:
            continue
        sites.append(ImageSite(doc, (*path, "images", i), "kustomize", name, fields, entry))
    return sites


def find_references(text: str) -> list[ImageSite]:
    """Every image reference in the YAML text, in document order."""
    sites: list[ImageSite] = []
    for doc, root in enumerate(compose(text)):
        for path, node in walk(root):
            if isinstance(node, MappingNode):
                sites.extend(_container_sites(doc, path, node, text))
                sites.extend(_kustomize_sites(doc, path, node, text))
    return sites
