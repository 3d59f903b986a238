"""Which images a push concerns, whether its tag is allowed, which environments it moves."""

from __future__ import annotations

from dataclasses import dataclass

import nodesemver

from .config import Config, Environment, ImageConfig, Target
from .events import ImagePushed
from .images import InvalidReference, same_repository, validate_tag


@dataclass(frozen=True)
class TagDecision:
    allowed: bool
    reason: str


def matching_images(config: Config, pushed: ImagePushed) -> list[str]:
    """Keys of the configured images whose repository is the pushed one."""
    return [
        key
        for key, image in config.images.items()
        if same_repository(image.repository, pushed.image_name)
    ]


def decide_tag(image: ImageConfig, tag: str | None) -> TagDecision:
    """Apply the image's tag policy to a pushed tag."""
    if tag is None:
        return TagDecision(False, "the push has no tag")
    try:
        validate_tag(tag)
    except InvalidReference as exc:
        return TagDecision(False, str(exc))
    policy = image.tags
    if policy.semver is not None:
        try:
            version = nodesemver.make_semver(tag, loose=True)
        except (ValueError, TypeError):
            return TagDecision(False, f"tag {tag!r} is not a semantic version")
        if version.prerelease and not policy.prerelease:
            return TagDecision(False, f"tag {tag!r} is a prerelease")
        if not nodesemver.satisfies(
            tag, policy.semver, loose=True, include_prerelease=policy.prerelease
        ):
            return TagDecision(False, f"tag {tag!r} is outside {policy.semver!r}")
    return TagDecision(True, "allowed")


def targets_for(env: Environment, image_key: str) -> list[Target]:
    """Targets of env that hold image_key."""
    return [t for t in env.targets if t.image == image_key]


def first_environments(config: Config, image_key: str) -> list[Environment]:
    """Environments a fresh push starts in: those that follow nothing and hold the image."""
    return [e for e in config.environments if e.after is None and targets_for(e, image_key)]


def next_environments(config: Config, done: str, image_key: str) -> list[Environment]:
    """Environments that start once `done` is promoted for image_key."""
    return [e for e in config.environments if e.after == done and targets_for(e, image_key)]
