"""What a found image reference is made of: the scalars that spell it, and their roles."""

from __future__ import annotations

from dataclasses import dataclass

from .nodes import MappingNode, Path, Scalar


@dataclass(frozen=True)
class Field:
    """One scalar spelling part of a reference.

    role: "ref" (a whole name:tag@digest), "tag", "digest" or "name" (never rewritten).
    prefix: text kept before a ref inside the same string (Argo CD's `old=new:tag`).
    entry: the Argo CD `helm.parameters` entry the value belongs to, where `forceString`
    goes when Helm's `--set` would not read the new value as a string.
    """

    role: str
    scalar: Scalar
    path: Path
    prefix: str = ""
    alias_of: Path | None = None  # set when this occurrence is an alias of that path
    entry: MappingNode | None = None


@dataclass(frozen=True)
class ImageSite:
    """One image reference in a document.

    kind: container | value | kustomize | helm | argocd-parameters | argocd-kustomize |
    marker | explicit. `mapping` is where a missing tag/digest key may be added: only for
    shapes whose reader defines those keys (Kustomize's `newTag`/`digest`); None for
    shapes whose keys are a chart's own choice, where Hoist never adds one.
    """

    document: int
    path: Path
    kind: str
    name: str
    fields: tuple[Field, ...]
    mapping: MappingNode | None = None
    tag_key: str = "tag"
    digest_key: str = "digest"

    def field(self, role: str) -> Field | None:
        """The field with that role, if the site has one."""
        return next((f for f in self.fields if f.role == role), None)
