"""Plain data of a render: what to render (Job), object identity, object changes, and one
app's result (AppRender); all JSON-able for the store and the API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["kustomize", "helm", "manifests"]


@dataclass(frozen=True)
class Job:
    """What renders one app: a Kustomize directory, a Helm chart directory with values files
    (and inline values from an Argo CD Application / Flux HelmRelease in `inline`, the file
    holding them), or plain manifest files rendered as themselves. Paths are relative to the
    repository root."""

    kind: Kind
    dir: str = ""
    values: tuple[str, ...] = ()
    inline: str | None = None
    release: str = ""
    namespace: str = ""
    files: tuple[str, ...] = ()
    allow_other_changes: bool = False

    @property
    def app(self) -> str:
        """What people call the app in the section heading: its directory or file."""
        return self.inline or self.dir or ", ".join(self.files)

    def describe(self) -> str:
        """e.g. `kustomize apps/guestbook/overlays/prod`, `helm chart charts/shop`."""
        if self.kind == "kustomize":
            return f"kustomize {self.dir}"
        if self.kind == "helm":
            values = ", ".join((*self.values, *([self.inline] if self.inline else [])))
            return f"helm chart {self.dir}" + (f" with {values}" if values else "")
        return "plain manifests"


@dataclass(frozen=True, order=True)
class ObjectId:
    """A Kubernetes object's identity: kind, namespace ('' for none given), name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace \
            else f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class ObjectChange:
    """One object that differs: `change` is added | removed | image | mixed | changed
    (image: only references to moved images differ; mixed: those and other fields; changed:
    no moved image); `diff` a unified diff."""

    object: str
    change: str
    diff: str


@dataclass
class AppRender:
    """One rendered app: its changed objects, objects the schemas do not know (skipped,
    with why), and the error that stops it (render failure, invalid object, a change
    beyond the moved images), if any."""

    app: str
    renderer: str
    kubernetes: str = ""
    changes: list[ObjectChange] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    objects: int = 0  # how many objects it renders (after the change)

    @property
    def image_only(self) -> bool:
        """True when every changed object differs only in image references."""
        return bool(self.changes) and all(c.change == "image" for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppRender:
        return cls(data["app"], data["renderer"], data.get("kubernetes", ""),
                   [ObjectChange(**c) for c in data.get("changes", [])],
                   list(data.get("skipped", [])), data.get("error"), data.get("objects", 0))


@dataclass
class Rendered:
    """A promotion's rendered difference: every app, and the reason it is held, if so."""

    apps: list[AppRender] = field(default_factory=list)
    hold: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"apps": [a.to_json() for a in self.apps], "hold": self.hold}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rendered:
        return cls([AppRender.from_json(a) for a in data.get("apps", [])], data.get("hold"))
