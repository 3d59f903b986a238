"""The image references one manifest holds, each with the environment its place in the
repository suggests (pure). The manifests engine finds them; this module only reads
where they are."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from ..images import InvalidReference, parse_image_ref
from ..manifests import ImageSite, ManifestError
from ..manifests.find import find_in_documents
from ..manifests.nodes import Node, compose, get, scalar
from .envs import EnvHint, env_in_name, env_of_path

_NAMED_KINDS = ("Application", "HelmRelease")  # Argo CD, Flux: often named app-ENV
_LINE = re.compile(r"line (\d+)(: )?")


@dataclass(frozen=True)
class Reference:
    """One image reference: file (relative, '/'-separated), 1-based line, the image name as
    written (`ghcr.io/acme/app`), its tag and digest (None when not written or empty), and
    the environment hint, None for shared places (base/, charts' own values.yaml)."""

    file: str
    line: int
    name: str
    tag: str | None
    digest: str | None
    hint: EnvHint | None


def is_chart_template(path: str, paths: Collection[str]) -> bool:
    """True for a file under a Helm chart's templates/ (Go templates, not YAML)."""
    parts = path.split("/")
    return any(part == "templates" and "/".join([*parts[:i], "Chart.yaml"]) in paths
               for i, part in enumerate(parts[:-1]))


def references_in(path: str, text: str) -> list[Reference]:
    """Every image reference in one file's text. Raises ManifestError (see problem_line)
    for text that is not valid YAML."""
    docs = compose(text)
    by_path = env_of_path(path)
    found = []
    for site in find_in_documents(text, docs):
        hint = _named(docs[site.document], text) if site.document < len(docs) else None
        tag, digest = _version(site)
        line = site.fields[0].scalar.line + 1 if site.fields else 1
        found.append(Reference(path, line, site.name, tag, digest, hint or by_path))
    return found


def _named(root: Node, text: str) -> EnvHint | None:
    """The environment an Application's or HelmRelease's name ends in."""
    kind = scalar(get(root, "kind"), text)
    if kind is None or kind.value not in _NAMED_KINDS:
        return None
    name = scalar(get(get(root, "metadata"), "name"), text)
    env = env_in_name(name.value) if name is not None else None
    return EnvHint(env, "name", f"{kind.value} {name.value}") if env and name else None


def _version(site: ImageSite) -> tuple[str | None, str | None]:
    """(tag, digest) the site spells; empty values count as absent."""
    ref = site.field("ref")
    if ref is not None:
        try:
            parsed = parse_image_ref(ref.scalar.value[len(ref.prefix):])
        except InvalidReference:
            return None, None
        return parsed.tag or None, parsed.digest or None
    tag, digest = site.field("tag"), site.field("digest")
    return (tag.scalar.value or None if tag else None,
            digest.scalar.value or None if digest else None)


def problem_line(path: str, exc: ManifestError) -> str:
    """`FILE:LINE: why` for a manifest that cannot be read (line 1 when unknown)."""
    message = str(exc)
    match = _LINE.search(message)
    if match is None:
        return f"{path}:1: {message}"
    if match.group(2):  # `not valid YAML: line 3: why` → `FILE:3: not valid YAML: why`
        message = message[:match.start()] + message[match.end():]
    return f"{path}:{match.group(1)}: {message}"
