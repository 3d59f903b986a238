"""Image references: parse, validate against the OCI grammar, normalize, format."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
DIGEST_RE = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Za-z0-9=_-]+")
_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")
_DOMAIN_RE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"(?::[0-9]+)?|\[[0-9A-Fa-f:]+\](?::[0-9]+)?"
)
DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}


class InvalidReference(ValueError):
    """A string that is not a valid image reference, tag, digest or name."""


def validate_tag(tag: str) -> str:
    """Return tag if it matches the OCI tag grammar, else raise InvalidReference."""
    if not TAG_RE.fullmatch(tag):
        raise InvalidReference(f"invalid tag {tag!r}: must match [A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}")
    return tag


def validate_digest(digest: str) -> str:
    """Return digest if it is algorithm:encoded (sha256 with 64 hex), else raise."""
    if not DIGEST_RE.fullmatch(digest):
        raise InvalidReference(f"invalid digest {digest!r}: must be algorithm:hex")
    algorithm, encoded = digest.split(":", 1)
    if algorithm == "sha256" and not re.fullmatch(r"[a-f0-9]{64}", encoded):
        raise InvalidReference(f"invalid digest {digest!r}: sha256 needs 64 lowercase hex characters")
    if algorithm == "sha512" and not re.fullmatch(r"[a-f0-9]{128}", encoded):
        raise InvalidReference(f"invalid digest {digest!r}: sha512 needs 128 lowercase hex characters")
    return digest


def _is_domain(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost" or (
        component != component.lower()
    )


def validate_name(name: str) -> tuple[str | None, str]:
    """Split a repository name into (domain or None, path), validating both."""
    if not name or len(name) > 255:
        raise InvalidReference(f"invalid repository name {name!r}")
    first, sep, rest = name.partition("/")
    domain: str | None = None
    path = name
    if sep and _is_domain(first):
        if not _DOMAIN_RE.fullmatch(first):
            raise InvalidReference(f"invalid registry host {first!r} in {name!r}")
        domain, path = first, rest
    for component in path.split("/"):
        if not _PATH_COMPONENT_RE.fullmatch(component):
            raise InvalidReference(
                f"invalid repository name {name!r}: component {component!r} must be "
                "lowercase letters, digits and separators"
            )
    return domain, path


def normalize_name(name: str) -> str:
    """Canonical form of a repository name: nginx -> docker.io/library/nginx."""
    domain, path = validate_name(name)
    if domain is None or domain in _HUB_ALIASES:
        domain = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    return f"{domain.lower()}/{path}"


@dataclass(frozen=True)
class ImageRef:
    """A reference as written: name (with or without registry), optional tag and digest."""

    name: str
    tag: str | None = None
    digest: str | None = None

    @property
    def normalized_name(self) -> str:
        """The repository name in canonical form, for matching."""
        return normalize_name(self.name)

    def with_version(self, tag: str | None, digest: str | None) -> ImageRef:
        """The same name with another tag and digest (both validated)."""
        if tag is not None:
            validate_tag(tag)
        if digest is not None:
            validate_digest(digest)
        return replace(self, tag=tag, digest=digest)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_image_ref(text: str) -> ImageRef:
    """Parse name[:tag][@digest]; raise InvalidReference when any part is malformed."""
    rest, at, digest = text.partition("@")
    if at:
        validate_digest(digest)
    name, tag = rest, None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1 :]
        validate_tag(tag)
    validate_name(name)
    return ImageRef(name=name, tag=tag, digest=digest if at else None)


def same_repository(a: str, b: str) -> bool:
    """True when two names denote the same repository once normalized."""
    try:
        return normalize_name(a) == normalize_name(b)
    except InvalidReference:
        return False


def readable_version(value: str | None) -> str | None:
    """The version people read in `tag@digest` (a manifest's old value): the tag, else the
    digest shortened to 12 hex digits (`sha256:0123456789ab`); None stays None."""
    if not value:
        return value
    tag, _, digest = value.partition("@")
    if tag:
        return tag
    algorithm, _, hexits = digest.partition(":")
    return f"{algorithm}:{hexits[:12]}" if hexits else digest
